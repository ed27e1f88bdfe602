package payments_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/payments/stripe"
	"fiscald/payments/stripe/stripetest"
)

var L = money.Lei

func TestStatementCashAndLateFees(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		f := newFixture(t, db, clock, "")
		ctx := f.officer
		tp, debts := f.taxpayer()
		// 8 May 2026: the first instalment (31 March) is two started months late.
		st, err := f.svc.Statement(ctx, tp.ID, civil.Date{})
		if err != nil {
			t.Fatal(err)
		}
		if st.AsOf.String() != "2026-05-08" || len(st.Debts) != 2 || st.Debts[0].Outstanding != L(99) || st.Debts[0].LateFees != L(2) ||
			st.Debts[1].LateFees != 0 || st.Debts[0].BudgetCode != "16.02.02.01" || st.TotalDue != L(200) || st.Credit != 0 {
			t.Fatalf("statement: %+v", st)
		}
		// As of 30 September the first has six periods: 99 × 6% = 5.94 → 6 lei.
		st, _ = f.svc.Statement(ctx, tp.ID, civil.MustParse("2026-09-30"))
		if st.Debts[0].LateFees != L(6) || st.TotalDue != L(99+99+6) {
			t.Fatalf("statement in September: %+v", st)
		}

		// 150 lei at the desk: principal oldest first (99 + 51), fees last.
		p, err := f.svc.RecordCashPayment(ctx, &fiscal.CashPaymentInput{TaxpayerID: tp.ID, Amount: L(150)})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != fiscal.PaymentSucceeded || *p.ReceiptNumber != "CASA-2026-000001" || len(p.Allocations) != 2 ||
			p.Allocations[0] != (fiscal.PaymentAllocation{DebtID: debts[0], Amount: L(99)}) || p.Allocations[1] != (fiscal.PaymentAllocation{DebtID: debts[1], Amount: L(51)}) {
			t.Fatalf("cash payment: %+v", p)
		}
		// The fee accrued to the payment date is kept (materialised) and
		// stops growing: as of September it is still 2 lei.
		st, _ = f.svc.Statement(ctx, tp.ID, civil.MustParse("2026-09-30"))
		if st.Debts[0].Outstanding != 0 || st.Debts[0].Paid != L(99) || st.Debts[0].LateFees != L(2) || st.Debts[1].Outstanding != L(48) || st.TotalDue != L(50) {
			t.Fatalf("after 150: %+v", st)
		}
		// A statement before the payment does not see it.
		st, _ = f.svc.Statement(ctx, tp.ID, civil.MustParse("2026-05-07"))
		if st.Debts[0].Paid != 0 || st.TotalDue != L(200) {
			t.Fatalf("as of the day before: %+v", st)
		}
		// 60 more: 48 principal, 2 late fee, 10 credit.
		p2, err := f.svc.RecordCashPayment(ctx, &fiscal.CashPaymentInput{TaxpayerID: tp.ID, Amount: L(60)})
		if err != nil {
			t.Fatal(err)
		}
		if *p2.ReceiptNumber != "CASA-2026-000002" || p2.Credit != L(10) || len(p2.Allocations) != 2 || p2.Allocations[1].Amount != L(2) {
			t.Fatalf("second payment: %+v", p2)
		}
		st, _ = f.svc.Statement(ctx, tp.ID, civil.Date{})
		if st.TotalDue != 0 || st.Credit != L(10) || st.Debts[0].LateFees != 0 {
			t.Fatalf("after 210: %+v", st)
		}
		// Receipt as PDF.
		pdf, err := f.svc.Receipt(ctx, p2.ID)
		if err != nil || len(pdf) < 1000 || string(pdf[:5]) != "%PDF-" {
			t.Fatalf("receipt: %d bytes, %v", len(pdf), err)
		}
		// A cash refund of 30 takes back the 10 credit, then the fee, then principal.
		r, err := f.svc.Refund(f.accountant, p2.ID, &fiscal.RefundInput{Amount: L(30), Reason: "plată greșită"})
		if err != nil || r.Status != "succeeded" {
			t.Fatalf("cash refund: %+v %v", r, err)
		}
		st, _ = f.svc.Statement(ctx, tp.ID, civil.Date{})
		if st.Credit != 0 || st.TotalDue != L(20) || st.Debts[1].Outstanding != L(18) || st.Debts[0].LateFees != L(2) {
			t.Fatalf("after refund: %+v", st)
		}
		if _, err := f.svc.Refund(f.accountant, p2.ID, &fiscal.RefundInput{Amount: L(31), Reason: "prea mult"}); fiscal.ErrorCode(err) != fiscal.EINVALID {
			t.Fatalf("refund above what is left: %v", err)
		}
		if _, err := f.svc.Refund(f.officer, p2.ID, &fiscal.RefundInput{Amount: L(1), Reason: "ofițer"}); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("officer refund: %v", err)
		}
		f.checkInvariant()
	})
}

