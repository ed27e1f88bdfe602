package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fiscald/assess"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"fiscald/documents"
	"fiscald/fiscal"
	"fiscald/internal/blob"
	"fiscald/internal/importer"
	"fiscald/internal/notify"
	"fiscald/internal/pdf"
	"fiscald/internal/portal"
	"fiscald/internal/signing"
	"fiscald/internal/store"
	"fiscald/internal/trust"
	"fiscald/internal/web"
	"fiscald/payments"
	"fiscald/payments/stripe"
	"fiscald/reports"
)

var errHelp = errors.New("help shown")

// parse parses a subcommand's flags; --help prints them and stops.
func parse(fs *flag.FlagSet, args []string, out io.Writer, summary string) error {
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "%s\n\nFlags:\n", summary)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return err
	}
	return nil
}

// openDB opens the configured database; with migrate it applies migrations,
// otherwise it refuses a schema that is behind.
func openDB(ctx context.Context, cfg config, migrate bool, out io.Writer, opts ...store.Option) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.DB, fiscal.SystemClock{}, opts...)
	if err != nil {
		return nil, err
	}
	if !db.SetFaultPoint(cfg.FaultPoint) {
		db.Close()
		return nil, fmt.Errorf("FISCAL_FAULT_POINT: %q is not NAME or NAME#N with NAME one of %s", cfg.FaultPoint, strings.Join(store.FaultPoints, ", "))
	}
	if cfg.FaultPoint != "" {
		fmt.Fprintf(out, "WARNING: FISCAL_FAULT_POINT=%s: this process kills itself (SIGKILL) when it gets there (crash tests only)\n", cfg.FaultPoint)
	}
	if migrate {
		names, err := db.Migrate(ctx)
		if err != nil {
			db.Close()
			return nil, err
		}
		for _, n := range names {
			fmt.Fprintln(out, "migrated:", n)
		}
		return db, nil
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func cmdServe(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	migrate := fs.Bool("migrate", false, "apply pending migrations before starting")
	demo := fs.Bool("demo", false, "create the demo municipality and demo accounts if missing")
	demoCases := fs.Bool("demo-cases", true, "with --demo: file the demo's cases in progress once (internal/demo); false leaves the cases to the caller")
	if err := parse(fs, args, stdout, "fiscald serve: start the HTTP server (configuration from FISCAL_* variables)"); err != nil {
		return err
	}
	cfg.print(stdout)
	log := newLogger(cfg.LogFormat)
	web.TuneGC()
	db, err := openDB(ctx, cfg, *migrate, stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := ensureMunicipality(ctx, db, cfg.Municipality); err != nil {
		return err
	}
	if *demo {
		if err := seedDemo(ctx, db, cfg.Municipality, stdout); err != nil {
			return err
		}
	}
	cd, err := useCaseDeps(db, cfg)
	if err != nil {
		return err
	}
	ca := cd.ca
	if err := useDocuments(ctx, db, cfg, cd, stdout); err != nil {
		return err
	}
	interval, err := time.ParseDuration(cfg.SLAInterval)
	if err != nil || interval <= 0 {
		return fmt.Errorf("FISCAL_SLA_INTERVAL: %q is not a duration such as 5m", cfg.SLAInterval)
	}
	sender, err := newSender(cfg, log)
	if err != nil {
		return err
	}
	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	sla := &slaTotals{}
	go func() { defer wg.Done(); runSLAMonitor(bg, db, log, interval, sla) }()
	go func() {
		defer wg.Done()
		(&notify.Dispatcher{Outbox: db, Sender: sender, Log: log}).Run(bg, min(interval, 30*time.Second))
	}()
	defer func() { stopBG(); wg.Wait() }()
	sc, err := stripe.New(stripe.Config{SecretKey: cfg.StripeKey, WebhookSecret: cfg.StripeHook, APIBase: cfg.StripeBase})
	if err != nil {
		return err
	}
	if !sc.Configured() {
		fmt.Fprintln(stdout, "card payments are not configured (STRIPE_SECRET_KEY is not set): card requests answer 503; cash payments work")
	} else if !sc.WebhookConfigured() {
		fmt.Fprintln(stdout, "warning: STRIPE_WEBHOOK_SECRET is not set: Stripe webhooks answer 503 and card payments will stay pending")
	}
	if sc.Configured() && cfg.StripePublishable == "" {
		fmt.Fprintln(stdout, "warning: STRIPE_PUBLISHABLE_KEY is not set: the portal cannot show the card form (the API takes card payments)")
	}
	idp, stopIDP, err := identityProvider(ctx, db, cfg, *demo, log, stdout)
	if err != nil {
		return err
	}
	defer stopIDP()
	if *demo && *demoCases {
		// After the test ROeID's person is on file and documents can be
		// issued: the demo's cases in progress (internal/demo, CaseStories).
		if err := seedDemoCases(ctx, db, cfg.Municipality, stdout); err != nil {
			return err
		}
	}
	pay := payments.NewService(db, sc, db.Clock())
	rep := &reports.Exporter{Source: db, Reconciliation: pay, Clock: db.Clock()}
	maxInFlight := 0
	if cfg.MaxInFlight != "" {
		if maxInFlight, err = strconv.Atoi(cfg.MaxInFlight); err != nil || maxInFlight < 1 {
			return fmt.Errorf("FISCAL_MAX_IN_FLIGHT: %q is not a positive number", cfg.MaxInFlight)
		}
	}
	trusted, err := web.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return fmt.Errorf("FISCAL_TRUSTED_PROXIES: %w", err)
	}
	publicLimit, err := strconv.Atoi(cfg.PublicRateLimit)
	if err != nil || publicLimit < 1 {
		return fmt.Errorf("FISCAL_PUBLIC_RATE_LIMIT: %q is not a positive number", cfg.PublicRateLimit)
	}
	drain, err := time.ParseDuration(cfg.ShutdownDrain)
	if err != nil || drain < 0 {
		return fmt.Errorf("FISCAL_SHUTDOWN_DRAIN: %q is not a duration such as 3s", cfg.ShutdownDrain)
	}
	instances, err := strconv.Atoi(cfg.Instances)
	if err != nil || instances < 1 {
		return fmt.Errorf("FISCAL_INSTANCES: %q is not a positive number", cfg.Instances)
	}
	deps := web.StoreDeps(db)
	deps.SLA = sla.get
	deps.Payments, deps.Reconciliation, deps.Reports = pay, pay, rep
	importMax, err := importMaxBytes(cfg)
	if err != nil {
		return err
	}
	deps.Imports = &importer.Service{Store: db, MaxBytes: importMax}
	// The import page keeps a dry run's file for its real run in the data
	// folder; its files are at most the API's upload size.
	site := portal.New(portal.Config{SecureCookies: strings.HasPrefix(cfg.PublicURL, "https://"), Logger: log,
		CardPayments: sc.Configured(), StripePublishableKey: cfg.StripePublishable,
		ImportDir: filepath.Join(cfg.DataDir, "imports"), ImportMaxBytes: min(importMax, portal.DefaultImportMaxBytes)}, portal.Deps{
		Users: db, Taxpayers: db, Vehicles: db, Properties: db, Tax: db, Clock: db.Clock(),
		Cases: db, Payments: pay, PaymentList: db, Staff: db, Documents: db, Reports: rep, Idempotency: db, RequestTypes: db,
		OIDC: idp, SignIns: db, Identity: db, Representations: db, Imports: deps.Imports,
	})
	// Recomputations run in this process's background; a run cut short by a
	// shutdown stays open and resumes on the next POST or `fiscald recompute`.
	deps.Recompute = &assess.RecomputeService{Store: db, Logger: log}
	srv := web.New(web.Config{DefaultMunicipality: cfg.Municipality, Logger: log, Mount: site.Mount, MaxInFlight: maxInFlight,
		TrustedProxies: trusted, PublicRateLimit: publicLimit, Instances: instances}, deps)
	if cfg.PProf != "" {
		stop, err := startPProf(cfg.PProf, log)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(stdout, "profiling (net/http/pprof) on http://%s/debug/pprof/\n", cfg.PProf)
	}
	if cfg.TrustAddr != "" {
		addr, stop, err := serveLoopback("FISCAL_TRUST_ADDR", cfg.TrustAddr, ca.Handler(db.Clock().Now), log)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(stdout, "demo trust services (TSA /tsa, OCSP /ocsp, CRL /crl) on http://%s\n", addr)
	}
	if cfg.MetricsAddr != "" {
		addr, stop, err := serveLoopback("FISCAL_METRICS_ADDR", cfg.MetricsAddr, srv.MetricsHandler(), log)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(stdout, "metrics for scrapers on http://%s/metrics\n", addr)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fiscald listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.App().Listener(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if drain > 0 {
		log.Info("draining: /readyz answers 503 so the load balancer moves on", "for", drain)
		srv.Drain()
		select {
		case <-time.After(drain):
		case err := <-errc:
			return err
		}
	}
	log.Info("shutting down: finishing requests in flight")
	if err := srv.Shutdown(30 * time.Second); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

func cmdMigrate(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	if err := parse(fs, args, stdout, "fiscald migrate: apply pending database migrations to FISCAL_DB"); err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, true, stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := ensureMunicipality(ctx, db, cfg.Municipality); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "schema is up to date")
	return nil
}

// useCaseDeps gives the store the signing vault (master key in
// FISCAL_DATA_DIR/keys) with the demo CA (FISCAL_DATA_DIR/pki/trust) that
// certifies staff's and the seal's keys, held by the file backend or, with
// FISCAL_PKCS11_MODULE, on a PKCS #11 token; and the attachment folder
// (FISCAL_DATA_DIR/attachments).
func useCaseDeps(db *store.DB, cfg config) (*caseDeps, error) {
	vault, err := signing.Open(filepath.Join(cfg.DataDir, "keys"))
	if err != nil {
		return nil, err
	}
	org := store.OrganisationName(cfg.Municipality)
	if m, err := db.MunicipalityBySlug(context.Background(), cfg.Municipality); err == nil {
		org = store.OrganisationName(m.Name)
	}
	ca, err := trust.Ensure(filepath.Join(cfg.DataDir, "pki", "trust"), org, db.Clock().Now())
	if err != nil {
		return nil, err
	}
	if cfg.TrustAddr != "" {
		ca.BaseURL = "http://" + cfg.TrustAddr
	}
	ca.UseStatus(db.RevocationStatus())
	backend, err := signing.PKCS11FromEnv()
	if err != nil {
		return nil, err
	}
	vault.UsePKI(ca, backend, db.Clock().Now)
	blobs, err := blob.NewLocal(filepath.Join(cfg.DataDir, "attachments"))
	if err != nil {
		return nil, err
	}
	db.UseCaseDeps(vault, blobs)
	return &caseDeps{blobs: blobs, vault: vault, ca: ca, org: org}, nil
}

// caseDeps is what useCaseDeps made.
type caseDeps struct {
	blobs *blob.Local
	vault *signing.Vault
	ca    *trust.Authority
	org   string
}

// useDocuments gives the store the documents pipeline: the municipality's
// signing certificate from FISCAL_SIGN_CERT and FISCAL_SIGN_KEY (signed
// adbe.pkcs7.detached, as before), or else the municipality's seal made by
// the vault's backend and certified by the demo CA (FISCAL_DATA_DIR/pki/
// trust), signing PAdES B-LT with the demo TSA and the DSS; signed PDFs go
// to the blob store.
func useDocuments(ctx context.Context, db *store.DB, cfg config, deps *caseDeps, stdout io.Writer) error {
	p := &documents.Producer{Blobs: deps.blobs, PublicURL: cfg.PublicURL}
	var err error
	switch {
	case cfg.SignCert != "" && cfg.SignKey != "":
		p.Signer, err = pdf.LoadSigner(cfg.SignCert, cfg.SignKey)
	case cfg.SignCert != "" || cfg.SignKey != "":
		return fmt.Errorf("FISCAL_SIGN_CERT and FISCAL_SIGN_KEY go together: set both or neither")
	default:
		dir := filepath.Join(cfg.DataDir, "pki", "trust")
		cert, key, serr := deps.vault.EnsureSeal(dir, deps.org, db.Clock().Now())
		if err = serr; err == nil {
			now := db.Clock().Now
			p.PAdES = &pdf.PAdES{Cert: cert, Key: key, Chain: deps.ca.Chain(), TSA: trust.Clocked{A: deps.ca, Now: now},
				Validation: deps.ca.Validation(context.WithoutCancel(ctx), now), Extra: []*x509.Certificate{deps.ca.TSA}}
			fmt.Fprintf(stdout, "documents are sealed PAdES B-LT with the DEMO CA in %s (set FISCAL_SIGN_CERT and FISCAL_SIGN_KEY in production; import %s as a trusted root to verify)\n",
				dir, filepath.Join(dir, trust.RootCertFile))
		}
	}
	if err != nil {
		return fmt.Errorf("document signing certificate: %w", err)
	}
	db.UseDocuments(p)
	return nil
}

// newSender is the SMTP sender when FISCAL_SMTP_ADDR is set, else the log.
func newSender(cfg config, log *slog.Logger) (notify.Sender, error) {
	timeout, err := time.ParseDuration(cfg.SMTPTimeout)
	if err != nil || timeout <= 0 {
		return nil, fmt.Errorf("FISCAL_SMTP_TIMEOUT: %q is not a duration such as 10s", cfg.SMTPTimeout)
	}
	if cfg.SMTPAddr == "" {
		return notify.LogSender{Log: log}, nil
	}
	s := notify.SMTPSender{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Timeout: timeout}
	if cfg.SMTPUser != "" {
		host, _, _ := net.SplitHostPort(cfg.SMTPAddr)
		s.Auth = smtp.PlainAuth("", cfg.SMTPUser, cfg.SMTPPassword, host)
	}
	return s, nil
}

// slaTotals sums what this process's SLA monitor did, for /metrics.
type slaTotals struct {
	mu  sync.Mutex
	sum fiscal.SLAReport
}

func (s *slaTotals) add(r fiscal.SLAReport) {
	s.mu.Lock()
	s.sum.Checked += r.Checked
	s.sum.Escalated += r.Escalated
	s.sum.Breached += r.Breached
	s.mu.Unlock()
}

func (s *slaTotals) get() fiscal.SLAReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sum
}

// runSLAMonitor runs the SLA check every interval until ctx ends, adding
// what it did to totals.
func runSLAMonitor(ctx context.Context, db *store.DB, log *slog.Logger, interval time.Duration, totals *slaTotals) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rep, err := db.CheckSLA(ctx, db.Clock().Now())
		if err == nil {
			totals.add(*rep)
		}
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("sla monitor", "err", err)
		case err == nil && (rep.Escalated > 0 || rep.Breached > 0):
			log.Info("sla monitor", "checked", rep.Checked, "escalated", rep.Escalated, "breached", rep.Breached)
		}
		// The published request types' escalations (each claimed in the
		// database, so several instances sweeping do each once).
		if er, err := db.SweepEscalations(ctx, db.Clock().Now()); err != nil && ctx.Err() == nil {
			log.Warn("escalations", "err", err)
		} else if err == nil && *er != (fiscal.EscalationReport{}) {
			log.Info("escalations", "notified", er.Notified, "reassigned", er.Reassigned, "warned", er.Warned, "deemed", er.Deemed)
		}
		// Absences that start today move the absent person's open cases to
		// their substitute (each substitution claimed once in the database;
		// one indexed query when none is due).
		if ar, err := db.SweepAbsences(ctx, db.Clock().Now()); err != nil && ctx.Err() == nil {
			log.Warn("absences", "err", err)
		} else if err == nil && ar.Substitutions > 0 {
			log.Info("absences", "substitutions", ar.Substitutions, "reassigned", ar.Reassigned, "queued", ar.Queued)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func cmdSLA(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stdout, "fiscald sla check: escalate open cases at risk (a notice to the signers) and record breaches; idempotent, for cron")
			return errHelp
		}
		return fmt.Errorf("usage: fiscald sla check")
	}
	fs := flag.NewFlagSet("sla check", flag.ContinueOnError)
	send := fs.Bool("send", true, "also send the queued notifications")
	if err := parse(fs, args[1:], stdout, "fiscald sla check: escalate open cases at risk (a notice to the signers) and record breaches; idempotent, for cron"); err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, false, stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := useCaseDeps(db, cfg); err != nil {
		return err
	}
	rep, err := db.CheckSLA(ctx, db.Clock().Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "checked %d open case(s): %d escalated, %d breached\n", rep.Checked, rep.Escalated, rep.Breached)
	er, err := db.SweepEscalations(ctx, db.Clock().Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "published types: %d notified, %d reassigned, %d warned, %d deemed\n", er.Notified, er.Reassigned, er.Warned, er.Deemed)
	ar, err := db.SweepAbsences(ctx, db.Clock().Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "absences: %d started, %d case(s) to substitutes, %d returned to the queue\n", ar.Substitutions, ar.Reassigned, ar.Queued)
	if *send {
		log := newLogger(cfg.LogFormat)
		sender, err := newSender(cfg, log)
		if err != nil {
			return err
		}
		n, err := (&notify.Dispatcher{Outbox: db, Sender: sender, Log: log}).Drain(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sent %d notification(s)\n", n)
	}
	return nil
}

