package reports

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// Format is an export's file type.
type Format string

// The export formats.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
	PDF  Format = "pdf"
)

// ContentType is the MIME type of the format.
func (f Format) ContentType() string {
	switch f {
	case CSV:
		return "text/csv; charset=utf-8"
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case PDF:
		return "application/pdf"
	}
	return "application/octet-stream"
}

// Report names.
const (
	Collections = "collections"
	Journal     = "journal"
	Arrears     = "arrears"
	Bonuses     = "bonuses"
	SLA         = "sla"
	// Reconciliation is the card reconciliation differences (issue 7).
	Reconciliation = "reconciliation"
)

// Names lists the reports Export knows.
var Names = []string{Collections, Journal, Arrears, Bonuses, SLA, Reconciliation}

// Collection groupings.
const (
	ByBudgetCode = "budget_code"
	ByDay        = "day"
	ByMonth      = "month"
)

// Request names a report and its parameters.
type Request struct {
	Name   string
	Format Format
	// From and To bound a period report (inclusive).
	From, To civil.Date
	// AsOf is the date of the arrears.
	AsOf civil.Date
	// Group is the collections' grouping: budget_code (default), day, month.
	Group string
}

// MaxPeriodDays bounds a period: ten years of days.
const MaxPeriodDays = 3660

// Validate checks the request and fills defaults; EINVALID names the field.
func (r *Request) Validate() error {
	var fe []fiscal.FieldError
	if !slices.Contains(Names, r.Name) {
		fe = append(fe, fiscal.FieldError{Field: "report", Message: fmt.Sprintf("unknown report %q: one of %v", r.Name, Names)})
	}
	if r.Format == "" {
		r.Format = CSV
	}
	if r.Format != CSV && r.Format != XLSX && r.Format != PDF {
		fe = append(fe, fiscal.FieldError{Field: "format", Message: "must be csv, xlsx or pdf"})
	}
	switch r.Name {
	case Arrears:
		if r.AsOf.IsZero() {
			fe = append(fe, fiscal.FieldError{Field: "as_of", Message: "required: a date YYYY-MM-DD"})
		}
	case Collections, Journal, Bonuses, SLA, Reconciliation:
		if r.From.IsZero() {
			fe = append(fe, fiscal.FieldError{Field: "from", Message: "required: a date YYYY-MM-DD"})
		}
		if r.To.IsZero() {
			fe = append(fe, fiscal.FieldError{Field: "to", Message: "required: a date YYYY-MM-DD"})
		}
		if !r.From.IsZero() && !r.To.IsZero() {
			if r.To.Before(r.From) {
				fe = append(fe, fiscal.FieldError{Field: "to", Message: "must not be before from"})
			} else if r.To.DaysSince(r.From) > MaxPeriodDays {
				fe = append(fe, fiscal.FieldError{Field: "to", Message: fmt.Sprintf("a period is at most %d days", MaxPeriodDays)})
			}
		}
		if r.Name == Collections {
			if r.Group == "" {
				r.Group = ByBudgetCode
			}
			if r.Group != ByBudgetCode && r.Group != ByDay && r.Group != ByMonth {
				fe = append(fe, fiscal.FieldError{Field: "group", Message: "must be budget_code, day or month"})
			}
		}
	}
	if len(fe) > 0 {
		return fiscal.Invalid(fe...)
	}
	return nil
}

// Filename is the download's file name, e.g.
// "incasari-budget_code-2026-01-01-2026-01-31.csv".
func (r *Request) Filename() string {
	base := map[string]string{Collections: "incasari-" + r.Group, Journal: "jurnal-incasari", Arrears: "restante", Bonuses: "bonificatii", SLA: "termene-solutionare", Reconciliation: "reconciliere-card"}[r.Name]
	if r.Name == Arrears {
		return fmt.Sprintf("%s-%s.%s", base, r.AsOf, r.Format)
	}
	return fmt.Sprintf("%s-%s-%s.%s", base, r.From, r.To, r.Format)
}

