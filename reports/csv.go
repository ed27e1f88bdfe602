package reports

import (
	"bufio"
	"io"
	"strconv"
	"strings"

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
// integers in decimal, text quoted when it holds a comma, a quote or a line
// break, and defused when a spreadsheet would read it as a formula.
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

func appendCSVText(b []byte, s string) []byte {
	formula := s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
	if !formula && !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	if formula {
		b = append(b, '\'')
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
