package calc

import (
	"time"

	"github.com/shopspring/decimal"

	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// Installments splits an annual tax into its instalments (Codul fiscal art. 462
// alin. (1), 467 alin. (1), 472 alin. (1)): two halves due 31 March and 30
// September, each moved to the next working day; a tax up to
// payment.single_installment_max (50 lei) is due whole at the first deadline
// (art. 462 alin. (3), 467 alin. (3), 472 alin. (3)). That threshold applies to
// the sum of a taxpayer's objects of one tax type: callers assessing several
// objects pass the sum. Odd halves are whole lei: the first instalment takes
// the extra leu (515 → 258 + 257).
func (e *Engine) Installments(municipality string, year int, annual money.Bani) ([]Installment, error) {
	l, err := e.lookup(municipality, year)
	if err != nil {
		return nil, err
	}
	return e.installments(l, annual)
}

var dueKeys = map[string][2]string{
	"first":  {"payment.first_due.month", "payment.first_due.day"},
	"second": {"payment.second_due.month", "payment.second_due.day"},
}

func (e *Engine) dueDate(l *lookup, which string) (civil.Date, error) {
	m, err := l.int(dueKeys[which][0], "the payment deadlines")
	if err != nil {
		return civil.Date{}, err
	}
	d, err := l.int(dueKeys[which][1], "the payment deadlines")
	if err != nil {
		return civil.Date{}, err
	}
	due := civil.New(l.year, time.Month(m), d)
	if e.Calendar != nil {
		due = e.Calendar.NextWorkingDay(due)
	}
	return due, nil
}

func (e *Engine) installments(l *lookup, annual money.Bani) ([]Installment, error) {
	first, err := l.y.due[0].date, l.y.due[0].err
	if err != nil {
		return nil, err
	}
	if l.y.singleMaxErr != nil {
		return nil, l.y.singleMaxErr
	}
	if int64(annual) <= l.y.singleMax {
		return []Installment{{first, annual}}, nil
	}
	second, err := l.y.due[1].date, l.y.due[1].err
	if err != nil {
		return nil, err
	}
	var half money.Bani
	if annual%100 == 0 { // whole lei, the normal case: the first half takes the odd leu
		half = money.Lei((int64(annual)/100 + 1) / 2)
	} else {
		half = bani(RoundLei(annual.Decimal().Div(decimal.NewFromInt(2))))
	}
	return []Installment{{first, half}, {second, annual - half}}, nil
}

// Bonus returns the early-payment bonus on a year's whole tax of one type paid
// by the first deadline (art. 462 alin. (2), 467 alin. (2), 472 alin. (2)): the
// council's <type>.bonus_pct of the annual tax, rounded separately by RoundLei.
func (e *Engine) Bonus(municipality string, year int, taxType string, annual money.Bani) (money.Bani, error) {
	l, err := e.lookup(municipality, year)
	if err != nil {
		return 0, err
	}
	return bonus(l, taxType, annual)
}

var bonusKeys = map[string]string{TaxVehicle: "vehicle.bonus_pct", TaxBuilding: "building.bonus_pct", TaxLand: "land.bonus_pct"}

func bonus(l *lookup, taxType string, annual money.Bani) (money.Bani, error) {
	p, err := l.res(bonusKeys[taxType], "the early-payment bonus")
	if err != nil {
		return 0, err
	}
	return money.Bani(roundLeiBani(mulRound(int64(annual), p, -2))), nil
}

// LatePeriods counts the started month periods of delay for an amount due on
// due and paid on paidOn (CPF art. 183): periods run from the day after the due
// date, each opening on the same day of the following month; when that day does
// not exist in a month (a period opened on the 31st, or on 29-30 before
// February) the period ends on the last day of that month and the next opens on
// the 1st (Codul civil art. 2552 on terms in months). Paying on or before the
// due date gives 0.
func LatePeriods(due, paidOn civil.Date) int {
	start := due.AddDays(1)
	if paidOn.Before(start) {
		return 0
	}
	n := 0
	for k := 0; ; k++ {
		if opensOn(start, k).After(paidOn) {
			return n
		}
		n++
	}
}

// opensOn returns the first day of the k-th month period after start.
func opensOn(start civil.Date, k int) civil.Date {
	m := int(start.Month) - 1 + k
	y, mon := start.Year+m/12, time.Month(m%12+1)
	if start.Day > civil.DaysIn(y, mon) {
		return civil.New(y, mon, civil.DaysIn(y, mon)).AddDays(1)
	}
	return civil.New(y, mon, start.Day)
}

// LateFees returns the late-payment surcharge (majorări de întârziere, CPF art.
// 183) on an unpaid principal due on due and paid on paidOn: late_fee.monthly_pct
// (1%) per started month period, rounded separately from the principal by RoundLei.
func (e *Engine) LateFees(municipality string, principal money.Bani, due, paidOn civil.Date) (money.Bani, error) {
	l, err := e.lookup(municipality, due.Year)
	if err != nil {
		return 0, err
	}
	return lateFees(l, principal, due, paidOn)
}

func lateFees(l *lookup, principal money.Bani, due, paidOn civil.Date) (money.Bani, error) {
	n := LatePeriods(due, paidOn)
	if n == 0 || principal <= 0 {
		return 0, nil
	}
	p, _, ok := l.set.Decimal("late_fee.monthly_pct", l.muni, due)
	if !ok {
		return 0, &MissingParamError{Key: "late_fee.monthly_pct", Municipality: l.muni, Date: due, What: "late-payment surcharges"}
	}
	raw := principal.Decimal().Mul(pct(p)).Mul(decimal.NewFromInt(int64(n)))
	return bani(RoundLei(raw)), nil
}

// Settlement is what paying the whole year on paidOn costs (contract: quote
// "settlement"): the bonus when paid in full by the first deadline, otherwise
// the late fees of each instalment already overdue, each rounded separately.
func (e *Engine) Settlement(municipality string, year int, inst []Installment, bonus money.Bani, paidOn civil.Date) (Settlement, error) {
	l, err := e.lookup(municipality, year)
	if err != nil {
		return Settlement{}, err
	}
	return e.settlement(l, inst, bonus, paidOn)
}

func (e *Engine) settlement(l *lookup, inst []Installment, bonus money.Bani, paidOn civil.Date) (Settlement, error) {
	s := Settlement{PaidOn: paidOn}
	for _, in := range inst {
		s.Principal += in.Amount
		f, err := lateFees(l, in.Amount, in.DueDate, paidOn)
		if err != nil {
			return Settlement{}, err
		}
		s.LateFees += f
	}
	if len(inst) > 0 && !paidOn.After(inst[0].DueDate) {
		s.Bonus = bonus
	}
	s.Total = s.Principal - s.Bonus + s.LateFees
	return s, nil
}