// requestOf converts the domain's request.
func requestOf(r *fiscal.ReportRequest) Request {
	return Request{Name: r.Name, Format: Format(r.Format), Group: r.Group, From: r.From, To: r.To, AsOf: r.AsOf}
}

// ReportFile implements fiscal.ReportService: it validates r, fills in its
// defaults and names the file.
func (e *Exporter) ReportFile(r *fiscal.ReportRequest) (filename, contentType string, err error) {
	req := requestOf(r)
	if err := req.Validate(); err != nil {
		return "", "", err
	}
	r.Format, r.Group = string(req.Format), req.Group
	return req.Filename(), req.Format.ContentType(), nil
}

// ExportReport implements fiscal.ReportService with Export.
func (e *Exporter) ExportReport(ctx context.Context, r fiscal.ReportRequest, w io.Writer) (int64, error) {
	s, err := e.Export(ctx, requestOf(&r), w)
	return s.Rows, err
}

// Exporter writes reports from a row source.
type Exporter struct {
	Source fiscal.ReportSource
	// Reconciliation feeds the reconciliation report (payments.Service);
	// without it that report answers EUNAVAILABLE.
	Reconciliation fiscal.ReconciliationSource
	Clock          fiscal.Clock
	// Progress, when set, is called with the number of rows written every
	// ProgressEvery rows and once at the end.
	Progress      func(rows int64)
	ProgressEvery int64
	// PDFMaxRows overrides MaxPDFRows (tests).
	PDFMaxRows int
}

// Summary says what an export wrote.
type Summary struct {
	Rows int64
}

// Export writes the report to w. Nothing is written before the source has
// answered its first row, so a refusal (EFORBIDDEN, EINVALID, ETOOLARGE for
// a PDF) leaves w untouched unless rows were already streamed; an error
// after that is returned and the output must be discarded (the HTTP layer
// aborts the transfer). ctx ends the export when it is cancelled.
func (e *Exporter) Export(ctx context.Context, req Request, w io.Writer) (Summary, error) {
	if err := req.Validate(); err != nil {
		return Summary{}, err
	}
	if req.Name == Reconciliation && e.Reconciliation == nil {
		return Summary{}, fiscal.Errorf(fiscal.EUNAVAILABLE, "the reconciliation report is not available")
	}
	m, err := e.Source.ReportMunicipality(ctx)
	if err != nil {
		return Summary{}, err
	}
	codes, err := CodesFor(m.Settings)
	if err != nil {
		return Summary{}, fiscal.Internal(err, "budget code table")
	}
	def := definitions[req.Name]
	cols := def.columns(&req)
	meta := Meta{Report: def.title(&req), Municipality: m.Name, Generated: e.Clock.Now()}
	if req.Name == Arrears {
		meta.Period = "la " + req.AsOf.String()
	} else {
		meta.Period = req.From.String() + " – " + req.To.String()
	}
	var s sink
	switch req.Format {
	case XLSX:
		s = newXLSX(w)
	case PDF:
		s = newPDF(w, e.PDFMaxRows)
	default:
		s = newCSV(w)
	}
	out := &output{ctx: ctx, sink: s, tot: newTotaller(cols), progress: e.Progress, every: e.ProgressEvery}
	if out.every <= 0 {
		out.every = 100_000
	}
	if err := s.begin(meta, cols); err != nil {
		return Summary{}, err
	}
	if err := def.run(ctx, sources{e.Source, e.Reconciliation}, &req, codes, out.emit, out.tot.set); err != nil {
		if xs, ok := s.(*xlsxSink); ok && xs.f != nil {
			xs.f.Close()
		}
		return Summary{Rows: out.rows}, err
	}
	if err := s.totals(out.tot.row()); err != nil {
		return Summary{Rows: out.rows}, err
	}
	if err := s.close(); err != nil {
		return Summary{Rows: out.rows}, err
	}
	if e.Progress != nil {
		e.Progress(out.rows)
	}
	return Summary{Rows: out.rows}, nil
}

