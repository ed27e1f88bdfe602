package web_test

import (
	"log/slog"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/internal/web"
)

// TestEnrollmentAPI: who may issue a code (officer, admin; 401/403 for the
// others), the code shown once (no-store), enrollment answers 201 with the
// existing record and a verified account, 400/422 for malformed and wrong
// input, a used code 422, a CNP on file still 409 on self-registration with
// the way to enroll, and 429 once the address is over its attempts.
func TestEnrollmentAPI(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		reg := e.do("POST", "/api/v1/auth/register", "", individual("mihai", "1850315350012"))
		if reg.Status != 201 {
			t.Fatalf("register: %d %s", reg.Status, reg.Raw)
		}
		taxpayerTok := e.login("mihai", "parola-lunga-1")
		r := e.do("POST", "/api/v1/taxpayers", e.tokens["officer"], map[string]any{"kind": "individual", "cnp": "2850615350041", "name": "Ana Popescu", "address": "Str. Alba Iulia 2"})
		if r.Status != 201 {
			t.Fatalf("taxpayer on file: %d %s", r.Status, r.Raw)
		}
		anaID := int64(r.Body["id"].(float64))
		path := "/api/v1/taxpayers/" + itoa(anaID) + "/enrollment-codes"

		for who, want := range map[string]int{"": 401, "signer": 403, "accountant": 403} {
			if r := e.do("POST", path, e.tokens[who], nil); r.Status != want {
				t.Fatalf("%q issued a code: %d %s", who, r.Status, r.Raw)
			}
		}
		if r := e.do("POST", path, taxpayerTok, nil); r.Status != 403 {
			t.Fatalf("a taxpayer issued a code: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/v1/taxpayers/999999/enrollment-codes", e.tokens["officer"], nil); r.Status != 404 {
			t.Fatalf("unknown taxpayer: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", path, e.tokens["admin"], nil); r.Status != 201 {
			t.Fatalf("admin: %d %s", r.Status, r.Raw)
		}
		r = e.do("POST", path, e.tokens["officer"], nil)
		if r.Status != 201 || r.Header["Cache-Control"] != "no-store" || r.Body["expires_on"] == nil {
			t.Fatalf("officer: %d %v %s", r.Status, r.Header, r.Raw)
		}
		code := r.Body["code"].(string)

		enroll := func(body any) resp { return e.do("POST", "/api/v1/auth/enroll", "", body) }
		req := func(code, cnp, username string) map[string]any {
			return map[string]any{"code": code, "cnp": cnp, "username": username, "password": "parola-lunga-1", "email": username + "@example.ro"}
		}
		if r := enroll(`{"code":`); r.Status != 400 {
			t.Fatalf("malformed: %d", r.Status)
		}
		if r := enroll(map[string]any{"cnp": "2850615350041", "username": "ana", "password": "parola-lunga-1", "email": "a@example.ro"}); r.Status != 422 || strings.Join(fieldNames(r), ",") != "code" {
			t.Fatalf("no code: %d %s", r.Status, r.Raw)
		}
		both := req(code, "2850615350041", "ana")
		both["cui"] = "RO18547290"
		if r := enroll(both); r.Status != 422 {
			t.Fatalf("CNP and CUI: %d %s", r.Status, r.Raw)
		}
		if r := enroll(req("AAAA-BBBB-CCCC-DDDD", "2850615350041", "ana")); r.Status != 422 || strings.Join(fieldNames(r), ",") != "code" {
			t.Fatalf("wrong code: %d %s", r.Status, r.Raw)
		}
		if r := enroll(req(code, "1850315350012", "ana")); r.Status != 422 || strings.Join(fieldNames(r), ",") != "code" {
			t.Fatalf("another CNP: %d %s", r.Status, r.Raw)
		}
		r = enroll(req(code, "2850615350041", "ana"))
		if r.Status != 201 {
			t.Fatalf("enroll: %d %s", r.Status, r.Raw)
		}
		user, tp := r.Body["user"].(map[string]any), r.Body["taxpayer"].(map[string]any)
		if user["assurance"] != "verified" || int64(tp["id"].(float64)) != anaID || int64(user["taxpayer_id"].(float64)) != anaID {
			t.Fatalf("enrolled: %s", r.Raw)
		}
		anaTok := e.login("ana", "parola-lunga-1")
		if r := e.do("GET", "/api/v1/taxpayers/"+itoa(anaID), anaTok, nil); r.Status != 200 {
			t.Fatalf("the enrolled taxpayer's record: %d", r.Status)
		}
		if r := e.do("GET", "/api/v1/me", taxpayerTok, nil); r.Body["assurance"] == "verified" || r.Body["assurance"] == nil {
			t.Fatalf("a self-registered account: %s", r.Raw)
		}
		if r := enroll(req(code, "2850615350041", "ana2")); r.Status != 422 {
			t.Fatalf("used code: %d %s", r.Status, r.Raw)
		}

		// Self-registration of the CNP on file: 409 saying how to enroll.
		r = e.do("POST", "/api/v1/auth/register", "", individual("squatter", "2850615350041"))
		if r.Status != 409 || !strings.Contains(r.Body["detail"].(string), "/api/v1/auth/enroll") || !strings.Contains(r.Body["detail"].(string), "ROeID") {
			t.Fatalf("register a CNP on file: %d %s", r.Status, r.Raw)
		}

		// The address's attempts: 429 within the limit's count.
		n := 0
		for ; n < fiscal.EnrollAttemptsPerAddress+1; n++ {
			if r = enroll(req("AAAA-BBBB-CCCC-DDD"+string(rune('A'+n%20)), "1900101350014", "xyz")); r.Status == 429 {
				break
			}
		}
		if r.Status != 429 || r.Header["Content-Type"] != "application/problem+json" {
			t.Fatalf("after %d attempts: %d %s", n, r.Status, r.Raw)
		}
	})
}

