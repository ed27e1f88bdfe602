package portal_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestRegisterSignInAccount(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		c := s.client()
		p := c.register("ana", "2850615350041", "Ana Popescu")
		if p.Status != 303 || p.Location != "/account" {
			t.Fatalf("register: %d %s %s", p.Status, p.Location, p.Body)
		}
		acc := c.get("/account")
		for _, want := range []string{"Contul a fost creat", "Ana Popescu", "2850615350041", "Nu aveți vehicule înregistrate", `lang="ro"`} {
			if !strings.Contains(acc.Body, want) {
				t.Errorf("account page lacks %q", want)
			}
		}
		// The notice shows once.
		if strings.Contains(c.get("/account").Body, "Contul a fost creat") {
			t.Error("the notice shows twice")
		}
		// Sign out (a CSRF-checked POST), then the account asks for a sign-in.
		if p := c.post("/logout", url.Values{"_csrf": {c.csrf("/account")}}); p.Status != 303 {
			t.Fatalf("logout: %d", p.Status)
		}
		if p := c.get("/account"); p.Status != 303 || p.Location != "/login?next=%2Faccount" {
			t.Fatalf("account after logout: %d %s", p.Status, p.Location)
		}
		// Sign in again, with a wrong password first.
		if p := c.login("ana", "wrong-password"); p.Status != 401 || !strings.Contains(p.Body, "Numele de utilizator sau parola nu sunt corecte") {
			t.Fatalf("wrong password: %d", p.Status)
		}
		if p := c.login("ana", "parola-lunga-1"); p.Status != 303 || p.Location != "/account" {
			t.Fatalf("login: %d %s", p.Status, p.Location)
		}
		// Staff land on the office page; a taxpayer may not open it.
		if p := c.get("/staff"); p.Status != 403 {
			t.Fatalf("taxpayer on /staff: %d", p.Status)
		}
		o := s.client()
		if p := o.login("ioana", staffPassword("ioana")); p.Status != 303 || p.Location != "/staff" {
			t.Fatalf("officer login: %d %s", p.Status, p.Location)
		}
		st := o.get("/staff?lang=en")
		if st.Status != 200 || !strings.Contains(st.Body, "Your role: fiscal officer") {
			t.Fatalf("staff page: %d %s", st.Status, st.Body)
		}
		if p := o.get("/account"); p.Status != 403 {
			t.Fatalf("officer on /account: %d", p.Status)
		}
		// A signed-in user sent to /login goes home.
		if p := o.get("/login"); p.Status != 303 || p.Location != "/staff" {
			t.Fatalf("officer on /login: %d %s", p.Status, p.Location)
		}
	})
}

func TestFieldErrorsTranslated(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		c := s.client()
		// RO: an invalid CNP (check digit), a short password, a bad e-mail.
		tok := c.csrf("/register")
		form := url.Values{"_csrf": {tok}, "taxpayer.kind": {"individual"}, "taxpayer.name": {"Bob"}, "taxpayer.cnp": {"1850315350013"},
			"taxpayer.address": {"Str. X 1"}, "email": {"not-an-email"}, "username": {"bob"}, "password": {"short"}}
		p := c.post("/register", form)
		if p.Status != 422 {
			t.Fatalf("invalid registration: %d", p.Status)
		}
		wantRO := map[string]string{
			"f-taxpayer-cnp": "CNP invalid: cifra de control nu se potrivește.",
			"f-email":        "Introduceți o adresă de e-mail validă",
			"f-password":     "Introduceți cel puțin 10 caractere.",
		}
		checkFieldErrors(t, p.Body, wantRO)
		// The values typed come back (not the password).
		if !strings.Contains(p.Body, `value="1850315350013"`) || strings.Contains(p.Body, `value="short"`) {
			t.Error("the form does not keep the values typed, or echoes the password")
		}
		// EN.
		c.get("/register?lang=en")
		form.Set("_csrf", c.csrf("/register"))
		form.Set("taxpayer.cnp", "12345")
		p = c.post("/register", form)
		checkFieldErrors(t, p.Body, map[string]string{"f-taxpayer-cnp": "Invalid CNP: it must have 13 digits.", "f-password": "Enter at least 10 characters."})
		if !strings.Contains(p.Body, `<html lang="en">`) {
			t.Error("html lang is not en")
		}
		// A CNP already registered is a field error too (409).
		c.register("ana", "2850615350041", "Ana Popescu")
		d := s.client()
		p = d.register("ana2", "2850615350041", "Ana Popescu")
		if p.Status != 409 {
			t.Fatalf("same CNP: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-taxpayer-cnp": "Există deja un contribuabil înregistrat cu acest cod."})
	})
}

