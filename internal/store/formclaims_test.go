package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestAnonymousFormClaims: an anonymous form's one-time id is claimed by
// the transaction that opens the account, and only by it: a second
// registration under the same id opens nothing (ErrFormSentBefore); a
// refused registration, and an enrollment's attempt count, leave the id
// free; the id is kept hashed, per form and municipality, and a day only.
func TestAnonymousFormClaims(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		other := storetest.Municipality(t, db, "arad")
		officer, _ := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		bg := context.Background()
		with := func(form, key string) context.Context {
			return fiscal.WithAnonymousFormClaim(bg, &fiscal.AnonymousFormClaim{Form: form, Key: key, Wait: time.Second})
		}
		claimed := func(muni int64, form, key string) bool {
			t.Helper()
			ok, err := db.AnonymousFormClaimed(bg, muni, form, key)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := db.SQL().Get(&n, db.SQL().Rebind(q), args...); err != nil {
				t.Fatal(err)
			}
			return n
		}

		const key1, key2, key3 = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210", "00112233445566778899aabbccddeeff"
		if _, _, err := db.Register(with("/register", key1), m.ID, registration("ana", "2850615350041")); err != nil {
			t.Fatal(err)
		}
		if !claimed(m.ID, "/register", key1) || claimed(m.ID, "/enroll", key1) || claimed(other.ID, "/register", key1) {
			t.Fatal("the registration's id is not claimed for its form and municipality only")
		}
		if n := count(`SELECT COUNT(*) FROM anonymous_form_claims WHERE key_hash = ?`, key1); n != 0 {
			t.Fatal("the form id is stored as it is, not hashed")
		}
		// The same form again, whatever it says now: nothing opened.
		_, _, err := db.Register(with("/register", key1), m.ID, registration("ion", "1800101350026"))
		if !errors.Is(err, fiscal.ErrFormSentBefore) || count(`SELECT COUNT(*) FROM users WHERE username = 'ion'`) != 0 ||
			count(`SELECT COUNT(*) FROM taxpayers WHERE cnp = '1800101350026'`) != 0 {
			t.Fatalf("a registration under a claimed id: %v", err)
		}
		// Refused (the username is taken): the claim is undone with it.
		if _, _, err := db.Register(with("/register", key2), m.ID, registration("ana", "1800101350026")); fiscal.ErrorCode(err) != fiscal.ECONFLICT || claimed(m.ID, "/register", key2) {
			t.Fatalf("a refused registration: %v, its id claimed: %v", err, claimed(m.ID, "/register", key2))
		}
		// An enrollment with a wrong code counts the attempt, which does
		// not claim the id; the right code does.
		tp := onFile(t, db, officer, "1900101350014", "Vasile Pop")
		code, err := db.IssueEnrollmentCode(officer, tp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.Enroll(with("/enroll", key2), m.ID, enrollment("AAAA-BBBB-CCCC-DDDD", "1900101350014", "vasile"), "192.0.2.1"); fiscal.ErrorCode(err) != fiscal.EINVALID || claimed(m.ID, "/enroll", key2) {
			t.Fatalf("an enrollment with a wrong code: %v, its id claimed: %v", err, claimed(m.ID, "/enroll", key2))
		}
		if _, _, err := db.Enroll(with("/enroll", key2), m.ID, enrollment(code.Code, "1900101350014", "vasile"), "192.0.2.1"); err != nil || !claimed(m.ID, "/enroll", key2) {
			t.Fatalf("an enrollment: %v, its id claimed: %v", err, claimed(m.ID, "/enroll", key2))
		}

		// A day later, the next claim's commit deletes the older ones.
		clock.Advance(formClaimRetention + time.Hour)
		if _, _, err := db.Register(with("/register", key3), m.ID, registration("ion", "1800101350026")); err != nil {
			t.Fatal(err)
		}
		if claimed(m.ID, "/register", key1) || claimed(m.ID, "/enroll", key2) || !claimed(m.ID, "/register", key3) {
			t.Fatal("claims older than a day are kept, or the new one is not")
		}
	})
}

// formClaimRetention is the store's (formclaims.go).
const formClaimRetention = 24 * time.Hour
