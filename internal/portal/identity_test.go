package portal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"fiscald/fiscal"
)

var codeRe = regexp.MustCompile(`id="enroll-code" class="mono">([0-9A-Z-]{19})<`)

// TestEnrollmentCodePage: the desk's page issues a code for a taxpayer on
// file and shows it once (no-store); the code opens a verified account
// through the API; a taxpayer with an account gets a clear 409. Who may
// not: anonymous (to the sign-in), a taxpayer and a signer (403).
func TestEnrollmentCodePage(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		sys := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test", MunicipalityID: s.muni.ID})
		tp, err := s.db.CreateTaxpayer(sys, &fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: "1900101350014", Name: "Vasile Înscris", Address: "Str. Eroilor 3, Timișoara"})
		if err != nil {
			t.Fatal(err)
		}
		off, sg, taxpayer := s.client(), s.client(), s.client()
		off.login("ioana", staffPassword("ioana"))
		sg.login("dan", staffPassword("dan"))
		taxpayer.register("ana", "2850615350041", "Ana Popescu")
		if p := s.client().get("/staff/enroll"); p.Status != 303 || !strings.HasPrefix(p.Location, "/login") {
			t.Fatalf("anonymous: %d", p.Status)
		}
		for name, c := range map[string]*client{"taxpayer": taxpayer, "signer": sg} {
			if p := c.get("/staff/enroll"); p.Status != 403 {
				t.Fatalf("%s: %d", name, p.Status)
			}
		}
		if p := off.get("/staff/enroll?q=" + url.QueryEscape("vasile")); p.Status != 200 || !strings.Contains(p.Body, "/staff/enroll?taxpayer="+strconv.FormatInt(tp.ID, 10)) {
			t.Fatalf("search: %d", p.Status)
		}
		path := "/staff/enroll?taxpayer=" + strconv.FormatInt(tp.ID, 10)
		tok := off.csrf(path)
		p := off.post("/staff/enroll", url.Values{"_csrf": {tok}, "taxpayer_id": {strconv.FormatInt(tp.ID, 10)}})
		m := codeRe.FindStringSubmatch(p.Body)
		if p.Status != 200 || m == nil || p.Header.Get("Cache-Control") != "no-store" || !strings.Contains(p.Body, "o singură dată") {
			t.Fatalf("issue: %d %v %q", p.Status, m, p.Header.Get("Cache-Control"))
		}
		if again := off.get(path); codeRe.MatchString(again.Body) {
			t.Fatal("the code is shown again")
		}
		body, _ := json.Marshal(map[string]string{"code": m[1], "cnp": "1900101350014", "username": "vasile", "password": "parola-lunga-1", "email": "v@example.ro"})
		res, err := http.Post(s.URL+"/api/v1/auth/enroll", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 201 {
			t.Fatalf("enroll with the desk's code: %d", res.StatusCode)
		}
		p = off.post("/staff/enroll?lang=en", url.Values{"_csrf": {tok}, "taxpayer_id": {strconv.FormatInt(tp.ID, 10)}})
		if p.Status != 409 || !strings.Contains(p.Body, "already has an online account") || codeRe.MatchString(p.Body) {
			t.Fatalf("a taxpayer with an account: %d", p.Status)
		}
	})
}

