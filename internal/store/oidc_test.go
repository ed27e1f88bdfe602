package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/migrations"
)

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestOIDCLoginClaimedOnce: a sign-in begun at the provider is claimed by
// one callback only, also when several race for it (two instances, a
// replay), and not after it expired.
func TestOIDCLoginClaimedOnce(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		l := &fiscal.OIDCLogin{StateHash: hashOf("state-1"), Nonce: "n", Verifier: "v", Next: "/account"}
		if err := db.BeginOIDCLogin(ctx, m.ID, l, 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, lost := 0, 0
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := db.ClaimOIDCLogin(ctx, m.ID, hashOf("state-1"))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && got.Nonce == "n" && got.Verifier == "v" && got.Next == "/account":
					won++
				case fiscal.ErrorCode(err) == fiscal.ENOTFOUND:
					lost++
				default:
					t.Errorf("claim: %+v %v", got, err)
				}
			}()
		}
		wg.Wait()
		if won != 1 || lost != 5 {
			t.Fatalf("claims won %d lost %d, want 1 and 5", won, lost)
		}
		// Expired: not returned (and gone).
		if err := db.BeginOIDCLogin(ctx, m.ID, &fiscal.OIDCLogin{StateHash: hashOf("state-2"), Nonce: "n", Verifier: "v"}, 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		clock.Set(clock.Now().Add(10 * time.Minute))
		if _, err := db.ClaimOIDCLogin(ctx, m.ID, hashOf("state-2")); fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
			t.Fatalf("expired sign-in: %v", err)
		}
		// Another municipality's state is not this one's.
		other := storetest.Municipality(t, db, "arad")
		if err := db.BeginOIDCLogin(ctx, other.ID, &fiscal.OIDCLogin{StateHash: hashOf("state-3"), Nonce: "n", Verifier: "v"}, time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ClaimOIDCLogin(ctx, m.ID, hashOf("state-3")); fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
			t.Fatalf("another municipality's state: %v", err)
		}
	})
}

