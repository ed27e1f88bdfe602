package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"fiscald/assess"
	"fiscald/fiscal"
)

// cmdRecompute recomputes a year after a retroactive change of parameters:
// `fiscald recompute --year Y`.
func cmdRecompute(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("recompute", flag.ContinueOnError)
	year := fs.Int("year", 0, "the tax year to recompute (required)")
	batch := fs.Int("batch", 500, "assessments per transaction (a batch ends at a taxpayer boundary)")
	muni := fs.String("municipality", cfg.Municipality, "the municipality's slug")
	progress := fs.String("progress", "auto", "auto (a line on a terminal, log lines otherwise), bar, log or none")
	if err := parse(fs, args, stdout, `fiscald recompute --year Y: recompute every current assessment of the year with the parameters in
force now (after an administrator entered a retroactive change). Where the annual tax differs, a new
assessment revision is recorded (the old one stays) and the difference becomes an adjustment debt
(due on the 5th or 20th of the next month, CPF art. 156) or, when lower, reduces the unpaid instalments
and then turns paid excess into the taxpayer's credit. Short batches (the server keeps serving),
idempotent (a second run changes nothing) and resumable (killed, run it again). Prints the summary:
objects up/down/unchanged, extra debt, debt reduced and credit by budget code.`); err != nil {
		return err
	}
	if *year < 2000 || *year > 2100 {
		return fmt.Errorf("--year Y is required (2000-2100)")
	}
	db, m, ctx, err := openJob(ctx, cfg, *muni, "fiscald recompute", stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	mode := progressMode(*progress)
	log := newLogger(cfg.LogFormat)
	var lastLog time.Time
	opts := assess.RecomputeOptions{MunicipalityID: m.ID, Year: *year, BatchObjects: *batch}
	opts.Progress = func(r *fiscal.RecomputeRun) {
		var done, total int64
		if r.Progress != nil {
			done, total = r.Progress.Done, r.Progress.Total
		}
		switch mode {
		case "bar":
			fmt.Fprintf(stderr, "\rrecompute %d: %d/%d assessments, %d up, %d down, %d unchanged", r.Year, done, total, r.Up, r.Down, r.Unchanged)
		case "log":
			if time.Since(lastLog) >= 2*time.Second {
				lastLog = time.Now()
				log.Info("recompute progress", slog.Int64("run", r.ID), slog.Int64("done", done), slog.Int64("total", total),
					slog.Int64("up", r.Up), slog.Int64("down", r.Down), slog.Int64("unchanged", r.Unchanged))
			}
		}
	}
	r, err := assess.Recompute(ctx, db, opts)
	if mode == "bar" {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return fmt.Errorf("recomputation stopped (run it again to resume): %w", err)
	}
	for _, l := range assess.SummaryLines(r) {
		fmt.Fprintln(stdout, l)
	}
	if r.Error != "" {
		return fmt.Errorf("recomputation stopped (run it again to resume): %s", r.Error)
	}
	return nil
}
