// Package web is the HTTP transport of fiscald on fiber v2: the JSON API of
// the contract, its OpenAPI document, health, metrics and the middleware
// (request ids, logs, authentication, roles, idempotency, rate limits). It
// talks to the domain through the service interfaces of package fiscal and
// decides every HTTP status in one place (errors.go).
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"fiscald/fiscal"
)

// Deps are the services the server calls.
type Deps struct {
	Municipalities fiscal.MunicipalityService
	Users          fiscal.UserService
	Taxpayers      fiscal.TaxpayerService
	Vehicles       fiscal.VehicleService
	// Properties reads buildings and land; nil answers 503.
	Properties fiscal.PropertyService
	Cases      fiscal.CaseService
	// RequestTypes runs the municipality's published request types; nil
	// answers 503 (and lists none).
	RequestTypes fiscal.RequestTypeService
	Privacy      fiscal.PrivacyService
	Audit        fiscal.AuditService
	// SignIns records throttled sign-ins in the audit log; nil leaves them
	// to the metrics and the log.
	SignIns     fiscal.SignInAudit
	Idempotency fiscal.IdempotencyStore
	Tax         fiscal.TaxRules
	// Payments is the taxpayer account and its payments; nil answers 503.
	Payments fiscal.PaymentService
	// Credit uses a taxpayer's credit; nil answers 503.
	Credit fiscal.CreditService
	// Recompute runs retroactive recomputations; nil answers 503.
	Recompute fiscal.RecomputeService
	// Reconciliation compares card payments with the processor's
	// transactions; nil answers 503.
	Reconciliation fiscal.ReconciliationService
	// Documents issues, serves and verifies signed documents; nil answers 503.
	Documents fiscal.DocumentService
	// PKI serves steps' signatures and the CA (handlers_pki.go).
	PKI fiscal.PKIService
	// Reports writes the accountants' exports; nil answers 503.
	Reports fiscal.ReportService
	// Identity is enrollment with codes and the life of staff accounts;
	// nil answers 503.
	Identity fiscal.IdentityService
	// Imports takes over a municipality's existing data; nil answers 503.
	Imports fiscal.ImportService
	// Representations are the links of persons to the companies they
	// represent and whom a session acts for; nil answers 503.
	Representations fiscal.RepresentationService
	// Writes reports the database's write transactions for /metrics
	// (store.DB.WriteStats); nil leaves them out.
	Writes func() fiscal.WriteStats
	// SLA is what this process's SLA monitor did so far (cases checked,
	// escalated, breaches recorded), for /metrics; nil leaves it out.
	SLA func() fiscal.SLAReport
	// OutboxPending counts the notifications not sent yet, for /metrics;
	// nil leaves the backlog out.
	OutboxPending func(ctx context.Context) (int64, error)
	// JobProgress reads the annual run's and the imports' progress from the
	// database, for /metrics (whichever process runs them); nil leaves it
	// out.
	JobProgress func(ctx context.Context) (*fiscal.JobProgress, error)
	// Limits holds the shared per-address limits (the database); nil
	// counts them in this process's memory.
	Limits fiscal.RateLimits
	// Ready reports whether the database answers.
	Ready func(ctx context.Context) error
	Clock fiscal.Clock
}

// Store is what the database (internal/store.DB) provides to the server:
// the services it implements itself, its readiness, its writer statistics
// and its clock.
type Store interface {
	fiscal.MunicipalityService
	fiscal.UserService
	fiscal.TaxpayerService
	fiscal.VehicleService
	fiscal.PropertyService
	fiscal.CaseService
	fiscal.RequestTypeService
	fiscal.PrivacyService
	fiscal.AuditService
	fiscal.SignInAudit
	fiscal.IdempotencyStore
	fiscal.TaxRules
	fiscal.CreditService
	fiscal.DocumentService
	fiscal.PKIService
	fiscal.IdentityService
	fiscal.RateLimits
	OutboxPending(ctx context.Context) (int64, error)
	JobProgress(ctx context.Context) (*fiscal.JobProgress, error)
	fiscal.RepresentationService
	Ping(ctx context.Context) error
	WriteStats() fiscal.WriteStats
	Clock() fiscal.Clock
}

