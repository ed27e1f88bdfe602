package store

import (
	"context"
	"encoding/json"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/payments"
)

// The recomputation's writer (recWriter): what a batch (recompute.go) or a
// building's change (buildingchange.go) writes for an object whose tax
// changed, as payments.DecideRecompute decided: the assessment's next
// revision, an adjustment debt when the tax went up, or, when it went down,
// payments.Reduce's cuts (debts cancelled and replaced, what was paid on them
// moved, the excess turned into the paying payment's credit), with the run's
// totals per budget code. recomputeObject reads, decides and writes one
// object's assessment of a year, for a building's change.

// recWriter writes one batch's changes.
type recWriter struct {
	tx     *Tx
	muni   int64
	year   int
	today  civil.Date
	due    civil.Date
	totals map[string]*fiscal.RecomputeTotal
}

func (w *recWriter) total(code string) *fiscal.RecomputeTotal {
	t := w.totals[code]
	if t == nil {
		t = &fiscal.RecomputeTotal{BudgetCode: code}
		w.totals[code] = t
	}
	return t
}

// revision inserts the assessment's next revision.
func (w *recWriter) revision(ctx context.Context, a *recAssessment, na calc.Assessment, bonus money.Bani) (int64, error) {
	lines, err := json.Marshal(na.Lines)
	if err != nil {
		return 0, fiscal.Internal(err, "assessment lines")
	}
	id, err := w.tx.Insert(ctx, `INSERT INTO assessments (municipality_id, taxpayer_id, tax_type, object_kind, object_id, year, revision, annual_bani, bonus_bani, budget_code, lines, source, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'recompute', ?)`, w.muni, a.TaxpayerID, a.TaxType, a.ObjectKind, a.ObjectID, w.year, a.Revision+1,
		na.Annual, bonus, na.BudgetCode, string(lines), w.tx.Now)
	return id, translate(err, "assessment")
}

// adjustment inserts the extra debt of an object whose tax went up.
func (w *recWriter) adjustment(ctx context.Context, a *recAssessment, revID int64, installment int, amount money.Bani) (int64, error) {
	id, err := w.tx.Insert(ctx, `INSERT INTO debts (municipality_id, taxpayer_id, assessment_id, kind, tax_type, year, object_id, installment, due_date, amount_bani, budget_code, created_at)
		VALUES (?, ?, ?, 'adjustment', ?, ?, ?, ?, ?, ?, ?, ?)`, w.muni, a.TaxpayerID, revID, a.TaxType, w.year, a.ObjectID, installment, w.due, amount, a.BudgetCode, w.tx.Now)
	if err != nil {
		return 0, translate(err, "adjustment debt")
	}
	w.total(a.BudgetCode).Extra += amount
	return id, nil
}

