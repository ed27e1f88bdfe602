package store

import (
	"context"
	"encoding/json"
	"fmt"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/payments"
)

// A change of a building (case type building_change): refused at filing
// when the building is not the declarer's or the date precedes its
// acquisition (changeIntakeCheck), written in the signer's transaction for
// every current co-owner with each changed year's assessment recomputed
// (writeBuildingChange; the recomputation's writer, recwriter.go).
//
// A building's change (fiscal/buildingchange.go) in the signer's
// transaction, and the attributes of a year (building_history, migration
// 0027): the attributes a holding had up to until_year stay there when a
// change takes effect on 1 January of until_year + 1, so the annual run and
// the recomputation of an earlier year tax what the building was then.

// historyAttributes is the SQL of a building's attributes in the year bound
// to the first placeholder, o being the buildings row.
const historyAttributes = `COALESCE((SELECT bh.attributes FROM building_history bh WHERE bh.building_id = o.id AND bh.until_year >= ?
	ORDER BY bh.until_year LIMIT 1), o.attributes)`

// coHoldings reads every current holding of h's cadastral number (h alone
// without one) with its object, and their owners' kinds.
func (tx *Tx) coHoldings(ctx context.Context, municipalityID int64, kind string, h *fiscal.Holding) ([]fiscal.Holding, map[int64]string, error) {
	var rows []struct {
		holdingRow
		OwnerKind string `db:"owner_kind"`
	}
	where, args := `h.id = ?`, []any{h.ID}
	if h.CadastralNumber != "" {
		where, args = `h.cadastral_number = ? AND h.cadastral_number <> ''`, []any{h.CadastralNumber}
	}
	if err := tx.Select(ctx, &rows, `SELECT `+holdingColumns+`, h.attributes, NULL AS valuation_date, t.kind AS owner_kind FROM `+propertyTable(kind)+` h
		JOIN taxpayers t ON t.id = h.taxpayer_id WHERE h.municipality_id = ? AND h.disposed_on IS NULL AND `+where+` ORDER BY h.id`,
		append([]any{municipalityID}, args...)...); err != nil {
		return nil, nil, translate(err, kind)
	}
	out := make([]fiscal.Holding, len(rows))
	kinds := map[int64]string{}
	for i, r := range rows {
		out[i] = r.Holding
		if err := json.Unmarshal([]byte(r.Attributes), &out[i].Object); err != nil {
			return nil, nil, fiscal.Internal(fmt.Errorf("%s %d: attributes: %w", kind, r.ID, err), kind)
		}
		kinds[r.TaxpayerID] = r.OwnerKind
	}
	return out, kinds, nil
}

// changeIntakeCheck refuses at filing a change of a building that is not
// the taxpayer's current building or that precedes its acquisition.
func (db *DB) changeIntakeCheck(ctx context.Context, municipalityID, taxpayerID int64, data json.RawMessage) error {
	var d fiscal.BuildingChange
	if err := json.Unmarshal(data, &d); err != nil {
		return fiscal.InvalidField("data", "does not read as a building change: "+err.Error())
	}
	var h []struct {
		TaxpayerID int64       `db:"taxpayer_id"`
		AcquiredOn civil.Date  `db:"acquired_on"`
		DisposedOn *civil.Date `db:"disposed_on"`
	}
	if err := db.db.SelectContext(ctx, &h, db.db.Rebind(`SELECT taxpayer_id, acquired_on, disposed_on FROM buildings WHERE id = ? AND municipality_id = ?`),
		d.BuildingID, municipalityID); err != nil {
		return translate(err, "building")
	}
	switch {
	case len(h) == 0 || h[0].TaxpayerID != taxpayerID:
		return fiscal.InvalidField("data.building_id", "is not a building of this taxpayer")
	case h[0].DisposedOn != nil:
		return fiscal.InvalidField("data.building_id", "was disposed of on "+h[0].DisposedOn.String())
	case d.EffectiveOn.Before(h[0].AcquiredOn):
		return fiscal.InvalidField("data.effective_on", "is before the acquisition ("+h[0].AcquiredOn.String()+")")
	}
	return nil
}

