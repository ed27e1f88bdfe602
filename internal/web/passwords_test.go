package web_test

import (
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestPasswordRuleAtTheAPI: registration and the admins' staff API refuse
// the probe's passwords (aaaaaaaaaa, 1234567890, password12) and those
// holding the username, e-mail or CNP with 422 naming "password"; a long
// passphrase with spaces is taken and signs in. Usernames are unique
// case-folded and signing in ignores their case.
func TestPasswordRuleAtTheAPI(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		for _, pw := range []string{"aaaaaaaaaa", "1234567890", "password12", "PASSWORD12", "mihai-parola", "xmihai@example.ro",
			"1850315350012-x", "abcdefghijk", "qwertyuiop", "short", strings.Repeat("o frază ", 33)} {
			r := individual("mihai", "1850315350012")
			r["password"] = pw
			res := e.do("POST", "/api/v1/auth/register", "", r)
			if res.Status != 422 || res.Header["Content-Type"] != "application/problem+json" || strings.Join(fieldNames(res), ",") != "password" {
				t.Fatalf("register with %q: %d %s", pw, res.Status, res.Raw)
			}
		}
		staff := map[string]string{"username": "vlad", "password": "password12", "role": "officer", "full_name": "Vlad"}
		for _, pw := range []string{"password12", "vlad-2026-parola", "0987654321"} {
			staff["password"] = pw
			if r := e.do("POST", "/api/v1/users", e.tokens["admin"], staff); r.Status != 422 || strings.Join(fieldNames(r), ",") != "password" {
				t.Fatalf("staff with %q: %d %s", pw, r.Status, r.Raw)
			}
		}
		// A passphrase of 256 characters, spaces included.
		phrase := strings.Repeat("cal verde ", 25) + "bateri"
		if n := len([]rune(phrase)); n != fiscal.MaxPasswordLength {
			t.Fatalf("the passphrase has %d characters", n)
		}
		r := individual("mihai", "1850315350012")
		r["password"] = phrase
		if res := e.do("POST", "/api/v1/auth/register", "", r); res.Status != 201 {
			t.Fatalf("passphrase: %d %s", res.Status, res.Raw)
		}
		for _, u := range []string{"mihai", "MIHAI", "Mihai"} {
			e.login(u, phrase)
		}
		// MIHAI beside mihai: 409 naming the username.
		r = individual("MIHAI", "2850615350041")
		if res := e.do("POST", "/api/v1/auth/register", "", r); res.Status != 409 || strings.Join(fieldNames(res), ",") != "username" {
			t.Fatalf("MIHAI beside mihai: %d %s", res.Status, res.Raw)
		}
		staff["username"], staff["password"] = "Officer1", "parola-de-serviciu-2026"
		if res := e.do("POST", "/api/v1/users", e.tokens["admin"], staff); res.Status != 409 {
			t.Fatalf("Officer1 beside officer1: %d %s", res.Status, res.Raw)
		}
	})
}
