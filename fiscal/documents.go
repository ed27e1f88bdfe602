package fiscal

import (
	"context"
	"io"
	"strings"
	"time"
	"unicode"

	"fiscald/calc"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// Document types: each has its own gapless number series per municipality
// and year.
const (
	// DocFiscalClearance is the certificat de atestare fiscală (CPF art. 159).
	DocFiscalClearance = "fiscal_clearance"
	// DocVehicleRegistration proves a vehicle's entry in the fiscal record.
	DocVehicleRegistration = "vehicle_registration"
	// DocVehicleDeregistration proves a vehicle's removal from the record.
	DocVehicleDeregistration = "vehicle_deregistration"
	// DocTaxDecision is the decizie de impunere of an assessment.
	DocTaxDecision = "tax_decision"
	// DocReceipt is a payment's receipt (chitanță), numbered by the
	// receipts' own series.
	DocReceipt = "receipt"
)

// ClearanceValidityDays is how long a fiscal clearance certificate is valid,
// in calendar days from the issue date (local-taxes.md §6).
const ClearanceValidityDays = 30

// DocumentTitles are the Romanian names printed on each document type.
var DocumentTitles = map[string]string{
	DocFiscalClearance:       "Certificat de atestare fiscală",
	DocVehicleRegistration:   "Dovadă de înregistrare a mijlocului de transport în evidența fiscală",
	DocVehicleDeregistration: "Dovadă de scoatere din evidența fiscală a mijlocului de transport",
	DocTaxDecision:           "Decizie de impunere",
	DocReceipt:               "Chitanță",
}

// Document is an issued document: what the holder's list shows.
type Document struct {
	ID               int64       `json:"id" db:"id"`
	MunicipalityID   int64       `json:"-" db:"municipality_id"`
	Type             string      `json:"type" db:"type"`
	Title            string      `json:"title" db:"-"`
	Number           string      `json:"number" db:"number"`
	TaxpayerID       int64       `json:"taxpayer_id" db:"taxpayer_id"`
	IssuedOn         civil.Date  `json:"issued_on" db:"issued_on"`
	ValidUntil       *civil.Date `json:"valid_until" db:"valid_until"`
	IssuedAt         time.Time   `json:"issued_at" db:"issued_at"`
	VerificationCode string      `json:"verification_code" db:"verification_code"`
	SHA256           string      `json:"sha256" db:"sha256"`
	Size             int64       `json:"size" db:"size"`
	CaseID           *int64      `json:"case_id,omitempty" db:"case_id"`
	PaymentID        *int64      `json:"payment_id,omitempty" db:"payment_id"`
	AssessmentID     *int64      `json:"assessment_id,omitempty" db:"assessment_id"`
	VehicleID        *int64      `json:"vehicle_id,omitempty" db:"vehicle_id"`
	PDFURL           string      `json:"pdf_url" db:"-"`
}

// CertificateRequest is the body of POST /api/v1/certificates.
type CertificateRequest struct {
	Type       string `json:"type" validate:"required,oneof=fiscal_clearance"`
	TaxpayerID int64  `json:"taxpayer_id" validate:"required,gt=0"`
	// Purpose is written in the case when one must be opened; optional.
	Purpose string `json:"purpose,omitempty" validate:"max=300"`
}

// CertificateResult answers a certificate request: the document when it was
// issued at once (Status "issued", HTTP 201), else the case opened for it
// (Status "case_opened", HTTP 202) with the reason.
type CertificateResult struct {
	Status           string      `json:"status"`
	ID               int64       `json:"id,omitempty"`
	Number           string      `json:"number,omitempty"`
	IssuedOn         *civil.Date `json:"issued_on,omitempty"`
	ValidUntil       *civil.Date `json:"valid_until,omitempty"`
	VerificationCode string      `json:"verification_code,omitempty"`
	PDFURL           string      `json:"pdf_url,omitempty"`
	CaseID           int64       `json:"case_id,omitempty"`
	CaseNumber       string      `json:"case_number,omitempty"`
	Reason           string      `json:"reason,omitempty"`
}

// Certificate request outcomes.
const (
	CertificateIssued     = "issued"
	CertificateCaseOpened = "case_opened"
)

// DocumentVerification is what anybody holding a verification code learns:
// never the debts, never the full name.
type DocumentVerification struct {
	// Valid is true when the document is authentic, not revoked and, if it
	// has a validity, not expired.
	Valid bool `json:"valid"`
	// Status is "valid", "expired" or "revoked"; authentic in every case.
	Status       string      `json:"status"`
	Type         string      `json:"type"`
	Title        string      `json:"title"`
	Number       string      `json:"number"`
	IssuedOn     civil.Date  `json:"issued_on"`
	ValidUntil   *civil.Date `json:"valid_until"`
	Holder       string      `json:"holder"`
	SHA256       string      `json:"sha256"`
	Municipality string      `json:"municipality"`
}

// DocumentService issues, lists, serves and verifies documents.
type DocumentService interface {
	// RequestCertificate issues a fiscal clearance certificate at once when
	// the data allow it, else opens a fiscal_certificate case. ENOTFOUND for
	// a taxpayer the actor may not act for, EUNAVAILABLE when documents are
	// not configured.
	RequestCertificate(ctx context.Context, in *CertificateRequest) (*CertificateResult, error)
	// DocumentPDF opens a document's PDF for its holder or the staff of its
	// municipality (anyone else: ENOTFOUND).
	DocumentPDF(ctx context.Context, id int64) (*Document, io.ReadCloser, error)
	// TaxpayerDocuments lists a taxpayer's documents, newest first.
	TaxpayerDocuments(ctx context.Context, taxpayerID int64) ([]*Document, error)
	// VerifyDocument looks a verification code up (anonymous; ENOTFOUND for
	// an unknown code).
	VerifyDocument(ctx context.Context, code string) (*DocumentVerification, error)
	// ReceiptPDF returns the signed receipt of a succeeded payment visible
	// to the actor, issuing it on first request.
	ReceiptPDF(ctx context.Context, paymentID int64) (*Document, io.ReadCloser, error)
}

// DocumentContent is everything an issued document prints. The store
// gathers it inside the issuing transaction; a DocumentProducer lays it out,
// signs it and stores the PDF.
type DocumentContent struct {
	Type             string
	Number           string
	IssuedAt         time.Time
	IssuedOn         civil.Date
	ValidUntil       *civil.Date
	VerificationCode string
	Municipality     DocumentIssuer
	Holder           DocumentHolder
	// SignerName and SignerRole are printed in the signature block.
	SignerName string
	SignerRole string
	// CaseNumber is the case the document answers, if any.
	CaseNumber string

	Clearance *ClearanceContent `json:",omitempty"`
	Vehicle   *VehicleContent   `json:",omitempty"`
	Decision  *DecisionContent  `json:",omitempty"`
	Receipt   *Receipt          `json:",omitempty"`
}

// DocumentIssuer is the issuing municipality as printed in the header.
type DocumentIssuer struct {
	Name       string
	Department string
	Address    string
}

// DocumentHolder is the person or company a document is about.
type DocumentHolder struct {
	Name    string
	Kind    TaxpayerKind
	Ident   string // "CNP 2850615350041" or "CUI 18547290"
	Address string
}

// ClearanceContent is the body of a fiscal clearance certificate: the
// exigible debts on the issue date, grouped by tax and budget code.
type ClearanceContent struct {
	AsOf    civil.Date
	Groups  []ClearanceGroup
	Total   money.Bani
	Credit  money.Bani
	Purpose string
}

// ClearanceGroup is the exigible debts of one tax (or fine) and budget code.
type ClearanceGroup struct {
	TaxType    string
	Kind       string // principal or fine
	BudgetCode string
	Lines      []ClearanceLine
	Principal  money.Bani
	LateFees   money.Bani
	Total      money.Bani
}

// ClearanceLine is one overdue debt with its late fees.
type ClearanceLine struct {
	Year        int
	Installment int
	DueDate     civil.Date
	Principal   money.Bani // outstanding
	LateFees    money.Bani
}

// VehicleContent is the body of a vehicle's proof of registration or
// deregistration.
type VehicleContent struct {
	Vehicle        Vehicle
	DisposedOn     *civil.Date
	Reason         string
	LastTaxedYear  int
	DebtsCancelled int64
}

// DecisionContent is the body of a tax decision: one assessment with the
// engine's explanation lines and the instalments.
type DecisionContent struct {
	AssessmentID int64
	TaxType      string
	Year         int
	BudgetCode   string
	Annual       money.Bani
	Bonus        money.Bani
	Lines        []calc.Line
	Installments []calc.Installment
	Vehicle      *Vehicle
	// Object describes a building or land (with the owner's share) when
	// the decision is not a vehicle's.
	Object string
}

// DocumentProducer renders an issued document, signs it and stores the PDF
// (content-addressed), returning its SHA-256 and size.
type DocumentProducer interface {
	Produce(ctx context.Context, c *DocumentContent) (sha string, size int64, err error)
}

// MaskName keeps the first letter of each word of a name and replaces the
// other letters with asterisks: "Ana Popescu" → "A** P******". Hyphens and
// spaces are kept, so "Ioana-Maria" → "I****-M****".
func MaskName(name string) string {
	var b strings.Builder
	first := true
	for _, r := range strings.TrimSpace(name) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if first {
				b.WriteRune(r)
				first = false
			} else {
				b.WriteByte('*')
			}
		default:
			b.WriteRune(r)
			first = true
		}
	}
	return b.String()
}
