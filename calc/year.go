package calc

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"fiscald/calc/params"
	"fiscald/internal/civil"
)

// resolved is one parameter as it stands on 1 January of a tax year.
type resolved struct {
	dec  decimal.Decimal
	str  string // the value as entered (decimal or text)
	ds   string // dec.String()
	coef int64  // dec's coefficient when small is set
	exp  int32  // dec's exponent
	// small: the coefficient fits comfortably in int64, so mulRound can use
	// integer arithmetic.
	small bool
	from  civil.Date // effective date of the entry
	text  bool
	hcl   string // "HCL <number>" when the value is the municipality's own, adopted by a decision
}

// yearData is a municipality's parameters resolved once for a tax year: the
// hot path of a quote reads one map instead of searching the dated entries,
// and the year's payment deadlines are computed once. It is immutable.
type yearData struct {
	vals map[string]resolved
	due  [2]dueDate // first and second deadline, moved to a working day
	// singleMax is payment.single_installment_max in whole bani (rounded
	// down: an annual tax in bani is at most the limit iff it is at most
	// its floor), or its error.
	singleMax    int64
	singleMaxErr error
}

type dueDate struct {
	date civil.Date
	err  error
}

type yearKey struct {
	muni string
	year int
}

// year returns the resolved parameters of the municipality and year, built
// on first use and kept in the engine (Params and Calendar must not change
// once the engine is in use).
func (e *Engine) yearData(muni string, year int) *yearData {
	k := yearKey{muni, year}
	if y, ok := e.years.Load(k); ok {
		return y.(*yearData)
	}
	y := buildYear(e, muni, year)
	actual, _ := e.years.LoadOrStore(k, y)
	return actual.(*yearData)
}

func buildYear(e *Engine, muni string, year int) *yearData {
	on := civil.New(year, time.January, 1)
	keys := e.Params.Keys("")
	y := &yearData{vals: make(map[string]resolved, len(keys))}
	for _, key := range keys {
		en, ok := e.Params.Lookup(key, muni, on)
		if !ok {
			continue
		}
		r := resolved{str: en.Value, from: en.EffectiveFrom, text: params.IsText(key)}
		if en.Municipality != "" {
			r.hcl = en.Decision.Cite()
		}
		if !r.text {
			r.dec, _, _ = e.Params.Decimal(key, muni, on)
			r.ds, r.exp = r.dec.String(), r.dec.Exponent()
			if c := r.dec.Coefficient(); c.IsInt64() && c.Int64() > -1<<20 && c.Int64() < 1<<20 && r.exp >= -12 && r.exp <= 6 {
				r.coef, r.small = c.Int64(), true
			}
		}
		y.vals[key] = r
	}
	l := &lookup{set: e.Params, y: y, muni: muni, year: year, on: on}
	for i, which := range []string{"first", "second"} {
		d, err := e.dueDate(l, which)
		y.due[i] = dueDate{d, err}
	}
	if lim, err := l.dec("payment.single_installment_max", "the single-instalment threshold"); err != nil {
		y.singleMaxErr = err
	} else {
		y.singleMax = lim.Shift(2).Floor().IntPart()
	}
	return y
}

// cite returns the legal basis of a line computed from the given keys: the
// law's article, followed by the council decision of every local value among
// them ("Codul fiscal art. 465 alin. (2); HCL 123/2026").
func (l *lookup) cite(basis string, keys ...string) string {
	out := basis
	for _, k := range keys {
		if h := l.y.vals[k].hcl; h != "" && !strings.Contains(out, h) {
			out += "; " + h
		}
	}
	return out
}

// res returns the resolved parameter key (a decimal) in force on 1 January.
func (l *lookup) res(key, what string) (resolved, error) {
	r, ok := l.y.vals[key]
	if !ok || r.text {
		return resolved{}, l.missing(key, what)
	}
	return r, nil
}

// indexedRes is res for amounts indexed yearly (see indexed).
func (l *lookup) indexedRes(key, what string) (resolved, error) {
	r, ok := l.y.vals[key]
	if !ok || r.text || r.from.Year != l.year {
		return resolved{}, l.missing(key, what)
	}
	return r, nil
}

var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// mulRound returns b × r × 10^shift rounded half away from zero to an
// integer, exactly as decimal arithmetic followed by Round(0) would: with
// int64 arithmetic when the operands are small enough, with decimals
// otherwise. Amounts are bani, so shift -2 applies a percentage and +2 turns
// lei into bani.
func mulRound(b int64, r resolved, shift int32) int64 {
	e := r.exp + shift
	if r.small && b > -1<<40 && b < 1<<40 && e > -19 && e < 5 {
		n := b * r.coef // |n| < 2^60
		if e >= 0 {
			if n > -1<<48 && n < 1<<48 {
				return n * pow10[e]
			}
			return decimal.NewFromInt(b).Mul(r.dec).Shift(shift).Round(0).IntPart()
		}
		q, m := n/pow10[-e], n%pow10[-e]
		if m < 0 {
			m = -m
		}
		if 2*m >= pow10[-e] {
			if n < 0 {
				q--
			} else {
				q++
			}
		}
		return q
	}
	return decimal.NewFromInt(b).Mul(r.dec).Shift(shift).Round(0).IntPart()
}

// roundLeiBani is RoundLei for an amount in bani: the nearest whole leu,
// half away from zero.
func roundLeiBani(b int64) int64 {
	if b < 0 {
		return -roundLeiBani(-b)
	}
	return (b + 50) / 100 * 100
}
