package portal

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// Sign-in with the national identity provider (OpenID Connect, code flow).
// /auth/oidc/login keeps the sign-in's state (hashed), nonce and PKCE
// verifier in the database (fiscal.IdentityStore), so that the callback may
// reach any instance, and the state in a cookie of this browser, so that a
// callback carried to another browser (a sign-in CSRF) is refused. The
// callback claims the sign-in once (a replayed state finds nothing), has
// the provider's answer verified (fiscal.IdentityProvider, internal/oidc),
// and opens a new session: any session the browser had is ended first, so
// a session planted before the sign-in never becomes a signed-in one.

// oidcCookie holds the state of the browser's sign-in under way.
const oidcCookie = "fiscald_oidc"

// oidcLoginTTL is how long a sign-in at the provider may take.
const oidcLoginTTL = 10 * time.Minute

func (p *Portal) oidcPages() []page {
	if p.deps.OIDC == nil || p.deps.SignIns == nil {
		return nil
	}
	return []page{
		{Method: "GET", Path: "/auth/oidc/login", Access: public, Handler: p.oidcLogin},
		{Method: "GET", Path: "/auth/oidc/callback", Access: public, Handler: p.oidcCallback},
	}
}

// oidcEnabled says whether the sign-in pages offer the provider's button.
func (p *Portal) oidcEnabled() bool { return p.deps.OIDC != nil && p.deps.SignIns != nil }

func randomString() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func stateHash(state string) string {
	h := sha256.Sum256([]byte(state))
	return hex.EncodeToString(h[:])
}

func (p *Portal) oidcLogin(c *fiber.Ctx, v *view) error {
	// A signed-in browser may start too (a password account going to its
	// verified identity): the callback ends its session before opening one.
	if v.Muni.ID == 0 {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no municipality")
	}
	// Each start writes a row: bounded per address like registration.
	if err := p.api.Limit(c.UserContext(), "oidc-login:"+p.api.ClientIP(c), 30, time.Minute); err != nil {
		return err
	}
	state, nonce, verifier := randomString(), randomString(), randomString()
	l := &fiscal.OIDCLogin{StateHash: stateHash(state), Nonce: nonce, Verifier: verifier, Next: safeNext(c.Query("next"))}
	ctx := c.UserContext()
	authURL, err := p.deps.OIDC.AuthCodeURL(ctx, state, nonce, verifier)
	if err != nil {
		return p.oidcFailed(c, v, "oidc.err.unavailable", err)
	}
	if err := p.deps.SignIns.BeginOIDCLogin(ctx, v.Muni.ID, l, oidcLoginTTL); err != nil {
		return err
	}
	// No Expires: the database row carries the sign-in's expiry.
	p.setCookie(c, oidcCookie, state, time.Time{}, fiber.CookieSameSiteLaxMode)
	return c.Redirect(authURL, fiber.StatusSeeOther)
}

// providerError is the form of an OAuth error code (RFC 6749 §4.1.2.1),
// the only text of the provider's the page repeats.
var providerError = regexp.MustCompile(`^[a-z_]{1,40}$`)

