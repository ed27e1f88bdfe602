package fiscal

import (
	"context"
	"time"

	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// ReconciliationImportInput asks to import the card processor's balance
// transactions of one payout, or of a period of local dates [from, to].
type ReconciliationImportInput struct {
	PayoutID string      `json:"payout_id" validate:"omitempty,max=100"`
	From     *civil.Date `json:"from"`
	To       *civil.Date `json:"to"`
}

// Validate requires a payout id or both dates, in order.
func (in *ReconciliationImportInput) Validate() []FieldError {
	switch {
	case in.PayoutID == "" && (in.From == nil || in.To == nil):
		return []FieldError{{Field: "payout_id", Message: "give payout_id, or from and to"}}
	case (in.From == nil) != (in.To == nil):
		return []FieldError{{Field: "to", Message: "give both from and to"}}
	case in.From != nil && in.To.Before(*in.From):
		return []FieldError{{Field: "to", Message: "must not be before from"}}
	}
	return nil
}

// ProviderTransaction is one movement of the processor's balance as
// imported (amounts in bani as the processor reports them: refunds are
// negative).
type ProviderTransaction struct {
	ID              string     `json:"id"`
	Type            string     `json:"type"`
	Amount          money.Bani `json:"amount"`
	Fee             money.Bani `json:"fee"`
	Net             money.Bani `json:"net"`
	Currency        string     `json:"currency"`
	Source          string     `json:"source"`
	PaymentIntentID string     `json:"payment_intent_id"`
	Status          string     `json:"status"`
	Created         time.Time  `json:"created"`
}

// ReconciliationImport is the summary of one import.
type ReconciliationImport struct {
	ID           int64       `json:"id"`
	PayoutID     string      `json:"payout_id,omitempty"`
	From         *civil.Date `json:"from,omitempty"`
	To           *civil.Date `json:"to,omitempty"`
	Transactions int         `json:"transactions"`
	New          int         `json:"new"`
	// ByType counts the transactions by the processor's type.
	ByType map[string]int `json:"by_type"`
	Gross  money.Bani     `json:"gross"`
	Fees   money.Bani     `json:"fees"`
	Net    money.Bani     `json:"net"`
}

// ReconciledPayment is one of our card payments as reconciliation sees it.
type ReconciledPayment struct {
	PaymentID       int64       `db:"id"`
	PaymentIntentID string      `db:"provider_reference"`
	Status          string      `db:"status"`
	Amount          money.Bani  `db:"amount_bani"`
	Refunded        money.Bani  `db:"refunded_bani"`
	PaidOn          *civil.Date `db:"paid_on"`
}

// Kinds of reconciliation difference.
const (
	DiffMissingOurs     = "missing_ours"     // the processor moved money for a payment we do not have as succeeded
	DiffMissingProvider = "missing_provider" // a succeeded card payment of ours has no charge at the processor
	DiffAmount          = "amount_mismatch"  // the charge differs from the payment's amount
	DiffRefund          = "refund_mismatch"  // the processor's refunds differ from ours
	DiffCurrency        = "currency"         // a movement not in RON
	DiffFee             = "fee"              // the processor's fee on a matched charge (to book as an expense)
	DiffProviderOther   = "provider_other"   // a movement without a payment (fees, adjustments, disputes)
)

// ReconciliationDifference is one line for the accountant: what differs,
// for which PaymentIntent and payment, our amount and the processor's.
type ReconciliationDifference struct {
	Kind            string     `json:"kind"`
	PaymentIntentID string     `json:"payment_intent_id,omitempty"`
	PaymentID       *int64     `json:"payment_id"`
	TransactionIDs  []string   `json:"transaction_ids"`
	Ours            money.Bani `json:"ours"`
	Theirs          money.Bani `json:"theirs"`
	Fee             money.Bani `json:"fee"`
	Detail          string     `json:"detail"`
}

// ReconciliationService imports the processor's transactions and lists
// the differences with our payments (accountant, admin).
type ReconciliationService interface {
	// ImportReconciliation fetches and stores the balance transactions of a
	// payout or period (each once); EUNAVAILABLE without card payments
	// configured, EUPSTREAM when the processor refuses.
	ImportReconciliation(ctx context.Context, in *ReconciliationImportInput) (*ReconciliationImport, error)
	// ReconciliationDifferences compares the stored transactions created in
	// [from, to] (local dates) with our card payments paid in that period.
	ReconciliationDifferences(ctx context.Context, from, to civil.Date) ([]ReconciliationDifference, error)
}
