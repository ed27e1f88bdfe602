package calc

import (
	"testing"

	"fiscald/internal/money"
)

// TestTaxpayerInstallments: the ≤ 50 lei rule looks at the taxpayer's sum
// of one tax type, not at each object.
func TestTaxpayerInstallments(t *testing.T) {
	e := testEngine(t)
	cases := []struct {
		name    string
		annuals []money.Bani
		want    [][]money.Bani
	}{
		{"one object under 50 lei: whole at the first deadline", []money.Bani{money.Lei(40)}, [][]money.Bani{{money.Lei(40)}}},
		{"two small objects summing to 50 lei: still whole", []money.Bani{money.Lei(20), money.Lei(30)}, [][]money.Bani{{money.Lei(20)}, {money.Lei(30)}}},
		{"two small objects over 50 lei: both split", []money.Bani{money.Lei(40), money.Lei(27)}, [][]money.Bani{{money.Lei(20), money.Lei(20)}, {money.Lei(14), money.Lei(13)}}},
		{"a large object and a zero one", []money.Bani{money.Lei(515), 0}, [][]money.Bani{{money.Lei(258), money.Lei(257)}, nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := e.TaxpayerInstallments("timisoara", 2026, c.annuals)
			if err != nil {
				t.Fatal(err)
			}
			for i, inst := range got {
				if len(inst) != len(c.want[i]) {
					t.Fatalf("object %d: %d instalments, want %d", i, len(inst), len(c.want[i]))
				}
				var sum money.Bani
				for k, in := range inst {
					if in.Amount != c.want[i][k] {
						t.Errorf("object %d instalment %d = %s, want %s", i, k+1, in.Amount, c.want[i][k])
					}
					sum += in.Amount
				}
				if sum != c.annuals[i] {
					t.Errorf("object %d: instalments sum to %s, not %s", i, sum, c.annuals[i])
				}
				if len(inst) > 0 && inst[0].DueDate.String() != "2026-03-31" {
					t.Errorf("first due %s", inst[0].DueDate)
				}
			}
		})
	}
}
