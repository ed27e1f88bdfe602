// Command fiscald is the one binary of the service: the server, migrations,
// staff accounts and the batch jobs. Configuration comes from FISCAL_*
// environment variables (and flags), parsed here and nowhere else.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// config is the whole configuration, read once from the environment.
type config struct {
	// TrustAddr is the loopback address where serve publishes the demo
	// CA's TSA, OCSP responder and CRL (internal/trust); empty = not served
	// over HTTP (they are still used in-process).
	TrustAddr    string
	Addr         string
	DB           string
	Municipality string
	DataDir      string
	LogFormat    string
	StripeKey    string
	StripeHook   string
	StripeBase   string
	// StripePublishable is the publishable key the portal's card form
	// (Stripe's Payment Element) needs; not a secret.
	StripePublishable string
	PublicURL         string
	SMTPAddr          string
	SMTPFrom          string
	SMTPUser          string
	SMTPPassword      string
	// SMTPTimeout bounds one SMTP send (dial to acceptance), a duration.
	SMTPTimeout string
	// SLAInterval is how often serve runs the SLA monitor and the outbox.
	SLAInterval string
	// PProf is the loopback address of serve's opt-in profiling listener
	// (net/http/pprof); empty = off.
	PProf string
	// MetricsAddr is the loopback address of serve's listener for
	// Prometheus scrapers (/metrics without authentication); empty = none,
	// /metrics is then only for admins on the main listener.
	MetricsAddr string
	// MaxInFlight bounds the requests serve works on at once; "" = 16 per
	// processor (web.Config.MaxInFlight).
	MaxInFlight string
	// SignCert and SignKey are the municipality's document-signing
	// certificate (PEM, chain after it) and key; unset = the demo CA under
	// FISCAL_DATA_DIR/pki.
	SignCert string
	SignKey  string
	// TrustedProxies are the reverse proxies (CIDRs) whose X-Forwarded-For
	// and X-Forwarded-Proto are believed; empty = none.
	TrustedProxies string
	// PublicRateLimit is the public calculators' requests a minute per
	// client address; Instances how many instances share it (each counts
	// its share in memory).
	PublicRateLimit string
	Instances       string
	// ShutdownDrain is how long serve answers /readyz 503 on SIGTERM
	// before it stops listening (a duration; the load balancer's health
	// check interval × fall, plus a margin).
	ShutdownDrain string
	// FaultPoint arms a store fault point (a crash-test hook: the process
	// SIGKILLs itself there); empty = off. Never set in service.
	FaultPoint string
	// OIDC* configure the sign-in with the national identity provider
	// (internal/oidc); no issuer = off (serve --demo then starts the test
	// ROeID).
	OIDCIssuer, OIDCClientID, OIDCClientSecret, OIDCScopes, OIDCCNPClaim, OIDCRedirectURL string
	// ImportMaxBytes is the largest file `fiscald import` and the admin
	// import API accept (FISCAL_IMPORT_MAX_BYTES, bytes; default 1 GiB).
	ImportMaxBytes string
}

