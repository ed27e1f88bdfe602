package testroeid

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestLoopbackOnly: the test provider refuses any address but loopback.
func TestLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:0"} {
		if s, err := Start(Config{Addr: addr, ClientID: "c", ClientSecret: "s"}); err == nil {
			s.Close()
			t.Errorf("%s accepted", addr)
		}
	}
}

// TestDiscovery: the discovery document names exactly the issuer the
// tokens carry, code flow with S256.
func TestDiscovery(t *testing.T) {
	s, err := Start(Config{ClientID: "c", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := http.Get(s.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var d struct {
		Issuer  string   `json:"issuer"`
		Methods []string `json:"code_challenge_methods_supported"`
		JWKS    string   `json:"jwks_uri"`
	}
	if err := json.NewDecoder(res.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Issuer != s.Issuer || len(d.Methods) == 0 || d.Methods[0] != "S256" || d.JWKS == "" {
		t.Fatalf("%+v (issuer %s)", d, s.Issuer)
	}
}