// TestSignInVerified: the provider's person is linked to the registry's
// taxpayer with their CNP, sees its record, has their claims refreshed at
// each sign-in, keeps one account, and cannot sign in by password; a
// person not in the registry gets a new record.
func TestSignInVerified(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		officer, _ := storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
		tp, err := db.CreateTaxpayer(officer, &fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: "1960229460011", Name: "Ionescu Mihai", Address: "Str. Veche 1"})
		if err != nil {
			t.Fatal(err)
		}
		id := &fiscal.VerifiedIdentity{Issuer: "https://roeid.example", Subject: "s-1", CNP: "1960229460011", FamilyName: "Ionescu", GivenName: "Mihai",
			Address: "Str. Nouă 2, Timișoara"}
		s, err := db.SignInVerified(ctx, m.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if s.User.TaxpayerID == nil || *s.User.TaxpayerID != tp.ID || s.User.Role != fiscal.RoleTaxpayer {
			t.Fatalf("not linked to the existing record: %+v", s.User)
		}
		a, err := db.Authenticate(ctx, s.Token)
		if err != nil || a.Assurance != fiscal.AssuranceVerified {
			t.Fatalf("actor %+v %v", a, err)
		}
		actx := fiscal.WithActor(ctx, a)
		got, err := db.Taxpayer(actx, tp.ID)
		if err != nil || got.Address != "Str. Nouă 2, Timișoara" || got.Name != "Ionescu Mihai" {
			t.Fatalf("record after the sign-in: %+v %v", got, err)
		}
		if _, err := db.Statement(actx, tp.ID, fiscal.LocalDate(clock.Now())); err != nil {
			t.Fatalf("statement: %v", err)
		}
		// Claims refreshed at the next sign-in; the same account.
		id.FamilyName, id.Address = "Ionescu-Pop", "Bd. Revoluției 3, Timișoara"
		s2, err := db.SignInVerified(ctx, m.ID, id)
		if err != nil || s2.User.ID != s.User.ID || s2.Token == s.Token {
			t.Fatalf("second sign-in: %+v %v", s2, err)
		}
		if got, _ := db.Taxpayer(officer, tp.ID); got.Name != "Ionescu-Pop Mihai" || got.Address != "Bd. Revoluției 3, Timișoara" {
			t.Fatalf("claims not refreshed: %+v", got)
		}
		// No password reaches the account, not even the stored marker.
		for _, pw := range []string{"", "!oidc", "o parolă lungă"} {
			if _, err := db.Login(ctx, m.ID, s.User.Username, pw); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
				t.Fatalf("password sign-in of a provider account (%q): %v", pw, err)
			}
		}
		// Another subject the provider vouches for with the same CNP (a
		// provider that changed its subjects) is the same person: a second
		// verified account on the same record.
		if s4, err := db.SignInVerified(ctx, m.ID, &fiscal.VerifiedIdentity{Issuer: "https://roeid.example", Subject: "s-2", CNP: "1960229460011", FamilyName: "Ionescu-Pop", GivenName: "Mihai"}); err != nil || *s4.User.TaxpayerID != tp.ID || s4.User.ID == s.User.ID {
			t.Fatalf("second subject: %+v %v", s4, err)
		}
		// A person not in the registry gets a record.
		s3, err := db.SignInVerified(ctx, m.ID, &fiscal.VerifiedIdentity{Issuer: "https://roeid.example", Subject: "s-3", CNP: "2850615350041", FamilyName: "Popescu", GivenName: "Ana"})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := db.Taxpayer(officer, *s3.User.TaxpayerID); err != nil || got.Name != "Popescu Ana" || got.CNP == nil || *got.CNP != "2850615350041" {
			t.Fatalf("new record: %+v %v", got, err)
		}
		// A disabled account: no session.
		if _, err := db.SQL().ExecContext(ctx, db.SQL().Rebind(`UPDATE users SET disabled = ? WHERE id = ?`), true, s.User.ID); err != nil {
			t.Fatal(err)
		}
		var before, after int
		db.SQL().GetContext(ctx, &before, `SELECT COUNT(*) FROM sessions`)
		if _, err := db.SignInVerified(ctx, m.ID, id); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
			t.Fatalf("disabled account: %v", err)
		}
		db.SQL().GetContext(ctx, &after, `SELECT COUNT(*) FROM sessions`)
		if after != before {
			t.Fatal("a disabled account got a session")
		}
		// Invalid CNP, no subject: nothing written, no session.
		if _, err := db.SignInVerified(ctx, m.ID, &fiscal.VerifiedIdentity{Issuer: "i", Subject: "s-4", CNP: "1960229460012", FamilyName: "Y"}); fiscal.ErrorCode(err) != fiscal.EINVALID {
			t.Fatalf("invalid CNP: %v", err)
		}
		if _, err := db.SignInVerified(ctx, m.ID, &fiscal.VerifiedIdentity{Issuer: "i", CNP: "1960229460011"}); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
			t.Fatalf("no subject: %v", err)
		}
	})
}

// TestAssurancePerAction: a password-only account linked to a record that
// existed before it files and reads its requests but gets 403 for the
// record's debts, statement, payments and documents; a self-registered
// account sees the record it created, until the person behind that CNP
// signs in through the provider (CNP squatting).
func TestAssurancePerAction(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		officer, _ := storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
		tp, err := db.CreateTaxpayer(officer, &fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: "1960229460011", Name: "Ionescu Mihai", Address: "Str. Veche 1"})
		if err != nil {
			t.Fatal(err)
		}
		// A password account on an existing record (as migration 0019 leaves
		// one whose record is older than it).
		if _, _, err := db.Register(ctx, m.ID, registration("mihai", "5000101460016")); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, db.SQL().Rebind(`UPDATE users SET taxpayer_id = ?, assurance = 'password' WHERE username = 'mihai'`), tp.ID); err != nil {
			t.Fatal(err)
		}
		restricted := actorOf(t, db, m, "mihai")
		for what, err := range map[string]error{
			"taxpayer":   second(db.Taxpayer(restricted, tp.ID)),
			"statement":  second(db.Statement(restricted, tp.ID, fiscal.LocalDate(clock.Now()))),
			"vehicles":   second(db.TaxpayerVehicles(restricted, tp.ID)),
			"payments":   second(db.TaxpayerPayments(restricted, tp.ID)),
			"documents":  second(db.TaxpayerDocuments(restricted, tp.ID)),
			"access log": second(db.AccessLog(restricted, tp.ID)),
			"export":     second(db.ExportTaxpayer(restricted, tp.ID)),
		} {
			if fiscal.ErrorCode(err) != fiscal.EFORBIDDEN || fiscal.ErrorMessage(err) != fiscal.ErrorMessage(fiscal.ErrRecordNotVerified()) {
				t.Errorf("%s of a password-only account: %v", what, err)
			}
		}
		if _, _, err := db.Cases(restricted, fiscal.CaseFilter{Status: "all", Limit: 10}); err != nil {
			t.Errorf("its requests: %v", err)
		}

		// Self-registered: the record it created is its own.
		if _, _, err := db.Register(ctx, m.ID, registration("ana", "2850615350041")); err != nil {
			t.Fatal(err)
		}
		ana := actorOf(t, db, m, "ana")
		anaTP := *fiscal.ActorFrom(ana).TaxpayerID
		if _, err := db.Statement(ana, anaTP, fiscal.LocalDate(clock.Now())); err != nil {
			t.Fatalf("self-registered, own record: %v", err)
		}
		// The person the provider vouches for with that CNP takes the record.
		if _, err := db.SignInVerified(ctx, m.ID, &fiscal.VerifiedIdentity{Issuer: "https://roeid.example", Subject: "ana-real", CNP: "2850615350041", FamilyName: "Popescu", GivenName: "Ana"}); err != nil {
			t.Fatal(err)
		}
		ana = actorOf(t, db, m, "ana")
		if _, err := db.Statement(ana, anaTP, fiscal.LocalDate(clock.Now())); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("the squatter after the verified person signed in: %v", err)
		}
	})
}

