package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"fiscald/assess"
	"fiscald/fiscal"
	"fiscald/internal/money"
	"fiscald/internal/store"
	"fiscald/internal/synth"
)

// syntheticPrefix starts the usernames of the synthetic city's accounts.
const syntheticPrefix = "synth"

// cmdSeed generates the synthetic city: `fiscald seed --synthetic N`.
func cmdSeed(ctx context.Context, cfg config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	n := fs.Int("synthetic", 0, "number of vehicle register entries to generate, with their owners (required)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed and size give the same city")
	year := fs.Int("year", 2026, "the tax year the city is built for (acquisitions up to it)")
	buildings := fs.Bool("buildings", true, "also generate buildings (homes of individuals, premises of companies; every construction type and use)")
	lands := fs.Bool("lands", false, "also generate land of every location and use category (written beside the buildings, which the annual run's building phase reads)")
	migrate := fs.Bool("migrate", false, "apply pending migrations first")
	muni := fs.String("municipality", cfg.Municipality, "the municipality's slug")
	accounts := fs.Int("accounts", 0, "also give the first N vehicle owners a taxpayer account synth000001.. (for load tests; needs --password-stdin)")
	fromStdin := fs.Bool("password-stdin", false, "read the synthetic accounts' shared password from standard input")
	if err := parse(fs, args, stdout, "fiscald seed --synthetic N: generate a synthetic city (taxpayers with valid CNPs/CUIs, vehicles, buildings) for benchmarks and demos, deterministic for a seed, in one transaction"); err != nil {
		return err
	}
	if *n <= 0 {
		return fmt.Errorf("--synthetic N is required (N > 0)")
	}
	var password string
	if *accounts > 0 {
		if !*fromStdin {
			return fmt.Errorf("--accounts needs --password-stdin (passwords never go on the command line)")
		}
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return err
		}
		if password = strings.TrimRight(line, "\r\n"); password == "" {
			return fmt.Errorf("--password-stdin: empty password")
		}
	}
	db, err := openDB(ctx, cfg, *migrate, stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := ensureMunicipality(ctx, db, *muni); err != nil {
		return err
	}
	m, err := db.MunicipalityBySlug(ctx, *muni)
	if err != nil {
		return err
	}
	ctx = fiscal.WithActor(ctx, &fiscal.Actor{System: true, Username: "fiscald seed", MunicipalityID: m.ID})
	start := time.Now()
	// Generation runs beside the writes.
	ch := make(chan *synth.Taxpayer, 4096)
	genErr := make(chan error, 1)
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(ch)
		genErr <- synth.Generate(synth.Options{Seed: *seed, Vehicles: *n, Year: *year, Buildings: *buildings, Lands: *lands}, func(t *synth.Taxpayer) error {
			select {
			case ch <- t:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	}()
	c, err := db.BulkLoad(ctx, m.ID, "seed.synthetic", func() (*store.SeedTaxpayer, error) {
		t, ok := <-ch
		if !ok {
			return nil, <-genErr
		}
		s := &store.SeedTaxpayer{Taxpayer: fiscal.Taxpayer{Kind: t.Kind, Name: t.Name, Address: t.Address, Email: t.Email}, Vehicles: t.Vehicles}
		if t.CNP != "" {
			s.Taxpayer.CNP = &t.CNP
		} else {
			s.Taxpayer.CUI = &t.CUI
		}
		for _, b := range t.Buildings {
			s.Buildings = append(s.Buildings, store.SeedBuilding{Address: b.Address, Object: b.Object, AcquiredOn: b.AcquiredOn, DisposedOn: b.DisposedOn})
		}
		for _, l := range t.Lands {
			s.Lands = append(s.Lands, store.SeedBuilding{Address: l.Address, Object: l.Object, AcquiredOn: l.AcquiredOn, DisposedOn: l.DisposedOn})
		}
		return s, nil
	})
	if err != nil {
		return describe(err)
	}
	if err := db.Analyze(ctx); err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(stdout, "seeded %s: %d taxpayers, %d vehicles, %d buildings, %d plots of land in %.1f s (%.0f vehicles/s; seed %d)\n",
		m.Slug, c.Taxpayers, c.Vehicles, c.Buildings, c.Lands, el.Seconds(), float64(c.Vehicles)/el.Seconds(), *seed)
	if *accounts > 0 {
		k, err := db.SyntheticAccounts(ctx, m.ID, *accounts, syntheticPrefix, password)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "created %d taxpayer account(s) %s%06d..%s%06d with the password read from stdin\n", k, syntheticPrefix, 1, syntheticPrefix, k)
	}
	return nil
}

// cmdAssess runs the annual assessment: `fiscald assess --year Y`.
func cmdAssess(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("assess", flag.ContinueOnError)
	year := fs.Int("year", 0, "the tax year to assess (required)")
	batch := fs.Int("batch", 4000, "objects per transaction (a batch ends at a taxpayer boundary)")
	workers := fs.Int("workers", 0, "compute workers (default: the number of CPUs)")
	pause := fs.Duration("pause", 0, "wait this long after each committed batch, so a running server's SQLite writers get the write lock between batches (e.g. 20ms)")
	share := fs.Float64("share", 1, "the largest share of the time the run may spend writing, 0-1: beside a busy server on SQLite, e.g. 0.25 leaves the single write lock to the server 3/4 of the time")
	phases := fs.String("phases", "vehicle,building,land", "object kinds to assess, in order")
	muni := fs.String("municipality", cfg.Municipality, "the municipality's slug")
	progress := fs.String("progress", "auto", "auto (a bar on a terminal, log lines otherwise), bar, log or none")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := parse(fs, args, stdout, `fiscald assess --year Y: assess every taxed object of the year (owner on 31 December of Y-1,
vehicles bought and sold within Y) with that year's parameters, creating assessments and instalment
debts in short batches. Idempotent (a second run adds nothing) and resumable (killed, rerun it: it
continues after the last committed batch). The server may keep running meanwhile.`); err != nil {
		return err
	}
	if *year < 2000 || *year > 2100 {
		return fmt.Errorf("--year Y is required (2000-2100)")
	}
	if *share <= 0 || *share > 1 {
		return fmt.Errorf("--share must be more than 0 and at most 1")
	}
	db, m, ctx, err := openJob(ctx, cfg, *muni, "fiscald assess", stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	mode := progressMode(*progress)
	log := newLogger(cfg.LogFormat)
	var lastLog time.Time
	opts := assess.Options{MunicipalityID: m.ID, Municipality: m.Slug, Year: *year, BatchObjects: *batch, Workers: *workers, Pause: *pause, Share: *share,
		Phases: strings.Split(*phases, ",")}
	opts.Progress = func(p assess.Progress) {
		switch mode {
		case "bar":
			fmt.Fprintf(stderr, "\r%s", bar(p))
		case "log":
			if time.Since(lastLog) >= 2*time.Second {
				lastLog = time.Now()
				eta := etaOf(p)
				log.Info("assess progress", slog.String("phase", p.Phase), slog.Int64("objects", p.Objects), slog.Int64("total", p.Total),
					slog.Int64("assessments", p.Written), slog.Int64("debts", p.Debts), slog.String("eta", eta.Round(time.Second).String()))
			}
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := assess.Run(ctx, db, opts)
	if mode == "bar" {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return fmt.Errorf("assessment stopped (run it again to resume): %w", err)
	}
	printReport(stdout, m.Slug, rep)
	return nil
}

func printReport(w io.Writer, slug string, r *assess.Report) {
	fmt.Fprintf(w, "assessment of %s for %d: %d assessments and %d debts written in %.2f s; %d already assessed; %d objects not taxed this year\n",
		slug, r.Year, r.Assessments, r.Debts, r.Elapsed.Seconds(), r.Skipped, r.NotTaxed)
	fmt.Fprintf(w, "\n%-10s %-12s %12s %18s %10s %18s\n", "tax", "budget code", "assessments", "annual (lei)", "debts", "principal (lei)")
	var n, d int64
	var a, p money.Bani
	for _, s := range r.Summary {
		fmt.Fprintf(w, "%-10s %-12s %12d %18s %10d %18s\n", s.TaxType, s.BudgetCode, s.Assessments, s.Annual, s.Debts, s.DebtTotal)
		n, d, a, p = n+s.Assessments, d+s.Debts, a+s.Annual, p+s.DebtTotal
	}
	fmt.Fprintf(w, "%-10s %-12s %12d %18s %10d %18s\n", "total", "", n, a, d, p)
	if len(r.Unassessed) > 0 {
		var k int64
		for _, u := range r.Unassessed {
			k += u.Objects
		}
		fmt.Fprintf(w, "\nWARNING: %d objects were NOT assessed (the engine refuses to guess; enter the parameter and run again):\n", k)
		for _, u := range r.Unassessed {
			fmt.Fprintf(w, "  %7d  %s (e.g. object %d)\n", u.Objects, u.Reason, u.Example)
		}
	}
}

func etaOf(p assess.Progress) time.Duration {
	el := time.Since(p.StartedAt)
	if p.Written == 0 && p.Objects == 0 {
		return 0
	}
	doneThis := float64(p.Objects)
	rate := doneThis / el.Seconds()
	if rate <= 0 || p.Total <= p.Objects {
		return 0
	}
	return time.Duration(float64(p.Total-p.Objects) / rate * float64(time.Second))
}

func bar(p assess.Progress) string {
	const width = 30
	frac := 0.0
	if p.Total > 0 {
		frac = float64(p.Objects) / float64(p.Total)
	}
	if frac > 1 {
		frac = 1
	}
	fill := int(frac * width)
	return fmt.Sprintf("%-9s [%s%s] %5.1f%% %d/%d objects, %d assessments, ETA %s   ", p.Phase,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), frac*100, p.Objects, p.Total, p.Written, etaOf(p).Round(time.Second))
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// cmdBench runs measurements that are not Go benchmarks:
// `fiscald bench raw-writes --year Y` (the raw write ceiling of assess).
func cmdBench(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "import-files" {
		return cmdImportFiles(args[1:], stdout)
	}
	if len(args) == 0 || args[0] != "raw-writes" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stdout, "fiscald bench raw-writes --year Y: after `fiscald assess --year Y`, write the same assessment and debt rows again\ninto empty copies of the tables by the fastest path (one transaction; multi-row INSERT on SQLite, COPY on PostgreSQL)\nand print the rows per second: the ceiling the annual run is measured against.")
			return errHelp
		}
		return fmt.Errorf("usage: fiscald bench raw-writes --year Y")
	}
	fs := flag.NewFlagSet("bench raw-writes", flag.ContinueOnError)
	year := fs.Int("year", 0, "the tax year assessed (required)")
	muni := fs.String("municipality", cfg.Municipality, "the municipality's slug")
	if err := parse(fs, args[1:], stdout, "fiscald bench raw-writes --year Y: the raw write ceiling of the annual run"); err != nil {
		return err
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
	r, err := db.MeasureRawLimit(ctx, m.ID, *year)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "raw write limit (%s): %d assessments + %d debts in %.2f s = %.0f rows/s\n",
		db.Dialect(), r.Assessments, r.Debts, r.Write.Seconds(), r.RowsPerSecond())
	return nil
}
