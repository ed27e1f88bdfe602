package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/money"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/payments/stripe"
	"fiscald/payments/stripe/stripetest"
)

// lossyProxy stands between fiscald and stripe-mock. It forwards every
// request; while dropping, it forwards a refund to Stripe and then cuts the
// connection instead of answering (Stripe acted, fiscald never learns it).
// It records the Stripe idempotency key of every refund that reached Stripe.
type lossyProxy struct {
	mu       sync.Mutex
	dropping bool
	keys     []string // Idempotency-Key of each refund forwarded
	dropped  int
}

func (p *lossyProxy) start(t *testing.T, api string) string {
	t.Helper()
	target, err := url.Parse(api)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/refunds" {
			rp.ServeHTTP(w, r)
			return
		}
		p.mu.Lock()
		p.keys = append(p.keys, r.Header.Get("Idempotency-Key"))
		drop := p.dropping
		if drop {
			p.dropped++
		}
		p.mu.Unlock()
		if !drop {
			rp.ServeHTTP(w, r)
			return
		}
		// Stripe gets the refund and answers; the answer is lost.
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Errorf("stripe-mock refused the forwarded refund: %d %s", rec.Code, rec.Body)
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (p *lossyProxy) set(dropping bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropping = dropping
}

func (p *lossyProxy) refunds() ([]string, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.keys...), p.dropped
}

// A card refund whose answer from Stripe is lost stays requested with its
// Idempotency-Key claimed; the accountant's retry with the same key sends
// the same refund under the same Stripe idempotency key (never a second
// refund) and completes it; a refund left pending is settled by Stripe's
// charge.refunded event.
func TestRefundAnswerLost(t *testing.T) {
	api := stripetest.Start(t)
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		proxy := &lossyProxy{}
		e := newEnvStripe(t, db, clock, proxy.start(t, api))
		anaID, anaTok := e.taxpayer("ana", "2850615350041")
		assessCar(t, db, e.muni.ID, anaID, "WVWZZZAUZHW123456")
		p := e.do("POST", "/api/v1/payments", anaTok, map[string]any{"taxpayer_id": anaID, "all": true}, "Idempotency-Key", "pay-1")
		if p.Status != 201 {
			t.Fatalf("card payment: %d %s", p.Status, p.Raw)
		}
		pi := p.Body["provider_reference"].(string)
		amount, err := money.Parse(p.Body["amount"].(string))
		if err != nil {
			t.Fatal(err)
		}
		ev := stripe.TestEvent{ID: "evt_lost_paid", Type: stripe.EventPaymentSucceeded, PaymentIntentID: pi, Amount: amount, Created: clock.Now()}
		payload, sig := stripe.SignedTestPayload(testWebhookSecret, ev.JSON())
		if r := e.do("POST", "/api/v1/webhooks/stripe", "", payload, "Stripe-Signature", sig); r.Status != 200 {
			t.Fatalf("webhook: %d %s", r.Status, r.Raw)
		}
		refunds := fmt.Sprintf("/api/v1/payments/%d/refunds", int64(p.Body["id"].(float64)))
		acc := e.tokens["accountant"]
		body := map[string]any{"amount": "10.00", "reason": "plată dublă"}

		// 1. The answer is lost: 503 with Retry-After, the refund pending.
		proxy.set(true)
		first := e.do("POST", refunds, acc, body, "Idempotency-Key", "rf-lost-1")
		if first.Status != 503 || first.Header["Retry-After"] == "" {
			t.Fatalf("lost answer: %d %v %s", first.Status, first.Header, first.Raw)
		}
		var status string
		if err := db.SQL().Get(&status, `SELECT status FROM refunds WHERE amount_bani = 1000`); err != nil || status != fiscal.RefundRequested {
			t.Fatalf("refund after the lost answer: %q %v", status, err)
		}
		// Retried while Stripe still cannot be heard: still pending, no new refund row.
		if r := e.do("POST", refunds, acc, body, "Idempotency-Key", "rf-lost-1"); r.Status != 503 {
			t.Fatalf("retry while dropping: %d %s", r.Status, r.Raw)
		}
		// 2. The retry with the same key completes the same refund.
		proxy.set(false)
		retry := e.do("POST", refunds, acc, body, "Idempotency-Key", "rf-lost-1")
		if retry.Status != 201 || retry.Body["status"] != fiscal.RefundSucceeded || retry.Body["amount"] != "10.00" {
			t.Fatalf("retry: %d %s", retry.Status, retry.Raw)
		}
		again := e.do("POST", refunds, acc, body, "Idempotency-Key", "rf-lost-1")
		if again.Status != 201 || string(again.Raw) != string(retry.Raw) || again.Header["Idempotent-Replayed"] != "true" {
			t.Fatalf("replay: %d %s", again.Status, again.Raw)
		}
		keys, dropped := proxy.refunds()
		if dropped == 0 || len(keys) < 3 {
			t.Fatalf("the proxy saw %d refunds (%d dropped): the test did not exercise a lost answer", len(keys), dropped)
		}
		for _, k := range keys {
			if k == "" || k != keys[0] {
				t.Fatalf("refund sent to Stripe under more than one idempotency key: %q", keys)
			}
		}
		var rows int
		if err := db.SQL().Get(&rows, `SELECT COUNT(*) FROM refunds`); err != nil || rows != 1 {
			t.Fatalf("refund rows: %d %v", rows, err)
		}

		// 3. A lost answer nobody retries: Stripe's event settles it.
		proxy.set(true)
		body2 := map[string]any{"amount": "5.00", "reason": "a doua restituire"}
		if r := e.do("POST", refunds, acc, body2, "Idempotency-Key", "rf-lost-2"); r.Status != 503 {
			t.Fatalf("second lost answer: %d %s", r.Status, r.Raw)
		}
		ev = stripe.TestEvent{ID: "evt_lost_refunded", Type: stripe.EventChargeRefunded, PaymentIntentID: pi, Amount: amount, RefundedAmount: money.Lei(15), Created: clock.Now()}
		payload, sig = stripe.SignedTestPayload(testWebhookSecret, ev.JSON())
		if r := e.do("POST", "/api/v1/webhooks/stripe", "", payload, "Stripe-Signature", sig); r.Status != 200 {
			t.Fatalf("charge.refunded: %d %s", r.Status, r.Raw)
		}
		var st []string
		if err := db.SQL().Select(&st, `SELECT status FROM refunds ORDER BY id`); err != nil || len(st) != 2 || st[0] != "succeeded" || st[1] != "succeeded" {
			t.Fatalf("refunds after charge.refunded: %v %v", st, err)
		}
		var refunded money.Bani
		if err := db.SQL().Get(&refunded, `SELECT refunded_bani FROM payments`); err != nil || refunded != money.Lei(15) {
			t.Fatalf("refunded: %s %v", refunded, err)
		}
		// The accountant's retry now finds the refund done: its reply, no third refund.
		proxy.set(false)
		before, _ := proxy.refunds()
		r := e.do("POST", refunds, acc, body2, "Idempotency-Key", "rf-lost-2")
		if r.Status != 201 || r.Body["status"] != fiscal.RefundSucceeded {
			t.Fatalf("retry after the event: %d %s", r.Status, r.Raw)
		}
		if after, _ := proxy.refunds(); len(after) != len(before) {
			t.Fatalf("a retry of a settled refund called Stripe again: %v", after[len(before):])
		}
	})
}