func second[T any](_ T, err error) error { return err }

// actorOf signs the taxpayer in by password and returns their context.
func actorOf(t *testing.T, db *store.DB, m *fiscal.Municipality, username string) context.Context {
	t.Helper()
	s, err := db.Login(context.Background(), m.ID, username, "o parolă lungă")
	if err != nil {
		t.Fatal(err)
	}
	a, err := db.Authenticate(context.Background(), s.Token)
	if err != nil {
		t.Fatal(err)
	}
	return fiscal.WithActor(context.Background(), a)
}

// TestAssuranceMigration: migration 0019 gives existing taxpayer accounts
// 'self' when their record was written with the account (registration) or
// after it, and 'password' when the record existed before the account.
func TestAssuranceMigration(t *testing.T) {
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
				if m.Version >= 19 {
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
			before := now.Add(-24 * time.Hour)
			for _, q := range []struct {
				sql string
				at  time.Time
			}{
				{`INSERT INTO municipalities (id, slug, name, created_at) VALUES (1, 'timisoara', 'Timișoara', ?)`, before},
				{`INSERT INTO taxpayers (id, municipality_id, kind, cnp, name, address, created_at, updated_at) VALUES (1, 1, 'individual', '2850615350041', 'Ana', 'a', ?, ?)`, now},
				{`INSERT INTO taxpayers (id, municipality_id, kind, cnp, name, address, created_at, updated_at) VALUES (2, 1, 'individual', '1960229460011', 'Mihai', 'b', ?, ?)`, before},
				{`INSERT INTO users (municipality_id, username, password_hash, role, taxpayer_id, created_at) VALUES (1, 'registered', 'x', 'taxpayer', 1, ?)`, now},
				{`INSERT INTO users (municipality_id, username, password_hash, role, taxpayer_id, created_at) VALUES (1, 'linked', 'x', 'taxpayer', 2, ?)`, now},
				{`INSERT INTO users (municipality_id, username, password_hash, role, created_at) VALUES (1, 'dan', 'x', 'signer', ?)`, now},
			} {
				args := []any{q.at}
				if strings.Count(q.sql, "?") == 2 {
					args = append(args, q.at)
				}
				if _, err := x.ExecContext(ctx, x.Rebind(q.sql), args...); err != nil {
					t.Fatalf("%s: %v", q.sql, err)
				}
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for user, want := range map[string]fiscal.Assurance{"registered": fiscal.AssuranceSelf, "linked": fiscal.AssurancePassword, "dan": fiscal.AssurancePassword} {
				var got string
				if err := x.GetContext(ctx, &got, x.Rebind(`SELECT assurance FROM users WHERE username = ?`), user); err != nil || fiscal.Assurance(got) != want {
					t.Errorf("%s: %q %v, want %q", user, got, err, want)
				}
			}
		})
	}
}
