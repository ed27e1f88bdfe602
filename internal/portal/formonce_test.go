package portal_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/portal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/payments/stripe/stripetest"
)

// hiddenRe is a hidden input of a form, as the templates write it.
var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formOf opens path and returns the hidden inputs (the CSRF token, the
// one-time form_id, the version…) of the form marked by marker (its id="…"
// or action="…" attribute), for the test to add the visible ones.
func (c *client) formOf(path, marker string) url.Values {
	c.t.Helper()
	p := c.get(path)
	i := strings.Index(p.Body, marker)
	start := strings.LastIndex(p.Body[:max(i, 0)], "<form")
	if i < 0 || start < 0 {
		c.t.Fatalf("no form %s on %s (%d)", marker, path, p.Status)
	}
	end := strings.Index(p.Body[start:], "</form>")
	f := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(p.Body[start:start+end], -1) {
		f.Set(m[1], html.UnescapeString(m[2]))
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(f.Get("form_id")) {
		c.t.Fatalf("the form %s on %s has no one-time form_id: %v", marker, path, f)
	}
	return f
}

// TestFormsSentTwice: a portal form that changes stored data, sent twice
// with the same body (a double click, the browser or HAProxy sending it
// again), does its work once and answers the second sending as it answered
// the first (the same redirect), on a sample of forms: an upload, a staff
// comment, a review and a signature, a cash payment (also twice at once),
// an admin's new account and disabling it, a day off, an enrollment code.
// A first sending whose answer was not recorded (its instance stopped just
// after the commit) still gets that answer; one still running gets a clear
// 409 in Romanian and English, and nothing is done.
func TestFormsSentTwice(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		clock.Set(inFebruary)
		s := startSite(t, db, clock)
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := db.SQL().Get(&n, db.SQL().Rebind(q), args...); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// twice sends the same form twice, one after the other: both answers
		// are 303 to the same place.
		twice := func(what string, send func() page) page {
			t.Helper()
			first := send()
			again := send()
			if first.Status != 303 || again.Status != 303 || again.Location != first.Location {
				t.Fatalf("%s sent twice: %d %q, then %d %q\n%s", what, first.Status, first.Location, again.Status, again.Location, again.Body)
			}
			return first
		}

		ana := s.client()
		ana.register("ana", "2850615350041", "Ana Popescu")
		p := ana.postMultipart("/declare/vehicle", golfForm(ana.csrf("/declare/vehicle")),
			map[string][]byte{"doc.acquisition_document": pdfDoc, "doc.vehicle_identity_card": pngDoc, "doc.owner_id": pdfDoc})
		m := caseURL.FindStringSubmatch(p.Location)
		if p.Status != 303 || m == nil {
			t.Fatalf("declaration: %d %s", p.Status, p.Body)
		}
		casePath, caseID := p.Location, m[1]

		// An upload: one more document. A refused file first (already
		// attached) claims nothing: the same form with another file is
		// carried out.
		f := ana.formOf(casePath, `id="add-doc"`)
		f.Set("kind", "owner_id")
		if p := ana.postMultipart(casePath+"/documents", f, map[string][]byte{"file": pdfDoc}); p.Status != 409 {
			t.Fatalf("a document already attached: %d", p.Status)
		}
		if n := count(`SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = ?`, "portal-form:"+f.Get("form_id")); n != 0 {
			t.Fatalf("a refused upload claimed its form's id (%d)", n)
		}
		docs := map[string][]byte{"file": []byte("%PDF-1.4\n% the owner's second page\n%%EOF\n")}
		twice("an upload", func() page { return ana.postMultipart(casePath+"/documents", f, docs) })
		if n := count(`SELECT COUNT(*) FROM case_attachments WHERE case_id = ?`, caseID); n != 4 {
			t.Fatalf("%d documents after one more sent twice, want 4", n)
		}

		// A comment of the officer's, and the review.
		ioana := s.client()
		ioana.login("ioana", staffPassword("ioana"))
		f = ioana.formOf(casePath, `action="`+casePath+`/comment"`)
		commentID := f.Get("form_id")
		f.Set("body", "Documentele sunt în ordine.")
		f.Set("internal", "true")
		comments := func() int {
			return count(`SELECT COUNT(*) FROM case_events WHERE case_id = ? AND kind = 'comment'`, caseID)
		}
		first := twice("a comment", func() page { return ioana.post(casePath+"/comment", f) })
		if first.Location != casePath || comments() != 1 {
			t.Fatalf("a comment sent twice: %q, %d comments", first.Location, comments())
		}
		// The first sending committed and its instance stopped before it
		// recorded its answer: the comment is done, and the same form sent
		// again leads to the case.
		if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE idempotency_keys SET status = 0, content_type = '', response = NULL WHERE idem_key = ?`),
			"portal-form:"+commentID); err != nil {
			t.Fatal(err)
		}
		if again := ioana.post(casePath+"/comment", f); again.Status != 303 || again.Location != casePath || comments() != 1 {
			t.Fatalf("a comment sent again after its answer was lost: %d %q, %d comments", again.Status, again.Location, comments())
		}

		steps := func(action string) int {
			return count(`SELECT COUNT(*) FROM case_steps WHERE case_id = ? AND action = ?`, caseID, action)
		}
		f = ioana.formOf(casePath, `id="review-form"`)
		f.Set("decision", "approve")
		twice("a review", func() page { return ioana.post(casePath+"/review", f) })
		if n := steps("review"); n != 1 {
			t.Fatalf("%d reviews after one sent twice", n)
		}
		if p := ioana.get(casePath); !strings.Contains(p.Body, "Decizia a fost înregistrată") {
			t.Error("the answer to the review sent again does not say the decision was recorded")
		}
		dan := s.client()
		dan.login("dan", staffPassword("dan"))
		f = dan.formOf(casePath, `id="sign-form"`)
		f.Set("decision", "approve")
		twice("a signature", func() page { return dan.post(casePath+"/sign", f) })
		if n := steps("sign"); n != 1 {
			t.Fatalf("%d signatures after one sent twice", n)
		}

		// A cash payment: one after the other, then twice at once.
		var tpID int64
		if err := db.SQL().Get(&tpID, `SELECT id FROM taxpayers WHERE name = 'Ana Popescu'`); err != nil {
			t.Fatal(err)
		}
		cashPath := "/staff/cash?taxpayer=" + strconv.FormatInt(tpID, 10)
		payments := func() int { return count(`SELECT COUNT(*) FROM payments WHERE taxpayer_id = ?`, tpID) }
		f = ioana.formOf(cashPath, `id="cash-form"`)
		f.Set("amount", "50,00")
		first = twice("a cash payment", func() page { return ioana.post("/staff/cash", f) })
		if !strings.HasPrefix(first.Location, "/payments/") || payments() != 1 {
			t.Fatalf("a cash payment sent twice: %q, %d payments", first.Location, payments())
		}
		f = ioana.formOf(cashPath, `id="cash-form"`)
		f.Set("amount", "20,00")
		locs := make([]string, 2)
		var wg sync.WaitGroup
		for i := range locs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				if p := ioana.post("/staff/cash", f); p.Status == 303 {
					locs[i] = p.Location
				} else {
					t.Errorf("cash sending %d at once: %d", i, p.Status)
				}
			}(i)
		}
		wg.Wait()
		if locs[0] == "" || locs[0] != locs[1] || locs[0] == first.Location || payments() != 2 {
			t.Fatalf("a cash payment sent twice at once: %q and %q, %d payments", locs[0], locs[1], payments())
		}

		// A first sending still running (its claim committed, its answer not
		// yet kept): the second waits, then says so; nothing is paid twice.
		restore := portal.SetFormInFlightWait(300 * time.Millisecond)
		defer restore()
		f = ioana.formOf(cashPath, `id="cash-form"`)
		f.Set("amount", "10,00")
		var ioanaID int64
		if err := db.SQL().Get(&ioanaID, `SELECT id FROM users WHERE username = 'ioana'`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec(db.SQL().Rebind(`INSERT INTO idempotency_keys (municipality_id, user_id, idem_key, route, request_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
			s.muni.ID, ioanaID, "portal-form:"+f.Get("form_id"), "portal POST /staff/cash", "form", time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		for lang, want := range map[string]string{"ro": "Formularul a fost deja trimis și este încă în lucru", "en": "This form was already sent and is still being processed"} {
			ioana.get("/staff?lang=" + lang)
			if p := ioana.post("/staff/cash", f); p.Status != 409 || !strings.Contains(p.Body, want) {
				t.Errorf("a form whose first sending is still running, in %s: %d, want 409 saying %q\n%s", lang, p.Status, want, p.Body)
			}
		}
		ioana.get("/staff?lang=ro")
		restore()
		if n := payments(); n != 2 {
			t.Fatalf("%d payments after a form whose first sending is still running, want 2", n)
		}

		// The admin: a new staff account, disabling it, a day off.
		admin := s.client()
		admin.login("admin", staffPassword("admin"))
		f = admin.formOf("/admin/users", `id="user-form"`)
		f.Set("username", "vlad")
		f.Set("full_name", "Vlad Casier")
		f.Set("role", "officer")
		f.Set("password", "parola-casierului-1")
		twice("a new staff account", func() page { return admin.post("/admin/users", f) })
		if n := count(`SELECT COUNT(*) FROM users WHERE username = 'vlad'`); n != 1 {
			t.Fatalf("%d accounts after one sent twice", n)
		}
		var vlad int64
		if err := db.SQL().Get(&vlad, `SELECT id FROM users WHERE username = 'vlad'`); err != nil {
			t.Fatal(err)
		}
		userPath := "/admin/users/" + strconv.FormatInt(vlad, 10)
		f = admin.formOf(userPath, `id="disable-form"`)
		first = twice("disabling an account", func() page { return admin.post(userPath+"/disable", f) })
		if n := count(`SELECT COUNT(*) FROM audit_log WHERE action = 'user.disable' AND entity_id = ?`, strconv.FormatInt(vlad, 10)); n != 1 || first.Location != userPath {
			t.Fatalf("disabling sent twice: %q, %d audit entries", first.Location, n)
		}
		f = admin.formOf("/admin/calendar?year=2026", `id="day-form"`)
		f.Set("date", "2026-05-04")
		f.Set("reason", "punte")
		twice("a day off", func() page { return admin.post("/admin/calendar", f) })
		if n := count(`SELECT COUNT(*) FROM calendar_days WHERE reason = 'punte'`); n != 1 {
			t.Fatalf("%d days off after one sent twice", n)
		}

		// An enrollment code is shown once: the form sent again issues no
		// second one and says why.
		sys := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test", MunicipalityID: s.muni.ID})
		tp, err := s.db.CreateTaxpayer(sys, &fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: "1900101350014", Name: "Vasile Înscris", Address: "Str. Eroilor 3, Timișoara"})
		if err != nil {
			t.Fatal(err)
		}
		enrollPath := "/staff/enroll?taxpayer=" + strconv.FormatInt(tp.ID, 10)
		f = ioana.formOf(enrollPath, `id="enroll-form"`)
		if p := ioana.post("/staff/enroll", f); p.Status != 200 || codeRe.FindString(p.Body) == "" {
			t.Fatalf("issue a code: %d", p.Status)
		}
		p = ioana.post("/staff/enroll", f)
		if p.Status != 303 || p.Location != enrollPath {
			t.Fatalf("the code's form sent again: %d %q", p.Status, p.Location)
		}
		if p := ioana.get(p.Location); codeRe.FindString(p.Body) != "" || !strings.Contains(p.Body, "Formularul fusese deja trimis: codul a fost emis atunci") {
			t.Error("the enrollment page after the form sent again shows a code, or does not say why it shows none")
		}
		if n := count(`SELECT COUNT(*) FROM enrollment_codes WHERE taxpayer_id = ?`, tp.ID); n != 1 {
			t.Fatalf("%d enrollment codes after one form sent twice", n)
		}
	})
}

