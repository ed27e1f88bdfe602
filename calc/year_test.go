package calc

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// TestMulRoundMatchesDecimal: the integer fast path of mulRound gives what
// decimal arithmetic with Round (half away from zero) gives.
func TestMulRoundMatchesDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := []string{"16.5", "50", "0.1", "10", "1.5", "12.345", "0", "-3.25", "319", "0.0001", "99.99", "1000000"}
	for i := 0; i < 200000; i++ {
		var d decimal.Decimal
		if i%3 == 0 {
			d = decimal.New(rng.Int64N(2_000_000)-1_000_000, -int32(rng.IntN(8)))
		} else {
			d = decimal.RequireFromString(vals[rng.IntN(len(vals))])
		}
		r := resolved{dec: d, exp: d.Exponent()}
		if c := d.Coefficient(); c.IsInt64() && c.Int64() > -1<<20 && c.Int64() < 1<<20 {
			r.coef, r.small = c.Int64(), true
		}
		b := rng.Int64N(2_000_000_000) - 1_000_000_000
		if i%5 == 0 {
			b = rng.Int64N(1000)
		}
		for _, shift := range []int32{-2, 0, 2} {
			want := decimal.NewFromInt(b).Mul(d).Shift(shift).Round(0).IntPart()
			if got := mulRound(b, r, shift); got != want {
				t.Fatalf("mulRound(%d, %s, %d) = %d, want %d", b, d, shift, got, want)
			}
		}
		if got, want := roundLeiBani(b), decimal.New(b, -2).Round(0).Shift(2).IntPart(); got != want {
			t.Fatalf("roundLeiBani(%d) = %d, want %d", b, got, want)
		}
	}
}
