package store

import (
	"context"
	"fmt"
	"strings"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/payments"
)

// Money allocated to a taxpayer's debts, shared by a payment's settlement
// (payments.go) and the use of credit (credit.go): the plan of what a
// payment may pay on a date (makePlan: the debts, the late fees to
// materialise, the bonus groups) and what it costs (quote), the account's
// lock that serialises every use case moving money on it (lockAccount), and
// the allocation itself in the legal order (allocateMoney, with
// payments.Settle's rules).

// plan is what a payment of a taxpayer may pay on a date: the debts in the
// allocation's terms, the late fees to materialise, the bonus groups.
type plan struct {
	debts  []ledgerDebt // the taxpayer's debts, with the fees to materialise (negative ids)
	alloc  []payments.Debt
	chosen []int64 // the chosen debts and their late fees; nil = all
	groups []payments.BonusGroup
}

func allocKind(kind string) payments.DebtKind {
	switch kind {
	case fiscal.DebtFine:
		return payments.KindFine
	case fiscal.DebtLateFee:
		return payments.KindLateFee
	}
	return payments.KindPrincipal // principal and adjustments
}

// makePlan reads the ledger inside tx and prepares a payment on date on. The
// late fees accrued up to on are added as debts with negative ids (−parent).
func makePlan(ctx context.Context, tx *Tx, e *calc.Engine, slug string, muni, taxpayer int64, chosen []int64, on civil.Date) (*plan, error) {
	debts, err := loadDebts(ctx, tx, muni, taxpayer, farFuture)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*ledgerDebt{}
	children := map[int64][]*ledgerDebt{}
	for i := range debts {
		d := &debts[i]
		byID[d.ID] = d
		if d.ParentID != nil {
			children[*d.ParentID] = append(children[*d.ParentID], d)
		}
	}
	history, err := feeChildren(ctx, tx, muni, taxpayer, children)
	if err != nil {
		return nil, err
	}
	pick := map[int64]bool{}
	for _, id := range chosen {
		d, ok := byID[id]
		if !ok || d.Kind == fiscal.DebtLateFee {
			return nil, fiscal.InvalidField("debt_ids", fmt.Sprintf("debt %d is not one of this taxpayer's debts", id))
		}
		pick[id] = true
	}
	p := &plan{}
	var fees []ledgerDebt
	for i := range debts {
		d := &debts[i]
		if len(chosen) > 0 && !pick[d.ID] {
			continue
		}
		f, err := accruedFee(e, slug, d, history(d.ID), on)
		if err != nil {
			return nil, err
		}
		if f > 0 {
			pid := d.ID
			fees = append(fees, ledgerDebt{ID: -d.ID, ParentID: &pid, Kind: fiscal.DebtLateFee, TaxType: d.TaxType, Year: d.Year, ObjectID: d.ObjectID,
				Installment: d.Installment, DueDate: on, Amount: f, BudgetCode: d.BudgetCode})
		}
	}
	p.debts = append(debts, fees...)
	for i := range p.debts {
		d := &p.debts[i]
		p.alloc = append(p.alloc, payments.Debt{ID: d.ID, Kind: allocKind(d.Kind), DueDate: d.DueDate.String(), Outstanding: d.outstanding()})
		if len(chosen) > 0 && (pick[d.ID] || (d.ParentID != nil && pick[*d.ParentID])) {
			p.chosen = append(p.chosen, d.ID)
		}
	}
	if len(chosen) > 0 && len(p.chosen) == 0 {
		p.chosen = []int64{0} // nothing eligible: allocate nothing
	}

	// Bonus groups: a tax type's year whose first deadline is not past and
	// which has had no bonus yet. Most of the year no deadline is ahead:
	// skip the queries then.
	ahead := false
	for i := range debts {
		if d := &debts[i]; d.Kind == fiscal.DebtPrincipal && d.AssessmentID != nil && !on.After(d.DueDate) {
			ahead = true
			break
		}
	}
	if !ahead {
		return p, nil
	}
	var bonusRows []struct {
		AssessmentID int64      `db:"id"`
		Bonus        money.Bani `db:"bonus_bani"`
	}
	// Only the current revision's bonus counts (a recomputation's revision
	// replaces the earlier one's).
	if err := tx.Select(ctx, &bonusRows, `SELECT a.id, a.bonus_bani FROM assessments a WHERE a.municipality_id = ? AND a.taxpayer_id = ? AND a.bonus_bani > 0
		AND NOT EXISTS (SELECT 1 FROM assessments n WHERE n.municipality_id = a.municipality_id AND n.tax_type = a.tax_type AND n.object_kind = a.object_kind
			AND n.object_id = a.object_id AND n.year = a.year AND n.revision > a.revision)`, muni, taxpayer); err != nil {
		return nil, translate(err, "assessments")
	}
	bonusOf := map[int64]money.Bani{}
	for _, r := range bonusRows {
		bonusOf[r.AssessmentID] = r.Bonus
	}
	var granted []int64
	if err := tx.Select(ctx, &granted, `SELECT DISTINCT debt_id FROM allocations WHERE municipality_id = ? AND taxpayer_id = ? AND source = 'bonus'`, muni, taxpayer); err != nil {
		return nil, translate(err, "allocations")
	}
	wasGranted := map[int64]bool{}
	for _, id := range granted {
		wasGranted[id] = true
	}
	var assessed []payments.AssessedDebt
	for i := range debts {
		d := &debts[i]
		if (d.Kind == fiscal.DebtPrincipal || d.Kind == fiscal.DebtAdjustment) && d.AssessmentID != nil {
			assessed = append(assessed, payments.AssessedDebt{ID: d.ID, TaxType: d.TaxType, Year: d.Year, AssessmentID: *d.AssessmentID,
				DueDate: d.DueDate, Outstanding: d.outstanding()})
		}
	}
	p.groups = payments.BonusGroups(assessed, bonusOf, wasGranted, on)
	return p, nil
}

