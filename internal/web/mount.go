package web

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
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

// Limit counts one attempt for key in the server's shared rate limits (the
// database: every instance counts in one budget) and returns ERATELIMIT
// when key is over max attempts in period. The portal shares the API's
// counters (same keys, e.g. "register:<address>" with ClientIP's address),
// so neither door allows more attempts than the other.
func (s *Server) Limit(ctx context.Context, key string, max int, period time.Duration) error {
	return s.limit(ctx, key, max, period)
}

// PublicLimit counts one request of c's client to the public calculator
// name against this instance's share of Config.PublicRateLimit a minute
// (the portal's tax calculator).
func (s *Server) PublicLimit(c *fiber.Ctx, name string) error { return s.publicLimit(c, name) }

// The sign-in throttle: each username and client address pair may fail
// loginFreeFailures times, then waits loginBackoffBase, doubled with each
// further failure up to loginBackoffMax, before its next attempt is even
// checked. Failures are counted per pair, not per account, so guessing from
// one address slows down that address only: the owner, signing in from an
// address without failures, is never refused (a lockout per account let
// anyone lock anyone out, the admin included). Each address also has
// loginPerAddress attempts a minute, whatever the usernames (spraying).
const (
	loginFreeFailures = 5
	loginBackoffBase  = 2 * time.Second
	loginBackoffMax   = 15 * time.Minute
	loginPerAddress   = 30
)

var loginBackoff = fiscal.Backoff{Free: loginFreeFailures, Base: loginBackoffBase, Ceiling: loginBackoffMax, Memory: failureMemory}

// SignIn checks a username and password as both doors (the API's
// POST /api/v1/auth/login and the portal's form) do, with the same limits:
// loginPerAddress attempts a minute per client address, and the backoff of
// the username and address pair after failures (ERATELIMIT with
// Retry-After while it lasts, without checking the password). Wrong
// passwords and throttled attempts are counted in /metrics
// (fiscald_login_failures_total, fiscald_login_throttled_total); a pair
// becoming throttled writes an audit entry (once per pair until it signs in
// or its failures are forgotten, so the log stays bounded by the
// per-address limit).
func (s *Server) SignIn(c *fiber.Ctx, m *fiscal.Municipality, username, password string) (*fiscal.Session, error) {
	ctx := c.UserContext()
	ip := strings.Clone(s.ClientIP(c))
	if err := s.limit(ctx, "login-ip:"+ip, loginPerAddress, time.Minute); err != nil {
		return nil, err
	}
	folded := strings.ToLower(username)
	pair := "login-fail:" + m.Slug + ":" + folded + "|" + ip
	wait, failed, err := s.shared.FailureWait(ctx, pair)
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		s.metrics.loginThrottled.Add(1)
		secs := int(math.Ceil(wait.Seconds()))
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		return nil, fiscal.Errorf(fiscal.ERATELIMIT, "too many wrong passwords for this username from this address: try again in %d s", secs)
	}
	sess, err := s.deps.Users.Login(ctx, m.ID, username, password)
	switch fiscal.ErrorCode(err) {
	case "":
		if failed {
			if ferr := s.shared.ForgetFailures(ctx, pair); ferr != nil {
				s.log.Warn("forgetting sign-in failures", "request_id", requestID(c), "err", ferr)
			}
		}
	case fiscal.EUNAUTHORIZED:
		s.metrics.loginFailed.Add(1)
		n, wait, ferr := s.shared.CountFailure(ctx, pair, loginBackoff)
		if ferr != nil {
			return nil, ferr
		}
		if n == loginFreeFailures+1 {
			t := fiscal.SignInThrottle{Username: folded, Address: ip, Failures: n, Until: s.deps.Clock.Now().Add(wait).UTC()}
			s.log.Warn("sign-in throttled", "request_id", requestID(c), "municipality", m.Slug, "username", folded, "address", ip, "failures", n)
			if s.deps.SignIns != nil {
				if aerr := s.deps.SignIns.SignInThrottled(c.UserContext(), m.ID, t); aerr != nil {
					s.log.Error("audit of a throttled sign-in", "request_id", requestID(c), "err", aerr)
				}
			}
		}
	}
	return sess, err
}

// Municipality resolves the municipality of a request by slug (the default
// when slug is empty); ENOTFOUND for an unknown slug.
func (s *Server) Municipality(c *fiber.Ctx, slug string) (*fiscal.Municipality, error) {
	return s.municipality(c, slug)
}
