package payments

import (
	"slices"
	"time"
	_ "time/tzdata" // Europe/Bucharest on machines without a zone database

	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// bucharest is the zone the law's dates are in.
var bucharest = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Bucharest")
	if err != nil {
		panic(err) // embedded by time/tzdata: cannot fail
	}
	return loc
}()

// LocalDate is the calendar date of an instant in Romania: a card payment at
// 00:30 on 1 April in Timișoara (22:30 UTC on 31 March) is paid on 1 April.
func LocalDate(t time.Time) civil.Date { return civil.Of(t.In(bucharest)) }

// BonusGroup is one tax's year (a tax type and year of a taxpayer) whose
// early-payment bonus a payment may earn: the bonus is granted only when,
// after the payment, every debt of the group is paid in full (art. 462
// alin. (2), 467 alin. (2), 472 alin. (2)). The caller offers only groups
// paid by their first deadline that have not had a bonus yet.
type BonusGroup struct {
	// Key names the group, e.g. "vehicle/2026".
	Key string
	// Bonus is the amount the group earns.
	Bonus money.Bani
	// DebtIDs are the group's principal debts.
	DebtIDs []int64
}

// Settlement is the effect of a payment on a taxpayer's debts.
type Settlement struct {
	// Allocations of the paid money, in the legal order.
	Allocations []Allocation
	// Bonus holds the bonus applied to debts (not paid money), and Groups
	// the keys of the groups that earned it.
	Bonus  []Allocation
	Groups []string
	// Credit is what is left of the paid amount.
	Credit money.Bani
}

// Settle allocates amount like Allocate and grants the bonus of every group
// the payment completes. The bonus is applied to a group's debts latest due
// date first, before the money, so the payer owes the year's tax minus the
// bonus; a group left unpaid after the allocation does not earn it and the
// allocation is redone without it. sum(Allocations) + Credit == amount.
func Settle(amount money.Bani, debts []Debt, chosen []int64, groups []BonusGroup) Settlement {
	active := slices.Clone(groups)
	for {
		work := slices.Clone(debts)
		idx := make(map[int64]int, len(work))
		for i, d := range work {
			idx[d.ID] = i
		}
		var s Settlement
		for _, g := range active {
			left := g.Bonus
			ids := slices.Clone(g.DebtIDs)
			// latest due date first
			slices.SortFunc(ids, func(a, b int64) int { return -debtCmp(work[idx[a]], work[idx[b]]) })
			for _, id := range ids {
				i, ok := idx[id]
				if !ok || left == 0 {
					continue
				}
				a := min(left, work[i].Outstanding)
				if a <= 0 {
					continue
				}
				work[i].Outstanding -= a
				left -= a
				s.Bonus = append(s.Bonus, Allocation{DebtID: id, Amount: a})
			}
		}
		s.Allocations, s.Credit = Allocate(amount, work, chosen)
		paid := map[int64]money.Bani{}
		for _, a := range s.Allocations {
			paid[a.DebtID] += a.Amount
		}
		var keep []BonusGroup
		for _, g := range active {
			complete := true
			for _, id := range g.DebtIDs {
				if i, ok := idx[id]; ok && work[i].Outstanding-paid[id] > 0 {
					complete = false
				}
			}
			if complete {
				keep = append(keep, g)
			}
		}
		if len(keep) == len(active) {
			for _, g := range active {
				s.Groups = append(s.Groups, g.Key)
			}
			return s
		}
		active = keep
	}
}

// Reverse plans a refund of amount from a payment: first the credit the
// payment left (credit), then its allocations in the reverse of the legal
// order (late fees newest first, then principal newest first, then fines),
// so what the refund takes back is what the payment paid last. allocated
// holds the payment's net allocation per debt in Outstanding. It returns the
// amounts to take back from each debt and from the credit; their sum is
// min(amount, credit + Σ allocated).
func Reverse(amount, credit money.Bani, allocated []Debt) (back []Allocation, fromCredit money.Bani) {
	if amount <= 0 {
		return nil, 0
	}
	fromCredit = min(amount, max(credit, 0))
	left := amount - fromCredit
	order := slices.Clone(allocated)
	slices.SortFunc(order, func(a, b Debt) int { return -debtCmp(a, b) })
	for _, d := range order {
		if left == 0 {
			break
		}
		if d.Outstanding <= 0 {
			continue
		}
		a := min(left, d.Outstanding)
		back = append(back, Allocation{DebtID: d.ID, Amount: a})
		left -= a
	}
	return back, fromCredit
}
