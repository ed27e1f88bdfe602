package payments

import (
	"strconv"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/money"
)

func TestReconcile(t *testing.T) {
	pay := func(id int64, pi string, amount, refunded money.Bani) fiscal.ReconciledPayment {
		return fiscal.ReconciledPayment{PaymentID: id, PaymentIntentID: pi, Status: fiscal.PaymentSucceeded, Amount: amount, Refunded: refunded}
	}
	txn := func(id, typ, pi string, amount, fee money.Bani) fiscal.ProviderTransaction {
		return fiscal.ProviderTransaction{ID: id, Type: typ, PaymentIntentID: pi, Amount: amount, Fee: fee, Net: amount - fee, Currency: "ron"}
	}
	tests := []struct {
		name   string
		ours   []fiscal.ReconciledPayment
		theirs []fiscal.ProviderTransaction
		want   []string // kind:pi:ours:theirs:fee
	}{
		{"nothing", nil, nil, nil},
		{"matched without fee", []fiscal.ReconciledPayment{pay(1, "pi_a", 19800, 0)}, []fiscal.ProviderTransaction{txn("txn_1", "charge", "pi_a", 19800, 0)}, nil},
		{"matched with fee", []fiscal.ReconciledPayment{pay(1, "pi_a", 19800, 0)}, []fiscal.ProviderTransaction{txn("txn_1", "charge", "pi_a", 19800, 320)},
			[]string{"fee:pi_a:198.00:198.00:3.20"}},
		{"missing at the processor", []fiscal.ReconciledPayment{pay(1, "pi_a", 19800, 0)}, nil, []string{"missing_provider:pi_a:198.00:0.00:0.00"}},
		{"missing here", nil, []fiscal.ProviderTransaction{txn("txn_1", "charge", "pi_x", 5000, 0)}, []string{"missing_ours:pi_x:0.00:50.00:0.00"}},
		{"pending payment here is missing", []fiscal.ReconciledPayment{{PaymentID: 2, PaymentIntentID: "pi_p", Status: fiscal.PaymentPending, Amount: 5000}},
			[]fiscal.ProviderTransaction{txn("txn_1", "charge", "pi_p", 5000, 0)}, []string{"missing_ours:pi_p:0.00:50.00:0.00"}},
		{"amount mismatch", []fiscal.ReconciledPayment{pay(1, "pi_a", 19800, 0)}, []fiscal.ProviderTransaction{txn("txn_1", "charge", "pi_a", 19700, 0)},
			[]string{"amount_mismatch:pi_a:198.00:197.00:0.00"}},
		{"refund matched", []fiscal.ReconciledPayment{pay(1, "pi_a", 19800, 5000)},
			[]fiscal.ProviderTransaction{txn("txn_1", "charge", "pi_a", 19800, 0), txn("txn_2", "refund", "pi_a", -5000, 0)}, nil},
		{"refund here only", []fiscal.ReconciledPayment{pay(1, "pi_a", 19800, 5000)}, []fiscal.ProviderTransaction{txn("txn_1", "charge", "pi_a", 19800, 0)},
			[]string{"refund_mismatch:pi_a:50.00:0.00:0.00"}},
		{"refund at the processor only", []fiscal.ReconciledPayment{pay(1, "pi_a", 19800, 0)},
			[]fiscal.ProviderTransaction{txn("txn_1", "charge", "pi_a", 19800, 0), txn("txn_2", "refund", "pi_a", -1000, 0)},
			[]string{"refund_mismatch:pi_a:0.00:10.00:0.00"}},
		{"payouts ignored, fees listed", nil,
			[]fiscal.ProviderTransaction{txn("po_1", "payout", "", -19480, 0), txn("txn_9", "stripe_fee", "", -200, 0)},
			[]string{"provider_other::0.00:-2.00:0.00"}},
		{"other currency", nil, []fiscal.ProviderTransaction{{ID: "txn_u", Type: "charge", PaymentIntentID: "pi_u", Amount: 100, Currency: "usd"}},
			[]string{"currency:pi_u:0.00:1.00:0.00"}},
		{"two charges of one intent", []fiscal.ReconciledPayment{pay(1, "pi_a", 10000, 0)},
			[]fiscal.ProviderTransaction{txn("txn_1", "charge", "pi_a", 5000, 0), txn("txn_2", "charge", "pi_a", 5000, 0)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range Reconcile(tt.ours, tt.theirs) {
				got = append(got, strings.Join([]string{d.Kind, d.PaymentIntentID, d.Ours.String(), d.Theirs.String(), d.Fee.String()}, ":"))
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// BenchmarkReconcile: a month of 20,000 card payments against their
// charges (each with a fee) and 1% refunds.
func BenchmarkReconcile(b *testing.B) {
	var ours []fiscal.ReconciledPayment
	var theirs []fiscal.ProviderTransaction
	for i := 0; i < 20000; i++ {
		pi := "pi_" + strconv.Itoa(i)
		ours = append(ours, fiscal.ReconciledPayment{PaymentID: int64(i), PaymentIntentID: pi, Status: fiscal.PaymentSucceeded, Amount: 19800})
		theirs = append(theirs, fiscal.ProviderTransaction{ID: "txn_" + strconv.Itoa(i), Type: "charge", PaymentIntentID: pi, Amount: 19800, Fee: 320, Currency: "ron"})
		if i%100 == 0 {
			theirs = append(theirs, fiscal.ProviderTransaction{ID: "txn_r" + strconv.Itoa(i), Type: "refund", PaymentIntentID: pi, Amount: -1000, Currency: "ron"})
		}
	}
	b.ResetTimer()
	for b.Loop() {
		Reconcile(ours, theirs)
	}
}
