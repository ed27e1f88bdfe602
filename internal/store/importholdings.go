package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// Imports of buildings and lands (issue 20 on the record of issue 18): a
// row is one owner's holding of an object, keyed by its external id. As a
// declaration would, the batch refuses a row whose share would take the
// current shares of its cadastral number above 100% (counting what the
// database holds and the rows before it), under the same lock of the
// cadastral number as a declaration's approval (PostgreSQL advisory lock;
// SQLite's immediate transaction), and a company's building, which is taxed
// on a taxable value the file does not carry.

var importHoldingCols = []string{"id", "municipality_id", "taxpayer_id", "address", "cadastral_number", "attributes", "share_parts", "acquired_on",
	"disposed_on", "taxed_from_year", "created_at", "updated_at", "version"}

// importedHolding is a holding as its audit entries show it.
type importedHolding struct {
	TaxpayerID      int64           `json:"taxpayer_id" db:"taxpayer_id"`
	Address         string          `json:"address" db:"address"`
	CadastralNumber string          `json:"cadastral_number" db:"cadastral_number"`
	Attributes      json.RawMessage `json:"attributes" db:"-"`
	AttributesText  string          `json:"-" db:"attributes"`
	Share           fiscal.Share    `json:"share" db:"share_parts"`
	AcquiredOn      civil.Date      `json:"acquired_on" db:"acquired_on"`
	DisposedOn      *civil.Date     `json:"disposed_on" db:"disposed_on"`
	TaxedFromYear   int             `json:"taxed_from_year" db:"taxed_from_year"`
}