// output passes rows to the sink, adds them up and reports progress.
type output struct {
	ctx      context.Context
	sink     sink
	tot      *totaller
	rows     int64
	progress func(int64)
	every    int64
}

func (o *output) emit(cells []any) error {
	if o.rows%1024 == 0 {
		if err := o.ctx.Err(); err != nil {
			return err
		}
	}
	if err := o.tot.add(cells); err != nil {
		return fiscal.Internal(err, "report total")
	}
	if err := o.sink.row(cells); err != nil {
		return err
	}
	o.rows++
	if o.progress != nil && o.rows%o.every == 0 {
		o.progress(o.rows)
	}
	return nil
}

// sources are what the reports read: the ledger, and the card
// reconciliation (nil when not configured).
type sources struct {
	fiscal.ReportSource
	recon fiscal.ReconciliationSource
}

// definition is one report: its title, columns and how its rows are made.
type definition struct {
	title   func(r *Request) string
	columns func(r *Request) []Column
	// run reads the source and emits the rows; total sets a TOTAL cell
	// that is not a sum (a median over all rows).
	run func(ctx context.Context, src sources, r *Request, codes CodeTable, emit func([]any) error, total func(col int, v any)) error
}

var definitions = map[string]definition{
	Collections: {collectionsTitle, collectionColumns, runCollections},
	Journal:     {func(*Request) string { return "Jurnalul încasărilor și restituirilor" }, func(*Request) []Column { return JournalColumns }, runJournal},
	Arrears:     {func(*Request) string { return "Restanțe pe contribuabili și impozite, cu majorări de întârziere" }, func(*Request) []Column { return ArrearsColumns }, runArrears},
	Bonuses:     {func(*Request) string { return "Bonificații acordate pentru plata anticipată" }, func(*Request) []Column { return BonusColumns }, runBonuses},
	SLA:         {func(*Request) string { return "Termene de soluționare a cererilor (SLA)" }, func(*Request) []Column { return SLAColumns }, runSLA},
	Reconciliation: {func(*Request) string { return "Diferențe la reconcilierea plăților cu cardul" },
		func(*Request) []Column { return ReconciliationColumns }, runReconciliation},
}

// Columns returns the columns of a report (after Validate).
func Columns(r *Request) []Column { return definitions[r.Name].columns(r) }

// ---- collections

func collectionsTitle(r *Request) string {
	switch r.Group {
	case ByDay:
		return "Încasări pe zile și coduri bugetare"
	case ByMonth:
		return "Încasări pe luni și coduri bugetare"
	}
	return "Încasări pe coduri bugetare"
}

func collectionColumns(r *Request) []Column {
	var cols []Column
	switch r.Group {
	case ByDay:
		cols = append(cols, Column{Key: "day", Header: "Data", Kind: Date, PDF: true})
	case ByMonth:
		cols = append(cols, Column{Key: "month", Header: "Luna", Kind: Text, PDF: true, Width: 10})
	}
	return append(cols,
		Column{Key: "budget_code", Header: "Cod bugetar", Kind: Text, PDF: true, Width: 14},
		Column{Key: "treasury_account", Header: "Cont trezorerie", Kind: Text, Width: 14},
		Column{Key: "revenue", Header: "Venit", Kind: Text, PDF: r.Group == ByBudgetCode, Width: 48},
		Column{Key: "card", Header: "Card (lei)", Kind: Money, Sum: true, PDF: true},
		Column{Key: "cash", Header: "Numerar (lei)", Kind: Money, Sum: true, PDF: true},
		Column{Key: "received", Header: "Total încasat (lei)", Kind: Money, Sum: true, PDF: true},
		Column{Key: "refunds_card", Header: "Restituiri card (lei)", Kind: Money, Sum: true, PDF: true},
		Column{Key: "refunds_cash", Header: "Restituiri numerar (lei)", Kind: Money, Sum: true, PDF: true},
		Column{Key: "net", Header: "Net (lei)", Kind: Money, Sum: true, PDF: true},
	)
}

