package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"fiscald/calc"
	"fiscald/fiscal"
)

// maxQuoteInput bounds the JSON read by `fiscald quote`, like the endpoint's body limit.
const maxQuoteInput = 1 << 20

// cmdQuote computes a tax quote from the same JSON as POST /api/v1/tax/quote,
// with the parameters and bridge days of FISCAL_DB, and prints the result JSON.
func cmdQuote(ctx context.Context, cfg config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("quote", flag.ContinueOnError)
	file := fs.String("file", "", "read the request JSON from this file instead of standard input")
	if err := parse(fs, args, stdout, `fiscald quote: compute a tax quote (the JSON of POST /api/v1/tax/quote, from stdin or --file)
and print the result JSON. Uses FISCAL_DB's parameters and bridge days.

Example:
  echo '{"municipality":"timisoara","year":2026,"paid_on":"2026-05-10","object":{"kind":"vehicle",
        "category":"car","engine_cc":1598,"emission_class":"euro6","propulsion":"combustion"}}' | fiscald quote`); err != nil {
		return err
	}
	in := stdin
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	raw, err := io.ReadAll(io.LimitReader(in, maxQuoteInput+1))
	if err != nil {
		return err
	}
	if len(raw) > maxQuoteInput {
		return fmt.Errorf("the request is over %d bytes", maxQuoteInput)
	}
	var q calc.QuoteInput
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&q); err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	if q.Municipality == "" {
		return fmt.Errorf("municipality: is required")
	}
	db, err := openDB(ctx, cfg, false, io.Discard)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := db.MunicipalityBySlug(ctx, q.Municipality)
	if err != nil {
		if fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
			return fmt.Errorf("municipality: unknown municipality %q", q.Municipality)
		}
		return err
	}
	e, err := db.TaxEngine(ctx, m.ID)
	if err != nil {
		return err
	}
	r, err := e.Quote(q)
	if err != nil {
		return describe(fiscal.FromCalc(err, e))
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
