package store_test

import (
	"context"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestSessionCache: a cached token is refused at once after Logout, never
// outlives the session's expiry, and the cached actor cannot be changed by
// a caller.
func TestSessionCache(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		if _, _, err := db.Register(ctx, m.ID, registration("ana", "2850615350041")); err != nil {
			t.Fatal(err)
		}
		s, err := db.Login(ctx, m.ID, "ana", "o parolă lungă")
		if err != nil {
			t.Fatal(err)
		}
		a, err := db.Authenticate(ctx, s.Token)
		if err != nil {
			t.Fatal(err)
		}
		a.Role, *a.TaxpayerID = fiscal.RoleAdmin, 999 // must not reach the cache
		b, err := db.Authenticate(ctx, s.Token)
		if err != nil || b.Role != fiscal.RoleTaxpayer || *b.TaxpayerID == 999 {
			t.Fatalf("cached actor changed by a caller: %+v %v", b, err)
		}
		if err := db.Logout(ctx, s.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Authenticate(ctx, s.Token); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
			t.Fatalf("after logout: %v, want EUNAUTHORIZED", err)
		}

		// Expiry: cached a moment before the session ends, refused after.
		s2, err := db.Login(ctx, m.ID, "ana", "o parolă lungă")
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(store.SessionTTL - 5*time.Second)
		if _, err := db.Authenticate(ctx, s2.Token); err != nil {
			t.Fatal(err)
		}
		clock.Advance(10 * time.Second)
		if _, err := db.Authenticate(ctx, s2.Token); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
			t.Fatalf("after expiry: %v, want EUNAUTHORIZED", err)
		}
	})
}