// checkFieldErrors asserts each input's error text, and that the error is
// tied to its input (aria-describedby, aria-invalid).
func checkFieldErrors(t *testing.T, body string, want map[string]string) {
	t.Helper()
	for id, msg := range want {
		re := regexp.MustCompile(`<p class="error" id="` + id + `-error">.*?</span>([^<]*)</p>`)
		m := re.FindStringSubmatch(body)
		if m == nil || !strings.Contains(m[1], msg) {
			t.Errorf("%s: want error %q, got %v", id, msg, m)
			continue
		}
		input := regexp.MustCompile(`<input id="` + id + `"[^>]*>`).FindString(body)
		if !strings.Contains(input, `aria-invalid="true"`) || !strings.Contains(input, id+"-error") {
			t.Errorf("%s: error not tied to the input: %s", id, input)
		}
	}
}

func TestCSRFAndCookies(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		c := s.client()
		c.register("ana", "2850615350041", "Ana Popescu")
		// No token, a wrong token, another browser's token: 403.
		other := s.client().csrf("/login")
		for name, tok := range map[string]string{"none": "", "forged": "abc", "another browser's": other} {
			form := url.Values{"username": {"ana"}, "password": {"parola-lunga-1"}}
			if tok != "" {
				form.Set("_csrf", tok)
			}
			if p := s.client().post("/login", form); p.Status != 403 {
				t.Errorf("%s token on /login: %d", name, p.Status)
			}
		}
		// A cross-site Origin is refused even with a valid token.
		tok := c.csrf("/account")
		req, _ := http.NewRequest("POST", s.URL+"/logout", strings.NewReader(url.Values{"_csrf": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		if p := c.do(req); p.Status != 403 {
			t.Fatalf("cross-site logout: %d", p.Status)
		}
		// The token changes with the session: the one from before sign-in fails after it.
		d := s.client()
		before := d.csrf("/login")
		d.login("ana", "parola-lunga-1")
		if p := d.post("/logout", url.Values{"_csrf": {before}}); p.Status != 403 {
			t.Fatalf("pre-login token accepted after login: %d", p.Status)
		}
		// Cookie attributes.
		e := s.client()
		tok = e.csrf("/login")
		res := e.post("/login", url.Values{"_csrf": {tok}, "username": {"ana"}, "password": {"parola-lunga-1"}})
		var session string
		for _, sc := range res.Header.Values("Set-Cookie") {
			if strings.HasPrefix(sc, "fiscald_session=") {
				session = sc
			}
		}
		low := strings.ToLower(session)
		if !strings.Contains(low, "httponly") || !strings.Contains(low, "samesite=lax") || !strings.Contains(low, "path=/") {
			t.Fatalf("session cookie: %q", session)
		}
		// The cookie does not authenticate the API: it keeps bearer tokens.
		req, _ = http.NewRequest("GET", s.URL+"/api/v1/me", nil)
		for _, ck := range e.http.Jar.Cookies(req.URL) {
			req.AddCookie(ck)
		}
		res2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res2.Body.Close()
		if res2.StatusCode != 401 {
			t.Fatalf("API with a session cookie only: %d", res2.StatusCode)
		}
	})
}

func TestCalculatorPage(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		c := s.client()
		q := "/calculator?object.kind=vehicle&year=2026&object.category=car&object.propulsion=combustion&object.engine_cc=1598&object.emission_class=euro6"
		p := c.get(q)
		for _, want := range []string{`<strong id="annual-tax">198,00 lei</strong>`, "31 martie 2026", "99,00 lei", "20,00 lei (plătiți 178,00 lei)", "Codul fiscal art. 470 alin. (2)"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("calculator lacks %q", want)
			}
		}
		p = c.get(q + "&lang=en")
		for _, want := range []string{`<strong id="annual-tax">198.00 lei</strong>`, "31 March 2026", "you pay 178.00 lei"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("calculator (en) lacks %q", want)
			}
		}
		// A building: Timișoara's worked example, 55 m² usable, zone A, type A.
		p = c.get("/calculator?object.kind=building&year=2026&object.use=residential&object.construction_type=A&object.utilities=true&object.usable_area_m2=55&object.zone=A&lang=ro")
		if !strings.Contains(p.Body, `<strong id="annual-tax">515,00 lei</strong>`) {
			t.Errorf("building: %d %s", p.Status, p.Body[strings.Index(p.Body, "<main"):])
		}
		// Field errors in the page's language.
		p = c.get("/calculator?object.kind=vehicle&year=2026&object.category=car&object.propulsion=combustion&object.engine_cc=x")
		if p.Status != 422 {
			t.Fatalf("bad cc: %d", p.Status)
		}
		checkSelectOrInputError(t, p.Body, "f-object-engine-cc", "Introduceți un număr.")
		p = c.get("/calculator?object.kind=vehicle&year=2026&object.category=car&object.propulsion=combustion&object.engine_cc=1598")
		checkSelectOrInputError(t, p.Body, "f-object-emission-class", "Completați acest câmp.")
		// A rate not configured: a clear message, not a zero.
		// 2027 before the council adopted its parameters (issue 16's draft).
		p = c.get("/calculator?object.kind=vehicle&year=2027&object.category=car&object.propulsion=combustion&object.engine_cc=1598&object.emission_class=euro6")
		if p.Status != 422 || !strings.Contains(p.Body, "Nu există o cotă configurată") {
			t.Fatalf("missing rate: %d", p.Status)
		}
	})
}

