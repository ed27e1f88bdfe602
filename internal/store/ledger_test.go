package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

func TestVehicleRegisterAndIdempotentAssessment(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		octx, _ := storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
		u, tp, err := db.Register(ctx, m.ID, registration("ana", "2850615350041"))
		if err != nil {
			t.Fatal(err)
		}
		e, err := db.TaxEngine(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		v := &fiscal.Vehicle{TaxpayerID: tp.ID, VIN: "WVWZZZAUZHW123456", Plate: "TM-01-ANA", Category: "car", EngineCC: 1598,
			EmissionClass: "euro6", Propulsion: "combustion", AcquiredOn: civil.MustParse("2026-03-10"), TaxedFromYear: 2027}
		err = db.InTx(octx, func(tx *store.Tx) error { return tx.InsertVehicle(ctx, m.ID, v) })
		if err != nil {
			t.Fatal(err)
		}
		// The same VIN cannot have two active owners.
		v2 := *v
		err = db.InTx(octx, func(tx *store.Tx) error { return tx.InsertVehicle(ctx, m.ID, &v2) })
		if fiscal.ErrorCode(err) != fiscal.ECONFLICT {
			t.Fatalf("second owner of a VIN: %v", err)
		}
		a, err := e.Annual("timisoara", 2026, v.VehicleObject())
		if err != nil {
			t.Fatal(err)
		}
		inst, err := e.Installments("timisoara", 2026, a.Annual)
		if err != nil {
			t.Fatal(err)
		}
		na := &fiscal.NewAssessment{TaxpayerID: tp.ID, TaxType: calc.TaxVehicle, ObjectKind: "vehicle", ObjectID: v.ID, Year: 2026,
			Assessment: a, Installments: inst, Source: "annual"}
		var first int64
		for i := 0; i < 2; i++ {
			err = db.InTx(octx, func(tx *store.Tx) error {
				id, created, err := tx.RecordAssessment(ctx, m.ID, na)
				if created != (i == 0) {
					t.Errorf("run %d: created=%v", i, created)
				}
				if i == 0 {
					first = id
				} else if id != first {
					t.Errorf("second run returned another assessment %d != %d", id, first)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		var n int
		var sum int64
		if err := db.SQL().Get(&n, `SELECT COUNT(*) FROM debts`); err != nil || n != 2 {
			t.Fatalf("debts: %d %v", n, err)
		}
		if err := db.SQL().Get(&sum, `SELECT SUM(amount_bani) FROM debts`); err != nil || sum != 19800 {
			t.Fatalf("debt sum %d %v", sum, err)
		}
		// The owner sees the vehicle; another taxpayer does not.
		actor, _ := db.Authenticate(ctx, mustLogin(t, db, m.ID, "ana"))
		list, err := db.TaxpayerVehicles(fiscal.WithActor(ctx, actor), tp.ID)
		if err != nil || len(list) != 1 || list[0].VIN != v.VIN || list[0].Object.EngineCC != 1598 || list[0].AcquiredOn.String() != "2026-03-10" {
			t.Fatalf("vehicles: %+v %v", list, err)
		}
		_ = u
		_, tp2, _ := db.Register(ctx, m.ID, registration("mihai", "1850315350012"))
		if _, err := db.TaxpayerVehicles(fiscal.WithActor(ctx, actor), tp2.ID); fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
			t.Fatalf("another's vehicles: %v", err)
		}
	})
}

func mustLogin(t *testing.T, db *store.DB, muni int64, username string) string {
	t.Helper()
	s, err := db.Login(context.Background(), muni, username, "o parolă lungă")
	if err != nil {
		t.Fatal(err)
	}
	return s.Token
}

// TestConcurrentStatementsOnColdCache: many statements at once on a fresh
// process (no prepared statement cached yet), beside writers, more than the
// pool has connections. A read transaction that prepared a statement while
// holding its connection deadlocked the pool here under load.
func TestConcurrentStatementsOnColdCache(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		octx, _ := storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
		_, tp, err := db.Register(ctx, m.ID, registration("ana", "2850615350041"))
		if err != nil {
			t.Fatal(err)
		}
		deadline, cancel := context.WithTimeout(octx, 20*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%8 == 0 { // a writer among the readers
					errs <- db.InTx(deadline, func(tx *store.Tx) error {
						_, err := tx.Exec(deadline, `UPDATE taxpayers SET updated_at = ? WHERE id = ?`, tx.Now, tp.ID)
						return err
					})
					return
				}
				_, err := db.Statement(deadline, tp.ID, civil.MustParse("2026-11-27"))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent statements: %v", err)
			}
		}
	})
}
