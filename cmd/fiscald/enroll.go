package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"fiscald/fiscal"
)

const enrollUsage = `fiscald enroll-codes --out codes.csv: issue a one-time enrollment code for every individual
of the municipality without an online account, and write them as CSV for the printer
(taxpayer_id,name,address,code,expires_on; UTF-8, comma, header row).

Codes are issued in batches, each one transaction with one audit entry; a code replaces the
taxpayer's earlier active code, so the CSV of the latest run is the one to print. The file is
written as OUT.partial and renamed to OUT when every batch is written; progress goes to stderr.`

// cmdEnrollCodes issues enrollment codes for the printer.
func cmdEnrollCodes(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("enroll-codes", flag.ContinueOnError)
	out := fs.String("out", "", "the CSV file to write (required)")
	muni := fs.String("municipality", cfg.Municipality, "the municipality's slug")
	batch := fs.Int("batch", 500, "codes per transaction")
	if err := parse(fs, args, stdout, enrollUsage); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("--out is required")
	}
	if *batch < 1 || *batch > 10000 {
		return errors.New("--batch must be 1 to 10000")
	}
	db, err := openDB(ctx, cfg, false, stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := db.MunicipalityBySlug(ctx, *muni)
	if err != nil {
		return err
	}
	actx := fiscal.WithActor(ctx, &fiscal.Actor{System: true, Username: "fiscald enroll-codes", MunicipalityID: m.ID})
	partial := *out + ".partial"
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // codes are secrets until printed
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	if err := w.Write([]string{"taxpayer_id", "name", "address", "code", "expires_on"}); err != nil {
		return err
	}
	total, after := 0, int64(0)
	for {
		codes, err := db.IssueEnrollmentCodes(actx, m.ID, after, *batch)
		if err != nil {
			return fmt.Errorf("after %d codes (taxpayers up to id %d; %s kept): %w", total, after, partial, err)
		}
		if len(codes) == 0 {
			break
		}
		for _, c := range codes {
			if err := w.Write([]string{strconv.FormatInt(c.TaxpayerID, 10), defuse(c.Name), defuse(c.Address), c.Code, c.ExpiresOn.String()}); err != nil {
				return err
			}
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		total += len(codes)
		after = codes[len(codes)-1].TaxpayerID
		fmt.Fprintf(stderr, "enroll-codes: %d codes issued (up to taxpayer %d)\n", total, after)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(partial, *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "issued %d enrollment code(s) for %s into %s\n", total, m.Slug, *out)
	return nil
}

// defuse keeps a spreadsheet from reading a cell as a formula.
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
