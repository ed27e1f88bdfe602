package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/internal/web"
)

// proxyServer runs a server on db (with the municipality timisoara) trusting the proxies, with a /whoami
// route answering ClientIP and Protocol, and returns its base URL.
func proxyServer(t *testing.T, db *store.DB, clock fiscal.Clock, trusted string, instances int) string {
	t.Helper()
	prefixes, err := web.ParseTrustedProxies(trusted)
	if err != nil {
		t.Fatal(err)
	}
	deps := web.StoreDeps(db)
	deps.Clock = clock
	srv := web.New(web.Config{DefaultMunicipality: "timisoara", TrustedProxies: prefixes, Instances: instances,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Mount: func(app *fiber.App, s *web.Server) {
			app.Get("/whoami", func(c *fiber.Ctx) error { return c.SendString(s.ClientIP(c) + " " + c.Protocol()) })
		}}, deps)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.App().Listener(ln)
	t.Cleanup(func() { srv.Shutdown(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

// keepAlive is a client from the loopback address ip reusing its connections.
func keepAlive(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}}
}

func send(t *testing.T, c *http.Client, method, url, body string, headers ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// quotes sends n tax quotes through c, the i-th forwarded for xff(i) (no
// header when it returns ""), to the bases in turn, and counts the answers
// by status.
func quotes(t *testing.T, c *http.Client, bases []string, n int, xff func(i int) string) map[int]int {
	t.Helper()
	got := map[int]int{}
	for i := 0; i < n; i++ {
		var h []string
		if v := xff(i); v != "" {
			h = []string{"X-Forwarded-For", v}
		}
		st, _, body := send(t, c, "POST", bases[i%len(bases)]+"/api/v1/tax/quote", contractQuote, h...)
		if st != 200 && st != 429 {
			t.Fatalf("quote %d: %d %s", i, st, body)
		}
		got[st]++
	}
	return got
}

// TestClientAddressBehindProxy: behind a trusted proxy (127.0.0.1 here),
// 700 quotes a minute from one client address are limited at 600 (the
// default FISCAL_PUBLIC_RATE_LIMIT) and 700 from 700 client addresses are
// not; a peer that is not a trusted proxy cannot choose its address with
// X-Forwarded-For, nor its scheme with X-Forwarded-Proto; a client's own
// X-Forwarded-For entries, to the left of the proxy's, are ignored.
func TestClientAddressBehindProxy(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		storetest.Municipality(t, db, "timisoara")
		base := proxyServer(t, db, clock, "127.0.0.1/32, 10.9.0.0/16", 1)
		proxy := keepAlive("127.0.0.1")
		one := quotes(t, proxy, []string{base}, 700, func(int) string { return "198.51.100.7" })
		if one[200] != 600 || one[429] != 100 {
			t.Fatalf("700 quotes from one client behind the proxy: %v, want 600 answered and 100 refused", one)
		}
		many := quotes(t, proxy, []string{base}, 700, func(i int) string { return fmt.Sprintf("203.0.%d.%d", i/250, i%250+1) })
		if many[200] != 700 {
			t.Fatalf("700 quotes from 700 clients behind the proxy: %v, want all answered", many)
		}
		// A peer that is no proxy: its X-Forwarded-For is ignored, so the
		// 700 addresses it claims are one, its own.
		direct := keepAlive("127.0.0.2")
		spoof := quotes(t, direct, []string{base}, 700, func(i int) string { return fmt.Sprintf("192.0.2.%d", i%250+1) })
		if spoof[200] != 600 || spoof[429] != 100 {
			t.Fatalf("700 quotes from an untrusted peer claiming 700 addresses: %v, want 600 and 100", spoof)
		}
		for _, tc := range []struct {
			client *http.Client
			xff    []string
			proto  string
			want   string
		}{
			{direct, []string{"198.51.100.7"}, "https", "127.0.0.2 http"},
			{proxy, nil, "", "127.0.0.1 http"},
			{proxy, []string{"198.51.100.7"}, "https", "198.51.100.7 https"},
			// The client wrote "6.6.6.6" itself; the proxy appended its peer.
			{proxy, []string{"6.6.6.6, 198.51.100.7"}, "", "198.51.100.7 http"},
			// Two proxies: the inner one (10.9.0.1) trusted, skipped.
			{proxy, []string{"6.6.6.6, 198.51.100.8, 10.9.0.1"}, "", "198.51.100.8 http"},
			// Two headers are one list.
			{proxy, []string{"6.6.6.6", "198.51.100.9"}, "", "198.51.100.9 http"},
			{proxy, []string{"[2001:db8::1]:443"}, "", "2001:db8::1 http"},
			// Every hop trusted: the left-most.
			{proxy, []string{"10.9.0.2, 10.9.0.1"}, "", "10.9.0.2 http"},
			// Garbage from a trusted hop: the last good hop.
			{proxy, []string{"198.51.100.7, not-an-address"}, "", "127.0.0.1 http"},
		} {
			var h []string
			for _, v := range tc.xff {
				h = append(h, "X-Forwarded-For", v)
			}
			if tc.proto != "" {
				h = append(h, "X-Forwarded-Proto", tc.proto)
			}
			st, hdr, body := send(t, tc.client, "GET", base+"/whoami", "", h...)
			if st != 200 || body != tc.want {
				t.Errorf("X-Forwarded-For %q: %d %q, want %q", tc.xff, st, body, tc.want)
			}
			if hsts := hdr.Get("Strict-Transport-Security") != ""; hsts != strings.HasSuffix(tc.want, "https") {
				t.Errorf("X-Forwarded-Proto %q with %q: HSTS %v", tc.proto, tc.want, hsts)
			}
		}
	})
}

// TestLimitsSharedByTwoServers: two servers on one database (two pools, as
// two instances) behind one proxy share the per-address limits: sign-ins
// per address (30 a minute) and the backoff of a username and address pair
// are counted in the database; the quote's 600 a minute is shared as 300
// per instance (FISCAL_INSTANCES=2).
func TestLimitsSharedByTwoServers(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			clock := fiscal.NewTestClock(storetest.Epoch)
			a, b := storetest.OpenPair(t, engine, clock)
			m := storetest.Municipality(t, a, "timisoara")
			if _, err := a.CreateStaff(context.Background(), m.ID, "ana", "Parola-lunga-2026", fiscal.RoleOfficer, "Ana"); err != nil {
				t.Fatal(err)
			}
			bases := []string{proxyServer(t, a, clock, "127.0.0.1", 2), proxyServer(t, b, clock, "127.0.0.1", 2)}
			proxy := keepAlive("127.0.0.1")
			login := func(i int, client, user, pw string) (int, http.Header) {
				body, _ := json.Marshal(map[string]string{"username": user, "password": pw})
				st, h, _ := send(t, proxy, "POST", bases[i%2]+"/api/v1/auth/login", string(body), "X-Forwarded-For", client)
				return st, h
			}
			// Spraying: 40 usernames from one client, alternately on both.
			got := map[int]int{}
			for i := 0; i < 40; i++ {
				st, _ := login(i, "198.51.100.20", fmt.Sprintf("user%d", i), "Parola-lunga-2026")
				got[st]++
			}
			if got[401] != 30 || got[429] != 10 {
				t.Fatalf("40 sign-ins from one client over two servers: %v, want 30 checked and 10 refused", got)
			}
			// Guessing one username: 5 free failures over both servers,
			// then the pair waits, on either server.
			for i := 0; i < 6; i++ {
				if st, _ := login(i, "198.51.100.21", "ana", "wrong-password-2026"); st != 401 {
					t.Fatalf("failure %d: %d", i+1, st)
				}
			}
			for i := 0; i < 2; i++ {
				if st, h := login(i, "198.51.100.21", "ana", "Parola-lunga-2026"); st != 429 || h.Get("Retry-After") == "" {
					t.Fatalf("after 6 failures, server %d: %d Retry-After %q", i, st, h.Get("Retry-After"))
				}
			}
			if st, _ := login(1, "198.51.100.22", "ana", "Parola-lunga-2026"); st != 200 {
				t.Fatalf("the owner from another address: %d", st)
			}
			// The public quote: 700 alternately on both servers, 300 each.
			q := quotes(t, proxy, bases, 700, func(int) string { return "198.51.100.23" })
			if q[200] != 600 || q[429] != 100 {
				t.Fatalf("700 quotes from one client over two servers: %v, want 600 and 100", q)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := web.ParseTrustedProxies(" 10.0.0.0/8, 127.0.0.1 ,::1, 192.168.1.7/24")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("192.168.1.0/24")}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%v, want %v", got, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "1.2.3"} {
		if _, err := web.ParseTrustedProxies(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestDrainTakesTheInstanceOut: after Drain (SIGTERM with
// FISCAL_SHUTDOWN_DRAIN), /readyz answers 503 with Retry-After, so a load
// balancer's health check takes the instance out, while other requests are
// still served, each closing its connection.
func TestDrainTakesTheInstanceOut(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		storetest.Municipality(t, db, "timisoara")
		deps := web.StoreDeps(db)
		deps.Clock = clock
		deps.SLA = func() fiscal.SLAReport { return fiscal.SLAReport{Checked: 9, Escalated: 2, Breached: 1} }
		srv := web.New(web.Config{DefaultMunicipality: "timisoara", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, deps)
		get := func(path string) *http.Response {
			res, err := srv.App().Test(httptestRequest("GET", path), -1)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		if r := get("/readyz"); r.StatusCode != 200 || r.Close {
			t.Fatalf("before the drain: %d close=%v", r.StatusCode, r.Close)
		}
		srv.Drain()
		if r := get("/readyz"); r.StatusCode != 503 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("draining /readyz: %d Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
		}
		if r := get("/healthz"); r.StatusCode != 200 || !r.Close {
			t.Fatalf("draining, other requests: %d close=%v (want 200, connection closed)", r.StatusCode, r.Close)
		}
		// The scraper's /metrics shows the database pool and the refusals
		// of the rate limits.
		rec := httptest.NewRecorder()
		srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		for _, want := range []string{`fiscald_db_pool_connections{state="in_use"} `, "fiscald_db_pool_waits_total ", "fiscald_rate_limited_total 0\n", "fiscald_outbox_pending 0\n", "fiscald_sla_escalations_total 2\n", "fiscald_sla_breaches_total 1\n",
			`fiscald_http_request_duration_seconds_bucket{method="GET",route="/readyz",le="0.1"} `} {
			if !strings.Contains(rec.Body.String(), want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
}

func httptestRequest(method, path string) *http.Request {
	req, _ := http.NewRequest(method, "http://fiscald.test"+path, nil)
	return req
}
