// Package portal is the server-rendered web portal of fiscald for taxpayers
// and staff: Go html/template pages with embedded templates and a small
// hand-written stylesheet (no build step, no CDN), in Romanian with an
// English switch. It is mounted on the API's fiber app (web.Config.Mount) and
// talks to the domain through the fiscal service interfaces, as the API does.
//
// Browser sessions are cookies carrying the bearer token of
// fiscal.UserService.Login (HttpOnly, SameSite=Lax, Secure over TLS); every
// POST form carries a CSRF token bound to the session (see session.go). The
// API keeps its bearer tokens: cookies never authenticate /api requests.
//
// Pages are declared in a table like the API's routes (pages.go): each
// states its path, who may open it and its navigation entry; a feature adds
// a pages_xxx.go with its handlers, a templates/xxx.html and its messages in
// i18n.go. ARCHITECTURE.md has the steps.
package portal

import (
	"crypto/rand"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/web"
)

// Deps are the services the portal calls. Nil services leave their pages
// out of the navigation and answer 404.
type Deps struct {
	Users     fiscal.UserService
	Taxpayers fiscal.TaxpayerService
	Vehicles  fiscal.VehicleService
	// Properties lists buildings and land on the account page; nil: no
	// section.
	Properties fiscal.PropertyService
	Tax        fiscal.TaxRules
	Clock      fiscal.Clock
	// Cases is the workflow (declarations, the case pages, the queues).
	Cases fiscal.CaseService
	// RequestTypes gives the published request types' forms (pages_requests.go);
	// nil leaves those pages out.
	RequestTypes fiscal.RequestTypeService
	// Payments is the statement, card and cash payments and receipts.
	Payments fiscal.PaymentService
	// PaymentList lists a taxpayer's payments on the account page.
	PaymentList fiscal.PaymentLister
	// Documents issues, lists, serves and verifies documents (certificates,
	// decisions, receipts); nil leaves those pages out.
	Documents fiscal.DocumentService
	// Reports writes the accountants' exports (the reports page).
	Reports fiscal.ReportService
	// Staff lists staff accounts (the admin's users page, the queue's
	// assignee filter).
	Staff fiscal.StaffDirectory
	// Identity issues enrollment codes and changes staff accounts (the
	// desk's enrollment page, the admin's account page); nil leaves them out.
	Identity fiscal.IdentityService
	// Representations let a person act for a company they represent (the
	// selector on /account); nil: no selector.
	Representations fiscal.RepresentationService
	// Idempotency remembers which declaration forms were filed, so that a
	// form sent twice files one case (formonce.go); nil: no such check.
	Idempotency fiscal.IdempotencyStore
	// OIDC and SignIns are the sign-in with the national identity
	// provider (pages_oidc.go); either nil leaves it out.
	OIDC    fiscal.IdentityProvider
	SignIns fiscal.IdentityStore
	// Imports takes over the old system's data (the admin's import page,
	// pages_imports.go); nil leaves it out.
	Imports fiscal.ImportService
}

// Config is the portal's configuration, parsed in cmd.
type Config struct {
	// SecureCookies sets the Secure attribute on every cookie (the public
	// URL is https). Requests that arrive over TLS get it anyway.
	SecureCookies bool
	// CSRFKey signs the forms' CSRF tokens; a random key is made when empty
	// (forms opened before a restart then ask to be reloaded).
	CSRFKey []byte
	Logger  *slog.Logger
	// CardPayments says the payment service has a Stripe secret key; with
	// StripePublishableKey the pay page renders Stripe's Payment Element.
	// Without either the page says card payments are not configured.
	CardPayments         bool
	StripePublishableKey string
	// ImportDir keeps a dry run's file for its real run (pages_imports.go);
	// empty: a folder made under the system's temporary folder.
	ImportDir string
	// ImportMaxBytes is the largest file the import page takes (default
	// DefaultImportMaxBytes, the API's request body limit less its
	// multipart envelope).
	ImportMaxBytes int64
}

// DefaultImportMaxBytes is the import page's default file limit: 10 MiB,
// as an upload to the API (web.Config.BodyLimit is 11 MiB with the
// multipart envelope).
const DefaultImportMaxBytes = 10 << 20

// Portal is the web portal. Build it with New and mount it with Mount.
type Portal struct {
	cfg   Config
	deps  Deps
	log   *slog.Logger
	api   *web.Server
	pages []page
	tmpl  *templates
}

// New builds the portal and parses its templates (a template error panics:
// the templates are embedded, so it is a programming error).
func New(cfg Config, deps Deps) *Portal {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if len(cfg.CSRFKey) == 0 {
		cfg.CSRFKey = make([]byte, 32)
		rand.Read(cfg.CSRFKey)
	}
	if deps.Clock == nil {
		deps.Clock = fiscal.SystemClock{}
	}
	p := &Portal{cfg: cfg, deps: deps, log: cfg.Logger}
	p.pages = p.allPages()
	p.tmpl = mustParseTemplates()
	return p
}

// Mount adds the portal's pages and static files to the API's app. Its
// signature is web.Config.Mount's: the API server lends its municipality
// resolution, its validation and its rate limiter.
func (p *Portal) Mount(app *fiber.App, api *web.Server) {
	p.api = api
	app.Get(staticPrefix+"*", p.static)
	for _, pg := range p.pages {
		app.Add(pg.Method, pg.Path, p.handler(pg))
	}
	// Unknown paths asked for by a browser get an HTML 404 page; the API's
	// problem+json 404 answers everything else.
	app.Use(func(c *fiber.Ctx) error {
		if c.Method() != fiber.MethodGet || strings.HasPrefix(c.Path(), "/api/") || !strings.Contains(c.Get(fiber.HeaderAccept), "text/html") {
			return c.Next()
		}
		v, err := p.newView(c, page{})
		if err != nil {
			return err
		}
		return p.renderError(c, v, fiscal.Errorf(fiscal.ENOTFOUND, "no such page"))
	})
}
