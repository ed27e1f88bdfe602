package store

import (
	"context"
	"encoding/json"

	"fiscald/fiscal"
)

// Assessments and their instalment debts recorded inside the transaction
// that decides them (RecordAssessment): a vehicle's registration, a
// property declaration's approval, a building's change, a pending
// co-owner's entry. Idempotent per object, tax and year. The annual run
// writes its own in batches (annual.go); a recomputation writes revisions
// (recwriter.go).

// RecordAssessment stores an assessment and its instalment debts inside tx.
// It is idempotent: when the object already has an assessment for that tax
// and year it returns that one's id and created=false, adding nothing.
func (tx *Tx) RecordAssessment(ctx context.Context, municipalityID int64, a *fiscal.NewAssessment) (id int64, created bool, err error) {
	lines, err := json.Marshal(a.Assessment.Lines)
	if err != nil {
		return 0, false, fiscal.Internal(err, "assessment lines")
	}
	res, err := tx.Exec(ctx, `INSERT INTO assessments (municipality_id, taxpayer_id, tax_type, object_kind, object_id, year, revision, annual_bani, bonus_bani, budget_code, lines, source, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		municipalityID, a.TaxpayerID, a.TaxType, a.ObjectKind, a.ObjectID, a.Year, a.Assessment.Annual, a.Bonus, a.Assessment.BudgetCode, string(lines), a.Source, tx.Now)
	if err != nil {
		return 0, false, translate(err, "assessment")
	}
	n, _ := res.RowsAffected()
	if err := tx.Get(ctx, &id, `SELECT id FROM assessments WHERE municipality_id = ? AND tax_type = ? AND object_kind = ? AND object_id = ? AND year = ? AND revision = 1`,
		municipalityID, a.TaxType, a.ObjectKind, a.ObjectID, a.Year); err != nil {
		return 0, false, translate(err, "assessment")
	}
	if n == 0 {
		return id, false, nil
	}
	for i, inst := range a.Installments {
		if _, err := tx.Exec(ctx, `INSERT INTO debts (municipality_id, taxpayer_id, assessment_id, kind, tax_type, year, object_id, installment, due_date, amount_bani, budget_code, created_at)
			VALUES (?, ?, ?, 'principal', ?, ?, ?, ?, ?, ?, ?, ?)`,
			municipalityID, a.TaxpayerID, id, a.TaxType, a.Year, a.ObjectID, i+1, inst.DueDate, inst.Amount, a.Assessment.BudgetCode, tx.Now); err != nil {
			return 0, false, translate(err, "debt")
		}
	}
	return id, true, tx.Audit(ctx, municipalityID, "assessment.create", "assessment", id, nil, map[string]any{
		"taxpayer_id": a.TaxpayerID, "tax_type": a.TaxType, "object": a.ObjectKind, "object_id": a.ObjectID, "year": a.Year,
		"annual": a.Assessment.Annual, "installments": a.Installments, "source": a.Source})
}