func (p *Portal) oidcCallback(c *fiber.Ctx, v *view) error {
	ctx := c.UserContext()
	state := strings.Clone(c.Query("state"))
	cookie := strings.Clone(c.Cookies(oidcCookie))
	p.clearCookie(c, oidcCookie)
	// The sign-in is claimed whatever follows: a state is good for one
	// callback, a failed one included.
	var login *fiscal.OIDCLogin
	var claimErr error
	if state != "" && v.Muni.ID != 0 {
		login, claimErr = p.deps.SignIns.ClaimOIDCLogin(ctx, v.Muni.ID, stateHash(state))
	}
	if e := c.Query("error"); e != "" {
		if !providerError.MatchString(e) {
			e = "error"
		}
		return p.oidcFailed(c, v, "oidc.err.provider", fiscal.Errorf(fiscal.EUNAUTHORIZED, "the provider answered %s", e), e)
	}
	switch {
	case state == "" || c.Query("code") == "":
		return p.oidcFailed(c, v, "oidc.err.incomplete", fiscal.Errorf(fiscal.EINVALID, "no state or code"))
	case cookie == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(state)) != 1:
		return p.oidcFailed(c, v, "oidc.err.browser", fiscal.Errorf(fiscal.EUNAUTHORIZED, "the state is not this browser's"))
	case claimErr != nil || login == nil:
		if claimErr != nil && fiscal.ErrorCode(claimErr) != fiscal.ENOTFOUND {
			return claimErr
		}
		return p.oidcFailed(c, v, "oidc.err.state", fiscal.Errorf(fiscal.EUNAUTHORIZED, "unknown, used or expired state"))
	}
	id, err := p.deps.OIDC.Identify(ctx, strings.Clone(c.Query("code")), login.Verifier, login.Nonce)
	if err == nil {
		var s *fiscal.Session
		if s, err = p.deps.SignIns.SignInVerified(ctx, v.Muni.ID, id); err == nil {
			// A session the browser had (another account, or one planted)
			// ends: the sign-in always starts a new one.
			if v.sessionToken != "" {
				if err := p.deps.Users.Logout(ctx, v.sessionToken); err != nil && fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
					return err
				}
			}
			p.startSession(c, s)
			dest := login.Next
			if dest == "" {
				dest = "/account"
			}
			return c.Redirect(dest, fiber.StatusSeeOther)
		}
	}
	var de *fiscal.Error
	switch {
	case errors.As(err, &de) && len(de.Fields) > 0 && de.Fields[0].Field == "cnp" && de.Fields[0].Message == "missing":
		return p.oidcFailed(c, v, "oidc.err.nocnp", err)
	case errors.As(err, &de) && len(de.Fields) > 0 && de.Fields[0].Field == "cnp":
		return p.oidcFailed(c, v, "oidc.err.badcnp", err)
	case errors.As(err, &de) && len(de.Fields) > 0 && de.Fields[0].Field == "account":
		return p.oidcFailed(c, v, "oidc.err.disabled", err)
	case fiscal.ErrorCode(err) == fiscal.EUNAVAILABLE:
		return p.oidcFailed(c, v, "oidc.err.unavailable", err)
	case fiscal.ErrorCode(err) == fiscal.ECONFLICT:
		return p.oidcFailed(c, v, "oidc.err.conflict", err)
	case fiscal.ErrorCode(err) == fiscal.EUNAUTHORIZED, fiscal.ErrorCode(err) == fiscal.EINVALID:
		if errors.As(err, &de) && len(de.Fields) > 0 && de.Fields[0].Field == "id_token" {
			// The check that failed, for the department's help desk.
			c.Locals("oidc_check", de.Fields[0].Message)
		}
		return p.oidcFailed(c, v, "oidc.err.token", err)
	}
	return err
}

// oidcFailed renders the sign-in's failure page: nobody is signed in, the
// browser keeps no new session, the page says what happened in the
// visitor's language and offers to try again.
func (p *Portal) oidcFailed(c *fiber.Ctx, v *view, key string, err error, args ...any) error {
	rid, _ := c.Locals("request_id").(string)
	p.log.Warn("oidc sign-in failed", "request_id", rid, "reason", key, "err", err.Error())
	status := fiber.StatusUnauthorized
	switch key {
	case "oidc.err.unavailable":
		status = fiber.StatusServiceUnavailable
	case "oidc.err.nocnp", "oidc.err.badcnp", "oidc.err.incomplete":
		status = fiber.StatusUnprocessableEntity
	case "oidc.err.conflict":
		status = fiber.StatusConflict
	}
	v.Title = v.T("oidc.failed.title")
	check, _ := c.Locals("oidc_check").(string)
	return p.render(c.Status(status), v, "oidc_error", oidcErrorPage{Status: status, Message: v.T(key, args...), Check: check})
}

type oidcErrorPage struct {
	Status  int
	Message string
	// Check names the failed check of the ID token (nonce, audience, ...).
	Check string
}
