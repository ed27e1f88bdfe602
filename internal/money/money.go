// Package money holds the one value type for amounts of lei: an exact count of
// bani (1 leu = 100 bani) stored as int64. It never uses floating point.
// Amounts cross JSON as strings with two decimals ("198.00").
package money

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Bani is an amount in bani (hundredths of a leu).
type Bani int64

// Lei returns whole lei as Bani.
func Lei(n int64) Bani { return Bani(n * 100) }

var hundred = decimal.NewFromInt(100)

// ErrInvalid is returned for a string that is not an amount with at most two decimals.
var ErrInvalid = errors.New("not an amount in lei with at most two decimals")

// Max is the largest amount (in absolute value) the ledger takes from a
// person: 99,999,999,999.99 lei, far above any plausible payment or debt of
// a municipality. It keeps every sum of the ledger exact in int64 (and in
// SQL's BIGINT) up to 922,337 rows at the limit; Add reports the overflow
// beyond that instead of wrapping. Municipalities set lower plausibility
// bounds on what their staff enter (fiscal.AmountLimits).
const Max Bani = 9_999_999_999_999

// ErrTooLarge is returned by Parse for an amount beyond Max.
var ErrTooLarge = errors.New("amount above the ledger's limit of " + Max.String() + " lei")

// ErrOverflow is returned by Add and Sum when the result does not fit in
// int64 bani.
var ErrOverflow = errors.New("money: sum overflows int64 bani")

// Add returns a + b, or ErrOverflow when the sum does not fit in int64 (it
// never wraps silently).
func Add(a, b Bani) (Bani, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, ErrOverflow
	}
	return s, nil
}

// Sum adds amounts with Add.
func Sum(amounts ...Bani) (Bani, error) {
	var t Bani
	for _, a := range amounts {
		var err error
		if t, err = Add(t, a); err != nil {
			return 0, err
		}
	}
	return t, nil
}

// Decimal returns the amount in lei as an exact decimal.
func (b Bani) Decimal() decimal.Decimal { return decimal.New(int64(b), -2) }

// FromDecimal converts lei to bani; it fails if d has a fraction of a ban.
func FromDecimal(d decimal.Decimal) (Bani, error) {
	m := d.Mul(hundred)
	if !m.IsInteger() {
		return 0, fmt.Errorf("%s: %w", d.String(), ErrInvalid)
	}
	if !m.BigInt().IsInt64() {
		return 0, fmt.Errorf("%s: amount out of range", d.String())
	}
	return Bani(m.IntPart()), nil
}

// MustFromDecimal is FromDecimal for values already rounded to bani; it panics otherwise.
func MustFromDecimal(d decimal.Decimal) Bani {
	b, err := FromDecimal(d.Round(2))
	if err != nil {
		panic(err)
	}
	return b
}

// Parse reads "198", "198.5" or "198.00" (an optional leading minus) into bani.
// Exponents, thousands separators, spaces and more than two decimals are
// refused (ErrInvalid); so is an amount beyond Max (ErrTooLarge).
func Parse(s string) (Bani, error) {
	t := s
	neg := false
	if strings.HasPrefix(t, "-") {
		neg, t = true, t[1:]
	}
	whole, frac, hasDot := strings.Cut(t, ".")
	if whole == "" || len(whole) > 15 || (hasDot && (len(frac) == 0 || len(frac) > 2)) {
		return 0, ErrInvalid
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, ErrInvalid
			}
		}
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, ErrInvalid
	}
	if n > int64(Max) {
		return 0, ErrTooLarge
	}
	if neg {
		n = -n
	}
	return Bani(n), nil
}

// String formats the amount in lei with two decimals, e.g. "198.00" or "-3.05".
func (b Bani) String() string { return string(b.appendTo(make([]byte, 0, 24))) }

// appendTo appends the amount as String formats it (without fmt: it runs
// for every amount of every JSON response).
func (b Bani) appendTo(buf []byte) []byte {
	n := uint64(b)
	if b < 0 {
		buf = append(buf, '-')
		n = -n
	}
	buf = strconv.AppendUint(buf, n/100, 10)
	c := n % 100
	return append(buf, '.', byte('0'+c/10), byte('0'+c%10))
}

// MarshalJSON writes the amount as a JSON string.
func (b Bani) MarshalJSON() ([]byte, error) {
	return b.AppendJSON(make([]byte, 0, 26)), nil
}

// AppendJSON appends the amount as MarshalJSON writes it (a JSON string),
// for encoders that build a response in one buffer.
func (b Bani) AppendJSON(buf []byte) []byte {
	buf = append(buf, '"')
	buf = b.appendTo(buf)
	return append(buf, '"')
}

// UnmarshalJSON reads a JSON string holding an amount in lei; numbers are refused.
func (b *Bani) UnmarshalJSON(data []byte) error {
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return ErrInvalid
	}
	v, err := Parse(string(data[1 : len(data)-1]))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// Value stores the amount as an integer column.
func (b Bani) Value() (driver.Value, error) { return int64(b), nil }

// Scan reads an integer column.
func (b *Bani) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*b = Bani(v)
	case nil:
		*b = 0
	default:
		return fmt.Errorf("money: cannot scan %T", src)
	}
	return nil
}
