package portal_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/portal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/internal/web"
)

// TestSecureCookiesBehindProxy: behind a trusted proxy that terminated TLS
// (X-Forwarded-Proto: https from an address of FISCAL_TRUSTED_PROXIES) the
// portal's cookies are Secure; the same header from any other peer changes
// nothing (no Secure, no HSTS).
func TestSecureCookiesBehindProxy(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		if err := db.CreateMunicipality(context.Background(), &fiscal.Municipality{Slug: "timisoara", Name: "Municipiul Timișoara", Rank: "I", County: "Timiș"}); err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		p := portal.New(portal.Config{Logger: log}, portal.Deps{Users: db, Taxpayers: db, Vehicles: db, Tax: db, Clock: clock,
			Cases: db, PaymentList: db, Staff: db, Documents: db, Idempotency: db})
		trusted, _ := web.ParseTrustedProxies("127.0.0.1/32")
		deps := web.StoreDeps(db)
		deps.Clock = clock
		srv := web.New(web.Config{DefaultMunicipality: "timisoara", Logger: log, Mount: p.Mount, TrustedProxies: trusted}, deps)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.App().Listener(ln)
		t.Cleanup(func() { srv.Shutdown(5 * time.Second) })
		for _, tc := range []struct {
			from   string
			secure bool
		}{{"127.0.0.1", true}, {"127.0.0.2", false}} {
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(tc.from)}}
			c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
			req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/login", nil)
			req.Header.Set("X-Forwarded-Proto", "https")
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			cookies := res.Header.Values("Set-Cookie")
			if len(cookies) == 0 {
				t.Fatalf("from %s: no cookie set by /login", tc.from)
			}
			for _, ck := range cookies {
				if got := strings.Contains(ck, "; secure") || strings.Contains(ck, "; Secure"); got != tc.secure {
					t.Errorf("from %s with X-Forwarded-Proto https: cookie %q, Secure %v, want %v", tc.from, ck, got, tc.secure)
				}
			}
			if hsts := res.Header.Get("Strict-Transport-Security") != ""; hsts != tc.secure {
				t.Errorf("from %s: HSTS %v, want %v", tc.from, hsts, tc.secure)
			}
		}
	})
}
