package web

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// This file is what the API shares with transports mounted through
// Config.Mount (the HTML portal): the same validation, the same status
// table and the same login rate limits, so a form and the API answer the
// same input alike.

// Validate checks a request value as the API's decode does: validator/v10
// struct tags, then the value's own Validate method. It returns nil or an
// EINVALID *fiscal.Error whose Fields name each invalid field by its JSON path.
func Validate(v any) error { return check(v) }

// HTTPStatus is the HTTP status the API answers for err (500 for errors
// that are not domain errors).
func HTTPStatus(err error) int {
	var de *fiscal.Error
	if errors.As(err, &de) {
		if st, ok := statusOf[de.Code]; ok {
			return st
		}
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return fiber.StatusInternalServerError
}

// Limit counts one attempt for key in the server's rate limiter and returns
// ERATELIMIT when key is over max attempts in period. The portal shares the
// API's counters (same keys, e.g. "login-user:<slug>:<username>"), so neither
// door allows more guesses than the other.
func (s *Server) Limit(key string, max int, period time.Duration) error {
	return s.limit(key, max, period)
}

// Municipality resolves the municipality of a request by slug (the default
// when slug is empty); ENOTFOUND for an unknown slug.
func (s *Server) Municipality(c *fiber.Ctx, slug string) (*fiscal.Municipality, error) {
	return s.municipality(c, slug)
}
