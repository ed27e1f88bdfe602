package reports

import (
	"bufio"
	"io"
	"strconv"

	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// csvSink writes RFC 4180 CSV (comma, CRLF, quotes doubled) in UTF-8 with a
// byte-order mark. See the package comment for the layout.
type csvSink struct {
	w    *bufio.Writer
	line []byte
}

func newCSV(w io.Writer) *csvSink {
	return &csvSink{w: bufio.NewWriterSize(w, 64<<10), line: make([]byte, 0, 512)}
}

func (s *csvSink) begin(m Meta, cols []Column) error {
	if _, err := s.w.WriteString("\uFEFF"); err != nil {
		return err
	}
	for _, l := range m.lines() {
		if err := s.record([]any{l[0], l[1]}); err != nil {
			return err
		}
	}
	if err := s.record(nil); err != nil {
		return err
	}
	h := make([]any, len(cols))
	for i, c := range cols {
		h[i] = c.Header
	}
	return s.record(h)
}

func (s *csvSink) row(cells []any) error    { return s.record(cells) }
func (s *csvSink) totals(cells []any) error { return s.record(cells) }
func (s *csvSink) close() error             { return s.w.Flush() }

func (s *csvSink) record(cells []any) error {
	b := s.line[:0]
	for i, c := range cells {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVCell(b, c)
	}
	b = append(b, '\r', '\n')
	s.line = b
	_, err := s.w.Write(b)
	return err
}

// appendCSVCell formats one cell: amounts "198.00", dates YYYY-MM-DD,
// integers in decimal, text always quoted and defused where a spreadsheet
// would read a formula (appendCSVText).
func appendCSVCell(b []byte, c any) []byte {
	switch v := c.(type) {
	case nil:
		return b
	case money.Bani:
		return appendBani(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case civil.Date:
		if v.IsZero() {
			return b
		}
		return append(b, v.String()...)
	case string:
		return appendCSVText(b, v)
	default:
		panic("reports: unexpected cell type")
	}
}

// appendBani writes bani as lei with two decimals and a dot.
func appendBani(b []byte, v money.Bani) []byte {
	n := uint64(v)
	if v < 0 {
		b = append(b, '-')
		n = -n
	}
	b = strconv.AppendUint(b, n/100, 10)
	c := n % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// appendCSVText writes a text cell always quoted, quotes doubled, so that a
// spreadsheet splitting lines on another list separator (";" in a Romanian
// locale) still sees one cell. A formula character (= + - @ TAB CR) is
// defused with an apostrophe where any spreadsheet could start a cell: at
// the start of the text and after a separator it might split on (";", ",",
// TAB) or a line break. "Ion;=1+1;Pop" is written "Ion;'=1+1;Pop".
func appendCSVText(b []byte, s string) []byte {
	b = append(b, '"')
	cellStart := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if cellStart && isFormulaByte(c) {
			b = append(b, '\'')
		}
		if c == '"' {
			b = append(b, '"')
		}
		b = append(b, c)
		cellStart = c == ';' || c == ',' || c == '\t' || c == '\n' || c == '\r'
	}
	return append(b, '"')
}

// isFormulaByte reports whether a spreadsheet reads a cell starting with c
// as a formula (or, for TAB and CR, may drop the byte and read the next).
func isFormulaByte(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}
