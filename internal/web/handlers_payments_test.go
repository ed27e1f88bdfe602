package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/payments/stripe"
	"fiscald/payments/stripe/stripetest"
)

// assessCar gives a taxpayer a 2026 car tax of 198 lei (99 + 99).
func assessCar(t testing.TB, db *store.DB, muniID, taxpayerID int64, vin string) {
	t.Helper()
	ctx := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test", MunicipalityID: muniID})
	e, err := db.TaxEngine(ctx, muniID)
	if err != nil {
		t.Fatal(err)
	}
	v := &fiscal.Vehicle{TaxpayerID: taxpayerID, VIN: vin, Plate: "TM-01-ANA", Category: "car", EngineCC: 1598, EmissionClass: "euro6",
		Propulsion: "combustion", AcquiredOn: civil.MustParse("2020-01-10"), TaxedFromYear: 2021}
	a, _ := e.Annual("timisoara", 2026, v.VehicleObject())
	inst, _ := e.Installments("timisoara", 2026, a.Annual)
	bonus, _ := e.Bonus("timisoara", 2026, calc.TaxVehicle, a.Annual)
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertVehicle(ctx, muniID, v); err != nil {
			return err
		}
		_, _, err := tx.RecordAssessment(ctx, muniID, &fiscal.NewAssessment{TaxpayerID: taxpayerID, TaxType: calc.TaxVehicle, ObjectKind: "vehicle",
			ObjectID: v.ID, Year: 2026, Assessment: a, Installments: inst, Bonus: bonus, Source: "annual"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPaymentsContractAndAccess(t *testing.T) {
	api := stripetest.Start(t)
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnvStripe(t, db, clock, api)
		ana := e.do("POST", "/api/v1/auth/register", "", individual("ana", "2850615350041"))
		e.do("POST", "/api/v1/auth/register", "", individual("mihai", "1850315350012"))
		anaID := int64(ana.Body["taxpayer"].(map[string]any)["id"].(float64))
		assessCar(t, db, e.muni.ID, anaID, "WVWZZZAUZHW123456")
		anaTok, mihaiTok := e.login("ana", "parola-lunga-1"), e.login("mihai", "parola-lunga-1")
		// Staff of another municipality.
		other := storetest.Municipality(t, db, "arad")
		if _, err := db.CreateStaff(context.Background(), other.ID, "aradofficer", "password-arad", fiscal.RoleOfficer, "Arad"); err != nil {
			t.Fatal(err)
		}
		r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "aradofficer", "password": "password-arad"}, "X-Municipality", "arad")
		if r.Status != 200 {
			t.Fatalf("arad login: %d %s", r.Status, r.Raw)
		}
		aradTok := r.Body["token"].(string)

		// Statement: the contract's fields; who may read it.
		stPath := fmt.Sprintf("/api/v1/taxpayers/%d/statement", anaID)
		st := e.do("GET", stPath+"?as_of=2026-05-08", anaTok, nil)
		if st.Status != 200 || st.Body["total_due"] != "200.00" || st.Body["credit"] != "0.00" || st.Body["as_of"] != "2026-05-08" {
			t.Fatalf("statement: %d %s", st.Status, st.Raw)
		}
		d0 := st.Body["debts"].([]any)[0].(map[string]any)
		for _, k := range []string{"id", "tax_type", "year", "object_id", "installment", "due_date", "principal", "paid", "outstanding", "late_fees", "budget_code"} {
			if _, ok := d0[k]; !ok {
				t.Errorf("statement debt lacks %q: %v", k, d0)
			}
		}
		if d0["late_fees"] != "2.00" || d0["principal"] != "99.00" || d0["budget_code"] != "16.02.02.01" {
			t.Fatalf("debt line: %v", d0)
		}
		if r := e.do("GET", stPath, "", nil); r.Status != 401 {
			t.Fatalf("anonymous statement: %d", r.Status)
		}
		if r := e.do("GET", stPath, mihaiTok, nil); r.Status != 404 {
			t.Fatalf("another taxpayer's statement: %d", r.Status)
		}
		if r := e.do("GET", stPath, aradTok, nil); r.Status != 404 {
			t.Fatalf("another municipality's staff: %d", r.Status)
		}
		if r := e.do("GET", stPath, e.tokens["officer"], nil); r.Status != 200 {
			t.Fatalf("officer statement: %d", r.Status)
		}
		if r := e.do("GET", stPath+"?as_of=2026-13-01", anaTok, nil); r.Status != 422 {
			t.Fatalf("bad as_of: %d", r.Status)
		}

		// Card payment with Idempotency-Key.
		body := map[string]any{"taxpayer_id": anaID, "all": true}
		p := e.do("POST", "/api/v1/payments", anaTok, body, "Idempotency-Key", "k1")
		if p.Status != 201 || p.Body["amount"] != "200.00" || p.Body["currency"] != "RON" || p.Body["provider"] != "stripe" || p.Body["status"] != "pending" ||
			!strings.HasPrefix(fmt.Sprint(p.Body["provider_reference"]), "pi_") || p.Body["client_secret"] == "" {
			t.Fatalf("card payment: %d %s", p.Status, p.Raw)
		}
		again := e.do("POST", "/api/v1/payments", anaTok, body, "Idempotency-Key", "k1")
		if again.Status != 201 || string(again.Raw) != string(p.Raw) || again.Header["Idempotent-Replayed"] != "true" {
			t.Fatalf("replay: %d %s", again.Status, again.Raw)
		}
		if r := e.do("POST", "/api/v1/payments", anaTok, map[string]any{"taxpayer_id": anaID, "debt_ids": []int64{1}}, "Idempotency-Key", "k1"); r.Status != 409 {
			t.Fatalf("same key, other body: %d", r.Status)
		}
		if r := e.do("POST", "/api/v1/payments", mihaiTok, body); r.Status != 404 {
			t.Fatalf("paying another's debts: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/v1/payments", anaTok, map[string]any{"taxpayer_id": anaID}); r.Status != 422 {
			t.Fatalf("neither debt_ids nor all: %d", r.Status)
		}
		pid := int64(p.Body["id"].(float64))
		pi := p.Body["provider_reference"].(string)

		// Webhooks: a bad signature is 400; a good one settles.
		ev := stripe.TestEvent{ID: "evt_web_1", Type: stripe.EventPaymentSucceeded, PaymentIntentID: pi, Amount: money.Lei(200), Created: clock.Now()}
		payload, sig := stripe.SignedTestPayload(testWebhookSecret, ev.JSON())
		if r := e.do("POST", "/api/v1/webhooks/stripe", "", payload, "Stripe-Signature", "t=1,v1=00"); r.Status != 400 || r.Header["Content-Type"] != "application/problem+json" {
			t.Fatalf("bad signature: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/v1/webhooks/stripe", "", payload, "Stripe-Signature", sig); r.Status != 200 {
			t.Fatalf("webhook: %d %s", r.Status, r.Raw)
		}
		unknown := ev
		unknown.ID, unknown.PaymentIntentID = "evt_web_2", "pi_unknown"
		up, usig := stripe.SignedTestPayload(testWebhookSecret, unknown.JSON())
		if r := e.do("POST", "/api/v1/webhooks/stripe", "", up, "Stripe-Signature", usig); r.Status != 404 {
			t.Fatalf("unknown payment: %d %s", r.Status, r.Raw)
		}
		payPath := fmt.Sprintf("/api/v1/payments/%d", pid)
		g := e.do("GET", payPath, anaTok, nil)
		if g.Status != 200 || g.Body["status"] != "succeeded" || g.Body["provider_reference"] != pi || len(g.Body["allocations"].([]any)) != 3 || g.Body["receipt_url"] != payPath+"/receipt.pdf" {
			t.Fatalf("payment: %d %s", g.Status, g.Raw)
		}
		if r := e.do("GET", payPath, mihaiTok, nil); r.Status != 404 {
			t.Fatalf("another's payment: %d", r.Status)
		}
		if r := e.do("GET", payPath, aradTok, nil); r.Status != 404 {
			t.Fatalf("another municipality's payment: %d", r.Status)
		}
		if r := e.do("GET", payPath, "", nil); r.Status != 401 {
			t.Fatalf("anonymous payment: %d", r.Status)
		}
		if r := e.do("GET", payPath+"/receipt.pdf", anaTok, nil); r.Status != 200 || r.Header["Content-Type"] != "application/pdf" || !strings.HasPrefix(string(r.Raw), "%PDF-") {
			t.Fatalf("receipt: %d %s", r.Status, r.Header["Content-Type"])
		}

		// Cash: officers only.
		cash := map[string]any{"taxpayer_id": anaID, "amount": "15.50"}
		for who, want := range map[string]int{"ana": 403, "accountant": 403, "signer": 403, "": 401} {
			tok := e.tokens[who]
			if who == "ana" {
				tok = anaTok
			}
			if r := e.do("POST", "/api/v1/payments/cash", tok, cash); r.Status != want {
				t.Fatalf("cash by %q: %d", who, r.Status)
			}
		}
		if r := e.do("POST", "/api/v1/payments/cash", aradTok, cash); r.Status != 404 {
			t.Fatalf("cash by another municipality: %d", r.Status)
		}
		if r := e.do("POST", "/api/v1/payments/cash", e.tokens["officer"], map[string]any{"taxpayer_id": anaID, "amount": 15.5}); r.Status != 422 {
			t.Fatalf("amount as a number: %d", r.Status)
		}
		c := e.do("POST", "/api/v1/payments/cash", e.tokens["officer"], cash)
		if c.Status != 201 || c.Body["amount"] != "15.50" || c.Body["credit"] != "15.50" || !strings.HasPrefix(fmt.Sprint(c.Body["receipt_number"]), "CASA-2026-") {
			t.Fatalf("cash: %d %s", c.Status, c.Raw)
		}

		// Refunds: accountants only, never above what was paid.
		ref := payPath + "/refunds"
		if r := e.do("POST", ref, e.tokens["officer"], map[string]any{"amount": "10.00", "reason": "dublă"}); r.Status != 403 {
			t.Fatalf("refund by officer: %d", r.Status)
		}
		if r := e.do("POST", ref, anaTok, map[string]any{"amount": "10.00", "reason": "dublă"}); r.Status != 403 {
			t.Fatalf("refund by taxpayer: %d", r.Status)
		}
		if r := e.do("POST", ref, e.tokens["accountant"], map[string]any{"amount": "200.01", "reason": "prea mult"}); r.Status != 422 || fieldNames(r)[0] != "amount" {
			t.Fatalf("refund above paid: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", ref, e.tokens["accountant"], map[string]any{"amount": "10.00"}); r.Status != 422 {
			t.Fatalf("refund without reason: %d", r.Status)
		}
		rr := e.do("POST", ref, e.tokens["accountant"], map[string]any{"amount": "10.00", "reason": "plată dublă"})
		if rr.Status != 201 || rr.Body["status"] != "succeeded" || rr.Body["amount"] != "10.00" {
			t.Fatalf("refund: %d %s", rr.Status, rr.Raw)
		}
		// The refund takes back the card payment's late fee (2) and 8 lei of
		// the newest instalment; the cash credit of 15.50 covers them.
		st = e.do("GET", stPath, anaTok, nil)
		d1 := st.Body["debts"].([]any)[1].(map[string]any)
		if st.Body["total_due"] != "0.00" || st.Body["credit"] != "15.50" || d1["outstanding"] != "8.00" {
			t.Fatalf("statement after refund: %s", st.Raw)
		}
	})
}

func TestCardPaymentsNotConfigured(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		ana := e.do("POST", "/api/v1/auth/register", "", individual("ana", "2850615350041"))
		anaID := int64(ana.Body["taxpayer"].(map[string]any)["id"].(float64))
		r := e.do("POST", "/api/v1/payments", e.login("ana", "parola-lunga-1"), map[string]any{"taxpayer_id": anaID, "all": true})
		if r.Status != 503 || r.Header["Content-Type"] != "application/problem+json" || !strings.Contains(fmt.Sprint(r.Body["detail"]), "not configured") {
			t.Fatalf("without a key: %d %s", r.Status, r.Raw)
		}
	})
}
