// Package importer takes over a municipality's existing data: it reads a
// CSV or XLSX export of the old system (kind by kind: taxpayers, vehicles,
// buildings, lands, balances), checks every row as the API would, and hands batches of
// checked rows to the store (fiscal.ImportStore), which upserts them by
// external id with the checkpoint in the same transaction. It does no SQL.
package importer

import (
	"context"
	"encoding/csv"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"fiscald/fiscal"
)

// DefaultMaxBytes is the default largest file (FISCAL_IMPORT_MAX_BYTES).
const DefaultMaxBytes = 1 << 30

// DefaultBatchRows is how many lines one transaction commits.
const DefaultBatchRows = 5000

// Options tune a run.
type Options struct {
	MunicipalityID int64
	// BatchRows is the lines per transaction (default DefaultBatchRows).
	BatchRows int
	// MaxBytes is the largest file accepted (default DefaultMaxBytes).
	MaxBytes int64
	// Progress, when set, is called after each batch.
	Progress func(Progress)
	// Pending holds, per kind, the external ids of good rows of earlier
	// files of the same dry run: owners a dry run of the vehicles may name
	// although the dry run of the taxpayers wrote nothing. A dry run adds
	// its good rows' ids to it (with the taxpayer's kind for taxpayers, the
	// owner's id for vehicles, buildings and lands).
	Pending map[string]map[string]string
}

// Progress is a run's progress after a batch.
type Progress struct {
	Kind      string
	Lines     int64 // data lines read
	Total     int64 // data lines in the file (CSV: counted first; XLSX: 0)
	Imported  int64
	Updated   int64
	Unchanged int64
	Rejected  int64
	StartedAt time.Time
	Resumed   bool
}

// Run imports one file of a kind for opts.MunicipalityID.
func Run(ctx context.Context, st fiscal.ImportStore, kindName string, f fiscal.ImportFile, dryRun bool, opts Options) (res *fiscal.ImportResult, err error) {
	k, ok := kinds[kindName]
	if !ok {
		return nil, fiscal.InvalidField("kind", "must be one of "+strings.Join(Kinds(), ", "))
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = DefaultBatchRows
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	started := time.Now()
	sha, xlsx, total, err := inspect(f, opts.MaxBytes)
	if err != nil {
		return nil, err
	}
	recs, err := openRecords(f.Data, f.Size, xlsx)
	if err != nil {
		return nil, err
	}
	defer recs.Close()
	cols, err := readHeader(recs, k)
	if err != nil {
		return nil, err
	}
	run, err := st.StartImport(ctx, opts.MunicipalityID, k.name, fiscal.CleanFilename(f.Name), sha, dryRun, total)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && run.ID != 0 {
			failRun(ctx, st, run, err)
		}
	}()
	var pending func(kind, ext string) (string, bool)
	if dryRun {
		if opts.Pending == nil {
			opts.Pending = map[string]map[string]string{}
		}
		pending = func(kind, ext string) (string, bool) {
			o, ok := opts.Pending[kind][ext]
			return o, ok
		}
	}
	seen := newDedupe()
	good := map[string]string{} // a dry run's good external ids (→ owner), for Pending
	b := &fiscal.ImportBatch{}
	var dry *fiscal.DryHoldings // the holdings a dry run's batches accepted
	if dryRun {
		dry = &fiscal.DryHoldings{}
	}
	var lines int64
	prog := Progress{Kind: k.name, Total: total, StartedAt: started, Resumed: run.CheckpointLine > 1,
		Imported: run.Imported, Updated: run.Updated, Unchanged: run.Unchanged, Rejected: run.Rejected}
	flush := func(to int64) error {
		if len(b.Rows) == 0 && len(b.Errors) == 0 {
			return nil
		}
		b.ToLine = to
		b.Dry = dry
		res, err := st.WriteImportBatch(ctx, run, b, pending)
		if err != nil {
			return err
		}
		if dryRun {
			bad := map[int]bool{}
			for _, e := range res.Errors {
				bad[e.Line] = true
			}
			for _, r := range b.Rows {
				if !bad[r.Line] {
					good[r.ExternalID] = ""
					if r.Taxpayer != nil {
						good[r.ExternalID] = string(r.Taxpayer.Input.Kind)
					}
					if r.Vehicle != nil {
						good[r.ExternalID] = r.Vehicle.OwnerExternalID
					}
					if r.Holding != nil {
						good[r.ExternalID] = r.Holding.OwnerExternalID
					}
				}
			}
		}
		prog.Imported, prog.Updated, prog.Unchanged, prog.Rejected = run.Imported, run.Updated, run.Unchanged, run.Rejected
		b.Rows, b.Errors = b.Rows[:0], b.Errors[:0]
		return nil
	}
	last := int64(1)
	inBatch := 0
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		line, rec, err := recs.Next()
		if err == io.EOF {
			break
		}
		skip := int64(line) <= run.CheckpointLine // committed by the run this one resumes
		lines++
		if err != nil {
			if fe, ok := err.(*fiscal.Error); ok && fe.Code == fiscal.EINVALID && line > 0 {
				// A malformed record (a stray quote): reject its line.
				if !skip {
					b.Errors = append(b.Errors, fiscal.ImportError{Line: line, Field: "", Message: strings.TrimPrefix(fe.Fields[0].Message, "line "+strconv.Itoa(line)+": ")})
					inBatch++
				}
				last = int64(line)
				continue
			}
			return nil, err
		}
		last = int64(line)
		ir, errs := checkRecord(k, cols, line, rec, xlsx)
		if ir != nil {
			if e := seen.claim(k, ir); e != nil {
				ir, errs = nil, []fiscal.ImportError{*e}
			}
		}
		if skip {
			continue
		}
		if ir != nil {
			b.Rows = append(b.Rows, *ir)
		}
		b.Errors = append(b.Errors, errs...)
		inBatch++
		if inBatch >= opts.BatchRows {
			if err := flush(last); err != nil {
				return nil, err
			}
			inBatch = 0
			prog.Lines = lines
			if opts.Progress != nil {
				opts.Progress(prog)
			}
		}
	}
	if err := flush(last); err != nil {
		return nil, err
	}
	prog.Lines = lines
	if opts.Progress != nil {
		opts.Progress(prog)
	}
	if _, err := st.FinishImport(ctx, run); err != nil {
		return nil, err
	}
	if dryRun {
		if opts.Pending[k.name] == nil {
			opts.Pending[k.name] = map[string]string{}
		}
		for g, o := range good {
			opts.Pending[k.name][g] = o
		}
	}
	return st.ImportReport(ctx, run.ID, fiscal.MaxReportedErrors)
}

