package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// No error is swallowed on a legal path: a case whose stored pauses do not
// read fails its read (never a clock without its pauses, i.e. a false
// breach), and a database failure during an intake's checks is the
// database's error, never a 422 blaming the taxpayer's form.
func TestErrorsOnLegalPathsAreNotSwallowed(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		ana, tp := signedInTaxpayer(t, db, m)
		c, err := db.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CaseVehicleRegistration, TaxpayerID: tp.ID, Data: registrationData(1)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE cases SET pauses = ? WHERE id = ?`), `[{"from":"2026-05-0`, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Case(ana, c.ID); fiscal.ErrorCode(err) != fiscal.EINTERNAL {
			t.Fatalf("a case with unreadable pauses: %v", err)
		}
		// The vehicles table is gone: the deregistration's check cannot run.
		if _, err := db.SQL().Exec(`ALTER TABLE vehicles RENAME TO vehicles_gone`); err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(map[string]any{"vehicle_id": 1, "disposed_on": "2026-05-01", "reason": "sale"})
		_, err = db.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CaseVehicleDeregistration, TaxpayerID: tp.ID, Data: data})
		if code := fiscal.ErrorCode(err); code == fiscal.EINVALID || code == "" {
			t.Fatalf("a database failure in the intake's checks: %v (code %q)", err, code)
		}
	})
}

// A transaction the database undid to resolve a conflict runs once more;
// a second such failure is 503 (EUNAVAILABLE), never 500.
func TestConflictingTransactionRetriedOnce(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		for _, code := range []string{"40P01", "40001"} {
			runs := 0
			err := db.InTx(ctx, func(tx *store.Tx) error {
				runs++
				if runs == 1 {
					return &pgconn.PgError{Code: code}
				}
				return nil
			})
			if err != nil || runs != 2 {
				t.Fatalf("%s once: %v after %d runs", code, err, runs)
			}
			runs = 0
			err = db.InTx(ctx, func(tx *store.Tx) error {
				runs++
				return &pgconn.PgError{Code: code}
			})
			if fiscal.ErrorCode(err) != fiscal.EUNAVAILABLE || runs != 2 {
				t.Fatalf("%s twice: %v (code %q) after %d runs", code, err, fiscal.ErrorCode(err), runs)
			}
		}
	})
}

// The audit chain's head is taken at commit: a use case that wrote its
// audit entry and is still busy (rendering and signing a decision) does not
// hold up the other writers of the municipality (PostgreSQL; SQLite has one
// writer at a time anyway).
func TestAuditHeadTakenAtCommit(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		if db.Dialect() != "postgres" {
			t.Skip("SQLite runs one write transaction at a time")
		}
		m := storetest.Municipality(t, db, "timisoara")
		ctx, _ := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		busy, release := make(chan struct{}), make(chan struct{})
		slow := make(chan error, 1)
		go func() {
			slow <- db.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.Audit(ctx, m.ID, "test.slow", "case", 1, nil, map[string]any{"step": "approve"}); err != nil {
					return err
				}
				close(busy)
				<-release // rendering and signing
				return nil
			})
		}()
		<-busy
		done := make(chan error, 1)
		go func() {
			done <- db.InTx(ctx, func(tx *store.Tx) error {
				return tx.Audit(ctx, m.ID, "test.fast", "case", 2, nil, nil)
			})
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Error("a writer waited for the chain head held by a slow use case")
		}
		close(release)
		if err := <-slow; err != nil {
			t.Fatal(err)
		}
		if v, err := db.VerifyAudit(ctx); err != nil || !v.Valid {
			t.Fatalf("audit chain: %+v %v", v, err)
		}
	})
}
