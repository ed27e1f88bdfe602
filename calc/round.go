package calc

import "github.com/shopspring/decimal"

// RoundLei rounds an amount owed to whole lei by HG 1/2016 (norms to the Codul
// fiscal) pct. 11 and art. 462, 467, 472: the amount is first kept at 2 decimals,
// then a fraction below 0.50 lei is dropped and 0.50 or more rounds up to the
// next leu (half away from zero, symmetrical for negative differences). It is
// the only rounding to whole lei in the engine.
func RoundLei(d decimal.Decimal) decimal.Decimal {
	return d.Round(2).Round(0)
}

// round2 keeps an intermediate result at 2 decimals (local-taxes.md §4).
func round2(d decimal.Decimal) decimal.Decimal { return d.Round(2) }
