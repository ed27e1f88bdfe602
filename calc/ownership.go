package calc

import "fiscald/internal/civil"

// SameYearSaleFrom is the first year in which a vehicle bought, registered and
// sold within the same year owes that year's tax, due on the date of sale (OUG
// 7/2026 amending Codul fiscal art. 471).
const SameYearSaleFrom = 2026

// FirstTaxedYear returns the first year a buyer owes vehicle tax: the year
// after acquisition (Codul fiscal art. 471 alin. (2), post-2016 rule: the owner
// on 31 December of year N-1 owes the whole tax of year N).
func FirstTaxedYear(acquiredOn civil.Date) int { return acquiredOn.Year + 1 }

// LastTaxedYear returns the last year a seller owes vehicle tax: the year of the
// sale or deregistration (art. 471 alin. (5)-(6): tax stops from 1 January of
// the following year).
func LastTaxedYear(deregisteredOn civil.Date) int { return deregisteredOn.Year }

// TaxedInYear reports whether the owner of a vehicle acquired on acquired and
// deregistered on deregistered (nil while still owned) owes its tax for year:
// either they owned it on 31 December of year-1 and did not deregister it
// before year began, or (from 2026) they bought and sold it within year itself.
func TaxedInYear(acquired civil.Date, deregistered *civil.Date, year int) bool {
	if acquired.Year < year && (deregistered == nil || deregistered.Year >= year) {
		return true
	}
	_, ok := SameYearSale(acquired, deregistered)
	return ok && acquired.Year == year
}

// SameYearSale reports whether the ownership is a same-year buy and sale that
// owes that year's tax (OUG 7/2026, from 2026) and, if so, the due date: the date
// of sale.
func SameYearSale(acquired civil.Date, deregistered *civil.Date) (due civil.Date, ok bool) {
	if deregistered == nil || deregistered.Year != acquired.Year || acquired.Year < SameYearSaleFrom ||
		deregistered.Before(acquired) {
		return civil.Date{}, false
	}
	return *deregistered, true
}

// TaxedYears returns the years from..to (inclusive) in which the ownership owes
// vehicle tax.
func TaxedYears(acquired civil.Date, deregistered *civil.Date, from, to int) []int {
	var out []int
	for y := from; y <= to; y++ {
		if TaxedInYear(acquired, deregistered, y) {
			out = append(out, y)
		}
	}
	return out
}
