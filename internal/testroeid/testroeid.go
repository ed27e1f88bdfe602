// Package testroeid is a "test ROeID": an OpenID provider for the tests and
// the demo (`make run`), built on github.com/zitadel/oidc's pkg/op (the only
// importer of it), with a login page listing demo identities and ROeID's
// claim names (cnp, nume, prenume, the address). It listens on a loopback
// address only and keeps everything in memory: it is never a production
// provider.
package testroeid

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Identity is a person the test provider can sign in.
type Identity struct {
	// Subject is the provider's id of the person (sub).
	Subject string
	// CNP, empty for a person without one (to see the portal refuse).
	CNP     string
	Nume    string // family name
	Prenume string // given name
	// Adresa is the address (the standard address claim, formatted).
	Adresa string
	Email  string
	// Note says what the identity shows in the demo.
	Note string
}

// Demo identities. DemoRegistered's CNP is in the demo registry with a
// vehicle and a debt (cmd/fiscald seeds it); DemoNew is in no registry.
var (
	DemoRegistered = Identity{Subject: "roeid-1780305460017", CNP: "1780305460017", Nume: "Stan", Prenume: "Gheorghe",
		Adresa: "Str. Gheorghe Lazăr 12, Timișoara", Email: "gheorghe.stan@example.ro", Note: "în registrul fiscal, cu un autoturism și un impozit de plată"}
	DemoNew = Identity{Subject: "roeid-2900512460010", CNP: "2900512460010", Nume: "Dumitru", Prenume: "Elena",
		Adresa: "Bd. Eroilor 5, Timișoara", Note: "nu este în registru: primește o fișă nouă"}
	DemoNoCNP = Identity{Subject: "roeid-fara-cnp", Nume: "Fără", Prenume: "CNP", Note: "furnizorul nu trimite CNP: portalul refuză"}
)

// DemoIdentities are the identities of the demo's login page.
var DemoIdentities = []Identity{DemoRegistered, DemoNew, DemoNoCNP}

// Config configures the provider.
type Config struct {
	// Addr is a loopback address (default 127.0.0.1:0, a free port).
	Addr         string
	ClientID     string
	ClientSecret string
	// RedirectURIs the client may use (more with AllowRedirect).
	RedirectURIs []string
	// Identities of the login page (default DemoIdentities).
	Identities []Identity
	Logger     *slog.Logger
}

// Server is a running test provider.
type Server struct {
	// Issuer is http://<loopback address>, exactly as the tokens carry it.
	Issuer string

	cfg      Config
	http     *http.Server
	provider *op.Provider
	st       *storage
}

// Start starts the provider on a loopback address; another address is
// refused.
func Start(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("testroeid: a client id and secret are required")
	}
	if cfg.Identities == nil {
		cfg.Identities = DemoIdentities
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("testroeid: %q is not a loopback address: the test provider listens on loopback only", cfg.Addr)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Issuer: "http://" + ln.Addr().String(), cfg: cfg}
	s.st, err = newStorage(cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	var cryptoKey [32]byte
	rand.Read(cryptoKey[:])
	s.provider, err = op.NewProvider(&op.Config{CryptoKey: cryptoKey, CodeMethodS256: true, AuthMethodPost: true,
		SupportedClaims: []string{"sub", "aud", "exp", "iat", "iss", "nonce", "acr", "cnp", "nume", "prenume", "address", "email", "name", "given_name", "family_name"}},
		s.st, op.StaticIssuer(s.Issuer), op.WithAllowInsecure())
	if err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	interceptor := op.NewIssuerInterceptor(s.provider.IssuerFromRequest)
	mux.HandleFunc("GET /login", s.loginPage)
	mux.Handle("POST /login", interceptor.HandlerFunc(s.login))
	mux.Handle("/", s.provider)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go s.http.Serve(ln)
	return s, nil
}

// Close stops the provider.
func (s *Server) Close() error { return s.http.Close() }

// AllowRedirect adds a redirect URI of the client (a portal whose port is
// known once it listens).
func (s *Server) AllowRedirect(uri string) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.client.redirects = append(s.st.client.redirects, uri)
}

// RotateKey makes a new signing key; the old one stays in the JWKS, as a
// provider rotating its keys publishes both for a while.
func (s *Server) RotateKey() error { return s.st.rotate() }

// KeyID is the id of the current signing key.
func (s *Server) KeyID() string {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.st.keys[len(s.st.keys)-1].id
}

