package stripe_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"fiscald/internal/money"
	"fiscald/payments/stripe"
	"fiscald/payments/stripe/stripetest"
)

// recorded is one request seen on its way to stripe-mock.
type recorded struct {
	Method, Path string
	Header       http.Header
	Form         url.Values
}

// recorder is an http.RoundTripper that keeps every request it forwards.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	form, _ := url.ParseQuery(string(body))
	if req.Method == http.MethodGet {
		form = req.URL.Query()
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, req.Header.Clone(), form})
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) last(t *testing.T) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("no request reached stripe-mock")
	}
	return r.reqs[len(r.reqs)-1]
}

func newMockClient(t *testing.T, base string) (*stripe.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	c, err := stripe.New(stripe.Config{
		SecretKey:     "sk_test_fiscald",
		WebhookSecret: "whsec_test",
		APIBase:       base,
		HTTPClient:    &http.Client{Transport: rec, Timeout: 10 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

func TestClientAgainstStripeMock(t *testing.T) {
	base := stripetest.Start(t)
	ctx := context.Background()

	t.Run("CreatePaymentIntent", func(t *testing.T) {
		t.Parallel()
		c, rec := newMockClient(t, base)
		pi, err := c.CreatePaymentIntent(ctx, stripe.PaymentIntentParams{
			Amount:         money.Lei(198),
			IdempotencyKey: "pay-42",
			Description:    "Impozit mijloace de transport 2026",
			Metadata:       map[string]string{"payment_id": "42", "taxpayer_id": "7"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(pi.ID, "pi_") || pi.ClientSecret == "" || pi.Status == "" {
			t.Errorf("payment intent = %+v", pi)
		}
		r := rec.last(t)
		if r.Method != http.MethodPost || r.Path != "/v1/payment_intents" {
			t.Errorf("request %s %s", r.Method, r.Path)
		}
		for k, want := range map[string]string{
			"amount":                  "19800",
			"currency":                "ron",
			"payment_method_types[0]": "card",
			"description":             "Impozit mijloace de transport 2026",
			"metadata[payment_id]":    "42",
			"metadata[taxpayer_id]":   "7",
		} {
			if got := r.Form.Get(k); got != want {
				t.Errorf("form %s = %q, want %q", k, got, want)
			}
		}
		if got := r.Header.Get("Idempotency-Key"); got != "pay-42" {
			t.Errorf("Idempotency-Key = %q", got)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer sk_test_fiscald" {
			t.Errorf("Authorization = %q", got)
		}
		if got := r.Header.Get("Stripe-Version"); got != stripe.APIVersion {
			t.Errorf("Stripe-Version = %q, want %q", got, stripe.APIVersion)
		}
	})

	t.Run("CreatePaymentIntent refuses bad input locally", func(t *testing.T) {
		t.Parallel()
		c, rec := newMockClient(t, base)
		for _, p := range []stripe.PaymentIntentParams{
			{Amount: 0, IdempotencyKey: "k"},
			{Amount: -1, IdempotencyKey: "k"},
			{Amount: 100},
			{Amount: 100, IdempotencyKey: strings.Repeat("k", 256)},
		} {
			if _, err := c.CreatePaymentIntent(ctx, p); !errors.Is(err, stripe.ErrInvalidInput) {
				t.Errorf("%+v: err = %v, want ErrInvalidInput", p, err)
			}
		}
		if len(rec.reqs) != 0 {
			t.Errorf("%d requests sent for invalid input", len(rec.reqs))
		}
	})

	t.Run("Refund", func(t *testing.T) {
		t.Parallel()
		c, rec := newMockClient(t, base)
		ref, err := c.Refund(ctx, "pi_123", money.Lei(50), "refund-9", "plată dublă")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ref.ID, "re_") || ref.Status == "" {
			t.Errorf("refund = %+v", ref)
		}
		r := rec.last(t)
		if r.Path != "/v1/refunds" || r.Form.Get("payment_intent") != "pi_123" || r.Form.Get("amount") != "5000" {
			t.Errorf("request %s %v", r.Path, r.Form)
		}
		if r.Form.Has("reason") || r.Form.Get("metadata[reason]") != "plată dublă" {
			t.Errorf("free-text reason must go to metadata only: %v", r.Form)
		}
		if r.Header.Get("Idempotency-Key") != "refund-9" {
			t.Errorf("Idempotency-Key = %q", r.Header.Get("Idempotency-Key"))
		}

		// One of Stripe's own reasons is also sent as the reason parameter
		// (stripe-mock rejects any other value there).
		if _, err := c.Refund(ctx, "pi_123", 1, "refund-10", "duplicate"); err != nil {
			t.Fatal(err)
		}
		if r := rec.last(t); r.Form.Get("reason") != "duplicate" {
			t.Errorf("reason = %q", r.Form.Get("reason"))
		}

		if _, err := c.Refund(ctx, "pi_123", 0, "k", ""); !errors.Is(err, stripe.ErrInvalidInput) {
			t.Errorf("zero refund: err = %v", err)
		}
		if _, err := c.Refund(ctx, "", 1, "k", ""); !errors.Is(err, stripe.ErrInvalidInput) {
			t.Errorf("no intent: err = %v", err)
		}
	})

	t.Run("ListBalanceTransactions", func(t *testing.T) {
		t.Parallel()
		c, rec := newMockClient(t, base)
		txs, err := c.ListBalanceTransactions(ctx, stripe.BalanceTransactionQuery{PayoutID: "po_123"})
		if err != nil {
			t.Fatal(err)
		}
		if len(txs) == 0 || !strings.HasPrefix(txs[0].ID, "txn_") || txs[0].Net != txs[0].Amount-txs[0].Fee || txs[0].Created.IsZero() {
			t.Errorf("transactions = %+v", txs)
		}
		r := rec.last(t)
		if r.Method != http.MethodGet || r.Path != "/v1/balance_transactions" || r.Form.Get("payout") != "po_123" ||
			r.Form.Get("expand[0]") != "data.source" || r.Form.Get("limit") != "100" {
			t.Errorf("request %s %s %v", r.Method, r.Path, r.Form)
		}

		from := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		to := from.AddDate(0, 0, 1)
		if _, err := c.ListBalanceTransactions(ctx, stripe.BalanceTransactionQuery{CreatedFrom: from, CreatedTo: to}); err != nil {
			t.Fatal(err)
		}
		r = rec.last(t)
		if r.Form.Get("created[gte]") != "1777593600" || r.Form.Get("created[lt]") != "1777680000" || r.Form.Has("payout") {
			t.Errorf("range query %v", r.Form)
		}

		for _, q := range []stripe.BalanceTransactionQuery{{}, {CreatedFrom: to, CreatedTo: from}} {
			if _, err := c.ListBalanceTransactions(ctx, q); !errors.Is(err, stripe.ErrInvalidInput) {
				t.Errorf("%+v: err = %v", q, err)
			}
		}
	})

	t.Run("Stripe refuses: ErrProvider with Stripe's details", func(t *testing.T) {
		t.Parallel()
		// stripe-mock accepts only test-looking keys.
		c, err := stripe.New(stripe.Config{SecretKey: "not_a_key", APIBase: base})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CreatePaymentIntent(ctx, stripe.PaymentIntentParams{Amount: 100, IdempotencyKey: "k"})
		var pe *stripe.ProviderError
		if !errors.Is(err, stripe.ErrProvider) || !errors.As(err, &pe) {
			t.Fatalf("err = %v, want a ProviderError", err)
		}
		if pe.HTTPStatus != http.StatusUnauthorized || pe.Type != "invalid_request_error" || pe.Temporary() {
			t.Errorf("provider error = %+v", pe)
		}
	})
}

func TestProviderUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	c, err := stripe.New(stripe.Config{SecretKey: "sk_test_x", APIBase: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.Refund(ctx, "pi_1", 100, "k", "")
	var pe *stripe.ProviderError
	if !errors.As(err, &pe) || pe.HTTPStatus != 0 || !pe.Temporary() {
		t.Fatalf("err = %#v, want a temporary ProviderError", err)
	}
}

func TestNotConfigured(t *testing.T) {
	c, err := stripe.New(stripe.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Configured() || c.WebhookConfigured() {
		t.Fatal("empty config reports configured")
	}
	ctx := context.Background()
	if _, err := c.CreatePaymentIntent(ctx, stripe.PaymentIntentParams{Amount: 100, IdempotencyKey: "k"}); !errors.Is(err, stripe.ErrNotConfigured) {
		t.Errorf("CreatePaymentIntent: %v", err)
	}
	if _, err := c.Refund(ctx, "pi_1", 100, "k", ""); !errors.Is(err, stripe.ErrNotConfigured) {
		t.Errorf("Refund: %v", err)
	}
	if _, err := c.ListBalanceTransactions(ctx, stripe.BalanceTransactionQuery{PayoutID: "po_1"}); !errors.Is(err, stripe.ErrNotConfigured) {
		t.Errorf("ListBalanceTransactions: %v", err)
	}
	body, sig := stripe.SignedTestPayload("whsec_x", stripe.TestEvent{Type: stripe.EventPaymentSucceeded, PaymentIntentID: "pi_1", Amount: 1}.JSON())
	if _, err := c.ParseWebhook(body, sig); !errors.Is(err, stripe.ErrNotConfigured) {
		t.Errorf("ParseWebhook: %v", err)
	}
}

func TestNewRejectsBadAPIBase(t *testing.T) {
	for _, base := range []string{"localhost:12111", "ftp://x", "http://", "::"} {
		if _, err := stripe.New(stripe.Config{SecretKey: "sk_test_x", APIBase: base}); !errors.Is(err, stripe.ErrInvalidInput) {
			t.Errorf("APIBase %q: err = %v", base, err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	base := stripetest.Start(t)
	c, _ := newMockClient(t, base)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.CreatePaymentIntent(ctx, stripe.PaymentIntentParams{Amount: 100, IdempotencyKey: "k"})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, stripe.ErrProvider) {
		t.Fatalf("err = %v, want context.Canceled inside ErrProvider", err)
	}
}

func BenchmarkCreatePaymentIntent(b *testing.B) {
	base := stripetest.Start(b)
	c, err := stripe.New(stripe.Config{SecretKey: "sk_test_bench", APIBase: base})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.CreatePaymentIntent(ctx, stripe.PaymentIntentParams{Amount: 19800, IdempotencyKey: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}
