package fiscal

import (
	"context"
	"io"

	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// This file is the row source of the accountants' reports (package reports):
// the store reads the ledger row by row (never a whole table in memory) and
// hands each row to a callback; package reports lays the rows out as CSV,
// XLSX or PDF. Every method is for the accountant and admin roles
// (EFORBIDDEN otherwise) and reads the actor's municipality only. A callback
// error stops the reading and is returned as it is (a client that went away,
// a cancelled context).

// Money-movement sources of a collection or journal line.
const (
	SourcePayment = "payment" // money received and applied to a debt
	SourceRefund  = "refund"  // money given back (negative)
	SourceCredit  = "credit"  // money received and kept as the taxpayer's credit
	// SourceCreditRefund is money given back from the taxpayer's credit (negative).
	SourceCreditRefund = "credit_refund"
)

// CollectionLine is the money of one day, budget code, debt kind, payment
// method and source, summed by the store.
type CollectionLine struct {
	Day        civil.Date `db:"day"`
	BudgetCode string     `db:"budget_code"` // "" for credit lines
	DebtKind   string     `db:"debt_kind"`   // principal, fine, late_fee, adjustment; "" for credit
	Method     string     `db:"method"`      // card or cash
	Source     string     `db:"source"`      // SourcePayment, SourceRefund, SourceCredit or SourceCreditRefund
	Amount     money.Bani `db:"amount_bani"` // refunds are negative
}

// JournalLine is one movement of money of a payment: a part applied to a
// debt, a refund taken back from a debt, or a part kept as (or refunded
// from) the taxpayer's credit. Debt fields are empty for credit lines.
type JournalLine struct {
	Day               civil.Date  `db:"effective_on"`
	Source            string      `db:"source"`
	LineID            int64       `db:"line_id"`
	PaymentID         int64       `db:"payment_id"`
	RefundID          *int64      `db:"refund_id"`
	Method            string      `db:"method"`
	Provider          string      `db:"provider"`
	ProviderReference *string     `db:"provider_reference"`
	Status            string      `db:"status"`
	Currency          string      `db:"currency"`
	PaidOn            *civil.Date `db:"paid_on"`
	PaymentAmount     money.Bani  `db:"payment_amount_bani"`
	PaymentRefunded   money.Bani  `db:"refunded_bani"`
	ReceiptSeries     *string     `db:"receipt_series"`
	ReceiptYear       *int        `db:"receipt_year"`
	ReceiptNumber     *int64      `db:"receipt_number"`
	TaxpayerID        int64       `db:"taxpayer_id"`
	TaxpayerName      string      `db:"taxpayer_name"`
	TaxpayerIdent     string      `db:"taxpayer_ident"`
	DebtID            *int64      `db:"debt_id"`
	ParentDebtID      *int64      `db:"parent_debt_id"`
	AssessmentID      *int64      `db:"assessment_id"`
	DebtKind          *string     `db:"debt_kind"`
	TaxType           *string     `db:"tax_type"`
	Year              *int        `db:"year"`
	ObjectID          *int64      `db:"object_id"`
	Installment       *int        `db:"installment"`
	DueDate           *civil.Date `db:"due_date"`
	DebtAmount        *money.Bani `db:"debt_amount_bani"`
	BudgetCode        *string     `db:"budget_code"`
	Amount            money.Bani  `db:"amount_bani"`
}

// ArrearsDebt is one debt overdue and not fully paid as of a date, with the
// late-payment surcharges (majorări, CPF art. 183) on it as of that date:
// materialised fees still unpaid plus the fee accrued since.
type ArrearsDebt struct {
	TaxpayerID    int64      `db:"taxpayer_id"`
	TaxpayerName  string     `db:"taxpayer_name"`
	TaxpayerIdent string     `db:"taxpayer_ident"`
	TaxpayerKind  string     `db:"taxpayer_kind"`
	DebtID        int64      `db:"id"`
	Kind          string     `db:"kind"`
	TaxType       string     `db:"tax_type"`
	Year          int        `db:"year"`
	Installment   int        `db:"installment"`
	DueDate       civil.Date `db:"due_date"`
	BudgetCode    string     `db:"budget_code"`
	Amount        money.Bani `db:"amount_bani"`
	Paid          money.Bani `db:"paid_bani"`
	// Outstanding is Amount − Paid as of the date (never below zero).
	Outstanding money.Bani `db:"-"`
	// LateFees is what is owed in surcharges on this debt as of the date.
	LateFees money.Bani `db:"-"`
}

// BonusLine is the early-payment bonus (art. 462, 467, 472) a payment earned
// on a tax and year, on one day: positive when granted, negative when a
// refund revoked it.
type BonusLine struct {
	Day           civil.Date `db:"effective_on"`
	PaymentID     int64      `db:"payment_id"`
	Method        string     `db:"method"`
	TaxpayerID    int64      `db:"taxpayer_id"`
	TaxpayerName  string     `db:"taxpayer_name"`
	TaxpayerIdent string     `db:"taxpayer_ident"`
	TaxType       string     `db:"tax_type"`
	Year          int        `db:"year"`
	BudgetCode    string     `db:"budget_code"`
	Debts         int        `db:"debts"`
	Amount        money.Bani `db:"amount_bani"`
}

// SLACase is a case's service-level position for the SLA report, taken on
// the report's last day (or today, if earlier): its type, when it was
// received, when it was closed (nil if not by then), its due date and state
// then, and the working days it took to close (submission to decision, less
// the working days it waited for the taxpayer; -1 while open).
type SLACase struct {
	Type               string
	SubmittedOn        civil.Date
	ClosedOn           *civil.Date
	DueOn              civil.Date
	State              string
	WorkingDaysToClose int
}

// ReportSource reads the ledger for the accountants' reports. Every method
// returns EFORBIDDEN unless the actor is an accountant or an admin (or the
// system), and reads only the actor's municipality.
type ReportSource interface {
	// ReportMunicipality is the actor's municipality (the report's header).
	ReportMunicipality(ctx context.Context) (*Municipality, error)
	// EachCollection calls fn with the money received and refunded from
	// from to to inclusive (by the day it took effect), summed by day,
	// budget code, debt kind, method and source, ordered by day.
	EachCollection(ctx context.Context, from, to civil.Date, fn func(*CollectionLine) error) error
	// EachJournalLine calls fn with every movement of money from from to to
	// inclusive, ordered by day and line.
	EachJournalLine(ctx context.Context, from, to civil.Date, fn func(*JournalLine) error) error
	// EachArrears calls fn with every debt overdue (due before asOf) and
	// not paid as of asOf, or with surcharges unpaid, ordered by taxpayer,
	// tax type, budget code and due date.
	EachArrears(ctx context.Context, asOf civil.Date, fn func(*ArrearsDebt) error) error
	// EachBonus calls fn with the bonuses granted or revoked from from to to
	// inclusive, ordered by day and payment.
	EachBonus(ctx context.Context, from, to civil.Date, fn func(*BonusLine) error) error
	// EachSLACase calls fn with every case submitted on or before to and
	// not closed before from, placed against its target as of to (or
	// today, if earlier).
	EachSLACase(ctx context.Context, from, to civil.Date, fn func(*SLACase) error) error
}

// ReconciliationSource gives the card reconciliation report its rows
// (implemented by payments.Service; see ReconciliationService).
type ReconciliationSource interface {
	// ReconciliationDifferences lists the differences between our card
	// payments and the processor's stored transactions of [from, to];
	// EFORBIDDEN unless accountant or admin (or the system).
	ReconciliationDifferences(ctx context.Context, from, to civil.Date) ([]ReconciliationDifference, error)
}

// ReportRequest names an accountants' export and its parameters (contract:
// GET /api/v1/reports/{name}?from=&to=&as_of=&group=&format=).
type ReportRequest struct {
	Name   string // collections, journal, arrears, bonuses, sla, reconciliation
	Format string // csv (default), xlsx or pdf
	Group  string // collections: budget_code (default), day or month
	From   civil.Date
	To     civil.Date
	AsOf   civil.Date
}

// ReportService writes the accountants' exports (implemented by package
// reports over a ReportSource).
type ReportService interface {
	// ReportFile checks the request (EINVALID naming the field, defaults
	// filled in) and returns the download's file name and content type.
	ReportFile(r *ReportRequest) (filename, contentType string, err error)
	// ExportReport streams the report to w and returns the rows written.
	// Refusals (EINVALID, EUNAUTHORIZED, EFORBIDDEN unless accountant or
	// admin, ETOOLARGE for a PDF over its limit) come before anything is
	// written; an error after the first write means the output is
	// incomplete and must be discarded. ctx ends the export.
	ExportReport(ctx context.Context, r ReportRequest, w io.Writer) (rows int64, err error)
}