func checkSelectOrInputError(t *testing.T, body, id, msg string) {
	t.Helper()
	re := regexp.MustCompile(`<p class="error" id="` + id + `-error">.*?</span>([^<]*)</p>`)
	if m := re.FindStringSubmatch(body); m == nil || !strings.Contains(m[1], msg) {
		t.Errorf("%s: want %q, got %v", id, msg, m)
	}
}

func TestNotFoundAndStatic(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		c := s.client()
		p := c.get("/nowhere?lang=en")
		if p.Status != 404 || !strings.Contains(p.Body, "This page does not exist.") {
			t.Fatalf("html 404: %d %s", p.Status, p.Body)
		}
		// The API's 404 stays problem+json.
		res, err := http.Get(s.URL + "/api/v1/nowhere")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("api 404: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		home := c.get("/")
		css := regexp.MustCompile(`href="(/static/portal\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(home.Body)
		if css == nil {
			t.Fatal("no stylesheet link")
		}
		p = c.get(css[1])
		if p.Status != 200 || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/css") || !strings.Contains(p.Header.Get("Cache-Control"), "immutable") {
			t.Fatalf("css: %d %v", p.Status, p.Header)
		}
		if csp := home.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Fatalf("csp: %q", csp)
		}
	})
}

// TestPageWeight: no page weighs over 200 KB with its stylesheet and
// scripts (images aside), signed out and signed in.
func TestPageWeight(t *testing.T) {
	const limit = 200 << 10
	forEachEngine(t, func(t *testing.T, s *site) {
		anon, tp, staff, off, signer := s.client(), s.client(), s.client(), s.client(), s.client()
		tp.register("ana", "2850615350041", "Ana Popescu")
		staff.login("admin", staffPassword("admin"))
		off.login("ioana", staffPassword("ioana"))
		signer.login("dan", staffPassword("dan"))
		approveGolf(t, s)
		assetRe := regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`)
		pages := []struct {
			c    *client
			path string
		}{
			{anon, "/"}, {anon, "/?lang=en"}, {anon, "/login"}, {anon, "/register"}, {anon, "/calculator"},
			{anon, "/calculator?object.kind=vehicle&year=2026&object.category=car&object.propulsion=combustion&object.engine_cc=1598&object.emission_class=euro6"},
			{anon, "/calculator?object.kind=building&year=2026&object.use=residential&object.construction_type=A&object.utilities=true&object.usable_area_m2=55&object.zone=A"},
			{anon, "/nowhere"}, {tp, "/account"}, {tp, "/account?lang=en"}, {staff, "/staff"},
			{tp, "/declare/vehicle"}, {tp, "/declare/deregistration"}, {tp, "/declare/building"}, {tp, "/declare/land"}, {tp, "/declare/building-disposal"}, {tp, "/cases/1"}, {tp, "/account/pay"},
			{off, "/staff/queue?status=all"}, {off, "/cases/1"}, {off, "/staff/cash?q=Popescu"}, {signer, "/staff/sign"},
			{staff, "/admin/users"}, {staff, "/admin/parameters"}, {staff, "/admin/calendar"}, {staff, "/staff/reports"},
			{staff, "/admin/parameters/coverage?year=2026"}, {staff, "/admin/council-decisions"}, {staff, "/admin/parameter-drafts"},
			{anon, "/verify"}, {anon, "/verify/AAAA-BBBB"}, {off, "/staff/enroll?q=Popescu"}, {staff, "/admin/users/1"}, {anon, "/enroll"},
		}
		for _, pg := range pages {
			p := pg.c.get(pg.path)
			if p.Status >= 500 || p.Status == 303 {
				t.Fatalf("%s: %d", pg.path, p.Status)
			}
			total := len(p.Body)
			for _, m := range assetRe.FindAllStringSubmatch(p.Body, -1) {
				a := pg.c.get(m[1])
				if a.Status != 200 {
					t.Fatalf("%s: asset %s: %d", pg.path, m[1], a.Status)
				}
				total += len(a.Body)
			}
			t.Logf("%-40.40s %6d bytes", pg.path, total)
			if total > limit {
				t.Errorf("%s weighs %d bytes with its assets (limit %d)", pg.path, total, limit)
			}
		}
	})
}
