package payments

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/internal/pdf"
	"fiscald/payments/stripe"
)

// Store is the persistence the payment use cases run on; internal/store
// implements it, one transaction per method (see its documentation there).
type Store interface {
	Statement(ctx context.Context, taxpayerID int64, asOf civil.Date) (*fiscal.Statement, error)
	BeginCardPayment(ctx context.Context, in *fiscal.CardPaymentInput) (*fiscal.Payment, error)
	AttachPaymentIntent(ctx context.Context, p *fiscal.Payment) error
	FailCardPayment(ctx context.Context, paymentID int64, code, message string) error
	ApplyProviderEvent(ctx context.Context, ev *fiscal.ProviderEvent) (*fiscal.WebhookResult, error)
	RecordCashPayment(ctx context.Context, in *fiscal.CashPaymentInput) (*fiscal.Payment, error)
	Payment(ctx context.Context, id int64) (*fiscal.Payment, error)
	BeginRefund(ctx context.Context, paymentID int64, in *fiscal.RefundInput) (*fiscal.Refund, *fiscal.Payment, error)
	CompleteRefund(ctx context.Context, refundID int64, providerRef string) (*fiscal.Refund, error)
	FailRefund(ctx context.Context, refundID int64, message string) error
	ReceiptData(ctx context.Context, paymentID int64) (*fiscal.Receipt, error)
	RecordProviderTransactions(ctx context.Context, in *fiscal.ReconciliationImportInput, from, to *time.Time, txns []fiscal.ProviderTransaction) (*fiscal.ReconciliationImport, error)
	ReconciliationInputs(ctx context.Context, from, to civil.Date, start, end time.Time) ([]fiscal.ReconciledPayment, []fiscal.ProviderTransaction, error)
}

// Service implements fiscal.PaymentService: the store's transactions with
// the card provider's calls between them.
type Service struct {
	Store  Store
	Stripe *stripe.Client
	Clock  fiscal.Clock
}

var _ fiscal.PaymentService = (*Service)(nil)

// NewService returns the payment service. stripe may be unconfigured (no
// key): card payments then answer EUNAVAILABLE and cash payments still work.
func NewService(store Store, sc *stripe.Client, clock fiscal.Clock) *Service {
	if clock == nil {
		clock = fiscal.SystemClock{}
	}
	return &Service{Store: store, Stripe: sc, Clock: clock}
}

// notConfigured is the problem returned for card requests without a key.
func notConfigured() error {
	return fiscal.Errorf(fiscal.EUNAVAILABLE, "card payments are not configured (STRIPE_SECRET_KEY is not set)")
}

// providerErr maps a payments/stripe error to a domain error.
func providerErr(err error, what string) error {
	switch {
	case errors.Is(err, stripe.ErrNotConfigured):
		return notConfigured()
	case errors.Is(err, stripe.ErrProvider):
		return &fiscal.Error{Code: fiscal.EUPSTREAM, Message: what + ": the card processor refused the request", Err: err}
	}
	return fiscal.Internal(err, what)
}

// Statement returns the taxpayer's account as of asOf (today by the clock when zero).
func (s *Service) Statement(ctx context.Context, taxpayerID int64, asOf civil.Date) (*fiscal.Statement, error) {
	if asOf.IsZero() {
		asOf = LocalDate(s.Clock.Now())
	}
	return s.Store.Statement(ctx, taxpayerID, asOf)
}

