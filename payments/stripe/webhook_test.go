package stripe_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"fiscald/internal/money"
	"fiscald/payments/stripe"
)

const whsec = "whsec_test_secret"

func webhookClient(t *testing.T) *stripe.Client {
	t.Helper()
	c, err := stripe.New(stripe.Config{WebhookSecret: whsec})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseWebhookEvents(t *testing.T) {
	c := webhookClient(t)
	created := time.Date(2026, 5, 10, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   stripe.TestEvent
		want stripe.Event
	}{
		{
			name: "succeeded",
			in: stripe.TestEvent{ID: "evt_1", Type: stripe.EventPaymentSucceeded, Created: created,
				PaymentIntentID: "pi_1", Amount: money.Lei(200), Metadata: map[string]string{"payment_id": "42"}},
			want: stripe.Event{ID: "evt_1", Type: stripe.EventPaymentSucceeded, Created: created, APIVersion: stripe.APIVersion,
				PaymentIntentID: "pi_1", Amount: money.Lei(200), AmountReceived: money.Lei(200), Currency: "ron",
				Status: "succeeded", Metadata: map[string]string{"payment_id": "42"}},
		},
		{
			name: "failed",
			in: stripe.TestEvent{ID: "evt_2", Type: stripe.EventPaymentFailed, Created: created,
				PaymentIntentID: "pi_2", Amount: 9950, FailureCode: "insufficient_funds", FailureMessage: "Fonduri insuficiente."},
			want: stripe.Event{ID: "evt_2", Type: stripe.EventPaymentFailed, Created: created, APIVersion: stripe.APIVersion,
				PaymentIntentID: "pi_2", Amount: 9950, Currency: "ron", Status: "requires_payment_method",
				FailureCode: "insufficient_funds", FailureMessage: "Fonduri insuficiente.", Metadata: map[string]string{}},
		},
		{
			name: "partly refunded",
			in: stripe.TestEvent{ID: "evt_3", Type: stripe.EventChargeRefunded, Created: created,
				PaymentIntentID: "pi_3", ChargeID: "ch_3", Amount: money.Lei(200), RefundedAmount: money.Lei(50)},
			want: stripe.Event{ID: "evt_3", Type: stripe.EventChargeRefunded, Created: created, APIVersion: stripe.APIVersion,
				PaymentIntentID: "pi_3", ChargeID: "ch_3", Amount: money.Lei(200), Currency: "ron", Status: "succeeded",
				RefundedAmount: money.Lei(50), Metadata: map[string]string{}},
		},
		{
			name: "fully refunded",
			in: stripe.TestEvent{ID: "evt_4", Type: stripe.EventChargeRefunded, Created: created,
				PaymentIntentID: "pi_4", Amount: 100, RefundedAmount: 100},
			want: stripe.Event{ID: "evt_4", Type: stripe.EventChargeRefunded, Created: created, APIVersion: stripe.APIVersion,
				PaymentIntentID: "pi_4", ChargeID: "ch_test_pi_4", Amount: 100, Currency: "ron", Status: "succeeded",
				RefundedAmount: 100, FullyRefunded: true, Metadata: map[string]string{}},
		},
		{
			name: "other types come back with their type only",
			in:   stripe.TestEvent{ID: "evt_5", Type: "payment_intent.created", Created: created, PaymentIntentID: "pi_5", Amount: 1},
			want: stripe.Event{ID: "evt_5", Type: "payment_intent.created", Created: created, APIVersion: stripe.APIVersion},
		},
		{
			name: "another API version is accepted and reported",
			in: stripe.TestEvent{ID: "evt_6", Type: stripe.EventPaymentSucceeded, Created: created, APIVersion: "2024-06-20",
				PaymentIntentID: "pi_6", Amount: 100},
			want: stripe.Event{ID: "evt_6", Type: stripe.EventPaymentSucceeded, Created: created, APIVersion: "2024-06-20",
				PaymentIntentID: "pi_6", Amount: 100, AmountReceived: 100, Currency: "ron", Status: "succeeded",
				Metadata: map[string]string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, sig := stripe.SignedTestPayload(whsec, tt.in.JSON())
			got, err := c.ParseWebhook(body, sig)
			if err != nil {
				t.Fatal(err)
			}
			if !eventsEqual(got, tt.want) {
				t.Errorf("event\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func eventsEqual(a, b stripe.Event) bool {
	return reflect.DeepEqual(a, b)
}

func TestParseWebhookRejects(t *testing.T) {
	c := webhookClient(t)
	event := stripe.TestEvent{ID: "evt_1", Type: stripe.EventPaymentSucceeded, PaymentIntentID: "pi_1", Amount: money.Lei(200)}.JSON()
	body, sig := stripe.SignedTestPayload(whsec, event)

	tampered := bytes.Replace(body, []byte(`"amount":20000`), []byte(`"amount":1`), 1)
	if bytes.Equal(tampered, body) {
		t.Fatal("tampering did not change the body")
	}
	wrongBody, wrongSig := stripe.SignedTestPayload("whsec_other", event)
	staleBody, staleSig := stripe.SignedTestPayloadAt(whsec, event, time.Now().Add(-6*time.Minute))
	futureBody, futureSig := stripe.SignedTestPayloadAt(whsec, event, time.Now().Add(time.Hour))
	skewBody, skewSig := stripe.SignedTestPayloadAt(whsec, event, time.Now().Add(6*time.Minute))
	unsigned, unsignedSig := stripe.SignedTestPayload(whsec, []byte(`{"id": "evt_x", "type": `))
	notAPI, notAPISig := stripe.SignedTestPayload(whsec, []byte(`{"id":"evt_y","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"ch_1","object":"charge"}}}`))

	tests := []struct {
		name string
		body []byte
		sig  string
		want error
	}{
		{"tampered payload", tampered, sig, stripe.ErrBadSignature},
		{"wrong secret", wrongBody, wrongSig, stripe.ErrBadSignature},
		{"stale timestamp", staleBody, staleSig, stripe.ErrBadSignature},
		{"timestamp an hour ahead", futureBody, futureSig, stripe.ErrBadSignature},
		{"timestamp beyond the tolerance ahead", skewBody, skewSig, stripe.ErrBadSignature},
		{"no header", body, "", stripe.ErrBadSignature},
		{"garbage header", body, "t=abc,v1=00", stripe.ErrBadSignature},
		{"header without v1", body, strings.Split(sig, ",")[0], stripe.ErrBadSignature},
		{"signed but not JSON", unsigned, unsignedSig, stripe.ErrBadPayload},
		{"signed but wrong object", notAPI, notAPISig, stripe.ErrBadPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := c.ParseWebhook(tt.body, tt.sig)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if ev.ID != "" {
				t.Errorf("event returned with error: %+v", ev)
			}
		})
	}

	// The untouched payload still verifies: the cases above fail for the
	// reason they name.
	if _, err := c.ParseWebhook(body, sig); err != nil {
		t.Fatalf("valid payload: %v", err)
	}
	// A clock a little ahead (within the tolerance) is still accepted.
	aheadBody, aheadSig := stripe.SignedTestPayloadAt(whsec, event, time.Now().Add(time.Minute))
	if _, err := c.ParseWebhook(aheadBody, aheadSig); err != nil {
		t.Fatalf("payload a minute ahead: %v", err)
	}
}

func BenchmarkParseWebhook(b *testing.B) {
	c, err := stripe.New(stripe.Config{WebhookSecret: whsec})
	if err != nil {
		b.Fatal(err)
	}
	body, sig := stripe.SignedTestPayload(whsec, stripe.TestEvent{
		Type: stripe.EventPaymentSucceeded, PaymentIntentID: "pi_bench", Amount: 19800,
		Metadata: map[string]string{"payment_id": "42"},
	}.JSON())
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := c.ParseWebhook(body, sig); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzParseWebhook feeds correctly signed but arbitrary bodies: ParseWebhook
// must never panic, and must either decode an event with an id and a type or
// say ErrBadPayload.
func FuzzParseWebhook(f *testing.F) {
	for _, e := range []stripe.TestEvent{
		{Type: stripe.EventPaymentSucceeded, PaymentIntentID: "pi_1", Amount: 100},
		{Type: stripe.EventPaymentFailed, PaymentIntentID: "pi_2", Amount: 100},
		{Type: stripe.EventChargeRefunded, PaymentIntentID: "pi_3", Amount: 100, RefundedAmount: 50},
	} {
		f.Add(e.JSON())
	}
	f.Add([]byte(`{"id":"evt","type":"charge.refunded","data":{"object":{"id":"ch","object":"charge","payment_intent":{"id":"pi"}}}}`))
	f.Add([]byte(`{"id":"evt","type":"charge.refunded"}`))
	c, err := stripe.New(stripe.Config{WebhookSecret: whsec})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		payload, sig := stripe.SignedTestPayload(whsec, body)
		ev, err := c.ParseWebhook(payload, sig)
		switch {
		case err == nil && (ev.ID == "" || ev.Type == ""):
			t.Fatalf("event without id or type: %+v", ev)
		case err != nil && !errors.Is(err, stripe.ErrBadPayload):
			t.Fatalf("signed body gave %v", err)
		}
	})
}
