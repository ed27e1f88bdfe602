package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// kioskAbsence has a substitutable review, parallel opinions of which the
// urbanism one is not substitutable, and a signature.
const kioskAbsence = `{"type": "kiosk_absence", "title": "Chioșc", "title_en": "Kiosk", "sla_working_days": 10,
 "form": {"fields": [{"name": "place", "kind": "string", "required": true}]},
 "steps": [{"name": "review", "roles": ["officer"]},
           {"name": "opinions", "parallel": [{"name": "urbanism", "roles": ["officer"], "substitutable": false},
                                             {"name": "police", "roles": ["officer"]}]},
           {"name": "sign", "roles": ["signer"]}]}`

// TestAbsenceSweepTwoInstances: on the first day of an officer's absence,
// four sweeps at once from two instances move the officer's open cases to
// the substitute (the head of service, a signer) once: a case waiting only
// at a step the substitute may not take returns to the queue instead, a
// decided case stays; each moved case has its timeline line and audit
// entry, the substitute one notice and the admin one for the queue. The
// substitute then takes the moved step; nothing moves back when the absence
// ends. An absence recorded after its start moves the cases at once.
func TestAbsenceSweepTwoInstances(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			clock := fiscal.NewTestClock(storetest.Epoch) // Friday 8 May 2026
			db1, db2 := storetest.OpenPair(t, engine, clock)
			m := storetest.Municipality(t, db1, "timisoara")
			admin, adm := storetest.Staff(t, db1, m, "admin1", fiscal.RoleAdmin)
			officer, off := storetest.Staff(t, db1, m, "officer1", fiscal.RoleOfficer)
			head, sig := storetest.Staff(t, db1, m, "signer1", fiscal.RoleSigner)
			if _, err := db1.SQL().Exec(`UPDATE users SET email = username || '@primaria.ro' WHERE role <> 'taxpayer'`); err != nil {
				t.Fatal(err)
			}
			ana, tp := signedInTaxpayer(t, db1, m)
			if _, err := db1.PublishCaseType(admin, json.RawMessage(kioskAbsence), false); err != nil {
				t.Fatal(err)
			}
			file := func(acts ...string) int64 {
				t.Helper()
				c, err := db1.CreateCase(ana, &fiscal.NewCase{Type: "kiosk_absence", TaxpayerID: tp.ID, Data: json.RawMessage(`{"place":"Piața 700"}`)})
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range acts {
					step, dec, _ := strings.Cut(a, ":")
					if _, err := db1.Act(officer, c.ID, &fiscal.ActInput{Step: step, Decision: dec}); err != nil {
						t.Fatalf("%s: %v", a, err)
					}
				}
				return c.ID
			}
			atReview := file()
			urbanismOnly := file("review:approve", "opinions.police:approve")
			bothOpinions := file("review:approve")
			rejected := file("review:reject")
			for _, id := range []int64{atReview, urbanismOnly, bothOpinions, rejected} {
				if a := assignee(t, db1, id); a != off.ID {
					t.Fatalf("case %d filed to %d, not the officer", id, a)
				}
			}
			// Recorded on Friday for next week: nothing moves yet.
			s, err := db1.AddSubstitution(admin, &fiscal.NewSubstitution{UserID: off.ID, SubstituteID: sig.ID,
				From: civil.MustParse("2026-05-11"), To: civil.MustParse("2026-05-15"), Mode: "delegate"})
			if err != nil || s.ReassignedAt != nil || len(s.Reassigned) > 0 {
				t.Fatalf("substitution: %v %+v", err, s)
			}
			sweep := func() fiscal.AbsenceReport {
				t.Helper()
				var (
					wg  sync.WaitGroup
					mu  sync.Mutex
					sum fiscal.AbsenceReport
				)
				for _, db := range []*store.DB{db1, db2, db1, db2} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rep, err := db.SweepAbsences(ctx, clock.Now())
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						sum.Substitutions, sum.Reassigned, sum.Queued = sum.Substitutions+rep.Substitutions, sum.Reassigned+rep.Reassigned, sum.Queued+rep.Queued
						mu.Unlock()
					}()
				}
				wg.Wait()
				return sum
			}
			if rep := sweep(); rep != (fiscal.AbsenceReport{}) {
				t.Fatalf("the absence has not started: %+v", rep)
			}
			clock.Set(time.Date(2026, 5, 11, 6, 0, 0, 0, time.UTC)) // Monday, its first day
			if rep := sweep(); rep != (fiscal.AbsenceReport{Substitutions: 1, Reassigned: 2, Queued: 1}) {
				t.Fatalf("first day: %+v", rep)
			}
			if rep := sweep(); rep != (fiscal.AbsenceReport{}) {
				t.Fatalf("a second sweep: %+v", rep)
			}
			for id, want := range map[int64]int64{atReview: sig.ID, bothOpinions: sig.ID, urbanismOnly: 0, rejected: off.ID} {
				if a := assignee(t, db1, id); a != want {
					t.Fatalf("case %d: assignee %d, want %d", id, a, want)
				}
			}
			// Timeline and audit, once per case.
			d, err := db1.Case(admin, atReview)
			if err != nil {
				t.Fatal(err)
			}
			if n := timelineCount(d, "substitute", "reassigned to signer1, substitute for officer1 (absent 2026-05-11 – 2026-05-15)"); n != 1 {
				t.Fatalf("timeline of a moved case: %d %s", n, timelineText(d))
			}
			if d, err = db1.Case(admin, urbanismOnly); err != nil {
				t.Fatal(err)
			}
			if n := timelineCount(d, "substitute_queue", "may not take the step opinions.urbanism"); n != 1 {
				t.Fatalf("timeline of a queued case: %d %s", n, timelineText(d))
			}
			if d, err := db1.Case(ana, atReview); err != nil || timelineCount(d, "substitute", "") != 0 {
				t.Fatalf("the taxpayer does not see the reassignment: %v", err)
			}
			if n := rows(t, db1, `SELECT COUNT(*) FROM audit_log WHERE action = 'case.reassign_absence'`); n != 3 {
				t.Fatalf("audit entries per case: %d", n)
			}
			if n := rows(t, db1, `SELECT COUNT(*) FROM audit_log WHERE action = 'substitution.reassign'`); n != 1 {
				t.Fatalf("audit entries per substitution: %d", n)
			}
			if n := rows(t, db1, fmt.Sprintf(`SELECT COUNT(*) FROM notifications WHERE user_id = %d AND recipient = 'signer1@primaria.ro' AND subject LIKE 'Cereri preluate de la officer1 (2)%%'`, sig.ID)); n != 1 {
				t.Fatalf("one notice to the substitute: %d", n)
			}
			if n := rows(t, db1, fmt.Sprintf(`SELECT COUNT(*) FROM notifications WHERE user_id = %d AND subject LIKE 'Cereri revenite%%(1)'`, adm.ID)); n != 1 {
				t.Fatalf("one notice to the admin for the queue: %d", n)
			}
			// The substitute takes the moved step as the absent officer; not
			// the non-substitutable one.
			if _, err := db1.Act(head, atReview, &fiscal.ActInput{Step: "review", Decision: "approve"}); err != nil {
				t.Fatalf("the substitute reviews: %v", err)
			}
			if _, err := db1.Act(head, urbanismOnly, &fiscal.ActInput{Step: "opinions.urbanism", Decision: "approve"}); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
				t.Fatalf("the substitute takes a non-substitutable step: %v", err)
			}
			if v, err := db1.VerifyCase(admin, atReview); err != nil || !v.Valid {
				t.Fatalf("verify: %+v %v", v, err)
			}
			// After the absence the cases stay with the substitute.
			clock.Set(time.Date(2026, 5, 18, 6, 0, 0, 0, time.UTC))
			if rep := sweep(); rep != (fiscal.AbsenceReport{}) || assignee(t, db1, bothOpinions) != sig.ID {
				t.Fatalf("after the absence: %+v", rep)
			}
			// Recorded once started: the cases move in the same transaction;
			// one limited to another type moves none of them.
			late := file()
			s, err = db2.AddSubstitution(admin, &fiscal.NewSubstitution{UserID: off.ID, SubstituteID: sig.ID,
				From: civil.MustParse("2026-05-18"), To: civil.MustParse("2026-05-19"), Mode: "on_behalf", CaseType: "market_stall_permit"})
			if err != nil || s.ReassignedAt == nil || len(s.Reassigned) != 0 || assignee(t, db1, late) != off.ID {
				t.Fatalf("an absence for another type: %v %+v", err, s)
			}
			s, err = db2.AddSubstitution(admin, &fiscal.NewSubstitution{UserID: off.ID, SubstituteID: sig.ID,
				From: civil.MustParse("2026-05-18"), To: civil.MustParse("2026-05-19"), Mode: "on_behalf"})
			if err != nil || s.ReassignedAt == nil || fmt.Sprint(s.Reassigned) != fmt.Sprint([]int64{late}) || len(s.Queued) != 0 {
				t.Fatalf("a started absence: %v %+v", err, s)
			}
			if rep := sweep(); rep != (fiscal.AbsenceReport{}) || assignee(t, db1, late) != sig.ID {
				t.Fatalf("after a started absence: %+v", rep)
			}
			// Recorded after it ended (or covering only days off): nothing
			// moves, and the sweep never reads it again.
			other := file()
			s, err = db1.AddSubstitution(admin, &fiscal.NewSubstitution{UserID: off.ID, SubstituteID: sig.ID,
				From: civil.MustParse("2026-05-04"), To: civil.MustParse("2026-05-08"), Mode: "delegate"})
			if err != nil || s.ReassignedAt == nil || len(s.Reassigned) != 0 || assignee(t, db1, other) != off.ID {
				t.Fatalf("a past absence: %v %+v", err, s)
			}
			if n := rows(t, db1, `SELECT COUNT(*) FROM substitutions WHERE reassigned_at IS NULL`); n != 0 {
				t.Fatalf("unclaimed substitutions: %d", n)
			}
			// A substitute disabled before the absence starts gets nothing:
			// the cases return to the queue.
			_, gone := storetest.Staff(t, db1, m, "officer3", fiscal.RoleOfficer)
			if _, err := db1.AddSubstitution(admin, &fiscal.NewSubstitution{UserID: off.ID, SubstituteID: gone.ID,
				From: civil.MustParse("2026-05-20"), To: civil.MustParse("2026-05-22"), Mode: "delegate"}); err != nil {
				t.Fatal(err)
			}
			if _, err := db1.DisableUser(admin, gone.ID); err != nil {
				t.Fatal(err)
			}
			clock.Set(time.Date(2026, 5, 20, 6, 0, 0, 0, time.UTC))
			if rep := sweep(); rep != (fiscal.AbsenceReport{Substitutions: 1, Queued: 1}) || assignee(t, db1, other) != 0 {
				t.Fatalf("a disabled substitute: %+v", rep)
			}
			if d, err := db1.Case(admin, other); err != nil || timelineCount(d, "substitute_queue", "their substitute officer3 is disabled") != 1 {
				t.Fatalf("timeline: %v %s", err, timelineText(d))
			}
		})
	}
}

func assignee(t *testing.T, db *store.DB, caseID int64) int64 {
	t.Helper()
	var a *int64
	if err := db.SQL().Get(&a, db.SQL().Rebind(`SELECT assignee_id FROM cases WHERE id = ?`), caseID); err != nil {
		t.Fatal(err)
	}
	if a == nil {
		return 0
	}
	return *a
}

func timelineCount(d *fiscal.CaseDetail, kind, body string) int {
	n := 0
	for _, e := range d.Timeline {
		if e.Kind == kind && strings.Contains(e.Body, body) {
			n++
		}
	}
	return n
}

func timelineText(d *fiscal.CaseDetail) string {
	var b strings.Builder
	for _, e := range d.Timeline {
		fmt.Fprintf(&b, "\n%s %s: %s", e.Actor, e.Kind, e.Body)
	}
	return b.String()
}

func rows(t *testing.T, db *store.DB, query string) int {
	t.Helper()
	var n int
	if err := db.SQL().Get(&n, query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