func TestEarlyPaymentBonus(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		clock.Set(day("2026-03-10"))
		f := newFixture(t, db, clock, stripetest.Start(t))
		tp, debts := f.taxpayer()
		// Paying the whole year by 31 March costs 198 − 20 = 178 lei.
		p, err := f.svc.CreateCardPayment(f.officer, &fiscal.CardPaymentInput{TaxpayerID: tp.ID, All: true})
		if err != nil {
			t.Fatal(err)
		}
		if p.Amount != L(178) || p.ClientSecret == "" || p.ProviderReference == nil || p.Currency != "RON" || p.Status != fiscal.PaymentPending {
			t.Fatalf("card payment: %+v", p)
		}
		if _, err := f.deliver(stripe.TestEvent{Type: stripe.EventPaymentSucceeded, PaymentIntentID: *p.ProviderReference, Amount: L(178)}); err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.Payment(f.officer, p.ID)
		if got.Bonus != L(20) || got.Credit != 0 || *got.ReceiptNumber != "CARD-2026-000001" || len(got.Allocations) != 2 {
			t.Fatalf("settled: %+v", got)
		}
		st, _ := f.svc.Statement(f.officer, tp.ID, civil.Date{})
		if st.TotalDue != 0 || st.Debts[0].Paid != L(99) || st.Debts[1].Paid != L(99) {
			t.Fatalf("statement: %+v", st)
		}
		// Only the first instalment chosen: no bonus.
		tp2, d2 := f.taxpayer()
		p2, err := f.svc.CreateCardPayment(f.officer, &fiscal.CardPaymentInput{TaxpayerID: tp2.ID, DebtIDs: []int64{d2[0]}})
		if err != nil || p2.Amount != L(99) {
			t.Fatalf("one instalment: %+v %v", p2, err)
		}
		// A debt of another taxpayer cannot be chosen.
		if _, err := f.svc.CreateCardPayment(f.officer, &fiscal.CardPaymentInput{TaxpayerID: tp2.ID, DebtIDs: []int64{debts[0]}}); fiscal.ErrorCode(err) != fiscal.EINVALID {
			t.Fatalf("another's debt: %v", err)
		}
		f.checkInvariant()
	})
}

