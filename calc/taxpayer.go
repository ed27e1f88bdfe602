package calc

import (
	"github.com/shopspring/decimal"

	"fiscald/internal/money"
)

// TaxpayerInstallments splits the annual taxes of one taxpayer's objects of
// one tax type into instalments. The ≤ 50 lei rule (art. 462 alin. (3), 467
// alin. (3), 472 alin. (3)) looks at the sum owed for that tax type, so the
// schedule is decided once on the sum: when the sum is up to
// payment.single_installment_max every object is due whole at the first
// deadline; otherwise every object is split in two halves (first half takes
// the odd leu, as Installments does), even an object that alone would be
// under the threshold. out[i] are the instalments of annuals[i]; an object
// with a zero tax gets none.
func (e *Engine) TaxpayerInstallments(municipality string, year int, annuals []money.Bani) ([][]Installment, error) {
	l, err := e.lookup(municipality, year)
	if err != nil {
		return nil, err
	}
	var sum money.Bani
	for _, a := range annuals {
		sum += a
	}
	schedule, err := e.installments(l, sum)
	if err != nil {
		return nil, err
	}
	out := make([][]Installment, len(annuals))
	for i, a := range annuals {
		switch {
		case a == 0:
		case len(schedule) == 1:
			out[i] = []Installment{{schedule[0].DueDate, a}}
		default:
			h := halfOf(a)
			out[i] = []Installment{{schedule[0].DueDate, h}, {schedule[1].DueDate, a - h}}
		}
	}
	return out, nil
}

// halfOf is the first of two instalments of annual: whole lei with the odd
// leu in the first half (the rule of installments).
func halfOf(annual money.Bani) money.Bani {
	if annual%100 == 0 {
		return money.Lei((int64(annual)/100 + 1) / 2)
	}
	return bani(RoundLei(annual.Decimal().Div(decimal.NewFromInt(2))))
}
