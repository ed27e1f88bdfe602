package store

import (
	"context"
	"fmt"

	"fiscald/fiscal"
)

// Imports of taxpayers (issue 20): a row is a taxpayer keyed by its external
// id. Changed rows are updated one by one with an audit entry (before/after),
// new ones bulk-inserted; a CNP or CUI registered to a taxpayer the import
// does not know (another external id, or none) rejects the row on cnp/cui,
// found by reads before any write.

func (w *batchWriter) taxpayers(ctx context.Context, rows []fiscal.ImportRow) error {
	changed, fresh := w.classify(rows)
	// Identity numbers registered to a taxpayer other than the row's own.
	var cnps, cuis []string
	for _, r := range append(append([]*fiscal.ImportRow{}, changed...), fresh...) {
		in := r.Taxpayer.Input
		if in.CNP != "" {
			cnps = append(cnps, in.CNP)
		} else {
			cuis = append(cuis, in.CUI)
		}
	}
	taken := map[string]int64{}
	var ids []struct {
		ID  int64  `db:"id"`
		Num string `db:"num"`
	}
	if err := w.tx.selectIn(ctx, &ids, `SELECT id, cnp AS num FROM taxpayers WHERE municipality_id = ? AND cnp IN (%s)`, uniq(cnps), w.muni); err != nil {
		return err
	}
	if err := w.tx.selectIn(ctx, &ids, `SELECT id, cui AS num FROM taxpayers WHERE municipality_id = ? AND cui IN (%s)`, uniq(cuis), w.muni); err != nil {
		return err
	}
	for _, x := range ids {
		taken[x.Num] = x.ID
	}
	conflict := func(r *fiscal.ImportRow, own int64) bool {
		in := r.Taxpayer.Input
		field, num := "cnp", in.CNP
		if num == "" {
			field, num = "cui", in.CUI
		}
		if id, ok := taken[num]; ok && id != own {
			w.reject(r, field, fmt.Sprintf("already registered to taxpayer %d, which has another external_id or none", id))
			return true
		}
		return false
	}
	for _, r := range changed {
		k := w.keys[r.ExternalID]
		if conflict(r, k.EntityID) {
			continue
		}
		if w.dry {
			w.res.Updated++
			continue
		}
		var before fiscal.Taxpayer
		if err := w.tx.Get(ctx, &before, `SELECT `+taxpayerColumns+` FROM taxpayers WHERE id = ? AND municipality_id = ?`, k.EntityID, w.muni); err != nil {
			return translate(err, "taxpayer")
		}
		in := r.Taxpayer.Input
		after := before
		after.Kind, after.CNP, after.CUI, after.Name, after.Address, after.Email, after.Phone = in.Kind, strPtr(in.CNP), strPtr(in.CUI), in.Name, in.Address, in.Email, in.Phone
		after.UpdatedAt, after.Version = w.tx.Now, before.Version+1
		if _, err := w.tx.Exec(ctx, `UPDATE taxpayers SET kind = ?, cnp = ?, cui = ?, name = ?, address = ?, email = ?, phone = ?, updated_at = ?, version = version + 1
			WHERE id = ? AND municipality_id = ?`, after.Kind, after.CNP, after.CUI, after.Name, after.Address, after.Email, after.Phone, w.tx.Now, k.EntityID, w.muni); err != nil {
			return translate(err, "taxpayer")
		}
		if err := w.tx.Audit(ctx, w.muni, "taxpayer.import_update", "taxpayer", k.EntityID, before, after); err != nil {
			return err
		}
		if err := w.rekey(ctx, r); err != nil {
			return err
		}
	}
	var ok []*fiscal.ImportRow
	for _, r := range fresh {
		if !conflict(r, 0) {
			ok = append(ok, r)
		}
	}
	if w.dry {
		w.res.Imported += int64(len(ok))
		return nil
	}
	newIDs, err := w.tx.allocIDs(ctx, "taxpayers", len(ok))
	if err != nil {
		return err
	}
	out := make([][]any, len(ok))
	now := w.tx.Now
	for i, r := range ok {
		in := r.Taxpayer.Input
		out[i] = []any{newIDs[i], w.muni, string(in.Kind), strPtr(in.CNP), strPtr(in.CUI), in.Name, in.Address, in.Email, in.Phone, now, now, int64(1)}
		w.keep(r, newIDs[i])
	}
	return w.tx.bulkInsert(ctx, "taxpayers", taxpayerCols, out)
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
