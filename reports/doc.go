// Package reports writes the accountants' exports of fiscald — collections
// by budget classification code and by day or month, the journal of every
// movement of money, arrears with late-payment surcharges, early-payment
// bonuses, the service level and the card reconciliation differences —
// as CSV, XLSX and PDF.
//
// Rows come from a fiscal.ReportSource (implemented by internal/store), one
// at a time, and go straight to the writer: an export holds one row in
// memory however many there are. CSV is written through a buffer; XLSX
// through excelize's StreamWriter (which spools rows to a temporary file and
// zips it at the end); PDF is rendered by internal/pdf in memory and is
// therefore limited to MaxPDFRows rows: a bigger report is refused with
// ETOOLARGE naming CSV and XLSX, never truncated.
//
// Every export starts with a title block — the report, the municipality,
// the period or date, the instant it was made (from the injected clock) —
// followed by the header row, the rows, and a TOTAL row summing every
// amount column.
//
// CSV layout (pinned by golden files): UTF-8 with a byte-order mark (so
// Excel reads ș and ț), comma-separated (RFC 4180, CRLF line ends), amounts
// as plain decimals with a dot ("198.00", "-12.50"), dates as YYYY-MM-DD.
// The comma and the dot are the choice and what LibreOffice and
// Excel's Data → From Text/CSV import read as numbers in any locale; a
// spreadsheet on a Romanian locale that opens the file by double-click uses
// ";" and "," and should import it instead, or use the XLSX, whose cells
// are typed (numbers with two decimals, real dates). Text cells are always
// quoted, and a formula character (= + - @ TAB CR) at the start of a text
// cell or after ";", ",", TAB or a line break inside it is prefixed with an
// apostrophe, so a spreadsheet that splits the line on another separator
// still runs no formula.
//
// It is the only package that imports excelize.
package reports