var secretRe = regexp.MustCompile(`data-secret="(pi_[^"]+)"`)

// TestCardPaymentSentTwice: the pay form sent twice starts one card
// payment (one PaymentIntent), and the second answer is the card page of
// that same payment.
func TestCardPaymentSentTwice(t *testing.T) {
	base := stripetest.Start(t)
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		clock.Set(inFebruary)
		s := startSiteStripe(t, db, clock, base)
		ana := s.client()
		ana.register("ana", "2850615350041", "Ana Popescu")
		approveGolf(t, s)
		f := ana.formOf("/account/pay", `id="pay-form"`)
		first, again := ana.post("/account/pay", f), ana.post("/account/pay", f)
		if first.Status != 200 || again.Status != 200 {
			t.Fatalf("the pay form sent twice: %d, then %d\n%s", first.Status, again.Status, again.Body)
		}
		s1, s2 := secretRe.FindStringSubmatch(first.Body), secretRe.FindStringSubmatch(again.Body)
		link := regexp.MustCompile(`href="/payments/\d+"`)
		if s1 == nil || s2 == nil || s1[1] != s2[1] || link.FindString(first.Body) == "" || link.FindString(first.Body) != link.FindString(again.Body) {
			t.Fatalf("the second answer is not the card page of the same payment: %v %v, %q %q", s1, s2, link.FindString(first.Body), link.FindString(again.Body))
		}
		var n int
		if err := db.SQL().Get(&n, `SELECT COUNT(*) FROM payments WHERE method = 'card'`); err != nil || n != 1 {
			t.Fatalf("%d card payments (%v) after the pay form sent twice, want 1", n, err)
		}
	})
}

