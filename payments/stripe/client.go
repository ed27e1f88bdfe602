// Package stripe is fiscald's card-payment provider: a thin, provider-neutral
// wrapper over Stripe. It is the only package in the module that imports
// stripe-go (pinned at v76.25.0, Stripe API version APIVersion).
//
// A Client creates PaymentIntents in RON, refunds them, lists balance
// transactions for reconciliation and verifies and decodes webhooks. Its
// results are plain structs with amounts in money.Bani, and its failures are
// classified by the sentinel errors ErrNotConfigured, ErrInvalidInput,
// ErrProvider (a *ProviderError carrying Stripe's code), ErrBadSignature and
// ErrBadPayload, so callers never need stripe-go's types.
//
// Each Client owns its stripe-go client and backend; the package never touches
// stripe-go's global key or backends, so clients with different keys or API
// bases (stripe-mock in tests) can run side by side.
//
// Amounts are in the currency's minor unit. For RON that is the ban, which is
// why they are money.Bani; callers should check Currency before trusting that.
package stripe

import (
	"context"
	"net/http"
	"net/url"
	"time"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"fiscald/internal/money"
)

// APIVersion is the Stripe API version this package speaks (the one stripe-go
// v76 pins). The webhook endpoint in Stripe's dashboard must be created with
// this version; see ParseWebhook.
const APIVersion = stripego.APIVersion

// CurrencyRON is Stripe's code for the Romanian leu.
const CurrencyRON = "ron"

// Config configures a Client. All fields are optional: without SecretKey the
// API methods return ErrNotConfigured, without WebhookSecret ParseWebhook does.
type Config struct {
	// SecretKey is the Stripe secret API key (sk_live_..., sk_test_...).
	SecretKey string
	// WebhookSecret is the signing secret of the webhook endpoint (whsec_...).
	WebhookSecret string
	// APIBase replaces Stripe's API URL, e.g. with stripe-mock's
	// "http://127.0.0.1:12111". Empty means https://api.stripe.com.
	APIBase string
	// HTTPClient is used for calls to Stripe; nil means a client with an
	// 80-second timeout (stripe-go's own default).
	HTTPClient *http.Client
}

// Client talks to Stripe. It is safe for concurrent use.
type Client struct {
	api           *client.API // nil when not configured
	webhookSecret string
}

// New returns a Client for cfg. A missing secret key is not an error: the
// returned Client reports Configured() == false and its API methods return
// ErrNotConfigured, so the service can run without card payments. New fails
// only for an APIBase that is not an absolute http(s) URL.
func New(cfg Config) (*Client, error) {
	c := &Client{webhookSecret: cfg.WebhookSecret}
	if cfg.APIBase != "" {
		u, err := url.Parse(cfg.APIBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, invalid("APIBase %q is not an http(s) URL", cfg.APIBase)
		}
	}
	if cfg.SecretKey == "" {
		return c, nil
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 80 * time.Second}
	}
	noTelemetry := false
	backendConfig := func(u string) *stripego.BackendConfig {
		bc := &stripego.BackendConfig{
			HTTPClient:      hc,
			EnableTelemetry: &noTelemetry,
			// Quiet: failures are returned to the caller, who logs them.
			LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull},
		}
		if u != "" {
			bc.URL = stripego.String(u)
		}
		return bc
	}
	backends := &stripego.Backends{
		API:     stripego.GetBackendWithConfig(stripego.APIBackend, backendConfig(cfg.APIBase)),
		Connect: stripego.GetBackendWithConfig(stripego.ConnectBackend, backendConfig(cfg.APIBase)),
		Uploads: stripego.GetBackendWithConfig(stripego.UploadsBackend, backendConfig(cfg.APIBase)),
	}
	c.api = &client.API{}
	c.api.Init(cfg.SecretKey, backends)
	return c, nil
}

// Configured reports whether the Client has a secret key, i.e. whether card
// payments can be taken.
func (c *Client) Configured() bool { return c != nil && c.api != nil }

// WebhookConfigured reports whether the Client can verify webhooks.
func (c *Client) WebhookConfigured() bool { return c != nil && c.webhookSecret != "" }

// PaymentIntentParams describes a card payment to create.
type PaymentIntentParams struct {
	// Amount to charge; must be positive.
	Amount money.Bani
	// Currency is an ISO 4217 code; empty means CurrencyRON.
	Currency string
	// IdempotencyKey is required: a retry with the same key returns the
	// first PaymentIntent instead of creating another (Stripe keeps keys for
	// at least 24 hours). Use the service's own payment id or request key.
	IdempotencyKey string
	// Metadata is stored on the PaymentIntent (at most 50 keys). Do not rely
	// on it coming back: match webhooks to payments by PaymentIntent id.
	Metadata map[string]string
	// Description is shown in Stripe's dashboard and on some statements.
	Description string
}

