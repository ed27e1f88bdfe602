package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestDisableOfficerTwoInstances: an officer signed in and cached on two
// instances is disabled on one: their token is refused on the next request
// on both (no clock advance), they cannot sign in, their open case is back
// in the queue in the same transaction, their signing key is revoked for
// new steps while the step they signed still verifies; enabled again, they
// sign with a new key and the case verifies throughout.
func TestDisableOfficerTwoInstances(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			clock := fiscal.NewTestClock(storetest.Epoch)
			db1, db2 := storetest.OpenPair(t, engine, clock)
			m := storetest.Municipality(t, db1, "timisoara")
			admin, _ := storetest.Staff(t, db1, m, "admin1", fiscal.RoleAdmin)
			officer, o := storetest.Staff(t, db1, m, "officer1", fiscal.RoleOfficer)
			ctx := context.Background()
			ana := onFile(t, db1, officer, "2850615350041", "Ana Popescu")
			c, err := db1.CreateCase(officer, &fiscal.NewCase{Type: "petition", TaxpayerID: ana.ID, Data: json.RawMessage(`{"subject":"Iluminat","body":"Strada e întunecată"}`)})
			if err != nil {
				t.Fatal(err)
			}
			if c.AssigneeID == nil || *c.AssigneeID != o.ID {
				t.Fatalf("case not assigned to the officer: %+v", c.AssigneeID)
			}
			if _, err := db1.Review(officer, c.ID, &fiscal.Decision{Decision: "request_info", Comment: "Ce stradă?"}); err != nil {
				t.Fatal(err)
			}

			s, err := db1.Login(ctx, m.ID, "officer1", storetest.StaffPassword)
			if err != nil {
				t.Fatal(err)
			}
			for _, db := range []*store.DB{db1, db2} { // cached on both
				for range 2 {
					if _, err := db.Authenticate(ctx, s.Token); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, err := db2.DisableUser(officer, o.ID); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
				t.Fatalf("an officer disabled an account: %v", err)
			}
			u, err := db1.DisableUser(admin, o.ID)
			if err != nil || !u.Disabled {
				t.Fatalf("disable: %+v %v", u, err)
			}
			for i, db := range []*store.DB{db1, db2} {
				if _, err := db.Authenticate(ctx, s.Token); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
					t.Fatalf("instance %d after disable: %v, want EUNAUTHORIZED at once", i+1, err)
				}
			}
			if _, err := db2.Login(ctx, m.ID, "officer1", storetest.StaffPassword); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
				t.Fatalf("a disabled officer signed in: %v", err)
			}
			d, err := db2.Case(admin, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d.AssigneeID != nil {
				t.Fatalf("the disabled officer's open case is still assigned to %d", *d.AssigneeID)
			}
			var active, revoked int
			if err := db1.SQL().Get(&active, db1.SQL().Rebind(`SELECT COUNT(*) FROM signing_keys WHERE user_id = ? AND revoked_at IS NULL`), o.ID); err != nil {
				t.Fatal(err)
			}
			if err := db1.SQL().Get(&revoked, db1.SQL().Rebind(`SELECT COUNT(*) FROM signing_keys WHERE user_id = ? AND revoked_at IS NOT NULL`), o.ID); err != nil {
				t.Fatal(err)
			}
			if active != 0 || revoked != 1 {
				t.Fatalf("officer's keys: %d active, %d revoked", active, revoked)
			}
			if v, err := db2.VerifyCase(admin, c.ID); err != nil || !v.Valid || v.Steps != 2 {
				t.Fatalf("the disabled officer's step no longer verifies: %+v %v", v, err)
			}

			// Enabled again: a new key signs their next step; all verify.
			if _, err := db2.EnableUser(admin, o.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := db1.Login(ctx, m.ID, "officer1", storetest.StaffPassword); err != nil {
				t.Fatalf("enabled officer cannot sign in: %v", err)
			}
			c2, err := db1.CreateCase(officer, &fiscal.NewCase{Type: "petition", TaxpayerID: ana.ID, Data: json.RawMessage(`{"subject":"Trotuar","body":"Trotuarul e spart"}`)})
			if err != nil {
				t.Fatal(err)
			}
			var keys int
			if err := db1.SQL().Get(&keys, db1.SQL().Rebind(`SELECT COUNT(DISTINCT key_id) FROM case_steps WHERE actor_id = ?`), o.ID); err != nil || keys != 2 {
				t.Fatalf("the officer's steps are signed by %d keys (%v), want the old and a new one", keys, err)
			}
			for _, id := range []int64{c.ID, c2.ID} {
				if v, err := db2.VerifyCase(admin, id); err != nil || !v.Valid {
					t.Fatalf("case %d after enable: %+v %v", id, v, err)
				}
			}
			if v, err := db1.VerifyAuditChain(ctx, m.ID); err != nil || !v.Valid {
				t.Fatalf("audit chain: %+v %v", v, err)
			}
		})
	}
}

