package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

func benchEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkEscalationSweep times one escalation sweep over T published
// types with C open cases each, every case due for a notify (an escalation
// row, a timeline line and a notice to its officer each). Small by default;
// the figure is FISCAL_BENCH_ESC_TYPES=300 FISCAL_BENCH_ESC_CASES=1000
// (300,000 open cases; target under 10 s). See BENCHMARKS.md.
func BenchmarkEscalationSweep(b *testing.B) {
	types, perType := benchEnv("FISCAL_BENCH_ESC_TYPES", 10), benchEnv("FISCAL_BENCH_ESC_CASES", 100)
	for _, engine := range storetest.Engines() {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			clock := fiscal.NewTestClock(storetest.Epoch)
			db := storetest.MustOpen(b, engine, clock)
			m := storetest.Municipality(b, db, "timisoara")
			admin, _ := storetest.Staff(b, db, m, "admin1", fiscal.RoleAdmin)
			_, off := storetest.Staff(b, db, m, "officer1", fiscal.RoleOfficer)
			if _, err := db.SQL().Exec(`UPDATE users SET email = 'ion@primaria.ro' WHERE role = 'officer'`); err != nil {
				b.Fatal(err)
			}
			_, tp, err := db.Register(ctx, m.ID, registration("ana", "2850615350041"))
			if err != nil {
				b.Fatal(err)
			}
			seeded := time.Now()
			for i := 0; i < types; i++ {
				typ := fmt.Sprintf("bench_type_%03d", i)
				def := strings.Replace(treeCutting, `"tree_cutting"`, `"`+typ+`"`, 1)
				if _, err := db.PublishCaseType(admin, json.RawMessage(def), false); err != nil {
					b.Fatal(err)
				}
				if err := seedOpenCases(db, m.ID, tp.ID, off.ID, typ, i, perType); err != nil {
					b.Fatal(err)
				}
			}
			b.Logf("%s: seeded %d types × %d open cases in %s", engine, types, perType, time.Since(seeded).Round(time.Millisecond))
			clock.Set(time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)) // review open 2 working days: notify
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				b.StopTimer()
				if _, err := db.SQL().Exec(`DELETE FROM case_escalations`); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				rep, err := db.SweepEscalations(ctx, clock.Now())
				if err != nil {
					b.Fatal(err)
				}
				if rep.Notified != types*perType {
					b.Fatalf("notified %d of %d", rep.Notified, types*perType)
				}
				b.Logf("%s: sweep over %d open cases: %s", engine, types*perType, time.Since(start).Round(time.Millisecond))
			}
		})
	}
}

// seedOpenCases writes n open cases of a published type in one statement
// (the intake's path would take the benchmark's time).
func seedOpenCases(db *store.DB, municipalityID, taxpayerID, officerID int64, typ string, k, n int) error {
	_, err := db.SQL().Exec(db.SQL().Rebind(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
		INSERT INTO cases (municipality_id, number, type, taxpayer_id, data, status, submitted_at, submitted_on, sla_working_days, due_on, pauses,
			assignee_id, result, updated_at, version, definition_version)
		SELECT ?, 'B' || ? || '-' || i, ?, ?, '{"place":"x"}', 'submitted', ?, ?, 10, ?, '[]', ?, '{}', ?, 1, 1 FROM s`),
		n, municipalityID, strconv.Itoa(k), typ, taxpayerID, storetest.Epoch, fiscal.LocalDate(storetest.Epoch), fiscal.LocalDate(storetest.Epoch).AddDays(14),
		officerID, storetest.Epoch)
	return err
}

// BenchmarkPublishedTypeIntakeAndAct times the intake of a case of a
// published type and an act on it, with T published types of C open cases
// each in the database (FISCAL_BENCH_ESC_TYPES, FISCAL_BENCH_ESC_CASES; the
// issue's figure is 300 × 1,000). One request at a time: latency, not
// throughput.
func BenchmarkPublishedTypeIntakeAndAct(b *testing.B) {
	types, perType := benchEnv("FISCAL_BENCH_ESC_TYPES", 10), benchEnv("FISCAL_BENCH_ESC_CASES", 100)
	for _, engine := range storetest.Engines() {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			clock := fiscal.NewTestClock(storetest.Epoch)
			db := storetest.MustOpen(b, engine, clock)
			m := storetest.Municipality(b, db, "timisoara")
			admin, _ := storetest.Staff(b, db, m, "admin1", fiscal.RoleAdmin)
			officer, off := storetest.Staff(b, db, m, "officer1", fiscal.RoleOfficer)
			_, tp, err := db.Register(ctx, m.ID, registration("ana", "2850615350041"))
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < types; i++ {
				typ := fmt.Sprintf("bench_type_%03d", i)
				if _, err := db.PublishCaseType(admin, json.RawMessage(strings.Replace(treeCutting, `"tree_cutting"`, `"`+typ+`"`, 1)), false); err != nil {
					b.Fatal(err)
				}
				if err := seedOpenCases(db, m.ID, tp.ID, off.ID, typ, i, perType); err != nil {
					b.Fatal(err)
				}
			}
			file := func(i int) int64 {
				c, err := db.CreateCase(officer, &fiscal.NewCase{Type: fmt.Sprintf("bench_type_%03d", i%types), TaxpayerID: tp.ID,
					Data: json.RawMessage(`{"place":"Piața Unirii"}`)})
				if err != nil {
					b.Fatal(err)
				}
				return c.ID
			}
			b.Run("intake", func(b *testing.B) {
				for n := 0; n < b.N; n++ {
					file(n)
				}
			})
			b.Run("act", func(b *testing.B) {
				b.StopTimer()
				ids := make([]int64, b.N)
				for n := range ids {
					ids[n] = file(n)
				}
				b.StartTimer()
				for n := 0; n < b.N; n++ {
					if _, err := db.Act(officer, ids[n], &fiscal.ActInput{Step: "review", Decision: "approve"}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
