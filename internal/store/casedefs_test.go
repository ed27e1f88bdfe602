package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

const kioskPermit = `{"type": "kiosk_permit", "title": "Chioșc", "title_en": "Kiosk", "sla_working_days": 5,
 "form": {"fields": [{"name": "place", "kind": "string", "required": true}]},
 "steps": [{"name": "review", "roles": ["officer"]}, {"name": "sign", "roles": ["signer"], "distinct_from": ["review"]}]}`

// TestPublishCaseTypeConcurrent: publications of one type at once get
// distinct, gapless versions (the unique key and the retry), each with its
// audit entry; a bad definition writes nothing.
func TestPublishCaseTypeConcurrent(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		admin, _ := storetest.Staff(t, db, m, "admin1", fiscal.RoleAdmin)
		officer, _ := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		if _, err := db.PublishCaseType(officer, json.RawMessage(kioskPermit), false); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("officer publishes: %v", err)
		}
		bad := strings.Replace(kioskPermit, `"distinct_from": ["review"]`, `"distinct_from": ["revue"]`, 1)
		_, err := db.PublishCaseType(admin, json.RawMessage(bad), false)
		if fe, ok := err.(*fiscal.Error); !ok || fe.Code != fiscal.EINVALID || fe.Fields[0].Field != "steps[1].distinct_from[0]" {
			t.Fatalf("bad definition: %v", err)
		}
		const n = 8
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			versions []int
			errs     []error
		)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := db.PublishCaseType(admin, json.RawMessage(kioskPermit), false)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				versions = append(versions, int(out.Version))
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("concurrent publications failed: %v", errs)
		}
		sort.Ints(versions)
		if fmt.Sprint(versions) != "[1 2 3 4 5 6 7 8]" {
			t.Fatalf("versions: %v", versions)
		}
		var audits int
		if err := db.SQL().Get(&audits, `SELECT COUNT(*) FROM audit_log WHERE action = 'case_type.publish'`); err != nil || audits != n {
			t.Fatalf("audit entries: %d %v", audits, err)
		}
		list, err := db.PublishedCaseTypes(admin, m.ID)
		if err != nil || len(list) != len(fiscal.CaseTypes())+1 {
			t.Fatalf("list: %v %d", err, len(list))
		}
		for _, v := range list {
			switch {
			case v.Type == "kiosk_permit" && (v.Version != n || v.Form.Fields[0].Name != "place" || v.PublishedAt == nil):
				t.Fatalf("published: %+v", v)
			case v.Type != "kiosk_permit" && (v.Version != fiscal.ShippedVersion || v.Effect != v.Type || v.PublishedAt != nil):
				t.Fatalf("shipped: %+v", v)
			}
		}
	})
}

const treeCutting = `{"type": "tree_cutting", "title": "Tăiere arbori", "title_en": "Tree cutting", "sla_working_days": 10, "authorization": true,
 "form": {"fields": [{"name": "place", "kind": "string", "required": true}]},
 "steps": [{"name": "review", "roles": ["officer"]}, {"name": "sign", "roles": ["signer"], "distinct_from": ["review"]}],
 "escalations": [{"step": "review", "after_working_days": 2, "action": "notify"},
                 {"step": "review", "after_working_days": 3, "action": "reassign", "to_role": "signer"},
                 {"step": "sign", "after_working_days": 2, "action": "deem", "decision": "approve", "warn_working_days": 1}]}`

