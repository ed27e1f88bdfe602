package reports

import (
	"io"
	"strconv"

	"fiscald/fiscal"
	"fiscald/internal/pdf"
)

// MaxPDFRows bounds a PDF export. internal/pdf (fpdf) builds the whole
// document in memory, about 1 KB per table row: 5 000 rows is some 110 A4
// pages and a few MB — a printable summary. A report with more rows is
// refused with ETOOLARGE (413) before anything is sent, naming CSV and
// XLSX, which stream any number of rows; nothing is ever cut silently.
const MaxPDFRows = 5000

// pdfSink collects the rows of the PDF columns and renders an A4 document
// with internal/pdf on close.
type pdfSink struct {
	w     io.Writer
	max   int
	meta  Meta
	cols  []int // indexes of the columns shown
	doc   pdf.Document
	table pdf.Table
}

func newPDF(w io.Writer, maxRows int) *pdfSink {
	if maxRows <= 0 {
		maxRows = MaxPDFRows
	}
	return &pdfSink{w: w, max: maxRows}
}

func (s *pdfSink) begin(m Meta, cols []Column) error {
	s.meta = m
	for i, c := range cols {
		if !c.PDF {
			continue
		}
		s.cols = append(s.cols, i)
		a := pdf.AlignLeft
		w := 1.0
		switch c.Kind {
		case Money:
			a, w = pdf.AlignRight, 1.1
		case Int:
			a, w = pdf.AlignRight, 0.7
		case Date:
			w = 1.0
		case Text:
			w = 1.3
		}
		s.table.Columns = append(s.table.Columns, pdf.Column{Header: c.Header, Align: a, Width: w})
	}
	return nil
}

func (s *pdfSink) text(cells []any) []string {
	out := make([]string, len(s.cols))
	for j, i := range s.cols {
		out[j] = string(appendPDFCell(nil, cells[i]))
	}
	return out
}

func appendPDFCell(b []byte, c any) []byte {
	if v, ok := c.(string); ok {
		return append(b, v...) // no CSV quoting in a PDF
	}
	return appendCSVCell(b, c)
}

func (s *pdfSink) row(cells []any) error {
	if len(s.table.Rows) >= s.max {
		return fiscal.Errorf(fiscal.ETOOLARGE, "this report has more than %d rows, too many for a PDF: ask for format=csv or format=xlsx, which have no limit", s.max)
	}
	s.table.Rows = append(s.table.Rows, s.text(cells))
	return nil
}

func (s *pdfSink) totals(cells []any) error {
	s.table.Total = s.text(cells)
	return nil
}

func (s *pdfSink) close() error {
	m := s.meta
	s.doc = pdf.Document{
		Municipality: pdf.Municipality{Name: m.Municipality, Department: "Direcția Fiscală"},
		Title:        m.Report,
		Number:       m.Generated.UTC().Format("20060102-150405"),
		IssuedOn:     m.Generated,
		GeneratedAt:  m.Generated,
		Holder:       []string{"Perioada: " + m.Period, "Generat la: " + m.Generated.UTC().Format("2006-01-02 15:04:05") + " UTC", "Rânduri: " + strconv.Itoa(len(s.table.Rows))},
		Body:         []pdf.Section{{Blocks: []pdf.Block{s.table}}},
	}
	if len(s.table.Rows) == 0 {
		s.doc.Body = append([]pdf.Section{{Blocks: []pdf.Block{pdf.Paragraph("Nicio înregistrare în perioada raportului.")}}}, s.doc.Body...)
	}
	b, err := pdf.Render(s.doc)
	if err != nil {
		return err
	}
	_, err = s.w.Write(b)
	return err
}