// TestAdminUserPage: the admin's page of a staff account disables it (the
// officer's portal session ends at once), enables it, changes its role and
// sets its password, with refusals next to their form in RO and EN. Who
// may not: anonymous, an officer, a taxpayer.
func TestAdminUserPage(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		adm, off, tp := s.client(), s.client(), s.client()
		adm.login("admin", staffPassword("admin"))
		off.login("ioana", staffPassword("ioana"))
		tp.register("ana", "2850615350041", "Ana Popescu")
		id := func(username string) string {
			var id int64
			if err := s.db.SQL().Get(&id, s.db.SQL().Rebind(`SELECT id FROM users WHERE username = ?`), username); err != nil {
				t.Fatal(err)
			}
			return strconv.FormatInt(id, 10)
		}
		ioana, admin := "/admin/users/"+id("ioana"), "/admin/users/"+id("admin")
		if p := adm.get("/admin/users"); !strings.Contains(p.Body, `href="`+ioana+`"`) || !strings.Contains(p.Body, "Activ") {
			t.Fatal("the users list links the accounts")
		}
		if p := s.client().get(ioana); p.Status != 303 {
			t.Fatalf("anonymous: %d", p.Status)
		}
		for name, c := range map[string]*client{"officer": off, "taxpayer": tp} {
			if p := c.get(ioana); p.Status != 403 {
				t.Fatalf("%s: %d", name, p.Status)
			}
		}
		if p := off.post(ioana+"/disable", url.Values{"_csrf": {off.csrf("/staff")}}); p.Status != 403 {
			t.Fatalf("an officer disabling: %d", p.Status)
		}
		if p := adm.get("/admin/users/" + id("ana")); p.Status != 404 {
			t.Fatalf("a taxpayer's account page: %d", p.Status)
		}
		if p := off.get("/staff/queue"); p.Status != 200 {
			t.Fatalf("the officer's queue: %d", p.Status)
		}

		tok := adm.csrf(ioana)
		if p := adm.post(ioana+"/disable", url.Values{"_csrf": {tok}}); p.Status != 303 || p.Location != ioana {
			t.Fatalf("disable: %d %s", p.Status, p.Body)
		}
		if p := adm.get(ioana); !strings.Contains(p.Body, "Dezactivat") || !strings.Contains(p.Body, "Modificarea a fost salvată") {
			t.Fatal("the page does not show the account disabled")
		}
		if p := off.get("/staff/queue"); p.Status != 303 || !strings.HasPrefix(p.Location, "/login") {
			t.Fatalf("the disabled officer's session: %d %s", p.Status, p.Location)
		}
		if p := adm.post(ioana+"/enable", url.Values{"_csrf": {tok}}); p.Status != 303 {
			t.Fatalf("enable: %d", p.Status)
		}
		if p := off.login("ioana", staffPassword("ioana")); p.Location != "/staff" {
			t.Fatalf("the enabled officer signs in: %d %s", p.Status, p.Location)
		}

		// Refusals next to their form.
		if p := adm.post(admin+"/disable", url.Values{"_csrf": {tok}}); p.Status != 409 || !strings.Contains(p.Body, "propriul cont") {
			t.Fatalf("disable oneself: %d", p.Status)
		}
		p := adm.post(ioana+"/role?lang=en", url.Values{"_csrf": {tok}, "role": {"taxpayer"}})
		if p.Status != 422 || !strings.Contains(p.Body, `id="f-role-error"`) {
			t.Fatalf("role taxpayer: %d", p.Status)
		}
		p = adm.post(ioana+"/password?lang=ro", url.Values{"_csrf": {tok}, "password": {"scurta"}})
		if p.Status != 422 {
			t.Fatalf("short password: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-password": "Introduceți cel puțin 10 caractere."})
		if p := adm.post(ioana+"/role", url.Values{"_csrf": {tok}, "role": {"signer"}}); p.Status != 303 {
			t.Fatalf("role: %d", p.Status)
		}
		if p := off.get("/staff/queue"); p.Status != 303 {
			t.Fatalf("after a role change the session goes on: %d", p.Status)
		}
		if p := adm.post(ioana+"/password", url.Values{"_csrf": {tok}, "password": {"un pinguin pe bicicletă"}}); p.Status != 303 {
			t.Fatalf("password: %d", p.Status)
		}
		if p := off.login("ioana", "un pinguin pe bicicletă"); p.Location != "/staff" {
			t.Fatalf("the new password: %d %s", p.Status, p.Location)
		}
	})
}

// TestSelfEnrollPage: a taxpayer on file opens their account with the
// department's code through the portal's form (signed in, on /account); a
// wrong code is a field error in RO and EN and consumes nothing; the
// registration form's 409 for a CNP on file points to the enrollment.
func TestSelfEnrollPage(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		sys := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test", MunicipalityID: s.muni.ID})
		tp, err := s.db.CreateTaxpayer(sys, &fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: "1900101350014", Name: "Vasile Pop", Address: "Str. Eroilor 3, Timișoara"})
		if err != nil {
			t.Fatal(err)
		}
		code, err := s.db.IssueEnrollmentCode(sys, tp.ID)
		if err != nil {
			t.Fatal(err)
		}
		c := s.client()
		if p := c.register("squatter", "1900101350014", "Vasile Pop"); p.Status != 409 || !strings.Contains(p.Body, "Am un cod de înrolare") || !strings.Contains(p.Body, `href="/enroll"`) {
			t.Fatalf("registering a CNP on file: %d", p.Status)
		}
		form := url.Values{"_csrf": {c.csrf("/enroll")}, "code": {"AAAA-BBBB-CCCC-DDDD"}, "cnp": {"1900101350014"}, "email": {"v@example.ro"},
			"username": {"vasile"}, "password": {"parola-lunga-1"}}
		p := c.post("/enroll", form)
		if p.Status != 422 {
			t.Fatalf("wrong code: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-code": "Codul nu este valabil pentru acest CNP/CUI"})
		p = c.post("/enroll?lang=en", form)
		checkFieldErrors(t, p.Body, map[string]string{"f-code": "The code is not valid for this CNP/CUI"})
		form.Set("code", strings.ToLower(code.Code))
		if p = c.post("/enroll", form); p.Status != 303 || p.Location != "/account" {
			t.Fatalf("enroll: %d %s", p.Status, p.Body)
		}
		if p = c.get("/account"); p.Status != 200 || !strings.Contains(p.Body, "Vasile Pop") {
			t.Fatalf("the enrolled taxpayer's account: %d", p.Status)
		}
		if p = c.get("/enroll"); p.Status != 303 {
			t.Fatalf("a signed-in user on /enroll: %d", p.Status)
		}
	})
}