// startPProf serves net/http/pprof on addr, which must be a loopback address:
// profiles show internals and cost CPU, so the listener is opt-in
// (FISCAL_PPROF) and never reachable from another machine.
func startPProf(addr string, log *slog.Logger) (stop func(), err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	_, stop, err = serveLoopback("FISCAL_PPROF", addr, mux, log)
	return stop, err
}

// serveLoopback serves h on addr, which must be a loopback address (the
// variable named by name gave it): a listener for this machine only, for
// what must not reach the network (profiles, metrics for a scraper). It
// returns the address listened on (port 0 picks one).
func serveLoopback(name, addr string, h http.Handler, log *slog.Logger) (net.Addr, func(), error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %q is not host:port: %w", name, addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, nil, fmt.Errorf("%s: %q is not a loopback address (use 127.0.0.1:PORT)", name, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("loopback listener", "variable", name, "err", err)
		}
	}()
	return ln.Addr(), func() { _ = srv.Close() }, nil
}

// openJob opens the database for a command-line job (refusing a schema that
// is behind) and the municipality it acts in, and returns a context acting
// as the system under the job's name.
func openJob(ctx context.Context, cfg config, slug, job string, out io.Writer, opts ...store.Option) (*store.DB, *fiscal.Municipality, context.Context, error) {
	db, err := openDB(ctx, cfg, false, out, opts...)
	if err != nil {
		return nil, nil, ctx, err
	}
	m, err := db.MunicipalityBySlug(ctx, slug)
	if err != nil {
		db.Close()
		return nil, nil, ctx, err
	}
	return db, m, fiscal.WithActor(ctx, &fiscal.Actor{System: true, Username: job, MunicipalityID: m.ID}), nil
}

// progressMode resolves "auto": a progress bar on a terminal, log lines otherwise.
func progressMode(mode string) string {
	if mode != "auto" {
		return mode
	}
	if isTerminal(os.Stderr) {
		return "bar"
	}
	return "log"
}
