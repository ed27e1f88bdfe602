package store

import (
	"cmp"
	"context"
	"slices"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// TaxpayerPayments lists a taxpayer's payments, newest first, with their
// allocations (fiscal.PaymentLister).
func (db *DB) TaxpayerPayments(ctx context.Context, taxpayerID int64) ([]*fiscal.Payment, error) {
	tp, err := db.Taxpayer(ctx, taxpayerID)
	if err != nil {
		return nil, err
	}
	var rows []paymentRow
	if err := db.db.SelectContext(ctx, &rows, db.db.Rebind(`SELECT `+paymentColumns+` FROM payments WHERE municipality_id = ? AND taxpayer_id = ?
		ORDER BY created_at DESC, id DESC LIMIT 500`), tp.MunicipalityID, tp.ID); err != nil {
		return nil, translate(err, "payments")
	}
	out := make([]*fiscal.Payment, 0, len(rows))
	for i := range rows {
		v, err := paymentView(ctx, db.db, &rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// bonusOffers finds the bonuses still available on asOf: per tax type and
// year with a bonus on its assessments, none granted yet, the first
// instalment's due date not past, and something left to pay.
// debts is loadDebts(…, asOf) of the same taxpayer; q runs rebound queries.
func bonusOffers(ctx context.Context, q querier, muni, taxpayer int64, asOf civil.Date, debts []ledgerDebt) ([]fiscal.BonusOffer, error) {
	ahead := false
	for i := range debts {
		if d := &debts[i]; d.Kind == fiscal.DebtPrincipal && d.AssessmentID != nil && !asOf.After(d.DueDate) {
			ahead = true
			break
		}
	}
	if !ahead {
		return nil, nil
	}
	var bonusRows []struct {
		AssessmentID int64      `db:"id"`
		Bonus        money.Bani `db:"bonus_bani"`
	}
	if err := q.SelectContext(ctx, &bonusRows, q.Rebind(`SELECT id, bonus_bani FROM assessments WHERE municipality_id = ? AND taxpayer_id = ? AND bonus_bani > 0`), muni, taxpayer); err != nil {
		return nil, translate(err, "assessments")
	}
	bonusOf := map[int64]money.Bani{}
	for _, r := range bonusRows {
		bonusOf[r.AssessmentID] = r.Bonus
	}
	var granted []int64
	if err := q.SelectContext(ctx, &granted, q.Rebind(`SELECT DISTINCT debt_id FROM allocations WHERE municipality_id = ? AND taxpayer_id = ? AND source = 'bonus'`), muni, taxpayer); err != nil {
		return nil, translate(err, "allocations")
	}
	type key struct {
		tax  string
		year int
	}
	offers := map[key]*fiscal.BonusOffer{}
	var order []key
	seen := map[int64]bool{}
	blocked := map[key]bool{}
	for i := range debts {
		d := &debts[i]
		if d.Kind != fiscal.DebtPrincipal || d.AssessmentID == nil {
			continue
		}
		k := key{d.TaxType, d.Year}
		o := offers[k]
		if o == nil {
			o = &fiscal.BonusOffer{TaxType: d.TaxType, Year: d.Year, Until: d.DueDate}
			offers[k] = o
			order = append(order, k)
		}
		if d.DueDate.Before(o.Until) {
			o.Until = d.DueDate
		}
		if slices.Contains(granted, d.ID) {
			blocked[k] = true
		}
		o.PayInFull += max(d.outstanding(), 0)
		if !seen[*d.AssessmentID] {
			seen[*d.AssessmentID] = true
			o.Bonus += bonusOf[*d.AssessmentID]
		}
	}
	var out []fiscal.BonusOffer
	for _, k := range order {
		o := offers[k]
		if blocked[k] || o.Bonus <= 0 || asOf.After(o.Until) || o.PayInFull <= o.Bonus {
			continue
		}
		o.PayInFull -= o.Bonus
		out = append(out, *o)
	}
	slices.SortFunc(out, func(a, b fiscal.BonusOffer) int {
		return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.TaxType, b.TaxType))
	})
	return out, nil
}
