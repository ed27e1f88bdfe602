package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/go-pdf/fpdf"
)

// Page geometry and type sizes, in millimetres and points.
const (
	marginLeft   = 20.0
	marginRight  = 20.0
	marginTop    = 15.0
	marginBottom = 18.0

	sizeText   = 10.0
	sizeSmall  = 8.0
	sizeHeader = 11.0
	sizeTitle  = 15.0

	lineText = 5.0 // line height of body text
	lineCell = 4.6 // line height inside table cells
	cellPad  = 1.5 // fpdf's horizontal cell margin

	qrSize = 30.0 // side of the printed QR code

	// lineWidth is the width of table borders and of the stroke that makes
	// text bold (0.1 mm = 0.28 pt).
	lineWidth = 0.1
)

const dateLayout = "02.01.2006"

// ErrInvalidDocument is wrapped by Render when a Document lacks a required
// field or a table row has the wrong number of cells.
var ErrInvalidDocument = errors.New("invalid document")

// Render lays doc out on A4 pages and returns the PDF. The output depends
// only on doc: rendering the same Document twice gives identical bytes.
func Render(doc Document) ([]byte, error) {
	if err := validate(doc); err != nil {
		return nil, err
	}
	r := &renderer{doc: doc, f: fpdf.New("P", "mm", "A4", "")}
	r.setup()
	r.header()
	r.holder()
	for _, s := range doc.Body {
		r.section(s)
	}
	r.signature()
	if err := r.f.Error(); err != nil {
		return nil, fmt.Errorf("render %q: %w", doc.Number, err)
	}
	var buf bytes.Buffer
	buf.Grow(48 << 10)
	if err := r.f.Output(&buf); err != nil {
		return nil, fmt.Errorf("render %q: %w", doc.Number, err)
	}
	return buf.Bytes(), nil
}

func validate(doc Document) error {
	var missing []string
	if strings.TrimSpace(doc.Municipality.Name) == "" {
		missing = append(missing, "municipality name")
	}
	if strings.TrimSpace(doc.Title) == "" {
		missing = append(missing, "title")
	}
	if strings.TrimSpace(doc.Number) == "" {
		missing = append(missing, "number")
	}
	if doc.IssuedOn.IsZero() {
		missing = append(missing, "issue date")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s", ErrInvalidDocument, strings.Join(missing, ", "))
	}
	for i, s := range doc.Body {
		for j, b := range s.Blocks {
			t, ok := b.(Table)
			if !ok {
				continue
			}
			if len(t.Columns) == 0 {
				return fmt.Errorf("%w: section %d, block %d: table without columns", ErrInvalidDocument, i+1, j+1)
			}
			for k, row := range t.Rows {
				if len(row) != len(t.Columns) {
					return fmt.Errorf("%w: section %d, block %d, row %d: %d cells for %d columns",
						ErrInvalidDocument, i+1, j+1, k+1, len(row), len(t.Columns))
				}
			}
			if t.Total != nil && len(t.Total) != len(t.Columns) {
				return fmt.Errorf("%w: section %d, block %d, totals row: %d cells for %d columns",
					ErrInvalidDocument, i+1, j+1, len(t.Total), len(t.Columns))
			}
		}
	}
	return nil
}

type renderer struct {
	doc  Document
	f    *fpdf.Fpdf
	w    float64 // usable width
	bold bool    // text is drawn filled and stroked (see font)
}

// font selects the one embedded face at size, bold or not. Bold is drawn
// by stroking the glyphs' outlines as well as filling them (text rendering
// mode 2) with the thin line width used everywhere (lineWidth): one face
// instead of two saves fpdf a second parse of a TrueType font, about a
// third of a document's rendering time.
func (r *renderer) font(bold bool, size float64) {
	r.f.SetFont(fontFamily, "", size)
	if bold != r.bold {
		r.bold = bold
		r.textMode()
	}
}

func (r *renderer) textMode() {
	if r.bold {
		r.f.SetTextRenderingMode(2)
	} else {
		r.f.SetTextRenderingMode(0)
	}
}

