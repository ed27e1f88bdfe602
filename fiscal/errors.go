// Package fiscal is the domain of fiscald: the types of a municipal fiscal
// department (municipalities, users, taxpayers, the audit log, cases), the one
// error type with its codes, the clock, identity-number checks, and the
// service interfaces that the storage package implements and the web package
// calls. It imports only the standard library and small value packages.
package fiscal

import (
	"errors"
	"fmt"
)

// Error codes. The web layer maps each to one HTTP status in a single table.
const (
	ECONFLICT     = "conflict"     // a duplicate or a disallowed state change (409)
	EINTERNAL     = "internal"     // a bug or an unexpected fault (500)
	EINVALID      = "invalid"      // the input breaks a rule (422)
	EMALFORMED    = "malformed"    // the body cannot be parsed (400)
	ENOTFOUND     = "not_found"    // the thing does not exist or is not visible to the actor (404)
	EUNAUTHORIZED = "unauthorized" // no valid credentials (401)
	EFORBIDDEN    = "forbidden"    // authenticated but not allowed (403)
	ETOOLARGE     = "too_large"    // the body or upload is over its limit (413)
	ERATELIMIT    = "rate_limited" // too many attempts (429)
	EUNAVAILABLE  = "unavailable"  // a dependency is not configured or down (503)
	EUPSTREAM     = "upstream"     // a provider answered with an error (502)
)

// FieldError names one invalid input field by its JSON path.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type of the domain: a code, a message safe to show
// to the caller, field errors for invalid input, and the wrapped cause.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error listing the bad fields.
func Invalid(fields ...FieldError) *Error {
	msg := "invalid input"
	if len(fields) == 1 {
		msg = fields[0].Field + ": " + fields[0].Message
	}
	return &Error{Code: EINVALID, Message: msg, Fields: fields}
}

// InvalidField is Invalid for one field.
func InvalidField(field, message string) *Error {
	return Invalid(FieldError{Field: field, Message: message})
}

// Internal wraps an unexpected error; its text is logged, never shown.
func Internal(err error, what string) *Error {
	return &Error{Code: EINTERNAL, Message: what, Err: err}
}

// Causes of conflicts a caller tells apart with errors.Is (the portal says
// each in the user's language); the *Error carrying one keeps its code and
// its message for the API.
var (
	// ErrFourEyes: the same person may not take both steps.
	ErrFourEyes = errors.New("four eyes")
	// ErrStale: someone else changed the record since it was read.
	ErrStale = errors.New("changed concurrently")
	// ErrDocumentsMissing: a decision needs documents the case lacks.
	ErrDocumentsMissing = errors.New("required documents missing")
)

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message safe to show for err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "internal error"
}
