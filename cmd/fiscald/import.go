package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/importer"
	"fiscald/internal/store"
	"fiscald/internal/synth"
)

// importMaxBytes parses FISCAL_IMPORT_MAX_BYTES (0: the default).
func importMaxBytes(cfg config) (int64, error) {
	if cfg.ImportMaxBytes == "" {
		return importer.DefaultMaxBytes, nil
	}
	n, err := strconv.ParseInt(cfg.ImportMaxBytes, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("FISCAL_IMPORT_MAX_BYTES: %q is not a positive number of bytes", cfg.ImportMaxBytes)
	}
	return n, nil
}

// cmdImport takes over existing data: `fiscald import KIND --file F
// [--dry-run]`, or `fiscald import city --dir D` for every kind in order.
func cmdImport(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	help := `fiscald import KIND --file F [--dry-run]: import a CSV (UTF-8, comma or semicolon, header row) or XLSX
export of the old system, KIND one of ` + strings.Join(importer.Kinds(), ", ") + ` (columns: docs/import.md).
Every row is checked as the API would; a bad row is reported (line, column, reason) and skipped.
Rows are keyed by external_id: importing the same file again changes nothing, a changed row is updated
with an audit entry. Rows commit in batches with a checkpoint: a run killed halfway, run again with the
same file, resumes where it stopped.
fiscald import city --dir D [--dry-run]: ` + strings.Join(importer.Kinds(), ", ") + ` from D/KIND.csv (or .xlsx),
in that order (the files present), with a summary by kind.`
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stdout, help)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return errHelp
		}
		return fmt.Errorf("usage: fiscald import KIND --file F [--dry-run]")
	}
	kind := args[0]
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	file := fs.String("file", "", "the CSV or XLSX file (KIND)")
	dir := fs.String("dir", "", "the folder of taxpayers.csv, vehicles.csv, buildings.csv, lands.csv, balances.csv (city)")
	dry := fs.Bool("dry-run", false, "check and report without writing")
	batch := fs.Int("batch", importer.DefaultBatchRows, "lines per transaction")
	errOut := fs.String("errors", "", "write the rejected rows as CSV to this file (KIND; city: FILE.KIND.csv)")
	muni := fs.String("municipality", cfg.Municipality, "the municipality's slug")
	progress := fs.String("progress", "auto", "auto (a bar on a terminal, log lines otherwise), bar, log or none")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := parse(fs, args[1:], stdout, help); err != nil {
		return err
	}
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	max, err := importMaxBytes(cfg)
	if err != nil {
		return err
	}
	type job struct{ kind, path string }
	var jobs []job
	switch {
	case kind == "city":
		if *dir == "" {
			return fmt.Errorf("fiscald import city needs --dir D")
		}
		for _, k := range importer.Kinds() {
			p := filepath.Join(*dir, k+".csv")
			if _, err := os.Stat(p); err != nil {
				p = filepath.Join(*dir, k+".xlsx")
				if _, err := os.Stat(p); err != nil {
					continue
				}
			}
			jobs = append(jobs, job{k, p})
		}
		if len(jobs) == 0 {
			return fmt.Errorf("%s holds none of %s (.csv or .xlsx)", *dir, strings.Join(importer.Kinds(), ", "))
		}
	case importer.Columns(kind) != nil:
		if *file == "" {
			return fmt.Errorf("--file F is required")
		}
		jobs = []job{{kind, *file}}
	default:
		return fmt.Errorf("unknown kind %q: one of %s, or city", kind, strings.Join(importer.Kinds(), ", "))
	}
	// A SQLite import reads a few index pages a row: mapping the file
	// would only add the pages it touched to the process's resident memory
	// (up to 256 MiB for a city); 16 MiB keeps the hot index pages mapped.
	db, m, ctx, err := openJob(ctx, cfg, *muni, "fiscald import", stdout, store.WithMappedReads(16<<20))
	if err != nil {
		return err
	}
	defer db.Close()
	mode := progressMode(*progress)
	log := newLogger(cfg.LogFormat)
	pending := map[string]map[string]string{}
	var results []*fiscal.ImportResult
	for _, j := range jobs {
		f, err := os.Open(j.path)
		if err != nil {
			return err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		var lastLog time.Time
		opts := importer.Options{MunicipalityID: m.ID, BatchRows: *batch, MaxBytes: max, Pending: pending}
		opts.Progress = func(p importer.Progress) {
			switch mode {
			case "bar":
				fmt.Fprintf(stderr, "\r%s", importBar(p))
			case "log":
				if time.Since(lastLog) >= 2*time.Second {
					lastLog = time.Now()
					rate, eta := importRate(p)
					log.Info("import progress", slog.String("kind", p.Kind), slog.Int64("lines", p.Lines), slog.Int64("total", p.Total),
						slog.Int64("imported", p.Imported), slog.Int64("updated", p.Updated), slog.Int64("unchanged", p.Unchanged),
						slog.Int64("rejected", p.Rejected), slog.Float64("rows_per_s", rate), slog.String("eta", eta.Round(time.Second).String()))
				}
			}
		}
		start := time.Now()
		res, err := importer.Run(ctx, db, j.kind, fiscal.ImportFile{Name: filepath.Base(j.path), Data: f, Size: st.Size()}, *dry, opts)
		f.Close()
		if mode == "bar" {
			fmt.Fprintln(stderr)
		}
		if err != nil {
			var fe *fiscal.Error
			if errors.As(err, &fe) && (fe.Code == fiscal.EINVALID || fe.Code == fiscal.ETOOLARGE) {
				return fmt.Errorf("%s (%s): %w; nothing was imported from it", j.path, j.kind, describe(err))
			}
			return fmt.Errorf("import of %s stopped (run it again to resume): %w", j.path, describe(err))
		}
		fmt.Fprintf(stdout, "%s %s: %d rows in %.1f s (%.0f rows/s)\n", j.kind, j.path, res.Rows, time.Since(start).Seconds(), float64(res.Rows)/time.Since(start).Seconds())
		for i, e := range res.Errors {
			if i == 20 {
				fmt.Fprintf(stdout, "  ... %d rejected rows in all (--errors FILE writes them all)\n", res.Rejected)
				break
			}
			fmt.Fprintf(stdout, "  line %d, %s: %s\n", e.Line, orRow(e.Field), e.Message)
		}
		if *errOut != "" && res.Rejected > 0 {
			p := *errOut
			if kind == "city" {
				p = strings.TrimSuffix(p, ".csv") + "." + j.kind + ".csv"
			}
			w, err := os.Create(p)
			if err != nil {
				return err
			}
			svc := &importer.Service{Store: db}
			err = svc.ImportErrors(ctx, res.ID, w)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "  rejected rows written to %s\n", p)
		}
		results = append(results, res)
	}
	what := "import"
	if *dry {
		what = "dry run (nothing written)"
	}
	fmt.Fprintf(stdout, "\n%s of %s:\n%-10s %8s %10s %10s %10s %10s %8s\n", what, m.Slug, "kind", "import", "rows", "imported", "updated", "unchanged", "rejected")
	for _, r := range results {
		fmt.Fprintf(stdout, "%-10s %8d %10d %10d %10d %10d %8d\n", r.Kind, r.ID, r.Rows, r.Imported, r.Updated, r.Unchanged, r.Rejected)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(stdout, "Go memory: %d MB obtained from the OS (heap %d MB in use at the end)\n", ms.Sys>>20, ms.HeapInuse>>20)
	return nil
}

