package payments

import (
	"fiscald/calc"
	"fiscald/calc/calendar"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// The decision of a retroactive recomputation for one object (local-taxes.md
// §1), pure: the store reads the object's current assessment and its open
// debts with what was paid on them, DecideRecompute decides with the engine
// in force now, and the store writes the decision.

// RecomputeObject is one object's current assessment (its highest
// revision) as a recomputation reads it.
type RecomputeObject struct {
	// TaxType is the assessment's tax (calc.TaxVehicle, ...).
	TaxType string
	// Object is what the engine taxes.
	Object calc.Object
	// Share is the owner's part of a building or land in parts per 10,000
	// (0 or calc.SharePartsWhole: the whole object).
	Share int64
	// Annual is the current revision's annual tax.
	Annual money.Bani
	// Bonus is the current revision's early-payment bonus (0: none was
	// available, and the new revision has none either).
	Bonus money.Bani
	// Debts are the object's open debts of the year (principal instalments
	// and earlier adjustments, not cancelled), each with what was paid on it.
	Debts []ReduceDebt
}

// Recomputation outcomes.
const (
	// RecomputeUnchanged: the open debts already add up to the new tax,
	// which equals the current revision's; nothing is written.
	RecomputeUnchanged = "unchanged"
	// RecomputeUp: a new revision and an adjustment debt of Delta.
	RecomputeUp = "up"
	// RecomputeDown: a new revision and the debts reduced by -Delta (Cuts).
	RecomputeDown = "down"
	// RecomputeRestated: a new revision of a different computation whose
	// open debts already match it (counted as unchanged).
	RecomputeRestated = "restated"
)

// RecomputeDecision is what recomputing one object does.
type RecomputeDecision struct {
	Outcome string
	// Assessment and Bonus are the new revision's (unless unchanged).
	Assessment calc.Assessment
	Bonus      money.Bani
	// Delta is the new tax less the open debts.
	Delta money.Bani
	// AdjustmentInstallment numbers the adjustment debt (up): after the
	// object's open debts.
	AdjustmentInstallment int
	// Cuts are payments.Reduce's cuts (down).
	Cuts []DebtCut
}

// DecideRecompute recomputes one object of year with e (the parameters in
// force now) and decides: more than the open debts → an adjustment of the
// difference; less → the debts reduced (Reduce: unpaid parts first, then
// paid ones, whose excess is credit; of the paid excess, up to the bonus
// granted beyond the new bonus comes out of the bonus); the same sum as
// the current revision with matching debts → nothing. An error (the tax or
// the bonus does not compute) leaves the object as it is: the run counts it
// failed.
func DecideRecompute(e *calc.Engine, municipality string, year int, o RecomputeObject) (RecomputeDecision, error) {
	na, err := e.Annual(municipality, year, o.Object)
	if err == nil && o.Share > 0 {
		na, err = calc.ShareOf(na, o.Share)
	}
	if err != nil {
		return RecomputeDecision{}, err
	}
	var open money.Bani
	for _, d := range o.Debts {
		open += d.Amount
	}
	dec := RecomputeDecision{Assessment: na, Delta: na.Annual - open}
	if dec.Delta == 0 && na.Annual == o.Annual {
		dec.Outcome = RecomputeUnchanged
		return dec, nil
	}
	if o.Bonus > 0 {
		if dec.Bonus, err = e.Bonus(municipality, year, o.TaxType, na.Annual); err != nil {
			return RecomputeDecision{}, err
		}
	}
	switch {
	case dec.Delta > 0:
		dec.Outcome, dec.AdjustmentInstallment = RecomputeUp, len(o.Debts)+1
	case dec.Delta < 0:
		var granted money.Bani
		for _, d := range o.Debts {
			for _, p := range d.Paid {
				if p.Bonus {
					granted += p.Amount
				}
			}
		}
		dec.Outcome, dec.Cuts = RecomputeDown, Reduce(o.Debts, -dec.Delta, max(granted-dec.Bonus, 0))
	default:
		dec.Outcome = RecomputeRestated
	}
	return dec, nil
}

// AdjustmentDueDate is the due date of a recomputation's adjustment debts
// decided on today: DecisionDueDate (CPF art. 156 (1)) moved to the next
// working day of cal (CPF art. 181 (4)); without a calendar, unmoved.
func AdjustmentDueDate(today civil.Date, cal *calendar.Calendar) civil.Date {
	due := DecisionDueDate(today)
	if cal != nil {
		due = cal.NextWorkingDay(due)
	}
	return due
}
