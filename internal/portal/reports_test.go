package portal_test

import (
	"strings"
	"testing"
)

func TestReportsPage(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		acc, off := s.client(), s.client()
		acc.login("carmen", staffPassword("carmen"))
		off.login("ioana", staffPassword("ioana"))
		if p := off.get("/staff/reports"); p.Status != 403 {
			t.Fatalf("officer on reports: %d", p.Status)
		}
		if p := off.get("/staff/reports/collections?from=2026-01-01&to=2026-01-31&format=csv"); p.Status != 403 {
			t.Fatalf("officer downloading: %d", p.Status)
		}
		if p := s.client().get("/staff/reports"); p.Status != 303 {
			t.Fatalf("anonymous: %d", p.Status)
		}
		p := acc.get("/staff/reports")
		if p.Status != 200 || !strings.Contains(p.Body, `action="/staff/reports/arrears"`) {
			t.Fatalf("reports page: %d", p.Status)
		}
		p = acc.get("/staff/reports/collections?from=2026-01-01&to=2026-01-31&group=day&format=csv")
		if p.Status != 200 || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") || !strings.Contains(p.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("csv: %d %v", p.Status, p.Header)
		}
		p = acc.get("/staff/reports/arrears?as_of=2026-05-08&format=xlsx")
		if p.Status != 200 || !strings.HasPrefix(p.Body, "PK") {
			t.Fatalf("xlsx: %d", p.Status)
		}
		p = acc.get("/staff/reports/collections?from=2026-02-30&to=2026-01-31&format=csv&lang=en")
		if p.Status != 422 {
			t.Fatalf("bad date: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-collections-from": "Enter a valid date."})
		if p := acc.get("/staff/reports/nothing"); p.Status != 404 {
			t.Fatalf("unknown report: %d", p.Status)
		}
	})
}
