package stripe

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"fiscald/internal/money"
)

// EventType is a Stripe event type, e.g. "payment_intent.succeeded".
type EventType string

// The event types ParseWebhook decodes. Others come back with only ID, Type,
// Created, APIVersion and Livemode set, for the caller to acknowledge and ignore.
const (
	// EventPaymentSucceeded: the PaymentIntent was paid; allocate it.
	EventPaymentSucceeded EventType = "payment_intent.succeeded"
	// EventPaymentFailed: a payment attempt failed; the taxpayer may retry
	// with the same PaymentIntent, so it is not final.
	EventPaymentFailed EventType = "payment_intent.payment_failed"
	// EventChargeRefunded: a charge was refunded, in part or in full.
	EventChargeRefunded EventType = "charge.refunded"
)

// Event is a verified webhook event in provider-neutral form.
//
// Stripe may deliver an event more than once and in any order: deduplicate on
// ID, and treat RefundedAmount as a running total (take the largest seen),
// never as an increment.
type Event struct {
	// ID is the event id (evt_...); store it to recognise duplicates.
	ID string
	// Type is Stripe's event type.
	Type EventType
	// Created is when Stripe created the event (UTC).
	Created time.Time
	// APIVersion is the API version Stripe rendered the event with; it
	// should equal APIVersion (see ParseWebhook).
	APIVersion string
	// Livemode is false for test-mode events.
	Livemode bool

	// PaymentIntentID (pi_...) matches the event to the service's payment.
	PaymentIntentID string
	// ChargeID (ch_...) is set for charge events.
	ChargeID string
	// Amount is the PaymentIntent's amount, or the charge's for
	// charge.refunded. Currency is its lower-case ISO code ("ron").
	Amount   money.Bani
	Currency string
	// AmountReceived is what a succeeded PaymentIntent actually collected.
	AmountReceived money.Bani
	// Status is the object's status ("succeeded", "requires_payment_method", ...).
	Status string
	// FailureCode and FailureMessage explain a failed payment (from the
	// PaymentIntent's last_payment_error). FailureCode is the issuer's decline
	// code when the card was declined ("insufficient_funds"), otherwise
	// Stripe's error code. FailureMessage can be shown to the payer.
	FailureCode    string
	FailureMessage string
	// RefundedAmount is the charge's total refunded so far (charge.refunded),
	// and FullyRefunded says whether that is all of it.
	RefundedAmount money.Bani
	FullyRefunded  bool
	// Metadata is the object's metadata as Stripe sent it (may be empty).
	Metadata map[string]string
}

// ParseWebhook verifies payload against the Stripe-Signature header sigHeader
// with the configured webhook secret (webhook.ConstructEvent's checks: HMAC
// SHA-256, and a timestamp no older than 5 minutes; and ours: a timestamp no
// more than WebhookTolerance in the future, which stripe-go lets through)
// and decodes it.
//
// It returns ErrNotConfigured without a webhook secret, ErrBadSignature when
// verification fails and ErrBadPayload when the signed body is not a usable
// event; unknown event types are not an error.
//
// API version: stripe-go refuses events rendered for another API version than
// the one it pins (APIVersion). This method deliberately accepts them. The
// signature already proves the event is Stripe's, and refusing it would make
// Stripe retry for days and then disable the endpoint, leaving paid taxes
// unallocated; and the event is decoded here with its own small structs that
// read only long-stable fields (ids, amounts, currency, status,
// last_payment_error, amount_refunded), not stripe-go's version-specific
// types. The version is reported in Event.APIVersion so the caller can log a
// mismatch, which means the endpoint in Stripe's dashboard should be pinned
// to APIVersion.
func (c *Client) ParseWebhook(payload []byte, sigHeader string) (Event, error) {
	if !c.WebhookConfigured() {
		return Event{}, ErrNotConfigured
	}
	ev, err := webhook.ConstructEventWithOptions(payload, sigHeader, c.webhookSecret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	if err != nil {
		switch {
		case errors.Is(err, webhook.ErrNotSigned),
			errors.Is(err, webhook.ErrInvalidHeader),
			errors.Is(err, webhook.ErrNoValidSignature),
			errors.Is(err, webhook.ErrTooOld):
			return Event{}, fmt.Errorf("%w: %w", ErrBadSignature, err)
		}
		return Event{}, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	if t, ok := signedAt(sigHeader); !ok || t.After(time.Now().Add(WebhookTolerance)) {
		return Event{}, fmt.Errorf("%w: the signature's timestamp is more than %s in the future", ErrBadSignature, WebhookTolerance)
	}
	return decodeEvent(&ev)
}

// WebhookTolerance is how far a webhook's signature timestamp may be from
// now, in the past (stripe-go's default tolerance) and in the future (clock
// skew): a signed delivery dated later is refused, so a leaked signed body
// cannot be held back to be replayed after the window.
const WebhookTolerance = webhook.DefaultTolerance

// signedAt reads the timestamp (t=) of a Stripe-Signature header.
func signedAt(sigHeader string) (time.Time, bool) {
	for _, part := range strings.Split(sigHeader, ",") {
		if v, ok := strings.CutPrefix(part, "t="); ok {
			sec, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			return time.Unix(sec, 0), true
		}
	}
	return time.Time{}, false
}

// paymentIntentObject holds the fields read from a PaymentIntent.
type paymentIntentObject struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	Amount           int64             `json:"amount"`
	AmountReceived   int64             `json:"amount_received"`
	Currency         string            `json:"currency"`
	Status           string            `json:"status"`
	Metadata         map[string]string `json:"metadata"`
	LastPaymentError *struct {
		Code        string `json:"code"`
		DeclineCode string `json:"decline_code"`
		Message     string `json:"message"`
	} `json:"last_payment_error"`
}

// chargeObject holds the fields read from a Charge.
type chargeObject struct {
	ID             string            `json:"id"`
	Object         string            `json:"object"`
	Amount         int64             `json:"amount"`
	AmountRefunded int64             `json:"amount_refunded"`
	Currency       string            `json:"currency"`
	Status         string            `json:"status"`
	Refunded       bool              `json:"refunded"`
	PaymentIntent  expandable        `json:"payment_intent"`
	Metadata       map[string]string `json:"metadata"`
}

// expandable reads a field that is an id or, when expanded, an object with one.
type expandable string

func (e *expandable) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*e = expandable(s)
		return nil
	}
	var o struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	*e = expandable(o.ID)
	return nil
}

