package portal_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// from makes the client's connections leave from the loopback address ip,
// so the server sees another client address.
func (c *client) from(ip string) *client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c.http.Transport = &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
	return c
}

// TestPortalSignInThrottle: the portal's form signs in through the API's
// SignIn, with the same backoff per username and address pair: wrong
// passwords in the form slow down that address in the form and in the API
// alike, and never the owner at another address.
func TestPortalSignInThrottle(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		s := startSite(t, db, clock)
		attacker := s.client().from("127.0.0.2")
		for i := 1; i <= 6; i++ {
			if p := attacker.login("ADMIN", "wrong-password-"+string(rune('a'+i))); p.Status != 401 {
				t.Fatalf("wrong password %d: %d", i, p.Status)
			}
		}
		if p := attacker.login("admin", staffPassword("admin")); p.Status != 429 {
			t.Fatalf("throttled pair, the form: %d", p.Status)
		}
		res, err := attacker.http.Post(s.URL+"/api/v1/auth/login", "application/json",
			strings.NewReader(`{"username":"admin","password":"`+staffPassword("admin")+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 429 {
			t.Fatalf("throttled pair, the API: %d", res.StatusCode)
		}
		if p := s.client().from("127.0.0.3").login("admin", staffPassword("admin")); p.Status != 303 || p.Location != "/staff" {
			t.Fatalf("the owner at another address: %d %s", p.Status, p.Location)
		}
	})
}
