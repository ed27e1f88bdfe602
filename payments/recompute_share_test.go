package payments

import (
	"testing"

	"github.com/shopspring/decimal"

	"fiscald/calc"
	"fiscald/internal/money"
)

// TestDecideRecomputeShare: a co-owner's assessment is recomputed on their
// share (calc.ShareOf): 40% of the flat's 515.32 lei is 206 lei, unchanged;
// an assessment made on the whole object (515 lei) comes down to 206.
func TestDecideRecomputeShare(t *testing.T) {
	e := testEngine(t)
	yes := true
	area := decimal.RequireFromString("55")
	flat := calc.Object{Kind: calc.TaxBuilding, OwnerKind: "individual", Use: "residential", ConstructionType: "A", Utilities: &yes,
		UsableAreaM2: &area, Zone: "A", YearBuilt: 2010}
	debts := func(a money.Bani) []ReduceDebt {
		h := a / 2
		return []ReduceDebt{{ID: 1, DueDate: "2026-03-31", Amount: a - h}, {ID: 2, DueDate: "2026-09-30", Amount: h}}
	}
	d, err := DecideRecompute(e, "timisoara", 2026, RecomputeObject{TaxType: calc.TaxBuilding, Object: flat, Share: 4000, Annual: 20600, Debts: debts(20600)})
	if err != nil || d.Outcome != RecomputeUnchanged || d.Assessment.Annual != 20600 {
		t.Fatalf("40%% share: %+v %v", d, err)
	}
	d, err = DecideRecompute(e, "timisoara", 2026, RecomputeObject{TaxType: calc.TaxBuilding, Object: flat, Share: 4000, Annual: 51500, Debts: debts(51500)})
	if err != nil || d.Outcome != RecomputeDown || d.Assessment.Annual != 20600 || d.Delta != 20600-51500 {
		t.Fatalf("whole → 40%%: %+v %v", d, err)
	}
	d, err = DecideRecompute(e, "timisoara", 2026, RecomputeObject{TaxType: calc.TaxBuilding, Object: flat, Annual: 51500, Debts: debts(51500)})
	if err != nil || d.Outcome != RecomputeUnchanged {
		t.Fatalf("whole: %+v %v", d, err)
	}
}