func (r *renderer) setup() {
	f, doc := r.f, r.doc
	generated := doc.GeneratedAt
	if generated.IsZero() {
		generated = doc.IssuedOn
	}
	f.SetCreationDate(generated)
	f.SetModificationDate(generated)
	f.SetCatalogSort(true)
	f.SetTitle(doc.Title+" nr. "+doc.Number, true)
	f.SetAuthor(doc.Municipality.Name, true)
	f.SetCreator("fiscald", false)
	f.SetProducer("fiscald", false)
	f.SetLang("ro-RO")
	f.AddUTF8FontFromBytes(fontFamily, "", fontRegular)
	f.SetMargins(marginLeft, marginTop, marginRight)
	f.SetAutoPageBreak(true, marginBottom)
	f.AliasNbPages("{nb}")
	// A page starts in fill mode: the header restores bold text that a page
	// break interrupted; the footer is regular and leaves r.bold alone.
	f.SetHeaderFunc(func() {
		f.SetLineWidth(lineWidth)
		if r.bold {
			r.textMode()
		}
	})
	f.SetFooterFunc(func() {
		f.SetY(-marginBottom + 6)
		f.SetFont(fontFamily, "", sizeSmall)
		f.SetTextRenderingMode(0)
		f.SetTextColor(90, 90, 90)
		f.CellFormat(0, 4, fmt.Sprintf("%s nr. %s — pagina %d din {nb}", doc.Title, doc.Number, f.PageNo()),
			"T", 0, "C", false, 0, "")
		f.SetTextColor(0, 0, 0)
	})
	f.AddPage()
	pw, _ := f.GetPageSize()
	r.w = pw - marginLeft - marginRight
}

func (r *renderer) header() {
	f, doc := r.f, r.doc
	m := doc.Municipality
	r.font(true, sizeHeader)
	f.CellFormat(0, 5.5, "ROMÂNIA", "", 1, "L", false, 0, "")
	f.CellFormat(0, 5.5, m.Name, "", 1, "L", false, 0, "")
	if m.Department != "" {
		f.CellFormat(0, 5.5, m.Department, "", 1, "L", false, 0, "")
	}
	if m.Address != "" {
		r.font(false, sizeSmall+0.5)
		f.MultiCell(0, 4, m.Address, "", "L", false)
	}
	f.Ln(1.5)
	y := f.GetY()
	f.SetLineWidth(0.4)
	f.Line(marginLeft, y, marginLeft+r.w, y)
	f.SetLineWidth(lineWidth)

	f.Ln(9)
	r.font(true, sizeTitle)
	f.MultiCell(0, 7, doc.Title, "", "C", false)
	r.font(false, sizeText+1)
	f.CellFormat(0, 6, fmt.Sprintf("Nr. %s din %s", doc.Number, doc.IssuedOn.Format(dateLayout)), "", 1, "C", false, 0, "")
	if !doc.ValidUntil.IsZero() {
		r.font(false, sizeText)
		f.CellFormat(0, 5, "Valabil până la "+doc.ValidUntil.Format(dateLayout), "", 1, "C", false, 0, "")
	}
	if doc.LegalBasis != "" {
		f.Ln(3)
		r.font(false, sizeSmall+0.5)
		f.SetTextColor(60, 60, 60)
		f.MultiCell(0, 4, "Temei legal: "+doc.LegalBasis, "", "C", false)
		f.SetTextColor(0, 0, 0)
	}
	f.Ln(6)
}

func (r *renderer) holder() {
	if len(r.doc.Holder) == 0 {
		return
	}
	f := r.f
	r.font(true, sizeText)
	f.CellFormat(0, lineText, "Titular", "", 1, "L", false, 0, "")
	r.font(false, sizeText)
	for _, l := range r.doc.Holder {
		f.MultiCell(0, lineText, l, "", "L", false)
	}
	f.Ln(4)
}

func (r *renderer) section(s Section) {
	f := r.f
	if s.Heading != "" {
		r.keepSpace(lineText * 4)
		r.font(true, sizeHeader)
		f.MultiCell(0, 6, s.Heading, "", "L", false)
		f.Ln(1)
	}
	for _, b := range s.Blocks {
		switch b := b.(type) {
		case Paragraph:
			r.font(false, sizeText)
			f.MultiCell(0, lineText, string(b), "", "L", false)
			f.Ln(2)
		case Table:
			r.table(b)
			f.Ln(4)
		}
	}
	f.Ln(2)
}

// keepSpace starts a new page unless h millimetres are left on this one.
func (r *renderer) keepSpace(h float64) {
	_, ph := r.f.GetPageSize()
	if r.f.GetY()+h > ph-marginBottom {
		r.f.AddPage()
	}
}