// quote is what paying the plan's debts costs: their outstanding amounts and
// fees, minus any bonus earned by paying them all.
func (p *plan) quote() money.Bani {
	var total money.Bani
	inChosen := map[int64]bool{}
	for _, id := range p.chosen {
		inChosen[id] = true
	}
	for _, d := range p.alloc {
		if d.Outstanding > 0 && (p.chosen == nil || inChosen[d.ID]) {
			total += d.Outstanding
		}
	}
	s := payments.Settle(total, p.alloc, p.chosen, p.groups)
	var sum money.Bani
	for _, a := range s.Allocations {
		sum += a.Amount
	}
	return sum
}

// lockAccount serialises every use case that moves money on a taxpayer's
// account (an UPDATE takes the row lock on PostgreSQL; SQLite's immediate
// transaction holds the database's write lock already).
func lockAccount(ctx context.Context, tx *Tx, muni, taxpayer int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO taxpayer_accounts (municipality_id, taxpayer_id, version) VALUES (?, ?, 1)
		ON CONFLICT (municipality_id, taxpayer_id) DO UPDATE SET version = taxpayer_accounts.version + 1`, muni, taxpayer)
	return translate(err, "account")
}

// settle allocates a payment inside tx on date on: it materialises the late
// fees, applies the bonus the payment earns, allocates in the legal order,
// keeps the remainder as credit, numbers the receipt and marks the payment
// succeeded.
// allocateMoney applies amount of payment paymentID (fresh money, or the
// payment's credit being used) to the taxpayer's debts on date on: it
// materialises the late fees of the principals it touches, applies the
// bonus it earns and inserts the allocations in the legal order. The
// settlement's Credit is what is left over; the caller records it.
func allocateMoney(ctx context.Context, tx *Tx, e *calc.Engine, slug string, muni, taxpayer, paymentID int64, amount money.Bani, chosen []int64, on civil.Date) (payments.Settlement, error) {
	pl, err := makePlan(ctx, tx, e, slug, muni, taxpayer, chosen, on)
	if err != nil {
		return payments.Settlement{}, err
	}
	s := payments.Settle(amount, pl.alloc, pl.chosen, pl.groups)
	// Materialise the fee of every principal the payment touches (its
	// outstanding changes now, so the fee accrued on the old amount is
	// fixed) and every fee it pays.
	touched := map[int64]bool{}
	for _, a := range s.Allocations {
		touched[a.DebtID] = true
	}
	for _, a := range s.Bonus {
		touched[a.DebtID] = true
	}
	real := map[int64]int64{}
	for i := range pl.debts {
		d := &pl.debts[i]
		if d.ID >= 0 || !(touched[d.ID] || touched[*d.ParentID]) {
			continue
		}
		id, err := tx.Insert(ctx, `INSERT INTO debts (municipality_id, taxpayer_id, assessment_id, parent_debt_id, kind, tax_type, year, object_id, installment, due_date, amount_bani, budget_code, created_at)
			VALUES (?, ?, NULL, ?, 'late_fee', ?, ?, ?, ?, ?, ?, ?, ?)`,
			muni, taxpayer, *d.ParentID, d.TaxType, d.Year, d.ObjectID, d.Installment, d.DueDate, d.Amount, d.BudgetCode, tx.Now)
		if err != nil {
			return s, translate(err, "late fee")
		}
		real[d.ID] = id
	}
	var (
		values []string
		args   []any
	)
	add := func(source string, allocs []payments.Allocation) {
		for _, a := range allocs {
			id := a.DebtID
			if id < 0 {
				id = real[id]
			}
			values = append(values, "(?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, muni, taxpayer, paymentID, id, source, a.Amount, on, tx.Now)
		}
	}
	add("payment", s.Allocations)
	add("bonus", s.Bonus)
	if len(values) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO allocations (municipality_id, taxpayer_id, payment_id, debt_id, source, amount_bani, effective_on, created_at) VALUES `+
			strings.Join(values, ", "), args...); err != nil {
			return s, translate(err, "allocation")
		}
	}
	return s, nil
}