// collectionKey is a row of the collections report.
type collectionKey struct {
	period string // day or month; "" when grouped by code only
	code   string
}

type collectionSums struct{ card, cash, refCard, refCash money.Bani }

func runCollections(ctx context.Context, src sources, r *Request, codes CodeTable, emit func([]any) error, _ func(int, any)) error {
	// The store has summed by day, code, kind, method and source: at most
	// days × codes × a few lines, so the regrouping fits in a map.
	sums := map[collectionKey]*collectionSums{}
	if r.Group == ByBudgetCode {
		for _, c := range codes.sorted() {
			sums[collectionKey{code: c}] = &collectionSums{}
		}
	}
	err := src.EachCollection(ctx, r.From, r.To, func(l *fiscal.CollectionLine) error {
		k := collectionKey{code: l.BudgetCode}
		switch {
		case l.Source == fiscal.SourceCredit || l.Source == fiscal.SourceCreditRefund:
			k.code = CreditCode
		case l.DebtKind == fiscal.DebtLateFee && codes.LateFeeCode != "":
			k.code = codes.LateFeeCode
		}
		switch r.Group {
		case ByDay:
			k.period = l.Day.String()
		case ByMonth:
			k.period = l.Day.String()[:7]
		}
		s := sums[k]
		if s == nil {
			s = &collectionSums{}
			sums[k] = s
		}
		card := l.Method == fiscal.MethodCard
		var to *money.Bani
		amount := l.Amount
		switch {
		case l.Source == fiscal.SourceRefund || l.Source == fiscal.SourceCreditRefund:
			to, amount = &s.refCash, -amount
			if card {
				to = &s.refCard
			}
		case card:
			to = &s.card
		default:
			to = &s.cash
		}
		var err error
		if *to, err = money.Add(*to, amount); err != nil {
			return fiscal.Internal(err, "collections sum")
		}
		return nil
	})
	if err != nil {
		return err
	}
	keys := make([]collectionKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].period != keys[j].period {
			return keys[i].period < keys[j].period
		}
		return keys[i].code < keys[j].code
	})
	for _, k := range keys {
		s := sums[k]
		c := codes.lookup(k.code)
		var cells []any
		switch r.Group {
		case ByDay:
			d, _ := civil.Parse(k.period)
			cells = append(cells, d)
		case ByMonth:
			cells = append(cells, k.period)
		}
		received, err := money.Sum(s.card, s.cash)
		if err != nil {
			return fiscal.Internal(err, "collections sum")
		}
		net, err := money.Sum(received, -s.refCard, -s.refCash)
		if err != nil {
			return fiscal.Internal(err, "collections sum")
		}
		cells = append(cells, c.Code, c.Account, c.Revenue, s.card, s.cash, received, s.refCard, s.refCash, net)
		if err := emit(cells); err != nil {
			return err
		}
	}
	return nil
}

// ---- journal

