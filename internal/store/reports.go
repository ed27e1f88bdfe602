package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// This file is the row source of the accountants' reports
// (fiscal.ReportSource). Each method runs one query and hands the rows to
// the callback as the driver reads them (sqlx Queryx, row by row): nothing
// is collected, so an export of a million lines holds one line in memory.
// The queries run outside a transaction: a report reads committed data and
// changes nothing, and a long export must not hold SQLite's writer lock.

// reporter checks the actor may read reports and returns it.
func reporter(ctx context.Context) (*fiscal.Actor, error) {
	return fiscal.RequireRole(ctx, fiscal.RoleAccountant, fiscal.RoleAdmin)
}

// eachRow runs query and calls fn with each row scanned into a T. The row
// is reused: fn must copy what it keeps.
func eachRow[T any](ctx context.Context, db *DB, what, query string, args []any, fn func(*T) error) error {
	rows, err := db.db.QueryxContext(ctx, db.db.Rebind(query), args...)
	if err != nil {
		return translate(err, what)
	}
	defer rows.Close()
	var zero, r T
	for rows.Next() {
		r = zero
		if err := rows.StructScan(&r); err != nil {
			return translate(err, what)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return translate(err, what)
	}
	return nil
}

// ReportMunicipality returns the actor's municipality.
func (db *DB) ReportMunicipality(ctx context.Context) (*fiscal.Municipality, error) {
	a, err := reporter(ctx)
	if err != nil {
		return nil, err
	}
	var m fiscal.Municipality
	err = db.db.GetContext(ctx, &m, db.db.Rebind(`SELECT id, slug, name, rank, county, settings FROM municipalities WHERE id = ?`), a.MunicipalityID)
	if err != nil {
		return nil, translate(err, "municipality")
	}
	return &m, nil
}

// EachCollection sums the money applied to debts (payments and refunds) and
// kept as credit by day, budget code, debt kind, method and source. The
// early-payment bonus is not money received and is left out (EachBonus).
func (db *DB) EachCollection(ctx context.Context, from, to civil.Date, fn func(*fiscal.CollectionLine) error) error {
	a, err := reporter(ctx)
	if err != nil {
		return err
	}
	m := a.MunicipalityID
	return eachRow(ctx, db, "collections", `
		SELECT a.effective_on AS day, d.budget_code, d.kind AS debt_kind, p.method, a.source, CAST(SUM(a.amount_bani) AS BIGINT) AS amount_bani
		FROM allocations a JOIN debts d ON d.id = a.debt_id JOIN payments p ON p.id = a.payment_id
		WHERE a.municipality_id = ? AND a.effective_on >= ? AND a.effective_on <= ? AND a.source IN ('payment', 'refund')
		GROUP BY a.effective_on, d.budget_code, d.kind, p.method, a.source
		UNION ALL
		SELECT c.effective_on AS day, '' AS budget_code, '' AS debt_kind, p.method,
			CASE WHEN c.source = 'refund' THEN 'credit_refund' ELSE 'credit' END AS source, CAST(SUM(c.amount_bani) AS BIGINT) AS amount_bani
		FROM credit_entries c JOIN payments p ON p.id = c.payment_id
		WHERE c.municipality_id = ? AND c.effective_on >= ? AND c.effective_on <= ? AND c.source IN ('overpayment', 'refund')
		GROUP BY c.effective_on, p.method, CASE WHEN c.source = 'refund' THEN 'credit_refund' ELSE 'credit' END
		ORDER BY 1, 2, 3, 4, 5`, []any{m, from, to, m, from, to}, fn)
}

// journalColumns is the select list of a journal line; the credit query
// fills the debt columns with NULL.
const journalColumns = `%[1]s.effective_on, %[2]s AS source, %[1]s.id AS line_id, %[1]s.payment_id, %[1]s.refund_id,
	p.method, p.provider, p.provider_reference, p.status, p.currency, p.paid_on, p.amount_bani AS payment_amount_bani, p.refunded_bani,
	p.receipt_series, p.receipt_year, p.receipt_number, p.taxpayer_id, t.name AS taxpayer_name, COALESCE(t.cnp, t.cui, '') AS taxpayer_ident,
	%[3]s, %[1]s.amount_bani`

const journalDebt = `a.debt_id, d.parent_debt_id, d.assessment_id, d.kind AS debt_kind, d.tax_type, d.year, d.object_id, d.installment, d.due_date,
	d.amount_bani AS debt_amount_bani, d.budget_code`

// scanJournal scans a row of journalColumns (explicit pointers: a million
// lines are read without reflection per row).
func scanJournal(r *sqlx.Rows, l *fiscal.JournalLine) error {
	return r.Scan(&l.Day, &l.Source, &l.LineID, &l.PaymentID, &l.RefundID,
		&l.Method, &l.Provider, &l.ProviderReference, &l.Status, &l.Currency, &l.PaidOn, &l.PaymentAmount, &l.PaymentRefunded,
		&l.ReceiptSeries, &l.ReceiptYear, &l.ReceiptNumber, &l.TaxpayerID, &l.TaxpayerName, &l.TaxpayerIdent,
		&l.DebtID, &l.ParentDebtID, &l.AssessmentID, &l.DebtKind, &l.TaxType, &l.Year, &l.ObjectID, &l.Installment, &l.DueDate,
		&l.DebtAmount, &l.BudgetCode, &l.Amount)
}

// EachJournalLine reads every allocation (payment and refund) and every
// credit entry of a payment (overpayment and its refund) in the period. The
// two are read by two queries, each in the order of its (municipality,
// day) index — no sort of the whole period in the database — and merged
// here by day: a day's allocations, then its credit entries.
func (db *DB) EachJournalLine(ctx context.Context, from, to civil.Date, fn func(*fiscal.JournalLine) error) error {
	a, err := reporter(ctx)
	if err != nil {
		return err
	}
	m := a.MunicipalityID
	ra, err := db.db.QueryxContext(ctx, db.db.Rebind(`SELECT `+fmt.Sprintf(journalColumns, "a", "a.source", journalDebt)+`
		FROM allocations a JOIN payments p ON p.id = a.payment_id JOIN debts d ON d.id = a.debt_id JOIN taxpayers t ON t.id = p.taxpayer_id
		WHERE a.municipality_id = ? AND a.effective_on >= ? AND a.effective_on <= ? AND a.source IN ('payment', 'refund')
		ORDER BY a.effective_on, a.id`), m, from, to)
	if err != nil {
		return translate(err, "journal")
	}
	defer ra.Close()
	nulls := "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
	if db.dialect == "postgres" {
		// PostgreSQL types a bare NULL as text: give each its column's type.
		nulls = "NULL::bigint, NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::int, NULL::bigint, NULL::int, NULL::date, NULL::bigint, NULL::text"
	}
	rc, err := db.db.QueryxContext(ctx, db.db.Rebind(`SELECT `+fmt.Sprintf(journalColumns, "c", "CASE WHEN c.source = 'refund' THEN 'credit_refund' ELSE 'credit' END", nulls)+`
		FROM credit_entries c JOIN payments p ON p.id = c.payment_id JOIN taxpayers t ON t.id = p.taxpayer_id
		WHERE c.municipality_id = ? AND c.effective_on >= ? AND c.effective_on <= ? AND c.source IN ('overpayment', 'refund')
		ORDER BY c.effective_on, c.id`), m, from, to)
	if err != nil {
		return translate(err, "journal")
	}
	defer rc.Close()
	next := func(r *sqlx.Rows, l *fiscal.JournalLine) (bool, error) {
		if !r.Next() {
			return false, translate(r.Err(), "journal")
		}
		*l = fiscal.JournalLine{}
		return true, translate(scanJournal(r, l), "journal")
	}
	var la, lc fiscal.JournalLine
	okA, err := next(ra, &la)
	if err != nil {
		return err
	}
	okC, err := next(rc, &lc)
	if err != nil {
		return err
	}
	for okA || okC {
		if okA && (!okC || !lc.Day.Before(la.Day)) {
			if err := fn(&la); err != nil {
				return err
			}
			okA, err = next(ra, &la)
		} else {
			if err := fn(&lc); err != nil {
				return err
			}
			okC, err = next(rc, &lc)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// arrearsRow is a debt as the arrears query reads it, with its materialised
// late fees.
type arrearsRow struct {
	fiscal.ArrearsDebt
	Fees     money.Bani  `db:"fees_bani"`
	FeesPaid money.Bani  `db:"fees_paid_bani"`
	LastFee  *civil.Date `db:"last_fee_on"`
}

// EachArrears reads the debts due before asOf with what was paid on them up
// to asOf and computes each one's surcharges as the statement does: the
// materialised late fees still unpaid plus the fee accrued since the last
// one (calc.Engine.LateFees).
func (db *DB) EachArrears(ctx context.Context, asOf civil.Date, fn func(*fiscal.ArrearsDebt) error) error {
	a, err := reporter(ctx)
	if err != nil {
		return err
	}
	e, slug, err := db.engineFor(ctx, a.MunicipalityID)
	if err != nil {
		return err
	}
	const fee = `FROM debts c WHERE c.parent_debt_id = d.id AND c.kind = 'late_fee' AND c.cancelled_at IS NULL AND c.due_date <= ?`
	return eachRow(ctx, db, "arrears", `
		SELECT d.taxpayer_id, t.name AS taxpayer_name, COALESCE(t.cnp, t.cui, '') AS taxpayer_ident, t.kind AS taxpayer_kind,
			d.id, d.kind, d.tax_type, d.year, d.installment, d.due_date, d.budget_code, d.amount_bani,
			(SELECT CAST(COALESCE(SUM(x.amount_bani), 0) AS BIGINT) FROM allocations x WHERE x.debt_id = d.id AND x.effective_on <= ?) AS paid_bani,
			(SELECT CAST(COALESCE(SUM(c.amount_bani), 0) AS BIGINT) `+fee+`) AS fees_bani,
			(SELECT CAST(COALESCE(SUM(x.amount_bani), 0) AS BIGINT) FROM allocations x JOIN debts c ON c.id = x.debt_id
				WHERE c.parent_debt_id = d.id AND c.kind = 'late_fee' AND c.cancelled_at IS NULL AND c.due_date <= ? AND x.effective_on <= ?) AS fees_paid_bani,
			(SELECT MAX(c.due_date) `+fee+`) AS last_fee_on
		FROM debts d JOIN taxpayers t ON t.id = d.taxpayer_id
		WHERE d.municipality_id = ? AND d.cancelled_at IS NULL AND d.due_date < ? AND (d.kind <> 'late_fee' OR d.parent_debt_id IS NULL)
		ORDER BY d.taxpayer_id, d.tax_type, d.budget_code, d.due_date, d.id`,
		[]any{asOf, asOf, asOf, asOf, asOf, a.MunicipalityID, asOf},
		func(r *arrearsRow) error {
			d := r.ArrearsDebt
			ld := ledgerDebt{ID: d.DebtID, Kind: d.Kind, DueDate: d.DueDate, Amount: d.Amount, Paid: d.Paid}
			var children []*ledgerDebt
			if r.LastFee != nil {
				children = []*ledgerDebt{{DueDate: *r.LastFee}}
			}
			accrued, err := accruedFee(e, slug, &ld, children, asOf)
			if err != nil {
				return err
			}
			d.Outstanding = max(d.Amount-d.Paid, 0)
			d.LateFees = max(r.Fees-r.FeesPaid, 0) + accrued
			if d.Outstanding <= 0 && d.LateFees <= 0 {
				return nil
			}
			return fn(&d)
		})
}

// EachBonus sums the bonus allocations of the period by day, payment, tax
// type, year and budget code.
func (db *DB) EachBonus(ctx context.Context, from, to civil.Date, fn func(*fiscal.BonusLine) error) error {
	a, err := reporter(ctx)
	if err != nil {
		return err
	}
	return eachRow(ctx, db, "bonuses", `
		SELECT a.effective_on, a.payment_id, p.method, p.taxpayer_id, t.name AS taxpayer_name, COALESCE(t.cnp, t.cui, '') AS taxpayer_ident,
			d.tax_type, d.year, d.budget_code, COUNT(DISTINCT a.debt_id) AS debts, CAST(SUM(a.amount_bani) AS BIGINT) AS amount_bani
		FROM allocations a JOIN payments p ON p.id = a.payment_id JOIN debts d ON d.id = a.debt_id JOIN taxpayers t ON t.id = p.taxpayer_id
		WHERE a.municipality_id = ? AND a.effective_on >= ? AND a.effective_on <= ? AND a.source = 'bonus'
		GROUP BY a.effective_on, a.payment_id, p.method, p.taxpayer_id, t.name, t.cnp, t.cui, d.tax_type, d.year, d.budget_code
		ORDER BY a.effective_on, a.payment_id, d.tax_type, d.year, d.budget_code`, []any{a.MunicipalityID, from, to}, fn)
}

// EachSLACase reads the cases alive during the period and places each
// against its target with the municipality's working-day calendar (the
// same fiscal.ComputeSLA as the queue), as of the period's last day or
// today if earlier.
func (db *DB) EachSLACase(ctx context.Context, from, to civil.Date, fn func(*fiscal.SLACase) error) error {
	a, err := reporter(ctx)
	if err != nil {
		return err
	}
	cal, err := db.calendar(ctx, a.MunicipalityID)
	if err != nil {
		return err
	}
	ref := to
	if today := fiscal.LocalDate(db.clock.Now()); today.Before(ref) {
		ref = today
	}
	return eachRow(ctx, db, "cases", `SELECT `+caseCols+` FROM cases
		WHERE municipality_id = ? AND submitted_on <= ? ORDER BY type, submitted_on, id`, []any{a.MunicipalityID, to},
		func(c *caseRow) error {
			var closed *civil.Date
			if c.DecidedAt != nil {
				d := fiscal.LocalDate(*c.DecidedAt)
				if d.Before(from) {
					return nil // closed before the period
				}
				if !d.After(ref) {
					closed = &d
				}
			}
			pauses := c.pauses()
			s, x := fiscal.ComputeSLA(cal, c.SubmittedOn, c.SLAWorkingDays, pauses, ref, closed)
			out := fiscal.SLACase{Type: c.Type, SubmittedOn: c.SubmittedOn, ClosedOn: closed, DueOn: s.DueOn, State: s.State, WorkingDaysToClose: -1}
			if closed != nil {
				out.WorkingDaysToClose = max(cal.WorkingDaysBetween(c.SubmittedOn, *closed)-x.PausedWorkingDays, 0)
			}
			return fn(&out)
		})
}
