package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestCheckSLATwoInstances runs the SLA monitor from two instances (two
// store.DBs on one database, two runs each) at once, first when the cases
// turned at risk, then when they are breached: each case is escalated once
// (one timeline event, one audit entry, one notice to the signer) and its
// breach recorded once, and the runs' reports add up to that.
func TestCheckSLATwoInstances(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			clock := fiscal.NewTestClock(storetest.Epoch) // Friday 8 May 2026
			db1, db2 := storetest.OpenPair(t, engine, clock)
			m := storetest.Municipality(t, db1, "timisoara")
			storetest.Staff(t, db1, m, "officer1", fiscal.RoleOfficer)
			storetest.Staff(t, db1, m, "signer1", fiscal.RoleSigner)
			if _, err := db1.SQL().Exec(`UPDATE users SET email = 'dan@primaria.ro' WHERE role = 'signer'`); err != nil {
				t.Fatal(err)
			}
			ana, tp := signedInTaxpayer(t, db1, m)
			const n = 16
			for i := 0; i < n; i++ {
				data, _ := json.Marshal(map[string]any{"subject": fmt.Sprintf("Petiția %d", i), "body": "Strada nu are iluminat."})
				if _, err := db1.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CasePetition, TaxpayerID: tp.ID, Data: data}); err != nil {
					t.Fatal(err)
				}
			}
			// Four runs at once, two per instance; returns the reports' sums.
			sweep := func() (checked, escalated, breached int) {
				t.Helper()
				var wg sync.WaitGroup
				reps := make([]*fiscal.SLAReport, 4)
				errs := make([]error, 4)
				for i, db := range []*store.DB{db1, db2, db1, db2} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						reps[i], errs[i] = db.CheckSLA(ctx, clock.Now())
					}()
				}
				wg.Wait()
				for i, rep := range reps {
					if errs[i] != nil {
						t.Fatalf("run %d: %v", i, errs[i])
					}
					checked += rep.Checked
					escalated += rep.Escalated
					breached += rep.Breached
				}
				return
			}
			count := func(q string, args ...any) int {
				t.Helper()
				var c int
				if err := db2.SQL().Get(&c, db2.SQL().Rebind(q), args...); err != nil {
					t.Fatal(err)
				}
				return c
			}
			perCase := func(kind string) {
				t.Helper()
				if c := count(`SELECT COUNT(*) FROM cases WHERE (SELECT COUNT(*) FROM case_events e WHERE e.case_id = cases.id AND e.kind = ?) <> 1`, kind); c != 0 {
					t.Errorf("%d cases without exactly one %q event", c, kind)
				}
			}

			clock.Set(time.Date(2026, 5, 14, 8, 0, 0, 0, time.UTC)) // Thursday: one working day left
			checked, escalated, breached := sweep()
			if escalated != n || breached != 0 {
				t.Errorf("at risk: the runs report %d escalations and %d breaches of %d cases (checked %d)", escalated, breached, n, checked)
			}
			perCase("escalated")
			if c := count(`SELECT COUNT(*) FROM notifications WHERE recipient = 'dan@primaria.ro'`); c != n {
				t.Errorf("%d notices to the signer for %d cases", c, n)
			}
			if c := count(`SELECT COUNT(*) FROM audit_log WHERE action = 'case.sla_escalated'`); c != n {
				t.Errorf("%d escalation audit entries for %d cases", c, n)
			}

			clock.Set(time.Date(2026, 5, 18, 8, 0, 0, 0, time.UTC)) // Monday after the due date
			_, escalated, breached = sweep()
			if escalated != 0 || breached != n {
				t.Errorf("breached: the runs report %d escalations and %d breaches of %d cases", escalated, breached, n)
			}
			perCase("sla_breached")
			perCase("escalated")
			if c := count(`SELECT COUNT(*) FROM audit_log WHERE action = 'case.sla_breached'`); c != n {
				t.Errorf("%d breach audit entries for %d cases", c, n)
			}
			if c := count(`SELECT COUNT(*) FROM notifications WHERE recipient = 'dan@primaria.ro'`); c != n {
				t.Errorf("%d notices to the signer after the breach sweep, want %d", c, n)
			}
			if _, escalated, breached = sweep(); escalated != 0 || breached != 0 {
				t.Errorf("a third sweep escalated %d and recorded %d breaches", escalated, breached)
			}
			v, err := db1.VerifyAuditChain(ctx, m.ID)
			if err != nil || !v.Valid {
				t.Fatalf("audit chain: %+v %v", v, err)
			}
		})
	}
}

// TestCheckSLACaseDecidedMeanwhile: a case at risk is decided by another
// instance while the SLA sweep runs (the sweep read it open, the decision
// holds the row and commits after): the sweep decides on the case as it now
// is and neither escalates the closed case nor notifies the signer.
func TestCheckSLACaseDecidedMeanwhile(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			clock := fiscal.NewTestClock(storetest.Epoch)
			db1, db2 := storetest.OpenPair(t, engine, clock)
			m := storetest.Municipality(t, db1, "timisoara")
			storetest.Staff(t, db1, m, "officer1", fiscal.RoleOfficer)
			storetest.Staff(t, db1, m, "signer1", fiscal.RoleSigner)
			if _, err := db1.SQL().Exec(`UPDATE users SET email = 'dan@primaria.ro' WHERE role = 'signer'`); err != nil {
				t.Fatal(err)
			}
			ana, tp := signedInTaxpayer(t, db1, m)
			data, _ := json.Marshal(map[string]any{"subject": "Iluminat", "body": "Strada nu are iluminat."})
			c, err := db1.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CasePetition, TaxpayerID: tp.ID, Data: data})
			if err != nil {
				t.Fatal(err)
			}
			clock.Set(time.Date(2026, 5, 14, 8, 0, 0, 0, time.UTC)) // Thursday: at risk

			// The other instance's decision: written, not yet committed.
			written, release := make(chan struct{}), make(chan struct{})
			decided := make(chan error, 1)
			go func() {
				decided <- db2.InTx(ctx, func(tx *store.Tx) error {
					if _, err := tx.Exec(ctx, `UPDATE cases SET status = 'approved', decided_at = ?, version = version + 1 WHERE id = ?`, tx.Now, c.ID); err != nil {
						return err
					}
					close(written)
					<-release
					return nil
				})
			}()
			<-written
			swept := make(chan *fiscal.SLAReport, 1)
			go func() {
				rep, err := db1.CheckSLA(ctx, clock.Now())
				if err != nil {
					t.Error(err)
				}
				swept <- rep
			}()
			time.Sleep(300 * time.Millisecond) // the sweep has read the case open and waits for or skips its row
			close(release)
			if err := <-decided; err != nil {
				t.Fatal(err)
			}
			rep := <-swept
			if rep == nil {
				t.FailNow()
			}
			if rep.Escalated != 0 {
				t.Errorf("the sweep escalated a case decided meanwhile: %+v", rep)
			}
			if rep, err := db2.CheckSLA(ctx, clock.Now()); err != nil || rep.Escalated != 0 {
				t.Errorf("a later sweep: %+v %v", rep, err)
			}
			var notices, events int
			db2.SQL().Get(&notices, `SELECT COUNT(*) FROM notifications WHERE recipient = 'dan@primaria.ro'`)
			db2.SQL().Get(&events, `SELECT COUNT(*) FROM case_events WHERE kind = 'escalated'`)
			if notices != 0 || events != 0 {
				t.Errorf("a decided case: %d notices to the signer, %d escalation events", notices, events)
			}
		})
	}
}
