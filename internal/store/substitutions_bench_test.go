package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/store/storetest"
)

// BenchmarkAbsenceSweepIdle times the absence sweep of the serve loop when
// nothing is due: FISCAL_BENCH_ABSENCES past substitutions (handled) and a
// hundred future ones in the table (default 10,000).
func BenchmarkAbsenceSweepIdle(b *testing.B) {
	n := benchEnv("FISCAL_BENCH_ABSENCES", 10000)
	for _, engine := range storetest.Engines() {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			clock := fiscal.NewTestClock(storetest.Epoch)
			db := storetest.MustOpen(b, engine, clock)
			m := storetest.Municipality(b, db, "timisoara")
			_, off := storetest.Staff(b, db, m, "officer1", fiscal.RoleOfficer)
			_, sub := storetest.Staff(b, db, m, "officer2", fiscal.RoleOfficer)
			seed := func(count int, from civil.Date, done *time.Time) {
				if _, err := db.SQL().Exec(db.SQL().Rebind(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
					INSERT INTO substitutions (municipality_id, user_id, substitute_id, from_on, to_on, mode, case_type, created_at, reassigned_at)
					SELECT ?, ?, ?, ?, ?, 'delegate', '', ?, ? FROM s`), count, m.ID, off.ID, sub.ID, from, from.AddDays(4), storetest.Epoch, done); err != nil {
					b.Fatal(err)
				}
			}
			past := storetest.Epoch.Add(-24 * time.Hour)
			seed(n, fiscal.LocalDate(storetest.Epoch).AddDays(-30), &past)
			seed(100, fiscal.LocalDate(storetest.Epoch).AddDays(30), nil)
			if engine == "postgres" {
				_, _ = db.SQL().Exec(`ANALYZE substitutions`)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rep, err := db.SweepAbsences(ctx, clock.Now())
				if err != nil || rep.Substitutions != 0 {
					b.Fatalf("%v %+v", err, rep)
				}
			}
		})
	}
}

// BenchmarkAbsenceReassign times the first day of one officer's absence:
// FISCAL_BENCH_ABSENCE_CASES open cases of a published type (default 1,000)
// move to the substitute, each with its timeline line and audit entry.
func BenchmarkAbsenceReassign(b *testing.B) {
	n := benchEnv("FISCAL_BENCH_ABSENCE_CASES", 1000)
	for _, engine := range storetest.Engines() {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			clock := fiscal.NewTestClock(storetest.Epoch)
			db := storetest.MustOpen(b, engine, clock)
			m := storetest.Municipality(b, db, "timisoara")
			admin, _ := storetest.Staff(b, db, m, "admin1", fiscal.RoleAdmin)
			_, off := storetest.Staff(b, db, m, "officer1", fiscal.RoleOfficer)
			_, sub := storetest.Staff(b, db, m, "officer2", fiscal.RoleOfficer)
			_, tp, err := db.Register(ctx, m.ID, registration("ana", "2850615350041"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := db.PublishCaseType(admin, json.RawMessage(treeCutting), false); err != nil {
				b.Fatal(err)
			}
			if err := seedOpenCases(db, m.ID, tp.ID, off.ID, "tree_cutting", 0, n); err != nil {
				b.Fatal(err)
			}
			if _, err := db.AddSubstitution(admin, &fiscal.NewSubstitution{UserID: off.ID, SubstituteID: sub.ID,
				From: civil.MustParse("2026-05-11"), To: civil.MustParse("2026-05-15"), Mode: "delegate"}); err != nil {
				b.Fatal(err)
			}
			clock.Set(time.Date(2026, 5, 11, 6, 0, 0, 0, time.UTC))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE cases SET assignee_id = ? WHERE municipality_id = ?`), off.ID, m.ID); err != nil {
					b.Fatal(err)
				}
				if _, err := db.SQL().Exec(`UPDATE substitutions SET reassigned_at = NULL`); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				rep, err := db.SweepAbsences(ctx, clock.Now())
				if err != nil || rep.Reassigned != n {
					b.Fatalf("%v %+v", err, rep)
				}
				b.Logf("%s: %d cases to the substitute in %s", engine, n, time.Since(start).Round(time.Millisecond))
			}
		})
	}
}
