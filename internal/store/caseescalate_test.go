package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// stallOpinions escalates one branch of a parallel group: the police's
// opinion. A rejected opinion sends the case back to review.
const stallOpinions = `{"type": "stall_opinions", "title": "Tarabă", "title_en": "Stall", "sla_working_days": 10, "authorization": true,
 "form": {"fields": [{"name": "place", "kind": "string", "required": true}]},
 "steps": [{"name": "review", "roles": ["officer"]},
           {"name": "opinions", "parallel": [{"name": "urbanism", "roles": ["officer"]}, {"name": "police", "roles": ["officer"]}],
            "next": {"reject": "review"}},
           {"name": "sign", "roles": ["signer"]}],
 "escalations": [{"step": "opinions.police", "after_working_days": 1, "action": "notify"},
                 {"step": "opinions.police", "after_working_days": 2, "action": "deem", "decision": "approve"}]}`

// TestEscalationSkipsTakenBranch: a rule naming a branch of a parallel
// group escalates only the cases where that branch is still open. The
// police gave their opinion on one case (the group still waits for
// urbanism): neither its notice nor its deemed opinion fires there. A case
// whose group reopened after the police's opinion of an earlier round (the
// same day) has the branch open again and is escalated.
func TestEscalationSkipsTakenBranch(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		admin, _ := storetest.Staff(t, db, m, "admin1", fiscal.RoleAdmin)
		officer, off := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		// Notices go to an address (a member of staff without one gets none).
		if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE users SET email = 'officer1@primaria.ro' WHERE id = ?`), off.ID); err != nil {
			t.Fatal(err)
		}
		ana, tp := signedInTaxpayer(t, db, m)
		if _, err := db.PublishCaseType(admin, json.RawMessage(stallOpinions), false); err != nil {
			t.Fatal(err)
		}
		file := func(acts ...string) int64 {
			t.Helper()
			c, err := db.CreateCase(ana, &fiscal.NewCase{Type: "stall_opinions", TaxpayerID: tp.ID, Data: json.RawMessage(`{"place":"Piața 700"}`)})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range acts {
				var step, dec string
				fmt.Sscanf(a, "%s %s", &step, &dec)
				if _, err := db.Act(officer, c.ID, &fiscal.ActInput{Step: step, Decision: dec, Comment: "avizul " + step}); err != nil {
					t.Fatalf("%s: %v", a, err)
				}
			}
			return c.ID
		}
		// Friday: every group opens today.
		policeGiven := file("review approve", "opinions.police approve")
		waiting := file("review approve")
		reopened := file("review approve", "opinions.police reject", "review approve")
		for id, want := range map[int64]string{policeGiven: "[opinions.urbanism]", waiting: "[opinions.urbanism opinions.police]", reopened: "[opinions.urbanism opinions.police]"} {
			d, err := db.Case(officer, id)
			if err != nil {
				t.Fatal(err)
			}
			var open []string
			for _, o := range d.OpenSteps {
				open = append(open, o.Step)
			}
			if fmt.Sprint(open) != want {
				t.Fatalf("case %d: open %v, want %s", id, open, want)
			}
		}
		claimed := func(action string) string {
			t.Helper()
			var ids []int64
			if err := db.SQL().Select(&ids, db.SQL().Rebind(`SELECT case_id FROM case_escalations WHERE step = 'opinions.police' AND action = ? ORDER BY case_id`), action); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(ids)
		}
		want := fmt.Sprint([]int64{waiting, reopened})
		clock.Set(time.Date(2026, 5, 11, 9, 0, 0, 0, time.UTC)) // Monday: the police's opinion is 1 working day late
		if rep, err := db.SweepEscalations(ctx, clock.Now()); err != nil || rep.Notified != 2 {
			t.Fatalf("notify: %v %+v", err, rep)
		}
		if got := claimed("notify"); got != want {
			t.Fatalf("notified %s, want %s (the police gave their opinion on %d)", got, want, policeGiven)
		}
		if n := rows(t, db, fmt.Sprintf(`SELECT COUNT(*) FROM notifications WHERE user_id = %d AND body LIKE '%%opinions.police%%(2)'`, off.ID)); n != 1 {
			t.Fatalf("one notice to the officer for the 2 late opinions: %d", n)
		}
		clock.Set(time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)) // Tuesday: 2 working days, deemed
		if rep, err := db.SweepEscalations(ctx, clock.Now()); err != nil || *rep != (fiscal.EscalationReport{Deemed: 2}) {
			t.Fatalf("deem: %v %+v", err, rep)
		}
		if got := claimed("deem"); got != want {
			t.Fatalf("deemed %s, want %s", got, want)
		}
		d, err := db.Case(officer, policeGiven)
		if err != nil {
			t.Fatal(err)
		}
		if last := d.Steps[len(d.Steps)-1]; last.Actor == "system" || last.Step != "opinions.police" || len(d.OpenSteps) != 1 {
			t.Fatalf("the police's own opinion stands alone: %+v, open %+v", last, d.OpenSteps)
		}
		for _, id := range []int64{waiting, reopened} {
			d, err := db.Case(officer, id)
			if err != nil {
				t.Fatal(err)
			}
			last := d.Steps[len(d.Steps)-1]
			if last.Actor != "system" || last.Step != "opinions.police" || last.Decision != "approve" || len(d.OpenSteps) != 1 || d.OpenSteps[0].Step != "opinions.urbanism" {
				t.Fatalf("case %d: deemed opinion %+v, open %+v", id, last, d.OpenSteps)
			}
		}
	})
}

// escCrashChild is set in the child process of TestDeemedDecisionRetried:
// the DSN of the database it sweeps until its fault point kills it.
const escCrashChild = "FISCAL_TEST_ESC_CRASH_DSN"

// TestDeemedDecisionRetried: a sweep process killed (SIGKILL, fault point
// escalation.deem.before-act) after committing its claims of deemed
// decisions and before the acts leaves the claims pending; the next sweeps,
// four at once from two instances, take each decision once (one signed
// system step, one notice to the taxpayer per case), close without an act
// the claim of a case a signer decided meanwhile, and report no error. A
// claim younger than a minute belongs to a sweep still running: not taken.
func TestDeemedDecisionRetried(t *testing.T) {
	if dsn := os.Getenv(escCrashChild); dsn != "" {
		escalationCrashChild(t, dsn)
		return
	}
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			clock := fiscal.NewTestClock(storetest.Epoch) // Friday 8 May 2026
			db1, db2 := storetest.OpenPair(t, engine, clock)
			m := storetest.Municipality(t, db1, "timisoara")
			admin, _ := storetest.Staff(t, db1, m, "admin1", fiscal.RoleAdmin)
			officer, _ := storetest.Staff(t, db1, m, "officer1", fiscal.RoleOfficer)
			signer, _ := storetest.Staff(t, db1, m, "signer1", fiscal.RoleSigner)
			ana, tp := signedInTaxpayer(t, db1, m)
			if _, err := db1.PublishCaseType(admin, json.RawMessage(treeCutting), false); err != nil {
				t.Fatal(err)
			}
			const n = 4
			var ids []int64
			for i := 0; i < n; i++ {
				c, err := db1.CreateCase(ana, &fiscal.NewCase{Type: "tree_cutting", TaxpayerID: tp.ID, Data: json.RawMessage(fmt.Sprintf(`{"place":"Str. %d"}`, i))})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db1.Act(officer, c.ID, &fiscal.ActInput{Step: "review", Decision: "approve"}); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, c.ID)
			}
			// Tuesday: the signature is 2 working days late: deemed. The
			// sweeping process dies after its claims.
			clock.Set(time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC))
			cmd := exec.Command(os.Args[0], "-test.run=^TestDeemedDecisionRetried$")
			cmd.Env = append(os.Environ(), escCrashChild+"="+db1.DSN(), "FISCAL_TEST_ESC_CRASH_AT="+clock.Now().Format(time.RFC3339Nano))
			out, err := cmd.CombinedOutput()
			if !killedByKill(err) {
				t.Fatalf("the sweep was not killed at %s: %v\n%s", store.FaultEscalationDeem, err, out)
			}
			pending := func() int {
				return rows(t, db1, `SELECT COUNT(*) FROM case_escalations WHERE action = 'deem' AND done_at IS NULL`)
			}
			if p, acts := pending(), rows(t, db1, `SELECT COUNT(*) FROM case_steps WHERE action = 'act' AND step = 'sign'`); p != n || acts != 0 {
				t.Fatalf("after the kill: %d pending claims, %d signatures; want %d and 0", p, acts, n)
			}
			// A signer decides one of them meanwhile.
			if _, err := db1.Act(signer, ids[n-1], &fiscal.ActInput{Step: "sign", Decision: "reject", Comment: "loc nepotrivit"}); err != nil {
				t.Fatal(err)
			}
			notices := func() map[int64]int {
				var rs []struct {
					CaseID int64 `db:"case_id"`
					N      int   `db:"n"`
				}
				if err := db1.SQL().Select(&rs, `SELECT case_id, COUNT(*) AS n FROM notifications WHERE case_id IS NOT NULL GROUP BY case_id`); err != nil {
					t.Fatal(err)
				}
				out := map[int64]int{}
				for _, r := range rs {
					out[r.CaseID] = r.N
				}
				return out
			}
			before := notices()
			sweep := func() fiscal.EscalationReport {
				t.Helper()
				return sweepAtOnce(t, ctx, clock.Now(), db1, db2, db1, db2)
			}
			if rep := sweep(); rep != (fiscal.EscalationReport{}) || pending() != n {
				t.Fatalf("claims of a minute ago belong to a running sweep: %+v, %d pending", rep, pending())
			}
			clock.Set(clock.Now().Add(5 * time.Minute))
			if rep := sweep(); rep != (fiscal.EscalationReport{Deemed: n - 1}) {
				t.Fatalf("the retry: %+v", rep)
			}
			if p := pending(); p != 0 {
				t.Fatalf("%d claims still pending", p)
			}
			if rep := sweep(); rep != (fiscal.EscalationReport{}) {
				t.Fatalf("a second retry: %+v", rep)
			}
			after := notices()
			for i, id := range ids {
				d, err := db1.Case(officer, id)
				if err != nil {
					t.Fatal(err)
				}
				signs, system := 0, 0
				for _, st := range d.Steps {
					if st.Step == "sign" {
						signs++
						if st.Actor == "system" {
							system++
						}
					}
				}
				wantStatus, wantSystem := fiscal.StatusApproved, 1
				if i == n-1 {
					wantStatus, wantSystem = fiscal.StatusRejected, 0
				}
				if d.Status != wantStatus || signs != 1 || system != wantSystem {
					t.Fatalf("case %d: %s, %d signatures of which %d the system's", id, d.Status, signs, system)
				}
				if i < n-1 && after[id]-before[id] != 1 {
					t.Fatalf("case %d: %d notices for the deemed decision", id, after[id]-before[id])
				}
				if i == n-1 && after[id] != before[id] {
					t.Fatalf("the case decided by the signer got a notice from the sweep")
				}
				if v, err := db1.VerifyCase(officer, id); err != nil || !v.Valid {
					t.Fatalf("verify %d: %+v %v", id, v, err)
				}
			}
		})
	}
}

// escalationCrashChild is the sweeping process that dies: it sweeps the
// database at the parent's time with the fault point armed.
func escalationCrashChild(t *testing.T, dsn string) {
	at, err := time.Parse(time.RFC3339Nano, os.Getenv("FISCAL_TEST_ESC_CRASH_AT"))
	if err != nil {
		t.Fatal(err)
	}
	clock := fiscal.NewTestClock(at)
	db, err := store.Open(context.Background(), dsn, clock)
	if err != nil {
		t.Fatal(err)
	}
	if !db.SetFaultPoint(store.FaultEscalationDeem) {
		t.Fatal("unknown fault point")
	}
	rep, err := db.SweepEscalations(context.Background(), clock.Now())
	t.Fatalf("the sweep returned (%+v, %v): the fault point was not reached", rep, err)
}

// killedByKill reports whether a child process ended by SIGKILL.
func killedByKill(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
