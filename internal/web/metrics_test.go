package web_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestMetricsNotPublic: /metrics counts failed sign-ins, payments and
// refunds per route: on the main listener it answers admins only (401 for
// anonymous callers, 403 for a taxpayer and the other staff roles); the
// scrapers' handler (FISCAL_METRICS_ADDR) serves it on its own listener.
func TestMetricsNotPublic(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		if r := e.do("POST", "/api/v1/auth/register", "", individual("ana", "2850615350041")); r.Status != 201 {
			t.Fatalf("register: %d %s", r.Status, r.Raw)
		}
		ana := e.login("ana", "parola-lunga-1")
		if r := e.do("GET", "/metrics", "", nil); r.Status != 401 || strings.Contains(string(r.Raw), "fiscald_") {
			t.Fatalf("anonymous: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", "/metrics", ana, nil); r.Status != 403 || strings.Contains(string(r.Raw), "fiscald_") {
			t.Fatalf("taxpayer: %d %s", r.Status, r.Raw)
		}
		for _, role := range []string{"officer", "signer", "accountant"} {
			if r := e.do("GET", "/metrics", e.tokens[role], nil); r.Status != 403 {
				t.Fatalf("%s: %d", role, r.Status)
			}
		}
		r := e.do("GET", "/metrics", e.tokens["admin"], nil)
		if r.Status != 200 || !strings.Contains(string(r.Raw), "fiscald_http_requests_total{") || !strings.Contains(r.Header["Content-Type"], "version=0.0.4") {
			t.Fatalf("admin: %d %s", r.Status, r.Raw)
		}
		h := e.srv.MetricsHandler()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body, _ := io.ReadAll(rec.Result().Body)
		if rec.Code != 200 || !strings.Contains(string(body), "fiscald_login_failures_total") || !strings.Contains(rec.Header().Get("Content-Type"), "version=0.0.4") {
			t.Fatalf("scrapers' handler: %d %s", rec.Code, body)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/me", nil))
		if rec.Code != 404 {
			t.Fatalf("scrapers' handler serves other paths: %d", rec.Code)
		}
	})
}
