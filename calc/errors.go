package calc

import (
	"errors"
	"fmt"
	"strings"

	"fiscald/calc/params"
	"fiscald/internal/civil"
)

// ErrUnknownMunicipality is returned (wrapped) for a municipality slug with no
// parameters at all; the HTTP layer answers it with 404.
var ErrUnknownMunicipality = errors.New("unknown municipality")

// FieldError is one invalid input field. Field is the JSON path of the field,
// e.g. "object.engine_cc".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error returns "field: message".
func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// InputErrors gathers every invalid field of one input.
type InputErrors []FieldError

// Error joins the field errors.
func (e InputErrors) Error() string {
	parts := make([]string, len(e))
	for i, f := range e {
		parts[i] = f.Error()
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

func (e *InputErrors) add(field, format string, args ...any) {
	*e = append(*e, FieldError{field, fmt.Sprintf(format, args...)})
}

func (e InputErrors) err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// MissingParamError reports that a computation needs a parameter that is not
// configured for the municipality and date: a value the council has not
// entered (one the law bounds by a range, or one with no national figure),
// or an amount not yet indexed for the year (art. 491). It is never
// replaced by zero.
type MissingParamError struct {
	Key          string     // parameter key, or a key prefix ending in "*" for banded tables
	Municipality string     // municipality slug the lookup was for
	Date         civil.Date // date of the lookup (1 January of the tax year for annual rates)
	What         string     // human description, e.g. "trucks >= 12 t, 4 axles"
	// Range is the law's range for a value the council chooses, when the
	// law gives one: the administrator must enter a value inside it.
	Range *params.Range
}

// Error returns a message such as "no rate configured for trucks >= 12 t,
// 4 axles, in 2026 for municipality timisoara (parameter vehicle.truck.axles4.*)".
func (e *MissingParamError) Error() string {
	what := e.What
	if what == "" {
		what = e.Key
	}
	if e.Range != nil {
		return fmt.Sprintf("no rate configured for %s, in %d for municipality %s: the council chooses it within %s (%s) (parameter %s)",
			what, e.Date.Year, e.Municipality, e.Range.String(), e.Range.LegalBasis, e.Key)
	}
	return fmt.Sprintf("no rate configured for %s, in %d for municipality %s (parameter %s)",
		what, e.Date.Year, e.Municipality, e.Key)
}
