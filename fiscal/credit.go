package fiscal

import (
	"context"
	"strings"
	"time"

	"fiscald/internal/money"
)

// CreditApplication is what applying a taxpayer's credit did: the amount
// used, its allocations to debts in the legal order, and the credit left.
type CreditApplication struct {
	TaxpayerID  int64               `json:"taxpayer_id"`
	Applied     money.Bani          `json:"applied"`
	Bonus       money.Bani          `json:"bonus"`
	Allocations []PaymentAllocation `json:"allocations"`
	Credit      money.Bani          `json:"credit"`
}

// Credit refund statuses. There is no bank integration: a refund of credit
// is an instruction for the treasury, pending until transferred.
const (
	CreditRefundPending = "pending_transfer"
)

// CreditRefundInput asks for a taxpayer's credit to be paid back by bank
// transfer (accountant).
type CreditRefundInput struct {
	Amount money.Bani `json:"amount" validate:"required"`
	Reason string     `json:"reason" validate:"required,min=3,max=500"`
	IBAN   string     `json:"iban" validate:"required,max=34"`
}

// Validate requires a positive amount and a valid Romanian IBAN.
func (in *CreditRefundInput) Validate() []FieldError {
	var out []FieldError
	if in.Amount <= 0 {
		out = append(out, FieldError{Field: "amount", Message: "must be positive"})
	}
	if msg := CheckIBAN(in.IBAN); msg != "" {
		out = append(out, FieldError{Field: "iban", Message: msg})
	}
	return out
}

// NormalIBAN is an IBAN without spaces, in capitals.
func NormalIBAN(s string) string { return strings.ToUpper(strings.ReplaceAll(s, " ", "")) }

// CreditRefund is a refund of credit recorded as a pending bank transfer.
type CreditRefund struct {
	ID         int64      `json:"id" db:"id"`
	TaxpayerID int64      `json:"taxpayer_id" db:"taxpayer_id"`
	Amount     money.Bani `json:"amount" db:"amount_bani"`
	Reason     string     `json:"reason" db:"reason"`
	IBAN       string     `json:"iban" db:"iban"`
	Status     string     `json:"status" db:"status"`
	CreatedAt  time.Time  `json:"created_at" db:"created_at"`
	// Credit is the taxpayer's credit left.
	Credit money.Bani `json:"credit" db:"-"`
}

// CreditService uses a taxpayer's credit (overpayments, recomputations).
type CreditService interface {
	// ApplyCredit allocates the taxpayer's available credit to their
	// outstanding debts in the legal order (staff, or the taxpayer
	// themself); ENOTFOUND when the taxpayer is not visible, EINVALID when
	// there is no credit or nothing is due.
	ApplyCredit(ctx context.Context, taxpayerID int64) (*CreditApplication, error)
	// RefundCredit records a refund of credit by bank transfer
	// (accountant); EINVALID above the available credit.
	RefundCredit(ctx context.Context, taxpayerID int64, in *CreditRefundInput) (*CreditRefund, error)
}