func loadConfig() config {
	get := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	c := config{
		Addr:              get("FISCAL_ADDR", "127.0.0.1:8080"),
		DataDir:           get("FISCAL_DATA_DIR", "./data"),
		Municipality:      get("FISCAL_MUNICIPALITY", "timisoara"),
		LogFormat:         get("FISCAL_LOG_FORMAT", "text"),
		StripeKey:         os.Getenv("STRIPE_SECRET_KEY"),
		StripeHook:        os.Getenv("STRIPE_WEBHOOK_SECRET"),
		StripeBase:        os.Getenv("STRIPE_API_BASE"),
		StripePublishable: os.Getenv("STRIPE_PUBLISHABLE_KEY"),
		SMTPAddr:          os.Getenv("FISCAL_SMTP_ADDR"),
		SMTPFrom:          get("FISCAL_SMTP_FROM", "fiscald@localhost"),
		SMTPUser:          os.Getenv("FISCAL_SMTP_USER"),
		SMTPPassword:      os.Getenv("FISCAL_SMTP_PASSWORD"),
		SMTPTimeout:       get("FISCAL_SMTP_TIMEOUT", "10s"),
		SLAInterval:       get("FISCAL_SLA_INTERVAL", "5m"),
		PProf:             os.Getenv("FISCAL_PPROF"),
		MetricsAddr:       os.Getenv("FISCAL_METRICS_ADDR"),
		MaxInFlight:       os.Getenv("FISCAL_MAX_IN_FLIGHT"),
		SignCert:          os.Getenv("FISCAL_SIGN_CERT"),
		SignKey:           os.Getenv("FISCAL_SIGN_KEY"),
		FaultPoint:        os.Getenv("FISCAL_FAULT_POINT"),
		OIDCIssuer:        os.Getenv("FISCAL_OIDC_ISSUER"),
		OIDCClientID:      os.Getenv("FISCAL_OIDC_CLIENT_ID"),
		OIDCClientSecret:  os.Getenv("FISCAL_OIDC_CLIENT_SECRET"),
		OIDCScopes:        get("FISCAL_OIDC_SCOPES", "openid profile"),
		OIDCCNPClaim:      get("FISCAL_OIDC_CNP_CLAIM", "cnp"),
		OIDCRedirectURL:   os.Getenv("FISCAL_OIDC_REDIRECT_URL"),
		TrustAddr:         os.Getenv("FISCAL_TRUST_ADDR"),
		ImportMaxBytes:    os.Getenv("FISCAL_IMPORT_MAX_BYTES"),
		TrustedProxies:    os.Getenv("FISCAL_TRUSTED_PROXIES"),
		PublicRateLimit:   get("FISCAL_PUBLIC_RATE_LIMIT", "600"),
		Instances:         get("FISCAL_INSTANCES", "1"),
		ShutdownDrain:     get("FISCAL_SHUTDOWN_DRAIN", "0s"),
	}
	c.DB = get("FISCAL_DB", "sqlite:"+strings.TrimSuffix(c.DataDir, "/")+"/fiscald.db")
	c.PublicURL = get("FISCAL_PUBLIC_URL", "http://"+c.Addr)
	return c
}

