package portal_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"fiscald/assess"
	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/oidc"
	"fiscald/internal/portal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/internal/testroeid"
)

// seedRegistered enters testroeid.DemoRegistered in the registry with a car
// and assesses the clock's year: a taxpayer on file, with a debt, and no
// account (as cmd/fiscald's demo seed does).
func seedRegistered(t testing.TB, db *store.DB, m *fiscal.Municipality, clock fiscal.Clock) {
	t.Helper()
	ctx := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test seed", MunicipalityID: m.ID})
	p := testroeid.DemoRegistered
	cnp := p.CNP
	acquired := civil.Date{Year: 2019, Month: 4, Day: 10}
	done := false
	_, err := db.BulkLoad(ctx, m.ID, "seed.demo_registered", func() (*store.SeedTaxpayer, error) {
		if done {
			return nil, nil
		}
		done = true
		return &store.SeedTaxpayer{Taxpayer: fiscal.Taxpayer{Kind: fiscal.Individual, CNP: &cnp, Name: p.Nume + " " + p.Prenume, Address: "Str. Veche 1, Timișoara"},
			Vehicles: []fiscal.Vehicle{{VIN: "WVWZZZ1KZ9W000017", Plate: "TM-19-ROE", Category: "car", EngineCC: 1598, EmissionClass: "euro6",
				Propulsion: "combustion", AcquiredOn: acquired, TaxedFromYear: calc.FirstTaxedYear(acquired)}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := assess.Run(ctx, db, assess.Options{MunicipalityID: m.ID, Municipality: m.Slug, Year: clock.Now().Year(), Workers: 1}); err != nil {
		t.Fatal(err)
	}
}

// roeidSite starts the test ROeID and the site signing in with it.
func roeidSite(t *testing.T, db *store.DB, clock *fiscal.TestClock) (*site, *testroeid.Server) {
	op, err := testroeid.Start(testroeid.Config{ClientID: "fiscald", ClientSecret: "roeid-test-secret", Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { op.Close() })
	var rp *oidc.RP
	s := startSiteWith(t, db, clock, "", func(d *portal.Deps) {
		rp, err = oidc.New(oidc.Config{Issuer: op.Issuer, ClientID: "fiscald", ClientSecret: "roeid-test-secret",
			RedirectURL: "http://placeholder/auth/oidc/callback", Clock: wallClock{}, Logger: quietLog()})
		if err != nil {
			t.Fatal(err)
		}
		d.OIDC, d.SignIns = rp, db
	})
	rp.SetRedirectURL(s.URL + "/auth/oidc/callback")
	op.AllowRedirect(s.URL + "/auth/oidc/callback")
	return s, op
}

// wallClock is the system's: the test ROeID signs with the real time.
type wallClock struct{ fiscal.SystemClock }

var authRequestID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// roeidSignIn signs the client in at the test ROeID as the subject (or
// refuses, subject ""), following every redirect, and returns the portal's
// answer to the callback.
func (c *client) roeidSignIn(subject string) page {
	c.t.Helper()
	p := c.get("/auth/oidc/login")
	if p.Status != 303 {
		c.t.Fatalf("/auth/oidc/login: %d", p.Status)
	}
	next := p.Location
	for range 5 {
		res, err := c.http.Get(next)
		if err != nil {
			c.t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == 200 && strings.Contains(string(body), "ROeID de test") {
			m := authRequestID.FindStringSubmatch(string(body))
			if m == nil {
				c.t.Fatalf("no request id on the login page:\n%s", body)
			}
			form := url.Values{"id": {m[1]}, "subject": {subject}}
			if subject == "" {
				form = url.Values{"id": {m[1]}, "deny": {"1"}}
			}
			u, _ := url.Parse(next)
			res, err = c.http.PostForm(u.Scheme+"://"+u.Host+"/login", form)
			if err != nil {
				c.t.Fatal(err)
			}
			res.Body.Close()
		}
		if res.StatusCode != 302 && res.StatusCode != 303 {
			c.t.Fatalf("at the provider %s: %d %s", next, res.StatusCode, body)
		}
		loc, _ := res.Request.URL.Parse(res.Header.Get("Location"))
		if strings.HasPrefix(loc.String(), c.s.URL+"/auth/oidc/callback") {
			return c.callback(loc.String())
		}
		next = loc.String()
	}
	c.t.Fatal("the provider never sent the browser back")
	return page{}
}

// TestOIDCTestROeID: the whole flow with the test ROeID (zitadel's OP):
// the person already in the registry signs in, sees their record's debt
// and may pay; the signing key rotates and the next sign-in still works
// (go-oidc refetches the JWKS); a refusal at the provider signs nobody in;
// a password sign-in of the account fails; a password-only account on an
// existing record gets a 403 problem from the API.
func TestOIDCTestROeID(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		s, op := roeidSite(t, db, clock)
		seedRegistered(t, db, s.muni, clock)
		c := s.client()
		p := c.roeidSignIn(testroeid.DemoRegistered.Subject)
		if p.Status != 303 || p.Location != "/account" || !c.hasSession() {
			t.Fatalf("sign-in: %d %s\n%s", p.Status, p.Location, p.Body)
		}
		acc := c.get("/account")
		for _, want := range []string{"Stan Gheorghe", "1780305460017", "TM-19-ROE", `id="total-due"`, `id="pay-link"`, "Str. Gheorghe Lazăr 12, Timișoara"} {
			if !strings.Contains(acc.Body, want) {
				t.Fatalf("account lacks %q:\n%s", want, acc.Body)
			}
		}
		if strings.Contains(acc.Body, `id="not-verified"`) {
			t.Fatal("a verified account is told it is not")
		}
		var username string
		if err := db.SQL().GetContext(context.Background(), &username, db.SQL().Rebind(`SELECT username FROM users WHERE oidc_subject = ?`), testroeid.DemoRegistered.Subject); err != nil {
			t.Fatal(err)
		}
		if p := s.client().login(username, "orice-parola-lunga"); p.Status != 401 {
			t.Fatalf("password sign-in of a ROeID account: %d", p.Status)
		}

		// Key rotation: the next token is signed by a key the relying party
		// has not seen.
		old := op.KeyID()
		if err := op.RotateKey(); err != nil || op.KeyID() == old {
			t.Fatalf("rotate: %v", err)
		}
		c2 := s.client()
		if p := c2.roeidSignIn(testroeid.DemoRegistered.Subject); p.Status != 303 || p.Location != "/account" {
			t.Fatalf("after the key rotation: %d %s", p.Status, p.Body)
		}
		// The person without a CNP, a refusal: nobody signed in.
		for subject, want := range map[string]string{testroeid.DemoNoCNP.Subject: "nu a transmis codul numeric personal", "": "a refuzat autentificarea (access_denied)"} {
			c3 := s.client()
			if p := c3.roeidSignIn(subject); p.Status < 400 || !strings.Contains(p.Body, want) || c3.hasSession() {
				t.Fatalf("%q: %d %s", subject, p.Status, p.Body)
			}
		}

		// A password-only account on an existing record: its requests, not
		// the record (403 with the problem saying how to get verified).
		ana := s.client()
		if p := ana.register("ana", "2850615350041", "Ana Popescu"); p.Status != 303 {
			t.Fatalf("register: %d", p.Status)
		}
		var tpID int64
		if err := db.SQL().GetContext(context.Background(), &tpID, db.SQL().Rebind(`SELECT id FROM taxpayers WHERE cnp = ?`), testroeid.DemoRegistered.CNP); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(context.Background(), db.SQL().Rebind(`UPDATE users SET assurance = 'password', taxpayer_id = ? WHERE username = 'ana'`), tpID); err != nil {
			t.Fatal(err)
		}
		res, err := http.Post(s.URL+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"ana","password":"parola-lunga-1"}`))
		if err != nil {
			t.Fatal(err)
		}
		tok := jsonField(t, res, "token")
		req, _ := http.NewRequest("GET", s.URL+"/api/v1/taxpayers/"+strconv.FormatInt(tpID, 10)+"/statement", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 403 || !strings.Contains(res.Header.Get("Content-Type"), "problem+json") || !strings.Contains(string(body), "not verified") {
			t.Fatalf("statement of a password-only account: %d %s", res.StatusCode, body)
		}
		if acc := ana.get("/account"); acc.Status != 200 || !strings.Contains(acc.Body, `id="not-verified"`) || strings.Contains(acc.Body, "TM-19-ROE") || strings.Contains(acc.Body, `id="total-due"`) {
			t.Fatalf("restricted account page: %d\n%s", acc.Status, acc.Body)
		}

		// Session fixation: a browser that had a session (here ana's; a
		// planted one alike) signs in with ROeID: it gets a new token and
		// the old one is revoked.
		before := ana.sessionToken()
		if p := ana.roeidSignIn(testroeid.DemoNew.Subject); p.Status != 303 {
			t.Fatalf("sign-in over a session: %d %s", p.Status, p.Body)
		}
		after := ana.sessionToken()
		if after == "" || after == before {
			t.Fatal("the session was not rotated at sign-in")
		}
		if _, err := db.Authenticate(context.Background(), before); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
			t.Fatalf("the session before the sign-in still works: %v", err)
		}
		if acc := ana.get("/account"); !strings.Contains(acc.Body, "Dumitru Elena") || !strings.Contains(acc.Body, "2900512460010") {
			t.Fatalf("after the sign-in, the new person's new record: %s", acc.Body)
		}
	})
}

// jsonField reads one string field of a JSON answer.
func jsonField(t *testing.T, res *http.Response, name string) string {
	t.Helper()
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	s, _ := m[name].(string)
	if s == "" {
		t.Fatalf("no %s in %v", name, m)
	}
	return s
}

func (c *client) sessionToken() string {
	u, _ := url.Parse(c.s.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "fiscald_session" {
			return ck.Value
		}
	}
	return ""
}
