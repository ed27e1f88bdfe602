package payments_test

import (
	"context"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

func TestCreditApplyAndRefund(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		f := newFixture(t, db, clock, "")
		clock.Set(day("2026-05-08"))
		tp, debts := f.taxpayer()
		other, _ := f.taxpayer()
		// 150 lei on the September instalment only: 99 pay it, 51 are credit.
		p, err := f.svc.RecordCashPayment(f.officer, &fiscal.CashPaymentInput{TaxpayerID: tp.ID, Amount: lei("150.00"), DebtIDs: []int64{debts[1]}})
		if err != nil || p.Credit != lei("51.00") {
			t.Fatalf("payment %v %+v", err, p)
		}
		f.checkInvariant()
		// Who may apply it: the taxpayer's staff, the taxpayer; not another
		// taxpayer, not staff of another municipality.
		if _, err := db.ApplyCredit(f.asTaxpayer(other), tp.ID); fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
			t.Fatalf("another taxpayer applied the credit: %v", err)
		}
		app, err := db.ApplyCredit(f.asTaxpayer(tp), tp.ID)
		if err != nil || app.Applied != lei("51.00") || app.Credit != 0 || len(app.Allocations) != 1 || app.Allocations[0].DebtID != debts[0] {
			t.Fatalf("apply: %v %+v", err, app)
		}
		st := f.statement(tp.ID)
		if st.Credit != 0 || st.Debts[0].Outstanding != lei("48.00") {
			t.Fatalf("after applying: %+v", st)
		}
		if _, err := db.ApplyCredit(f.officer, tp.ID); fiscal.ErrorCode(err) != fiscal.EINVALID {
			t.Fatalf("nothing to apply: %v", err)
		}
		f.checkInvariant()
		// Overpay again, then refund part of the credit by transfer.
		if _, err := f.svc.RecordCashPayment(f.officer, &fiscal.CashPaymentInput{TaxpayerID: tp.ID, Amount: lei("300.00")}); err != nil {
			t.Fatal(err)
		}
		credit := f.statement(tp.ID).Credit
		in := &fiscal.CreditRefundInput{Amount: lei("100.00"), Reason: "cerere de restituire", IBAN: "RO49 AAAA 1B31 0075 9384 0000"}
		if _, err := db.RefundCredit(f.officer, tp.ID, in); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("officer refunded credit: %v", err)
		}
		r, err := db.RefundCredit(f.accountant, tp.ID, in)
		if err != nil || r.Status != fiscal.CreditRefundPending || r.IBAN != "RO49AAAA1B31007593840000" || r.Credit != credit-lei("100.00") {
			t.Fatalf("refund: %v %+v", err, r)
		}
		if _, err := db.RefundCredit(f.accountant, tp.ID, &fiscal.CreditRefundInput{Amount: credit, Reason: "prea mult", IBAN: in.IBAN}); fiscal.ErrorCode(err) != fiscal.EINVALID {
			t.Fatalf("refund above the credit: %v", err)
		}
		if got := f.statement(tp.ID).Credit; got != credit-lei("100.00") {
			t.Fatalf("credit after refund %s", got)
		}
		f.checkInvariant()
	})
}

// asTaxpayer is the context of the taxpayer's own account.
func (f *fixture) asTaxpayer(tp *fiscal.Taxpayer) context.Context {
	id := tp.ID
	return fiscal.WithActor(context.Background(), &fiscal.Actor{Username: "tp", Role: fiscal.RoleTaxpayer, MunicipalityID: f.muni.ID, TaxpayerID: &id, Assurance: fiscal.AssuranceSelf})
}