// JournalColumns are the columns of the journal of money movements: every
// field of payments, allocations, credit entries and debts that accountants
// need (TestJournalCoversLedger keeps it so).
var JournalColumns = []Column{
	{Key: "day", Header: "Data", Kind: Date, PDF: true, Sources: []string{"allocations.effective_on", "credit_entries.effective_on"}},
	{Key: "source", Header: "Tip", Kind: Text, PDF: true, Width: 12, Sources: []string{"allocations.source", "credit_entries.source"}},
	{Key: "line_id", Header: "Nr. linie", Kind: Int, Sources: []string{"allocations.id", "credit_entries.id"}},
	{Key: "payment_id", Header: "Plata", Kind: Int, PDF: true, Sources: []string{"payments.id", "allocations.payment_id", "credit_entries.payment_id"}},
	{Key: "refund_id", Header: "Restituirea", Kind: Int, Sources: []string{"allocations.refund_id", "credit_entries.refund_id"}},
	{Key: "method", Header: "Metoda", Kind: Text, PDF: true, Width: 8, Sources: []string{"payments.method"}},
	{Key: "provider", Header: "Procesator", Kind: Text, Width: 9, Sources: []string{"payments.provider"}},
	{Key: "provider_reference", Header: "Referința procesatorului", Kind: Text, Width: 30, Sources: []string{"payments.provider_reference"}},
	{Key: "payment_status", Header: "Starea plății", Kind: Text, Width: 11, Sources: []string{"payments.status"}},
	{Key: "currency", Header: "Moneda", Kind: Text, Width: 7, Sources: []string{"payments.currency"}},
	{Key: "paid_on", Header: "Data plății", Kind: Date, Sources: []string{"payments.paid_on"}},
	{Key: "receipt", Header: "Chitanța", Kind: Text, PDF: true, Width: 18, Sources: []string{"payments.receipt_series", "payments.receipt_year", "payments.receipt_number"}},
	{Key: "payment_amount", Header: "Suma plății (lei)", Kind: Money, Sources: []string{"payments.amount_bani"}},
	{Key: "payment_refunded", Header: "Restituit din plată (lei)", Kind: Money, Sources: []string{"payments.refunded_bani"}},
	{Key: "taxpayer_id", Header: "Contribuabil", Kind: Int, Sources: []string{"payments.taxpayer_id", "allocations.taxpayer_id", "credit_entries.taxpayer_id", "debts.taxpayer_id"}},
	{Key: "taxpayer_name", Header: "Nume", Kind: Text, PDF: true, Width: 28, Sources: []string{"taxpayers.name"}},
	{Key: "taxpayer_ident", Header: "CNP/CUI", Kind: Text, Width: 15, Sources: []string{"taxpayers.cnp", "taxpayers.cui"}},
	{Key: "debt_id", Header: "Debit", Kind: Int, Sources: []string{"allocations.debt_id", "debts.id"}},
	{Key: "parent_debt_id", Header: "Debit principal", Kind: Int, Sources: []string{"debts.parent_debt_id"}},
	{Key: "assessment_id", Header: "Decizia de impunere", Kind: Int, Sources: []string{"debts.assessment_id"}},
	{Key: "debt_kind", Header: "Felul debitului", Kind: Text, Width: 11, Sources: []string{"debts.kind"}},
	{Key: "tax_type", Header: "Impozit", Kind: Text, PDF: true, Width: 10, Sources: []string{"debts.tax_type"}},
	{Key: "year", Header: "An", Kind: Int, Sources: []string{"debts.year"}},
	{Key: "object_id", Header: "Obiect", Kind: Int, Sources: []string{"debts.object_id"}},
	{Key: "installment", Header: "Rata", Kind: Int, Sources: []string{"debts.installment"}},
	{Key: "due_date", Header: "Scadența", Kind: Date, Sources: []string{"debts.due_date"}},
	{Key: "debt_amount", Header: "Suma debitului (lei)", Kind: Money, Sources: []string{"debts.amount_bani"}},
	{Key: "budget_code", Header: "Cod bugetar", Kind: Text, PDF: true, Width: 14, Sources: []string{"debts.budget_code"}},
	{Key: "amount", Header: "Suma (lei)", Kind: Money, Sum: true, PDF: true, Sources: []string{"allocations.amount_bani", "credit_entries.amount_bani"}},
}

func runJournal(ctx context.Context, src sources, r *Request, _ CodeTable, emit func([]any) error, _ func(int, any)) error {
	cells := make([]any, len(JournalColumns))
	return src.EachJournalLine(ctx, r.From, r.To, func(l *fiscal.JournalLine) error {
		var receipt any
		if l.ReceiptSeries != nil && l.ReceiptYear != nil && l.ReceiptNumber != nil {
			receipt = receiptNumber(*l.ReceiptSeries, *l.ReceiptYear, *l.ReceiptNumber)
		}
		c := cells[:0]
		c = append(c, l.Day, l.Source, l.LineID, l.PaymentID, optInt(l.RefundID), l.Method, l.Provider, optText(l.ProviderReference),
			l.Status, l.Currency, optDate(l.PaidOn), receipt, l.PaymentAmount, l.PaymentRefunded, l.TaxpayerID, l.TaxpayerName, l.TaxpayerIdent,
			optInt(l.DebtID), optInt(l.ParentDebtID), optInt(l.AssessmentID), optText(l.DebtKind), optText(l.TaxType), optInt(l.Year),
			optInt(l.ObjectID), optInt(l.Installment), optDate(l.DueDate), optMoney(l.DebtAmount), optText(l.BudgetCode), l.Amount)
		return emit(c)
	})
}

