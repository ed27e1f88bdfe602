package portal_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestPasswordRuleInForms: the registration form and the admin's staff form
// refuse the passwords the rule refuses (a common one, one holding the
// username, a sequence) with the server's 422, the message translated next
// to the password field; the username is compared case-folded (409 for
// ANA beside ana), and signing in ignores its case.
func TestPasswordRuleInForms(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		c := s.client()
		form := url.Values{"taxpayer.kind": {"individual"}, "taxpayer.name": {"Bob Pop"}, "taxpayer.cnp": {"1850315350012"},
			"taxpayer.address": {"Str. X 1"}, "email": {"bob@example.ro"}, "username": {"bobpop"}}
		for _, tc := range []struct{ lang, password, want string }{
			{"ro", "password12", "Această parolă este printre cele mai folosite"},
			{"ro", "bobpop-2026-x", "Parola nu poate conține numele de utilizator"},
			{"ro", "x1850315350012", "Parola nu poate conține numele de utilizator, adresa de e-mail, CNP-ul"},
			{"ro", "aaaaaaaaaaaa", "Parola nu poate fi un singur caracter repetat"},
			{"en", "1234567890", "This password is among the most used"},
			{"en", "abcdefghijkl", "The password must not be one repeated character"},
		} {
			c.get("/register?lang=" + tc.lang)
			form.Set("_csrf", c.csrf("/register"))
			form.Set("password", tc.password)
			p := c.post("/register", form)
			if p.Status != 422 {
				t.Fatalf("%q: %d", tc.password, p.Status)
			}
			checkFieldErrors(t, p.Body, map[string]string{"f-password": tc.want})
		}
		// A passphrase with spaces, long, is taken.
		c.get("/register?lang=ro")
		form.Set("_csrf", c.csrf("/register"))
		form.Set("password", strings.Repeat("cal verde pe baterie ", 10))
		if p := c.post("/register", form); p.Status != 303 {
			t.Fatalf("passphrase: %d", p.Status)
		}
		// BOBPOP beside bobpop: taken.
		d := s.client()
		p := d.post("/register", url.Values{"_csrf": {d.csrf("/register")}, "taxpayer.kind": {"individual"}, "taxpayer.name": {"Ana Pop"},
			"taxpayer.cnp": {"2850615350041"}, "taxpayer.address": {"Str. X 2"}, "email": {"ana@example.ro"}, "username": {"BOBPOP"},
			"password": {"parola-lunga-1"}})
		if p.Status != 409 {
			t.Fatalf("BOBPOP beside bobpop: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-username": "Acest nume de utilizator este deja folosit."})
		if p := s.client().login("BobPop", strings.Repeat("cal verde pe baterie ", 10)); p.Status != 303 || p.Location != "/account" {
			t.Fatalf("sign-in as BobPop: %d %s", p.Status, p.Location)
		}
		// The admin's staff form: the same rule.
		adm := s.client()
		adm.login("admin", staffPassword("admin"))
		p = adm.post("/admin/users", url.Values{"_csrf": {adm.csrf("/admin/users")}, "username": {"vlad"}, "full_name": {"Vlad"},
			"role": {"officer"}, "password": {"qwertyuiop"}})
		if p.Status != 422 {
			t.Fatalf("staff with a common password: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-password": "Această parolă este printre cele mai folosite"})
	})
}
