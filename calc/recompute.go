package calc

import "fiscald/internal/money"

// AssessedObject is one object already assessed for a year, with the annual
// tax recorded at the time.
type AssessedObject struct {
	ID           string
	Input        QuoteInput
	OldAnnualTax money.Bani
}

// Difference is the change of one object's annual tax under new parameters: a
// positive Delta is extra debt, a negative one a credit. Err is set (and New,
// Delta zero) when the object cannot be recomputed, e.g. a missing rate.
type Difference struct {
	ObjectID string
	Old      money.Bani
	New      money.Bani
	Delta    money.Bani
	Err      error
}

// Recompute computes each object's annual tax with engine (for instance after a
// retroactive law such as OUG 9/2026) and returns the difference per object, in
// input order. It is pure: the caller decides what to record.
func Recompute(objects []AssessedObject, engine *Engine) []Difference {
	out := make([]Difference, len(objects))
	for i, o := range objects {
		d := Difference{ObjectID: o.ID, Old: o.OldAnnualTax}
		a, err := engine.Annual(o.Input.Municipality, o.Input.Year, o.Input.Object)
		if err != nil {
			d.Err = err
		} else {
			d.New, d.Delta = a.Annual, a.Annual-o.OldAnnualTax
		}
		out[i] = d
	}
	return out
}
