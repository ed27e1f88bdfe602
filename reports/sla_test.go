package reports_test

import (
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/reports"
)

// TestSLAReport: cases of two types, counted by hand with June 2026's
// working days (no holiday after 1 June): received, closed on time and
// late, open and breached, nearest-rank median and 90th percentile.
func TestSLAReport(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		f := newLedger(t, db, clock)
		tp := f.taxpayer(fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: "2850615350041", Name: "Ana Popescu"})
		n := 0
		add := func(typ, submitted string, days int, decided string) {
			n++
			var dec any
			status := "submitted"
			if decided != "" {
				dec, status = at(decided), "approved"
			}
			due := civil.MustParse(submitted) // not read by the report: it recomputes
			if _, err := db.SQL().Exec(db.SQL().Rebind(`INSERT INTO cases (municipality_id, number, type, taxpayer_id, data, status, submitted_at, submitted_on, sla_working_days, due_on, decided_at, updated_at)
				VALUES (?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?, ?)`), f.muni.ID, "TM-"+string(rune('A'+n)), typ, tp.ID, status, at(submitted), civil.MustParse(submitted), days, due, dec, at(submitted)); err != nil {
				t.Fatal(err)
			}
		}
		add("vehicle_registration", "2026-06-08", 5, "2026-06-10") // 2 working days, on time
		add("vehicle_registration", "2026-06-08", 5, "2026-06-19") // 9, late (due 15 June)
		add("vehicle_registration", "2026-06-09", 5, "")           // open, due 16 June: breached on 30 June
		add("vehicle_registration", "2026-06-29", 5, "")           // open, on track
		add("certificate", "2026-06-10", 2, "2026-06-11")          // 1, on time
		add("certificate", "2026-05-04", 2, "2026-05-05")          // closed before the period
		clock.Set(time.Date(2026, 7, 15, 9, 0, 0, 0, time.UTC))
		for _, format := range []reports.Format{reports.CSV, reports.XLSX} {
			b := export(t, f.accountant, db, clock, reports.Request{Name: reports.SLA, Format: format, From: civil.MustParse("2026-06-01"), To: civil.MustParse("2026-06-30")})
			var tb *table
			if format == reports.CSV {
				tb = readCSV(t, b)
			} else {
				tb = readXLSX(t, b)
			}
			want := [][]string{
				{"certificate", "1", "1", "1", "0", "0", "0", "1", "1"},
				{"vehicle_registration", "4", "2", "1", "1", "2", "1", "2", "9"},
			}
			if len(tb.rows) != len(want) {
				t.Fatalf("%s rows %v", format, tb.rows)
			}
			for i := range want {
				for j := range want[i] {
					if tb.rows[i][j] != want[i][j] {
						t.Errorf("%s row %d col %s = %q, want %q", format, i, tb.header[j], tb.rows[i][j], want[i][j])
					}
				}
			}
			wantTotal := []string{"TOTAL", "5", "3", "2", "1", "2", "1", "2", "9"}
			for j := range wantTotal {
				if tb.total[j] != wantTotal[j] {
					t.Errorf("%s TOTAL %s = %q, want %q", format, tb.header[j], tb.total[j], wantTotal[j])
				}
			}
		}
	})
}
