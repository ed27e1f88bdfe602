package portal_test

import (
	"strings"
	"testing"
)

// TestFormControlCharactersRefused: the portal's forms and queries refuse a
// NUL as the API does (422 naming the field) on both engines, before any
// page stores or searches it; the account is not created.
func TestFormControlCharactersRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		c := s.client()
		p := c.register("ana", "2850615350041", "Ana\x00Popescu")
		if p.Status != 422 || !strings.Contains(p.Body, "taxpayer.name") {
			t.Fatalf("NUL in the name: %d %s", p.Status, p.Body)
		}
		if p := c.login("ana", "parola-lunga-1"); p.Status != 401 {
			t.Fatalf("the refused registration signs in: %d", p.Status)
		}
		o := s.client()
		if p := o.login("ioana", staffPassword("ioana")); p.Status != 303 {
			t.Fatalf("officer login: %d", p.Status)
		}
		if p := o.get("/staff/cash?q=Ana%00"); p.Status != 422 || !strings.Contains(p.Body, "q:") {
			t.Fatalf("NUL in the cash desk's search: %d %s", p.Status, p.Body)
		}
		// The same registration without the NUL goes through.
		if p := c.register("ana", "2850615350041", "Ana Popescu"); p.Status != 303 {
			t.Fatalf("register: %d %s", p.Status, p.Body)
		}
	})
}