func (w *batchWriter) holdings(ctx context.Context, rows []fiscal.ImportRow, dry *fiscal.DryHoldings) error {
	kind := "building"
	if w.run.Kind == fiscal.ImportLands {
		kind = "land"
	}
	table := propertyTable(kind)
	changed, fresh := w.classify(rows)
	var exts, cads []string
	for _, r := range append(append([]*fiscal.ImportRow{}, changed...), fresh...) {
		exts = append(exts, r.Holding.OwnerExternalID)
		cads = append(cads, r.Holding.Holding.CadastralNumber)
	}
	owners, err := w.owners(ctx, exts)
	if err != nil {
		return err
	}
	cads = uniq(cads)
	slices.Sort(cads)
	if w.tx.db.dialect == "postgres" {
		// The key of a declaration's approval (declarations.go): an import
		// and an approval of one cadastral number do not interleave.
		for _, c := range cads {
			key := fmt.Sprintf("fiscald/%d/%s/%s", w.muni, kind, c)
			if _, err := w.tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, key); err != nil {
				return translate(err, kind)
			}
		}
	}
	var held []struct {
		ID        int64  `db:"id"`
		Cadastral string `db:"cadastral_number"`
		Share     int64  `db:"share_parts"`
	}
	if err := w.tx.selectIn(ctx, &held, `SELECT id, cadastral_number, share_parts FROM `+table+`
		WHERE municipality_id = ? AND disposed_on IS NULL AND cadastral_number IN (%s)`, cads, w.muni); err != nil {
		return err
	}
	// shares: cadastral number → holding id → parts, as the batch goes.
	shares := map[string]map[int64]int64{}
	where := map[int64]string{}
	for _, h := range held {
		if shares[h.Cadastral] == nil {
			shares[h.Cadastral] = map[int64]int64{}
		}
		shares[h.Cadastral][h.ID] = h.Share
		where[h.ID] = h.Cadastral
	}
	if w.dry && dry != nil {
		// What earlier batches of this dry run accepted and did not write.
		if dry.Parts == nil {
			dry.Parts, dry.Where, dry.Next = map[string]map[int64]int64{}, map[int64]string{}, -1
		}
		for id, c := range where {
			if moved, ok := dry.Where[id]; ok && moved != c {
				delete(shares[c], id)
			}
		}
		for _, c := range cads {
			for id, p := range dry.Parts[c] {
				if shares[c] == nil {
					shares[c] = map[int64]int64{}
				}
				shares[c][id] = p
				where[id] = c
			}
		}
	}
	sum := func(cad string) (n int64) {
		for _, p := range shares[cad] {
			n += p
		}
		return n
	}
	// Rows are checked in line order (a later row is the one that exceeds).
	todo := append(append([]*fiscal.ImportRow{}, changed...), fresh...)
	slices.SortFunc(todo, func(a, b *fiscal.ImportRow) int { return a.Line - b.Line })
	isChanged := map[*fiscal.ImportRow]bool{}
	for _, r := range changed {
		isChanged[r] = true
	}
	good := map[*fiscal.ImportRow]bool{}
	pseudo := int64(-1) // new rows' places in shares until they have ids
	if w.dry && dry != nil {
		pseudo = dry.Next // unique across the dry run's batches
	}
	for _, r := range todo {
		ih := r.Holding
		o, ok := w.owner(r, owners, ih.OwnerExternalID)
		if !ok {
			continue
		}
		if kind == "building" && o.Kind == string(fiscal.Company) {
			w.reject(r, "owner_external_id", "the owner is a company: a company's building is taxed on its taxable value (art. 460), which this file does not carry; the company declares it")
			continue
		}
		ih.Holding.TaxpayerID = o.ID
		ih.Holding.Object.OwnerKind = o.Kind
		id := pseudo
		pseudo--
		var oldCad string
		var oldParts int64
		if isChanged[r] {
			id = w.keys[r.ExternalID].EntityID
			if c, ok := where[id]; ok {
				oldCad, oldParts = c, shares[c][id]
				delete(shares[c], id)
			}
		}
		h := &ih.Holding
		if h.DisposedOn == nil {
			if total := sum(h.CadastralNumber) + int64(h.Share); total > int64(fiscal.WholeShare) {
				w.reject(r, "share", fmt.Sprintf("cadastral number %s: the current shares would add up to %s%%, more than 100%% (%s%% held by other rows or records)",
					h.CadastralNumber, fiscal.Share(total).Percent(), fiscal.Share(sum(h.CadastralNumber)).Percent()))
				if oldCad != "" {
					shares[oldCad][id] = oldParts
				}
				continue
			}
			if shares[h.CadastralNumber] == nil {
				shares[h.CadastralNumber] = map[int64]int64{}
			}
			shares[h.CadastralNumber][id] = int64(h.Share)
			where[id] = h.CadastralNumber
		}
		good[r] = true
		if w.dry && dry != nil {
			if c, ok := dry.Where[id]; ok {
				delete(dry.Parts[c], id)
				delete(dry.Where, id)
			}
			if c, ok := where[id]; ok && h.DisposedOn == nil {
				if dry.Parts[c] == nil {
					dry.Parts[c] = map[int64]int64{}
				}
				dry.Parts[c][id], dry.Where[id] = shares[c][id], c
			} else if isChanged[r] {
				dry.Where[id] = "" // disposed of in this run: no longer counts
			}
		}
	}
	if w.dry && dry != nil {
		dry.Next = pseudo
	}
	for _, r := range changed {
		if !good[r] {
			continue
		}
		if w.dry {
			w.res.Updated++
			continue
		}
		k := w.keys[r.ExternalID]
		var before importedHolding
		if err := w.tx.Get(ctx, &before, `SELECT taxpayer_id, address, cadastral_number, attributes, share_parts, acquired_on, disposed_on, taxed_from_year FROM `+table+`
			WHERE id = ? AND municipality_id = ?`, k.EntityID, w.muni); err != nil {
			return translate(err, kind)
		}
		before.Attributes = json.RawMessage(before.AttributesText)
		h := &r.Holding.Holding
		attrs, err := json.Marshal(h.Object)
		if err != nil {
			return fiscal.Internal(err, kind+" attributes")
		}
		if _, err := w.tx.Exec(ctx, `UPDATE `+table+` SET taxpayer_id = ?, address = ?, cadastral_number = ?, attributes = ?, share_parts = ?, acquired_on = ?,
			disposed_on = ?, taxed_from_year = ?, updated_at = ?, version = version + 1 WHERE id = ? AND municipality_id = ?`,
			h.TaxpayerID, h.Address, h.CadastralNumber, string(attrs), int64(h.Share), h.AcquiredOn, h.DisposedOn, h.TaxedFromYear, w.tx.Now,
			k.EntityID, w.muni); err != nil {
			return translate(err, kind)
		}
		after := importedHolding{TaxpayerID: h.TaxpayerID, Address: h.Address, CadastralNumber: h.CadastralNumber, Attributes: attrs, Share: h.Share,
			AcquiredOn: h.AcquiredOn, DisposedOn: h.DisposedOn, TaxedFromYear: h.TaxedFromYear}
		if err := w.tx.Audit(ctx, w.muni, kind+".import_update", kind, k.EntityID, before, after); err != nil {
			return err
		}
		if err := w.rekey(ctx, r); err != nil {
			return err
		}
	}
	var ok []*fiscal.ImportRow
	for _, r := range fresh {
		if good[r] {
			ok = append(ok, r)
		}
	}
	if w.dry {
		w.res.Imported += int64(len(ok))
		return nil
	}
	newIDs, err := w.tx.allocIDs(ctx, table, len(ok))
	if err != nil {
		return err
	}
	out := make([][]any, len(ok))
	now := w.tx.Now
	for i, r := range ok {
		h := &r.Holding.Holding
		attrs, err := json.Marshal(h.Object)
		if err != nil {
			return fiscal.Internal(err, kind+" attributes")
		}
		out[i] = []any{newIDs[i], w.muni, h.TaxpayerID, h.Address, h.CadastralNumber, string(attrs), int64(h.Share), w.tx.dateArg(h.AcquiredOn),
			w.tx.dateArgPtr(h.DisposedOn), int64(h.TaxedFromYear), now, now, int64(1)}
		w.keep(r, newIDs[i])
	}
	return w.tx.bulkInsert(ctx, table, importHoldingCols, out)
}

// importObject is an imported object a balance names: its id and owner.
type importObject struct {
	ExternalID string `db:"external_id"`
	ID         int64  `db:"entity_id"`
	Owner      int64  `db:"taxpayer_id"`
}

// importedObjects resolves the objects balances name, by import kind
// (vehicles, buildings, lands): external id → id and owner.
func (w *batchWriter) importedObjects(ctx context.Context, byKind map[string][]string) (map[string]map[string]importObject, error) {
	out := map[string]map[string]importObject{}
	for kind, exts := range byKind {
		table := importTables[kind]
		if table == "" || kind == fiscal.ImportTaxpayers || kind == fiscal.ImportBalances {
			continue
		}
		var got []importObject
		if err := w.tx.selectIn(ctx, &got, `SELECT k.external_id, k.entity_id, o.taxpayer_id FROM import_keys k JOIN `+table+` o ON o.id = k.entity_id
			WHERE k.municipality_id = ? AND k.kind = '`+kind+`' AND k.external_id IN (%s)`, uniq(exts), w.muni); err != nil {
			return nil, err
		}
		m := make(map[string]importObject, len(got))
		for _, o := range got {
			m[o.ExternalID] = o
		}
		out[kind] = m
	}
	return out, nil
}