func (r *renderer) table(t Table) {
	f := r.f
	var sum float64
	for _, c := range t.Columns {
		sum += weight(c)
	}
	widths := make([]float64, len(t.Columns))
	for i, c := range t.Columns {
		widths[i] = r.w * weight(c) / sum
	}
	headers := make([]string, len(t.Columns))
	aligns := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		headers[i] = c.Header
		aligns[i] = c.Align.fpdf()
	}
	headerRow := func() {
		r.font(true, sizeText-1)
		f.SetFillColor(230, 230, 230)
		r.row(widths, aligns, headers, true)
	}
	// The header row needs the first body row under it on the same page.
	r.keepSpace(3 * lineCell * 2)
	headerRow()
	for _, cells := range t.Rows {
		r.font(false, sizeText-1)
		if r.rowHeight(widths, cells) > r.spaceLeft() {
			f.AddPage()
			headerRow()
			r.font(false, sizeText-1)
		}
		r.row(widths, aligns, cells, false)
	}
	if t.Total != nil {
		r.font(true, sizeText-1)
		f.SetFillColor(245, 245, 245)
		if r.rowHeight(widths, t.Total) > r.spaceLeft() {
			f.AddPage()
			headerRow()
			r.font(true, sizeText-1)
			f.SetFillColor(245, 245, 245)
		}
		r.row(widths, aligns, t.Total, true)
	}
}

func weight(c Column) float64 {
	if c.Width <= 0 {
		return 1
	}
	return c.Width
}

func (r *renderer) spaceLeft() float64 {
	_, ph := r.f.GetPageSize()
	return ph - marginBottom - r.f.GetY()
}

func (r *renderer) rowHeight(widths []float64, cells []string) float64 {
	n := 1
	for i, c := range cells {
		if l := len(r.f.SplitText(c, widths[i])); l > n {
			n = l
		}
	}
	return float64(n)*lineCell + 1
}

// row draws one table row in the current font, its cells wrapped, bordered
// and, if fill, shaded with the current fill colour.
func (r *renderer) row(widths []float64, aligns, cells []string, fill bool) {
	f := r.f
	h := r.rowHeight(widths, cells)
	style := "D"
	if fill {
		style = "FD"
	}
	x, y := marginLeft, f.GetY()
	for i, c := range cells {
		f.Rect(x, y, widths[i], h, style)
		for j, line := range f.SplitText(c, widths[i]) {
			f.SetXY(x, y+0.5+float64(j)*lineCell)
			f.CellFormat(widths[i], lineCell, line, "", 0, aligns[i], false, 0, "")
		}
		x += widths[i]
	}
	f.SetXY(marginLeft, y+h)
}

// signature prints the signer on the right and the QR code of the
// verification URL on the left, kept together on one page.
func (r *renderer) signature() {
	f, doc := r.f, r.doc
	need := 12.0
	if doc.VerifyURL != "" {
		need = qrSize + 14
	}
	r.keepSpace(need + 4)
	f.Ln(4)
	top := f.GetY()

	colW := r.w / 2
	x := marginLeft + r.w - colW
	f.SetXY(x, top)
	if doc.SignerRole != "" {
		r.font(true, sizeText)
		f.MultiCell(colW, lineText, doc.SignerRole, "", "C", false)
		f.SetX(x)
	}
	if doc.SignerName != "" {
		r.font(false, sizeText)
		f.MultiCell(colW, lineText, doc.SignerName, "", "C", false)
		f.SetX(x)
	}
	r.font(false, sizeSmall)
	f.SetTextColor(90, 90, 90)
	f.MultiCell(colW, 4, "Document semnat electronic", "", "C", false)
	f.SetTextColor(0, 0, 0)
	bottom := f.GetY()

	if doc.VerifyURL != "" {
		if err := r.qr(doc.VerifyURL, marginLeft, top, qrSize); err != nil {
			f.SetError(fmt.Errorf("QR code: %w", err))
			return
		}
		f.LinkString(marginLeft, top, qrSize, qrSize, doc.VerifyURL)
		f.SetXY(marginLeft, top+qrSize+1)
		r.font(false, sizeSmall)
		f.MultiCell(r.w-colW-5, 3.6, "Verificare: "+doc.VerifyURL, "", "L", false)
		if y := f.GetY(); y > bottom {
			bottom = y
		}
	}
	f.SetXY(marginLeft, bottom)
}

// qr draws the QR code of text as vector squares (runs of dark modules in a
// row are one rectangle) in a side×side square at x, y, the four-module
// quiet zone included. Drawing it costs a fraction of encoding a PNG that
// fpdf would decode and compress again, and prints sharp at any size.
func (r *renderer) qr(text string, x, y, side float64) error {
	bits, err := qrBitmap(text)
	if err != nil {
		return err
	}
	n := len(bits)
	m := side / float64(n)
	f := r.f
	f.SetFillColor(0, 0, 0)
	for row, line := range bits {
		for col := 0; col < n; {
			if !line[col] {
				col++
				continue
			}
			start := col
			for col < n && line[col] {
				col++
			}
			// A hair of overlap hides the seams some viewers draw between squares.
			f.Rect(x+float64(start)*m, y+float64(row)*m, float64(col-start)*m+0.01, m+0.01, "F")
		}
	}
	f.SetFillColor(255, 255, 255)
	return nil
}
