package calc

import (
	"testing"

	"fiscald/internal/money"
)

func TestShareOf(t *testing.T) {
	// The object: 515.32 lei before rounding, 515 after.
	obj := Assessment{TaxType: TaxBuilding, BudgetCode: "07.02.01.01", Annual: 51500, Lines: []Line{
		{"Valoare impozabilă", "art. 457", 51532}, {roundingLabel, "HG 1/2016", -32}}}
	for _, c := range []struct {
		parts int64
		want  money.Bani
	}{
		{10000, 51500}, // whole: unchanged
		{6000, 30900},  // 309.192 → 309.19 → 309
		{4000, 20600},  // 206.128 → 206.13 → 206
		{5000, 25800},  // 257.66 → 258 (0.66 rounds up)
		{3333, 17200},  // 171.754 → 171.75 → 172
		{1, 0},         // 0.0515 → 0.05 → 0
	} {
		got, err := ShareOf(obj, c.parts)
		if err != nil {
			t.Fatal(err)
		}
		if got.Annual != c.want {
			t.Errorf("share %d: %s, want %s", c.parts, got.Annual, c.want)
		}
		var sum money.Bani
		for _, l := range got.Lines {
			sum += l.Amount
		}
		if sum != got.Annual {
			t.Errorf("share %d: lines add up to %s, annual %s", c.parts, sum, got.Annual)
		}
		if got.BudgetCode != obj.BudgetCode || got.TaxType != obj.TaxType {
			t.Errorf("share %d: lost the tax type or budget code", c.parts)
		}
	}
	for _, bad := range []int64{0, -1, 10001} {
		if _, err := ShareOf(obj, bad); err == nil {
			t.Errorf("share %d accepted", bad)
		}
	}
}
