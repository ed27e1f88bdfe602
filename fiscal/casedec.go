package fiscal

import (
	"encoding/json"
	"errors"
	"math/big"
	"regexp"
	"strings"
)

// Dec is a decimal number of a request form (a field's value or bound):
// at most 15 digits before the point and 8 after, exact (math/big), never
// a float. In JSON it is a number or a string holding one.
type Dec struct {
	r *big.Rat
	s string // canonical: no leading +, no trailing zeros after the point
}

var decRe = regexp.MustCompile(`^-?[0-9]{1,15}(\.[0-9]{1,8})?$`)

var errDec = errors.New("not a decimal number with at most 15 digits before the point and 8 after")

// ParseDec reads a decimal number.
func ParseDec(s string) (Dec, error) {
	s = strings.TrimSpace(s)
	if !decRe.MatchString(s) {
		return Dec{}, errDec
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return Dec{}, errDec
	}
	c := s
	if strings.Contains(c, ".") {
		c = strings.TrimRight(strings.TrimRight(c, "0"), ".")
	}
	neg := strings.HasPrefix(c, "-")
	c = strings.TrimLeft(strings.TrimPrefix(c, "-"), "0")
	if c == "" || c[0] == '.' {
		c = "0" + c
	}
	if neg && r.Sign() != 0 {
		c = "-" + c
	}
	return Dec{r: r, s: c}, nil
}

// String is the canonical text of d.
func (d Dec) String() string { return d.s }

// IsInteger reports whether d has no fraction.
func (d Dec) IsInteger() bool { return d.r != nil && d.r.IsInt() }

// Cmp compares d and e (-1, 0, +1).
func (d Dec) Cmp(e Dec) int { return d.r.Cmp(e.r) }

// Int64 is d's integer value (d.IsInteger).
func (d Dec) Int64() int64 { return d.r.Num().Int64() }

// UnmarshalJSON reads a number or a string.
func (d *Dec) UnmarshalJSON(b []byte) error {
	s := string(b)
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := ParseDec(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes the canonical number.
func (d Dec) MarshalJSON() ([]byte, error) { return []byte(d.s), nil }