// failRun records that the run stopped on err, for /metrics (failed until
// the same file runs again and resumes it), unless another run of the same
// file is writing (ECONFLICT: that one is not failed). It runs even when
// ctx was cancelled (SIGTERM, a client gone), within a few seconds; a
// failure to record it is left out (the run's own error is what counts).
func failRun(ctx context.Context, st fiscal.ImportStore, run *fiscal.ImportRun, err error) {
	if fiscal.ErrorCode(err) == fiscal.ECONFLICT {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = st.FailImport(ctx, run, err.Error())
}

// inspect is Inspect with, for CSV, the number of data lines (for the
// progress's total; a quoted line break counts twice).
func inspect(f fiscal.ImportFile, maxBytes int64) (string, bool, int64, error) {
	sha, xlsx, err := Inspect(f.Data, f.Size, maxBytes)
	if err != nil || xlsx {
		return sha, xlsx, 0, err
	}
	var n int64
	buf := make([]byte, 1<<16)
	sr := io.NewSectionReader(f.Data, 0, f.Size)
	for {
		k, err := sr.Read(buf)
		for _, c := range buf[:k] {
			if c == '\n' {
				n++
			}
		}
		if err != nil {
			break
		}
	}
	return sha, false, max(n-1, 0), nil
}

// readHeader checks the header row: exactly the contract's columns (in any
// order, case and surrounding spaces ignored), and returns each column's
// position.
func readHeader(recs records, k *kind) (map[string]int, error) {
	_, rec, err := recs.Next()
	if err == io.EOF {
		return nil, fileError("the file is empty: a header row is required (%s)", strings.Join(k.columns, ","))
	}
	if err != nil {
		return nil, err
	}
	cols := map[string]int{}
	var unknown, dup []string
	for i, h := range rec {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
		if h == "" && i == len(rec)-1 {
			continue // a trailing separator
		}
		if !slices.Contains(k.columns, h) {
			unknown = append(unknown, strconv.Quote(h))
			continue
		}
		if _, ok := cols[h]; ok {
			dup = append(dup, h)
		}
		cols[h] = i
	}
	var missing []string
	for _, c := range k.columns {
		if _, ok := cols[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(unknown)+len(dup)+len(missing) > 0 {
		var why []string
		if len(missing) > 0 {
			why = append(why, "missing "+strings.Join(missing, ", "))
		}
		if len(unknown) > 0 {
			why = append(why, "unknown "+strings.Join(unknown, ", "))
		}
		if len(dup) > 0 {
			why = append(why, "repeated "+strings.Join(dup, ", "))
		}
		return nil, fileError("wrong header for %s (%s): the columns are %s", k.name, strings.Join(why, "; "), strings.Join(k.columns, ","))
	}
	return cols, nil
}

// checkRecord checks one data record.
func checkRecord(k *kind, cols map[string]int, line int, rec []string, xlsx bool) (*fiscal.ImportRow, []fiscal.ImportError) {
	n := len(rec)
	for n > len(k.columns) && strings.TrimSpace(rec[n-1]) == "" && xlsx {
		n-- // empty cells past the last column
	}
	if xlsx && n < len(k.columns) {
		rec = append(rec[:n:n], make([]string, len(k.columns)-n)...) // a workbook omits trailing empty cells
		n = len(k.columns)
	}
	if n != len(k.columns) {
		return nil, []fiscal.ImportError{{Line: line, Field: "", Message: fmt.Sprintf("has %d columns, the header has %d", n, len(k.columns))}}
	}
	r := &row{line: line, cols: cols, rec: rec, xlsx: xlsx}
	ir := k.parse(r)
	if len(r.errors) > 0 {
		return nil, r.errors
	}
	return ir, nil
}

// dedupe remembers the unique values of a file's good rows (64-bit hashes:
// a million VINs in a few tens of MB).
type dedupe struct {
	seed maphash.Seed
	seen map[uint64]int32
}

func newDedupe() *dedupe { return &dedupe{seed: maphash.MakeSeed(), seen: map[uint64]int32{}} }

// claim records the row's unique values, or names the first one an earlier
// row of the file holds.
func (d *dedupe) claim(k *kind, ir *fiscal.ImportRow) *fiscal.ImportError {
	keys := k.unique(ir)
	hs := make([]uint64, len(keys))
	for i, kv := range keys {
		hs[i] = maphash.String(d.seed, kv[0]+"\x00"+kv[1])
		if first, ok := d.seen[hs[i]]; ok {
			return &fiscal.ImportError{Line: ir.Line, Field: kv[0], Message: "the same " + kv[0] + " as line " + strconv.Itoa(int(first))}
		}
	}
	for _, h := range hs {
		d.seen[h] = int32(ir.Line)
	}
	return nil
}

// Service implements fiscal.ImportService for the admin API.
type Service struct {
	Store    fiscal.ImportStore
	MaxBytes int64
}

// Import is Run for the administrator's municipality.
func (s *Service) Import(ctx context.Context, kind string, f fiscal.ImportFile, dryRun bool) (*fiscal.ImportResult, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	return Run(ctx, s.Store, kind, f, dryRun, Options{MunicipalityID: a.MunicipalityID, MaxBytes: s.MaxBytes})
}

// ImportReport returns an import's report.
func (s *Service) ImportReport(ctx context.Context, id int64) (*fiscal.ImportResult, error) {
	if _, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin); err != nil {
		return nil, err
	}
	return s.Store.ImportReport(ctx, id, fiscal.MaxReportedErrors)
}

// ImportErrors writes an import's rejected rows as CSV.
func (s *Service) ImportErrors(ctx context.Context, id int64, w io.Writer) error {
	if _, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin); err != nil {
		return err
	}
	if _, err := s.Store.ImportReport(ctx, id, 0); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"line", "field", "message"}); err != nil {
		return err
	}
	err := s.Store.EachImportError(ctx, id, func(e fiscal.ImportError) error {
		return cw.Write([]string{strconv.Itoa(e.Line), e.Field, csvSafe(e.Message)})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// Imports lists the municipality's imports, the most recent first.
func (s *Service) Imports(ctx context.Context, limit int) ([]fiscal.ImportSummary, error) {
	if _, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin); err != nil {
		return nil, err
	}
	return s.Store.ImportSummaries(ctx, 0, limit)
}

// ImportSummary returns one import of the municipality.
func (s *Service) ImportSummary(ctx context.Context, id int64) (*fiscal.ImportSummary, error) {
	if _, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin); err != nil {
		return nil, err
	}
	out, err := s.Store.ImportSummaries(ctx, id, 1)
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}
