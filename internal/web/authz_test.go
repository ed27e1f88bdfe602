package web_test

import (
	"regexp"
	"slices"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

var pathParam = regexp.MustCompile(`:[A-Za-z_]+`)

// TestAuthorizationMatrix walks the router's own table: every non-public
// route refuses anonymous callers and forged tokens (401), and every route
// limited to roles refuses each other role (403) before doing anything.
func TestAuthorizationMatrix(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		reg := e.do("POST", "/api/v1/auth/register", "", individual("ana", "2850615350041"))
		if reg.Status != 201 {
			t.Fatal(reg.Status)
		}
		e.tokens["taxpayer"] = e.login("ana", "parola-lunga-1")
		allRoles := []fiscal.Role{fiscal.RoleTaxpayer, fiscal.RoleOfficer, fiscal.RoleSigner, fiscal.RoleAccountant, fiscal.RoleAdmin}
		checked := 0
		for _, r := range e.srv.RouteTable() {
			path := pathParam.ReplaceAllString(r.Path, "1")
			if r.Access.Public {
				continue
			}
			if got := e.do(r.Method, path, "", "{}"); got.Status != 401 {
				t.Errorf("%s %s anonymous: %d, want 401", r.Method, r.Path, got.Status)
			}
			if got := e.do(r.Method, path, "forged", "{}"); got.Status != 401 {
				t.Errorf("%s %s forged token: %d, want 401", r.Method, r.Path, got.Status)
			}
			checked++
			if len(r.Access.Roles) == 0 {
				continue
			}
			for _, role := range allRoles {
				if slices.Contains(r.Access.Roles, role) {
					continue
				}
				if got := e.do(r.Method, path, e.tokens[string(role)], "{}"); got.Status != 403 {
					t.Errorf("%s %s as %s: %d, want 403", r.Method, r.Path, role, got.Status)
				}
			}
		}
		if checked < 5 {
			t.Fatalf("only %d protected routes checked", checked)
		}
	})
}
