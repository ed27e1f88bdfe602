// Package oidc is the relying party of an OpenID Connect provider (ROeID,
// Romania's national identity provider, or any other): the only importer of
// github.com/coreos/go-oidc and golang.org/x/oauth2. It builds the
// authorization URL (code flow, state, nonce, PKCE S256) and turns the
// callback's code into a fiscal.VerifiedIdentity after verifying the ID
// token: issuer exactly, audience, expiry (on the injected clock),
// signature by the provider's JWKS (go-oidc refetches the JWKS on an
// unknown key id, which follows key rotation) and nonce. It implements
// fiscal.IdentityProvider; the portal keeps the state (in the database).
package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"fiscald/fiscal"
)

// Config is the relying party's configuration (FISCAL_OIDC_*, parsed in cmd).
type Config struct {
	// Issuer is the provider's issuer URL; discovery reads
	// Issuer/.well-known/openid-configuration, and an ID token's iss must
	// equal it exactly.
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is the portal's /auth/oidc/callback as the provider knows it.
	RedirectURL string
	// Scopes default to "openid profile"; openid is added when missing.
	Scopes []string
	// CNPClaim is the claim holding the CNP (default "cnp").
	CNPClaim string
	// HTTPClient talks to the provider (default: 10 s timeout).
	HTTPClient *http.Client
	// Clock checks the tokens' expiry (default the system clock).
	Clock  fiscal.Clock
	Logger *slog.Logger
}

// DefaultScopes are the scopes asked for when none are configured.
var DefaultScopes = []string{gooidc.ScopeOpenID, "profile"}

// ParseScopes splits FISCAL_OIDC_SCOPES (spaces or commas); empty gives
// DefaultScopes, and openid is always asked for.
func ParseScopes(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	if len(f) == 0 {
		return append([]string(nil), DefaultScopes...)
	}
	for _, x := range f {
		if x == gooidc.ScopeOpenID {
			return f
		}
	}
	return append([]string{gooidc.ScopeOpenID}, f...)
}

// RP is the relying party. Discovery happens at the first use and is
// retried at the next one when the provider did not answer.
type RP struct {
	cfg Config

	mu       sync.Mutex
	provider *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
	oauth    *oauth2.Config
}

