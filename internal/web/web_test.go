package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"fiscald/assess"
	"fiscald/fiscal"
	"fiscald/internal/importer"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/internal/web"
	"fiscald/payments"
	"fiscald/payments/stripe"
	"fiscald/reports"
)

// env is a server on a real database with a municipality and staff.
type env struct {
	t         testing.TB
	recompute *assess.RecomputeService
	srv       *web.Server
	db        *store.DB
	muni      *fiscal.Municipality
	tokens    map[string]string
}

func newEnv(t testing.TB, db *store.DB, clock fiscal.Clock) *env {
	t.Helper()
	return newEnvStripe(t, db, clock, "")
}

// testWebhookSecret signs the Stripe webhooks of web tests.
const testWebhookSecret = "whsec_web_test"

// newEnvStripe is newEnv with card payments on the stripe-mock at apiBase
// (empty: no secret key, so card payments are not configured).
func newEnvStripe(t testing.TB, db *store.DB, clock fiscal.Clock, apiBase string) *env {
	t.Helper()
	m := storetest.Municipality(t, db, "timisoara")
	cfg := stripe.Config{WebhookSecret: testWebhookSecret}
	if apiBase != "" {
		cfg.SecretKey, cfg.APIBase = "sk_test_web", apiBase
	}
	sc, err := stripe.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pay := payments.NewService(db, sc, clock)
	recompute := &assess.RecomputeService{Store: db, BatchObjects: 2}
	t.Cleanup(recompute.Wait)
	deps := web.StoreDeps(db)
	deps.Clock, deps.Payments, deps.Reconciliation, deps.Recompute = clock, pay, pay, recompute
	deps.Reports = &reports.Exporter{Source: db, Reconciliation: pay, Clock: clock}
	deps.Imports = &importer.Service{Store: db}
	srv := web.New(web.Config{DefaultMunicipality: "timisoara", Logger: slog.New(slog.NewTextHandler(testLog, nil))}, deps)
	e := &env{t: t, recompute: recompute, srv: srv, db: db, muni: m, tokens: map[string]string{}}
	for _, r := range []fiscal.Role{fiscal.RoleOfficer, fiscal.RoleSigner, fiscal.RoleAccountant, fiscal.RoleAdmin} {
		if _, err := db.CreateStaff(context.Background(), m.ID, string(r)+"1", "password-"+string(r), r, string(r)); err != nil {
			t.Fatal(err)
		}
		e.tokens[string(r)] = e.login(string(r)+"1", "password-"+string(r))
	}
	return e
}

type resp struct {
	Status int
	Header map[string]string
	Body   map[string]any
	Raw    []byte
}

func (e *env) do(method, path, token string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.srv.App().Test(req, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	out := resp{Status: res.StatusCode, Raw: raw, Header: map[string]string{}}
	for k := range res.Header {
		out.Header[k] = res.Header.Get(k)
	}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

func (e *env) login(username, password string) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"username": username, "password": password})
	if r.Status != 200 {
		e.t.Fatalf("login %s: %d %s", username, r.Status, r.Raw)
	}
	return r.Body["token"].(string)
}

func individual(username, cnp string) map[string]any {
	return map[string]any{"username": username, "password": "parola-lunga-1", "email": username + "@example.ro",
		"taxpayer": map[string]any{"kind": "individual", "cnp": cnp, "name": "Ana Popescu", "address": "Str. Mărășești 1"}}
}

func fieldNames(r resp) []string {
	var out []string
	errs, _ := r.Body["errors"].([]any)
	for _, x := range errs {
		out = append(out, x.(map[string]any)["field"].(string))
	}
	return out
}

