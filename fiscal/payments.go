package fiscal

import (
	"context"
	"time"

	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// Payment statuses.
const (
	PaymentPending   = "pending"
	PaymentSucceeded = "succeeded"
	PaymentFailed    = "failed"
	PaymentRefunded  = "refunded" // refunded in full
)

// Payment methods and providers.
const (
	MethodCard     = "card"
	MethodCash     = "cash"
	ProviderStripe = "stripe"
	ProviderCash   = "cash"
)

// Statement is a taxpayer's account as of a date (contract: GET
// /taxpayers/{id}/statement). TotalDue = Σ outstanding + Σ late fees − credit,
// never below zero.
type Statement struct {
	TaxpayerID int64      `json:"taxpayer_id"`
	AsOf       civil.Date `json:"as_of"`
	Debts      []Debt     `json:"debts"`
	Credit     money.Bani `json:"credit"`
	TotalDue   money.Bani `json:"total_due"`
	// Bonuses are the early-payment bonuses still available on the as-of
	// date: a tax type's year paid in full by its first deadline (art. 462,
	// 467, 472). Not part of the contract's fields; added for the portal.
	Bonuses []BonusOffer `json:"bonuses_available,omitempty"`
}

// BonusOffer is a bonus a taxpayer still earns by paying a tax type's year in
// full by Until.
type BonusOffer struct {
	TaxType string     `json:"tax_type"`
	Year    int        `json:"year"`
	Until   civil.Date `json:"until"`
	Bonus   money.Bani `json:"bonus"`
	// PayInFull is what paying the year by Until costs: its outstanding
	// principal minus the bonus.
	PayInFull money.Bani `json:"pay_in_full"`
}

// PaymentAllocation is the part of a payment applied to one debt.
type PaymentAllocation struct {
	DebtID int64      `json:"debt_id" db:"debt_id"`
	Amount money.Bani `json:"amount" db:"amount_bani"`
}

// Payment is a card or cash payment with what it paid.
type Payment struct {
	ID                int64               `json:"id"`
	MunicipalityID    int64               `json:"-"`
	TaxpayerID        int64               `json:"taxpayer_id"`
	Method            string              `json:"method"`
	Status            string              `json:"status"`
	Amount            money.Bani          `json:"amount"`
	Refunded          money.Bani          `json:"refunded"`
	Currency          string              `json:"currency"`
	Provider          string              `json:"provider"`
	ProviderReference *string             `json:"provider_reference"`
	ClientSecret      string              `json:"client_secret,omitempty"`
	ChosenDebts       []int64             `json:"debt_ids,omitempty"`
	PaidOn            *civil.Date         `json:"paid_on"`
	ReceiptNumber     *string             `json:"receipt_number"`
	ReceiptURL        *string             `json:"receipt_url"`
	Allocations       []PaymentAllocation `json:"allocations"`
	// Bonus is the early-payment bonus this payment earned (art. 462, 467, 472).
	Bonus money.Bani `json:"bonus"`
	// Credit is what the payment left as the taxpayer's credit.
	Credit         money.Bani `json:"credit"`
	FailureCode    string     `json:"failure_code,omitempty"`
	FailureMessage string     `json:"failure_message,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
}

// The states of a refund: requested (sent, or to be sent, to the card
// processor; its outcome not known yet), succeeded, failed (refused).
const (
	RefundRequested = "requested"
	RefundSucceeded = "succeeded"
	RefundFailed    = "failed"
)

// Refund is money given back from a payment, reversing its allocations.
type Refund struct {
	ID                int64      `json:"id"`
	PaymentID         int64      `json:"payment_id"`
	Amount            money.Bani `json:"amount"`
	Reason            string     `json:"reason"`
	Status            string     `json:"status"`
	ProviderReference *string    `json:"provider_reference"`
	CreatedAt         time.Time  `json:"created_at"`
}

// CardPaymentInput asks for a card payment of chosen debts or of everything
// due (contract: POST /payments).
type CardPaymentInput struct {
	TaxpayerID int64   `json:"taxpayer_id" validate:"required,gt=0"`
	DebtIDs    []int64 `json:"debt_ids" validate:"omitempty,max=500,dive,gt=0"`
	All        bool    `json:"all"`
}

// Validate requires either debt_ids or all, not both.
func (in *CardPaymentInput) Validate() []FieldError {
	switch {
	case in.All && len(in.DebtIDs) > 0:
		return []FieldError{{Field: "debt_ids", Message: "give debt_ids or all, not both"}}
	case !in.All && len(in.DebtIDs) == 0:
		return []FieldError{{Field: "debt_ids", Message: "give the debts to pay, or all: true"}}
	}
	return nil
}

// CashPaymentInput is money received at the cash desk (contract: POST
// /payments/cash).
type CashPaymentInput struct {
	TaxpayerID int64      `json:"taxpayer_id" validate:"required,gt=0"`
	Amount     money.Bani `json:"amount" validate:"required"`
	DebtIDs    []int64    `json:"debt_ids,omitempty" validate:"omitempty,max=500,dive,gt=0"`
}

// Validate requires a positive amount.
func (in *CashPaymentInput) Validate() []FieldError {
	if in.Amount <= 0 {
		return []FieldError{{Field: "amount", Message: "must be positive"}}
	}
	return nil
}

// RefundInput asks for a refund of a payment (contract: POST
// /payments/{id}/refunds).
type RefundInput struct {
	Amount money.Bani `json:"amount" validate:"required"`
	Reason string     `json:"reason" validate:"required,min=3,max=500"`
}

// Validate requires a positive amount.
func (in *RefundInput) Validate() []FieldError {
	if in.Amount <= 0 {
		return []FieldError{{Field: "amount", Message: "must be positive"}}
	}
	return nil
}

// Provider event types (Stripe's names; the store matches on these).
const (
	EventPaymentSucceeded = "payment_intent.succeeded"
	EventPaymentFailed    = "payment_intent.payment_failed"
	EventChargeRefunded   = "charge.refunded"
)

// ProviderEvent is a verified card-provider event in neutral form.
type ProviderEvent struct {
	ID              string
	Type            string
	Created         time.Time
	PaymentIntentID string
	// PaymentID is our payment id from the object's metadata, when present
	// (used only when the PaymentIntent id is not known yet).
	PaymentID      int64
	Amount         money.Bani
	AmountReceived money.Bani
	Currency       string
	RefundedAmount money.Bani
	FailureCode    string
	FailureMessage string
}

// WebhookResult says what a webhook delivery did.
type WebhookResult struct {
	Received  bool   `json:"received"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Ignored   bool   `json:"ignored,omitempty"`
	PaymentID *int64 `json:"payment_id,omitempty"`
}

// PaymentService is the taxpayer account and its payments.
type PaymentService interface {
	// Statement returns the account as of a date; ENOTFOUND when the
	// taxpayer is not visible to the actor.
	Statement(ctx context.Context, taxpayerID int64, asOf civil.Date) (*Statement, error)
	// CreateCardPayment opens a card payment; EUNAVAILABLE without card
	// payments configured, EINVALID when nothing is due, EUPSTREAM when the
	// provider refuses.
	CreateCardPayment(ctx context.Context, in *CardPaymentInput) (*Payment, error)
	// HandleStripeWebhook verifies and applies a webhook; EMALFORMED for a
	// bad signature or payload, ENOTFOUND for an unknown payment, EINVALID
	// when the amount or currency does not match. Duplicates change nothing.
	HandleStripeWebhook(ctx context.Context, payload []byte, signature string) (*WebhookResult, error)
	// RecordCashPayment records money received at the desk (officer) and
	// allocates it at once, with the next receipt number.
	RecordCashPayment(ctx context.Context, in *CashPaymentInput) (*Payment, error)
	// Payment returns a payment with its allocations; ENOTFOUND when not visible.
	Payment(ctx context.Context, id int64) (*Payment, error)
	// Refund refunds a payment in full or in part (accountant); EINVALID for
	// an amount above what is refundable, ECONFLICT for a payment that did
	// not succeed, EUPSTREAM when the provider refuses.
	Refund(ctx context.Context, paymentID int64, in *RefundInput) (*Refund, error)
	// Receipt renders the receipt (chitanță) of a succeeded payment as PDF.
	Receipt(ctx context.Context, paymentID int64) ([]byte, error)
}

// PaymentLister lists a taxpayer's payments.
type PaymentLister interface {
	// TaxpayerPayments lists the taxpayer's payments, newest first, with
	// their allocations; ENOTFOUND when the taxpayer is not visible to the
	// actor.
	TaxpayerPayments(ctx context.Context, taxpayerID int64) ([]*Payment, error)
}

// Receipt is what a receipt (chitanță) prints: the payment, who paid, and
// what each part of it paid.
type Receipt struct {
	Payment       *Payment
	Municipality  string
	TaxpayerName  string
	TaxpayerIdent string
	Lines         []ReceiptLine
}

// ReceiptLine is one debt a payment paid.
type ReceiptLine struct {
	Debt   Debt
	Amount money.Bani
}
