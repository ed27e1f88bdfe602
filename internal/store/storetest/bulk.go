package storetest

import (
	"context"
	"fmt"
	"testing"

	"fiscald/internal/store"
)

// BulkPayments fills a municipality with n succeeded payments for
// benchmarks and streaming tests, fast: set-based INSERT ... SELECT over a
// recursive counter, no use case, no audit. It creates `taxpayers`
// taxpayers with one 2026 vehicle debt each; payment i (1..n) belongs to
// taxpayer i mod taxpayers, is by card for two in three, pays 100.00 to
// 149.99 lei on a day of 2026 (in id order, as payments arrive: the ids
// of a day are together) and has one allocation of its
// whole amount to the taxpayer's debt. The ledger is not balanced (debts
// are overpaid): it exercises the exports, not the rules.
func BulkPayments(tb testing.TB, db *store.DB, municipalityID int64, taxpayers, n int) {
	tb.Helper()
	ctx := context.Background()
	day := fmt.Sprintf(`date('2026-01-01', '+' || ((i - 1) * 365 / %d) || ' days')`, n)
	ts := `'2026-06-01 10:00:00'`
	if db.Dialect() == "postgres" {
		day = fmt.Sprintf(`(DATE '2026-01-01' + ((i - 1) * 365 / %d)::int)`, n)
		ts = `TIMESTAMPTZ '2026-06-01 10:00:00Z'`
	}
	next := func(table string) int64 {
		var v int64
		err := db.SQL().GetContext(ctx, &v, `SELECT COALESCE(MAX(id), 0) FROM `+table)
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
	tp, dbt, pay, alloc := next("taxpayers"), next("debts"), next("payments"), next("allocations")
	counter := func(limit int) string {
		return fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d) `, limit)
	}
	k := int64(taxpayers)
	steps := []string{
		counter(taxpayers) + fmt.Sprintf(`INSERT INTO taxpayers (id, municipality_id, kind, cnp, name, address, created_at, updated_at)
			SELECT %d + i, %d, 'individual', 'B' || (%d + i), 'Contribuabil ' || i || ' Ștefănescu', 'Str. Mărășești ' || i, %s, %s FROM s`, tp, municipalityID, tp, ts, ts),
		counter(taxpayers) + fmt.Sprintf(`INSERT INTO debts (id, municipality_id, taxpayer_id, kind, tax_type, year, installment, due_date, amount_bani, budget_code, created_at)
			SELECT %d + i, %d, %d + i, 'principal', 'vehicle', 2026, 1, '2026-03-31', 19800, '16.02.02.01', %s FROM s`, dbt, municipalityID, tp, ts),
		counter(n) + fmt.Sprintf(`INSERT INTO payments (id, municipality_id, taxpayer_id, method, provider, provider_reference, status, amount_bani, paid_on,
				receipt_series, receipt_year, receipt_number, created_at, updated_at)
			SELECT %d + i, %d, %d + 1 + (i %% %d), CASE WHEN i %% 3 = 0 THEN 'cash' ELSE 'card' END, CASE WHEN i %% 3 = 0 THEN 'cash' ELSE 'stripe' END,
				CASE WHEN i %% 3 = 0 THEN NULL ELSE 'pi_bulk_' || (%d + i) END, 'succeeded', 10000 + (i %% 5000), %s,
				CASE WHEN i %% 3 = 0 THEN 'CASA-B' ELSE 'CARD-B' END, 2026, %d + i, %s, %s FROM s`, pay, municipalityID, tp, k, pay, day, pay, ts, ts),
		counter(n) + fmt.Sprintf(`INSERT INTO allocations (id, municipality_id, taxpayer_id, payment_id, debt_id, source, amount_bani, effective_on, created_at)
			SELECT %d + i, %d, %d + 1 + (i %% %d), %d + i, %d + 1 + (i %% %d), 'payment', 10000 + (i %% 5000), %s, %s FROM s`, alloc, municipalityID, tp, k, pay, dbt, k, day, ts),
	}
	if db.Dialect() == "postgres" {
		for _, t := range []string{"taxpayers", "debts", "payments", "allocations"} {
			steps = append(steps, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT MAX(id) FROM %s))`, t, t))
		}
		steps = append(steps, `ANALYZE`)
	} else {
		// Fold the bulk insert's write-ahead log into the database, as
		// SQLite's automatic checkpoints do for ordinary traffic.
		steps = append(steps, `ANALYZE`, `PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	for _, q := range steps {
		if _, err := db.SQL().ExecContext(ctx, q); err != nil {
			tb.Fatalf("bulk insert: %v\n%s", err, q)
		}
	}
}