// New checks the configuration; it does not call the provider.
func New(cfg Config) (*RP, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("oidc: issuer, client id and redirect URL are required")
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = ParseScopes("")
	}
	if cfg.CNPClaim == "" {
		cfg.CNPClaim = "cnp"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Clock == nil {
		cfg.Clock = fiscal.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &RP{cfg: cfg}, nil
}

// setup discovers the provider once.
func (r *RP) setup(ctx context.Context) (*oauth2.Config, *gooidc.IDTokenVerifier, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.provider != nil {
		return r.oauth, r.verifier, nil
	}
	// The provider keeps the context's client for its JWKS fetches, which
	// outlive this request.
	dctx := gooidc.ClientContext(context.WithoutCancel(ctx), r.cfg.HTTPClient)
	p, err := gooidc.NewProvider(dctx, r.cfg.Issuer)
	if err != nil {
		return nil, nil, &fiscal.Error{Code: fiscal.EUNAVAILABLE, Message: "the identity provider does not answer", Err: err}
	}
	r.provider = p
	r.verifier = p.Verifier(&gooidc.Config{ClientID: r.cfg.ClientID, Now: r.cfg.Clock.Now})
	r.oauth = &oauth2.Config{ClientID: r.cfg.ClientID, ClientSecret: r.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: r.cfg.RedirectURL, Scopes: r.cfg.Scopes}
	return r.oauth, r.verifier, nil
}

// AuthCodeURL is the provider's authorization URL with the state, the
// nonce and the S256 challenge of the verifier.
func (r *RP) AuthCodeURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	oc, _, err := r.setup(ctx)
	if err != nil {
		return "", err
	}
	return oc.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// errToken is what every failure of the token or its checks becomes: the
// page says the provider's answer could not be verified and names the check
// (the field error on "id_token"); the log says why.
func (r *RP) errToken(err error, what string) error {
	r.cfg.Logger.Warn("oidc: sign-in refused", "check", what, "err", err)
	return &fiscal.Error{Code: fiscal.EUNAUTHORIZED, Message: "the identity provider's answer could not be verified (" + what + ")", Err: err,
		Fields: []fiscal.FieldError{{Field: "id_token", Message: what}}}
}

// Identify exchanges the code with the PKCE verifier, verifies the ID token
// and its nonce, and reads the person.
func (r *RP) Identify(ctx context.Context, code, verifier, nonce string) (*fiscal.VerifiedIdentity, error) {
	oc, v, err := r.setup(ctx)
	if err != nil {
		return nil, err
	}
	hctx := context.WithValue(ctx, oauth2.HTTPClient, r.cfg.HTTPClient)
	tok, err := oc.Exchange(hctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, r.errToken(err, "code exchange")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, r.errToken(errors.New("no id_token"), "id_token")
	}
	idt, err := v.Verify(gooidc.ClientContext(ctx, r.cfg.HTTPClient), raw)
	if err != nil {
		var exp *gooidc.TokenExpiredError
		switch {
		case errors.As(err, &exp):
			return nil, r.errToken(err, "expired")
		case strings.Contains(err.Error(), "audience"):
			return nil, r.errToken(err, "audience")
		case strings.Contains(err.Error(), "issuer"), strings.Contains(err.Error(), "different provider"):
			return nil, r.errToken(err, "issuer")
		}
		return nil, r.errToken(err, "signature")
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return nil, r.errToken(errors.New("nonce mismatch"), "nonce")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, r.errToken(err, "claims")
	}
	return r.identity(idt.Issuer, idt.Subject, claims)
}

// identity reads the person from the verified claims. ROeID names the
// family name nume and the given name prenume; the standard claims are the
// fallback.
func (r *RP) identity(issuer, subject string, claims map[string]any) (*fiscal.VerifiedIdentity, error) {
	if subject == "" {
		return nil, r.errToken(errors.New("empty sub"), "subject")
	}
	cnp := strings.TrimSpace(str(claims[r.cfg.CNPClaim]))
	if cnp == "" {
		return nil, &fiscal.Error{Code: fiscal.EINVALID, Message: "the identity provider sent no CNP",
			Fields: []fiscal.FieldError{{Field: "cnp", Message: "missing"}}}
	}
	if reason := fiscal.CheckCNP(cnp); reason != "" {
		return nil, &fiscal.Error{Code: fiscal.EINVALID, Message: "the identity provider's CNP is not valid: " + reason,
			Fields: []fiscal.FieldError{{Field: "cnp", Message: reason}}}
	}
	id := &fiscal.VerifiedIdentity{Issuer: issuer, Subject: subject, CNP: cnp,
		FamilyName: first(claims, "nume", "family_name"), GivenName: first(claims, "prenume", "given_name"),
		Address: address(claims), Email: str(claims["email"])}
	if v, ok := claims["email_verified"].(bool); ok && !v {
		id.Email = ""
	}
	return id, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func first(claims map[string]any, names ...string) string {
	for _, n := range names {
		if s := strings.TrimSpace(str(claims[n])); s != "" {
			return s
		}
	}
	return ""
}

// address reads the address: ROeID's "adresa" or the standard "address"
// (a string, or an object with "formatted" or its parts).
func address(claims map[string]any) string {
	for _, n := range []string{"adresa", "address"} {
		switch a := claims[n].(type) {
		case string:
			if s := strings.TrimSpace(a); s != "" {
				return s
			}
		case map[string]any:
			if s := strings.TrimSpace(str(a["formatted"])); s != "" {
				return s
			}
			var parts []string
			for _, k := range []string{"street_address", "locality", "region", "postal_code", "country"} {
				if s := strings.TrimSpace(str(a[k])); s != "" {
					parts = append(parts, s)
				}
			}
			if len(parts) > 0 {
				return strings.Join(parts, ", ")
			}
		}
	}
	return ""
}

// SetRedirectURL changes the redirect URL (tests and the demo, whose
// listeners' ports are known once they listen); call it before the first
// sign-in.
func (r *RP) SetRedirectURL(u string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cfg.RedirectURL = u
	if r.oauth != nil {
		r.oauth.RedirectURL = u
	}
}

// String describes the relying party for the configuration printout.
func (r *RP) String() string {
	return fmt.Sprintf("issuer %s, client %s, scopes %s", r.cfg.Issuer, r.cfg.ClientID, strings.Join(r.cfg.Scopes, " "))
}