func TestRegistrationContract(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		r := e.do("POST", "/api/v1/auth/register", "", individual("ana", "2850615350041"))
		if r.Status != 201 {
			t.Fatalf("valid registration: %d %s", r.Status, r.Raw)
		}
		tp := r.Body["taxpayer"].(map[string]any)
		if tp["id"] == nil || r.Body["user"].(map[string]any)["role"] != "taxpayer" {
			t.Fatalf("body %s", r.Raw)
		}
		// Invalid CNP: 422 naming the field, problem+json.
		r = e.do("POST", "/api/v1/auth/register", "", individual("bob", "1850315350013"))
		if r.Status != 422 || r.Header["Content-Type"] != "application/problem+json" || strings.Join(fieldNames(r), ",") != "taxpayer.cnp" {
			t.Fatalf("invalid CNP: %d %s", r.Status, r.Raw)
		}
		// Invalid CUI.
		company := map[string]any{"username": "firma", "password": "parola-lunga-1", "email": "f@example.ro",
			"taxpayer": map[string]any{"kind": "company", "cui": "18547291", "name": "Firma SRL", "address": "Str. X 1"}}
		r = e.do("POST", "/api/v1/auth/register", "", company)
		if r.Status != 422 || strings.Join(fieldNames(r), ",") != "taxpayer.cui" {
			t.Fatalf("invalid CUI: %d %s", r.Status, r.Raw)
		}
		company["taxpayer"].(map[string]any)["cui"] = "RO18547290"
		if r = e.do("POST", "/api/v1/auth/register", "", company); r.Status != 201 {
			t.Fatalf("valid CUI: %d %s", r.Status, r.Raw)
		}
		// The same CNP again: 409.
		if r = e.do("POST", "/api/v1/auth/register", "", individual("ana2", "2850615350041")); r.Status != 409 {
			t.Fatalf("same CNP: %d %s", r.Status, r.Raw)
		}
		// Malformed JSON 400, a number where a string goes 422, too large 413.
		if r = e.do("POST", "/api/v1/auth/register", "", `{"username":`); r.Status != 400 {
			t.Fatalf("malformed: %d %s", r.Status, r.Raw)
		}
		if r = e.do("POST", "/api/v1/auth/register", "", `{"username": 5}`); r.Status != 422 || fieldNames(r)[0] != "username" {
			t.Fatalf("wrong type: %d %s", r.Status, r.Raw)
		}
		big := `{"username":"` + strings.Repeat("a", 2<<20) + `"}`
		if r = e.do("POST", "/api/v1/auth/register", "", big); r.Status != 413 {
			t.Fatalf("too large: %d %s", r.Status, r.Raw[:min(200, len(r.Raw))])
		}
		// Unknown municipality: 404.
		if r = e.do("POST", "/api/v1/auth/register", "", individual("xavier", "1850315350012"), "X-Municipality", "nowhere"); r.Status != 404 {
			t.Fatalf("unknown municipality: %d %s", r.Status, r.Raw)
		}
	})
}

func TestLoginAndAccess(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		ana := e.do("POST", "/api/v1/auth/register", "", individual("ana", "2850615350041"))
		mihai := e.do("POST", "/api/v1/auth/register", "", individual("mihai", "1850315350012"))
		anaID := int64(ana.Body["taxpayer"].(map[string]any)["id"].(float64))
		mihaiID := int64(mihai.Body["taxpayer"].(map[string]any)["id"].(float64))

		wrong := e.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "ana", "password": "nope-nope-nope"})
		unknown := e.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "ghost", "password": "nope-nope-nope"})
		if wrong.Status != 401 || unknown.Status != 401 || wrong.Body["detail"] != unknown.Body["detail"] {
			t.Fatalf("wrong %d %s / unknown %d %s", wrong.Status, wrong.Raw, unknown.Status, unknown.Raw)
		}
		tok := e.login("ana", "parola-lunga-1")
		me := e.do("GET", "/api/v1/me", tok, nil)
		if me.Status != 200 || me.Body["username"] != "ana" || int64(me.Body["taxpayer_id"].(float64)) != anaID {
			t.Fatalf("me: %d %s", me.Status, me.Raw)
		}
		path := func(id int64) string { return "/api/v1/taxpayers/" + itoa(id) }
		if r := e.do("GET", path(anaID), tok, nil); r.Status != 200 {
			t.Fatalf("own record: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", path(mihaiID), tok, nil); r.Status != 404 && r.Status != 403 {
			t.Fatalf("another taxpayer's record: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", "/api/v1/taxpayers?q=ana", tok, nil); r.Status != 403 {
			t.Fatalf("taxpayer searching: %d", r.Status)
		}
		if r := e.do("GET", path(anaID), "", nil); r.Status != 401 {
			t.Fatalf("anonymous: %d", r.Status)
		}
		if r := e.do("GET", path(anaID), "forged-token", nil); r.Status != 401 {
			t.Fatalf("forged token: %d", r.Status)
		}
		if r := e.do("GET", "/api/v1/taxpayers?q=popescu", e.tokens["officer"], nil); r.Status != 200 || r.Body["total"].(float64) != 2 {
			t.Fatalf("officer search: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", path(mihaiID), e.tokens["officer"], nil); r.Status != 200 {
			t.Fatalf("officer read: %d", r.Status)
		}
		// Staff creation is for admins only.
		staff := map[string]string{"username": "new1", "password": "parola-lunga-1", "role": "officer", "full_name": "Nou"}
		if r := e.do("POST", "/api/v1/users", e.tokens["officer"], staff); r.Status != 403 {
			t.Fatalf("officer created staff: %d", r.Status)
		}
		if r := e.do("POST", "/api/v1/users", e.tokens["admin"], staff); r.Status != 201 {
			t.Fatalf("admin created staff: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", "/api/v1/audit/verify", e.tokens["admin"], nil); r.Status != 200 || r.Body["valid"] != true {
			t.Fatalf("audit verify: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", "/api/v1/audit/verify", tok, nil); r.Status != 403 {
			t.Fatalf("taxpayer audit verify: %d", r.Status)
		}
		// Logout revokes the token.
		if r := e.do("POST", "/api/v1/auth/logout", tok, nil); r.Status != 204 {
			t.Fatalf("logout: %d", r.Status)
		}
		if r := e.do("GET", "/api/v1/me", tok, nil); r.Status != 401 {
			t.Fatalf("after logout: %d", r.Status)
		}
		// Too many wrong passwords for one account from one address: 429
		// (the backoff of the pair; TestSignInThrottleDoesNotLockOutOwner).
		var last resp
		for i := 0; i < 12; i++ {
			last = e.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "mihai", "password": "guess-guess-" + itoa(int64(i))})
		}
		if last.Status != 429 {
			t.Fatalf("login attempts not limited: %d", last.Status)
		}
	})
}

