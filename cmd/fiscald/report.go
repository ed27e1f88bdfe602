package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/payments"
	"fiscald/payments/stripe"
	"fiscald/reports"
)

// cmdReport writes an accountants' report to a file: the same bytes as the
// API's GET /api/v1/reports/NAME, with progress on stderr.
func cmdReport(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(stdout, "usage: fiscald report NAME [flags], NAME one of %v\n", reports.Names)
			return errHelp
		}
		return fmt.Errorf("usage: fiscald report NAME --from D --to D | --as-of D [--group G] [--format csv|xlsx|pdf] --out FILE; NAME one of %v", reports.Names)
	}
	name := args[0]
	fs := flag.NewFlagSet("report "+name, flag.ContinueOnError)
	from := fs.String("from", "", "first day of the period, YYYY-MM-DD (collections, journal, bonuses, sla, reconciliation)")
	to := fs.String("to", "", "last day of the period, YYYY-MM-DD")
	asOf := fs.String("as-of", "", "the date of the arrears, YYYY-MM-DD")
	group := fs.String("group", "", "collections: budget_code (default), day or month")
	format := fs.String("format", "", "csv (default), xlsx or pdf; default from --out's extension")
	out := fs.String("out", "", "the file to write (required; written whole or not at all)")
	muni := fs.String("municipality", cfg.Municipality, "the municipality's slug")
	every := fs.Int64("progress", 100_000, "print the rows written every N rows")
	if err := parse(fs, args[1:], stdout, `fiscald report NAME: write an accountants' report (`+fmt.Sprint(reports.Names)+`) to a file,
the same as GET /api/v1/reports/NAME. Examples:
  fiscald report collections --from 2026-01-01 --to 2026-01-31 --group day --out ianuarie.xlsx
  fiscald report arrears --as-of 2026-10-15 --out restante.csv
  fiscald report reconciliation --from 2026-05-01 --to 2026-05-31 --out reconciliere.xlsx`); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("--out FILE is required")
	}
	req := fiscal.ReportRequest{Name: name, Format: *format, Group: *group}
	if req.Format == "" {
		switch filepath.Ext(*out) {
		case ".xlsx":
			req.Format = "xlsx"
		case ".pdf":
			req.Format = "pdf"
		default:
			req.Format = "csv"
		}
	}
	for _, p := range []struct {
		flag, v string
		dst     *civil.Date
	}{{"--from", *from, &req.From}, {"--to", *to, &req.To}, {"--as-of", *asOf, &req.AsOf}} {
		if p.v == "" {
			continue
		}
		d, err := civil.Parse(p.v)
		if err != nil {
			return fmt.Errorf("%s: must be a date YYYY-MM-DD", p.flag)
		}
		*p.dst = d
	}
	db, err := openDB(ctx, cfg, false, io.Discard)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := db.MunicipalityBySlug(ctx, *muni)
	if err != nil {
		return err
	}
	start := time.Now()
	// The reconciliation report reads the stored processor transactions
	// only: no Stripe key is needed.
	sc, err := stripe.New(stripe.Config{})
	if err != nil {
		return err
	}
	ex := &reports.Exporter{Source: db, Reconciliation: payments.NewService(db, sc, db.Clock()), Clock: db.Clock(), ProgressEvery: *every, Progress: func(n int64) {
		fmt.Fprintf(stderr, "%s: %d rows written (%s)\n", name, n, time.Since(start).Round(time.Millisecond))
	}}
	if _, _, err := ex.ReportFile(&req); err != nil {
		return explain(err)
	}
	// Write to a temporary file beside the target and rename it at the end:
	// an interrupted or failed export leaves no partial file.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".fiscald-report-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	actor := fiscal.WithActor(ctx, &fiscal.Actor{System: true, Username: "cli", MunicipalityID: m.ID})
	rows, err := ex.ExportReport(actor, req, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return explain(err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d rows written to %s in %s\n", name, rows, *out, time.Since(start).Round(time.Millisecond))
	return nil
}

// explain adds the field errors to a domain error's message.
func explain(err error) error {
	var fe *fiscal.Error
	if errors.As(err, &fe) && len(fe.Fields) > 0 {
		msg := ""
		for i, f := range fe.Fields {
			if i > 0 {
				msg += "; "
			}
			msg += fmt.Sprintf("--%s: %s", strings.ReplaceAll(f.Field, "_", "-"), f.Message)
		}
		return errors.New(msg)
	}
	return err
}