// TestWebhooksExactlyOnce sends the same webhook five times and a shuffled
// sequence of events (failures, successes, partial refunds, duplicates) for
// twenty payments; the ledger holds each payment once with the right
// allocations, and allocations + credit = payments − refunds.
func TestWebhooksExactlyOnce(t *testing.T) {
	api := stripetest.Start(t)
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		f := newFixture(t, db, clock, api)
		type pay struct {
			p     *fiscal.Payment
			debts [2]int64
		}
		var ps []pay
		var events []stripe.TestEvent
		for i := 0; i < 20; i++ {
			tp, debts := f.taxpayer()
			in := &fiscal.CardPaymentInput{TaxpayerID: tp.ID, All: true}
			if i%5 == 4 {
				in = &fiscal.CardPaymentInput{TaxpayerID: tp.ID, DebtIDs: []int64{debts[1]}}
			}
			p, err := f.svc.CreateCardPayment(f.officer, in)
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, pay{p, debts})
			pi := *p.ProviderReference
			ok := stripe.TestEvent{ID: "evt_ok_" + pi, Type: stripe.EventPaymentSucceeded, PaymentIntentID: pi, Amount: p.Amount, Created: clock.Now()}
			events = append(events, ok, ok) // Stripe redelivers
			if i%3 == 0 {
				events = append(events, stripe.TestEvent{ID: "evt_fail_" + pi, Type: stripe.EventPaymentFailed, PaymentIntentID: pi, Amount: p.Amount, Created: clock.Now()})
			}
			if i%4 == 0 { // two partial refunds in Stripe: running totals 10 and 40 lei
				events = append(events,
					stripe.TestEvent{ID: "evt_ref1_" + pi, Type: stripe.EventChargeRefunded, PaymentIntentID: pi, Amount: p.Amount, RefundedAmount: L(10), Created: clock.Now()},
					stripe.TestEvent{ID: "evt_ref2_" + pi, Type: stripe.EventChargeRefunded, PaymentIntentID: pi, Amount: p.Amount, RefundedAmount: L(40), Created: clock.Now()})
			}
		}
		// The same webhook five times.
		first := events[0]
		for k := 0; k < 5; k++ {
			res, err := f.deliver(first)
			if err != nil || res.Duplicate != (k > 0) {
				t.Fatalf("delivery %d: %+v %v", k, res, err)
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
		for _, ev := range events {
			if _, err := f.deliver(ev); err != nil {
				t.Fatalf("%s: %v", ev.ID, err)
			}
		}
		// And the whole sequence once more, concurrently.
		var wg sync.WaitGroup
		for _, ev := range events {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if res, err := f.deliver(ev); err != nil || !res.Duplicate {
					t.Errorf("redelivery %s: %+v %v", ev.ID, res, err)
				}
			}()
		}
		wg.Wait()

		receipts := map[string]bool{}
		for i, x := range ps {
			got, err := f.svc.Payment(f.officer, x.p.ID)
			if err != nil {
				t.Fatal(err)
			}
			var refunded money.Bani
			if i%4 == 0 {
				refunded = L(40)
			}
			var sum money.Bani
			for _, a := range got.Allocations {
				sum += a.Amount
			}
			if got.Status != fiscal.PaymentSucceeded || got.Refunded != refunded || sum+got.Credit != got.Amount-refunded || got.ReceiptNumber == nil {
				t.Errorf("payment %d: %+v", i, got)
				continue
			}
			receipts[*got.ReceiptNumber] = true
			// Allocation: 198 lei paid (99 + 99 + 2 late fee = 200 for all);
			// the chosen second instalment gets 99.
			st, _ := f.svc.Statement(f.officer, got.TaxpayerID, civil.Date{})
			want := money.Bani(0) + refunded
			if i%5 == 4 {
				want = L(99+2) + refunded // the first instalment and its fee stay
			}
			if st.TotalDue != want {
				t.Errorf("payment %d: total due %s, want %s (%+v)", i, st.TotalDue, want, st)
			}
		}
		for n := 1; n <= 20; n++ {
			if !receipts[fmt.Sprintf("CARD-2026-%06d", n)] {
				t.Errorf("receipt number %d missing: %v", n, receipts)
			}
		}
		l := f.checkInvariant()
		var distinct int
		db.SQL().Get(&distinct, `SELECT COUNT(DISTINCT event_id) FROM stripe_events`)
		if l.Events != distinct {
			t.Fatalf("events recorded twice: %d rows, %d ids", l.Events, distinct)
		}
	})
}

