package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// ledgerDigest hashes what the annual run wrote, without the surrogate ids
// (which differ between databases): every assessment by its object, and
// every debt by its assessment's object and instalment.
func ledgerDigest(t *testing.T, dsn string) (digest string, assessments, debts int) {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, fiscal.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := sha256.New()
	rows, err := db.SQL().Query(`SELECT tax_type, object_kind, object_id, taxpayer_id, year, annual_bani, bonus_bani, budget_code, lines, source
		FROM assessments ORDER BY tax_type, object_kind, object_id, year`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tt, ok, bc, lines, src string
		var oid, tp, y, annual, bonus int64
		if err := rows.Scan(&tt, &ok, &oid, &tp, &y, &annual, &bonus, &bc, &lines, &src); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(h, tt, ok, oid, tp, y, annual, bonus, bc, lines, src)
		assessments++
	}
	rows.Close()
	rows, err = db.SQL().Query(`SELECT a.object_kind, d.object_id, d.tax_type, d.taxpayer_id, d.year, d.installment, d.due_date, d.amount_bani, d.budget_code, d.kind
		FROM debts d JOIN assessments a ON a.id = d.assessment_id ORDER BY a.object_kind, d.object_id, d.year, d.installment`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ok, tt, bc, kind string
		var oid, tp, y, inst, amount int64
		var due civil.Date
		if err := rows.Scan(&ok, &oid, &tt, &tp, &y, &inst, &due, &amount, &bc, &kind); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(h, ok, oid, tt, tp, y, inst, due, amount, bc, kind)
		debts++
	}
	rows.Close()
	return hex.EncodeToString(h.Sum(nil)), assessments, debts
}

// annualStates reads the annual run's phases of year as /metrics shows
// them (store.JobProgress), by phase.
func annualStates(t *testing.T, dsn string, year int) map[string]fiscal.AnnualRunProgress {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, fiscal.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.JobProgress(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]fiscal.AnnualRunProgress{}
	for _, r := range p.Annual {
		if r.Year == year {
			out[r.Phase] = r
		}
	}
	return out
}