// postLost sends a form whose answer never reaches the browser: the first
// request of a double click (the browser drops its answer for the
// second's), or one HAProxy sends again after its instance died. The
// request carries the browser's cookies; the answer's are not kept.
func (c *client) postLost(path string, form url.Values) page {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	u, _ := url.Parse(c.s.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	lost := *c
	lost.http = &http.Client{Timeout: c.http.Timeout, CheckRedirect: c.http.CheckRedirect}
	return lost.do(req)
}

// TestAnonymousFormsSentTwice: the anonymous forms, registration and
// /enroll, sent twice with the same body open one account. The first
// answer lost (a double click, a resend by HAProxy), the second sending is
// answered as the first: signed in, 303 to /account; the same twice at
// once. Someone replaying the form's id with other credentials opens
// nothing and learns nothing of the account (a generic notice on /login).
// On PostgreSQL, a first sending whose transaction is still open makes
// the second wait, then answer 409 in Romanian and English.
func TestAnonymousFormsSentTwice(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		clock.Set(inFebruary)
		s := startSite(t, db, clock)
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := db.SQL().Get(&n, db.SQL().Rebind(q), args...); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// signedIn says the client's answer signed it in, with the notice
		// of a new account.
		signedIn := func(c *client, who string) {
			t.Helper()
			if p := c.get("/account"); p.Status != 200 || !strings.Contains(p.Body, "Contul a fost creat") || !strings.Contains(p.Body, who) {
				t.Fatalf("%s's account after the form: %d, want 200 with the new account's notice", who, p.Status)
			}
		}
		// twice sends the form as a double click does: the first answer is
		// lost, the second is both 303 to /account.
		twice := func(what, path string, c *client, f url.Values) {
			t.Helper()
			first, again := c.postLost(path, f), c.post(path, f)
			if first.Status != 303 || first.Location != "/account" || again.Status != 303 || again.Location != first.Location {
				t.Fatalf("%s sent twice: %d %q, then %d %q\n%s", what, first.Status, first.Location, again.Status, again.Location, again.Body)
			}
		}
		// atOnce sends the form twice at once, both answers lost but the
		// last one's: both 303 to /account.
		atOnce := func(what, path string, c *client, f url.Values) {
			t.Helper()
			locs := make([]string, 2)
			var wg sync.WaitGroup
			for i := range locs {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					if p := c.postLost(path, f); p.Status == 303 {
						locs[i] = p.Location
					} else {
						t.Errorf("%s sending %d at once: %d\n%s", what, i, p.Status, p.Body)
					}
				}(i)
			}
			wg.Wait()
			if locs[0] != "/account" || locs[1] != "/account" {
				t.Fatalf("%s sent twice at once: %q and %q", what, locs[0], locs[1])
			}
		}
		registerForm := func(c *client, username, cnp, name string) url.Values {
			f := c.formOf("/register", `action="/register"`)
			f.Set("taxpayer.kind", "individual")
			f.Set("taxpayer.name", name)
			f.Set("taxpayer.cnp", cnp)
			f.Set("taxpayer.address", "Str. Mărășești 1, Timișoara")
			f.Set("email", username+"@example.ro")
			f.Set("username", username)
			f.Set("password", "parola-lunga-1")
			return f
		}
		accounts := func(username string) int {
			return count(`SELECT COUNT(*) FROM users WHERE username = ?`, username)
		}

		// Registration: one account, one record.
		ana := s.client()
		f := registerForm(ana, "ana", "2850615350041", "Ana Popescu")
		twice("a registration", "/register", ana, f)
		if accounts("ana") != 1 || count(`SELECT COUNT(*) FROM taxpayers WHERE cnp = ?`, "2850615350041") != 1 {
			t.Fatalf("a registration sent twice: %d accounts", accounts("ana"))
		}
		signedIn(ana, "Ana Popescu")
		// Twice at once.
		ion := s.client()
		f = registerForm(ion, "ion", "1800101350026", "Ion Ionescu")
		atOnce("a registration", "/register", ion, f)
		if accounts("ion") != 1 {
			t.Fatalf("a registration sent twice at once: %d accounts", accounts("ion"))
		}
		// Both answers lost: sent a third time, it signs ion in.
		if p := ion.post("/register", f); p.Status != 303 || p.Location != "/account" {
			t.Fatalf("the registration sent a third time: %d %q", p.Status, p.Location)
		}
		signedIn(ion, "Ion Ionescu")

		// Someone else with ana's form id: the same body but their own
		// username and password opens nothing and is sent to /login, with a
		// notice that names nobody.
		mallory := s.client()
		g := registerForm(mallory, "mallory", "1850505350014", "Mallory")
		g.Set("form_id", f.Get("form_id"))
		p := mallory.post("/register", g)
		if p.Status != 303 || p.Location != "/login" {
			t.Fatalf("another's registration form id replayed: %d %q", p.Status, p.Location)
		}
		p = mallory.get(p.Location)
		if !strings.Contains(p.Body, "Contul a fost deja creat cu acest formular") || strings.Contains(p.Body, "Ion") || strings.Contains(p.Body, "ion@") {
			t.Fatalf("the answer to a replayed form id: %d\n%s", p.Status, p.Body)
		}
		if p := mallory.get("/account"); p.Status != 303 || accounts("mallory") != 0 {
			t.Fatalf("a replayed form id signed in (%d) or opened an account (%d)", p.Status, accounts("mallory"))
		}

		// /enroll: a taxpayer on file opens their account with a code.
		sys := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test", MunicipalityID: s.muni.ID})
		enrollForm := func(c *client, username, cnp, name string) url.Values {
			t.Helper()
			tp, err := s.db.CreateTaxpayer(sys, &fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: cnp, Name: name, Address: "Str. Eroilor 3, Timișoara"})
			if err != nil {
				t.Fatal(err)
			}
			code, err := s.db.IssueEnrollmentCode(sys, tp.ID)
			if err != nil {
				t.Fatal(err)
			}
			f := c.formOf("/enroll", `action="/enroll"`)
			f.Set("code", code.Code)
			f.Set("cnp", cnp)
			f.Set("email", username+"@example.ro")
			f.Set("username", username)
			f.Set("password", "parola-lunga-2")
			return f
		}
		vasile := s.client()
		f = enrollForm(vasile, "vasile", "1900101350014", "Vasile Pop")
		twice("an enrollment", "/enroll", vasile, f)
		if accounts("vasile") != 1 {
			t.Fatalf("an enrollment sent twice: %d accounts", accounts("vasile"))
		}
		signedIn(vasile, "Vasile Pop")
		maria := s.client()
		f = enrollForm(maria, "maria", "2910202350010", "Maria Pop")
		atOnce("an enrollment", "/enroll", maria, f)
		if accounts("maria") != 1 {
			t.Fatalf("an enrollment sent twice at once: %d accounts", accounts("maria"))
		}
		g = url.Values{"_csrf": {mallory.csrf("/enroll")}, "form_id": {f.Get("form_id")}, "code": {f.Get("code")}, "cnp": {f.Get("cnp")},
			"email": {"m@example.ro"}, "username": {"mallory"}, "password": {"parola-lunga-3"}}
		if p := mallory.post("/enroll", g); p.Status != 303 || p.Location != "/login" || accounts("mallory") != 0 {
			t.Fatalf("another's enrollment form id replayed: %d %q, %d accounts", p.Status, p.Location, accounts("mallory"))
		}

		// The first sending's transaction still open (its claim taken, not
		// committed): the second waits for it, then says so. SQLite has one
		// writer: another sending's open transaction holds it, and nothing
		// of it can be seen waiting on the claim.
		if db.Dialect() != "postgres" {
			return
		}
		restore := portal.SetFormInFlightWait(300 * time.Millisecond)
		defer restore()
		elena := s.client()
		f = registerForm(elena, "elena", "2920303350015", "Elena Dima")
		key := sha256.Sum256([]byte(f.Get("form_id")))
		tx, err := db.SQL().Beginx()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() // a failed test leaves no lock behind
		if _, err := tx.Exec(tx.Rebind(`INSERT INTO anonymous_form_claims (municipality_id, form, key_hash, created_at) VALUES (?, ?, ?, ?)`),
			s.muni.ID, "/register", hex.EncodeToString(key[:]), time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		for lang, want := range map[string]string{"ro": "Formularul a fost deja trimis și este încă în lucru", "en": "This form was already sent and is still being processed"} {
			elena.get("/register?lang=" + lang)
			if p := elena.post("/register", f); p.Status != 409 || !strings.Contains(p.Body, want) {
				t.Errorf("a registration whose first sending is still running, in %s: %d, want 409 saying %q\n%s", lang, p.Status, want, p.Body)
			}
		}
		elena.get("/register?lang=ro")
		// The first sending undone: the form opens the account.
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if accounts("elena") != 0 {
			t.Fatal("a registration waiting for its first sending opened an account")
		}
		if p := elena.post("/register", f); p.Status != 303 || p.Location != "/account" || accounts("elena") != 1 {
			t.Fatalf("the registration after its first sending was undone: %d %q, %d accounts", p.Status, p.Location, accounts("elena"))
		}
	})
}
