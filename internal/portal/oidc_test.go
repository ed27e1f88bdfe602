package portal_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"fiscald/fiscal"
	"fiscald/internal/oidc"
	"fiscald/internal/portal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// fakeOP is an OpenID provider on a loopback port for the callback's
// failure table: discovery, JWKS, an authorization endpoint that answers at
// once (no login page: internal/testroeid has one) and a token endpoint
// that checks the PKCE verifier and signs the ID token the case shapes.
type fakeOP struct {
	t      testing.TB
	srv    *httptest.Server
	key    *rsa.PrivateKey // in the JWKS
	rogue  *rsa.PrivateKey // not in the JWKS
	clock  fiscal.Clock
	mu     sync.Mutex
	codes  map[string]authReq // code → its authorization request
	shape  func(claims map[string]any) (signWith *rsa.PrivateKey)
	claims map[string]any // the person's claims
}

// set gives the next tokens' claims and shape.
func (op *fakeOP) set(claims map[string]any, shape func(map[string]any) *rsa.PrivateKey) {
	op.mu.Lock()
	op.claims, op.shape = claims, shape
	op.mu.Unlock()
}

type authReq struct{ nonce, challenge, redirect, state string }

func startFakeOP(t testing.TB, clock fiscal.Clock) *fakeOP {
	op := &fakeOP{t: t, clock: clock, codes: map[string]authReq{}}
	var err error
	if op.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if op.rogue, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": op.srv.URL, "authorization_endpoint": op.srv.URL + "/authorize",
			"token_endpoint": op.srv.URL + "/token", "jwks_uri": op.srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"}})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &op.key.PublicKey, KeyID: "good", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
			http.Error(w, "no PKCE, nonce or state", 400)
			return
		}
		code := base64.RawURLEncoding.EncodeToString([]byte(q.Get("state")))[:20]
		op.mu.Lock()
		op.codes[code] = authReq{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), state: q.Get("state")}
		op.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		op.mu.Lock()
		ar, ok := op.codes[r.Form.Get("code")]
		op.mu.Unlock()
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != ar.challenge {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		now := op.clock.Now()
		claims := map[string]any{"iss": op.srv.URL, "sub": "person-1", "aud": "fiscald", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": ar.nonce}
		op.mu.Lock()
		person, shape := op.claims, op.shape
		op.mu.Unlock()
		for k, v := range person {
			claims[k] = v
		}
		signWith := op.key
		if shape != nil {
			if k := shape(claims); k != nil {
				signWith = k
			}
		}
		kid := "good"
		if signWith != op.key {
			kid = "rogue"
		}
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: signWith}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
		if err != nil {
			t.Error(err)
			return
		}
		payload, _ := json.Marshal(claims)
		jws, err := sig.Sign(payload)
		if err != nil {
			t.Error(err)
			return
		}
		raw, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + r.Form.Get("code"), "token_type": "Bearer", "expires_in": 300, "id_token": raw})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	op.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	op.srv.Start()
	t.Cleanup(op.srv.Close)
	return op
}

// oidcSite starts the site with the relying party pointed at the issuer.
func oidcSite(t *testing.T, db *store.DB, clock *fiscal.TestClock, issuer string, redirect *string) *site {
	var rp *oidc.RP
	s := startSiteWith(t, db, clock, "", func(d *portal.Deps) {
		// The redirect URL names the site's port, known once it listens:
		// the relying party reads it at the first sign-in.
		var err error
		rp, err = oidc.New(oidc.Config{Issuer: issuer, ClientID: "fiscald", ClientSecret: "secret", RedirectURL: "http://placeholder/auth/oidc/callback",
			Clock: clock, Logger: quietLog()})
		if err != nil {
			t.Fatal(err)
		}
		d.OIDC, d.SignIns = rp, db
	})
	rp.SetRedirectURL(s.URL + "/auth/oidc/callback")
	if redirect != nil {
		*redirect = s.URL + "/auth/oidc/callback"
	}
	return s
}