// PaymentIntent is the part of a Stripe PaymentIntent the service keeps.
type PaymentIntent struct {
	// ID is the PaymentIntent id (pi_...), the payment's provider reference.
	ID string
	// ClientSecret lets the browser confirm the payment with Stripe.js.
	// It is a credential for this one payment: send it only to its payer.
	ClientSecret string
	// Status is Stripe's status, e.g. "requires_payment_method", "succeeded".
	Status string
	// Amount and Currency as Stripe recorded them.
	Amount   money.Bani
	Currency string
}

// maxIdempotencyKey is Stripe's limit on the Idempotency-Key header.
const maxIdempotencyKey = 255

// CreatePaymentIntent creates a card PaymentIntent. It returns
// ErrNotConfigured, ErrInvalidInput or ErrProvider.
func (c *Client) CreatePaymentIntent(ctx context.Context, p PaymentIntentParams) (PaymentIntent, error) {
	if !c.Configured() {
		return PaymentIntent{}, ErrNotConfigured
	}
	if p.Amount <= 0 {
		return PaymentIntent{}, invalid("amount %s is not positive", p.Amount)
	}
	if p.IdempotencyKey == "" || len(p.IdempotencyKey) > maxIdempotencyKey {
		return PaymentIntent{}, invalid("idempotency key must have 1 to %d bytes", maxIdempotencyKey)
	}
	cur := p.Currency
	if cur == "" {
		cur = CurrencyRON
	}
	params := &stripego.PaymentIntentParams{
		Amount:             stripego.Int64(int64(p.Amount)),
		Currency:           stripego.String(cur),
		PaymentMethodTypes: stripego.StringSlice([]string{"card"}),
	}
	if p.Description != "" {
		params.Description = stripego.String(p.Description)
	}
	for k, v := range p.Metadata {
		params.AddMetadata(k, v)
	}
	params.Context = ctx
	params.SetIdempotencyKey(p.IdempotencyKey)

	pi, err := c.api.PaymentIntents.New(params)
	if err != nil {
		return PaymentIntent{}, providerError("create payment intent", err)
	}
	return PaymentIntent{
		ID:           pi.ID,
		ClientSecret: pi.ClientSecret,
		Status:       string(pi.Status),
		Amount:       money.Bani(pi.Amount),
		Currency:     string(pi.Currency),
	}, nil
}

// Refund is the part of a Stripe refund the service keeps.
type Refund struct {
	// ID is the refund id (re_...).
	ID string
	// Status is Stripe's status: "pending", "succeeded", "failed",
	// "requires_action" or "canceled". Final state arrives by webhook.
	Status string
	// Amount and Currency as Stripe recorded them.
	Amount   money.Bani
	Currency string
	// PaymentIntentID is the refunded PaymentIntent, when Stripe says so.
	PaymentIntentID string
}

// Stripe's own refund reasons; any other reason text goes to metadata only.
var stripeRefundReasons = map[string]bool{
	string(stripego.RefundReasonDuplicate):           true,
	string(stripego.RefundReasonFraudulent):          true,
	string(stripego.RefundReasonRequestedByCustomer): true,
}

// maxMetadataValue is Stripe's limit on a metadata value.
const maxMetadataValue = 500

// Refund refunds amount of a succeeded PaymentIntent. idempotencyKey is
// required (use the service's refund id). reason is free text kept in the
// refund's metadata under "reason"; when it is one of Stripe's reasons
// ("duplicate", "fraudulent", "requested_by_customer") it is also sent as
// Stripe's reason. It returns ErrNotConfigured, ErrInvalidInput or
// ErrProvider (e.g. Code "charge_already_refunded").
func (c *Client) Refund(ctx context.Context, paymentIntentID string, amount money.Bani, idempotencyKey, reason string) (Refund, error) {
	if !c.Configured() {
		return Refund{}, ErrNotConfigured
	}
	if paymentIntentID == "" {
		return Refund{}, invalid("no payment intent id")
	}
	if amount <= 0 {
		return Refund{}, invalid("refund amount %s is not positive", amount)
	}
	if idempotencyKey == "" || len(idempotencyKey) > maxIdempotencyKey {
		return Refund{}, invalid("idempotency key must have 1 to %d bytes", maxIdempotencyKey)
	}
	params := &stripego.RefundParams{
		PaymentIntent: stripego.String(paymentIntentID),
		Amount:        stripego.Int64(int64(amount)),
	}
	if reason != "" {
		if stripeRefundReasons[reason] {
			params.Reason = stripego.String(reason)
		}
		params.AddMetadata("reason", truncate(reason, maxMetadataValue))
	}
	params.Context = ctx
	params.SetIdempotencyKey(idempotencyKey)

	r, err := c.api.Refunds.New(params)
	if err != nil {
		return Refund{}, providerError("refund", err)
	}
	out := Refund{
		ID:       r.ID,
		Status:   string(r.Status),
		Amount:   money.Bani(r.Amount),
		Currency: string(r.Currency),
	}
	if r.PaymentIntent != nil {
		out.PaymentIntentID = r.PaymentIntent.ID
	}
	return out, nil
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // s[n] continues a rune: back up
		n--
	}
	return s[:n]
}
