package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/payments/stripe"
)

// snapshotTables are the tables a use case writes; a snapshot hashes every
// row of each. Left out: sessions and users (sign-ins), the taxpayer access
// log (reads), the notifications' delivery columns, which the outbox
// dispatcher updates in the background, and the version of the taxpayer
// account rows, which every settling transaction bumps to lock the account
// (a redelivered webhook too): of those two only the keys are hashed.
var snapshotTables = []string{"allocations", "assessment_runs", "assessments", "audit_heads", "audit_log", "case_attachments",
	"case_counters", "case_events", "case_steps", "cases", "credit_entries", "credit_refunds", "debts", "document_counters", "documents",
	"idempotency_keys", "payments", "receipt_counters", "recompute_runs", "recompute_totals", "refunds", "signing_keys", "stripe_events",
	"vehicles"}

// snapshot hashes the contents of snapshotTables, per table.
func snapshot(t *testing.T, dsn string) map[string]string {
	t.Helper()
	db := openStore(t, dsn)
	defer db.Close()
	out := map[string]string{}
	for _, table := range append(snapshotTables, "notifications", "taxpayer_accounts") {
		q := `SELECT * FROM ` + table + ` ORDER BY 1`
		switch table {
		case "notifications":
			q = `SELECT id FROM notifications ORDER BY id`
		case "taxpayer_accounts":
			q = `SELECT municipality_id, taxpayer_id FROM taxpayer_accounts ORDER BY 1, 2`
		}
		rows, err := db.SQL().Queryx(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		h := sha256.New()
		n := 0
		for rows.Next() {
			row, err := rows.SliceScan()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range row {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprintf(h, "%v\x1f", v)
			}
			h.Write([]byte{'\n'})
			n++
		}
		rows.Close()
		out[table] = fmt.Sprintf("%d rows %s", n, hex.EncodeToString(h.Sum(nil))[:16])
	}
	return out
}

func openStore(t *testing.T, dsn string) *store.DB {
	f := &faultEnv{t: t, dsn: dsn}
	return f.open()
}

// diffSnapshots names the tables whose contents differ.
func diffSnapshots(a, b map[string]string) []string {
	var d []string
	for k, v := range a {
		if b[k] != v {
			d = append(d, fmt.Sprintf("%s: %s → %s", k, v, b[k]))
		}
	}
	sort.Strings(d)
	return d
}

// killedBySIGKILL reports whether a process ended by SIGKILL.
func killedBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// awaitFaultKill waits for the armed server to have killed itself.
func (f *faultEnv) awaitFaultKill(point string) {
	f.t.Helper()
	select {
	case err := <-f.srv.done:
		if !killedBySIGKILL(err) {
			f.t.Fatalf("%s: the server ended with %v, not SIGKILL\n%s", point, err, f.srv.out.String())
		}
	case <-time.After(20 * time.Second):
		f.t.Fatalf("%s: the server is still running: the fault point was not reached", point)
	}
	f.srv = nil
}

// TestKillAtFaultPoint stops the real server with SIGKILL at chosen points
// inside a transaction (FISCAL_FAULT_POINT, internal/store/faultpoint.go):
// after a signer's step is written but before the commit, after a
// settlement's allocations are inserted (cash) or after it is complete
// (webhook), and after a refund's reversal. For each: the request gets no
// answer, the database is byte for byte what it was before the request,
// the same request sent again after a restart applies once, and a third
// send changes nothing. Then the annual run is killed between a batch's
// writes and its cursor update, resumed, and must equal an uninterrupted
// run. The shared checks (ledger, gapless numbers, cases verify, the audit
// chain) close each engine's run.
func TestKillAtFaultPoint(t *testing.T) {
	needFaults(t)
	bin := buildBinary(t)
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			f := newFaultEnv(t, bin, engine, 40, 2)
			f.env = append(f.env, "FISCAL_SLA_INTERVAL=1h")
			c := &client{base: f.base, http: &http.Client{Timeout: 30 * time.Second}}
			a := newAcked()

			f.start()
			off := c.login(t, "ofiter1", "parola-ofiter-2026")
			sig := c.login(t, "semnat1", "parola-semnat-2026")
			cashier := c.login(t, "ioana", "ghiseu-demo-2026")
			acc := c.login(t, "carmen", "bilant-demo-2026")
			must := func(what string, r reply, err error, want int) reply {
				t.Helper()
				if err != nil || r.status != want {
					t.Fatalf("%s: %v %d %s", what, err, r.status, r.raw)
				}
				return r
			}
			r, err := c.do("POST", "/api/v1/cases", off, map[string]any{"type": "petition", "taxpayer_id": f.tps[0],
				"data": map[string]any{"subject": "Iluminat", "body": "Cererea"}}, "Idempotency-Key", "fp-case")
			caseID := num(must("file a case", r, err, 201).body["id"])
			r, err = c.do("POST", fmt.Sprintf("/api/v1/cases/%d/review", caseID), off, map[string]any{"decision": "approve"})
			must("review", r, err, 200)
			r, err = c.do("POST", "/api/v1/payments/cash", cashier, map[string]any{"taxpayer_id": f.tps[1], "amount": "300.00"}, "Idempotency-Key", "fp-cash-0")
			paid := num(must("cash payment", r, err, 201).body["id"])
			a.cases[caseID] = true
			a.cash[paid] = fmt.Sprint(r.body["receipt_number"])
			f.stop()

			webhook := func() (reply, error) {
				ev := stripe.TestEvent{ID: "evt_fp_" + f.intents[0], Type: stripe.EventPaymentSucceeded, PaymentIntentID: f.intents[0], Amount: 2500, Created: time.Now()}
				payload, sg := stripe.SignedTestPayload(faultWebhookSecret, ev.JSON())
				return c.do("POST", "/api/v1/webhooks/stripe", "", payload, "Stripe-Signature", sg)
			}
			var cashID int64
			cases := []struct {
				point string
				send  func() (reply, error)
				want  int // status of the retry
				// again checks the third send and the effect (applied once).
				again func(r reply, err error)
			}{
				{store.FaultCaseSign, func() (reply, error) {
					return c.do("POST", fmt.Sprintf("/api/v1/cases/%d/sign", caseID), sig, map[string]any{"decision": "approve"})
				}, 200, func(r reply, err error) {
					if err != nil || r.status != 409 {
						t.Errorf("signing an approved case again: %v %d %s", err, r.status, r.raw)
					}
					a.signed[caseID] = true
				}},
				{store.FaultSettleAllocations, func() (reply, error) {
					return c.do("POST", "/api/v1/payments/cash", cashier, map[string]any{"taxpayer_id": f.tps[2], "amount": "250.00"}, "Idempotency-Key", "fp-cash-1")
				}, 201, func(r reply, err error) {
					if err != nil || r.status != 201 || num(r.body["id"]) != cashID {
						t.Errorf("replaying the cash payment: %v %d %s (first answer: id %d)", err, r.status, r.raw, cashID)
					}
				}},
				{store.FaultSettleCommit, webhook, 200, func(r reply, err error) {
					if err != nil || r.status != 200 {
						t.Errorf("the webhook's redelivery: %v %d %s", err, r.status, r.raw)
					}
					a.webhooks[f.intents[0]] = true
				}},
				{store.FaultRefundApply, func() (reply, error) {
					return c.do("POST", fmt.Sprintf("/api/v1/payments/%d/refunds", paid), acc, map[string]any{"amount": "120.00", "reason": "restituire"}, "Idempotency-Key", "fp-refund")
				}, 201, func(r reply, err error) {
					if err != nil || r.status != 201 {
						t.Errorf("replaying the refund: %v %d %s", err, r.status, r.raw)
					}
					a.refunds[paid] += 12000
				}},
			}
			for _, tc := range cases {
				f.start("FISCAL_FAULT_POINT=" + tc.point)
				before := snapshot(t, f.dsn)
				r, err := tc.send()
				if err == nil {
					t.Fatalf("%s: the request was answered %d %s: the fault point was not reached", tc.point, r.status, r.raw)
				}
				f.awaitFaultKill(tc.point)
				if d := diffSnapshots(before, snapshot(t, f.dsn)); len(d) > 0 {
					t.Errorf("%s: the killed transaction left a trace:\n%s", tc.point, strings.Join(d, "\n"))
				}
				f.start()
				mid := snapshot(t, f.dsn)
				r, err = tc.send()
				if err != nil || r.status != tc.want {
					t.Fatalf("%s: the retry after the restart: %v %d %s", tc.point, err, r.status, r.raw)
				}
				if tc.point == store.FaultSettleAllocations {
					cashID = num(r.body["id"])
					a.cash[cashID] = fmt.Sprint(r.body["receipt_number"])
				}
				after := snapshot(t, f.dsn)
				if len(diffSnapshots(mid, after)) == 0 {
					t.Errorf("%s: the retry changed nothing", tc.point)
				}
				tc.again(tc.send())
				if d := diffSnapshots(after, snapshot(t, f.dsn)); len(d) > 0 {
					t.Errorf("%s: the third send changed the database:\n%s", tc.point, strings.Join(d, "\n"))
				}
				t.Logf("%s: killed there, no trace; the retry answered %d and applied once", tc.point, tc.want)
				f.stop()
			}
			f.start()
			fg := f.check(a)
			f.stop()
			t.Logf("%s: invariants hold: %s", engine, fg)

			// The annual run: killed at its third batch between the writes
			// and the cursor update.
			ref, dsn := storetest.DSN(t, engine), storetest.DSN(t, engine)
			job := func(dsn string, extra ...string) (string, error) {
				cmd := exec.Command(bin, "assess", "--year", "2026", "--batch", "100", "--progress", "log")
				cmd.Env = append(append(os.Environ(), "FISCAL_DB="+dsn, "FISCAL_DATA_DIR="+t.TempDir()), extra...)
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			for _, d := range []string{ref, dsn} {
				g := &faultEnv{t: t, bin: bin, env: append(os.Environ(), "FISCAL_DB="+d, "FISCAL_DATA_DIR="+t.TempDir())}
				g.run(nil, "migrate")
				g.run(nil, "seed", "--synthetic", "1000", "--seed", "5")
			}
			if out, err := job(ref); err != nil {
				t.Fatalf("assess: %v\n%s", err, out)
			}
			want, na, nd := ledgerDigest(t, ref)
			out, err := job(dsn, "FISCAL_FAULT_POINT="+store.FaultAnnualCursor+"#3")
			if !killedBySIGKILL(err) {
				t.Fatalf("assess with %s#3: %v, not SIGKILL\n%s", store.FaultAnnualCursor, err, out)
			}
			db := openStore(t, dsn)
			var run struct {
				Phase   string `db:"phase"`
				Cursor  int64  `db:"cursor_taxpayer_id"`
				Batches int64  `db:"batches"`
				N       int64  `db:"assessments"`
			}
			var stored, beyond, audited int64
			for _, q := range []struct {
				dst   any
				query string
			}{
				{&run, `SELECT phase, cursor_taxpayer_id, batches, assessments FROM assessment_runs WHERE year = 2026 AND finished_at IS NULL`},
				{&stored, `SELECT COUNT(*) FROM assessments`},
				{&audited, `SELECT COUNT(*) FROM audit_log WHERE action = 'assessment.annual_batch'`},
			} {
				if err := db.SQL().Get(q.dst, q.query); err != nil {
					t.Fatalf("%s: %v", q.query, err)
				}
			}
			if err := db.SQL().Get(&beyond, db.SQL().Rebind(`SELECT COUNT(*) FROM assessments WHERE taxpayer_id > ?`), run.Cursor); err != nil {
				t.Fatal(err)
			}
			db.Close()
			refDB := openStore(t, ref)
			var refUpTo int64
			if err := refDB.SQL().Get(&refUpTo, refDB.SQL().Rebind(`SELECT COUNT(*) FROM assessments WHERE object_kind = ? AND taxpayer_id <= ?`), run.Phase, run.Cursor); err != nil {
				t.Fatal(err)
			}
			refDB.Close()
			if run.Phase != "vehicle" || run.Batches != 2 || audited != 2 || beyond != 0 || stored != run.N || stored != refUpTo || stored == 0 {
				t.Fatalf("after the kill at the third batch: run %+v, %d assessments stored (%d beyond the cursor, %d in the reference up to it), %d batch audit entries",
					run, stored, beyond, refUpTo, audited)
			}
			if out, err := job(dsn); err != nil {
				t.Fatalf("resumed assess: %v\n%s", err, out)
			}
			got, ga, gd := ledgerDigest(t, dsn)
			if got != want || ga != na || gd != nd {
				t.Fatalf("resumed run: %d assessments, %d debts (%s); uninterrupted %d, %d (%s)", ga, gd, got[:12], na, nd, want[:12])
			}
			g := &faultEnv{t: t, bin: bin, env: append(os.Environ(), "FISCAL_DB="+dsn, "FISCAL_DATA_DIR="+t.TempDir())}
			if out := g.run(nil, "audit", "verify"); !strings.Contains(out, "intact") {
				t.Fatalf("audit chain after the annual kill: %s", out)
			}
			t.Logf("%s: annual run killed at batch 3 before its cursor moved: %d assessments of 2 batches kept, none beyond the cursor; resumed: %d assessments and %d debts identical to the uninterrupted run",
				engine, stored, na, nd)
		})
	}
}
