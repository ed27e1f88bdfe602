package payments

import (
	"fmt"

	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// AssessedDebt is a principal (or adjustment) of an assessed tax, as the
// bonus rule sees it.
type AssessedDebt struct {
	ID           int64
	TaxType      string
	Year         int
	AssessmentID int64
	DueDate      civil.Date
	Outstanding  money.Bani
}

// BonusGroups are the groups (a tax type's year) a payment on date on may
// earn the early-payment bonus for (art. 462 alin. (2), 467 alin. (2), 472
// alin. (2)): on or before the group's first deadline, with no bonus granted
// to any of its debts yet, and a bonus that is less than what is still
// open. bonus is each assessment's bonus (of its current revision); granted
// says which debts have had a bonus allocated. The groups keep the order of
// debts.
func BonusGroups(debts []AssessedDebt, bonus map[int64]money.Bani, granted map[int64]bool, on civil.Date) []BonusGroup {
	type key struct {
		tax  string
		year int
	}
	groups := map[key]*BonusGroup{}
	first := map[key]civil.Date{}
	open := map[key]money.Bani{}
	blocked := map[key]bool{}
	seen := map[int64]bool{}
	var order []key
	for _, d := range debts {
		k := key{d.TaxType, d.Year}
		g := groups[k]
		if g == nil {
			g = &BonusGroup{Key: fmt.Sprintf("%s/%d", d.TaxType, d.Year)}
			groups[k], first[k] = g, d.DueDate
			order = append(order, k)
		}
		if d.DueDate.Before(first[k]) {
			first[k] = d.DueDate
		}
		if granted[d.ID] {
			blocked[k] = true
		}
		g.DebtIDs = append(g.DebtIDs, d.ID)
		open[k] += d.Outstanding
		if !seen[d.AssessmentID] {
			seen[d.AssessmentID] = true
			g.Bonus += bonus[d.AssessmentID]
		}
	}
	var out []BonusGroup
	for _, k := range order {
		g := groups[k]
		if blocked[k] || g.Bonus <= 0 || on.After(first[k]) || open[k] <= g.Bonus {
			continue
		}
		out = append(out, *g)
	}
	return out
}
