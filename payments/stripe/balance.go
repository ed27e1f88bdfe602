package stripe

import (
	"context"
	"time"

	stripego "github.com/stripe/stripe-go/v76"

	"fiscald/internal/money"
)

// BalanceTransactionQuery selects balance transactions for reconciliation:
// those paid out in one payout, or those created in [CreatedFrom, CreatedTo).
// Give PayoutID, or a range, or both; at least one bound is required.
type BalanceTransactionQuery struct {
	// PayoutID (po_...) selects the transactions settled by that automatic
	// payout: what the bank statement shows as one credit.
	PayoutID string
	// CreatedFrom is the inclusive lower bound; zero means none.
	CreatedFrom time.Time
	// CreatedTo is the exclusive upper bound; zero means none.
	CreatedTo time.Time
}

// BalanceTransaction is one movement on the Stripe balance.
type BalanceTransaction struct {
	// ID is the balance transaction id (txn_...).
	ID string
	// Type is Stripe's type: "charge", "payment", "refund", "payout",
	// "stripe_fee", "adjustment", ...
	Type string
	// Amount is the gross amount, Fee what Stripe kept, Net = Amount - Fee.
	// Refunds and payouts are negative.
	Amount, Fee, Net money.Bani
	// Currency is the balance currency ("ron" for a Romanian account).
	Currency string
	// Source is the id of the object that caused the movement: a charge
	// (ch_... or py_...), refund (re_...), payout (po_...), ...
	Source string
	// PaymentIntentID is the PaymentIntent behind a charge or refund, when
	// Stripe reports it; it is what payments are matched on.
	PaymentIntentID string
	// Status is "available" or "pending".
	Status string
	// Created is when the movement happened; AvailableOn when its funds
	// become available for payout.
	Created, AvailableOn time.Time
}

// ListBalanceTransactions returns every balance transaction matching q,
// following Stripe's pagination. Sources are expanded so that charges and
// refunds carry their PaymentIntent id. It returns ErrNotConfigured,
// ErrInvalidInput or ErrProvider.
func (c *Client) ListBalanceTransactions(ctx context.Context, q BalanceTransactionQuery) ([]BalanceTransaction, error) {
	if !c.Configured() {
		return nil, ErrNotConfigured
	}
	if q.PayoutID == "" && q.CreatedFrom.IsZero() && q.CreatedTo.IsZero() {
		return nil, invalid("a payout id or a created range is required")
	}
	if !q.CreatedFrom.IsZero() && !q.CreatedTo.IsZero() && !q.CreatedFrom.Before(q.CreatedTo) {
		return nil, invalid("empty created range [%s, %s)", q.CreatedFrom.Format(time.RFC3339), q.CreatedTo.Format(time.RFC3339))
	}
	params := &stripego.BalanceTransactionListParams{}
	params.Context = ctx
	params.Limit = stripego.Int64(100)
	if q.PayoutID != "" {
		params.Payout = stripego.String(q.PayoutID)
	}
	if !q.CreatedFrom.IsZero() || !q.CreatedTo.IsZero() {
		r := &stripego.RangeQueryParams{}
		if !q.CreatedFrom.IsZero() {
			r.GreaterThanOrEqual = q.CreatedFrom.Unix()
		}
		if !q.CreatedTo.IsZero() {
			r.LesserThan = q.CreatedTo.Unix()
		}
		params.CreatedRange = r
	}
	params.AddExpand("data.source")

	var out []BalanceTransaction
	it := c.api.BalanceTransactions.List(params)
	for it.Next() {
		out = append(out, toBalanceTransaction(it.BalanceTransaction()))
	}
	if err := it.Err(); err != nil {
		return nil, providerError("list balance transactions", err)
	}
	return out, nil
}

func toBalanceTransaction(t *stripego.BalanceTransaction) BalanceTransaction {
	bt := BalanceTransaction{
		ID:       t.ID,
		Type:     string(t.Type),
		Amount:   money.Bani(t.Amount),
		Fee:      money.Bani(t.Fee),
		Net:      money.Bani(t.Net),
		Currency: string(t.Currency),
		Status:   string(t.Status),
		Created:  time.Unix(t.Created, 0).UTC(),
	}
	if t.AvailableOn != 0 {
		bt.AvailableOn = time.Unix(t.AvailableOn, 0).UTC()
	}
	if s := t.Source; s != nil {
		bt.Source = s.ID
		switch {
		case s.Charge != nil && s.Charge.PaymentIntent != nil:
			bt.PaymentIntentID = s.Charge.PaymentIntent.ID
		case s.Refund != nil && s.Refund.PaymentIntent != nil:
			bt.PaymentIntentID = s.Refund.PaymentIntent.ID
		}
	}
	return bt
}
