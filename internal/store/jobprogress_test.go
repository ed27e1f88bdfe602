package store_test

import (
	"context"
	"fmt"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// fillJobs writes the job rows of years of a department's life: the annual
// runs of 10 years (3 phases) of 3 municipalities and imports files, a
// tenth of them dry runs, a few failed, the last of each kind running.
func fillJobs(tb testing.TB, db *store.DB, imports int) {
	tb.Helper()
	ctx := context.Background()
	var munis []int64
	for _, slug := range []string{"timisoara", "lugoj", "jimbolia"} {
		munis = append(munis, storetest.Municipality(tb, db, slug).ID)
	}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		for _, m := range munis {
			for y := 2017; y <= 2026; y++ {
				for _, ph := range []string{fiscal.PhaseVehicles, fiscal.PhaseBuildings, fiscal.PhaseLands} {
					var fin any = tx.Now
					if y == 2026 && ph == fiscal.PhaseLands {
						fin = nil
					}
					if _, err := tx.Exec(ctx, `INSERT INTO assessment_runs (municipality_id, year, phase, started_at, updated_at, finished_at, objects_total, objects_done)
						VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m, y, ph, tx.Now, tx.Now, fin, 400000, 400000); err != nil {
						return err
					}
				}
			}
		}
		kinds := []string{"taxpayers", "vehicles", "buildings", "lands", "balances"}
		for i := 0; i < imports; i++ {
			var fin, failed any = tx.Now, nil
			switch {
			case i >= imports-len(kinds):
				fin = nil
			case i%50 == 7:
				fin, failed = nil, tx.Now
			}
			if _, err := tx.Exec(ctx, `INSERT INTO imports (municipality_id, kind, file_name, file_sha256, dry_run, rows_total, file_rows, started_at, updated_at, finished_at, failed_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, munis[i%3], kinds[i%len(kinds)], "f.csv", fmt.Sprintf("%064d", i), i%10 == 0, 5000, 10000, tx.Now, tx.Now, fin, failed); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// TestJobProgressSums: the progress read for /metrics sums the imports by
// kind, state and dry run, and lists every phase of every year.
func TestJobProgressSums(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		fillJobs(t, db, 1000)
		p, err := db.JobProgress(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Annual) != 90 {
			t.Fatalf("%d annual rows", len(p.Annual))
		}
		states := map[string]int{}
		for _, r := range p.Annual {
			states[r.State]++
			if !r.UpdatedAt.Equal(clock.Now().Truncate(1e9)) {
				t.Fatalf("updated at %s, want %s", r.UpdatedAt, clock.Now())
			}
		}
		if states[fiscal.JobRunning] != 3 || states[fiscal.JobFinished] != 87 {
			t.Fatalf("states %v", states)
		}
		var runs, running, failed, dry, rows int64
		for _, r := range p.Imports {
			runs += r.Runs
			switch r.State {
			case fiscal.JobRunning:
				running += r.Runs
				rows += r.RowsDone
			case fiscal.JobFailed:
				failed += r.Runs
			}
			if r.DryRun {
				dry += r.Runs
			}
		}
		if runs != 1000 || running != 5 || failed != 20 || dry != 100 || rows != 5*5000 {
			t.Fatalf("imports: %d runs, %d running (%d rows), %d failed, %d dry: %+v", runs, running, rows, failed, dry, p.Imports)
		}
	})
}

// BenchmarkJobProgress is one scrape's read of the jobs' progress with 90
// annual run rows and 2,000 imported files.
func BenchmarkJobProgress(b *testing.B) {
	for _, engine := range storetest.Engines() {
		b.Run(engine, func(b *testing.B) {
			db := storetest.MustOpen(b, engine, fiscal.NewTestClock(storetest.Epoch))
			fillJobs(b, db, 2000)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := db.JobProgress(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