// TestStaffAccountsAPI: two servers on one database (two instances). An
// admin disables an officer through one; the officer's token, cached by
// both, is 401 on the next request on both. Who may not: anonymous 401,
// officer and signer 403; bad input 422 naming the field; an admin cannot
// disable themself (409); role and password changes end sessions too.
func TestStaffAccountsAPI(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			clock := fiscal.NewTestClock(storetest.Epoch)
			db1, db2 := storetest.OpenPair(t, engine, clock)
			e1 := newEnv(t, db1, clock)
			deps := web.StoreDeps(db2)
			deps.Clock = clock
			e2 := &env{t: t, db: db2, muni: e1.muni, tokens: e1.tokens,
				srv: web.New(web.Config{DefaultMunicipality: "timisoara", Logger: slog.New(slog.NewTextHandler(testLog, nil))}, deps)}
			id := func(tok string) string {
				r := e1.do("GET", "/api/v1/me", tok, nil)
				return itoa(int64(r.Body["id"].(float64)))
			}
			officer, signer, admin := e1.tokens["officer"], e1.tokens["signer"], e1.tokens["admin"]
			officerID, signerID, adminID := id(officer), id(signer), id(admin)
			for _, e := range []*env{e1, e2} { // the officer's session cached on both
				if r := e.do("GET", "/api/v1/me", officer, nil); r.Status != 200 {
					t.Fatalf("me: %d", r.Status)
				}
			}
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{"POST", "/api/v1/users/" + officerID + "/disable", nil},
				{"POST", "/api/v1/users/" + officerID + "/enable", nil},
				{"PUT", "/api/v1/users/" + officerID + "/role", map[string]string{"role": "admin"}},
				{"POST", "/api/v1/users/" + officerID + "/password", map[string]string{"password": "un pinguin pe bicicletă"}},
			} {
				for tok, want := range map[string]int{"": 401, officer: 403, signer: 403} {
					if r := e2.do(c.method, c.path, tok, c.body); r.Status != want {
						t.Fatalf("%s %s: %d, want %d", c.method, c.path, r.Status, want)
					}
				}
			}
			if r := e1.do("PUT", "/api/v1/users/"+signerID+"/role", admin, map[string]string{"role": "taxpayer"}); r.Status != 422 || strings.Join(fieldNames(r), ",") != "role" {
				t.Fatalf("role taxpayer: %d %s", r.Status, r.Raw)
			}
			if r := e1.do("POST", "/api/v1/users/"+signerID+"/password", admin, map[string]string{"password": "password123"}); r.Status != 422 || strings.Join(fieldNames(r), ",") != "password" {
				t.Fatalf("weak password: %d %s", r.Status, r.Raw)
			}
			if r := e1.do("POST", "/api/v1/users/"+adminID+"/disable", admin, nil); r.Status != 409 {
				t.Fatalf("disable oneself: %d %s", r.Status, r.Raw)
			}
			if r := e1.do("POST", "/api/v1/users/999999/disable", admin, nil); r.Status != 404 {
				t.Fatalf("unknown user: %d %s", r.Status, r.Raw)
			}
			if r := e2.do("GET", "/api/v1/me", officer, nil); r.Status != 200 {
				t.Fatalf("refused changes ended a session: %d", r.Status)
			}

			r := e1.do("POST", "/api/v1/users/"+officerID+"/disable", admin, nil)
			if r.Status != 200 || r.Body["disabled"] != true {
				t.Fatalf("disable: %d %s", r.Status, r.Raw)
			}
			for i, e := range []*env{e2, e1} {
				if r := e.do("GET", "/api/v1/me", officer, nil); r.Status != 401 {
					t.Fatalf("server %d after disable: %d, want 401 at once", 2-i, r.Status)
				}
			}
			if r := e2.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "officer1", "password": "password-officer"}); r.Status != 401 {
				t.Fatalf("a disabled officer signed in: %d", r.Status)
			}
			if r := e2.do("POST", "/api/v1/users/"+officerID+"/enable", admin, nil); r.Status != 200 || r.Body["disabled"] != false {
				t.Fatalf("enable: %d %s", r.Status, r.Raw)
			}
			e2.login("officer1", "password-officer")

			// A role change ends the signer's sessions on both servers.
			e2.do("GET", "/api/v1/me", signer, nil)
			if r := e1.do("PUT", "/api/v1/users/"+signerID+"/role", admin, map[string]string{"role": "accountant"}); r.Status != 200 || r.Body["role"] != "accountant" {
				t.Fatalf("role: %d %s", r.Status, r.Raw)
			}
			if r := e2.do("GET", "/api/v1/me", signer, nil); r.Status != 401 {
				t.Fatalf("after a role change: %d", r.Status)
			}
			if r := e2.do("POST", "/api/v1/users/"+signerID+"/password", admin, map[string]string{"password": "un pinguin pe bicicletă"}); r.Status != 200 {
				t.Fatalf("password: %d %s", r.Status, r.Raw)
			}
			e1.login("signer1", "un pinguin pe bicicletă")
		})
	}
}
