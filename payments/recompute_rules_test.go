package payments

import (
	"reflect"
	"testing"

	"fiscald/calc"
	"fiscald/calc/calendar"
	"fiscald/calc/params"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

func testEngine(t *testing.T) *calc.Engine {
	t.Helper()
	set, err := params.NewSet(params.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	return &calc.Engine{Params: set, Calendar: calendar.MustNew(nil)}
}

// TestDecideRecompute: a 1598 cm³ Euro 6 car in Timișoara owes 198 lei in
// 2026 under the parameters in force; the current revision and the open
// debts say otherwise.
func TestDecideRecompute(t *testing.T) {
	e := testEngine(t)
	car := calc.Object{Kind: calc.TaxVehicle, OwnerKind: "individual", Category: "car", EngineCC: 1598, EmissionClass: "euro6", Propulsion: "combustion"}
	const now = money.Bani(19800)
	newBonus, err := e.Bonus("timisoara", 2026, calc.TaxVehicle, now)
	if err != nil || newBonus <= 0 {
		t.Fatalf("the 2026 bonus of Timișoara: %s, %v", newBonus, err)
	}
	debt := func(id int64, due string, amount money.Bani, paid ...Paid) ReduceDebt {
		return ReduceDebt{ID: id, DueDate: due, Amount: amount, Paid: paid}
	}
	for _, c := range []struct {
		name    string
		annual  money.Bani
		bonus   money.Bani
		debts   []ReduceDebt
		outcome string
		delta   money.Bani
		inst    int
		cuts    []DebtCut
		bonusIn bool // the new revision carries a bonus
	}{
		{"the same tax, the debts match: nothing", now, 0,
			[]ReduceDebt{debt(1, "2026-03-31", 9900), debt(2, "2026-09-30", 9900)}, RecomputeUnchanged, 0, 0, nil, false},
		{"the debts match but the revision said otherwise: a new revision only", 20000, 0,
			[]ReduceDebt{debt(1, "2026-03-31", 9900), debt(2, "2026-09-30", 9900)}, RecomputeRestated, 0, 0, nil, false},
		{"higher: an adjustment after the instalments", 18000, 0,
			[]ReduceDebt{debt(1, "2026-03-31", 9000), debt(2, "2026-09-30", 9000)}, RecomputeUp, 1800, 3, nil, false},
		{"higher after an earlier adjustment", 18000, 0,
			[]ReduceDebt{debt(1, "2026-03-31", 9000), debt(2, "2026-09-30", 9000), debt(3, "2026-05-05", 500)}, RecomputeUp, 1300, 4, nil, false},
		{"lower, unpaid: the latest instalment shrinks", 23400, 0,
			[]ReduceDebt{debt(1, "2026-03-31", 11700), debt(2, "2026-09-30", 11700)}, RecomputeDown, -3600, 0,
			[]DebtCut{{DebtID: 2, NewAmount: 8100, Withdrawn: 3600}}, false},
		{"lower, the first paid: the unpaid one shrinks, no credit", 23400, 0,
			[]ReduceDebt{debt(1, "2026-03-31", 11700, Paid{PaymentID: 5, Amount: 11700}), debt(2, "2026-09-30", 11700)}, RecomputeDown, -3600, 0,
			[]DebtCut{{DebtID: 2, NewAmount: 8100, Withdrawn: 3600}}, false},
		{"lower, all paid with the bonus: the bonus shrinks first, the rest is credit", 23400, 2340,
			[]ReduceDebt{debt(1, "2026-03-31", 11700, Paid{PaymentID: 5, Amount: 10530}, Paid{PaymentID: 5, Bonus: true, Amount: 1170}),
				debt(2, "2026-09-30", 11700, Paid{PaymentID: 5, Amount: 10530}, Paid{PaymentID: 5, Bonus: true, Amount: 1170})},
			RecomputeDown, -3600, 0, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := DecideRecompute(e, "timisoara", 2026, RecomputeObject{TaxType: calc.TaxVehicle, Object: car, Annual: c.annual, Bonus: c.bonus, Debts: c.debts})
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != c.outcome || d.Delta != c.delta || d.Assessment.Annual != now || d.AdjustmentInstallment != c.inst {
				t.Fatalf("decision = %s delta %s annual %s instalment %d, want %s delta %s annual %s instalment %d",
					d.Outcome, d.Delta, d.Assessment.Annual, d.AdjustmentInstallment, c.outcome, c.delta, now, c.inst)
			}
			if c.bonusIn != (d.Bonus > 0) || (c.bonusIn && d.Bonus != newBonus) {
				t.Errorf("bonus = %s, want %v (%s)", d.Bonus, c.bonusIn, newBonus)
			}
			if c.cuts != nil && !reflect.DeepEqual(d.Cuts, c.cuts) {
				t.Errorf("cuts = %+v, want %+v", d.Cuts, c.cuts)
			}
			if c.outcome != RecomputeDown && d.Cuts != nil {
				t.Errorf("cuts = %+v", d.Cuts)
			}
			if c.outcome == RecomputeDown {
				var withdrawn, credit, bonusBack money.Bani
				for _, cut := range d.Cuts {
					withdrawn += cut.Withdrawn
					for _, p := range cut.Take {
						if p.Bonus {
							bonusBack += p.Amount
						} else {
							credit += p.Amount
						}
					}
				}
				if withdrawn+credit+bonusBack != -c.delta {
					t.Errorf("withdrawn %s + credit %s + bonus back %s, want %s in all", withdrawn, credit, bonusBack, -c.delta)
				}
				if c.bonus > 0 {
					// The bonus given back is what was granted beyond the new bonus.
					if want := 2340 - newBonus; bonusBack != want || credit != -c.delta-want {
						t.Errorf("bonus back %s, credit %s; want %s and %s", bonusBack, credit, want, -c.delta-want)
					}
				}
			}
		})
	}
	t.Run("the tax does not compute: an error, nothing decided", func(t *testing.T) {
		_, err := DecideRecompute(e, "atlantis", 2026, RecomputeObject{TaxType: calc.TaxVehicle, Object: car, Annual: 19800})
		if err == nil {
			t.Fatal("no error for an unknown municipality")
		}
	})
}

// TestAdjustmentDueDate: CPF art. 156 (1) — communicated on the 1st-15th,
// due on the 5th of the next month, else on the 20th — moved to the next
// working day (art. 181 (4)).
func TestAdjustmentDueDate(t *testing.T) {
	cal := calendar.MustNew(nil)
	for _, c := range []struct {
		on, want string
		cal      *calendar.Calendar
	}{
		{"2026-01-15", "2026-02-05", cal},
		{"2026-01-16", "2026-02-20", cal},
		{"2026-03-20", "2026-04-20", cal},
		{"2026-08-10", "2026-09-07", cal}, // the 5th is a Saturday
		{"2026-08-10", "2026-09-05", nil}, // no calendar: unmoved
		{"2026-11-20", "2026-12-21", cal}, // the 20th is a Sunday
		{"2026-12-16", "2027-01-20", cal}, // into the next year
	} {
		if got := AdjustmentDueDate(civil.MustParse(c.on), c.cal); got.String() != c.want {
			t.Errorf("decided on %s: due %s, want %s", c.on, got, c.want)
		}
	}
}