// reduce applies payments.Reduce's cuts: cancel, replace, move what was
// paid, turn the taxed-back payments into credit. It returns the credit.
func (w *recWriter) reduce(ctx context.Context, byID map[int64]*recDebt, revID int64, cuts []payments.DebtCut) (money.Bani, error) {
	tx := w.tx
	var credit money.Bani
	alloc := func(taxpayer, payment, debt int64, bonus bool, amount money.Bani) error {
		source := "payment"
		if bonus {
			source = "bonus"
		}
		_, err := tx.Exec(ctx, `INSERT INTO allocations (municipality_id, taxpayer_id, payment_id, debt_id, source, amount_bani, effective_on, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			w.muni, taxpayer, payment, debt, source, amount, w.today, tx.Now)
		return translate(err, "allocation")
	}
	for _, c := range cuts {
		d := byID[c.DebtID]
		r, err := tx.Exec(ctx, `UPDATE debts SET cancelled_at = ?, version = version + 1 WHERE id = ? AND cancelled_at IS NULL`, tx.Now, d.ID)
		if err != nil {
			return 0, translate(err, "debt")
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return 0, fiscal.Errorf(fiscal.ECONFLICT, "debt %d changed during the recomputation", d.ID)
		}
		var newID int64
		if c.NewAmount > 0 {
			if newID, err = tx.Insert(ctx, `INSERT INTO debts (municipality_id, taxpayer_id, assessment_id, kind, tax_type, year, object_id, installment, due_date, amount_bani, budget_code, created_at, replaces_debt_id)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, w.muni, d.TaxpayerID, revID, d.Kind, d.TaxType, w.year, d.ObjectID, d.Installment, d.DueDate, c.NewAmount,
				d.BudgetCode, tx.Now, d.ID); err != nil {
				return 0, translate(err, "debt")
			}
		}
		for _, k := range c.Keep {
			if err := alloc(d.TaxpayerID, k.PaymentID, d.ID, k.Bonus, -k.Amount); err != nil {
				return 0, err
			}
			if err := alloc(d.TaxpayerID, k.PaymentID, newID, k.Bonus, k.Amount); err != nil {
				return 0, err
			}
		}
		for _, t := range c.Take {
			if err := alloc(d.TaxpayerID, t.PaymentID, d.ID, t.Bonus, -t.Amount); err != nil {
				return 0, err
			}
			if t.Bonus {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO credit_entries (municipality_id, taxpayer_id, payment_id, source, amount_bani, effective_on, created_at) VALUES (?, ?, ?, 'recompute', ?, ?, ?)`,
				w.muni, d.TaxpayerID, t.PaymentID, t.Amount, w.today, tx.Now); err != nil {
				return 0, translate(err, "credit")
			}
			credit += t.Amount
		}
		tot := w.total(d.BudgetCode)
		tot.Reduced += c.Withdrawn
	}
	if len(cuts) > 0 {
		w.total(byID[cuts[0].DebtID].BudgetCode).Credit += credit
	}
	return credit, nil
}

// recomputeObject recomputes one object's current assessment of w.year on
// obj (payments.DecideRecompute) and writes the decision as RecomputeBatch
// does. outcome "" means the object has no assessment of that year; id is
// the new revision (0: unchanged).
func (w *recWriter) recomputeObject(ctx context.Context, engine *calc.Engine, slug, kind string, objectID int64, obj calc.Object, share int64) (string, int64, error) {
	tx := w.tx
	var cur []recAssessment
	if err := tx.Select(ctx, &cur, `SELECT a.id, a.taxpayer_id, a.tax_type, a.object_kind, a.object_id, a.revision, a.annual_bani, a.bonus_bani, a.budget_code
		FROM assessments a WHERE a.municipality_id = ? AND a.tax_type = ? AND a.object_kind = ? AND a.object_id = ? AND a.year = ?
		ORDER BY a.revision DESC LIMIT 1`, w.muni, kind, kind, objectID, w.year); err != nil {
		return "", 0, translate(err, "assessments")
	}
	if len(cur) == 0 {
		return "", 0, nil
	}
	a := &cur[0]
	var debts []recDebt
	if err := tx.Select(ctx, &debts, `SELECT d.id, d.taxpayer_id, d.kind, d.tax_type, a.object_kind, d.object_id, d.installment, d.due_date, d.amount_bani, d.budget_code
		FROM debts d JOIN assessments a ON a.id = d.assessment_id
		WHERE a.municipality_id = ? AND a.tax_type = ? AND a.object_kind = ? AND a.object_id = ? AND a.year = ? AND d.cancelled_at IS NULL
		AND d.kind IN ('principal', 'adjustment') ORDER BY d.id`, w.muni, kind, kind, objectID, w.year); err != nil {
		return "", 0, translate(err, "debts")
	}
	o := payments.RecomputeObject{TaxType: a.TaxType, Object: obj, Share: share, Annual: a.Annual, Bonus: a.Bonus, Debts: make([]payments.ReduceDebt, len(debts))}
	byID := map[int64]*recDebt{}
	for k := range debts {
		d := &debts[k]
		var paid []payments.Paid
		var allocs []recAlloc
		if err := tx.Select(ctx, &allocs, `SELECT al.debt_id, al.payment_id, CASE WHEN al.source = 'bonus' THEN 1 ELSE 0 END AS is_bonus, CAST(SUM(al.amount_bani) AS BIGINT) AS amount_bani
			FROM allocations al WHERE al.debt_id = ? GROUP BY al.debt_id, al.payment_id, CASE WHEN al.source = 'bonus' THEN 1 ELSE 0 END`, d.ID); err != nil {
			return "", 0, translate(err, "allocations")
		}
		for _, al := range allocs {
			paid = append(paid, payments.Paid{PaymentID: al.PaymentID, Bonus: al.Bonus, Amount: al.Amount})
		}
		o.Debts[k] = payments.ReduceDebt{ID: d.ID, DueDate: d.DueDate.String(), Amount: d.Amount, Paid: paid}
		byID[d.ID] = d
	}
	dec, err := payments.DecideRecompute(engine, slug, w.year, o)
	if err != nil {
		return "", 0, fiscal.Errorf(fiscal.ECONFLICT, "the tax of %d cannot be computed on the changed building: %s", w.year, err)
	}
	if dec.Outcome == payments.RecomputeUnchanged {
		return dec.Outcome, 0, nil
	}
	revID, err := w.revision(ctx, a, dec.Assessment, dec.Bonus)
	if err != nil {
		return "", 0, err
	}
	switch dec.Outcome {
	case payments.RecomputeUp:
		if _, err := w.adjustment(ctx, a, revID, dec.AdjustmentInstallment, dec.Delta); err != nil {
			return "", 0, err
		}
	case payments.RecomputeDown:
		if _, err := w.reduce(ctx, byID, revID, dec.Cuts); err != nil {
			return "", 0, err
		}
	}
	return dec.Outcome, revID, tx.Audit(ctx, w.muni, "assessment.recompute", "assessment", revID, map[string]any{"assessment_id": a.ID, "annual": a.Annual},
		map[string]any{"annual": dec.Assessment.Annual, "delta": dec.Delta, "outcome": dec.Outcome})
}
