package reports

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"strings"
	"testing"

	"fiscald/internal/money"
)

// TestCSVTextDefusesFormulas writes hostile names as a text cell and reads
// the line as Excel would on a locale whose list separator is ";" (and on
// one with ","): no piece may start with a formula character, and the RFC
// 4180 reading still gives back one cell per text.
func TestCSVTextDefusesFormulas(t *testing.T) {
	for _, name := range []string{
		"Ion;=1+1;Pop",
		"Ion,=1+1,Pop",
		"=HYPERLINK(\"http://evil\")",
		"Ion\t=1+1",
		"Ion\r\n+1",
		"Ion\n@SUM(A1)",
		"a;-2+3",
		"Popescu Ion",
		"",
	} {
		line := appendCSVText(nil, name)
		if len(line) < 2 || line[0] != '"' || line[len(line)-1] != '"' {
			t.Errorf("%q: written unquoted: %s", name, line)
		}
		for _, sep := range []string{";", ",", "\t", "\n", "\r"} {
			for _, piece := range strings.Split(string(line), sep) {
				piece = strings.TrimPrefix(piece, `"`)
				if piece != "" && strings.ContainsRune("=+-@", rune(piece[0])) {
					t.Errorf("%q: a spreadsheet splitting on %q reads the formula %q in %s", name, sep, piece, line)
				}
			}
		}
		recs, err := csv.NewReader(bytes.NewReader(append(line, '\r', '\n'))).ReadAll()
		if err != nil || len(recs) != 1 || len(recs[0]) != 1 {
			t.Fatalf("%q: not one RFC 4180 cell: %q, %v", name, recs, err)
		}
		if got := strings.ReplaceAll(recs[0][0], "'", ""); got != strings.ReplaceAll(name, "\r\n", "\n") {
			t.Errorf("%q: read back as %q", name, recs[0][0])
		}
	}
}

// TestTotalsNeverWrap: a TOTAL that would pass int64 bani is an error, not
// a wrapped (negative) number.
func TestTotalsNeverWrap(t *testing.T) {
	tot := newTotaller([]Column{{Header: "Suma (lei)", Kind: Money, Sum: true}})
	if err := tot.add([]any{money.Bani(math.MaxInt64 - 1)}); err != nil {
		t.Fatal(err)
	}
	if err := tot.add([]any{money.Bani(2)}); !errors.Is(err, money.ErrOverflow) {
		t.Fatalf("overflowing total: %v", err)
	}
	if got := tot.row(); got[0] != money.Bani(math.MaxInt64-1) {
		t.Fatalf("the total changed after the refused row: %v", got)
	}
}
