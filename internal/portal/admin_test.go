package portal_test

import (
	"net/url"
	"strings"
	"testing"
)

func TestAdminPages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		adm, off, tp := s.client(), s.client(), s.client()
		adm.login("admin", staffPassword("admin"))
		off.login("ioana", staffPassword("ioana"))
		tp.register("ana", "2850615350041", "Ana Popescu")
		// Who may not open them.
		for _, path := range []string{"/admin/users", "/admin/parameters", "/admin/calendar"} {
			if p := s.client().get(path); p.Status != 303 || !strings.HasPrefix(p.Location, "/login") {
				t.Errorf("anonymous %s: %d", path, p.Status)
			}
			for name, c := range map[string]*client{"officer": off, "taxpayer": tp} {
				if p := c.get(path); p.Status != 403 {
					t.Errorf("%s on %s: %d", name, path, p.Status)
				}
			}
		}
		if p := off.post("/admin/users", url.Values{"_csrf": {off.csrf("/staff")}, "username": {"x"}}); p.Status != 403 {
			t.Errorf("officer creating a user: %d", p.Status)
		}

		// Users: the list, a field error in RO and EN, a username taken, a new officer.
		p := adm.get("/admin/users")
		if !strings.Contains(p.Body, "ioana") || !strings.Contains(p.Body, "inspector fiscal") || strings.Contains(p.Body, ">ana<") {
			t.Fatal("users list")
		}
		tok := adm.csrf("/admin/users")
		p = adm.post("/admin/users", url.Values{"_csrf": {tok}, "full_name": {"Maria Pop"}, "username": {"maria"}, "role": {"officer"}, "password": {"scurta"}})
		if p.Status != 422 {
			t.Fatalf("short password: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-password": "Introduceți cel puțin 10 caractere."})
		p = adm.post("/admin/users", url.Values{"_csrf": {tok}, "full_name": {"Maria Pop"}, "username": {"ioana"}, "role": {"officer"}, "password": {"parola-lunga-2"}})
		if p.Status != 409 {
			t.Fatalf("username taken: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-username": "Acest nume de utilizator este deja folosit."})
		p = adm.post("/admin/users", url.Values{"_csrf": {tok}, "full_name": {"Maria Pop"}, "username": {"maria"}, "role": {"officer"}, "password": {"parola-lunga-2"}})
		if p.Status != 303 {
			t.Fatalf("new user: %d %s", p.Status, p.Body)
		}
		if m := s.client(); m.login("maria", "parola-lunga-2").Location != "/staff" {
			t.Fatal("the new officer cannot sign in")
		}

		// Parameters: the year's list and a dated entry; the same key and date twice.
		p = adm.get("/admin/parameters?year=2026")
		if p.Status != 200 || !strings.Contains(p.Body, "Codul fiscal") {
			t.Fatalf("parameters: %d", p.Status)
		}
		tok = adm.csrf("/admin/parameters")
		form := url.Values{"_csrf": {tok}, "key": {"vehicle.engine.row1.euro6"}, "effective_from": {"2027-01-01"}, "value": {"17.0"}, "legal_basis": {"HCL nr. 1/2026"}}
		// A municipality's value needs its council decision.
		if p := adm.post("/admin/parameters", form); p.Status != 422 || !strings.Contains(p.Body, `id="f-decision-number-error"`) {
			t.Fatalf("no decision: %d", p.Status)
		}
		form.Set("decision_number", "1/2026")
		form.Set("decision_date", "2026-12-15")
		p = adm.post("/admin/parameters", form)
		if p.Status != 303 || p.Location != "/admin/parameters?year=2027" {
			t.Fatalf("add parameter: %d %s", p.Status, p.Body)
		}
		if p := adm.get("/admin/parameters?year=2027"); !strings.Contains(p.Body, "HCL nr. 1/2026") {
			t.Fatal("the new entry is not listed")
		}
		if p := adm.post("/admin/parameters", form); p.Status != 409 || !strings.Contains(p.Body, "Există deja o valoare") {
			t.Fatalf("same key and date: %d", p.Status)
		}
		p = adm.post("/admin/parameters?lang=en", url.Values{"_csrf": {tok}, "key": {""}, "effective_from": {"2027-13-01"}, "value": {"1"}, "legal_basis": {"x"}})
		if p.Status != 422 {
			t.Fatalf("bad parameter: %d", p.Status)
		}

		// Calendar: add a bridge day, the same again, remove it.
		tok = adm.csrf("/admin/calendar")
		p = adm.post("/admin/calendar", url.Values{"_csrf": {tok}, "date": {"2026-06-05"}, "reason": {"HG 1/2026"}})
		if p.Status != 303 {
			t.Fatalf("add day: %d %s", p.Status, p.Body)
		}
		if p := adm.get("/admin/calendar?year=2026"); !strings.Contains(p.Body, `value="2026-06-05"`) {
			t.Fatal("the day is not listed")
		}
		if p := adm.post("/admin/calendar", url.Values{"_csrf": {tok}, "date": {"2026-06-05"}}); p.Status != 409 && p.Status != 422 {
			t.Fatalf("same day: %d", p.Status)
		}
		if p := adm.post("/admin/calendar", url.Values{"_csrf": {tok}, "date": {""}}); p.Status != 422 {
			t.Fatalf("no date: %d", p.Status)
		}
		if p := adm.post("/admin/calendar/remove", url.Values{"_csrf": {tok}, "date": {"2026-06-05"}}); p.Status != 303 {
			t.Fatalf("remove: %d", p.Status)
		}
		if p := adm.get("/admin/calendar?year=2026"); strings.Contains(p.Body, `value="2026-06-05"`) {
			t.Fatal("the day is still listed")
		}
	})
}