// receiptNumber formats a receipt number as the receipts print it,
// "CASA-2026-000123" (without fmt: it runs for every line of the journal).
func receiptNumber(series string, year int, n int64) string {
	b := make([]byte, 0, len(series)+16)
	b = append(b, series...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(year), 10)
	b = append(b, '-')
	digits := strconv.AppendInt(nil, n, 10)
	for i := len(digits); i < 6; i++ {
		b = append(b, '0')
	}
	return string(append(b, digits...))
}

// ---- arrears

// ArrearsColumns are the columns of the arrears report: one row per
// taxpayer, tax and budget code.
var ArrearsColumns = []Column{
	{Key: "taxpayer_id", Header: "Contribuabil", Kind: Int, Sources: []string{"debts.taxpayer_id"}},
	{Key: "taxpayer_name", Header: "Nume", Kind: Text, PDF: true, Width: 28},
	{Key: "taxpayer_ident", Header: "CNP/CUI", Kind: Text, PDF: true, Width: 15},
	{Key: "tax_type", Header: "Impozit", Kind: Text, PDF: true, Width: 10, Sources: []string{"debts.tax_type"}},
	{Key: "budget_code", Header: "Cod bugetar", Kind: Text, PDF: true, Width: 14, Sources: []string{"debts.budget_code"}},
	{Key: "debts", Header: "Nr. debite", Kind: Int, Sum: true, Sources: []string{"debts.id"}},
	{Key: "years", Header: "Ani", Kind: Text, Width: 12, Sources: []string{"debts.year"}},
	{Key: "oldest_due", Header: "Cea mai veche scadență", Kind: Date, PDF: true, Sources: []string{"debts.due_date"}},
	{Key: "outstanding", Header: "Debit restant (lei)", Kind: Money, Sum: true, PDF: true, Sources: []string{"debts.amount_bani", "allocations.amount_bani"}},
	{Key: "late_fees", Header: "Majorări de întârziere (lei)", Kind: Money, Sum: true, PDF: true},
	{Key: "total", Header: "Total de plată (lei)", Kind: Money, Sum: true, PDF: true},
}

