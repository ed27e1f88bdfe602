package reports

import (
	"fmt"
	"time"

	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// Kind is the type of a column's cells.
type Kind int

// Column kinds. A cell holds a string (Text), an int64 (Int), a
// money.Bani (Money) or a civil.Date (Date); nil is an empty cell.
const (
	Text Kind = iota
	Int
	Money
	Date
)

// Column is one column of a report.
type Column struct {
	// Key is the column's stable machine name (English, snake case).
	Key string
	// Header is the title accountants read (Romanian).
	Header string
	Kind   Kind
	// Sum puts the column's total in the TOTAL row (amounts and counts).
	Sum bool
	// PDF shows the column in the PDF, whose page is narrower than a
	// spreadsheet; CSV and XLSX always show every column.
	PDF bool
	// Sources are the ledger columns ("table.column") the column shows, for
	// the test that keeps reports complete when a column is added.
	Sources []string
	// Width is the XLSX column width in characters (0: by kind).
	Width float64
}

// Meta is the title block of an export.
type Meta struct {
	Report       string // the report's title, e.g. "Încasări pe coduri bugetare"
	Municipality string
	// Period is "2026-01-01 – 2026-01-31", or "la 2026-06-30" for a report
	// as of a date.
	Period string
	// Generated is when the export was made (the injected clock).
	Generated time.Time
}

// lines is the title block as label/value pairs.
func (m Meta) lines() [][2]string {
	return [][2]string{
		{"Raport", m.Report},
		{"Municipiu", m.Municipality},
		{"Perioada", m.Period},
		{"Generat la", m.Generated.UTC().Format("2006-01-02 15:04:05") + " UTC"},
	}
}

// sink is an output format: it receives the title block and header once,
// then each row, then the totals, and writes the file on Close.
type sink interface {
	begin(m Meta, cols []Column) error
	row(cells []any) error
	totals(cells []any) error
	close() error
}

// totaller adds up the summed columns as rows pass.
type totaller struct {
	cols  []Column
	sums  []int64
	fixed map[int]any
}

func newTotaller(cols []Column) *totaller {
	return &totaller{cols: cols, sums: make([]int64, len(cols))}
}

// add adds a row's summed cells; a total that would overflow int64 is an
// error (the report fails saying so), never a wrapped number. With every
// ledger amount within money.Max that takes 922,337 rows at the limit.
func (t *totaller) add(cells []any) error {
	for i, c := range t.cols {
		if !c.Sum {
			continue
		}
		var v int64
		switch x := cells[i].(type) {
		case money.Bani:
			v = int64(x)
		case int64:
			v = x
		default:
			continue
		}
		s, err := money.Add(money.Bani(t.sums[i]), money.Bani(v))
		if err != nil {
			return fmt.Errorf("reports: the total of %q: %w", c.Header, err)
		}
		t.sums[i] = int64(s)
	}
	return nil
}

// set puts a value that is not a sum in the TOTAL row.
func (t *totaller) set(col int, v any) {
	if t.fixed == nil {
		t.fixed = map[int]any{}
	}
	t.fixed[col] = v
}

// row is the TOTAL row: "TOTAL" in the first column, the sums under the
// summed columns.
func (t *totaller) row() []any {
	out := make([]any, len(t.cols))
	out[0] = "TOTAL"
	for i, c := range t.cols {
		if !c.Sum {
			continue
		}
		if c.Kind == Money {
			out[i] = money.Bani(t.sums[i])
		} else {
			out[i] = t.sums[i]
		}
	}
	for i, v := range t.fixed {
		out[i] = v
	}
	return out
}

// Cell helpers for optional ledger values.

func optInt[T ~int | ~int64](p *T) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func optText(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func optDate(p *civil.Date) any {
	if p == nil {
		return nil
	}
	return *p
}

func optMoney(p *money.Bani) any {
	if p == nil {
		return nil
	}
	return *p
}
