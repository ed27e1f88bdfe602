package store

import (
	"context"
	"encoding/json"
	"fmt"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/money"
)

// Co-owners not yet in the registry (migration 0027, pending_holdings): an
// approved acquisition keeps each co-owner it could not find with their
// share (which stays counted in the cadastral number's shares); the
// transaction that inserts a taxpayer with that CNP/CUI (insertTaxpayer:
// an officer's, a self-registration's, an OIDC sign-in's) enters their
// holding, taxed from the year the declaration gave, with its assessments,
// debts and tax decisions, audited.

// keepPending records the acquisition's co-owners not in the registry.
func (tx *Tx) keepPending(ctx context.Context, c *caseRow, pp *fiscal.PropertyPlan) error {
	if len(pp.Pending) == 0 || len(pp.Enter) == 0 {
		return nil
	}
	src := pp.Enter[0].Holding
	for _, co := range pp.Pending {
		id, err := tx.Insert(ctx, `INSERT INTO pending_holdings (municipality_id, case_id, kind, identity, name, share_parts, cadastral_number, source_holding_id,
			taxed_from_year, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.MunicipalityID, c.ID, pp.Kind, co.Identity(), co.Name, int64(co.Share),
			src.CadastralNumber, src.ID, src.TaxedFromYear, tx.Now)
		if err != nil {
			return translate(err, "pending holding")
		}
		if err := tx.Audit(ctx, c.MunicipalityID, pp.Kind+".pending", "pending_holding", id, nil, map[string]any{"case_id": c.ID,
			"name": co.Name, "share": co.Share, "cadastral_number": src.CadastralNumber, "taxed_from_year": src.TaxedFromYear}); err != nil {
			return err
		}
	}
	return nil
}

// enterPending enters the holdings kept for a taxpayer just inserted (by
// CNP or CUI), in the inserting transaction.
func (tx *Tx) enterPending(ctx context.Context, tp *fiscal.Taxpayer) error {
	identity := ""
	switch {
	case tp.CNP != nil:
		identity = *tp.CNP
	case tp.CUI != nil:
		identity = *tp.CUI
	}
	if identity == "" {
		return nil
	}
	var pend []struct {
		ID        int64        `db:"id"`
		CaseID    int64        `db:"case_id"`
		Kind      string       `db:"kind"`
		Share     fiscal.Share `db:"share_parts"`
		SourceID  int64        `db:"source_holding_id"`
		TaxedFrom int          `db:"taxed_from_year"`
	}
	if err := tx.Select(ctx, &pend, `SELECT id, case_id, kind, share_parts, source_holding_id, taxed_from_year FROM pending_holdings
		WHERE municipality_id = ? AND identity = ? AND entered_at IS NULL ORDER BY id`, tp.MunicipalityID, identity); err != nil {
		return translate(err, "pending holdings")
	}
	if len(pend) == 0 {
		return nil
	}
	db := tx.db
	engine, slug, err := db.engineFor(ctx, tp.MunicipalityID)
	if err != nil {
		return err
	}
	today := fiscal.LocalDate(tx.Now)
	// What this new taxpayer owes by tax type and year, as holdings enter.
	assessed := map[string]map[int]money.Bani{calc.TaxBuilding: {}, calc.TaxLand: {}}
	for _, p := range pend {
		table := propertyTable(p.Kind)
		var src []holdingRow
		if err := tx.Select(ctx, &src, `SELECT `+holdingColumns+`, h.attributes, NULL AS valuation_date FROM `+table+` h WHERE h.id = ?`, p.SourceID); err != nil {
			return translate(err, p.Kind)
		}
		if len(src) == 0 {
			return fiscal.Errorf(fiscal.EINTERNAL, "pending holding %d: its declared %s %d is gone", p.ID, p.Kind, p.SourceID)
		}
		var current calc.Object
		if err := json.Unmarshal([]byte(src[0].Attributes), &current); err != nil {
			return fiscal.Internal(fmt.Errorf("%s %d: attributes: %w", p.Kind, p.SourceID, err), p.Kind)
		}
		// A building's data by year (a change since the declaration).
		var hist []struct {
			Until int    `db:"until_year"`
			Attrs string `db:"attributes"`
		}
		if p.Kind == calc.TaxBuilding {
			if err := tx.Select(ctx, &hist, `SELECT until_year, attributes FROM building_history WHERE building_id = ? ORDER BY until_year`, p.SourceID); err != nil {
				return translate(err, "building history")
			}
		}
		objectOf := func(year int) calc.Object {
			for _, r := range hist {
				var o calc.Object
				if r.Until >= year && json.Unmarshal([]byte(r.Attrs), &o) == nil {
					return o
				}
			}
			return current
		}
		h := fiscal.Holding{TaxpayerID: tp.ID, Address: src[0].Address, CadastralNumber: src[0].CadastralNumber, Share: p.Share,
			AcquiredOn: src[0].AcquiredOn, TaxedFromYear: p.TaxedFrom, Object: current}
		h.Object.OwnerKind = string(tp.Kind)
		if err := tx.InsertHolding(ctx, tp.MunicipalityID, p.Kind, &h, p.CaseID); err != nil {
			return err
		}
		for _, r := range hist {
			if _, err := tx.Exec(ctx, `INSERT INTO building_history (municipality_id, building_id, until_year, attributes, case_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				tp.MunicipalityID, h.ID, r.Until, r.Attrs, p.CaseID, tx.Now); err != nil {
				return translate(err, "building history")
			}
		}
		news, skipped := fiscal.PendingEntry(engine, slug, string(tp.Kind), h, p.Kind, objectOf, assessed[p.Kind], today)
		var c *caseRow
		if db.docs != nil && len(news) > 0 {
			c = &caseRow{}
			if err := tx.Get(ctx, c, `SELECT id, municipality_id, number FROM cases WHERE id = ?`, p.CaseID); err != nil {
				return translate(err, "case")
			}
		}
		var ids, docIDs []int64
		for i := range news {
			news[i].ObjectID = h.ID
			id, _, err := tx.RecordAssessment(ctx, tp.MunicipalityID, &news[i])
			if err != nil {
				return err
			}
			ids = append(ids, id)
			assessed[p.Kind][news[i].Year] += news[i].Assessment.Annual
			if c != nil {
				d, err := db.issuePropertyDecision(ctx, tx, c, id, tp.ID, p.Kind, &h)
				if err != nil {
					return err
				}
				docIDs = append(docIDs, d.ID)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE pending_holdings SET entered_holding_id = ?, entered_at = ? WHERE id = ? AND entered_at IS NULL`, h.ID, tx.Now, p.ID); err != nil {
			return translate(err, "pending holding")
		}
		if err := tx.Audit(ctx, tp.MunicipalityID, p.Kind+".enter_pending", "pending_holding", p.ID, map[string]any{"entered_at": nil},
			map[string]any{"taxpayer_id": tp.ID, p.Kind + "_id": h.ID, "share": h.Share, "taxed_from_year": h.TaxedFromYear, "case_id": p.CaseID,
				"assessment_ids": ids, "document_ids": docIDs, "years_not_computed": skipped}); err != nil {
			return err
		}
	}
	return nil
}
