package store_test

import (
	"context"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/auth"
	"fiscald/internal/store/storetest"
)

// BenchmarkAuthenticate: a request's authentication on each engine, as
// Authenticate does it now (the cached actor revalidated by primary key),
// and the full read of the session and user by token hash that a cache
// miss (or no cache) costs.
func BenchmarkAuthenticate(b *testing.B) {
	for _, engine := range storetest.Engines() {
		db := storetest.MustOpen(b, engine, fiscal.NewTestClock(storetest.Epoch))
		m := storetest.Municipality(b, db, "timisoara")
		storetest.Staff(b, db, m, "officer1", fiscal.RoleOfficer)
		ctx := context.Background()
		s, err := db.Login(ctx, m.ID, "officer1", storetest.StaffPassword)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(engine+"/revalidated", func(b *testing.B) {
			for b.Loop() {
				if _, err := db.Authenticate(ctx, s.Token); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(engine+"/full-read", func(b *testing.B) {
			hash := auth.HashToken(s.Token)
			q := db.SQL().Rebind(`SELECT s.id, s.user_id, u.username, s.municipality_id, u.role, u.taxpayer_id, s.expires_at, s.revoked_at, u.disabled
				FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`)
			for b.Loop() {
				var row struct {
					ID, UserID, MunicipalityID int64
					Username, Role             string
					TaxpayerID                 *int64
					ExpiresAt, RevokedAt       any
					Disabled                   bool
				}
				if err := db.SQL().QueryRowContext(ctx, q, hash).Scan(&row.ID, &row.UserID, &row.Username, &row.MunicipalityID, &row.Role, &row.TaxpayerID, &row.ExpiresAt, &row.RevokedAt, &row.Disabled); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
