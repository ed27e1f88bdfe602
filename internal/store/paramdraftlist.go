package store

import (
	"context"

	"fiscald/fiscal"
)

// ParameterDrafts lists the drafts of the actor's municipality (admin only),
// the latest target year first, without their lines: the portal's list of
// next year's drafts. It reads in a read-only transaction.
func (db *DB) ParameterDrafts(ctx context.Context) ([]fiscal.ParameterDraft, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var rows []draftRow
	err = db.readTx(ctx, func(tx *Tx) error {
		rows = rows[:0]
		return translate(tx.Select(ctx, &rows, `SELECT id, municipality_id, from_year, to_year, inflation_pct, eur_ron, decision_number, decision_date, status, version, created_at, adopted_at
			FROM parameter_drafts WHERE municipality_id = ? ORDER BY to_year DESC, id DESC`, a.MunicipalityID), "parameter drafts")
	})
	if err != nil {
		return nil, err
	}
	out := make([]fiscal.ParameterDraft, len(rows))
	for i := range rows {
		out[i] = *rows[i].draft(nil)
		out[i].Lines = nil
	}
	return out, nil
}
