package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// cmdParams drafts next year's tax parameters and adopts a draft:
// `fiscald params draft|adopt|show`.
func cmdParams(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	const usage = `fiscald params draft|show|adopt: next year's tax parameters (art. 491), as the admin API's
POST /api/v1/admin/parameter-drafts, GET .../{id} and POST .../{id}/adopt.

  fiscald params draft --from 2026 --to 2027 --inflation 5.6 [--eur-ron 5.0900]
                       --decision-number 200/2026 --decision-date 2026-12-15 [--json]
  fiscald params show --id N [--json]
  fiscald params adopt --id N

Each command takes --help.`
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stdout, usage)
		if len(args) == 0 {
			return fmt.Errorf("a subcommand is required: draft, show or adopt")
		}
		return errHelp
	}
	fs := flag.NewFlagSet("params "+args[0], flag.ContinueOnError)
	muni := fs.String("municipality", cfg.Municipality, "the municipality's slug")
	asJSON := fs.Bool("json", false, "print the draft as JSON (the API's shape)")
	var (
		d    *fiscal.ParameterDraft
		help string
	)
	switch args[0] {
	case "draft":
		from := fs.Int("from", 0, "the year to draft from (required)")
		to := fs.Int("to", 0, "the year drafted (required: from + 1)")
		infl := fs.String("inflation", "", "the inflation rate in percent, e.g. 5.6 (required)")
		eur := fs.String("eur-ron", "", "the euro rate of the first working day of October, for trucks and road trains")
		num := fs.String("decision-number", "", "the council decision's number, e.g. 200/2026 (required)")
		date := fs.String("decision-date", "", "the council decision's date YYYY-MM-DD (required)")
		help = `fiscald params draft: draft next year's values from a year's by art. 491 (amounts × the inflation
index, truck amounts by the euro rate, amounts the law excluded for the year kept, the council's
percentages kept) and print each line with its rule and legal basis. Correct lines with PATCH
/api/v1/admin/parameter-drafts/{id}/lines/{key}, then adopt.`
		if err := parse(fs, args[1:], stdout, help); err != nil {
			return err
		}
		dd, err := civil.Parse(*date)
		if err != nil {
			return fmt.Errorf("--decision-date: must be a date YYYY-MM-DD")
		}
		db, _, ctx, err := openJob(ctx, cfg, *muni, "fiscald params draft", io.Discard)
		if err != nil {
			return err
		}
		defer db.Close()
		if d, err = db.CreateParameterDraft(ctx, &fiscal.ParameterDraftInput{FromYear: *from, ToYear: *to, InflationPct: *infl, EurRon: *eur,
			Decision: fiscal.CouncilDecision{Number: *num, Date: dd}}); err != nil {
			return cliError(err)
		}
	case "show", "adopt":
		id := fs.Int64("id", 0, "the draft's id (required)")
		help = "fiscald params show --id N: print a draft with its lines."
		if args[0] == "adopt" {
			help = `fiscald params adopt --id N: adopt a draft under its council decision: every line becomes the
municipality's value from 1 January of the drafted year, in one transaction (all or none).`
		}
		if err := parse(fs, args[1:], stdout, help); err != nil {
			return err
		}
		if *id <= 0 {
			return fmt.Errorf("--id N is required")
		}
		db, _, ctx, err := openJob(ctx, cfg, *muni, "fiscald params "+args[0], io.Discard)
		if err != nil {
			return err
		}
		defer db.Close()
		if args[0] == "show" {
			d, err = db.ParameterDraft(ctx, *id)
		} else {
			d, err = db.AdoptParameterDraft(ctx, *id)
		}
		if err != nil {
			return cliError(err)
		}
	default:
		fmt.Fprintln(stdout, usage)
		return fmt.Errorf("unknown subcommand %q: draft, show or adopt", args[0])
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	fmt.Fprintf(stdout, "draft %d: %d from %d, inflation %s%%, euro rate %s, HCL %s of %s: %s, %d lines\n",
		d.ID, d.ToYear, d.FromYear, d.InflationPct, orDash(d.EurRon), d.Decision.Number, d.Decision.Date, d.Status, len(d.Lines))
	w := tabwriter.NewWriter(stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(w, "KEY\tFROM\tTO\tRULE\tLEGAL BASIS")
	for _, l := range d.Lines {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", l.Key, orDash(l.FromValue), l.ToValue, l.Rule, l.LegalBasis)
	}
	return w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cliError spells out a domain error with its fields for the command line.
func cliError(err error) error {
	fe, ok := err.(*fiscal.Error)
	if !ok || len(fe.Fields) == 0 {
		return err
	}
	msg := fe.Message
	for _, f := range fe.Fields {
		if f.Field+": "+f.Message != msg {
			msg += "; " + f.Field + ": " + f.Message
		}
	}
	return fmt.Errorf("%s", msg)
}
