package payments

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"fiscald/fiscal"
	"fiscald/internal/money"
)

// Processor transaction types, as Stripe names them.
var (
	chargeTypes = map[string]bool{"charge": true, "payment": true}
	refundTypes = map[string]bool{"refund": true, "payment_refund": true, "payment_failure_refund": true}
	// payouts are the bank transfers of the balance: they are what is
	// reconciled against, not a difference.
	ignoredTypes = map[string]bool{"payout": true, "payout_cancel": true, "payout_failure": true}
)

// Reconcile compares our card payments with the processor's balance
// transactions, matched by PaymentIntent id, and returns the differences
// for the accountant, ordered by kind then PaymentIntent:
//
//   - a charge whose PaymentIntent is not one of our succeeded (or
//     refunded) payments: missing_ours;
//   - a succeeded payment of ours with no charge: missing_provider;
//   - charges of a PaymentIntent adding up to another amount than ours:
//     amount_mismatch; refunds adding up to another amount than what we
//     refunded: refund_mismatch;
//   - a movement in another currency than RON: currency;
//   - the fee kept on each matched charge: fee (not an error: the
//     accountant books it as an expense);
//   - other movements without a PaymentIntent (fees, adjustments,
//     disputes): provider_other. Payouts are left out.
//
// It is pure: the caller chooses which payments and transactions to pass
// (typically those of one period, plus those of the other side's
// PaymentIntents, so that a payment near the period's edge is not reported
// missing).
func Reconcile(ours []fiscal.ReconciledPayment, theirs []fiscal.ProviderTransaction) []fiscal.ReconciliationDifference {
	type side struct {
		charges, refunds money.Bani
		fee              money.Bani
		chargeIDs        []string
		refundIDs        []string
	}
	byPI := map[string]*side{}
	var out []fiscal.ReconciliationDifference
	for _, t := range theirs {
		if ignoredTypes[t.Type] {
			continue
		}
		if !strings.EqualFold(t.Currency, "ron") {
			out = append(out, fiscal.ReconciliationDifference{Kind: fiscal.DiffCurrency, PaymentIntentID: t.PaymentIntentID, TransactionIDs: []string{t.ID},
				Theirs: t.Amount, Fee: t.Fee, Detail: fmt.Sprintf("%s in %s, not RON", t.Type, strings.ToUpper(t.Currency))})
			continue
		}
		if t.PaymentIntentID == "" || !(chargeTypes[t.Type] || refundTypes[t.Type]) {
			out = append(out, fiscal.ReconciliationDifference{Kind: fiscal.DiffProviderOther, PaymentIntentID: t.PaymentIntentID, TransactionIDs: []string{t.ID},
				Theirs: t.Amount, Fee: t.Fee, Detail: t.Type})
			continue
		}
		s := byPI[t.PaymentIntentID]
		if s == nil {
			s = &side{}
			byPI[t.PaymentIntentID] = s
		}
		if chargeTypes[t.Type] {
			s.charges += t.Amount
			s.chargeIDs = append(s.chargeIDs, t.ID)
		} else {
			s.refunds += -t.Amount // refunds are negative on the balance
			s.refundIDs = append(s.refundIDs, t.ID)
		}
		s.fee += t.Fee
	}
	seen := map[string]bool{}
	for _, p := range ours {
		if p.PaymentIntentID == "" || (p.Status != fiscal.PaymentSucceeded && p.Status != fiscal.PaymentRefunded) {
			continue
		}
		seen[p.PaymentIntentID] = true
		id := p.PaymentID
		s := byPI[p.PaymentIntentID]
		if s == nil || len(s.chargeIDs) == 0 {
			var ids []string
			if s != nil {
				ids = s.refundIDs
			}
			out = append(out, fiscal.ReconciliationDifference{Kind: fiscal.DiffMissingProvider, PaymentIntentID: p.PaymentIntentID, PaymentID: &id,
				TransactionIDs: nonNil(ids), Ours: p.Amount, Detail: "no charge at the processor for this payment"})
			continue
		}
		if s.charges != p.Amount {
			out = append(out, fiscal.ReconciliationDifference{Kind: fiscal.DiffAmount, PaymentIntentID: p.PaymentIntentID, PaymentID: &id,
				TransactionIDs: s.chargeIDs, Ours: p.Amount, Theirs: s.charges, Fee: s.fee, Detail: fmt.Sprintf("charged %s lei, paid %s lei", s.charges, p.Amount)})
		}
		if s.refunds != p.Refunded {
			out = append(out, fiscal.ReconciliationDifference{Kind: fiscal.DiffRefund, PaymentIntentID: p.PaymentIntentID, PaymentID: &id,
				TransactionIDs: nonNil(s.refundIDs), Ours: p.Refunded, Theirs: s.refunds, Detail: fmt.Sprintf("refunded %s lei at the processor, %s lei here", s.refunds, p.Refunded)})
		}
		if s.fee != 0 {
			out = append(out, fiscal.ReconciliationDifference{Kind: fiscal.DiffFee, PaymentIntentID: p.PaymentIntentID, PaymentID: &id,
				TransactionIDs: slices.Concat(s.chargeIDs, s.refundIDs), Ours: p.Amount, Theirs: s.charges - s.refunds, Fee: s.fee, Detail: "fee kept by the processor"})
		}
	}
	for pi, s := range byPI {
		if seen[pi] {
			continue
		}
		out = append(out, fiscal.ReconciliationDifference{Kind: fiscal.DiffMissingOurs, PaymentIntentID: pi, TransactionIDs: slices.Concat(s.chargeIDs, s.refundIDs),
			Theirs: s.charges - s.refunds, Fee: s.fee, Detail: "no succeeded payment here for this PaymentIntent"})
	}
	slices.SortStableFunc(out, func(a, b fiscal.ReconciliationDifference) int {
		if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return cmp.Compare(a.PaymentIntentID, b.PaymentIntentID)
	})
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
