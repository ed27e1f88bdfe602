package payments_test

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
	"fiscald/payments"
	"fiscald/payments/stripe"
	"fiscald/payments/stripe/stripetest"
)

const whsec = "whsec_fiscald_test"

// fixture is a municipality on a real database with staff, the payment
// service wired to stripe-mock, and helpers to create taxpayers with debts.
type fixture struct {
	t          testing.TB
	db         *store.DB
	clock      *fiscal.TestClock
	muni       *fiscal.Municipality
	svc        *payments.Service
	officer    context.Context
	accountant context.Context
	seq        int
}

func newFixture(t testing.TB, db *store.DB, clock *fiscal.TestClock, apiBase string) *fixture {
	t.Helper()
	m := storetest.Municipality(t, db, "timisoara")
	officer, _ := storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
	accountant, _ := storetest.Staff(t, db, m, "carmen", fiscal.RoleAccountant)
	cfg := stripe.Config{WebhookSecret: whsec}
	if apiBase != "" {
		cfg.SecretKey, cfg.APIBase = "sk_test_fiscald", apiBase
	}
	sc, err := stripe.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, db: db, clock: clock, muni: m, svc: payments.NewService(db, sc, clock), officer: officer, accountant: accountant}
}

// cnp builds a valid CNP (born 15 March 1985 in Timiș) with serial n.
func cnp(n int) string {
	body := fmt.Sprintf("1850315350%02d", n%100) + fmt.Sprint(n/100%10)
	body = body[:12]
	w := "279146358279"
	sum := 0
	for i := 0; i < 12; i++ {
		sum += int(body[i]-'0') * int(w[i]-'0')
	}
	c := sum % 11
	if c == 10 {
		c = 1
	}
	return body + fmt.Sprint(c)
}

// taxpayer creates a taxpayer with a 1,598 cm³ Euro 6 car assessed for 2026
// in Timișoara: 198 lei in two instalments of 99 (31 March, 30 September),
// bonus 20 lei. It returns the taxpayer and the two debt ids.
func (f *fixture) taxpayer() (*fiscal.Taxpayer, [2]int64) {
	f.t.Helper()
	f.seq++
	tp, err := f.db.CreateTaxpayer(f.officer, &fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: cnp(f.seq), Name: fmt.Sprintf("Contribuabil %d", f.seq), Address: "Str. Mărășești 1"})
	if err != nil {
		f.t.Fatal(err)
	}
	e, err := f.db.TaxEngine(context.Background(), f.muni.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	v := &fiscal.Vehicle{TaxpayerID: tp.ID, VIN: fmt.Sprintf("WVWZZZAUZHW%06d", f.seq), Plate: fmt.Sprintf("TM-%02d-ABC", f.seq%100), Category: "car", EngineCC: 1598,
		EmissionClass: "euro6", Propulsion: "combustion", AcquiredOn: civil.MustParse("2020-03-10"), TaxedFromYear: 2021}
	a, err := e.Annual("timisoara", 2026, v.VehicleObject())
	if err != nil {
		f.t.Fatal(err)
	}
	inst, err := e.Installments("timisoara", 2026, a.Annual)
	if err != nil {
		f.t.Fatal(err)
	}
	bonus, err := e.Bonus("timisoara", 2026, calc.TaxVehicle, a.Annual)
	if err != nil {
		f.t.Fatal(err)
	}
	err = f.db.InTx(f.officer, func(tx *store.Tx) error {
		if err := tx.InsertVehicle(context.Background(), f.muni.ID, v); err != nil {
			return err
		}
		_, _, err := tx.RecordAssessment(context.Background(), f.muni.ID, &fiscal.NewAssessment{TaxpayerID: tp.ID, TaxType: calc.TaxVehicle, ObjectKind: "vehicle",
			ObjectID: v.ID, Year: 2026, Assessment: a, Installments: inst, Bonus: bonus, Source: "annual"})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []int64
	if err := f.db.SQL().Select(&ids, f.db.SQL().Rebind(`SELECT id FROM debts WHERE taxpayer_id = ? ORDER BY due_date`), tp.ID); err != nil || len(ids) != 2 {
		f.t.Fatalf("debts %v %v", ids, err)
	}
	return tp, [2]int64{ids[0], ids[1]}
}

// deliver signs an event as Stripe does and hands it to the service.
func (f *fixture) deliver(ev stripe.TestEvent) (*fiscal.WebhookResult, error) {
	if ev.Created.IsZero() {
		ev.Created = f.clock.Now()
	}
	body, sig := stripe.SignedTestPayload(whsec, ev.JSON())
	return f.svc.HandleStripeWebhook(context.Background(), body, sig)
}

// ledger sums what the invariant compares.
type ledger struct {
	Allocated, Credit, Succeeded, Refunded money.Bani
	CreditRefunded                         money.Bani
	Allocations, Events, Audit             int
}

func (f *fixture) ledger() ledger {
	f.t.Helper()
	var l ledger
	q := func(dst any, query string) {
		if err := f.db.SQL().Get(dst, query); err != nil {
			f.t.Fatalf("%s: %v", query, err)
		}
	}
	q(&l.Allocated, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM allocations WHERE source IN ('payment', 'refund')`)
	q(&l.Credit, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM credit_entries`)
	q(&l.Succeeded, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM payments WHERE status IN ('succeeded', 'refunded')`)
	q(&l.Refunded, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM refunds WHERE status = 'succeeded'`)
	q(&l.CreditRefunded, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM credit_refunds`)
	q(&l.Allocations, `SELECT COUNT(*) FROM allocations`)
	q(&l.Events, `SELECT COUNT(*) FROM stripe_events`)
	q(&l.Audit, `SELECT COUNT(*) FROM audit_log`)
	return l
}

// checkInvariant: Σ allocations + credit = Σ succeeded payments − refunds −
// credit refunded by transfer.
func (f *fixture) checkInvariant() ledger {
	f.t.Helper()
	l := f.ledger()
	if l.Allocated+l.Credit != l.Succeeded-l.Refunded-l.CreditRefunded {
		f.t.Fatalf("invariant broken: allocations %s + credit %s != payments %s - refunds %s", l.Allocated, l.Credit, l.Succeeded, l.Refunded)
	}
	return l
}

func day(s string) time.Time {
	d := civil.MustParse(s)
	return time.Date(d.Year, d.Month, d.Day, 9, 0, 0, 0, time.UTC)
}

var _ = stripetest.Start
