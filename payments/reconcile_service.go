package payments

import (
	"context"
	"errors"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/payments/stripe"
)

var _ fiscal.ReconciliationService = (*Service)(nil)

// periodBounds are the instants of the local dates [from, to] in Romania.
func periodBounds(from, to civil.Date) (time.Time, time.Time) {
	return from.In(bucharest), to.AddDays(1).In(bucharest)
}

// ImportReconciliation fetches the balance transactions of a payout or a
// period from Stripe and stores them (accountant, admin).
func (s *Service) ImportReconciliation(ctx context.Context, in *fiscal.ReconciliationImportInput) (*fiscal.ReconciliationImport, error) {
	if _, err := fiscal.RequireRole(ctx, fiscal.RoleAccountant, fiscal.RoleAdmin); err != nil {
		return nil, err
	}
	if !s.Stripe.Configured() {
		return nil, notConfigured()
	}
	q := stripe.BalanceTransactionQuery{PayoutID: in.PayoutID}
	var from, to *time.Time
	if in.From != nil && in.To != nil {
		f, t := periodBounds(*in.From, *in.To)
		q.CreatedFrom, q.CreatedTo = f, t
		from, to = &f, &t
	}
	txns, err := s.Stripe.ListBalanceTransactions(ctx, q)
	if errors.Is(err, stripe.ErrInvalidInput) {
		return nil, &fiscal.Error{Code: fiscal.EINVALID, Message: "reconciliation: " + err.Error(), Err: err}
	}
	if err != nil {
		return nil, providerErr(err, "list the balance transactions")
	}
	out := make([]fiscal.ProviderTransaction, len(txns))
	for i, t := range txns {
		out[i] = fiscal.ProviderTransaction{ID: t.ID, Type: t.Type, Amount: t.Amount, Fee: t.Fee, Net: t.Net, Currency: t.Currency, Source: t.Source,
			PaymentIntentID: t.PaymentIntentID, Status: t.Status, Created: t.Created}
	}
	return s.Store.RecordProviderTransactions(ctx, in, from, to, out)
}

// ReconciliationDifferences lists the differences between our card
// payments and the stored transactions of the local dates [from, to]
// (Reconcile). It is the row source for a reconciliation report.
func (s *Service) ReconciliationDifferences(ctx context.Context, from, to civil.Date) ([]fiscal.ReconciliationDifference, error) {
	if _, err := fiscal.RequireRole(ctx, fiscal.RoleAccountant, fiscal.RoleAdmin); err != nil {
		return nil, err
	}
	if to.Before(from) {
		return nil, fiscal.InvalidField("to", "must not be before from")
	}
	start, end := periodBounds(from, to)
	ours, theirs, err := s.Store.ReconciliationInputs(ctx, from, to, start, end)
	if err != nil {
		return nil, err
	}
	out := Reconcile(ours, theirs)
	if out == nil {
		out = []fiscal.ReconciliationDifference{}
	}
	return out, nil
}
