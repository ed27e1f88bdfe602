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

// The building and land declarations' storage: the register's facts their
// checks and approval read (propertyState), the refusals at filing
// (propertyIntakeChecks) and the approval's plan written in the signer's
// transaction (writeProperty). The rules are fiscal/declarations.go.

// registryEntry finds a taxpayer of the municipality by CNP, then by CUI.
func (tx *Tx) registryEntry(ctx context.Context, municipalityID int64, identity string) (*fiscal.RegistryEntry, error) {
	var rows []struct {
		ID   int64  `db:"id"`
		Kind string `db:"kind"`
		Name string `db:"name"`
	}
	for _, col := range []string{"cnp", "cui"} {
		if err := tx.Select(ctx, &rows, `SELECT id, kind, name FROM taxpayers WHERE municipality_id = ? AND `+col+` = ?`, municipalityID, identity); err != nil {
			return nil, translate(err, "taxpayers")
		}
		if len(rows) > 0 {
			return &fiscal.RegistryEntry{TaxpayerID: rows[0].ID, Kind: rows[0].Kind, Name: rows[0].Name}, nil
		}
	}
	return nil, nil
}

// holdingOf reads the taxpayer's current holding id of a kind (nil: none).
func (tx *Tx) holdingOf(ctx context.Context, municipalityID, taxpayerID int64, kind string, id int64) (*fiscal.Holding, error) {
	var rows []holdingRow
	if err := tx.Select(ctx, &rows, `SELECT `+holdingColumns+`, h.attributes, NULL AS valuation_date FROM `+propertyTable(kind)+` h
		WHERE h.id = ? AND h.municipality_id = ? AND h.taxpayer_id = ? AND h.disposed_on IS NULL`, id, municipalityID, taxpayerID); err != nil {
		return nil, translate(err, kind)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	h := rows[0].Holding
	if err := json.Unmarshal([]byte(rows[0].Attributes), &h.Object); err != nil {
		return nil, fiscal.Internal(fmt.Errorf("%s %d: attributes: %w", kind, id, err), kind)
	}
	return &h, nil
}

// holdingOutstanding is what remains unpaid of a holding's debts up to a
// year (principal less the allocations, as vehicleOutstanding).
func (tx *Tx) holdingOutstanding(ctx context.Context, municipalityID int64, kind string, id int64, upToYear int) (money.Bani, error) {
	var sum int64
	err := tx.Get(ctx, &sum, `SELECT CAST(COALESCE(SUM(d.amount_bani - (SELECT COALESCE(SUM(a.amount_bani), 0) FROM allocations a WHERE a.debt_id = d.id)), 0) AS BIGINT)
		FROM debts d JOIN assessments s ON s.id = d.assessment_id
		WHERE s.municipality_id = ? AND s.tax_type = ? AND s.object_kind = ? AND s.object_id = ? AND d.year <= ? AND d.cancelled_at IS NULL`,
		municipalityID, kind, kind, id, upToYear)
	return money.Bani(sum), translate(err, "debts")
}

// propertyState reads what a building or land declaration's facts ask for.
func (tx *Tx) propertyState(ctx context.Context, c *caseRow, f *fiscal.PropertyFacts) (*fiscal.PropertyState, error) {
	ps := &fiscal.PropertyState{Registry: map[string]fiscal.RegistryEntry{}}
	var err error
	if f.Cadastral != "" {
		if ps.SharesHeld, err = tx.SharesHeld(ctx, c.MunicipalityID, f.Kind, f.Cadastral); err != nil {
			return nil, err
		}
	}
	for _, id := range f.Identities {
		r, err := tx.registryEntry(ctx, c.MunicipalityID, id)
		if err != nil {
			return nil, err
		}
		if r != nil {
			ps.Registry[id] = *r
		}
	}
	if f.HoldingID != 0 {
		if ps.Holding, err = tx.holdingOf(ctx, c.MunicipalityID, c.TaxpayerID, f.Kind, f.HoldingID); err != nil {
			return nil, err
		}
		if ps.Holding != nil && f.DebtsUpToYear != 0 {
			if ps.Outstanding, err = tx.holdingOutstanding(ctx, c.MunicipalityID, f.Kind, f.HoldingID, f.DebtsUpToYear); err != nil {
				return nil, err
			}
		}
		if ps.Holding != nil && f.CoHoldings {
			if ps.CoHoldings, ps.OwnerKinds, err = tx.coHoldings(ctx, c.MunicipalityID, f.Kind, ps.Holding); err != nil {
				return nil, err
			}
		}
	}
	if f.OwnersFrom != 0 {
		owners := []int64{c.TaxpayerID}
		for _, r := range ps.Registry {
			owners = append(owners, r.TaxpayerID)
		}
		for _, h := range ps.CoHoldings {
			owners = append(owners, h.TaxpayerID)
		}
		ps.Assessed = map[int64]map[int]money.Bani{}
		for _, id := range owners {
			var rows []struct {
				Year int        `db:"year"`
				Sum  money.Bani `db:"total"`
			}
			// Current revisions only (a recomputation supersedes a revision).
			if err := tx.Select(ctx, &rows, `SELECT a.year, CAST(SUM(a.annual_bani) AS BIGINT) AS total FROM assessments a
				WHERE a.municipality_id = ? AND a.taxpayer_id = ? AND a.year >= ? AND a.tax_type = ?
				AND NOT EXISTS (SELECT 1 FROM assessments n WHERE n.municipality_id = a.municipality_id AND n.tax_type = a.tax_type
					AND n.object_kind = a.object_kind AND n.object_id = a.object_id AND n.year = a.year AND n.revision > a.revision)
				GROUP BY a.year`, c.MunicipalityID, id, f.OwnersFrom, f.Kind); err != nil {
				return nil, translate(err, "assessments")
			}
			ps.Assessed[id] = map[int]money.Bani{}
			for _, r := range rows {
				ps.Assessed[id][r.Year] = r.Sum
			}
		}
	}
	return ps, nil
}

// propertyIntakeChecks refuses at filing (422 naming the field) a building
// or land declaration the register already contradicts: shares of the
// cadastral number above 100%, a disposal of a property the taxpayer does
// not hold or before its acquisition. done is false for other case types.
// The same rules run again in the approver's transaction (fiscal
// EnterProperty, EndProperty), which decides.
func (db *DB) propertyIntakeChecks(ctx context.Context, municipalityID, taxpayerID int64, caseType string, data json.RawMessage) (done bool, err error) {
	switch caseType {
	case fiscal.CaseBuildingAcquisition, fiscal.CaseLandAcquisition:
		cadastral, declared, err := fiscal.DeclaredParts(caseType, data)
		if err != nil {
			return true, fiscal.InvalidField("data", "does not read as an acquisition: "+err.Error())
		}
		kind := calc.TaxBuilding
		if caseType == fiscal.CaseLandAcquisition {
			kind = calc.TaxLand
		}
		var held int64
		err = db.db.GetContext(ctx, &held, db.db.Rebind(`SELECT CAST(COALESCE(SUM(share_parts), 0) AS BIGINT) + (SELECT CAST(COALESCE(SUM(share_parts), 0) AS BIGINT) FROM pending_holdings
			WHERE municipality_id = ? AND kind = ? AND cadastral_number = ? AND entered_at IS NULL) FROM `+propertyTable(kind)+`
			WHERE municipality_id = ? AND cadastral_number = ? AND cadastral_number <> '' AND disposed_on IS NULL`), municipalityID, kind, cadastral, municipalityID, cadastral)
		if err != nil {
			return true, translate(err, kind)
		}
		if r := fiscal.SharesRefusal(cadastral, held, declared); r != "" {
			return true, fiscal.InvalidField("data.co_owners", r)
		}
		return true, nil
	case fiscal.CaseBuildingChange:
		return true, db.changeIntakeCheck(ctx, municipalityID, taxpayerID, data)
	case fiscal.CaseBuildingDisposal, fiscal.CaseLandDisposal:
		var d fiscal.PropertyDisposal
		if err := json.Unmarshal(data, &d); err != nil {
			return true, fiscal.InvalidField("data", "does not read as a disposal: "+err.Error())
		}
		kind, field, id := calc.TaxBuilding, "data.building_id", d.BuildingID
		if caseType == fiscal.CaseLandDisposal {
			kind, field, id = calc.TaxLand, "data.land_id", d.LandID
		}
		var h []struct {
			TaxpayerID int64       `db:"taxpayer_id"`
			AcquiredOn civil.Date  `db:"acquired_on"`
			DisposedOn *civil.Date `db:"disposed_on"`
		}
		if err := db.db.SelectContext(ctx, &h, db.db.Rebind(`SELECT taxpayer_id, acquired_on, disposed_on FROM `+propertyTable(kind)+` WHERE id = ? AND municipality_id = ?`),
			id, municipalityID); err != nil {
			return true, translate(err, kind)
		}
		switch {
		case len(h) == 0 || h[0].TaxpayerID != taxpayerID:
			return true, fiscal.InvalidField(field, "is not a "+kind+" of this taxpayer")
		case h[0].DisposedOn != nil:
			return true, fiscal.InvalidField(field, "was already disposed of on "+h[0].DisposedOn.String())
		case d.DisposedOn.Before(h[0].AcquiredOn):
			return true, fiscal.InvalidField("data.disposed_on", "is before the acquisition ("+h[0].AcquiredOn.String()+")")
		}
		return true, nil
	}
	return false, nil
}

// writeProperty writes a building or land declaration's approval in the
// signer's transaction: the holdings entered (each with its assessments and
// debts, and a tax decision per assessment for its owner) or the holding
// ended (with its later years' debts withdrawn); the case's result says what.
func (db *DB) writeProperty(ctx context.Context, tx *Tx, c *caseRow, p *fiscal.ApprovalPlan) error {
	pp := p.Property
	if pp.Change != nil {
		return db.writeBuildingChange(ctx, tx, c, pp.Change, p.Documents.Decisions)
	}
	table := propertyTable(pp.Kind)
	result := map[string]any{}
	var docIDs []int64
	if len(pp.Enter) > 0 {
		// Decided again here on the rows as they are now, under a lock of
		// the cadastral number (SQLite: the immediate transaction; PostgreSQL:
		// a transaction advisory lock on its key), so two approvals of one
		// cadastral number on two instances cannot both pass.
		if tx.db.dialect == "postgres" {
			key := fmt.Sprintf("fiscald/%d/%s/%s", c.MunicipalityID, pp.Kind, pp.Enter[0].Holding.CadastralNumber)
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, key); err != nil {
				return translate(err, pp.Kind)
			}
		}
		var total int64
		for _, e := range pp.Enter {
			total += int64(e.Holding.Share)
		}
		held, err := tx.SharesHeld(ctx, c.MunicipalityID, pp.Kind, pp.Enter[0].Holding.CadastralNumber)
		if err != nil {
			return err
		}
		if r := fiscal.SharesRefusal(pp.Enter[0].Holding.CadastralNumber, held, total); r != "" {
			return fiscal.Errorf(fiscal.ECONFLICT, "%s", r)
		}
		var owners []map[string]any
		for i := range pp.Enter {
			e := &pp.Enter[i]
			if err := tx.InsertHolding(ctx, c.MunicipalityID, pp.Kind, &e.Holding, c.ID); err != nil {
				return err
			}
			if pp.Kind == calc.TaxBuilding && pp.ValuationDate != nil {
				if _, err := tx.Exec(ctx, `UPDATE buildings SET valuation_date = ? WHERE id = ?`, *pp.ValuationDate, e.Holding.ID); err != nil {
					return translate(err, "building")
				}
			}
			var ids []int64
			for k := range e.Assessments {
				a := e.Assessments[k]
				a.ObjectID = e.Holding.ID
				id, _, err := tx.RecordAssessment(ctx, c.MunicipalityID, &a)
				if err != nil {
					return err
				}
				ids = append(ids, id)
				if p.Documents.Decisions && db.docs != nil {
					d, err := db.issuePropertyDecision(ctx, tx, c, id, e.Holding.TaxpayerID, pp.Kind, &e.Holding)
					if err != nil {
						return err
					}
					docIDs = append(docIDs, d.ID)
				}
			}
			owners = append(owners, map[string]any{"taxpayer_id": e.Holding.TaxpayerID, pp.Kind + "_id": e.Holding.ID, "share": e.Holding.Share,
				"assessment_ids": ids})
		}
		result = map[string]any{"owners": owners, "taxed_from_year": pp.Enter[0].Holding.TaxedFromYear}
		if len(pp.NotFound) > 0 {
			result["co_owners_not_in_registry"] = pp.NotFound
		}
		if err := tx.keepPending(ctx, c, pp); err != nil {
			return err
		}
	}
	if end := pp.End; end != nil {
		r, err := tx.Exec(ctx, `UPDATE `+table+` SET disposed_on = ?, updated_at = ?, version = version + 1 WHERE id = ? AND municipality_id = ? AND disposed_on IS NULL`,
			end.On, tx.Now, end.HoldingID, c.MunicipalityID)
		if err != nil {
			return translate(err, pp.Kind)
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return fiscal.Errorf(fiscal.ECONFLICT, "the %s was disposed of meanwhile", pp.Kind)
		}
		res, err := tx.Exec(ctx, `UPDATE debts SET cancelled_at = ?, version = version + 1 WHERE municipality_id = ? AND cancelled_at IS NULL AND year > ?
			AND assessment_id IN (SELECT id FROM assessments WHERE municipality_id = ? AND tax_type = ? AND object_kind = ? AND object_id = ?)`,
			tx.Now, c.MunicipalityID, end.LastTaxedYear, c.MunicipalityID, pp.Kind, pp.Kind, end.HoldingID)
		if err != nil {
			return translate(err, "debts")
		}
		cancelled, _ := res.RowsAffected()
		result = map[string]any{pp.Kind + "_id": end.HoldingID, "disposed_on": end.On, "last_taxed_year": end.LastTaxedYear, "debts_cancelled": cancelled}
		if err := tx.Audit(ctx, c.MunicipalityID, pp.Kind+".end", pp.Kind, end.HoldingID, map[string]any{"disposed_on": nil}, result); err != nil {
			return err
		}
	}
	if len(docIDs) > 0 {
		result["document_ids"] = docIDs
	}
	b, _ := json.Marshal(result)
	c.Result = string(b)
	return nil
}
