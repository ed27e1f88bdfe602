package stripe

import (
	"errors"
	"fmt"
	"net/http"

	stripego "github.com/stripe/stripe-go/v76"
)

// Error classes. Callers test them with errors.Is and never need stripe-go.
// A suggested HTTP mapping for the service layer is given with each.
var (
	// ErrNotConfigured: card payments are off because no secret key (or, for
	// ParseWebhook, no webhook secret) was configured. HTTP 503.
	ErrNotConfigured = errors.New("stripe: card payments are not configured")

	// ErrBadSignature: a webhook's Stripe-Signature header is missing,
	// malformed, does not match the payload and secret, or is older than the
	// tolerance (5 minutes). HTTP 400; Stripe will retry.
	ErrBadSignature = errors.New("stripe: invalid webhook signature")

	// ErrBadPayload: a correctly signed webhook whose JSON could not be read,
	// or whose object lacks the fields its event type requires. HTTP 400.
	ErrBadPayload = errors.New("stripe: malformed webhook payload")

	// ErrInvalidInput: the caller passed arguments that were refused before
	// calling Stripe (a non-positive amount, no idempotency key, ...). It is a
	// programming error in the service layer: HTTP 500 (or 422 if the value
	// came straight from the client).
	ErrInvalidInput = errors.New("stripe: invalid input")

	// ErrProvider: Stripe refused the request or could not be reached. The
	// error is a *ProviderError with Stripe's code. HTTP 502.
	ErrProvider = errors.New("stripe: provider error")
)

// ProviderError describes a failed call to Stripe. It matches ErrProvider
// with errors.Is; errors.Is also sees through it to a context error
// (context.Canceled, context.DeadlineExceeded) that caused it.
type ProviderError struct {
	// Op names the operation, e.g. "create payment intent".
	Op string
	// HTTPStatus is Stripe's HTTP status; 0 when Stripe was not reached.
	HTTPStatus int
	// Type is Stripe's error type: "api_error", "card_error",
	// "idempotency_error", "invalid_request_error"; empty when not reached.
	Type string
	// Code is Stripe's error code when it gave one, e.g. "amount_too_small",
	// "resource_missing", "charge_already_refunded".
	Code string
	// DeclineCode is the card issuer's reason for card errors.
	DeclineCode string
	// Param names the offending request parameter, if any.
	Param string
	// Message is Stripe's human-readable message (or the transport error).
	Message string
	// RequestID is Stripe's request id, for support and logs.
	RequestID string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *ProviderError) Error() string {
	s := "stripe: " + e.Op + ": "
	if e.HTTPStatus != 0 {
		s += fmt.Sprintf("HTTP %d ", e.HTTPStatus)
	}
	if e.Code != "" {
		s += e.Code + ": "
	} else if e.Type != "" {
		s += e.Type + ": "
	}
	s += e.Message
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	return s
}

// Is makes errors.Is(err, ErrProvider) true.
func (e *ProviderError) Is(target error) bool { return target == ErrProvider }

// Unwrap returns the underlying error.
func (e *ProviderError) Unwrap() error { return e.Err }

// Temporary reports whether retrying the same request (with the same
// idempotency key) may succeed: Stripe was not reached, was rate limiting,
// had a conflicting concurrent request with the same key, or failed itself.
func (e *ProviderError) Temporary() bool {
	switch {
	case e.HTTPStatus == 0,
		e.HTTPStatus == http.StatusConflict,
		e.HTTPStatus == http.StatusTooManyRequests,
		e.HTTPStatus >= 500:
		return true
	}
	return false
}

// providerError wraps any error from stripe-go as a *ProviderError.
func providerError(op string, err error) error {
	pe := &ProviderError{Op: op, Message: err.Error(), Err: err}
	var se *stripego.Error
	if errors.As(err, &se) {
		pe.HTTPStatus = se.HTTPStatusCode
		pe.Type = string(se.Type)
		pe.Code = string(se.Code)
		pe.DeclineCode = string(se.DeclineCode)
		pe.Param = se.Param
		pe.Message = se.Msg
		pe.RequestID = se.RequestID
	}
	return pe
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidInput, fmt.Sprintf(format, args...))
}