// StoreDeps fills the Deps the database provides; the caller adds the
// services built on top of it (payments, recomputation, reconciliation,
// reports) and may replace the clock (tests).
func StoreDeps(db Store) Deps {
	return Deps{Municipalities: db, Users: db, Taxpayers: db, Vehicles: db, Properties: db, Cases: db, RequestTypes: db, Privacy: db, Audit: db, SignIns: db,
		Idempotency: db, Tax: db, Credit: db, Documents: db, PKI: db, Identity: db, Representations: db, Limits: db, OutboxPending: db.OutboxPending, JobProgress: db.JobProgress, Ready: db.Ping, Writes: db.WriteStats, Clock: db.Clock()}
}

// Config is the server's configuration, parsed in cmd.
type Config struct {
	// DefaultMunicipality is the slug served when a request names none.
	DefaultMunicipality string
	// RequestTimeout bounds each request's work.
	RequestTimeout time.Duration
	// ExportTimeout bounds a report export, which may outlast
	// RequestTimeout and the connection's write timeout (default 30 min).
	ExportTimeout time.Duration
	// BodyLimit is the largest request body (uploads included).
	BodyLimit int
	// PublicRateLimit is how many requests per minute one address may make
	// to the public tax quote and deadline endpoints (default 600).
	PublicRateLimit int
	// Instances is how many instances share PublicRateLimit behind one
	// load balancer: each counts 1/Instances of it in memory (default 1).
	Instances int
	// TrustedProxies are the addresses (CIDR prefixes) of the reverse
	// proxies whose X-Forwarded-For and X-Forwarded-Proto are believed;
	// empty: none, the peer is the client (ClientIP).
	TrustedProxies []netip.Prefix
	// MaxInFlight bounds the reading requests worked on at once (default 16
	// per processor; writing requests: four times as many); more wait in
	// arrival order up to AdmitWait (default 10 s), then answer 503 with
	// Retry-After.
	MaxInFlight int
	AdmitWait   time.Duration
	Logger      *slog.Logger
	// Mount, when set, adds routes of another transport (the HTML portal)
	// to the app after the API's routes and before the final 404 handler.
	Mount func(app *fiber.App, s *Server)
}

// Server is the HTTP server.
type Server struct {
	app     *fiber.App
	deps    Deps
	cfg     Config
	log     *slog.Logger
	routes  []route
	metrics *metrics
	limits  *limiter          // the public calculators' per-instance share
	shared  fiscal.RateLimits // the limits shared by the instances
	slots   chan struct{}     // requests that only read
	// draining is set by Drain: /readyz answers 503 and every response
	// closes its connection, so a load balancer moves to the other
	// instances before Shutdown stops listening.
	draining atomic.Bool
	wslots   chan struct{} // requests that write

	muniMu sync.RWMutex
	munis  map[string]*fiscal.Municipality
}

// New builds the server and its routes.
func New(cfg Config, deps Deps) *Server {
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.ExportTimeout == 0 {
		cfg.ExportTimeout = 30 * time.Minute
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = 11 << 20 // a 10 MiB upload and its multipart envelope
	}
	if cfg.PublicRateLimit == 0 {
		cfg.PublicRateLimit = 600
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 16 * runtime.GOMAXPROCS(0)
	}
	if cfg.AdmitWait <= 0 {
		cfg.AdmitWait = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if deps.Clock == nil {
		deps.Clock = fiscal.SystemClock{}
	}
	s := &Server{deps: deps, cfg: cfg, log: cfg.Logger, metrics: newMetrics(), limits: newLimiter(deps.Clock), slots: make(chan struct{}, cfg.MaxInFlight), wslots: make(chan struct{}, 4*cfg.MaxInFlight), munis: map[string]*fiscal.Municipality{}}
	s.metrics.writes = deps.Writes
	s.metrics.outbox = deps.OutboxPending
	s.metrics.jobs = deps.JobProgress
	s.metrics.sla = deps.SLA
	s.shared = deps.Limits
	if s.shared == nil {
		s.shared = s.limits
	}
	// fiber believes X-Forwarded-Proto (Protocol: HSTS, Secure cookies) only
	// from the trusted proxies; the client's address is ClientIP's.
	trusted := make([]string, len(cfg.TrustedProxies))
	for i, p := range cfg.TrustedProxies {
		trusted[i] = p.String()
	}
	s.app = fiber.New(fiber.Config{
		EnableTrustedProxyCheck: true,
		TrustedProxies:          trusted,
		ErrorHandler:            s.errorHandler,
		BodyLimit:               cfg.BodyLimit,
		ReadTimeout:             30 * time.Second,
		WriteTimeout:            60 * time.Second,
		IdleTimeout:             120 * time.Second,
		DisableStartupMessage:   true,
		AppName:                 "fiscald",
	})
	// Exports stream for longer than WriteTimeout allows other responses.
	s.app.Server().HeaderReceived = func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		if bytes.HasPrefix(h.RequestURI(), []byte(reportPrefix)) {
			return fasthttp.RequestConfig{WriteTimeout: cfg.ExportTimeout}
		}
		return fasthttp.RequestConfig{}
	}
	s.app.Use(s.recoverer, s.observe, s.admit)
	s.routes = s.allRoutes()
	for _, r := range s.routes {
		s.mount(r)
	}
	if cfg.Mount != nil {
		cfg.Mount(s.app, s)
	}
	s.app.Use(func(c *fiber.Ctx) error {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no such endpoint: %s %s", c.Method(), c.Path())
	})
	return s
}

