package reports_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// ledgerFixture is a municipality with three taxpayers, their 2026 debts
// under four budget codes, cash and card payments (one with the bonus, one
// overpaid), a card refund and a cash refund of credit.
type ledgerFixture struct {
	t          testing.TB
	db         *store.DB
	clock      *fiscal.TestClock
	muni       *fiscal.Municipality
	officer    context.Context
	accountant context.Context
	admin      context.Context
	taxpayers  []*fiscal.Taxpayer
	seq        int
}

func at(s string) time.Time {
	d := civil.MustParse(s)
	return time.Date(d.Year, d.Month, d.Day, 9, 0, 0, 0, time.UTC)
}

func newLedger(t testing.TB, db *store.DB, clock *fiscal.TestClock) *ledgerFixture {
	t.Helper()
	m := storetest.Municipality(t, db, "timisoara")
	if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE municipalities SET name = ? WHERE id = ?`), "Municipiul Timișoara", m.ID); err != nil {
		t.Fatal(err)
	}
	m.Name = "Municipiul Timișoara"
	f := &ledgerFixture{t: t, db: db, clock: clock, muni: m}
	f.officer, _ = storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
	f.accountant, _ = storetest.Staff(t, db, m, "carmen", fiscal.RoleAccountant)
	f.admin, _ = storetest.Staff(t, db, m, "admin", fiscal.RoleAdmin)
	return f
}

// assess records a tax year of an object with its instalments.
func (f *ledgerFixture) assess(tp *fiscal.Taxpayer, tax, code string, bonus money.Bani, inst ...calc.Installment) {
	f.t.Helper()
	f.seq++
	var annual money.Bani
	for _, i := range inst {
		annual += i.Amount
	}
	err := f.db.InTx(f.officer, func(tx *store.Tx) error {
		_, _, err := tx.RecordAssessment(context.Background(), f.muni.ID, &fiscal.NewAssessment{TaxpayerID: tp.ID, TaxType: tax, ObjectKind: tax,
			ObjectID: int64(1000 + f.seq), Year: 2026, Assessment: calc.Assessment{TaxType: tax, BudgetCode: code, Annual: annual}, Installments: inst, Bonus: bonus, Source: "annual"})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func inst(due string, lei int64) calc.Installment {
	return calc.Installment{DueDate: civil.MustParse(due), Amount: money.Lei(lei)}
}

func (f *ledgerFixture) taxpayer(in fiscal.TaxpayerInput) *fiscal.Taxpayer {
	f.t.Helper()
	in.Address = "Str. Mărășești 1, Timișoara"
	tp, err := f.db.CreateTaxpayer(f.officer, &in)
	if err != nil {
		f.t.Fatal(err)
	}
	f.taxpayers = append(f.taxpayers, tp)
	return tp
}

func (f *ledgerFixture) cash(on string, tp *fiscal.Taxpayer, lei int64) *fiscal.Payment {
	f.t.Helper()
	f.clock.Set(at(on))
	p, err := f.db.RecordCashPayment(f.officer, &fiscal.CashPaymentInput{TaxpayerID: tp.ID, Amount: money.Lei(lei)})
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// card pays the chosen debts (all when none) by card, settled by a
// succeeded event as Stripe would send it.
func (f *ledgerFixture) card(on string, tp *fiscal.Taxpayer, debts ...int64) *fiscal.Payment {
	f.t.Helper()
	f.clock.Set(at(on))
	p, err := f.db.BeginCardPayment(f.officer, &fiscal.CardPaymentInput{TaxpayerID: tp.ID, DebtIDs: debts, All: len(debts) == 0})
	if err != nil {
		f.t.Fatal(err)
	}
	pi := fmt.Sprintf("pi_report_%d", p.ID)
	p.ProviderReference = &pi
	if err := f.db.AttachPaymentIntent(f.officer, p); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.db.ApplyProviderEvent(context.Background(), &fiscal.ProviderEvent{ID: "evt_" + pi, Type: fiscal.EventPaymentSucceeded, Created: f.clock.Now(),
		PaymentIntentID: pi, Amount: p.Amount, AmountReceived: p.Amount, Currency: "ron"}); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *ledgerFixture) refund(on string, p *fiscal.Payment, lei int64) {
	f.t.Helper()
	f.clock.Set(at(on))
	r, _, err := f.db.BeginRefund(f.accountant, p.ID, &fiscal.RefundInput{Amount: money.Lei(lei), Reason: "plată dublă"})
	if err != nil {
		f.t.Fatal(err)
	}
	if p.Method == fiscal.MethodCard {
		if _, err := f.db.CompleteRefund(f.accountant, r.ID, fmt.Sprintf("re_report_%d", r.ID)); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *ledgerFixture) debtIDs(tp *fiscal.Taxpayer) []int64 {
	f.t.Helper()
	var ids []int64
	if err := f.db.SQL().Select(&ids, f.db.SQL().Rebind(`SELECT id FROM debts WHERE taxpayer_id = ? AND kind = 'principal' ORDER BY due_date, id`), tp.ID); err != nil {
		f.t.Fatal(err)
	}
	return ids
}

// standard builds the ledger the report tests share.
func (f *ledgerFixture) standard() {
	f.t.Helper()
	f.clock.Set(at("2026-01-20"))
	ana := f.taxpayer(fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: "2850615350041", Name: "Ana Popescu-Țăranu"})
	srl := f.taxpayer(fiscal.TaxpayerInput{Kind: fiscal.Company, CUI: "18547290", Name: "Mărășești Transport, SRL"})
	ion := f.taxpayer(fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: "1850315350012", Name: `Ion "Nelu" Ionescu`})
	f.assess(ana, calc.TaxVehicle, "16.02.02.01", money.Lei(20), inst("2026-03-31", 99), inst("2026-09-30", 99))
	f.assess(ana, calc.TaxBuilding, "07.02.01.01", money.Lei(44), inst("2026-03-31", 219), inst("2026-09-30", 219))
	f.assess(srl, calc.TaxVehicle, "16.02.02.02", 0, inst("2026-03-31", 1250), inst("2026-09-30", 1250))
	f.assess(ion, calc.TaxLand, "07.02.02.01", 0, inst("2026-03-31", 30))

	// Ana pays her vehicle tax for the year by card before the deadline
	// (198 − 20 bonus), and the building tax late, in cash.
	f.card("2026-03-10", ana, f.debtIDs(ana)[0], f.debtIDs(ana)[2])
	f.cash("2026-05-12", ana, 219)
	// The company pays its first instalment by card, twice by mistake; both
	// are refunded in part.
	ids := f.debtIDs(srl)
	first := f.card("2026-03-30", srl, ids[0])
	dup := f.cash("2026-03-31", srl, 1250)
	f.refund("2026-04-02", dup, 1000)
	f.refund("2026-04-03", first, 250)
	// Ion pays his land tax late and too much; part of the credit is refunded.
	p := f.cash("2026-04-20", ion, 50)
	f.refund("2026-04-21", p, 15)
	f.clock.Set(at("2026-11-27"))
}
