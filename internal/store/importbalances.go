package store

import (
	"context"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// Imports of balances (issue 20): a row is a debt carried over from the old
// system, keyed by its external id, entered as a principal debt of
// principal − paid without an assessment (the budget code by tax type and
// owner kind unless the row gives one: balanceCode), so late fees, arrears,
// certificates and allocations treat it as any debt. Its object, if named,
// must be an imported object of the owner; a debt paid on in fiscald since
// its import is not changed by a new import.

// balanceCode is the budget code of a carried-over debt: the row's own, or
// the tax's code for the owner's kind (local-taxes.md §7).
func balanceCode(b *fiscal.ImportBalance, ownerKind string) string {
	if b.BudgetCode != "" {
		return b.BudgetCode
	}
	company := ownerKind == string(fiscal.Company)
	switch b.TaxType {
	case "building":
		if company {
			return "07.02.01.02"
		}
		return "07.02.01.01"
	case "land":
		if company {
			return "07.02.02.02"
		}
		return "07.02.02.01"
	default:
		if company {
			return "16.02.02.02"
		}
		return "16.02.02.01"
	}
}

// importedDebt is what a balance row becomes: the outstanding principal
// (principal − paid in the old system) as a principal debt without an
// assessment; late fees accrue on it from its due date like on any debt.
type importedDebt struct {
	TaxpayerID  int64      `json:"taxpayer_id"`
	TaxType     string     `json:"tax_type"`
	Year        int        `json:"year"`
	ObjectID    *int64     `json:"object_id"`
	Installment int        `json:"installment"`
	DueDate     civil.Date `json:"due_date"`
	Amount      money.Bani `json:"amount"`
	BudgetCode  string     `json:"budget_code"`
}

func (w *batchWriter) balances(ctx context.Context, rows []fiscal.ImportRow) error {
	changed, fresh := w.classify(rows)
	var exts []string
	objs := map[string][]string{}
	for _, r := range append(append([]*fiscal.ImportRow{}, changed...), fresh...) {
		exts = append(exts, r.Balance.OwnerExternalID)
		if r.Balance.ObjectExternalID != "" {
			objs[r.Balance.ObjectKind] = append(objs[r.Balance.ObjectKind], r.Balance.ObjectExternalID)
		}
	}
	owners, err := w.owners(ctx, exts)
	if err != nil {
		return err
	}
	objects, err := w.importedObjects(ctx, objs)
	if err != nil {
		return err
	}
	debtOf := func(r *fiscal.ImportRow) (*importedDebt, bool) {
		b := r.Balance
		o, ok := w.owner(r, owners, b.OwnerExternalID)
		if !ok {
			return nil, false
		}
		d := &importedDebt{TaxpayerID: o.ID, TaxType: b.TaxType, Year: b.Year, Installment: b.Installment, DueDate: b.DueDate,
			Amount: b.Principal - b.Paid, BudgetCode: balanceCode(b, o.Kind)}
		if b.ObjectExternalID != "" {
			what := map[string]string{fiscal.ImportVehicles: "vehicle", fiscal.ImportBuildings: "building", fiscal.ImportLands: "plot of land"}[b.ObjectKind]
			v, ok := objects[b.ObjectKind][b.ObjectExternalID]
			if !ok {
				owner, checked := w.pendingRow(b.ObjectKind, b.ObjectExternalID)
				if !checked {
					w.reject(r, "object_external_id", "no imported "+what+" has this external_id")
					return nil, false
				}
				if owner != b.OwnerExternalID {
					w.reject(r, "object_external_id", "the "+what+" belongs to another owner")
					return nil, false
				}
			}
			if ok && o.ID != 0 && v.Owner != o.ID {
				w.reject(r, "object_external_id", "the "+what+" belongs to another owner")
				return nil, false
			}
			if ok {
				d.ObjectID = &v.ID
			}
		}
		return d, true
	}
	for _, r := range changed {
		k := w.keys[r.ExternalID]
		d, ok := debtOf(r)
		if !ok {
			continue
		}
		var paid money.Bani
		if err := w.tx.Get(ctx, &paid, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM allocations WHERE debt_id = ?`, k.EntityID); err != nil {
			return translate(err, "allocations")
		}
		if paid != 0 {
			w.reject(r, "principal", "this debt has been paid on in fiscald since it was imported: correct it by an adjustment, not a new import")
			continue
		}
		if w.dry {
			w.res.Updated++
			continue
		}
		var before importedDebt
		var row struct {
			TaxpayerID  int64      `db:"taxpayer_id"`
			TaxType     string     `db:"tax_type"`
			Year        int        `db:"year"`
			ObjectID    *int64     `db:"object_id"`
			Installment int        `db:"installment"`
			DueDate     civil.Date `db:"due_date"`
			Amount      money.Bani `db:"amount_bani"`
			BudgetCode  string     `db:"budget_code"`
		}
		if err := w.tx.Get(ctx, &row, `SELECT taxpayer_id, tax_type, year, object_id, installment, due_date, amount_bani, budget_code FROM debts WHERE id = ? AND municipality_id = ?`,
			k.EntityID, w.muni); err != nil {
			return translate(err, "debt")
		}
		before = importedDebt(row)
		if _, err := w.tx.Exec(ctx, `UPDATE debts SET object_id = ?, due_date = ?, amount_bani = ?, budget_code = ?, version = version + 1 WHERE id = ? AND municipality_id = ?`,
			d.ObjectID, d.DueDate, d.Amount, d.BudgetCode, k.EntityID, w.muni); err != nil {
			return translate(err, "debt")
		}
		if err := w.tx.Audit(ctx, w.muni, "debt.import_update", "debt", k.EntityID, before, d); err != nil {
			return err
		}
		if err := w.rekey(ctx, r); err != nil {
			return err
		}
	}
	type freshDebt struct {
		r *fiscal.ImportRow
		d *importedDebt
	}
	var ok []freshDebt
	for _, r := range fresh {
		if d, good := debtOf(r); good {
			ok = append(ok, freshDebt{r, d})
		}
	}
	if w.dry {
		w.res.Imported += int64(len(ok))
		return nil
	}
	newIDs, err := w.tx.allocIDs(ctx, "debts", len(ok))
	if err != nil {
		return err
	}
	out := make([][]any, len(ok))
	now := w.tx.Now
	for i, f := range ok {
		d := f.d
		out[i] = []any{newIDs[i], w.muni, d.TaxpayerID, nil, fiscal.DebtPrincipal, d.TaxType, int64(d.Year), d.ObjectID,
			int64(d.Installment), w.tx.dateArg(d.DueDate), int64(d.Amount), d.BudgetCode, now}
		w.keep(f.r, newIDs[i])
	}
	return w.tx.bulkInsert(ctx, "debts", debtCols, out)
}
