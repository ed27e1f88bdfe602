package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store/storetest"
	"fiscald/payments/stripe"
)

// validCNP builds a valid CNP (born 15 March 1985, Timiș) with serial n < 1000.
func validCNP(n int) string {
	body := fmt.Sprintf("185031535%03d", n%1000)
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

// BenchmarkStripeWebhook drives signed payment_intent.succeeded webhooks end
// to end through the HTTP app on SQLite: signature check, event dedup,
// late-fee materialisation, allocation, receipt number, audit, commit. Each
// webhook settles a different pending payment (50 taxpayers, round robin).
func BenchmarkStripeWebhook(b *testing.B) {
	clock := fiscal.NewTestClock(storetest.Epoch)
	db := storetest.MustOpen(b, "sqlite", clock)
	e := newEnvStripe(b, db, clock, "")
	const taxpayers = 50
	officer := fiscal.WithActor(context.Background(), &fiscal.Actor{UserID: 1, Username: "officer1", MunicipalityID: e.muni.ID, Role: fiscal.RoleOfficer})
	var ids []int64
	for i := 0; i < taxpayers; i++ {
		tp, err := db.CreateTaxpayer(officer, &fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: validCNP(i + 1), Name: fmt.Sprintf("Contribuabil %d", i), Address: "Str. Mărășești 1"})
		if err != nil {
			b.Fatal(err)
		}
		assessCar(b, db, e.muni.ID, tp.ID, fmt.Sprintf("WVWZZZAUZHW%06d", i))
		ids = append(ids, tp.ID)
	}
	type delivery struct {
		body []byte
		sig  string
	}
	ds := make([]delivery, b.N)
	for i := range ds {
		p, err := db.BeginCardPayment(officer, &fiscal.CardPaymentInput{TaxpayerID: ids[i%taxpayers], All: true})
		if err != nil {
			b.Fatal(err)
		}
		pi := fmt.Sprintf("pi_bench_%d", p.ID)
		p.ProviderReference = &pi
		if err := db.AttachPaymentIntent(officer, p); err != nil {
			b.Fatal(err)
		}
		ev := stripe.TestEvent{ID: "evt_bench_" + pi, Type: stripe.EventPaymentSucceeded, PaymentIntentID: pi, Amount: p.Amount, Created: clock.Now()}
		ds[i].body, ds[i].sig = stripe.SignedTestPayload(testWebhookSecret, ev.JSON())
	}
	app := e.srv.App()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/api/v1/webhooks/stripe", bytes.NewReader(ds[i].body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", ds[i].sig)
		res, err := app.Test(req, -1)
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("webhook %d: %v %v", i, res.StatusCode, err)
		}
		res.Body.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "webhooks/s")
}
