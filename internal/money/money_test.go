package money

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/shopspring/decimal"
)

func TestParseAndString(t *testing.T) {
	cases := []struct {
		in   string
		want Bani
		out  string
		err  bool
	}{
		{"198", 19800, "198.00", false},
		{"198.5", 19850, "198.50", false},
		{"0.05", 5, "0.05", false},
		{"-3.05", -305, "-3.05", false},
		{"1.005", 0, "", true},
		{"1e3", 0, "", true},
		{"", 0, "", true},
		{".5", 0, "", true},
		{"5.", 0, "", true},
		{"1,00", 0, "", true},
		{" 1", 0, "", true},
		{"99999999999.99", Max, "99999999999.99", false},
		{"-99999999999.99", -Max, "-99999999999.99", false},
		{"100000000000", 0, "", true},
		{"999999999999999.99", 0, "", true},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if (err != nil) != c.err {
			t.Fatalf("Parse(%q) err=%v", c.in, err)
		}
		if err == nil && (got != c.want || got.String() != c.out) {
			t.Fatalf("Parse(%q) = %d %q", c.in, got, got.String())
		}
	}
}

func TestJSONIsString(t *testing.T) {
	b, _ := json.Marshal(struct{ A Bani }{19800})
	if string(b) != `{"A":"198.00"}` {
		t.Fatal(string(b))
	}
	var v struct{ A Bani }
	if err := json.Unmarshal([]byte(`{"A":198}`), &v); err == nil {
		t.Fatal("a JSON number must be refused")
	}
	if err := json.Unmarshal([]byte(`{"A":"12.34"}`), &v); err != nil || v.A != 1234 {
		t.Fatal(v.A, err)
	}
}

func TestFromDecimal(t *testing.T) {
	if _, err := FromDecimal(decimal.RequireFromString("1.234")); err == nil {
		t.Fatal("fraction of a ban accepted")
	}
	b, err := FromDecimal(decimal.RequireFromString("178.20"))
	if err != nil || b != 17820 || b.Decimal().String() != "178.2" {
		t.Fatal(b, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "1.5", "-2.05", "99999999999.99", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(b.String())
		if err != nil || again != b {
			t.Fatalf("round trip %q -> %q -> %v", s, b.String(), again)
		}
	})
}

// TestLedgerLimit: the amount of the probe (999,999,999,999,999.99 lei, of
// which 93 overflowed the ledger's sums) is refused as too large, and sums
// report their overflow instead of wrapping.
func TestLedgerLimit(t *testing.T) {
	if _, err := Parse("999999999999999.99"); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("the probe's amount: %v", err)
	}
	var b Bani
	if err := json.Unmarshal([]byte(`"100000000000.00"`), &b); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("JSON beyond Max: %v", err)
	}
	// 922,337 rows at the limit still sum exactly; the overflow is reported.
	if s, err := Add(Max*922_336, Max); err != nil || s != Max*922_337 {
		t.Fatalf("Add near the top: %v %v", s, err)
	}
	if _, err := Add(Max*922_337, Max); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Add one row past the top: %v", err)
	}
	if _, err := Add(math.MaxInt64-1, 2); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Add past int64: %v", err)
	}
	if _, err := Add(math.MinInt64+1, -2); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Add below int64: %v", err)
	}
	if _, err := Sum(Max, Max, -Max); err != nil {
		t.Fatal(err)
	}
}