// TestAccountChanges: role changes and new passwords end the sessions on
// every instance at once; an admin cannot disable or demote themself nor
// leave the municipality without an enabled admin; roles are staff roles
// for staff accounts; an admin never sets a taxpayer's password; the
// password rule applies; other municipalities' accounts are not found.
func TestAccountChanges(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			clock := fiscal.NewTestClock(storetest.Epoch)
			db1, db2 := storetest.OpenPair(t, engine, clock)
			m := storetest.Municipality(t, db1, "timisoara")
			arad := storetest.Municipality(t, db1, "arad")
			admin, a := storetest.Staff(t, db1, m, "admin1", fiscal.RoleAdmin)
			_, sg := storetest.Staff(t, db1, m, "signer1", fiscal.RoleSigner)
			_, other := storetest.Staff(t, db1, arad, "admin-arad", fiscal.RoleAdmin)
			ctx := context.Background()
			tu, _, err := db1.Register(ctx, m.ID, registration("ana", "2850615350041"))
			if err != nil {
				t.Fatal(err)
			}
			code := func(err error) string { return fiscal.ErrorCode(err) }

			s, err := db1.Login(ctx, m.ID, "signer1", storetest.StaffPassword)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db2.Authenticate(ctx, s.Token); err != nil {
				t.Fatal(err)
			}
			u, err := db1.SetRole(admin, sg.ID, fiscal.RoleAccountant)
			if err != nil || u.Role != fiscal.RoleAccountant {
				t.Fatalf("set role: %+v %v", u, err)
			}
			if _, err := db2.Authenticate(ctx, s.Token); code(err) != fiscal.EUNAUTHORIZED {
				t.Fatalf("after a role change on the other instance: %v", err)
			}
			s2, err := db2.Login(ctx, m.ID, "signer1", storetest.StaffPassword)
			if err != nil {
				t.Fatal(err)
			}
			if act, err := db1.Authenticate(ctx, s2.Token); err != nil || act.Role != fiscal.RoleAccountant {
				t.Fatalf("new session: %+v %v", act, err)
			}

			// Passwords: the rule applies, sessions end, the new one works.
			if _, err := db1.SetPassword(admin, sg.ID, "password1"); code(err) != fiscal.EINVALID {
				t.Fatalf("weak password: %v", err)
			}
			if _, err := db1.SetPassword(admin, sg.ID, "un pinguin pe bicicletă"); err != nil {
				t.Fatal(err)
			}
			if _, err := db2.Authenticate(ctx, s2.Token); code(err) != fiscal.EUNAUTHORIZED {
				t.Fatalf("after a new password: %v", err)
			}
			if _, err := db2.Login(ctx, m.ID, "signer1", storetest.StaffPassword); code(err) != fiscal.EUNAUTHORIZED {
				t.Fatalf("the old password still works: %v", err)
			}
			if _, err := db2.Login(ctx, m.ID, "signer1", "un pinguin pe bicicletă"); err != nil {
				t.Fatalf("the new password: %v", err)
			}

			// The rules.
			for name, err := range map[string]error{
				"disable oneself":           second(db1.DisableUser(admin, a.ID)),
				"demote oneself":            second(db1.SetRole(admin, a.ID, fiscal.RoleOfficer)),
				"last admin (system)":       second(db1.DisableUser(system(m.ID), a.ID)),
				"demote last admin (sys)":   second(db1.SetRole(system(m.ID), a.ID, fiscal.RoleSigner)),
				"taxpayer given staff role": second(db1.SetRole(admin, tu.ID, fiscal.RoleAdmin)),
				"taxpayer's password":       second(db1.SetPassword(admin, tu.ID, "un pinguin pe bicicletă")),
			} {
				if code(err) != fiscal.ECONFLICT {
					t.Errorf("%s: %v, want ECONFLICT", name, err)
				}
			}
			if _, err := db1.SetRole(admin, sg.ID, fiscal.RoleTaxpayer); code(err) != fiscal.EINVALID {
				t.Errorf("role taxpayer: %v", err)
			}
			for name, err := range map[string]error{
				"disable":  second(db1.DisableUser(admin, other.ID)),
				"role":     second(db1.SetRole(admin, other.ID, fiscal.RoleOfficer)),
				"password": second(db1.SetPassword(admin, other.ID, "un pinguin pe bicicletă")),
			} {
				if code(err) != fiscal.ENOTFOUND {
					t.Errorf("another municipality's account, %s: %v", name, err)
				}
			}
			// A second admin may disable the first; then the second is the last.
			_, a2 := storetest.Staff(t, db1, m, "admin2", fiscal.RoleAdmin)
			if _, err := db1.DisableUser(admin, a2.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := db1.EnableUser(admin, a2.ID); err != nil {
				t.Fatal(err)
			}
			admin2 := fiscal.WithActor(ctx, &fiscal.Actor{UserID: a2.ID, Username: "admin2", MunicipalityID: m.ID, Role: fiscal.RoleAdmin})
			if _, err := db2.DisableUser(admin2, a.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := db2.DisableUser(system(m.ID), a2.ID); code(err) != fiscal.ECONFLICT {
				t.Fatalf("the last enabled admin: %v", err)
			}
			// A disabled taxpayer cannot sign in either.
			if _, err := db2.DisableUser(admin2, tu.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := db1.Login(ctx, m.ID, "ana", "o parolă lungă"); code(err) != fiscal.EUNAUTHORIZED {
				t.Fatalf("disabled taxpayer signed in: %v", err)
			}
		})
	}
}

