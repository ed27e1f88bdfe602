package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/portal"
	"fiscald/internal/store"
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
func openDB(ctx context.Context, cfg config, migrate bool, out io.Writer) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.DB, fiscal.SystemClock{})
	if err != nil {
		return nil, err
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
	if err := parse(fs, args, stdout, "fiscald serve: start the HTTP server (configuration from FISCAL_* variables)"); err != nil {
		return err
	}
	cfg.print(stdout)
	log := newLogger(cfg.LogFormat)
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
	sc, err := stripe.New(stripe.Config{SecretKey: cfg.StripeKey, WebhookSecret: cfg.StripeHook, APIBase: cfg.StripeBase})
	if err != nil {
		return err
	}
	if !sc.Configured() {
		fmt.Fprintln(stdout, "card payments are not configured (STRIPE_SECRET_KEY is not set): card requests answer 503; cash payments work")
	} else if !sc.WebhookConfigured() {
		fmt.Fprintln(stdout, "warning: STRIPE_WEBHOOK_SECRET is not set: Stripe webhooks answer 503 and card payments will stay pending")
	}
	site := portal.New(portal.Config{SecureCookies: strings.HasPrefix(cfg.PublicURL, "https://"), Logger: log}, portal.Deps{
		Users: db, Taxpayers: db, Vehicles: db, Tax: db, Clock: db.Clock(),
	})
	srv := web.New(web.Config{DefaultMunicipality: cfg.Municipality, Logger: log, Mount: site.Mount}, web.Deps{
		Municipalities: db, Users: db, Taxpayers: db, Vehicles: db, Privacy: db, Audit: db, Idempotency: db, Tax: db, Ready: db.Ping, Clock: db.Clock(),
		Payments: payments.NewService(db, sc, db.Clock()),
		Reports:  &reports.Exporter{Source: db, Clock: db.Clock()},
	})
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