// print writes the configuration with secrets masked.
func (c config) print(w io.Writer) {
	mask := func(s string) string {
		if s == "" {
			return "(not set)"
		}
		if len(s) <= 8 {
			return "****"
		}
		return s[:7] + "…" + "****"
	}
	db := c.DB
	if i := strings.Index(db, "://"); i >= 0 {
		if at := strings.Index(db[i+3:], "@"); at >= 0 {
			cred := db[i+3 : i+3+at]
			if user, _, ok := strings.Cut(cred, ":"); ok {
				db = db[:i+3] + user + ":****" + db[i+3+at:]
			}
		}
	}
	rows := map[string]string{
		"FISCAL_ADDR": c.Addr, "FISCAL_DB": db, "FISCAL_MUNICIPALITY": c.Municipality, "FISCAL_DATA_DIR": c.DataDir,
		"FISCAL_PUBLIC_URL": c.PublicURL, "FISCAL_LOG_FORMAT": c.LogFormat,
		"FISCAL_SMTP_ADDR": orLog(c.SMTPAddr), "FISCAL_SMTP_FROM": c.SMTPFrom, "FISCAL_SMTP_USER": c.SMTPUser,
		"FISCAL_SMTP_PASSWORD": mask(c.SMTPPassword), "FISCAL_SMTP_TIMEOUT": c.SMTPTimeout, "FISCAL_SLA_INTERVAL": c.SLAInterval,
		"FISCAL_PPROF": orOff(c.PProf), "FISCAL_METRICS_ADDR": orDefault(c.MetricsAddr, "off: /metrics for admins only"),
		"FISCAL_MAX_IN_FLIGHT": orDefault(c.MaxInFlight, "16 per processor"),
		"FISCAL_FAULT_POINT":   orOff(c.FaultPoint),
		"FISCAL_SIGN_CERT":     orDemo(c.SignCert), "FISCAL_SIGN_KEY": orDemo(c.SignKey),
		"FISCAL_TRUSTED_PROXIES":   orDefault(c.TrustedProxies, "none: the peer is the client"),
		"FISCAL_PUBLIC_RATE_LIMIT": c.PublicRateLimit, "FISCAL_INSTANCES": c.Instances, "FISCAL_SHUTDOWN_DRAIN": c.ShutdownDrain,
		"FISCAL_TRUST_ADDR":    orDefault(c.TrustAddr, "off: the demo TSA, OCSP and CRL are used in process only"),
		"FISCAL_PKCS11_MODULE": orDefault(os.Getenv("FISCAL_PKCS11_MODULE"), "not set: keys in the file backend under the master key"),
		"FISCAL_PKCS11_TOKEN":  os.Getenv("FISCAL_PKCS11_TOKEN"), "FISCAL_PKCS11_PIN": mask(os.Getenv("FISCAL_PKCS11_PIN")),
		"FISCAL_IMPORT_MAX_BYTES": orDefault(c.ImportMaxBytes, "1073741824"),
		"STRIPE_SECRET_KEY":       mask(c.StripeKey), "STRIPE_WEBHOOK_SECRET": mask(c.StripeHook), "STRIPE_API_BASE": c.StripeBase,
		"STRIPE_PUBLISHABLE_KEY": c.StripePublishable,
		"FISCAL_OIDC_ISSUER":     orText(c.OIDCIssuer, "(not set: no sign-in with ROeID; serve --demo starts a test ROeID)"),
		"FISCAL_OIDC_CLIENT_ID":  c.OIDCClientID, "FISCAL_OIDC_CLIENT_SECRET": mask(c.OIDCClientSecret),
		"FISCAL_OIDC_SCOPES": c.OIDCScopes, "FISCAL_OIDC_CNP_CLAIM": c.OIDCCNPClaim,
		"FISCAL_OIDC_REDIRECT_URL": orDefault(c.OIDCRedirectURL, c.PublicURL+"/auth/oidc/callback"),
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintln(w, "fiscald configuration:")
	for _, k := range keys {
		fmt.Fprintf(w, "  %-22s %s\n", k, rows[k])
	}
}

func orText(v, unset string) string {
	if v == "" {
		return unset
	}
	return v
}

func orOff(addr string) string {
	if addr == "" {
		return "(off)"
	}
	return addr
}

func orLog(addr string) string {
	if addr == "" {
		return "(not set: notifications go to the log)"
	}
	return addr
}

func newLogger(format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

const usage = `fiscald — local taxes of a Romanian municipality

Usage:
  fiscald serve [--migrate] [--demo]      start the HTTP server
  fiscald migrate                         apply database migrations
  fiscald user add --username U --role R --password-stdin [--full-name N]
                                          create a staff account
  fiscald audit verify                    verify the audit log's hash chain
  fiscald backup --out FILE               a consistent copy of the database, attachments and keys
                                          while the server runs (docs/operations.md)
  fiscald restore --in FILE               restore a backup into an empty database and FISCAL_DATA_DIR
  fiscald seed --synthetic N [--seed S]   generate a synthetic city (benchmarks, demos)
  fiscald assess --year Y                 the annual assessment (idempotent, resumable)
  fiscald recompute --year Y              recompute a year after a retroactive law (differences as debt or credit)
  fiscald bench raw-writes --year Y       the raw write ceiling of assess (benchmarks)
  fiscald sla check                       escalate cases at risk and record breaches (for cron)
  fiscald quote [--file F]                a tax quote: request JSON on stdin, result JSON out
  fiscald params draft|show|adopt         next year's tax parameters by art. 491 (draft, review, adopt)
  fiscald import KIND --file F [--dry-run] take over existing data (taxpayers, vehicles, balances; CSV or XLSX)
  fiscald import city --dir D [--dry-run] the three kinds from D/KIND.csv|xlsx, in order, with a summary by kind
  fiscald report NAME --out FILE [--from D --to D | --as-of D] [--group G] [--format F]
                                          an accountants' report (collections, journal,
                                          arrears, bonuses) as CSV, XLSX or PDF
  fiscald enroll-codes --out FILE         enrollment codes for every individual without an account (CSV for the printer)

Every command takes --help. Configuration (environment):
  FISCAL_ADDR          listen address (default 127.0.0.1:8080; port 0 picks one)
  FISCAL_DB            sqlite:PATH (default sqlite:./data/fiscald.db) or a postgres:// URL
  FISCAL_MUNICIPALITY  the municipality served by default (default timisoara)
  FISCAL_DATA_DIR      where files are kept (default ./data): attachments/, keys/master.key
  FISCAL_SMTP_ADDR     SMTP server host:port for notifications (default: log only)
  FISCAL_SMTP_FROM     sender address; FISCAL_SMTP_USER, FISCAL_SMTP_PASSWORD for PLAIN auth
  FISCAL_SMTP_TIMEOUT  bound on one SMTP send, from the dial to the server's acceptance (default 10s)
  FISCAL_SLA_INTERVAL  how often serve runs the SLA monitor and sends notifications (default 5m)
  FISCAL_MAX_IN_FLIGHT requests worked on at once; more wait (up to 10 s, then 503) (default 16 per processor)
  FISCAL_PPROF         loopback host:port of a profiling listener for serve (net/http/pprof; default off)
  FISCAL_METRICS_ADDR  loopback host:port serving /metrics to a scraper without authentication
                       (default off: /metrics on FISCAL_ADDR answers admins only)
  FISCAL_IMPORT_MAX_BYTES  the largest file fiscald import accepts (default 1073741824)
  FISCAL_TRUSTED_PROXIES  comma-separated CIDRs of the reverse proxies whose X-Forwarded-For and
                       X-Forwarded-Proto are believed (default none: the peer is the client)
  FISCAL_PUBLIC_RATE_LIMIT  requests a minute per client address on the public calculators (default 600)
  FISCAL_INSTANCES     instances behind one load balancer sharing FISCAL_PUBLIC_RATE_LIMIT (default 1)
  FISCAL_SHUTDOWN_DRAIN  on SIGTERM, how long /readyz answers 503 before serve stops listening (default 0s;
                       behind a load balancer: its health-check interval × fall, e.g. 3s)
  FISCAL_FAULT_POINT   crash tests only: the process kills itself (SIGKILL) at this point of a
                       transaction (store.FaultPoints; RELIABILITY.md); default off
  STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE  card payments
  STRIPE_PUBLISHABLE_KEY  the publishable key of the portal's card form (Stripe Payment Element)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cfg := loadConfig()
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, cfg, args[1:], stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, cfg, args[1:], stdout)
	case "user":
		err = cmdUser(ctx, cfg, args[1:], stdin, stdout)
	case "audit":
		err = cmdAudit(ctx, cfg, args[1:], stdout)
	case "seed":
		err = cmdSeed(ctx, cfg, args[1:], stdin, stdout)
	case "assess":
		err = cmdAssess(ctx, cfg, args[1:], stdout, stderr)
	case "recompute":
		err = cmdRecompute(ctx, cfg, args[1:], stdout, stderr)
	case "bench":
		err = cmdBench(ctx, cfg, args[1:], stdout)
	case "sla":
		err = cmdSLA(ctx, cfg, args[1:], stdout)
	case "quote":
		err = cmdQuote(ctx, cfg, args[1:], stdin, stdout)
	case "report":
		err = cmdReport(ctx, cfg, args[1:], stdout, stderr)
	case "import":
		err = cmdImport(ctx, cfg, args[1:], stdout, stderr)
	case "params":
		err = cmdParams(ctx, cfg, args[1:], stdout)
	case "enroll-codes":
		err = cmdEnrollCodes(ctx, cfg, args[1:], stdout, stderr)
	case "backup":
		err = cmdBackup(ctx, cfg, args[1:], stdout)
	case "restore":
		err = cmdRestore(ctx, cfg, args[1:], stdout)
	default:
		fmt.Fprintf(stderr, "fiscald: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err == errHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "fiscald:", err)
		return 1
	}
	return 0
}

func orDemo(path string) string {
	if path == "" {
		return "(not set: documents sealed by the demo CA under FISCAL_DATA_DIR/pki/trust)"
	}
	return path
}

func orDefault(v, def string) string {
	if v == "" {
		return "(default: " + def + ")"
	}
	return v
}
