package stripe

import (
	"encoding/json"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"fiscald/internal/money"
)

// This file holds helpers for tests in other packages (the payment service,
// the HTTP handlers, end-to-end tests) that need to drive webhooks. They are
// ordinary exported code because Go test helpers cannot cross packages; they
// only build and sign JSON and never talk to Stripe.

// TestEvent describes a webhook event for tests. Its JSON method renders it as
// Stripe would send it, with the data.object fields ParseWebhook reads.
type TestEvent struct {
	// ID is the event id; empty means "evt_test_" + PaymentIntentID.
	ID string
	// Type is the event type, e.g. EventPaymentSucceeded.
	Type EventType
	// Created is the event time; zero means now.
	Created time.Time
	// APIVersion is the event's API version; empty means APIVersion.
	APIVersion string
	// PaymentIntentID is the PaymentIntent concerned.
	PaymentIntentID string
	// ChargeID is the charge for charge.refunded; empty means
	// "ch_test_" + PaymentIntentID.
	ChargeID string
	// Amount of the PaymentIntent (or charge); for a succeeded payment it is
	// also the amount received.
	Amount money.Bani
	// Currency; empty means CurrencyRON.
	Currency string
	// FailureCode and FailureMessage for payment_intent.payment_failed;
	// empty means "card_declined" / "Your card was declined.".
	FailureCode, FailureMessage string
	// RefundedAmount is the charge's running refunded total for
	// charge.refunded.
	RefundedAmount money.Bani
	// Metadata is put on the object.
	Metadata map[string]string
}

// JSON renders the event as a Stripe webhook body.
func (e TestEvent) JSON() []byte {
	if e.ID == "" {
		e.ID = "evt_test_" + e.PaymentIntentID
	}
	if e.Created.IsZero() {
		e.Created = time.Now()
	}
	if e.APIVersion == "" {
		e.APIVersion = APIVersion
	}
	if e.Currency == "" {
		e.Currency = CurrencyRON
	}
	if e.Metadata == nil {
		e.Metadata = map[string]string{}
	}
	var obj map[string]any
	switch e.Type {
	case EventChargeRefunded:
		if e.ChargeID == "" {
			e.ChargeID = "ch_test_" + e.PaymentIntentID
		}
		obj = map[string]any{
			"id": e.ChargeID, "object": "charge",
			"amount": int64(e.Amount), "amount_captured": int64(e.Amount),
			"amount_refunded": int64(e.RefundedAmount),
			"currency":        e.Currency, "status": "succeeded",
			"paid": true, "captured": true,
			"refunded":       e.RefundedAmount >= e.Amount,
			"payment_intent": e.PaymentIntentID,
			"metadata":       e.Metadata,
		}
	default:
		obj = map[string]any{
			"id": e.PaymentIntentID, "object": "payment_intent",
			"amount": int64(e.Amount), "currency": e.Currency,
			"metadata": e.Metadata, "amount_received": int64(0),
			"status": "requires_payment_method", "last_payment_error": nil,
		}
		switch e.Type {
		case EventPaymentSucceeded:
			obj["status"] = "succeeded"
			obj["amount_received"] = int64(e.Amount)
		case EventPaymentFailed:
			code, msg := e.FailureCode, e.FailureMessage
			if code == "" {
				code = "card_declined"
			}
			if msg == "" {
				msg = "Your card was declined."
			}
			obj["last_payment_error"] = map[string]any{"type": "card_error", "code": code, "message": msg}
		}
	}
	b, err := json.Marshal(map[string]any{
		"id": e.ID, "object": "event", "type": string(e.Type),
		"api_version": e.APIVersion, "created": e.Created.Unix(),
		"livemode": false, "pending_webhooks": 1,
		"request": map[string]any{"id": nil, "idempotency_key": nil},
		"data":    map[string]any{"object": obj},
	})
	if err != nil {
		panic(err) // only maps, strings and numbers: cannot fail
	}
	return b
}

// SignedTestPayload signs eventJSON with secret as Stripe would now, returning
// the body and the Stripe-Signature header value to send with it.
func SignedTestPayload(secret string, eventJSON []byte) (payload []byte, header string) {
	return SignedTestPayloadAt(secret, eventJSON, time.Now())
}

// SignedTestPayloadAt is SignedTestPayload with the signature timestamp t, to
// test the 5-minute tolerance.
func SignedTestPayloadAt(secret string, eventJSON []byte, t time.Time) (payload []byte, header string) {
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload: eventJSON, Secret: secret, Timestamp: t,
	})
	return sp.Payload, sp.Header
}