// App returns the fiber app (for tests with app.Test and for Listen).
func (s *Server) App() *fiber.App { return s.app }

// Listen serves on addr until Shutdown.
func (s *Server) Listen(addr string) error { return s.app.Listen(addr) }

// Drain starts the shutdown as a load balancer needs it: /readyz answers
// 503 ("shutting down") and responses close their connections, while the
// server still takes requests; after the balancer's health checks have
// seen it (FISCAL_SHUTDOWN_DRAIN), Shutdown stops listening.
func (s *Server) Drain() { s.draining.Store(true) }

// Shutdown stops accepting connections and waits for requests in flight.
func (s *Server) Shutdown(timeout time.Duration) error { return s.app.ShutdownWithTimeout(timeout) }

// newRequestID is 8 random bytes in hex (one allocation: the string).
func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	var h [16]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals("request_id").(string)
	return id
}

func (s *Server) recoverer(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "request_id", requestID(c), "panic", r, "stack", string(debug.Stack()))
			err = fiscal.Errorf(fiscal.EINTERNAL, "internal error")
		}
	}()
	return c.Next()
}

// observe gives each request an id, a deadline, a log line and metrics.
// admit bounds the requests in progress to Config.MaxInFlight. Past that,
// every extra request would only add a runnable goroutine: the processors
// are shared by more work at once, each request takes longer, and a writer
// holding SQLite's single write lock waits its turn among hundreds. Waiting
// requests are parked here, in arrival order, and the ones in progress
// finish sooner; after AdmitWait a request is shed with 503 and
// Retry-After. Requests that write have slots of their own, four times as
// many: they spend most of their time parked, queued for the database's
// writer, and holding read slots meanwhile would stop the reads behind them (measured: every request then
// took as long as the slowest write). Health and metrics are never held back.
func (s *Server) admit(c *fiber.Ctx) error {
	path := c.Path()
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return c.Next()
	}
	slots := s.slots
	if m := c.Method(); m != fiber.MethodGet && m != fiber.MethodHead && path != quotePath {
		slots = s.wslots
	}
	select {
	case slots <- struct{}{}:
	default:
		t := time.NewTimer(s.cfg.AdmitWait)
		select {
		case slots <- struct{}{}:
			t.Stop()
		case <-t.C:
			s.metrics.shed.Add(1)
			c.Set(fiber.HeaderRetryAfter, "1")
			return fiscal.Errorf(fiscal.EUNAVAILABLE, "the service is busy: try again in a moment")
		}
	}
	defer func() { <-slots }()
	return c.Next()
}

// quotePath is the public tax calculator: a POST that only reads.
const quotePath = "/api/v1/tax/quote"

func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	id := strings.Clone(c.Get("X-Request-Id"))
	if id == "" || len(id) > 64 || strings.ContainsAny(id, "\r\n\"") {
		id = newRequestID()
	}
	c.Locals("request_id", id)
	h := &c.Response().Header
	h.SetCanonical(headerXRequestID, unsafeBytes(id))
	setSecurityHeaders(c)
	ctx := newRequestContext(start.Add(s.cfg.RequestTimeout))
	defer ctx.end()
	c.SetUserContext(ctx)
	if s.draining.Load() {
		c.Context().SetConnectionClose()
	}
	err := c.Next()
	if err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			return herr
		}
	}
	status := c.Response().StatusCode()
	routePath := c.Route().Path
	if routePath == "/" && c.Path() != "/" {
		routePath = "unmatched"
	}
	// The series hold copies of the labels: fiber's strings point into
	// reused buffers, and the log line may outlive the request.
	rs := s.metrics.series(c.Method(), routePath)
	d := time.Since(start)
	rs.observe(status, d)
	attrs := [6]slog.Attr{slog.String("request_id", id), slog.String("method", rs.label.method), slog.String("route", rs.label.route),
		slog.Int("status", status), slog.Float64("ms", float64(d.Microseconds())/1000)}
	n := 5
	if a := fiscal.ActorFrom(c.UserContext()); a != nil {
		attrs[n] = slog.Int64("user_id", a.UserID)
		n++
	}
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs[:n]...)
	return nil
}

