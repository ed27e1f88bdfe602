package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/migrations"
)

// TestUsernamesCaseFolded: 'ANA' cannot be registered beside 'ana' (nor a
// staff account 'Ana'), even by a raw insert (the unique index on the folded
// name), and signing in ignores the case of the username.
func TestUsernamesCaseFolded(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		other := storetest.Municipality(t, db, "arad")
		if _, _, err := db.Register(ctx, m.ID, registration("ana", "2850615350041")); err != nil {
			t.Fatal(err)
		}
		_, _, err := db.Register(ctx, m.ID, registration("ANA", "1850315350012"))
		if fiscal.ErrorCode(err) != fiscal.ECONFLICT {
			t.Fatalf("ANA beside ana: %v", err)
		}
		if _, err := db.CreateStaff(ctx, m.ID, "Ana", "parola-de-serviciu-2026", fiscal.RoleOfficer, "Ana"); fiscal.ErrorCode(err) != fiscal.ECONFLICT {
			t.Fatalf("staff Ana beside ana: %v", err)
		}
		if _, err := db.SQL().ExecContext(ctx, db.SQL().Rebind(`INSERT INTO users (municipality_id, username, password_hash, role, created_at) VALUES (?, 'aNa', 'x', 'officer', ?)`),
			m.ID, clock.Now()); err == nil {
			t.Fatal("the database took aNa beside ana")
		}
		// Another municipality has its own names.
		if _, _, err := db.Register(ctx, other.ID, registration("ANA", "2850615350041")); err != nil {
			t.Fatalf("ANA in another municipality: %v", err)
		}
		for _, name := range []string{"ana", "ANA", "Ana"} {
			s, err := db.Login(ctx, m.ID, name, "o parolă lungă")
			if err != nil || s.User.Username != "ana" {
				t.Fatalf("login as %s: %v", name, err)
			}
		}
		if _, err := db.Login(ctx, m.ID, "ANA", "O PAROLĂ LUNGĂ"); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
			t.Fatalf("the password's case must matter: %v", err)
		}
		if _, err := db.CreateStaff(ctx, m.ID, "Ană", "parola-de-serviciu-2026", fiscal.RoleOfficer, "Ana"); fiscal.ErrorCode(err) != fiscal.EINVALID {
			t.Fatalf("a username outside ASCII (folded differently by the engines): %v", err)
		}
	})
}

// TestUsernameCaseMigrationNamesClashes: on a database holding 'ana' and
// 'ANA' from before, migration 0015 stops and names them instead of losing
// either; once one is renamed it applies.
func TestUsernameCaseMigrationNamesClashes(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, storetest.DSN(t, engine), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			all, err := migrations.List(engine)
			if err != nil {
				t.Fatal(err)
			}
			x := db.SQL()
			if _, err := x.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			for _, m := range all {
				if m.Version >= 15 {
					continue
				}
				if _, err := x.ExecContext(ctx, m.SQL); err != nil {
					t.Fatalf("%s: %v", m.Name, err)
				}
				if _, err := x.ExecContext(ctx, x.Rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 'then')`), m.Version, m.Name); err != nil {
					t.Fatal(err)
				}
			}
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			for _, q := range []string{
				`INSERT INTO municipalities (id, slug, name, created_at) VALUES (1, 'timisoara', 'Timișoara', ?)`,
				`INSERT INTO municipalities (id, slug, name, created_at) VALUES (2, 'arad', 'Arad', ?)`,
				`INSERT INTO users (municipality_id, username, password_hash, role, created_at) VALUES (1, 'ana', 'x', 'taxpayer', ?)`,
				`INSERT INTO users (municipality_id, username, password_hash, role, created_at) VALUES (1, 'ANA', 'x', 'taxpayer', ?)`,
				`INSERT INTO users (municipality_id, username, password_hash, role, created_at) VALUES (1, 'dan', 'x', 'signer', ?)`,
				`INSERT INTO users (municipality_id, username, password_hash, role, created_at) VALUES (2, 'Dan', 'x', 'signer', ?)`,
			} {
				if _, err := x.ExecContext(ctx, x.Rebind(q), now); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			_, err = db.Migrate(ctx)
			if err == nil || !strings.Contains(err.Error(), "0015_username_case") || !strings.Contains(err.Error(), "differ only in case") ||
				!strings.Contains(err.Error(), "timisoara: ") || !strings.Contains(err.Error(), "ANA") || strings.Contains(err.Error(), "dan") {
				t.Fatalf("migration over clashing usernames: %v", err)
			}
			var n int
			if err := x.GetContext(ctx, &n, `SELECT COUNT(*) FROM users`); err != nil || n != 4 {
				t.Fatalf("users after the refused migration: %d %v", n, err)
			}
			if _, err := x.ExecContext(ctx, `UPDATE users SET username = 'ana2' WHERE username = 'ANA'`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatalf("after renaming: %v", err)
			}
		})
	}
}
