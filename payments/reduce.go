package payments

import (
	"cmp"
	"slices"

	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// This file holds the pure rules of a retroactive recomputation
// (local-taxes.md §1): where the new tax is higher, the difference is a new
// debt due as for a tax decision (DecisionDueDate); where it is lower, the
// object's debts are reduced (Reduce): unpaid instalments first, then paid
// ones, whose excess payment becomes the taxpayer's credit.

// DecisionDueDate is the due date of a difference established on date on
// (the recomputation is the decision, communicated the same day): CPF
// art. 156 alin. (1): communicated between the 1st and the 15th of a month,
// due on the 5th of the next month; between the 16th and the month's end,
// on the 20th of the next month. The caller moves it to the next working
// day (CPF art. 181 alin. (4)).
func DecisionDueDate(on civil.Date) civil.Date {
	y, m := on.Year, on.Month+1
	if m > 12 {
		y, m = y+1, 1
	}
	if on.Day <= 15 {
		return civil.New(y, m, 5)
	}
	return civil.New(y, m, 20)
}

// Paid is what one payment (or its early-payment bonus) has paid on a debt,
// net of refunds.
type Paid struct {
	PaymentID int64
	Bonus     bool
	Amount    money.Bani
}

// ReduceDebt is one debt of a recomputed object (an instalment or an
// earlier adjustment) with what was paid on it.
type ReduceDebt struct {
	ID      int64
	DueDate string // YYYY-MM-DD
	Amount  money.Bani
	Paid    []Paid
}

func (d *ReduceDebt) paid() money.Bani {
	var s money.Bani
	for _, p := range d.Paid {
		s += max(p.Amount, 0)
	}
	return s
}

// DebtCut says how one debt changes: it is cancelled and, when NewAmount is
// positive, replaced by a debt of NewAmount carrying Keep; Take is the paid
// money removed from it (a payment's part becomes that payment's credit, a
// bonus part is withdrawn); Withdrawn is the unpaid part cancelled.
type DebtCut struct {
	DebtID    int64
	NewAmount money.Bani
	Keep      []Paid
	Take      []Paid
	Withdrawn money.Bani
}

// Reduce lowers an object's debts by `by` (the old tax minus the new):
// first the unpaid parts, latest due date first (the taxpayer keeps owing
// the earlier instalments, which may be overdue), then the paid parts,
// latest first. Of a paid part removed, up to bonusBack comes out of the
// early-payment bonus granted (the bonus shrinks with the tax), the rest out
// of the payments, latest payment first, and becomes credit. Debts not
// touched are not in the result. Reduce is pure; by is capped at the debts'
// total.
func Reduce(debts []ReduceDebt, by, bonusBack money.Bani) []DebtCut {
	order := make([]*ReduceDebt, len(debts))
	for i := range debts {
		order[i] = &debts[i]
	}
	slices.SortFunc(order, func(a, b *ReduceDebt) int {
		if c := cmp.Compare(b.DueDate, a.DueDate); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	unpaidCut := map[int64]money.Bani{}
	paidCut := map[int64]money.Bani{}
	left := max(by, 0)
	for _, d := range order {
		if u := d.Amount - d.paid(); u > 0 && left > 0 {
			c := min(u, left)
			unpaidCut[d.ID] = c
			left -= c
		}
	}
	for _, d := range order {
		if left == 0 {
			break
		}
		if p := min(d.paid(), d.Amount); p > 0 {
			c := min(p, left)
			paidCut[d.ID] = c
			left -= c
		}
	}
	var out []DebtCut
	bonusLeft := max(bonusBack, 0)
	for _, d := range order {
		u, p := unpaidCut[d.ID], paidCut[d.ID]
		if u+p == 0 {
			continue
		}
		cut := DebtCut{DebtID: d.ID, NewAmount: d.Amount - u - p, Withdrawn: u}
		// Remove p from what was paid: bonus first (up to bonusLeft), then
		// the payments, latest first.
		groups := slices.Clone(d.Paid)
		slices.SortStableFunc(groups, func(a, b Paid) int {
			if a.Bonus != b.Bonus {
				if a.Bonus {
					return -1
				}
				return 1
			}
			return cmp.Compare(b.PaymentID, a.PaymentID)
		})
		take := map[int]money.Bani{}
		for i, g := range groups {
			if p == 0 || g.Amount <= 0 {
				continue
			}
			limit := g.Amount
			if g.Bonus {
				limit = min(limit, bonusLeft)
			}
			t := min(limit, p)
			if t <= 0 {
				continue
			}
			take[i] = t
			p -= t
			if g.Bonus {
				bonusLeft -= t
			}
		}
		if p > 0 { // only bonus was left to take beyond bonusBack: take it anyway
			for i, g := range groups {
				if p == 0 || g.Amount <= 0 {
					continue
				}
				t := min(g.Amount-take[i], p)
				take[i] += t
				p -= t
			}
		}
		for i, g := range groups {
			if g.Amount <= 0 {
				continue
			}
			if t := take[i]; t > 0 {
				cut.Take = append(cut.Take, Paid{PaymentID: g.PaymentID, Bonus: g.Bonus, Amount: t})
			}
			if k := g.Amount - take[i]; k > 0 {
				cut.Keep = append(cut.Keep, Paid{PaymentID: g.PaymentID, Bonus: g.Bonus, Amount: k})
			}
		}
		out = append(out, cut)
	}
	return out
}