// TestAssessKilledAndResumed seeds the same synthetic city in two fresh
// databases, assesses one without interruption and kills the other's run
// with SIGKILL after random delays several times before letting it finish:
// both ledgers must be identical, a further run must add nothing, and the
// audit chain must verify. The progress the CLI's process records is what
// any server's /metrics reads: a phase killed outright stays running (its
// last progress getting old), one stopped by SIGTERM is failed, and every
// phase ends finished with all its objects done.
func TestAssessKilledAndResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns the binary on a 20k-vehicle city")
	}
	bin := buildBinary(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FISCAL_KILL_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("kill delays from seed %d (FISCAL_KILL_SEED reproduces them)", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	const vehicles = "20000"
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			run := func(dsn string, args ...string) string {
				t.Helper()
				cmd := exec.Command(bin, args...)
				cmd.Env = append(os.Environ(), "FISCAL_DB="+dsn, "FISCAL_DATA_DIR="+t.TempDir())
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("fiscald %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				return string(out)
			}
			prepare := func() string {
				dsn := storetest.DSN(t, engine)
				run(dsn, "migrate")
				run(dsn, "seed", "--synthetic", vehicles, "--seed", "42")
				return dsn
			}
			// Small batches: many commit points to be killed between.
			assessArgs := []string{"assess", "--year", "2026", "--batch", "500", "--progress", "log"}

			ref := prepare()
			start := time.Now()
			run(ref, assessArgs...)
			full := time.Since(start)
			want, na, nd := ledgerDigest(t, ref)
			if na == 0 || nd < na {
				t.Fatalf("the uninterrupted run wrote %d assessments and %d debts", na, nd)
			}
			// The raw write ceiling (make bench-assess) copies the same rows,
			// prints them, drops its copies and leaves the ledger as it was.
			raw := run(ref, "bench", "raw-writes", "--year", "2026")
			if w := fmt.Sprintf("%d assessments + %d debts", na, nd); !strings.Contains(raw, w) {
				t.Fatalf("bench raw-writes: %q, want %q", raw, w)
			}
			if again, _, _ := ledgerDigest(t, ref); again != want {
				t.Fatal("bench raw-writes changed the ledger")
			}

			dsn := prepare()
			kills := 0
			for i := 0; i < 4; i++ {
				cmd := exec.Command(bin, assessArgs...)
				cmd.Env = append(os.Environ(), "FISCAL_DB="+dsn)
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				delay := time.Duration(r.Int64N(int64(full)))
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				select {
				case err := <-done:
					if err != nil {
						t.Fatalf("run %d ended by itself with %v\n%s", i, err, out.String())
					}
				case <-time.After(delay):
					cmd.Process.Kill() // SIGKILL
					<-done
					kills++
				}
				_, a, _ := ledgerDigest(t, dsn)
				t.Logf("run %d: killed after %v: %d assessments committed", i, delay.Round(time.Millisecond), a)
				for ph, st := range annualStates(t, dsn, 2026) {
					if st.State == fiscal.JobFailed || st.ObjectsDone > st.ObjectsTotal || (st.State == fiscal.JobFinished && st.ObjectsDone != st.ObjectsTotal) {
						t.Fatalf("run %d: phase %s after SIGKILL: %+v", i, ph, st)
					}
				}
			}
			run(dsn, assessArgs...)
			for _, ph := range []string{fiscal.PhaseVehicles, fiscal.PhaseBuildings, fiscal.PhaseLands} {
				st := annualStates(t, dsn, 2026)[ph]
				if st.State != fiscal.JobFinished || st.ObjectsDone != st.ObjectsTotal || (ph == fiscal.PhaseVehicles && st.ObjectsTotal < 20000) {
					t.Fatalf("phase %s after the last run: %+v", ph, st)
				}
			}
			got, ga, gd := ledgerDigest(t, dsn)
			if got != want || ga != na || gd != nd {
				t.Fatalf("after %d kills: %d assessments, %d debts (digest %s); uninterrupted: %d, %d (%s)", kills, ga, gd, got[:12], na, nd, want[:12])
			}
			// Idempotent: one more run adds nothing.
			out := run(dsn, assessArgs...)
			if !strings.Contains(out, ": 0 assessments and 0 debts written") {
				t.Fatalf("a further run wrote something:\n%s", out)
			}
			if again, _, _ := ledgerDigest(t, dsn); again != want {
				t.Fatal("a further run changed the ledger")
			}
			if out := run(dsn, "audit", "verify"); !strings.Contains(out, "intact") {
				t.Fatalf("audit chain: %s", out)
			}
			// SIGTERM once the next year's run has committed a batch: it
			// stops and records its phase failed; the next run resumes it.
			next := append([]string{}, assessArgs...)
			next[2] = "2027"
			term := exec.Command(bin, next...)
			term.Env = append(os.Environ(), "FISCAL_DB="+dsn)
			termOut := &syncBuffer{}
			term.Stdout, term.Stderr = termOut, termOut
			if err := term.Start(); err != nil {
				t.Fatal(err)
			}
			for end := time.Now().Add(time.Minute); !strings.Contains(termOut.String(), "assess progress"); time.Sleep(5 * time.Millisecond) {
				if time.Now().After(end) {
					term.Process.Kill()
					t.Fatalf("no progress from the 2027 run:\n%s", termOut.String())
				}
			}
			term.Process.Signal(syscall.SIGTERM)
			if err := term.Wait(); err == nil {
				t.Logf("the 2027 run finished before its SIGTERM:\n%s", termOut.String())
			} else {
				st := annualStates(t, dsn, 2027)[fiscal.PhaseVehicles]
				if st.State != fiscal.JobFailed || st.ObjectsDone == 0 || st.ObjectsDone >= st.ObjectsTotal {
					t.Fatalf("the vehicles of 2027 after SIGTERM (%v): %+v\n%s", err, st, termOut.String())
				}
				t.Logf("SIGTERM: the vehicles of 2027 failed at %d of %d objects", st.ObjectsDone, st.ObjectsTotal)
			}
			run(dsn, next...)
			if st := annualStates(t, dsn, 2027)[fiscal.PhaseVehicles]; st.State != fiscal.JobFinished || st.ObjectsDone != st.ObjectsTotal {
				t.Fatalf("the vehicles of 2027 after the rerun: %+v", st)
			}
			t.Logf("%d kills, %d assessments and %d debts identical to the uninterrupted run (%v)", kills, na, nd, full.Round(time.Millisecond))
		})
	}
}
