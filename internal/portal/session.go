package portal

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// Cookie names.
const (
	// sessionCookie holds the bearer token of the browser's session
	// (fiscal.UserService.Login); the store keeps only its SHA-256.
	sessionCookie = "fiscald_session"
	// csrfCookie holds a random value the forms' CSRF tokens are derived from.
	csrfCookie = "fiscald_csrf"
	// langCookie holds the chosen language.
	langCookie = "fiscald_lang"
	// flashCookie holds the catalog key of a one-time notice.
	flashCookie = "fiscald_flash"
	// csrfField is the hidden form field carrying the CSRF token.
	csrfField = "_csrf"
)

// secure reports whether cookies get the Secure attribute.
func (p *Portal) secure(c *fiber.Ctx) bool { return p.cfg.SecureCookies || c.Protocol() == "https" }

func (p *Portal) setCookie(c *fiber.Ctx, name, value string, expires time.Time, sameSite string) {
	ck := &fiber.Cookie{Name: name, Value: value, Path: "/", HTTPOnly: true, Secure: p.secure(c), SameSite: sameSite}
	if !expires.IsZero() {
		ck.Expires = expires
	}
	c.Cookie(ck)
}

func (p *Portal) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", HTTPOnly: true, Secure: p.secure(c), SameSite: fiber.CookieSameSiteLaxMode,
		Expires: time.Unix(1, 0), MaxAge: -1})
}

// startSession sets the session cookie after a successful sign-in. It has
// no Expires: it ends with the browser, and the server ends it at the
// session's expiry (s.ExpiresAt) anyway. Lax, not
// Strict: a link to the portal from an e-mail must open signed in; the
// state-changing requests are POSTs, which Lax does not send cross-site and
// which the CSRF token guards anyway.
func (p *Portal) startSession(c *fiber.Ctx, s *fiscal.Session) {
	p.setCookie(c, sessionCookie, s.Token, time.Time{}, fiber.CookieSameSiteLaxMode)
}

// sessionActor resolves the session cookie into the actor; an unknown,
// expired or revoked token clears the cookie.
func (p *Portal) sessionActor(c *fiber.Ctx) (*fiscal.Actor, string, error) {
	token := strings.Clone(c.Cookies(sessionCookie))
	if token == "" || p.deps.Users == nil {
		return nil, "", nil
	}
	a, err := p.deps.Users.Authenticate(c.UserContext(), token)
	if err != nil {
		if fiscal.ErrorCode(err) == fiscal.EUNAUTHORIZED {
			p.clearCookie(c, sessionCookie)
			return nil, "", nil
		}
		return nil, "", err
	}
	if a, err = p.endedRepresentation(c, a, token); err != nil {
		return nil, "", err
	}
	return a, token, nil
}

// csrfSeed returns the browser's CSRF cookie value, setting a new one when
// it has none. SameSite=Strict: it is never sent with a cross-site request.
func (p *Portal) csrfSeed(c *fiber.Ctx) string {
	seed := strings.Clone(c.Cookies(csrfCookie))
	if len(seed) < 32 {
		b := make([]byte, 32)
		rand.Read(b)
		seed = base64.RawURLEncoding.EncodeToString(b)
		p.setCookie(c, csrfCookie, seed, time.Time{}, fiber.CookieSameSiteStrictMode)
	}
	return seed
}

// csrfToken is the form token: an HMAC of the browser's CSRF cookie and its
// session token (a signed double-submit). A token read by an attacker from
// another browser is useless; signing in or out changes every token.
func (p *Portal) csrfToken(seed, session string) string {
	m := hmac.New(sha256.New, p.cfg.CSRFKey)
	m.Write([]byte(seed))
	m.Write([]byte{0})
	m.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF verifies a POST: the Origin header, when sent, names this host,
// and the form's token matches the cookies.
func (p *Portal) checkCSRF(c *fiber.Ctx, v *view) bool {
	if origin := c.Get(fiber.HeaderOrigin); origin != "" && origin != "null" {
		u, err := url.Parse(origin)
		if err != nil || u.Host != string(c.Request().Host()) {
			return false
		}
	}
	seed := c.Cookies(csrfCookie)
	got := c.FormValue(csrfField)
	if seed == "" || got == "" {
		return false
	}
	want := p.csrfToken(seed, v.sessionToken)
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// setFlash keeps a one-time notice (a catalog key) for the next page.
func (p *Portal) setFlash(c *fiber.Ctx, key string) {
	p.setCookie(c, flashCookie, key, time.Time{}, fiber.CookieSameSiteLaxMode)
}

// takeFlash returns the notice's key, if any, and forgets it. Only keys of
// the catalog are shown, so the cookie cannot inject text.
func (p *Portal) takeFlash(c *fiber.Ctx) string {
	if k, ok := c.Locals(flashNow).(string); ok {
		return k
	}
	key := strings.Clone(c.Cookies(flashCookie))
	if key == "" {
		return ""
	}
	p.clearCookie(c, flashCookie)
	if _, ok := messages[RO][key]; !ok {
		return ""
	}
	return key
}