// requestContext is a request's context: context.Background with the
// request's deadline, as context.WithTimeout gives, but its timer is armed
// only when something waits on Done or asks for a child context (a
// database call does; the tax quote, served from caches, never does), so a
// request that does not wait pays no timer. Until then Err still reports
// the deadline once it has passed. end is the cancel of WithTimeout.
type requestContext struct {
	deadline time.Time
	mu       sync.Mutex
	ctx      context.Context // the WithDeadline context, once armed
	cancel   context.CancelFunc
	ended    bool
}

func newRequestContext(deadline time.Time) *requestContext {
	return &requestContext{deadline: deadline}
}

// armed returns the WithDeadline context, making it on first use.
func (r *requestContext) armed() context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx == nil {
		r.ctx, r.cancel = context.WithDeadline(context.Background(), r.deadline)
		if r.ended {
			r.cancel()
		}
	}
	return r.ctx
}

// Deadline is the request's deadline.
func (r *requestContext) Deadline() (time.Time, bool) { return r.deadline, true }

// Done arms the deadline and returns its channel.
func (r *requestContext) Done() <-chan struct{} { return r.armed().Done() }

// Err is nil before the deadline and the end of the request, as for
// WithTimeout.
func (r *requestContext) Err() error {
	r.mu.Lock()
	ctx, ended := r.ctx, r.ended
	r.mu.Unlock()
	if ctx == nil && !ended && time.Now().Before(r.deadline) {
		return nil
	}
	return r.armed().Err()
}

// Value answers as the armed context (context's own keys, which let a
// child context register with it instead of watching it from a goroutine);
// unarmed, as Background: nil.
func (r *requestContext) Value(key any) any {
	r.mu.Lock()
	ctx := r.ctx
	r.mu.Unlock()
	if ctx == nil {
		return nil
	}
	return ctx.Value(key)
}

// end cancels the context (Err becomes context.Canceled unless the
// deadline came first).
func (r *requestContext) end() {
	r.mu.Lock()
	r.ended = true
	cancel := r.cancel
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// The headers every response carries, as fasthttp stores them (canonical
// names), so that setting them does not normalize and copy them each time.
var (
	headerXRequestID = []byte(fiber.HeaderXRequestID)
	securityHeaders  = [][2][]byte{
		{[]byte("X-Content-Type-Options"), []byte("nosniff")},
		{[]byte("X-Frame-Options"), []byte("DENY")},
		{[]byte("Referrer-Policy"), []byte("same-origin")},
		{[]byte("Permissions-Policy"), []byte("camera=(), microphone=(), geolocation=()")},
		{[]byte("Content-Security-Policy"), []byte("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")},
	}
	headerHSTS, valueHSTS = []byte("Strict-Transport-Security"), []byte("max-age=31536000; includeSubDomains")
)

// setSecurityHeaders sets the headers every response carries: no sniffing,
// no framing, a strict content security policy, no referrer leaks, and HSTS
// when the request came over TLS.
func setSecurityHeaders(c *fiber.Ctx) {
	h := &c.Response().Header
	for _, kv := range securityHeaders {
		h.SetCanonical(kv[0], kv[1])
	}
	if c.Protocol() == "https" {
		h.SetCanonical(headerHSTS, valueHSTS)
	}
}

// unsafeBytes is s as bytes without a copy, for fasthttp calls that copy
// their argument.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// TuneGC sets the garbage collector as the server runs it (`fiscald serve`
// and the HTTP benchmarks, so they measure the same): the server's live heap
// is small (tens of MB) and every request allocates; with Go's default (GC at
// 2× the live heap) the collector took 6-8 % of the server's CPU under
// `make loadtest`. GC at 5× trades a few tens of MB for that CPU. GOGC, when
// set, wins.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