func orRow(field string) string {
	if field == "" {
		return "the row"
	}
	return field
}

// importRate is the run's rows per second and the time left.
func importRate(p importer.Progress) (float64, time.Duration) {
	el := time.Since(p.StartedAt).Seconds()
	if el <= 0 || p.Lines == 0 {
		return 0, 0
	}
	rate := float64(p.Lines) / el
	if p.Total <= p.Lines {
		return rate, 0
	}
	return rate, time.Duration(float64(p.Total-p.Lines) / rate * float64(time.Second))
}

func importBar(p importer.Progress) string {
	const width = 30
	frac := 0.0
	if p.Total > 0 {
		frac = min(float64(p.Lines)/float64(p.Total), 1)
	}
	fill := int(frac * width)
	rate, eta := importRate(p)
	return fmt.Sprintf("%-9s [%s%s] %5.1f%% %d/%d rows, %.0f rows/s, ETA %s, %d rejected   ", p.Kind,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), frac*100, p.Lines, p.Total, rate, eta.Round(time.Second), p.Rejected)
}

// cmdImportFiles writes a synthetic city's import files:
// `fiscald bench import-files --dir D --owners N --vehicles M`.
func cmdImportFiles(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench import-files", flag.ContinueOnError)
	dir := fs.String("dir", "", "the folder to write taxpayers.csv and vehicles.csv into (required)")
	owners := fs.Int("owners", 400000, "taxpayers")
	vehicles := fs.Int("vehicles", 1000000, "vehicles, spread over the taxpayers")
	seed := fs.Uint64("seed", 1, "the generator's seed")
	if err := parse(fs, args, stdout, "fiscald bench import-files --dir D: a synthetic city as import files (make bench-import)"); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("--dir D is required")
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	tf, err := os.Create(filepath.Join(*dir, "taxpayers.csv"))
	if err != nil {
		return err
	}
	defer tf.Close()
	vf, err := os.Create(filepath.Join(*dir, "vehicles.csv"))
	if err != nil {
		return err
	}
	defer vf.Close()
	if err := synth.ImportFiles(synth.ImportOptions{Seed: *seed, Owners: *owners, Vehicles: *vehicles}, tf, vf); err != nil {
		return err
	}
	if err := tf.Close(); err != nil {
		return err
	}
	if err := vf.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d taxpayers and %d vehicles to %s\n", *owners, *vehicles, *dir)
	return nil
}
