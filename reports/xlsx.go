package reports

import (
	"archive/zip"
	"compress/flate"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// sheetName is the worksheet of every XLSX export.
const sheetName = "Raport"

// sheetRows is the most rows a worksheet holds (a variable for tests).
var sheetRows = excelize.TotalRows

// xlsxSink writes one worksheet with excelize's StreamWriter: rows are
// spooled to a temporary file as they come (memory stays flat) and the
// workbook is zipped to the writer on close. Amounts are numbers with the
// format #,##0.00 (the cell holds bani/100, exact for any amount below
// 90 000 billion lei), dates real dates formatted yyyy-mm-dd.
type xlsxSink struct {
	w      io.Writer
	f      *excelize.File
	sw     *excelize.StreamWriter
	n      int // rows written on the current sheet
	sheets int // sheets started after the first
	meta   Meta
	cols   []Column
	cells  []any
	style  struct{ bold, money, moneyBold, date, title int }
}

func newXLSX(w io.Writer) *xlsxSink { return &xlsxSink{w: w} }

func (s *xlsxSink) begin(m Meta, cols []Column) (err error) {
	s.f = excelize.NewFile()
	// File.WriteTo zips the workbook into a bytes.Buffer before copying it
	// out (a 1M-row sheet: 100 MB held, 200 MB at the buffer's growth).
	// Hand it a zip writer on the destination instead, so the zip streams;
	// the buffer stays empty. (Its zip64 local-header fix-up only concerns
	// a sheet over 4 GB of XML, far past a sheet's row limit.)
	// Deflate at BestSpeed: a million rows of sheet XML compress in a third
	// of the default level's time, for a file about 15% larger.
	s.f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(s.w)
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) { return flate.NewWriter(out, flate.BestSpeed) })
		return zw
	})
	if err := s.f.SetSheetName("Sheet1", sheetName); err != nil {
		return err
	}
	s.f.SetDocProps(&excelize.DocProperties{Title: m.Report, Creator: "fiscald", Created: m.Generated.UTC().Format("2006-01-02T15:04:05Z")})
	st := &s.style
	if st.bold, err = s.f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return err
	}
	if st.title, err = s.f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 13}}); err != nil {
		return err
	}
	fmtMoney, fmtDate := "#,##0.00", "yyyy-mm-dd"
	if st.money, err = s.f.NewStyle(&excelize.Style{CustomNumFmt: &fmtMoney}); err != nil {
		return err
	}
	if st.moneyBold, err = s.f.NewStyle(&excelize.Style{CustomNumFmt: &fmtMoney, Font: &excelize.Font{Bold: true}}); err != nil {
		return err
	}
	if st.date, err = s.f.NewStyle(&excelize.Style{CustomNumFmt: &fmtDate}); err != nil {
		return err
	}
	s.cols, s.meta = cols, m
	if err := s.sheet(sheetName); err != nil {
		return err
	}
	s.cells = make([]any, len(cols))
	for i, l := range m.lines() {
		style := st.bold
		if i == 0 {
			style = st.title
		}
		if err := s.put([]any{excelize.Cell{StyleID: style, Value: l[0]}, l[1]}); err != nil {
			return err
		}
	}
	s.n++ // a blank line before the header
	return s.header()
}

// sheet starts a worksheet with the columns' widths.
func (s *xlsxSink) sheet(name string) (err error) {
	if s.sw, err = s.f.NewStreamWriter(name); err != nil {
		return err
	}
	s.n = 0
	for i, c := range s.cols {
		w := c.Width
		if w == 0 {
			w = map[Kind]float64{Text: 18, Int: 10, Money: 15, Date: 12}[c.Kind]
		}
		if err := s.sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	return nil
}

func (s *xlsxSink) header() error {
	h := make([]any, len(s.cols))
	for i, c := range s.cols {
		h[i] = excelize.Cell{StyleID: s.style.bold, Value: c.Header}
	}
	return s.put(h)
}

// put writes the next row. A sheet holds at most excelize.TotalRows
// (1 048 576) rows: past that the rows continue on "Raport (2)", ... under
// a repeated header, so no row is ever dropped.
func (s *xlsxSink) put(values []any) error {
	if s.n >= sheetRows {
		if err := s.sw.Flush(); err != nil {
			return err
		}
		s.sheets++
		name := fmt.Sprintf("%s (%d)", sheetName, s.sheets+1)
		if _, err := s.f.NewSheet(name); err != nil {
			return err
		}
		if err := s.sheet(name); err != nil {
			return err
		}
		if err := s.header(); err != nil {
			return err
		}
	}
	s.n++
	cell, err := excelize.CoordinatesToCellName(1, s.n)
	if err != nil {
		return err
	}
	return s.sw.SetRow(cell, values)
}

func (s *xlsxSink) convert(cells []any, bold bool) []any {
	for i, c := range cells {
		switch v := c.(type) {
		case money.Bani:
			st := s.style.money
			if bold {
				st = s.style.moneyBold
			}
			s.cells[i] = excelize.Cell{StyleID: st, Value: float64(v) / 100}
		case civil.Date:
			if v.IsZero() {
				s.cells[i] = nil
			} else {
				s.cells[i] = excelize.Cell{StyleID: s.style.date, Value: v.In(time.UTC)}
			}
		case string:
			if bold {
				s.cells[i] = excelize.Cell{StyleID: s.style.bold, Value: v}
			} else {
				s.cells[i] = v
			}
		case int64, nil:
			s.cells[i] = v
		default:
			panic(fmt.Sprintf("reports: unexpected cell type %T", c))
		}
	}
	return s.cells
}

func (s *xlsxSink) row(cells []any) error    { return s.put(s.convert(cells, false)) }
func (s *xlsxSink) totals(cells []any) error { return s.put(s.convert(cells, true)) }

func (s *xlsxSink) close() error {
	if s.f == nil {
		return nil
	}
	defer s.f.Close() // removes the temporary files
	if err := s.sw.Flush(); err != nil {
		return err
	}
	_, err := s.f.WriteTo(s.w)
	return err
}
