package portal_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/importer"
	"fiscald/internal/portal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/internal/web"
	"fiscald/payments"
	"fiscald/payments/stripe"
	"fiscald/reports"
)

// site is the real server (API and portal on one fiber app) on a loopback
// port, over a fresh database, as the binary wires it.
type site struct {
	t     testing.TB
	URL   string
	db    *store.DB
	muni  *fiscal.Municipality
	clock *fiscal.TestClock
}

// Staff accounts every site has: username → password.
var staffAccounts = map[string]fiscal.Role{"ioana": fiscal.RoleOfficer, "dan": fiscal.RoleSigner, "carmen": fiscal.RoleAccountant, "admin": fiscal.RoleAdmin}

func staffPassword(u string) string {
	// Each letter shifted by one: a password must not contain its username.
	return "serviciu-" + strings.Map(func(r rune) rune { return r + 1 }, u) + "-2026"
}

// startSite starts a site on engine with the demo municipality Timișoara
// and its staff.
func startSite(t testing.TB, db *store.DB, clock *fiscal.TestClock) *site {
	t.Helper()
	return startSiteStripe(t, db, clock, "")
}

// testWebhookSecret signs the Stripe webhooks of portal tests.
const testWebhookSecret = "whsec_portal_test"

// startSiteStripe is startSite with card payments on the stripe-mock at
// apiBase (empty: card payments are not configured).
func startSiteStripe(t testing.TB, db *store.DB, clock *fiscal.TestClock, apiBase string) *site {
	t.Helper()
	return startSiteWith(t, db, clock, apiBase, nil)
}

// startSiteWith is startSiteStripe with more of the portal's dependencies
// (more, when not nil, sets them).
func startSiteWith(t testing.TB, db *store.DB, clock *fiscal.TestClock, apiBase string, more func(*portal.Deps)) *site {
	t.Helper()
	return startSiteFull(t, db, clock, apiBase, more, nil)
}

// portalConfig is the portal's configuration a test changes.
type portalConfig = portal.Config

// startSiteWithConfig is startSite with a changed portal configuration.
func startSiteWithConfig(t testing.TB, db *store.DB, clock *fiscal.TestClock, cfg func(*portalConfig)) *site {
	t.Helper()
	return startSiteFull(t, db, clock, "", nil, cfg)
}

// startSiteFull is startSiteWith whose portal configuration cfg, when not
// nil, changes.
func startSiteFull(t testing.TB, db *store.DB, clock *fiscal.TestClock, apiBase string, more func(*portal.Deps), cfg func(*portalConfig)) *site {
	t.Helper()
	m := &fiscal.Municipality{Slug: "timisoara", Name: "Municipiul Timișoara", Rank: "I", County: "Timiș"}
	if err := db.CreateMunicipality(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	for u, r := range staffAccounts {
		if _, err := db.CreateStaff(context.Background(), m.ID, u, staffPassword(u), r, strings.ToUpper(u[:1])+u[1:]); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(testLog, nil))
	scfg := stripe.Config{WebhookSecret: testWebhookSecret}
	if apiBase != "" {
		scfg.SecretKey, scfg.APIBase = "sk_test_portal", apiBase
	}
	sc, err := stripe.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	pay := payments.NewService(db, sc, clock)
	rep := &reports.Exporter{Source: db, Clock: clock}
	pcfg := portal.Config{Logger: log, CardPayments: sc.Configured(), ImportDir: t.TempDir()}
	if apiBase != "" {
		pcfg.StripePublishableKey = "pk_test_portal"
	}
	deps := portal.Deps{Users: db, Taxpayers: db, Vehicles: db, Properties: db, Tax: db, Clock: clock,
		Cases: db, Payments: pay, PaymentList: db, Staff: db, Documents: db, Reports: rep, Idempotency: db, Identity: db, RequestTypes: db, Representations: db,
		Imports: &importer.Service{Store: db}}
	if more != nil {
		more(&deps)
	}
	if cfg != nil {
		cfg(&pcfg)
	}
	p := portal.New(pcfg, deps)
	srv := web.New(web.Config{DefaultMunicipality: "timisoara", Logger: log, Mount: p.Mount},
		withClock(web.StoreDeps(db), clock, pay, rep))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.App().Listener(ln)
	t.Cleanup(func() { srv.Shutdown(5 * time.Second) })
	return &site{t: t, URL: "http://" + ln.Addr().String(), db: db, muni: m, clock: clock}
}

// client is a browser-like HTTP client: a cookie jar, no redirects followed.
type client struct {
	t    testing.TB
	s    *site
	http *http.Client
}

func (s *site) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: s.t, s: s, http: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

func (c *client) do(req *http.Request) page {
	c.t.Helper()
	req.Header.Set("Accept", "text/html")
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return page{Status: res.StatusCode, Header: res.Header, Body: string(b), Location: res.Header.Get("Location")}
}

func (c *client) get(path string) page {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.s.URL+path, nil)
	return c.do(req)
}

// post submits a form; the CSRF token is taken from the last page of path
// unless the form sets _csrf itself.
func (c *client) post(path string, form url.Values) page {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf opens path and returns the CSRF token of its first form.
func (c *client) csrf(path string) string {
	c.t.Helper()
	p := c.get(path)
	m := csrfRe.FindStringSubmatch(p.Body)
	if m == nil {
		c.t.Fatalf("no CSRF token on %s (%d)", path, p.Status)
	}
	return m[1]
}

// login signs in through the form.
func (c *client) login(username, password string) page {
	c.t.Helper()
	tok := c.csrf("/login")
	return c.post("/login", url.Values{"_csrf": {tok}, "username": {username}, "password": {password}})
}

// register creates a taxpayer account through the form.
func (c *client) register(username, cnp, name string) page {
	c.t.Helper()
	tok := c.csrf("/register")
	return c.post("/register", url.Values{"_csrf": {tok}, "taxpayer.kind": {"individual"}, "taxpayer.name": {name},
		"taxpayer.cnp": {cnp}, "taxpayer.address": {"Str. Mărășești 1, Timișoara"}, "email": {username + "@example.ro"},
		"username": {username}, "password": {"parola-lunga-1"}})
}

// testLog receives the server's logs; set FISCAL_TEST_LOG=1 to see them.
var testLog io.Writer = io.Discard

func init() {
	if os.Getenv("FISCAL_TEST_LOG") != "" {
		testLog = os.Stderr
	}
}

// forEachEngine is storetest.ForEachEngine with a started site.
func forEachEngine(t *testing.T, fn func(t *testing.T, s *site)) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		fn(t, startSite(t, db, clock))
	})
}

// withClock completes the database's deps with the test clock and the
// services built on it.
func withClock(d web.Deps, clock fiscal.Clock, pay fiscal.PaymentService, rep fiscal.ReportService) web.Deps {
	d.Clock, d.Payments, d.Reports = clock, pay, rep
	return d
}