func runArrears(ctx context.Context, src sources, r *Request, _ CodeTable, emit func([]any) error, _ func(int, any)) error {
	// Rows come ordered by taxpayer, tax and code: a group ends when the key
	// changes, so only the current group is held.
	type key struct {
		taxpayer     int64
		tax, code    string
		name, ident  string
		debts        int64
		firstY, last int
		oldest       civil.Date
		out, fees    money.Bani
	}
	var g *key
	flush := func() error {
		if g == nil {
			return nil
		}
		years := fmt.Sprint(g.firstY)
		if g.last != g.firstY {
			years = fmt.Sprintf("%d-%d", g.firstY, g.last)
		}
		total, err := money.Add(g.out, g.fees)
		if err != nil {
			return fiscal.Internal(err, "arrears sum")
		}
		return emit([]any{g.taxpayer, g.name, g.ident, g.tax, g.code, g.debts, years, g.oldest, g.out, g.fees, total})
	}
	err := src.EachArrears(ctx, r.AsOf, func(d *fiscal.ArrearsDebt) error {
		if g == nil || g.taxpayer != d.TaxpayerID || g.tax != d.TaxType || g.code != d.BudgetCode {
			if err := flush(); err != nil {
				return err
			}
			g = &key{taxpayer: d.TaxpayerID, tax: d.TaxType, code: d.BudgetCode, name: d.TaxpayerName, ident: d.TaxpayerIdent, oldest: d.DueDate, firstY: d.Year, last: d.Year}
		}
		g.debts++
		g.firstY, g.last = min(g.firstY, d.Year), max(g.last, d.Year)
		if d.DueDate.Before(g.oldest) {
			g.oldest = d.DueDate
		}
		var err error
		if g.out, err = money.Add(g.out, d.Outstanding); err == nil {
			g.fees, err = money.Add(g.fees, d.LateFees)
		}
		if err != nil {
			return fiscal.Internal(err, "arrears sum")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// ---- bonuses

// BonusColumns are the columns of the bonuses report.
var BonusColumns = []Column{
	{Key: "day", Header: "Data", Kind: Date, PDF: true},
	{Key: "payment_id", Header: "Plata", Kind: Int, PDF: true},
	{Key: "method", Header: "Metoda", Kind: Text, Width: 8},
	{Key: "taxpayer_id", Header: "Contribuabil", Kind: Int},
	{Key: "taxpayer_name", Header: "Nume", Kind: Text, PDF: true, Width: 28},
	{Key: "taxpayer_ident", Header: "CNP/CUI", Kind: Text, PDF: true, Width: 15},
	{Key: "tax_type", Header: "Impozit", Kind: Text, PDF: true, Width: 10},
	{Key: "year", Header: "An", Kind: Int, PDF: true},
	{Key: "budget_code", Header: "Cod bugetar", Kind: Text, PDF: true, Width: 14},
	{Key: "debts", Header: "Nr. debite", Kind: Int},
	{Key: "bonus", Header: "Bonificație (lei)", Kind: Money, Sum: true, PDF: true},
}

func runBonuses(ctx context.Context, src sources, r *Request, _ CodeTable, emit func([]any) error, _ func(int, any)) error {
	return src.EachBonus(ctx, r.From, r.To, func(b *fiscal.BonusLine) error {
		return emit([]any{b.Day, b.PaymentID, b.Method, b.TaxpayerID, b.TaxpayerName, b.TaxpayerIdent, b.TaxType, int64(b.Year), b.BudgetCode, int64(b.Debts), b.Amount})
	})
}

// ---- service level

// SLAColumns are the columns of the service-level report: one row per
// case type.
var SLAColumns = []Column{
	{Key: "case_type", Header: "Tipul cererii", Kind: Text, PDF: true, Width: 28},
	{Key: "received", Header: "Primite", Kind: Int, Sum: true, PDF: true},
	{Key: "closed", Header: "Soluționate", Kind: Int, Sum: true, PDF: true},
	{Key: "closed_on_time", Header: "La termen", Kind: Int, Sum: true, PDF: true},
	{Key: "closed_late", Header: "Cu depășire", Kind: Int, Sum: true, PDF: true},
	{Key: "open", Header: "Deschise la sfârșit", Kind: Int, Sum: true, PDF: true},
	{Key: "open_breached", Header: "Deschise, termen depășit", Kind: Int, Sum: true, PDF: true},
	{Key: "median_days", Header: "Mediana zilelor lucrătoare", Kind: Int, PDF: true},
	{Key: "p90_days", Header: "Percentila 90 (zile lucrătoare)", Kind: Int, PDF: true},
}

// slaStats gathers one case type's figures; the durations of the closed
// cases are kept (one int each) for the percentiles.
type slaStats struct {
	received, closed, onTime, late, open, openBreached int64
	days                                               []int
}

// percentile is the nearest-rank percentile p (0-100) of sorted values; nil
// for none.
func percentile(sorted []int, p int) any {
	if len(sorted) == 0 {
		return nil
	}
	k := (p*len(sorted) + 99) / 100 // ceil(p/100 × n)
	return int64(sorted[max(k, 1)-1])
}

func runSLA(ctx context.Context, src sources, r *Request, _ CodeTable, emit func([]any) error, total func(int, any)) error {
	byType := map[string]*slaStats{}
	var all []int
	err := src.EachSLACase(ctx, r.From, r.To, func(c *fiscal.SLACase) error {
		s := byType[c.Type]
		if s == nil {
			s = &slaStats{}
			byType[c.Type] = s
		}
		if !c.SubmittedOn.Before(r.From) {
			s.received++
		}
		if c.ClosedOn != nil {
			s.closed++
			if c.ClosedOn.After(c.DueOn) {
				s.late++
			} else {
				s.onTime++
			}
			s.days = append(s.days, c.WorkingDaysToClose)
			all = append(all, c.WorkingDaysToClose)
		} else {
			s.open++
			if c.State == fiscal.SLABreached {
				s.openBreached++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		s := byType[t]
		sort.Ints(s.days)
		if err := emit([]any{t, s.received, s.closed, s.onTime, s.late, s.open, s.openBreached, percentile(s.days, 50), percentile(s.days, 90)}); err != nil {
			return err
		}
	}
	sort.Ints(all)
	total(7, percentile(all, 50))
	total(8, percentile(all, 90))
	return nil
}

// ---- card reconciliation

// ReconciliationColumns are the columns of the card reconciliation report:
// one row per fiscal.ReconciliationDifference (the differences carry no
// dates: the period is the one asked for).
var ReconciliationColumns = []Column{
	{Key: "kind", Header: "Tip", Kind: Text, PDF: true, Width: 17},
	{Key: "kind_label", Header: "Diferența", Kind: Text, Width: 36},
	{Key: "payment_id", Header: "Plata", Kind: Int, PDF: true},
	{Key: "payment_intent_id", Header: "PaymentIntent", Kind: Text, PDF: true, Width: 30},
	{Key: "transaction_ids", Header: "Tranzacții procesator", Kind: Text, Width: 40},
	{Key: "ours", Header: "Suma noastră (lei)", Kind: Money, Sum: true, PDF: true},
	{Key: "theirs", Header: "Suma procesatorului (lei)", Kind: Money, Sum: true, PDF: true},
	{Key: "fee", Header: "Comision (lei)", Kind: Money, Sum: true, PDF: true},
	{Key: "difference", Header: "Diferență (lei)", Kind: Money, Sum: true, PDF: true},
	{Key: "detail", Header: "Observații", Kind: Text, Width: 48},
}

// reconciliationLabels name the kinds of difference for accountants.
var reconciliationLabels = map[string]string{
	fiscal.DiffMissingOurs:     "Încasare la procesator fără plată la noi",
	fiscal.DiffMissingProvider: "Plată la noi fără încasare la procesator",
	fiscal.DiffAmount:          "Sumă încasată diferită",
	fiscal.DiffRefund:          "Restituire diferită",
	fiscal.DiffCurrency:        "Altă monedă decât RON",
	fiscal.DiffFee:             "Comision reținut de procesator",
	fiscal.DiffProviderOther:   "Altă mișcare a procesatorului",
}

// reconciliationDifference is the processor's amount less ours; a fee line
// is not a difference of amounts (its fee is in its own column), so 0.
func reconciliationDifference(d *fiscal.ReconciliationDifference) money.Bani {
	if d.Kind == fiscal.DiffFee {
		return 0
	}
	return d.Theirs - d.Ours
}

func runReconciliation(ctx context.Context, src sources, r *Request, _ CodeTable, emit func([]any) error, _ func(int, any)) error {
	diffs, err := src.recon.ReconciliationDifferences(ctx, r.From, r.To)
	if err != nil {
		return err
	}
	for i := range diffs {
		d := &diffs[i]
		label := reconciliationLabels[d.Kind]
		if label == "" {
			label = d.Kind
		}
		if err := emit([]any{d.Kind, label, optInt(d.PaymentID), d.PaymentIntentID, strings.Join(d.TransactionIDs, " "),
			d.Ours, d.Theirs, d.Fee, reconciliationDifference(d), d.Detail}); err != nil {
			return err
		}
	}
	return nil
}
