package payments_test

import (
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/payments/stripe"
)

// A card payment whose chosen debts no longer read is not settled at all:
// money goes only where the taxpayer sent it, never to "all debts".
func TestUnreadableChosenDebtsPayNothing(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		f := newFixture(t, db, clock, "")
		tp, debts := f.taxpayer()
		p, err := db.BeginCardPayment(f.officer, &fiscal.CardPaymentInput{TaxpayerID: tp.ID, DebtIDs: []int64{debts[1]}})
		if err != nil {
			t.Fatal(err)
		}
		pi := "pi_unreadable_1"
		p.ProviderReference = &pi
		if err := db.AttachPaymentIntent(f.officer, p); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE payments SET chosen_debts = ? WHERE id = ?`), `[12,`, p.ID); err != nil {
			t.Fatal(err)
		}
		before := f.ledger()
		_, err = f.deliver(stripe.TestEvent{ID: "evt_unreadable_1", Type: stripe.EventPaymentSucceeded, PaymentIntentID: pi, Amount: p.Amount})
		if fiscal.ErrorCode(err) != fiscal.EINTERNAL {
			t.Fatalf("settling a payment with unreadable chosen debts: %v", err)
		}
		if after := f.ledger(); after != before {
			t.Fatalf("the ledger moved: %+v → %+v", before, after)
		}
	})
}