// TestRefusedEventsChangeNothing: a tampered signature, an unknown payment,
// a mismatched amount or currency are refused with their error and leave the
// ledger (and the audit log) as it was.
func TestRefusedEventsChangeNothing(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		f := newFixture(t, db, clock, stripetest.Start(t))
		tp, _ := f.taxpayer()
		p, err := f.svc.CreateCardPayment(f.officer, &fiscal.CardPaymentInput{TaxpayerID: tp.ID, All: true})
		if err != nil {
			t.Fatal(err)
		}
		pi := *p.ProviderReference
		before := f.ledger()
		good := stripe.TestEvent{ID: "evt_good", Type: stripe.EventPaymentSucceeded, PaymentIntentID: pi, Amount: p.Amount, Created: clock.Now()}

		body, sig := stripe.SignedTestPayload(whsec, good.JSON())
		tampered := append([]byte(nil), body...)
		tampered[len(tampered)-3] ^= 1
		if _, err := f.svc.HandleStripeWebhook(context.Background(), tampered, sig); fiscal.ErrorCode(err) != fiscal.EMALFORMED {
			t.Fatalf("tampered body: %v", err)
		}
		_, wrongSig := stripe.SignedTestPayload("whsec_other", good.JSON())
		if _, err := f.svc.HandleStripeWebhook(context.Background(), body, wrongSig); fiscal.ErrorCode(err) != fiscal.EMALFORMED {
			t.Fatalf("wrong secret: %v", err)
		}
		unknown := good
		unknown.ID, unknown.PaymentIntentID = "evt_unknown", "pi_not_ours"
		if _, err := f.deliver(unknown); fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
			t.Fatalf("unknown payment: %v", err)
		}
		wrongAmount := good
		wrongAmount.Amount = p.Amount - 1
		if _, err := f.deliver(wrongAmount); fiscal.ErrorCode(err) != fiscal.EINVALID {
			t.Fatalf("wrong amount: %v", err)
		}
		wrongCurrency := good
		wrongCurrency.Currency = "eur"
		if _, err := f.deliver(wrongCurrency); fiscal.ErrorCode(err) != fiscal.EINVALID {
			t.Fatalf("wrong currency: %v", err)
		}
		if after := f.ledger(); after != before {
			t.Fatalf("a refused event changed the ledger: %+v -> %+v", before, after)
		}
		// The same event id, correct this time, still applies.
		if res, err := f.deliver(good); err != nil || res.Duplicate {
			t.Fatalf("good event: %+v %v", res, err)
		}
		// A refund above what was paid changes nothing either.
		before = f.ledger()
		if _, err := f.svc.Refund(f.accountant, p.ID, &fiscal.RefundInput{Amount: p.Amount + 1, Reason: "prea mult"}); fiscal.ErrorCode(err) != fiscal.EINVALID {
			t.Fatalf("refund above paid: %v", err)
		}
		if after := f.ledger(); after != before {
			t.Fatalf("a refused refund changed the ledger: %+v -> %+v", before, after)
		}
		// A card refund through stripe-mock, then its charge.refunded event:
		// applied once.
		r, err := f.svc.Refund(f.accountant, p.ID, &fiscal.RefundInput{Amount: L(50), Reason: "plată dublă"})
		if err != nil || r.Status != "succeeded" || r.ProviderReference == nil {
			t.Fatalf("card refund: %+v %v", r, err)
		}
		if _, err := f.deliver(stripe.TestEvent{ID: "evt_refunded", Type: stripe.EventChargeRefunded, PaymentIntentID: pi, Amount: p.Amount, RefundedAmount: L(50)}); err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.Payment(f.officer, p.ID)
		if got.Refunded != L(50) {
			t.Fatalf("refunded twice? %+v", got)
		}
		f.checkInvariant()
	})
}

// TestCashReceiptNumbersUnderConcurrency: officers recording cash at the same
// time never repeat or skip a receipt number, also when some of the
// transactions fail and roll back.
func TestCashReceiptNumbersUnderConcurrency(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		f := newFixture(t, db, clock, "")
		var tps []*fiscal.Taxpayer
		for i := 0; i < 4; i++ {
			tp, _ := f.taxpayer()
			tps = append(tps, tp)
		}
		var officers []context.Context
		for i := 0; i < 4; i++ {
			ctx, _ := storetest.Staff(t, db, f.muni, fmt.Sprintf("casier%d", i), fiscal.RoleOfficer)
			officers = append(officers, ctx)
		}
		const each = 10
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			nums = map[string]int{}
		)
		for o, ctx := range officers {
			for k := 0; k < each; k++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tp := tps[(o+k)%len(tps)]
					// Every third officer request also tries an invalid debt
					// choice, which fails inside the transaction.
					if k%3 == 0 {
						if _, err := f.svc.RecordCashPayment(ctx, &fiscal.CashPaymentInput{TaxpayerID: tp.ID, Amount: L(5), DebtIDs: []int64{999999}}); fiscal.ErrorCode(err) != fiscal.EINVALID {
							t.Errorf("invalid choice: %v", err)
						}
					}
					p, err := f.svc.RecordCashPayment(ctx, &fiscal.CashPaymentInput{TaxpayerID: tp.ID, Amount: L(int64(7 + k))})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					nums[*p.ReceiptNumber]++
					mu.Unlock()
				}()
			}
		}
		wg.Wait()
		if len(nums) != len(officers)*each {
			t.Fatalf("%d distinct numbers for %d payments: %v", len(nums), len(officers)*each, nums)
		}
		for n := 1; n <= len(officers)*each; n++ {
			if nums[fmt.Sprintf("CASA-2026-%06d", n)] != 1 {
				t.Fatalf("receipt %d: %d times (%v)", n, nums[fmt.Sprintf("CASA-2026-%06d", n)], nums)
			}
		}
		f.checkInvariant()
	})
}