func TestHealthMetricsOpenAPI(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		if r := e.do("GET", "/healthz", "", nil); r.Status != 200 {
			t.Fatal(r.Status)
		}
		if r := e.do("GET", "/readyz", "", nil); r.Status != 200 {
			t.Fatal(r.Status)
		}
		r := e.do("GET", "/api/v1/openapi.json", "", nil)
		if r.Status != 200 || r.Body["openapi"] != "3.1.0" {
			t.Fatalf("openapi: %d", r.Status)
		}
		paths := r.Body["paths"].(map[string]any)
		for _, p := range []string{"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/me", "/api/v1/taxpayers/{id}"} {
			if paths[p] == nil {
				t.Errorf("openapi lacks %s", p)
			}
		}
		m := e.do("GET", "/metrics", e.tokens["admin"], nil)
		if !strings.Contains(string(m.Raw), `fiscald_http_requests_total{method="GET",route="/readyz",status="200"} 1`) {
			t.Fatalf("metrics: %s", m.Raw)
		}
		// The logins of newEnv wrote sessions: on SQLite they went through
		// the counted writer.
		if n := db.WriteStats().Count; db.Dialect() == "sqlite" &&
			(n == 0 || !strings.Contains(string(m.Raw), "fiscald_db_write_transactions_total "+strconv.FormatInt(n, 10)+"\n")) {
			t.Fatalf("write transactions (%d) not in metrics: %s", n, m.Raw)
		}
		if !strings.Contains(string(m.Raw), "fiscald_db_transactions_retried_total ") {
			t.Fatalf("the retried transactions are not in metrics: %s", m.Raw)
		}
		db.Close()
		if r := e.do("GET", "/readyz", "", nil); r.Status != 503 {
			t.Fatalf("readyz with the database closed: %d", r.Status)
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// testLog receives the server's logs; set FISCAL_TEST_LOG=1 to see them.
var testLog io.Writer = io.Discard

func init() {
	if os.Getenv("FISCAL_TEST_LOG") != "" {
		testLog = os.Stderr
	}
}

func TestSecurityHeaders(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		r := e.do("GET", "/healthz", "", nil)
		for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "X-Request-Id"} {
			if r.Header[h] == "" {
				t.Errorf("missing %s", h)
			}
		}
		if !strings.Contains(r.Header["Content-Security-Policy"], "frame-ancestors 'none'") {
			t.Errorf("CSP %q", r.Header["Content-Security-Policy"])
		}
	})
}

func TestBadValueTypesName422Field(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		r := e.do("POST", "/api/v1/tax/quote", "", `{"municipality":"timisoara","year":2026,"paid_on":"2026-02-30","object":{"kind":"vehicle","category":"car","engine_cc":1598,"emission_class":"euro6","propulsion":"combustion"}}`)
		if r.Status != 422 || strings.Join(fieldNames(r), ",") != "paid_on" {
			t.Fatalf("impossible date: %d %s", r.Status, r.Raw)
		}
	})
}

func TestPrivacyAccessLogAndExport(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		ana := e.do("POST", "/api/v1/auth/register", "", individual("ana", "2850615350041"))
		e.do("POST", "/api/v1/auth/register", "", individual("mihai", "1850315350012"))
		id := itoa(int64(ana.Body["taxpayer"].(map[string]any)["id"].(float64)))
		tok := e.login("ana", "parola-lunga-1")
		mihai := e.login("mihai", "parola-lunga-1")
		if r := e.do("GET", "/api/v1/taxpayers/"+id, e.tokens["officer"], nil); r.Status != 200 {
			t.Fatal(r.Status)
		}
		r := e.do("GET", "/api/v1/taxpayers/"+id+"/access-log", tok, nil)
		items, _ := r.Body["items"].([]any)
		if r.Status != 200 || len(items) != 1 || items[0].(map[string]any)["username"] != "officer1" {
			t.Fatalf("access log: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", "/api/v1/taxpayers/"+id+"/access-log", mihai, nil); r.Status != 404 {
			t.Fatalf("another taxpayer's access log: %d", r.Status)
		}
		if r := e.do("GET", "/api/v1/taxpayers/"+id+"/export", e.tokens["officer"], nil); r.Status != 403 {
			t.Fatalf("officer export: %d", r.Status)
		}
		r = e.do("GET", "/api/v1/taxpayers/"+id+"/export", tok, nil)
		if r.Status != 200 || strings.Contains(string(r.Raw), "password_hash") || !strings.Contains(string(r.Raw), "2850615350041") {
			t.Fatalf("export: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", "/api/v1/taxpayers/"+id+"/export", e.tokens["admin"], nil); r.Status != 200 {
			t.Fatalf("admin export: %d", r.Status)
		}
	})
}
