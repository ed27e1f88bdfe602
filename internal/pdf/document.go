package pdf

import "time"

// Document is a document issued by a municipality: a fiscal certificate, a
// decision, a receipt. Its content is given as text; the caller formats
// amounts and identity numbers.
type Document struct {
	// Municipality is the issuer printed in the header.
	Municipality Municipality
	// Title is the document's name, e.g. "Certificat de atestare fiscală".
	Title string
	// Number is the registration number.
	Number string
	// IssuedOn is the date of issue; only the calendar date is printed.
	IssuedOn time.Time
	// ValidUntil is the last day of validity; the zero value prints nothing.
	ValidUntil time.Time
	// LegalBasis cites the law the document is issued under.
	LegalBasis string
	// Holder lines identify the person the document is about (name, identity
	// number, address), one line each.
	Holder []string
	// Body is the content, section after section.
	Body []Section
	// SignerName and SignerRole are printed in the signature block.
	SignerName string
	SignerRole string
	// VerifyURL is printed as a QR code and as text; empty prints neither.
	VerifyURL string
	// GeneratedAt is written as the PDF's creation and modification date.
	// The zero value uses IssuedOn, so the output never depends on the clock.
	GeneratedAt time.Time
}

// Municipality identifies the issuing authority.
type Municipality struct {
	// Name, e.g. "Municipiul Timișoara".
	Name string
	// Department, e.g. "Direcția Fiscală"; optional.
	Department string
	// Address is one line with the address and the fiscal code (CUI); optional.
	Address string
}

// Section is a part of the body with an optional heading.
type Section struct {
	Heading string
	Blocks  []Block
}

// Block is one element of a section: a Paragraph or a Table.
type Block interface{ block() }

// Paragraph is a block of text, wrapped to the page width. A "\n" starts a
// new line.
type Paragraph string

func (Paragraph) block() {}

// Align is the horizontal alignment of a table column.
type Align int

// Column alignments. Amount columns are AlignRight.
const (
	AlignLeft Align = iota
	AlignRight
	AlignCenter
)

func (a Align) fpdf() string {
	switch a {
	case AlignRight:
		return "R"
	case AlignCenter:
		return "C"
	default:
		return "L"
	}
}

// Column describes one column of a Table.
type Column struct {
	Header string
	// Width is the column's share of the table width, relative to the other
	// columns; 0 counts as 1.
	Width float64
	Align Align
}

// Table is a grid with a header row, body rows and an optional totals row.
// Every row has one cell per column; long cells wrap. A table longer than a
// page continues on the next one under a repeated header.
type Table struct {
	Columns []Column
	Rows    [][]string
	// Total, if not nil, is printed in bold as the last row, e.g.
	// {"Total", "", "1234.00"}.
	Total []string
}

func (Table) block() {}
