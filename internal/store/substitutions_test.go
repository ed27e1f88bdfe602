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
					if _, err := db1.Act(officer, c.ID, &fiscal.ActInput{Step: step, Decision: dec, Comment: "motiv " + step}); err != nil {
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

// TestChainedAbsences: the officer ioana is away and her substitute, the
// head of service bogdan, is away too, covered by his deputy corina (a
// signer). On ioana's first day her open cases go to corina through bogdan,
// except the one waiting only at a step nobody but an officer may take
// (queued). Corina takes ioana's review through the chain ioana → bogdan →
// corina, recorded as "corina for ioana" (the mode of ioana's own
// substitution, on_behalf, not bogdan's delegate); she may not take the
// non-substitutable step through it, nor act for ioana once bogdan is back. Two officers covering each other (dan →
// eva → dan) send dan's case to the queue.
func TestChainedAbsences(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		admin, adm := storetest.Staff(t, db, m, "admin1", fiscal.RoleAdmin)
		officer, _ := storetest.Staff(t, db, m, "officer9", fiscal.RoleOfficer)
		_, ioana := storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
		_, bogdan := storetest.Staff(t, db, m, "bogdan", fiscal.RoleSigner)
		corina, corinaU := storetest.Staff(t, db, m, "corina", fiscal.RoleSigner)
		_, dan := storetest.Staff(t, db, m, "dan", fiscal.RoleOfficer)
		_, eva := storetest.Staff(t, db, m, "eva", fiscal.RoleOfficer)
		if _, err := db.SQL().Exec(`UPDATE users SET email = username || '@primaria.ro' WHERE role <> 'taxpayer'`); err != nil {
			t.Fatal(err)
		}
		tpCtx, tp := signedInTaxpayer(t, db, m)
		if _, err := db.PublishCaseType(admin, json.RawMessage(kioskAbsence), false); err != nil {
			t.Fatal(err)
		}
		file := func(owner int64, acts ...string) int64 {
			t.Helper()
			c, err := db.CreateCase(tpCtx, &fiscal.NewCase{Type: "kiosk_absence", TaxpayerID: tp.ID, Data: json.RawMessage(`{"place":"Piața 700"}`)})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range acts {
				step, dec, _ := strings.Cut(a, ":")
				if _, err := db.Act(officer, c.ID, &fiscal.ActInput{Step: step, Decision: dec}); err != nil {
					t.Fatalf("%s: %v", a, err)
				}
			}
			if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE cases SET assignee_id = ? WHERE id = ?`), owner, c.ID); err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		review1, review2 := file(ioana.ID), file(ioana.ID)
		urbanismOnly := file(ioana.ID, "review:approve", "opinions.police:approve")
		dans := file(dan.ID)
		week := func(user, substitute int64, mode string, to string) {
			t.Helper()
			if _, err := db.AddSubstitution(admin, &fiscal.NewSubstitution{UserID: user, SubstituteID: substitute,
				From: civil.MustParse("2026-05-11"), To: civil.MustParse(to), Mode: mode}); err != nil {
				t.Fatal(err)
			}
		}
		week(bogdan.ID, corinaU.ID, "delegate", "2026-05-13") // bogdan is back on Thursday
		week(ioana.ID, bogdan.ID, "on_behalf", "2026-05-15")
		week(dan.ID, eva.ID, "delegate", "2026-05-15")
		week(eva.ID, dan.ID, "delegate", "2026-05-15")
		clock.Set(time.Date(2026, 5, 11, 6, 0, 0, 0, time.UTC)) // Monday, the first day of all four
		rep, err := db.SweepAbsences(ctx, clock.Now())
		if err != nil || *rep != (fiscal.AbsenceReport{Substitutions: 4, Reassigned: 2, Queued: 2}) {
			t.Fatalf("first day: %v %+v", err, rep)
		}
		for id, want := range map[int64]int64{review1: corinaU.ID, review2: corinaU.ID, urbanismOnly: 0, dans: 0} {
			if a := assignee(t, db, id); a != want {
				t.Fatalf("case %d: assignee %d, want %d", id, a, want)
			}
		}
		for id, line := range map[int64]string{
			review1:      "reassigned to corina (through bogdan, absent too), substitute for ioana (absent 2026-05-11 – 2026-05-15)",
			urbanismOnly: "their substitute corina (through bogdan, absent too) may not take the step opinions.urbanism",
			dans:         "dan is absent (2026-05-11 – 2026-05-15) and no substitute present can be reached: dan → eva → dan",
		} {
			d, err := db.Case(admin, id)
			if err != nil {
				t.Fatal(err)
			}
			if timelineCount(d, "substitute", line)+timelineCount(d, "substitute_queue", line) != 1 {
				t.Fatalf("case %d: no line %q in %s", id, line, timelineText(d))
			}
		}
		if n := rows(t, db, fmt.Sprintf(`SELECT COUNT(*) FROM notifications WHERE user_id = %d AND subject = 'Cereri preluate de la ioana (2)' AND body LIKE '%%(bogdan)%%'`, corinaU.ID)); n != 1 {
			t.Fatalf("one notice to corina for ioana's 2 cases: %d", n)
		}
		if n := rows(t, db, fmt.Sprintf(`SELECT COUNT(*) FROM notifications WHERE user_id = %d AND subject LIKE 'Cereri revenite%%'`, adm.ID)); n != 2 {
			t.Fatalf("a notice to the admin for each queued absence: %d", n)
		}
		// Corina, a signer, reviews as ioana's substitute through bogdan.
		d, err := db.Act(corina, review1, &fiscal.ActInput{Step: "review", Decision: "approve"})
		if err != nil {
			t.Fatalf("corina reviews through the chain: %v", err)
		}
		last := d.Steps[len(d.Steps)-1]
		if last.Actor != "corina" || last.ActorRole != string(fiscal.RoleOfficer) || last.OnBehalfOf != "ioana" || last.OnBehalfOfID == nil || *last.OnBehalfOfID != ioana.ID {
			t.Fatalf("the review is corina's for ioana: %+v", last)
		}
		if timelineCount(d, "review", "(corina for ioana)") != 1 { // an act on a step named review is recorded as a review
			t.Fatalf("timeline: %s", timelineText(d))
		}
		if v, err := db.VerifyCase(admin, review1); err != nil || !v.Valid {
			t.Fatalf("verify: %+v %v", v, err)
		}
		if _, err := db.Act(corina, urbanismOnly, &fiscal.ActInput{Step: "opinions.urbanism", Decision: "approve"}); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("a non-substitutable step through the chain: %v", err)
		}
		// Thursday: bogdan is back, the chain is broken.
		clock.Set(time.Date(2026, 5, 14, 9, 0, 0, 0, time.UTC))
		if _, err := db.Act(corina, review2, &fiscal.ActInput{Step: "review", Decision: "approve"}); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("corina acts for ioana once bogdan is back: %v", err)
		}
	})
}