// writeBuildingChange writes a building's change: under the lock of its
// cadastral number, each current holding keeps its attributes up to the
// year before the change (building_history) and takes the new ones; then,
// for each holding and each year from the first changed year to today's,
// the year's current assessment is recomputed on the new data
// (payments.DecideRecompute, written as the recomputation writes it: a
// revision with an adjustment debt, or reduced debts and credit) or, where
// the holding has none, the plan's assessment is recorded. A tax decision
// goes to the owner for each assessment recorded or revised. One audit
// entry has the data before and after.
func (db *DB) writeBuildingChange(ctx context.Context, tx *Tx, c *caseRow, ch *fiscal.BuildingChangePlan, decisions bool) error {
	if len(ch.Holdings) == 0 {
		return fiscal.Errorf(fiscal.ECONFLICT, "the building is no longer in the record")
	}
	first := ch.Holdings[0].Holding
	if tx.db.dialect == "postgres" {
		key := fmt.Sprintf("fiscald/%d/%s/%s", c.MunicipalityID, calc.TaxBuilding, first.CadastralNumber)
		if first.CadastralNumber == "" {
			key = fmt.Sprintf("fiscald/%d/building#%d", c.MunicipalityID, first.ID)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, key); err != nil {
			return translate(err, "building")
		}
	}
	engine, slug, err := db.engineFor(ctx, c.MunicipalityID)
	if err != nil {
		return err
	}
	today := fiscal.LocalDate(tx.Now)
	w := &recWriter{tx: tx, muni: c.MunicipalityID, today: payments.LocalDate(tx.Now), due: payments.AdjustmentDueDate(payments.LocalDate(tx.Now), engine.Calendar),
		totals: map[string]*fiscal.RecomputeTotal{}}
	var owners []map[string]any
	var docIDs, ids []int64
	for i := range ch.Holdings {
		e := &ch.Holdings[i]
		h := &e.Holding
		// The holding as it is now: still current, not changed meanwhile.
		var cur []struct {
			Attributes string `db:"attributes"`
			Version    int64  `db:"version"`
		}
		if err := tx.Select(ctx, &cur, `SELECT attributes, version FROM buildings WHERE id = ? AND municipality_id = ? AND disposed_on IS NULL`, h.ID, c.MunicipalityID); err != nil {
			return translate(err, "building")
		}
		if len(cur) == 0 || cur[0].Version != h.Version {
			return fiscal.Errorf(fiscal.ECONFLICT, "building %d changed while the case was approved: approve it again", h.ID)
		}
		var later int
		if err := tx.Get(ctx, &later, `SELECT COUNT(*) FROM building_history WHERE building_id = ? AND until_year >= ?`, h.ID, ch.FromYear); err != nil {
			return translate(err, "building history")
		}
		if later > 0 {
			return fiscal.Errorf(fiscal.ECONFLICT, "building %d has a change taxed after %d already: a change of an earlier year is a correction for the staff", h.ID, ch.FromYear)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO building_history (municipality_id, building_id, until_year, attributes, case_id, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (building_id, until_year) DO NOTHING`, c.MunicipalityID, h.ID, ch.FromYear-1, cur[0].Attributes, c.ID, tx.Now); err != nil {
			return translate(err, "building history")
		}
		attrs, err := json.Marshal(h.Object)
		if err != nil {
			return fiscal.Internal(err, "building attributes")
		}
		if _, err := tx.Exec(ctx, `UPDATE buildings SET attributes = ?, updated_at = ?, version = version + 1 WHERE id = ?`, string(attrs), tx.Now, h.ID); err != nil {
			return translate(err, "building")
		}
		// Payments of this owner wait for the change (as for a recomputation).
		if _, err := tx.Exec(ctx, `INSERT INTO taxpayer_accounts (municipality_id, taxpayer_id, version) VALUES (?, ?, 1)
			ON CONFLICT (municipality_id, taxpayer_id) DO UPDATE SET version = taxpayer_accounts.version + 1`, c.MunicipalityID, h.TaxpayerID); err != nil {
			return translate(err, "accounts")
		}
		var years []map[string]any
		for k := range e.Assessments {
			na := e.Assessments[k]
			w.year = na.Year
			outcome, id, err := w.recomputeObject(ctx, engine, slug, calc.TaxBuilding, h.ID, h.Object, int64(h.Share))
			if err != nil {
				return err
			}
			if outcome == "" { // no assessment of that year yet
				if id, _, err = tx.RecordAssessment(ctx, c.MunicipalityID, &na); err != nil {
					return err
				}
				outcome = "assessed"
			}
			years = append(years, map[string]any{"year": na.Year, "outcome": outcome, "assessment_id": id})
			if id == 0 {
				continue
			}
			ids = append(ids, id)
			if decisions && db.docs != nil {
				d, err := db.issuePropertyDecision(ctx, tx, c, id, h.TaxpayerID, calc.TaxBuilding, h)
				if err != nil {
					return err
				}
				docIDs = append(docIDs, d.ID)
			}
		}
		owners = append(owners, map[string]any{"taxpayer_id": h.TaxpayerID, "building_id": h.ID, "share": h.Share, "years": years})
	}
	before, after := ch.Before, ch.After
	if err := tx.Audit(ctx, c.MunicipalityID, "building.change", "building", ch.Change.BuildingID,
		map[string]any{"object": before},
		map[string]any{"object": after, "change": ch.Change.Change, "effective_on": ch.Change.EffectiveOn, "taxed_from_year": ch.FromYear,
			"owners": owners, "case_id": c.ID}); err != nil {
		return err
	}
	result := map[string]any{"building_id": ch.Change.BuildingID, "change": ch.Change.Change, "effective_on": ch.Change.EffectiveOn,
		"taxed_from_year": ch.FromYear, "owners": owners, "assessment_ids": ids}
	if ch.FromYear > today.Year {
		result["note"] = fmt.Sprintf("taxed on the new data from 1 January %d (the next annual run)", ch.FromYear)
	}
	if len(docIDs) > 0 {
		result["document_ids"] = docIDs
	}
	b, _ := json.Marshal(result)
	c.Result = string(b)
	return nil
}