// TestEscalationSweepTwoInstances: four sweeps at once from two instances
// notify, warn, reassign and deem each case once; a deemed decision is the
// system's signed step and the chain verifies.
func TestEscalationSweepTwoInstances(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			clock := fiscal.NewTestClock(storetest.Epoch) // Friday 8 May 2026
			db1, db2 := storetest.OpenPair(t, engine, clock)
			m := storetest.Municipality(t, db1, "timisoara")
			admin, _ := storetest.Staff(t, db1, m, "admin1", fiscal.RoleAdmin)
			officer, off := storetest.Staff(t, db1, m, "officer1", fiscal.RoleOfficer)
			_, signer := storetest.Staff(t, db1, m, "signer1", fiscal.RoleSigner)
			if _, err := db1.SQL().Exec(`UPDATE users SET email = 'ion@primaria.ro' WHERE role = 'officer'`); err != nil {
				t.Fatal(err)
			}
			ana, tp := signedInTaxpayer(t, db1, m)
			if _, err := db1.PublishCaseType(admin, json.RawMessage(treeCutting), false); err != nil {
				t.Fatal(err)
			}
			const n = 10
			var ids []int64
			for i := 0; i < n; i++ {
				c, err := db1.CreateCase(ana, &fiscal.NewCase{Type: "tree_cutting", TaxpayerID: tp.ID, Data: json.RawMessage(fmt.Sprintf(`{"place":"Str. %d"}`, i))})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, c.ID)
			}
			sweep := func() fiscal.EscalationReport {
				t.Helper()
				return sweepAtOnce(t, ctx, clock.Now(), db1, db2, db1, db2)
			}
			if rep := sweep(); rep != (fiscal.EscalationReport{}) {
				t.Fatalf("nothing is due on the day of filing: %+v", rep)
			}
			clock.Set(time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)) // Tuesday: review open 2 working days
			if rep := sweep(); rep != (fiscal.EscalationReport{Notified: n}) {
				t.Fatalf("notify: %+v", rep)
			}
			if rep := sweep(); rep != (fiscal.EscalationReport{}) {
				t.Fatalf("a second sweep: %+v", rep)
			}
			var notices int
			if err := db1.SQL().Get(&notices, db1.SQL().Rebind(`SELECT COUNT(*) FROM notifications WHERE user_id = ? AND body LIKE '%(10)'`), off.ID); err != nil || notices != 1 {
				t.Fatalf("one notice to the officer for the %d cases: %d %v", n, notices, err)
			}
			// Eight cases are reviewed today; two stay at review.
			for _, id := range ids[:8] {
				if _, err := db1.Act(officer, id, &fiscal.ActInput{Step: "review", Decision: "approve"}); err != nil {
					t.Fatal(err)
				}
			}
			clock.Set(time.Date(2026, 5, 13, 9, 0, 0, 0, time.UTC)) // sign open 1 day, review 3
			if rep := sweep(); rep != (fiscal.EscalationReport{Warned: 8, Reassigned: 2}) {
				t.Fatalf("warn and reassign: %+v", rep)
			}
			var reassigned int
			if err := db1.SQL().Get(&reassigned, db1.SQL().Rebind(`SELECT COUNT(*) FROM cases WHERE assignee_id = ?`), signer.ID); err != nil || reassigned != 2 {
				t.Fatalf("reassigned to the signer: %d %v", reassigned, err)
			}
			clock.Set(time.Date(2026, 5, 14, 9, 0, 0, 0, time.UTC)) // sign open 2 days
			if rep := sweep(); rep != (fiscal.EscalationReport{Deemed: 8}) {
				t.Fatalf("deem: %+v", rep)
			}
			d, err := db1.Case(officer, ids[0])
			if err != nil || d.Status != fiscal.StatusApproved {
				t.Fatalf("deemed case: %v %+v", err, d)
			}
			last := d.Steps[len(d.Steps)-1]
			if last.Actor != "system" || last.ActorID != nil || last.Step != "sign" || last.Decision != "approve" {
				t.Fatalf("the deemed decision is the system's: %+v", last)
			}
			tl := fmt.Sprint(len(d.Timeline))
			for _, e := range d.Timeline {
				tl += " " + e.Kind
			}
			if !strings.Contains(tl, "escalation escalation") || !strings.HasSuffix(tl, "sign") { // the act on a step named sign is recorded as a signature
				t.Fatalf("timeline: %s", tl)
			}
			if v, err := db1.VerifyCase(officer, ids[0]); err != nil || !v.Valid {
				t.Fatalf("verify: %+v %v", v, err)
			}
			var events int
			if err := db1.SQL().Get(&events, `SELECT COUNT(*) FROM case_events WHERE kind = 'escalation'`); err != nil || events != 8+2+8 { // warn, reassign, deem (a notice is its escalation row)
				t.Fatalf("escalation events: %d %v", events, err)
			}
		})
	}
}

// sweepAtOnce runs one escalation sweep on each of dbs at the same time (as
// several instances would) and adds up what they report.
func sweepAtOnce(t *testing.T, ctx context.Context, now time.Time, dbs ...*store.DB) fiscal.EscalationReport {
	t.Helper()
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		sum fiscal.EscalationReport
	)
	for _, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := db.SweepEscalations(ctx, now)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			sum.Notified, sum.Warned, sum.Reassigned, sum.Deemed = sum.Notified+rep.Notified, sum.Warned+rep.Warned, sum.Reassigned+rep.Reassigned, sum.Deemed+rep.Deemed
			mu.Unlock()
		}()
	}
	wg.Wait()
	return sum
}
