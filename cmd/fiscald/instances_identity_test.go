package main

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"fiscald/internal/store/storetest"
)

// TestTwoServersDisableOfficer runs two `fiscald serve` processes on one
// database. The officer's token is used on both (each caches the session);
// the admin disables the officer through the first: the token is 401 on
// the next request on both, the officer cannot sign in on either, their open
// case is back in the queue (unassigned) and still verifies, signed by the
// key that is now revoked.
func TestTwoServersDisableOfficer(t *testing.T) {
	bin := buildBinary(t)
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			servers := serversOn(t, bin, storetest.DSN(t, engine), 2, nil)
			c := []*client{
				{base: servers[0].base, http: &http.Client{Timeout: 30 * time.Second}},
				{base: servers[1].base, http: &http.Client{Timeout: 30 * time.Second}},
			}
			admin := c[0].login(t, "admin", "cetate-demo-2026")
			officer := c[1].login(t, "ioana", "ghiseu-demo-2026")
			call := func(i int, method, path, token string, body any, want int) reply {
				t.Helper()
				r, err := c[i].do(method, path, token, body)
				if err != nil || r.status != want {
					t.Fatalf("server %d %s %s: %v %d %s, want %d", i+1, method, path, err, r.status, r.raw, want)
				}
				return r
			}
			me := call(1, "GET", "/api/v1/me", officer, nil, 200)
			officerID := strconv.FormatInt(int64(me.body["id"].(float64)), 10)
			tpID := call(0, "GET", "/api/v1/taxpayers?q=Popescu", admin, nil, 200).body["items"].([]any)[0].(map[string]any)["id"]
			cs := call(1, "POST", "/api/v1/cases", officer, map[string]any{"type": "petition", "taxpayer_id": tpID,
				"data": map[string]any{"subject": "Iluminat", "body": "Strada e întunecată"}}, 201)
			caseID := strconv.FormatInt(int64(cs.body["id"].(float64)), 10)
			if got := call(0, "GET", "/api/v1/cases/"+caseID, admin, nil, 200).body["assignee_id"]; got == nil || strconv.FormatInt(int64(got.(float64)), 10) != officerID {
				t.Fatalf("the case is assigned to %v, not the officer %s", got, officerID)
			}
			for i := range c { // the officer's session cached on both
				call(i, "GET", "/api/v1/me", officer, nil, 200)
				call(i, "GET", "/api/v1/me", officer, nil, 200)
			}

			call(0, "POST", "/api/v1/users/"+officerID+"/disable", admin, nil, 200)
			call(1, "GET", "/api/v1/me", officer, nil, 401)
			call(0, "GET", "/api/v1/me", officer, nil, 401)
			for i := range c {
				call(i, "POST", "/api/v1/auth/login", "", map[string]string{"username": "ioana", "password": "ghiseu-demo-2026"}, 401)
			}
			if got := call(1, "GET", "/api/v1/cases/"+caseID, admin, nil, 200).body["assignee_id"]; got != nil {
				t.Fatalf("the disabled officer's case is still assigned to %v", got)
			}
			if v := call(1, "GET", "/api/v1/cases/"+caseID+"/verify", admin, nil, 200); v.body["valid"] != true {
				t.Fatalf("the case no longer verifies: %s", v.raw)
			}
			for _, s := range servers {
				s.stop()
			}
		})
	}
}
