package oidc

import (
	"slices"
	"testing"

	"fiscald/fiscal"
)

func TestParseScopes(t *testing.T) {
	for in, want := range map[string][]string{
		"":                          {"openid", "profile"},
		"openid profile":            {"openid", "profile"},
		"profile roeid-client":      {"openid", "profile", "roeid-client"},
		"openid,profile,email":      {"openid", "profile", "email"},
		"  openid   profile  extra": {"openid", "profile", "extra"},
	} {
		if got := ParseScopes(in); !slices.Equal(got, want) {
			t.Errorf("ParseScopes(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestIdentityClaims: ROeID's claim names first, the standard ones as the
// fallback; the configured CNP claim; a missing or invalid CNP is EINVALID
// naming cnp; an unverified e-mail is dropped.
func TestIdentityClaims(t *testing.T) {
	rp, err := New(Config{Issuer: "https://op", ClientID: "c", RedirectURL: "https://rp/cb", CNPClaim: "national_id"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := rp.identity("https://op", "s", map[string]any{"national_id": " 1960229460011 ", "nume": "Ionescu", "given_name": "Mihai",
		"address": map[string]any{"street_address": "Str. A 1", "locality": "Timișoara"}, "email": "m@example.ro", "email_verified": false})
	if err != nil {
		t.Fatal(err)
	}
	if id.CNP != "1960229460011" || id.Name() != "Ionescu Mihai" || id.Address != "Str. A 1, Timișoara" || id.Email != "" || id.Subject != "s" {
		t.Fatalf("%+v", id)
	}
	id, _ = rp.identity("https://op", "s", map[string]any{"national_id": "1960229460011", "adresa": "Bd. B 2", "address": map[string]any{"formatted": "ignored"}})
	if id.Address != "Bd. B 2" {
		t.Fatalf("ROeID's adresa first: %q", id.Address)
	}
	for _, claims := range []map[string]any{{"cnp": "1960229460011"}, {"national_id": "1960229460012"}, {"national_id": 1960229460011.0}} {
		_, err := rp.identity("https://op", "s", claims)
		var de *fiscal.Error
		if fiscal.ErrorCode(err) != fiscal.EINVALID || !errorAs(err, &de) || de.Fields[0].Field != "cnp" {
			t.Errorf("%v: %v", claims, err)
		}
	}
	if _, err := rp.identity("https://op", "", map[string]any{"national_id": "1960229460011"}); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
		t.Errorf("no subject: %v", err)
	}
}

func errorAs(err error, de **fiscal.Error) bool {
	e, ok := err.(*fiscal.Error)
	*de = e
	return ok
}

func TestNewNeedsIssuerClientRedirect(t *testing.T) {
	for _, c := range []Config{{ClientID: "c", RedirectURL: "r"}, {Issuer: "i", RedirectURL: "r"}, {Issuer: "i", ClientID: "c"}} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