var loginTmpl = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="ro"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ROeID de test</title>
<style>body{font-family:sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;line-height:1.5}
button{font-size:1rem;padding:.5rem 1rem;margin:.25rem 0;cursor:pointer}li{margin-bottom:1rem;list-style:none}
.warn{background:#fff4e5;border-left:5px solid #b35c00;padding:.5rem 1rem}</style></head>
<body><main>
<h1>ROeID de test</h1>
<p class="warn">Furnizor de identitate de test, doar pe acest calculator. Alegeți persoana cu care intrați.</p>
<ul>
{{range .Identities}}<li><form method="post" action="/login">
<input type="hidden" name="id" value="{{$.ID}}"><input type="hidden" name="subject" value="{{.Subject}}">
<button type="submit" id="identity-{{.Subject}}">Intră ca {{.Nume}} {{.Prenume}}{{with .CNP}} (CNP {{.}}){{end}}</button>
<br><small>{{.Note}}</small></form></li>
{{end}}
</ul>
<form method="post" action="/login"><input type="hidden" name="id" value="{{.ID}}"><input type="hidden" name="deny" value="1">
<button type="submit" id="deny">Refuz</button></form>
</main></body></html>`))

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if _, err := s.st.AuthRequestByID(r.Context(), id); err != nil {
		http.Error(w, "unknown authorization request", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	loginTmpl.Execute(w, struct {
		ID         string
		Identities []Identity
	}{id, s.cfg.Identities})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	if r.FormValue("deny") != "" {
		req, err := s.st.AuthRequestByID(r.Context(), id)
		if err != nil {
			http.Error(w, "unknown authorization request", http.StatusBadRequest)
			return
		}
		s.st.DeleteAuthRequest(r.Context(), id)
		u := req.GetRedirectURI() + "?error=access_denied&state=" + url.QueryEscape(req.GetState())
		http.Redirect(w, r, u, http.StatusFound)
		return
	}
	if err := s.st.authenticate(id, r.FormValue("subject")); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(s.provider)(r.Context(), id), http.StatusFound)
}

// storage is op.Storage in memory.
type storage struct {
	cfg      Config
	mu       sync.Mutex
	client   *client
	requests map[string]*authRequest
	codes    map[string]string // code → request id
	tokens   map[string]string // access token id → subject
	keys     []*signingKey     // the last signs
}

func newStorage(cfg Config) (*storage, error) {
	st := &storage{cfg: cfg, client: &client{id: cfg.ClientID, secret: cfg.ClientSecret, redirects: slices.Clone(cfg.RedirectURIs)},
		requests: map[string]*authRequest{}, codes: map[string]string{}, tokens: map[string]string{}}
	return st, st.rotate()
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (st *storage) rotate() error {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	st.mu.Lock()
	st.keys = append(st.keys, &signingKey{id: randomID(), key: k})
	st.mu.Unlock()
	return nil
}

func (st *storage) identity(subject string) (Identity, bool) {
	for _, i := range st.cfg.Identities {
		if i.Subject == subject {
			return i, true
		}
	}
	return Identity{}, false
}

func (st *storage) authenticate(id, subject string) error {
	if _, ok := st.identity(subject); !ok {
		return errors.New("unknown identity")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	req, ok := st.requests[id]
	if !ok {
		return errors.New("unknown authorization request")
	}
	req.subject, req.done, req.authTime = subject, true, time.Now()
	return nil
}

func (st *storage) CreateAuthRequest(_ context.Context, ar *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if slices.Contains(ar.Prompt, "none") {
		return nil, oidc.ErrLoginRequired()
	}
	req := &authRequest{id: randomID(), AuthRequest: *ar, created: time.Now()}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.requests[req.id] = req
	return req, nil
}

func (st *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	req, ok := st.requests[id]
	if !ok || time.Since(req.created) > 10*time.Minute {
		return nil, errors.New("request not found")
	}
	return req, nil
}

func (st *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	st.mu.Lock()
	id, ok := st.codes[code]
	st.mu.Unlock()
	if !ok {
		return nil, errors.New("code invalid or used")
	}
	return st.AuthRequestByID(ctx, id)
}

func (st *storage) SaveAuthCode(_ context.Context, id, code string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.codes[code] = id
	return nil
}

// DeleteAuthRequest forgets the request and its code: a code is good once.
func (st *storage) DeleteAuthRequest(_ context.Context, id string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.requests, id)
	for code, rid := range st.codes {
		if rid == id {
			delete(st.codes, code)
		}
	}
	return nil
}

func (st *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	id := randomID()
	st.mu.Lock()
	st.tokens[id] = req.GetSubject()
	st.mu.Unlock()
	return id, time.Now().Add(5 * time.Minute), nil
}

var errUnsupported = errors.New("not supported by the test provider")

func (st *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errUnsupported
}

func (st *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errUnsupported
}

func (st *storage) TerminateSession(context.Context, string, string) error { return nil }

func (st *storage) RevokeToken(_ context.Context, token, _, _ string) *oidc.Error {
	st.mu.Lock()
	delete(st.tokens, token)
	st.mu.Unlock()
	return nil
}

func (st *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (st *storage) SigningKey(context.Context) (op.SigningKey, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.keys[len(st.keys)-1], nil
}

func (st *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (st *storage) KeySet(context.Context) ([]op.Key, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]op.Key, len(st.keys))
	for i, k := range st.keys {
		out[i] = publicKey{k}
	}
	return out, nil
}

func (st *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if id != st.client.id {
		return nil, errors.New("client not found")
	}
	c := *st.client
	c.redirects = slices.Clone(st.client.redirects)
	return &c, nil
}

func (st *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != st.client.id || secret != st.client.secret {
		return errors.New("invalid client")
	}
	return nil
}

// SetUserinfoFromScopes gives the person's claims with ROeID's names: sub,
// and for the profile scope cnp, nume, prenume, the address and the
// standard name claims.
func (st *storage) SetUserinfoFromScopes(_ context.Context, ui *oidc.UserInfo, subject, _ string, scopes []string) error {
	p, ok := st.identity(subject)
	if !ok {
		return errors.New("unknown subject")
	}
	ui.Subject = p.Subject
	if !slices.Contains(scopes, "profile") {
		return nil
	}
	ui.FamilyName, ui.GivenName, ui.Name = p.Nume, p.Prenume, p.Nume+" "+p.Prenume
	if p.CNP != "" {
		ui.AppendClaims("cnp", p.CNP)
	}
	ui.AppendClaims("nume", p.Nume)
	ui.AppendClaims("prenume", p.Prenume)
	if p.Adresa != "" {
		ui.Address = &oidc.UserInfoAddress{Formatted: p.Adresa, Country: "RO"}
	}
	if p.Email != "" {
		ui.Email, ui.EmailVerified = p.Email, true
	}
	return nil
}

func (st *storage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, _, _ string) error {
	st.mu.Lock()
	subject, ok := st.tokens[tokenID]
	st.mu.Unlock()
	if !ok {
		return errors.New("token is invalid or expired")
	}
	return st.SetUserinfoFromScopes(ctx, ui, subject, "", []string{"openid", "profile"})
}

func (st *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errUnsupported
}

func (st *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (st *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errUnsupported
}

func (st *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errUnsupported
}

func (st *storage) Health(context.Context) error { return nil }

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ *signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

// authRequest is op.AuthRequest.
type authRequest struct {
	oidc.AuthRequest
	id       string
	created  time.Time
	subject  string
	done     bool
	authTime time.Time
}

func (a *authRequest) GetID() string { return a.id }

// GetACR is eIDAS' level of assurance substantial, as ROeID's.
func (a *authRequest) GetACR() string                     { return "http://eidas.europa.eu/LoA/substantial" }
func (a *authRequest) GetAMR() []string                   { return []string{"pwd", "otp"} }
func (a *authRequest) GetAudience() []string              { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.authTime }
func (a *authRequest) GetClientID() string                { return a.ClientID }
func (a *authRequest) GetNonce() string                   { return a.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.Scopes }
func (a *authRequest) GetState() string                   { return a.State }
func (a *authRequest) GetSubject() string                 { return a.subject }
func (a *authRequest) Done() bool                         { return a.done }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: a.CodeChallengeMethod}
}

// client is op.Client: a confidential web client with the code flow.
type client struct {
	id, secret string
	redirects  []string
}

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return c.redirects }
func (c *client) PostLogoutRedirectURIs() []string    { return nil }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType        { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string           { return "/login?authRequestID=" + url.QueryEscape(id) }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return 5 * time.Minute }

// DevMode allows http redirect URIs (the loopback portal).
func (c *client) DevMode() bool { return true }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion puts the person's claims in the ID token,
// as ROeID does.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