func system(municipalityID int64) context.Context {
	return fiscal.WithActor(context.Background(), &fiscal.Actor{Username: "system", MunicipalityID: municipalityID, System: true})
}

// TestConcurrentAccountChanges: on two instances at once, two admins
// disabling each other leave exactly one enabled admin (the other change is
// refused), and one code used by two enrollments at once opens one account.
func TestConcurrentAccountChanges(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			clock := fiscal.NewTestClock(storetest.Epoch)
			db1, db2 := storetest.OpenPair(t, engine, clock)
			m := storetest.Municipality(t, db1, "timisoara")
			for round := 0; round < 5; round++ {
				a1, u1 := storetest.Staff(t, db1, m, "adminA"+itoa(int64(round)), fiscal.RoleAdmin)
				a2, u2 := storetest.Staff(t, db1, m, "adminB"+itoa(int64(round)), fiscal.RoleAdmin)
				// Only these two are enabled admins this round.
				if _, err := db1.SQL().Exec(db1.SQL().Rebind(`UPDATE users SET disabled = ? WHERE role = 'admin' AND id NOT IN (?, ?)`), true, u1.ID, u2.ID); err != nil {
					t.Fatal(err)
				}
				errs := make(chan error, 2)
				go func() { _, err := db1.DisableUser(a1, u2.ID); errs <- err }()
				go func() { _, err := db2.DisableUser(a2, u1.ID); errs <- err }()
				e1, e2 := <-errs, <-errs
				if (e1 == nil) == (e2 == nil) {
					t.Fatalf("round %d: both or neither succeeded: %v / %v", round, e1, e2)
				}
				var enabled int
				if err := db1.SQL().Get(&enabled, `SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = FALSE`); err != nil || enabled != 1 {
					t.Fatalf("round %d: %d enabled admins (%v)", round, enabled, err)
				}
			}

			officer, _ := storetest.Staff(t, db1, m, "officer1", fiscal.RoleOfficer)
			ana := onFile(t, db1, officer, "2850615350041", "Ana Popescu")
			code, err := db1.IssueEnrollmentCode(officer, ana.ID)
			if err != nil {
				t.Fatal(err)
			}
			errs := make(chan error, 2)
			for i, db := range []*store.DB{db1, db2} {
				go func() {
					_, _, err := db.Enroll(context.Background(), m.ID, enrollment(code.Code, "2850615350041", "ana"+itoa(int64(i))), "192.0.2."+itoa(int64(i)))
					errs <- err
				}()
			}
			e1, e2 := <-errs, <-errs
			if (e1 == nil) == (e2 == nil) {
				t.Fatalf("one code, two enrollments: %v / %v", e1, e2)
			}
			var accounts int
			if err := db1.SQL().Get(&accounts, db1.SQL().Rebind(`SELECT COUNT(*) FROM users WHERE taxpayer_id = ?`), ana.ID); err != nil || accounts != 1 {
				t.Fatalf("%d accounts for the taxpayer (%v)", accounts, err)
			}
		})
	}
}