// startOIDC follows /auth/oidc/login to the provider and returns the
// callback URL the provider sent the browser to.
func (c *client) startOIDC() string {
	c.t.Helper()
	p := c.get("/auth/oidc/login")
	if p.Status != 303 || p.Location == "" {
		c.t.Fatalf("/auth/oidc/login: %d %s", p.Status, p.Body)
	}
	res, err := c.http.Get(p.Location)
	if err != nil {
		c.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 302 {
		c.t.Fatalf("authorize: %d", res.StatusCode)
	}
	return res.Header.Get("Location")
}

func (c *client) callback(u string) page {
	c.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return c.do(req)
}

func (c *client) hasSession() bool {
	u, _ := url.Parse(c.s.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "fiscald_session" && ck.Value != "" {
			return true
		}
	}
	return false
}

func countSessions(t *testing.T, db *store.DB) int {
	var n int
	if err := db.SQL().GetContext(context.Background(), &n, `SELECT COUNT(*) FROM sessions`); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOIDCCallbackFailures is the failure table of the sign-in with the
// identity provider: each signs nobody in, opens no session, and shows its
// own page in Romanian (and English); a good answer signs in.
func TestOIDCCallbackFailures(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		op := startFakeOP(t, clock)
		s := oidcSite(t, db, clock, op.srv.URL, nil)
		person := map[string]any{"cnp": "1960229460011", "nume": "Ionescu", "prenume": "Mihai", "address": "Str. Alba Iulia 2, Timișoara"}
		cases := []struct {
			name   string
			claims func(map[string]any)
			shape  func(map[string]any) *rsa.PrivateKey
			// mangle changes the callback URL or the browser before it.
			mangle func(c *client, u string) string
			status int
			want   string
			check  string // the ID token's check named on the page
		}{
			{name: "missing CNP", claims: func(m map[string]any) { delete(m, "cnp") }, status: 422, want: "nu a transmis codul numeric personal"},
			{name: "invalid CNP", claims: func(m map[string]any) { m["cnp"] = "1960229460012" }, status: 422, want: "nu este valid"},
			{name: "bad nonce", shape: func(m map[string]any) *rsa.PrivateKey { m["nonce"] = "another"; return nil }, status: 401, want: "nu a putut fi verificat", check: "nonce"},
			{name: "wrong audience", shape: func(m map[string]any) *rsa.PrivateKey { m["aud"] = "another-client"; return nil }, status: 401, want: "nu a putut fi verificat", check: "audience"},
			{name: "wrong issuer", shape: func(m map[string]any) *rsa.PrivateKey { m["iss"] = op.srv.URL + "/"; return nil }, status: 401, want: "nu a putut fi verificat", check: "issuer"},
			{name: "expired token", shape: func(m map[string]any) *rsa.PrivateKey {
				m["iat"], m["exp"] = clock.Now().Add(-time.Hour).Unix(), clock.Now().Add(-time.Minute).Unix()
				return nil
			}, status: 401, want: "nu a putut fi verificat", check: "expired"},
			{name: "unknown signing key", shape: func(m map[string]any) *rsa.PrivateKey { return op.rogue }, status: 401, want: "nu a putut fi verificat", check: "signature"},
			{name: "provider error", mangle: func(c *client, u string) string {
				q, _ := url.Parse(u)
				return s.URL + "/auth/oidc/callback?error=access_denied&state=" + url.QueryEscape(q.Query().Get("state"))
			}, status: 401, want: "a refuzat autentificarea (access_denied)"},
			{name: "state of another browser", mangle: func(c *client, u string) string {
				jar := c.http.Jar
				base, _ := url.Parse(s.URL)
				jar.SetCookies(base, []*http.Cookie{{Name: "fiscald_oidc", Value: "", Path: "/", MaxAge: -1}})
				return u
			}, status: 401, want: "în alt browser"},
			{name: "unknown state", mangle: func(c *client, u string) string {
				base, _ := url.Parse(s.URL)
				c.http.Jar.SetCookies(base, []*http.Cookie{{Name: "fiscald_oidc", Value: "forged", Path: "/"}})
				return s.URL + "/auth/oidc/callback?code=x&state=forged"
			}, status: 401, want: "deja folosită sau a expirat"},
			{name: "expired state", mangle: func(c *client, u string) string {
				clock.Set(clock.Now().Add(11 * time.Minute))
				return u
			}, status: 401, want: "deja folosită sau a expirat"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				claims := map[string]any{}
				for k, v := range person {
					claims[k] = v
				}
				if tc.claims != nil {
					tc.claims(claims)
				}
				op.set(claims, tc.shape)
				before := countSessions(t, db)
				c := s.client()
				u := c.startOIDC()
				if tc.mangle != nil {
					u = tc.mangle(c, u)
				}
				p := c.callback(u)
				if p.Status != tc.status || !strings.Contains(p.Body, tc.want) || !strings.Contains(p.Body, `id="oidc-error"`) {
					t.Fatalf("%d, want %d with %q:\n%s", p.Status, tc.status, tc.want, p.Body)
				}
				if tc.check != "" && !strings.Contains(p.Body, "Verificarea care nu a trecut: "+tc.check+".") {
					t.Fatalf("the page does not name the check %q", tc.check)
				}
				if c.hasSession() || countSessions(t, db) != before {
					t.Fatal("a failed sign-in left a session")
				}
				if p := c.get("/account"); p.Status != 303 || !strings.HasPrefix(p.Location, "/login") {
					t.Fatalf("after a failed sign-in /account: %d %s", p.Status, p.Location)
				}
			})
		}
		// The same failure in English.
		op.set(map[string]any{"nume": "Ionescu"}, nil)
		c := s.client()
		c.get("/?lang=en")
		if p := c.callback(c.startOIDC()); p.Status != 422 || !strings.Contains(p.Body, "did not send the personal numeric code") {
			t.Fatalf("English page: %d %s", p.Status, p.Body)
		}

		// A good answer signs in, once: the same callback again (a replayed
		// state, with the browser's cookie put back) signs nobody in.
		op.set(person, nil)
		c = s.client()
		u := c.startOIDC()
		p := c.callback(u)
		if p.Status != 303 || p.Location != "/account" || !c.hasSession() {
			t.Fatalf("good sign-in: %d %s %s", p.Status, p.Location, p.Body)
		}
		if p := c.get("/account"); p.Status != 200 || !strings.Contains(p.Body, "Ionescu Mihai") || !strings.Contains(p.Body, "1960229460011") {
			t.Fatalf("account after the sign-in: %d", p.Status)
		}
		replay := s.client()
		q, _ := url.Parse(u)
		base, _ := url.Parse(s.URL)
		replay.http.Jar.SetCookies(base, []*http.Cookie{{Name: "fiscald_oidc", Value: q.Query().Get("state"), Path: "/"}})
		before := countSessions(t, db)
		if p := replay.callback(u); p.Status != 401 || !strings.Contains(p.Body, "deja folosită") || replay.hasSession() || countSessions(t, db) != before {
			t.Fatalf("replayed state: %d %s", p.Status, p.Body)
		}
	})
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(testLog, nil)) }
