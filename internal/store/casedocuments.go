package store

import (
	"context"
	"encoding/json"
	"fmt"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// The documents of an approved case, issued in the signer's transaction as
// the approval's plan says (caseDocuments, fiscal.ApprovalDocuments): the
// fiscal clearance certificate, a vehicle's proof of registration or
// deregistration, and the tax decisions of the assessments the approval
// recorded (issueDecision, each naming the council decisions its lines
// cite). The tax decision of an owner's share of a building or land
// (issuePropertyDecision) serves a declaration's approval, a building's
// change and a pending co-owner's entry.

// caseDocuments issues the documents of an approved case in the signer's
// transaction, as its approval's plan says (fiscal.ApprovalDocuments): the
// fiscal clearance certificate; a vehicle's proof of registration or
// deregistration and the tax decisions of the assessments the approval
// recorded (ids). Without a producer it issues nothing.
func (db *DB) caseDocuments(ctx context.Context, tx *Tx, c *caseRow, plan fiscal.ApprovalDocuments, vehicleID int64, assessments []int64, cancelled int64, result map[string]any) error {
	if db.docs == nil || (plan.Clearance == nil && plan.VehicleProof == nil) {
		return nil
	}
	caseID := c.ID
	var ids []int64
	add := func(d *fiscal.Document, err error) error {
		if err != nil {
			return err
		}
		ids = append(ids, d.ID)
		return nil
	}
	if plan.Clearance != nil {
		if err := add(db.issueClearance(ctx, tx, c.MunicipalityID, c.TaxpayerID, *plan.Clearance, &caseID, c.Number)); err != nil {
			return err
		}
	}
	if plan.VehicleProof != nil {
		var row struct {
			fiscal.Vehicle
			Attributes string `db:"attributes"`
		}
		if err := tx.Get(ctx, &row, `SELECT `+vehicleColumns+`, attributes FROM vehicles WHERE id = ?`, vehicleID); err != nil {
			return translate(err, "vehicle")
		}
		veh := row.Vehicle
		vc := *plan.VehicleProof
		vc.Vehicle, vc.DebtsCancelled = veh, cancelled
		vid := vehicleID
		if err := add(db.issue(ctx, tx, c.MunicipalityID, c.TaxpayerID, &fiscal.DocumentContent{Type: plan.ProofType, CaseNumber: c.Number, Vehicle: &vc},
			docLinks{caseID: &caseID, vehicleID: &vid})); err != nil {
			return err
		}
		if plan.Decisions {
			for _, aid := range assessments {
				if err := add(db.issueDecision(ctx, tx, c, aid, &veh)); err != nil {
					return err
				}
			}
		}
	}
	result["document_ids"] = ids
	return nil
}

// issueDecision issues the tax decision of an assessment.
func (db *DB) issueDecision(ctx context.Context, tx *Tx, c *caseRow, assessmentID int64, veh *fiscal.Vehicle) (*fiscal.Document, error) {
	var a struct {
		TaxType    string     `db:"tax_type"`
		Year       int        `db:"year"`
		Annual     money.Bani `db:"annual_bani"`
		Bonus      money.Bani `db:"bonus_bani"`
		BudgetCode string     `db:"budget_code"`
		Lines      string     `db:"lines"`
	}
	if err := tx.Get(ctx, &a, `SELECT tax_type, year, annual_bani, bonus_bani, budget_code, lines FROM assessments WHERE id = ?`, assessmentID); err != nil {
		return nil, translate(err, "assessment")
	}
	dc := &fiscal.DecisionContent{AssessmentID: assessmentID, TaxType: a.TaxType, Year: a.Year, BudgetCode: a.BudgetCode, Annual: a.Annual, Bonus: a.Bonus, Vehicle: veh}
	if err := json.Unmarshal([]byte(a.Lines), &dc.Lines); err != nil {
		return nil, fiscal.Internal(err, "assessment lines")
	}
	// The decision names each council decision its lines cite with its date.
	e, err := db.TaxEngine(ctx, c.MunicipalityID)
	if err != nil {
		return nil, err
	}
	slug, err := db.municipalitySlug(ctx, c.MunicipalityID)
	if err != nil {
		return nil, err
	}
	dates := e.CouncilDecisions(slug, a.Year)
	for i := range dc.Lines {
		dc.Lines[i].LegalBasis = calc.NameDecisions(dc.Lines[i].LegalBasis, dates, func(d civil.Date) string {
			return fmt.Sprintf("%02d.%02d.%d", d.Day, int(d.Month), d.Year)
		})
	}
	if err := tx.Select(ctx, &dc.Installments, `SELECT due_date AS duedate, amount_bani AS amount FROM debts WHERE assessment_id = ? AND kind = 'principal' AND cancelled_at IS NULL ORDER BY installment`,
		assessmentID); err != nil {
		return nil, translate(err, "debts")
	}
	caseID, aid := c.ID, assessmentID
	return db.issue(ctx, tx, c.MunicipalityID, c.TaxpayerID, &fiscal.DocumentContent{Type: fiscal.DocTaxDecision, CaseNumber: c.Number, Decision: dc},
		docLinks{caseID: &caseID, assessmentID: &aid, vehicleID: &veh.ID})
}

// issuePropertyDecision issues the tax decision of an owner's assessment of
// a building or land, to that owner.
func (db *DB) issuePropertyDecision(ctx context.Context, tx *Tx, c *caseRow, assessmentID, ownerID int64, kind string, h *fiscal.Holding) (*fiscal.Document, error) {
	var a struct {
		TaxType    string     `db:"tax_type"`
		Year       int        `db:"year"`
		Annual     money.Bani `db:"annual_bani"`
		Bonus      money.Bani `db:"bonus_bani"`
		BudgetCode string     `db:"budget_code"`
		Lines      string     `db:"lines"`
	}
	if err := tx.Get(ctx, &a, `SELECT tax_type, year, annual_bani, bonus_bani, budget_code, lines FROM assessments WHERE id = ?`, assessmentID); err != nil {
		return nil, translate(err, "assessment")
	}
	what := "clădirea"
	if kind == calc.TaxLand {
		what = "terenul"
	}
	dc := &fiscal.DecisionContent{AssessmentID: assessmentID, TaxType: a.TaxType, Year: a.Year, BudgetCode: a.BudgetCode, Annual: a.Annual, Bonus: a.Bonus,
		Object: fmt.Sprintf("%s din %s, număr cadastral %s, cota-parte %s%%", what, h.Address, h.CadastralNumber, h.Share.Percent())}
	if err := json.Unmarshal([]byte(a.Lines), &dc.Lines); err != nil {
		return nil, fiscal.Internal(err, "assessment lines")
	}
	if err := tx.Select(ctx, &dc.Installments, `SELECT due_date AS duedate, amount_bani AS amount FROM debts WHERE assessment_id = ? AND kind IN ('principal', 'adjustment') AND cancelled_at IS NULL ORDER BY installment`,
		assessmentID); err != nil {
		return nil, translate(err, "debts")
	}
	caseID, aid := c.ID, assessmentID
	return db.issue(ctx, tx, c.MunicipalityID, ownerID, &fiscal.DocumentContent{Type: fiscal.DocTaxDecision, CaseNumber: c.Number, Decision: dc},
		docLinks{caseID: &caseID, assessmentID: &aid})
}