func decodeEvent(ev *stripego.Event) (Event, error) {
	out := Event{
		ID:         ev.ID,
		Type:       EventType(ev.Type),
		Created:    time.Unix(ev.Created, 0).UTC(),
		APIVersion: ev.APIVersion,
		Livemode:   ev.Livemode,
	}
	if out.ID == "" || out.Type == "" {
		return Event{}, fmt.Errorf("%w: event without id or type", ErrBadPayload)
	}
	if ev.Data == nil {
		if isDecoded(out.Type) {
			return Event{}, fmt.Errorf("%w: %s event %s without data", ErrBadPayload, out.Type, out.ID)
		}
		return out, nil
	}
	switch out.Type {
	case EventPaymentSucceeded, EventPaymentFailed:
		var pi paymentIntentObject
		if err := json.Unmarshal(ev.Data.Raw, &pi); err != nil {
			return Event{}, fmt.Errorf("%w: %s: %v", ErrBadPayload, out.ID, err)
		}
		if pi.ID == "" || pi.Object != "payment_intent" {
			return Event{}, fmt.Errorf("%w: %s: data.object is not a payment intent", ErrBadPayload, out.ID)
		}
		out.PaymentIntentID = pi.ID
		out.Amount = money.Bani(pi.Amount)
		out.AmountReceived = money.Bani(pi.AmountReceived)
		out.Currency = pi.Currency
		out.Status = pi.Status
		out.Metadata = pi.Metadata
		if e := pi.LastPaymentError; e != nil {
			out.FailureCode = e.Code
			if e.DeclineCode != "" {
				out.FailureCode = e.DeclineCode
			}
			out.FailureMessage = e.Message
		}
	case EventChargeRefunded:
		var ch chargeObject
		if err := json.Unmarshal(ev.Data.Raw, &ch); err != nil {
			return Event{}, fmt.Errorf("%w: %s: %v", ErrBadPayload, out.ID, err)
		}
		if ch.ID == "" || ch.Object != "charge" {
			return Event{}, fmt.Errorf("%w: %s: data.object is not a charge", ErrBadPayload, out.ID)
		}
		out.ChargeID = ch.ID
		out.PaymentIntentID = string(ch.PaymentIntent)
		out.Amount = money.Bani(ch.Amount)
		out.Currency = ch.Currency
		out.Status = ch.Status
		out.RefundedAmount = money.Bani(ch.AmountRefunded)
		out.FullyRefunded = ch.Refunded
		out.Metadata = ch.Metadata
	}
	return out, nil
}

func isDecoded(t EventType) bool {
	return t == EventPaymentSucceeded || t == EventPaymentFailed || t == EventChargeRefunded
}
