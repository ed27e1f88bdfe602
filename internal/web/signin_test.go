package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// fromAddress is an HTTP client whose connections leave from the loopback
// address ip (127.0.0.2, ...), so the server sees distinct clients.
func fromAddress(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// serve runs the env's server on a loopback listener and returns its base URL.
func (e *env) serve() string {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	go e.srv.App().Listener(ln)
	e.t.Cleanup(func() { e.srv.Shutdown(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

// signIn posts a sign-in and returns the status and Retry-After.
func signIn(t *testing.T, c *http.Client, base, username, password string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	res, err := c.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header.Get("Retry-After")
}

// TestSignInThrottleDoesNotLockOutOwner: wrong passwords slow down the
// address that sends them, for that username, with a backoff that doubles;
// the owner signing in from another address is never refused (before, ten
// wrong passwords from anywhere locked the account, the admin's included,
// for 15 minutes). Staff see it in /metrics and in the audit log (one entry
// per pair that became throttled, however many attempts follow).
func TestSignInThrottleDoesNotLockOutOwner(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		base := e.serve()
		attacker, owner := fromAddress("127.0.0.2"), fromAddress("127.0.0.3")

		// Five free failures, the sixth starts a 2 s backoff.
		for i := 1; i <= 6; i++ {
			if st, _ := signIn(t, attacker, base, "admin1", fmt.Sprintf("guess-guess-%d", i)); st != 401 {
				t.Fatalf("wrong password %d: %d, want 401", i, st)
			}
		}
		// Then the attacker's attempts are refused unchecked, even the
		// right password, and in any case of the username.
		for i, u := range []string{"admin1", "ADMIN1", "Admin1", "admin1"} {
			pw := "guess-again-" + u
			if i == 3 {
				pw = "password-admin"
			}
			st, retry := signIn(t, attacker, base, u, pw)
			if st != 429 || retry != "2" {
				t.Fatalf("throttled attempt %d (%s): %d Retry-After %q, want 429 and 2", i, u, st, retry)
			}
		}
		// The owner, from an address without failures: signed in.
		if st, _ := signIn(t, owner, base, "admin1", "password-admin"); st != 200 {
			t.Fatalf("the owner was refused: %d", st)
		}
		// Ten more attacks (the old per-account limit's count) change nothing for the owner.
		for i := 0; i < 10; i++ {
			signIn(t, attacker, base, "admin1", "guess")
		}
		if st, _ := signIn(t, owner, base, "admin1", "password-admin"); st != 200 {
			t.Fatalf("the owner was refused after more attacks: %d", st)
		}
		// The backoff doubles: after 2 s one more guess is checked (401),
		// then the pair waits 4 s.
		clock.Advance(2 * time.Second)
		if st, _ := signIn(t, attacker, base, "admin1", "guess-7"); st != 401 {
			t.Fatalf("after the backoff: %d, want 401", st)
		}
		if st, retry := signIn(t, attacker, base, "admin1", "guess-8"); st != 429 || retry != "4" {
			t.Fatalf("second backoff: %d %q, want 429 and 4", st, retry)
		}
		clock.Advance(4 * time.Second)
		// The right password from the attacker's address after its wait
		// signs in and clears the pair's failures.
		if st, _ := signIn(t, attacker, base, "admin1", "password-admin"); st != 200 {
			t.Fatalf("right password after the wait: %d", st)
		}
		for i := 1; i <= 5; i++ {
			if st, _ := signIn(t, attacker, base, "admin1", "nope"+fmt.Sprint(i)+"-nope-nope"); st != 401 {
				t.Fatalf("failures counted again from zero: %d at %d", st, i)
			}
		}

		// Staff see the spraying: counters in /metrics...
		m := e.do("GET", "/metrics", e.tokens["admin"], nil)
		for _, want := range []string{"fiscald_login_failures_total 12\n", "fiscald_login_throttled_total 15\n"} {
			if !strings.Contains(string(m.Raw), want) {
				t.Fatalf("metrics lack %q:\n%s", strings.TrimSpace(want), m.Raw)
			}
		}
		// ... and one audit entry for the pair that became throttled.
		var entries []struct {
			Actor string `db:"actor"`
			ID    string `db:"entity_id"`
			After string `db:"after_json"`
		}
		if err := db.SQL().Select(&entries, db.SQL().Rebind(`SELECT actor, entity_id, after_json FROM audit_log WHERE municipality_id = ? AND action = 'user.signin_throttled'`), e.muni.ID); err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].ID != "admin1" || !strings.Contains(entries[0].After, `"address":"127.0.0.2"`) || !strings.Contains(entries[0].After, `"failures":6`) {
			t.Fatalf("audit entries of throttled sign-ins: %+v", entries)
		}
		if r := e.do("GET", "/api/v1/audit/verify", e.tokens["admin"], nil); r.Status != 200 || r.Body["valid"] != true {
			t.Fatalf("audit chain: %d %s", r.Status, r.Raw)
		}
	})
}

// TestSignInSprayingLimitedPerAddress: one address trying one password over
// many usernames meets the per-address limit (30 a minute).
func TestSignInSprayingLimitedPerAddress(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		base := e.serve()
		sprayer := fromAddress("127.0.0.4")
		for i := 1; i <= 30; i++ {
			if st, _ := signIn(t, sprayer, base, fmt.Sprintf("user%d", i), "Parola-2026!"); st != 401 {
				t.Fatalf("attempt %d: %d", i, st)
			}
		}
		if st, _ := signIn(t, sprayer, base, "user31", "Parola-2026!"); st != 429 {
			t.Fatalf("31st attempt in a minute: %d, want 429", st)
		}
		if st, _ := signIn(t, fromAddress("127.0.0.5"), base, "admin1", "password-admin"); st != 200 {
			t.Fatalf("another address: %d", st)
		}
	})
}