// CreateCardPayment records a pending payment, opens a Stripe PaymentIntent
// in RON for its amount (our payment id as metadata, an idempotency key
// derived from it) and returns it with the client secret. When Stripe's
// answer is lost (a timeout, a dropped connection, Stripe's own failure) the
// payment stays pending and the request answers 503: a retry with the same
// Idempotency-Key continues the same payment under the same Stripe key, and
// Stripe's events settle it in any case. Only a refusal by Stripe fails it.
func (s *Service) CreateCardPayment(ctx context.Context, in *fiscal.CardPaymentInput) (*fiscal.Payment, error) {
	if !s.Stripe.Configured() {
		return nil, notConfigured()
	}
	p, err := s.Store.BeginCardPayment(ctx, in)
	if err != nil {
		return nil, err
	}
	if p.Status == fiscal.PaymentFailed {
		return nil, fiscal.Errorf(fiscal.EUPSTREAM, "create the card payment: the card processor refused the request (payment %d)", p.ID)
	}
	pi, err := s.Stripe.CreatePaymentIntent(ctx, stripe.PaymentIntentParams{
		Amount:         p.Amount,
		Currency:       stripe.CurrencyRON,
		IdempotencyKey: PaymentIntentKey(p.MunicipalityID, p.ID),
		Metadata: map[string]string{"payment_id": strconv.FormatInt(p.ID, 10), "taxpayer_id": strconv.FormatInt(p.TaxpayerID, 10),
			"municipality_id": strconv.FormatInt(p.MunicipalityID, 10)},
		Description: fmt.Sprintf("Taxe și impozite locale, plata nr. %d", p.ID),
	})
	if err != nil {
		if Ambiguous(err) {
			return nil, outcomeUnknown(err, fmt.Sprintf("card payment %d", p.ID))
		}
		if ferr := s.Store.FailCardPayment(context.WithoutCancel(ctx), p.ID, "provider_error", err.Error()); ferr != nil {
			return nil, ferr
		}
		return nil, providerErr(err, "create the card payment")
	}
	if p.ProviderReference == nil {
		p.ProviderReference = &pi.ID
	}
	p.ClientSecret = pi.ClientSecret
	if err := s.Store.AttachPaymentIntent(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// PaymentIntentKey is the Stripe idempotency key of a card payment: one per
// payment, the same for every retry.
func PaymentIntentKey(municipalityID, paymentID int64) string {
	return fmt.Sprintf("fiscald-m%d-payment-%d", municipalityID, paymentID)
}

// RefundKey is the Stripe idempotency key of a refund: one per refund, the
// same for every retry.
func RefundKey(municipalityID, refundID int64) string {
	return fmt.Sprintf("fiscald-m%d-refund-%d", municipalityID, refundID)
}

// Ambiguous says whether a call to the card processor may have acted
// although we did not learn it: Stripe was not reached or its answer was
// lost, it was rate limiting, it had a concurrent request under the same
// key, or it failed itself. Such an operation is neither done nor failed.
func Ambiguous(err error) bool {
	var pe *stripe.ProviderError
	if errors.As(err, &pe) {
		return pe.Temporary()
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// outcomeUnknown is the answer when Stripe's answer was lost: 503 with
// Retry-After; the operation stays pending.
func outcomeUnknown(err error, what string) error {
	return &fiscal.Error{Code: fiscal.EUNAVAILABLE, Err: err,
		Message: what + " is pending: the card processor's answer did not arrive. Send the request again with the same Idempotency-Key (it continues the same operation), or look it up later: Stripe's notification settles it"}
}

// HandleStripeWebhook verifies a webhook and applies it. Event types other
// than the three handled are acknowledged and ignored.
func (s *Service) HandleStripeWebhook(ctx context.Context, payload []byte, signature string) (*fiscal.WebhookResult, error) {
	ev, err := s.Stripe.ParseWebhook(payload, signature)
	switch {
	case errors.Is(err, stripe.ErrNotConfigured):
		return nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "card payment webhooks are not configured (STRIPE_WEBHOOK_SECRET is not set)")
	case errors.Is(err, stripe.ErrBadSignature):
		return nil, &fiscal.Error{Code: fiscal.EMALFORMED, Message: "invalid Stripe-Signature", Err: err}
	case errors.Is(err, stripe.ErrBadPayload):
		return nil, &fiscal.Error{Code: fiscal.EMALFORMED, Message: "malformed event", Err: err}
	case err != nil:
		return nil, fiscal.Internal(err, "webhook")
	}
	switch ev.Type {
	case stripe.EventPaymentSucceeded, stripe.EventPaymentFailed, stripe.EventChargeRefunded:
	default:
		return &fiscal.WebhookResult{Received: true, Ignored: true}, nil
	}
	pe := &fiscal.ProviderEvent{ID: ev.ID, Type: string(ev.Type), Created: ev.Created, PaymentIntentID: ev.PaymentIntentID,
		Amount: ev.Amount, AmountReceived: ev.AmountReceived, Currency: ev.Currency, RefundedAmount: ev.RefundedAmount,
		FailureCode: ev.FailureCode, FailureMessage: ev.FailureMessage}
	if id, err := strconv.ParseInt(ev.Metadata["payment_id"], 10, 64); err == nil {
		pe.PaymentID = id
	}
	return s.Store.ApplyProviderEvent(ctx, pe)
}

// RecordCashPayment records a cash payment (officer), allocated at once.
func (s *Service) RecordCashPayment(ctx context.Context, in *fiscal.CashPaymentInput) (*fiscal.Payment, error) {
	return s.Store.RecordCashPayment(ctx, in)
}

// Payment returns a payment with its allocations.
func (s *Service) Payment(ctx context.Context, id int64) (*fiscal.Payment, error) {
	return s.Store.Payment(ctx, id)
}

// Refund refunds a payment: cash at once (the money is handed back at the
// desk), card through Stripe to the original card; the allocations are
// reversed when Stripe accepts the refund. A refund is sent to Stripe under
// one idempotency key (RefundKey), whatever the retries: when Stripe's answer
// is lost the refund stays requested (503), a retry with the same
// Idempotency-Key sends it again under the same key, and the charge.refunded
// event settles it in any case. Only a refusal by Stripe fails it.
func (s *Service) Refund(ctx context.Context, paymentID int64, in *fiscal.RefundInput) (*fiscal.Refund, error) {
	if _, err := fiscal.RequireRole(ctx, fiscal.RoleAccountant); err != nil {
		return nil, err
	}
	r, p, err := s.Store.BeginRefund(ctx, paymentID, in)
	if err != nil {
		return nil, err
	}
	if p.Method != fiscal.MethodCard {
		return r, nil
	}
	switch r.Status {
	case fiscal.RefundFailed:
		return nil, fiscal.Errorf(fiscal.EUPSTREAM, "refund the card payment: the card processor refused refund %d", r.ID)
	case fiscal.RefundSucceeded:
		ref := ""
		if r.ProviderReference != nil {
			ref = *r.ProviderReference
		}
		return s.Store.CompleteRefund(ctx, r.ID, ref)
	}
	if p.ProviderReference == nil {
		if ferr := s.Store.FailRefund(context.WithoutCancel(ctx), r.ID, "no PaymentIntent"); ferr != nil {
			return nil, ferr
		}
		return nil, fiscal.Errorf(fiscal.ECONFLICT, "payment %d has no PaymentIntent to refund", p.ID)
	}
	re, err := s.Stripe.Refund(ctx, *p.ProviderReference, r.Amount, RefundKey(p.MunicipalityID, r.ID), r.Reason)
	if err != nil {
		if Ambiguous(err) {
			return nil, outcomeUnknown(err, fmt.Sprintf("refund %d", r.ID))
		}
		if ferr := s.Store.FailRefund(context.WithoutCancel(ctx), r.ID, err.Error()); ferr != nil {
			return nil, ferr
		}
		return nil, providerErr(err, "refund the card payment")
	}
	return s.Store.CompleteRefund(ctx, r.ID, re.ID)
}

// Receipt renders a payment's receipt (chitanță) with its allocations.
func (s *Service) Receipt(ctx context.Context, paymentID int64) ([]byte, error) {
	r, err := s.Store.ReceiptData(ctx, paymentID)
	if err != nil {
		return nil, err
	}
	return RenderReceipt(r)
}

var taxNames = map[string]string{"vehicle": "Impozit pe mijloacele de transport", "building": "Impozit pe clădiri", "land": "Impozit pe teren"}

var kindNames = map[string]string{fiscal.DebtLateFee: "majorări de întârziere", fiscal.DebtFine: "amendă", fiscal.DebtAdjustment: "regularizare"}

// RenderReceipt renders a receipt as a PDF: the payment, the payer, and one
// line per debt paid with its budget code.
func RenderReceipt(r *fiscal.Receipt) ([]byte, error) {
	doc, err := ReceiptDocument(r)
	if err != nil {
		return nil, err
	}
	return pdf.Render(doc)
}

// ReceiptDocument lays a receipt out as a pdf.Document (the documents
// pipeline adds the verification URL and signs it).
func ReceiptDocument(r *fiscal.Receipt) (pdf.Document, error) {
	p := r.Payment
	if p.PaidOn == nil || p.ReceiptNumber == nil {
		return pdf.Document{}, fiscal.Errorf(fiscal.ENOTFOUND, "payment %d has no receipt", p.ID)
	}
	var rows [][]string
	var total money.Bani
	for _, l := range r.Lines {
		what := taxNames[l.Debt.TaxType]
		if what == "" {
			what = l.Debt.TaxType
		}
		what = fmt.Sprintf("%s %d, rata %d", what, l.Debt.Year, l.Debt.Installment)
		if k := kindNames[l.Debt.Kind]; k != "" {
			what += " — " + k
		}
		rows = append(rows, []string{what, l.Debt.BudgetCode, l.Debt.DueDate.String(), l.Amount.String()})
		total += l.Amount
	}
	if p.Credit > 0 {
		rows = append(rows, []string{"Sumă rămasă în contul contribuabilului (plată în plus)", "", "", p.Credit.String()})
		total += p.Credit
	}
	method := "numerar, la casierie"
	if p.Method == fiscal.MethodCard {
		method = "card, online"
		if p.ProviderReference != nil {
			method += " (" + *p.ProviderReference + ")"
		}
	}
	body := []pdf.Section{{
		Blocks: []pdf.Block{pdf.Paragraph(fmt.Sprintf("Am primit suma de %s lei, achitată prin %s, reprezentând:", p.Amount, method))},
	}, {
		Heading: "Sume achitate",
		Blocks: []pdf.Block{pdf.Table{
			Columns: []pdf.Column{{Header: "Obligația", Width: 5}, {Header: "Cod bugetar", Width: 2}, {Header: "Scadența", Width: 2}, {Header: "Suma (lei)", Width: 2, Align: pdf.AlignRight}},
			Rows:    rows,
			Total:   []string{"Total", "", "", total.String()},
		}},
	}}
	if p.Bonus > 0 {
		body = append(body, pdf.Section{Blocks: []pdf.Block{pdf.Paragraph(fmt.Sprintf("Bonificație pentru plata integrală până la primul termen: %s lei.", p.Bonus))}})
	}
	if p.Refunded > 0 {
		body = append(body, pdf.Section{Blocks: []pdf.Block{pdf.Paragraph(fmt.Sprintf("Restituit ulterior: %s lei.", p.Refunded))}})
	}
	holder := []string{r.TaxpayerName}
	if r.TaxpayerIdent != "" {
		holder = append(holder, r.TaxpayerIdent)
	}
	doc := pdf.Document{
		Municipality: pdf.Municipality{Name: r.Municipality, Department: "Direcția Fiscală"},
		Title:        "Chitanță",
		Number:       *p.ReceiptNumber,
		IssuedOn:     p.PaidOn.In(bucharest),
		LegalBasis:   "art. 165 din Legea nr. 207/2015 privind Codul de procedură fiscală (ordinea stingerii obligațiilor)",
		Holder:       holder,
		Body:         body,
		SignerName:   strings.TrimSpace("Casier"),
		SignerRole:   "Direcția Fiscală",
	}
	return doc, nil
}
