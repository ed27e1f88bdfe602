package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"fiscald/fiscal"
)

// An import run and its batches (fiscal.ImportStore): StartImport opens or
// resumes a run, WriteImportBatch writes one batch, FinishImport and
// FailImport end the run, ImportReport, EachImportError and ImportSummaries
// read it back; ImportDone and ImportedID answer the demo's seed (a file
// imported already, the id behind an external id). This file holds the batch's shared steps (the keys read,
// classify, keep, rekey, the owners resolved); each kind's rows are written
// by importtaxpayers.go, importvehicles.go, importholdings.go and
// importbalances.go.
//
// Imports (issue 20): the store side of fiscal.ImportStore. A run is a row
// of imports; each batch is one transaction that upserts the checked rows
// by external id (import_keys: municipality, kind, external id → our id and
// the hash of the row's normalised content), records the rejected rows,
// then moves the run's checkpoint and counts. New rows go by the bulk path
// (multi-row INSERT / COPY) with one audit entry per batch; a changed row is
// updated with an audit entry of its own (before/after). Conflicts with the
// database (a CNP registered to a taxpayer the import does not know, a VIN
// held by another vehicle) are found by reads before any write, so no
// statement fails inside the transaction (PostgreSQL would abort it).

// FaultImportCheckpoint: an import batch has written its rows and errors;
// the run's checkpoint has not moved and the batch's audit entry is not
// written.
const FaultImportCheckpoint = "import.batch.before-checkpoint"

func init() { FaultPoints = append(FaultPoints, FaultImportCheckpoint) }

const importRunColumns = `id, municipality_id, kind, file_name, file_sha256, dry_run, checkpoint_line, batches, rows_total, imported, updated, unchanged, rejected, file_rows`

// StartImport opens a run, or resumes the unfinished run of the same kind
// and file (same SHA-256) of the municipality, clearing its failure. Dry
// runs never resume. fileRows (the file's data lines, 0: not known) is
// recorded for the progress in /metrics.
func (db *DB) StartImport(ctx context.Context, municipalityID int64, kind, fileName, sha string, dryRun bool, fileRows int64) (*fiscal.ImportRun, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.System && !a.Has(fiscal.RoleAdmin) {
		return nil, fiscal.Errorf(fiscal.EFORBIDDEN, "only an administrator imports data")
	}
	var run fiscal.ImportRun
	err = db.InTx(ctx, func(tx *Tx) error {
		if !dryRun {
			err := tx.Get(ctx, &run, `SELECT `+importRunColumns+` FROM imports WHERE municipality_id = ? AND kind = ? AND file_sha256 = ? AND dry_run = ? AND finished_at IS NULL
				ORDER BY id DESC LIMIT 1`, municipalityID, kind, sha, false)
			if err == nil {
				run.Resumed, run.FileRows = true, fileRows
				_, err := tx.Exec(ctx, `UPDATE imports SET file_rows = ?, failed_at = NULL, failure = '', updated_at = ? WHERE id = ?`, fileRows, tx.Now, run.ID)
				return translate(err, "import")
			}
			if fiscal.ErrorCode(translate(err, "import")) != fiscal.ENOTFOUND {
				return translate(err, "import")
			}
		}
		var by *int64
		if !a.System {
			by = &a.UserID
		}
		id, err := tx.Insert(ctx, `INSERT INTO imports (municipality_id, kind, file_name, file_sha256, dry_run, started_by, started_at, updated_at, file_rows)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, municipalityID, kind, fileName, sha, dryRun, by, tx.Now, tx.Now, fileRows)
		if err != nil {
			return translate(err, "import")
		}
		run = fiscal.ImportRun{ID: id, MunicipalityID: municipalityID, Kind: kind, FileName: fileName, FileSHA256: sha, DryRun: dryRun, CheckpointLine: 1, FileRows: fileRows}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &run, nil
}

// importKey is a row of import_keys.
type importKey struct {
	ExternalID string `db:"external_id"`
	EntityID   int64  `db:"entity_id"`
	Hash       string `db:"row_hash"`
}

// owner is an imported taxpayer as rows that name it need it.
type importOwner struct {
	ExternalID string `db:"external_id"`
	ID         int64  `db:"entity_id"`
	Kind       string `db:"kind"`
}

// selectIn runs query (with one %s for the IN list) over values in chunks,
// appending to dest (a pointer to a slice: sqlx's Select replaces a
// slice's contents, so each chunk is read into a fresh one). It does not
// use the prepared statement cache: the lists vary.
func (tx *Tx) selectIn(ctx context.Context, dest any, query string, values []string, args ...any) error {
	const chunk = 500
	out := reflect.ValueOf(dest).Elem()
	for start := 0; start < len(values); start += chunk {
		part := values[start:min(start+chunk, len(values))]
		a := append(append([]any{}, args...), toAny(part)...)
		q := fmt.Sprintf(query, strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", "))
		got := reflect.New(out.Type())
		if err := tx.SelectContext(ctx, got.Interface(), tx.Rebind(q), a...); err != nil {
			return translate(err, "import lookup")
		}
		out.Set(reflect.AppendSlice(out, got.Elem()))
	}
	return nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func uniq(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0:0]
	for _, v := range s {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// batchWriter carries one batch's state through its transaction.
type batchWriter struct {
	tx      *Tx
	run     *fiscal.ImportRun
	muni    int64
	dry     bool
	pending func(kind, ext string) (string, bool)
	keys    map[string]importKey
	res     fiscal.ImportBatchResult
	newKeys [][]any
	created []int64
}

func (w *batchWriter) reject(r *fiscal.ImportRow, field, msg string) {
	w.res.Errors = append(w.res.Errors, fiscal.ImportError{Line: r.Line, Field: field, Message: msg})
}

// WriteImportBatch implements fiscal.ImportStore (see the file comment).
func (db *DB) WriteImportBatch(ctx context.Context, run *fiscal.ImportRun, b *fiscal.ImportBatch, pending func(kind, ext string) (string, bool)) (fiscal.ImportBatchResult, error) {
	var out fiscal.ImportBatchResult
	err := db.inConnTx(ctx, func(tx *Tx) error {
		r, err := tx.Exec(ctx, `UPDATE imports SET updated_at = ? WHERE id = ? AND municipality_id = ? AND checkpoint_line = ? AND finished_at IS NULL`,
			tx.Now, run.ID, run.MunicipalityID, run.CheckpointLine)
		if err != nil {
			return translate(err, "import")
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return fiscal.Errorf(fiscal.ECONFLICT, "import %d moved on: another run of the same file is writing", run.ID)
		}
		w := &batchWriter{tx: tx, run: run, muni: run.MunicipalityID, dry: run.DryRun, pending: pending, keys: map[string]importKey{}}
		exts := make([]string, len(b.Rows))
		for i := range b.Rows {
			exts[i] = b.Rows[i].ExternalID
		}
		var have []importKey
		if err := tx.selectIn(ctx, &have, `SELECT external_id, entity_id, row_hash FROM import_keys WHERE municipality_id = ? AND kind = ? AND external_id IN (%s)`,
			exts, w.muni, run.Kind); err != nil {
			return err
		}
		for _, k := range have {
			w.keys[k.ExternalID] = k
		}
		switch run.Kind {
		case fiscal.ImportTaxpayers:
			err = w.taxpayers(ctx, b.Rows)
		case fiscal.ImportVehicles:
			err = w.vehicles(ctx, b.Rows)
		case fiscal.ImportBuildings, fiscal.ImportLands:
			err = w.holdings(ctx, b.Rows, b.Dry)
		case fiscal.ImportBalances:
			err = w.balances(ctx, b.Rows)
		default:
			err = fiscal.InvalidField("kind", "not importable: "+run.Kind)
		}
		if err != nil {
			return err
		}
		if !w.dry && len(w.newKeys) > 0 {
			if err := tx.bulkInsert(ctx, "import_keys", importKeyCols, w.newKeys); err != nil {
				return err
			}
		}
		errs := append(append([]fiscal.ImportError{}, b.Errors...), w.res.Errors...)
		if len(errs) > 0 {
			ids, err := tx.allocIDs(ctx, "import_errors", len(errs))
			if err != nil {
				return err
			}
			rows := make([][]any, len(errs))
			for i, e := range errs {
				rows[i] = []any{ids[i], run.ID, int64(e.Line), e.Field, e.Message}
			}
			if err := tx.bulkInsert(ctx, "import_errors", []string{"id", "import_id", "line", "field", "message"}, rows); err != nil {
				return err
			}
		}
		rejectedLines := map[int]bool{}
		for _, e := range errs {
			rejectedLines[e.Line] = true
		}
		badLines := map[int]bool{} // lines the importer rejected: not among b.Rows
		for _, e := range b.Errors {
			badLines[e.Line] = true
		}
		nRows := int64(len(b.Rows)) + int64(len(badLines))
		tx.fault(FaultImportCheckpoint)
		if _, err := tx.Exec(ctx, `UPDATE imports SET checkpoint_line = ?, batches = batches + 1, rows_total = rows_total + ?, imported = imported + ?,
			updated = updated + ?, unchanged = unchanged + ?, rejected = rejected + ?, failed_at = NULL, failure = '' WHERE id = ?`,
			b.ToLine, nRows, w.res.Imported, w.res.Updated, w.res.Unchanged, int64(len(rejectedLines)), run.ID); err != nil {
			return translate(err, "import")
		}
		out = w.res
		out.Errors = errs
		if w.dry {
			return nil
		}
		summary := map[string]any{"import_id": run.ID, "kind": run.Kind, "to_line": b.ToLine, "imported": w.res.Imported, "updated": w.res.Updated,
			"unchanged": w.res.Unchanged, "rejected": len(rejectedLines)}
		if len(w.created) > 0 {
			summary["ids"] = []int64{w.created[0], w.created[len(w.created)-1]}
		}
		return tx.Audit(ctx, w.muni, "import.batch", "import", run.ID, nil, summary)
	})
	if err != nil {
		return fiscal.ImportBatchResult{}, err
	}
	run.CheckpointLine = b.ToLine
	run.Batches++
	run.Imported += out.Imported
	run.Updated += out.Updated
	run.Unchanged += out.Unchanged
	lines := map[int]bool{}
	for _, e := range out.Errors {
		lines[e.Line] = true
	}
	run.Rejected += int64(len(lines))
	if run.Batches&(run.Batches-1) == 0 { // batches 1, 2, 4, 8, ...
		db.analyzeImport(ctx, run.Kind)
	}
	return out, nil
}

// importTables are the tables a kind's batches grow.
var importTables = map[string]string{fiscal.ImportTaxpayers: "taxpayers", fiscal.ImportVehicles: "vehicles", fiscal.ImportBuildings: "buildings",
	fiscal.ImportLands: "lands", fiscal.ImportBalances: "debts"}

// analyzeImport refreshes PostgreSQL's statistics of the tables an import
// grows, after batches 1, 2, 4, 8... and at the end: planned on an empty
// table's statistics, the look-ups by external id (IN lists of hundreds of
// values) read the whole kind's index range and filter, and a large import
// slows down with every batch (seen: 270 rows/s after 80,000 taxpayers).
// SQLite's planner needs no statistics for these. A failure only costs
// speed: it is not an error of the import.
func (db *DB) analyzeImport(ctx context.Context, kind string) {
	if db.dialect != "postgres" {
		return
	}
	if t, ok := importTables[kind]; ok {
		_, _ = db.db.ExecContext(ctx, `ANALYZE `+t+`, import_keys`)
	}
}

var importKeyCols = []string{"municipality_id", "kind", "external_id", "entity_id", "row_hash", "import_id"}

// classify splits rows into unchanged, changed (with their key) and new.
func (w *batchWriter) classify(rows []fiscal.ImportRow) (changed, fresh []*fiscal.ImportRow) {
	for i := range rows {
		r := &rows[i]
		k, ok := w.keys[r.ExternalID]
		switch {
		case !ok:
			fresh = append(fresh, r)
		case k.Hash == r.Hash:
			w.res.Unchanged++
		default:
			changed = append(changed, r)
		}
	}
	return changed, fresh
}

// keep records a new row's key (written after the batch's records).
func (w *batchWriter) keep(r *fiscal.ImportRow, id int64) {
	w.newKeys = append(w.newKeys, []any{w.muni, w.run.Kind, r.ExternalID, id, r.Hash, w.run.ID})
	w.created = append(w.created, id)
	w.res.Imported++
}

// rekey moves a changed row's hash.
func (w *batchWriter) rekey(ctx context.Context, r *fiscal.ImportRow) error {
	_, err := w.tx.Exec(ctx, `UPDATE import_keys SET row_hash = ?, import_id = ? WHERE municipality_id = ? AND kind = ? AND external_id = ?`,
		r.Hash, w.run.ID, w.muni, w.run.Kind, r.ExternalID)
	w.res.Updated++
	return translate(err, "import key")
}

// owners resolves the owners rows name (imported taxpayers) with their kind.
func (w *batchWriter) owners(ctx context.Context, exts []string) (map[string]importOwner, error) {
	var got []importOwner
	if err := w.tx.selectIn(ctx, &got, `SELECT k.external_id, k.entity_id, t.kind FROM import_keys k JOIN taxpayers t ON t.id = k.entity_id
		WHERE k.municipality_id = ? AND k.kind = 'taxpayers' AND k.external_id IN (%s)`, uniq(exts), w.muni); err != nil {
		return nil, err
	}
	out := make(map[string]importOwner, len(got))
	for _, o := range got {
		out[o.ExternalID] = o
	}
	return out, nil
}

// pendingRow looks a row up among those a dry run checked in earlier files.
func (w *batchWriter) pendingRow(kind, ext string) (string, bool) {
	if !w.dry || w.pending == nil {
		return "", false
	}
	return w.pending(kind, ext)
}

// owner returns the row's owner; a missing one rejects the row (a dry run
// accepts an owner good in an earlier file of the same run, with id 0).
func (w *batchWriter) owner(r *fiscal.ImportRow, owners map[string]importOwner, ext string) (importOwner, bool) {
	if o, ok := owners[ext]; ok {
		return o, true
	}
	if kind, ok := w.pendingRow(fiscal.ImportTaxpayers, ext); ok {
		if kind == "" {
			kind = string(fiscal.Individual)
		}
		return importOwner{ExternalID: ext, Kind: kind}, true
	}
	w.reject(r, "owner_external_id", "no imported taxpayer has this external_id (import the taxpayers first)")
	return importOwner{}, false
}

// FinishImport marks a run finished.
func (db *DB) FinishImport(ctx context.Context, run *fiscal.ImportRun) (*fiscal.ImportRun, error) {
	if !run.DryRun {
		db.analyzeImport(ctx, run.Kind)
	}
	err := db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE imports SET finished_at = ?, updated_at = ? WHERE id = ? AND finished_at IS NULL`, tx.Now, tx.Now, run.ID); err != nil {
			return translate(err, "import")
		}
		if run.DryRun {
			return nil
		}
		return tx.Audit(ctx, run.MunicipalityID, "import.finish", "import", run.ID, nil, map[string]any{"kind": run.Kind, "file": run.FileName,
			"sha256": run.FileSHA256, "rows": run.Rows, "batches": run.Batches})
	})
	return run, err
}

// FailImport records that a run stopped on an error (reason); running the
// same file again resumes it and clears the mark.
func (db *DB) FailImport(ctx context.Context, run *fiscal.ImportRun, reason string) error {
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE imports SET failed_at = ?, failure = ?, updated_at = ? WHERE id = ? AND municipality_id = ? AND finished_at IS NULL`,
			tx.Now, failureText(reason), tx.Now, run.ID, run.MunicipalityID)
		return translate(err, "import")
	})
}

// ImportReport returns an import of the actor's municipality with its
// first errors (limit 0: none).
func (db *DB) ImportReport(ctx context.Context, id int64, limit int) (*fiscal.ImportResult, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	var run fiscal.ImportRun
	err = db.db.GetContext(ctx, &run, db.db.Rebind(`SELECT `+importRunColumns+` FROM imports WHERE id = ? AND municipality_id = ?`), id, a.MunicipalityID)
	if err != nil {
		return nil, translate(err, "import")
	}
	res := &fiscal.ImportResult{ID: run.ID, Kind: run.Kind, DryRun: run.DryRun, Rows: run.Rows, Imported: run.Imported, Updated: run.Updated,
		Unchanged: run.Unchanged, Rejected: run.Rejected, Errors: []fiscal.ImportError{}}
	if limit > 0 {
		err = db.db.SelectContext(ctx, &res.Errors, db.db.Rebind(`SELECT line, field, message FROM import_errors WHERE import_id = ? ORDER BY line, id LIMIT `+strconv.Itoa(limit)), id)
		if err != nil {
			return nil, translate(err, "import errors")
		}
	}
	return res, nil
}

// EachImportError streams an import's errors in line order (the import is
// checked to be the actor's municipality's by ImportReport first).
func (db *DB) EachImportError(ctx context.Context, id int64, fn func(fiscal.ImportError) error) error {
	if _, err := db.ImportReport(ctx, id, 0); err != nil {
		return err
	}
	rows, err := db.db.QueryxContext(ctx, db.db.Rebind(`SELECT line, field, message FROM import_errors WHERE import_id = ? ORDER BY line, id`), id)
	if err != nil {
		return translate(err, "import errors")
	}
	defer rows.Close()
	for rows.Next() {
		var e fiscal.ImportError
		if err := rows.StructScan(&e); err != nil {
			return translate(err, "import errors")
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return translate(rows.Err(), "import errors")
}

// ImportSummaries lists the actor's municipality's imports, the most recent
// first: the one of id when id > 0 (ENOTFOUND when the municipality has
// none such), else at most limit (1 to 1000).
func (db *DB) ImportSummaries(ctx context.Context, id int64, limit int) ([]fiscal.ImportSummary, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	const cols = `id, kind, file_name, file_sha256, dry_run, rows_total, imported, updated, unchanged, rejected, started_at, finished_at`
	out := []fiscal.ImportSummary{}
	if id > 0 {
		err = db.db.SelectContext(ctx, &out, db.db.Rebind(`SELECT `+cols+` FROM imports WHERE id = ? AND municipality_id = ?`), id, a.MunicipalityID)
		if err == nil && len(out) == 0 {
			return nil, fiscal.Errorf(fiscal.ENOTFOUND, "import not found")
		}
		return out, translate(err, "import")
	}
	limit = min(max(limit, 1), 1000)
	err = db.db.SelectContext(ctx, &out, db.db.Rebind(`SELECT `+cols+` FROM imports WHERE municipality_id = ? ORDER BY id DESC LIMIT `+strconv.Itoa(limit)), a.MunicipalityID)
	if err != nil {
		return nil, translate(err, "imports")
	}
	return out, nil
}

// ImportDone reports whether a finished (not dry) import of the file (kind
// and SHA-256) exists in the municipality: the demo seed imports each of
// its files once.
func (db *DB) ImportDone(ctx context.Context, municipalityID int64, kind, sha string) (bool, error) {
	var n int
	err := db.db.GetContext(ctx, &n, db.db.Rebind(`SELECT COUNT(*) FROM imports WHERE municipality_id = ? AND kind = ? AND file_sha256 = ?
		AND dry_run = ? AND finished_at IS NOT NULL`), municipalityID, kind, sha, false)
	return n > 0, translate(err, "import")
}

// ImportedID is the id of the record an import key names (0: none).
func (db *DB) ImportedID(ctx context.Context, municipalityID int64, kind, externalID string) (int64, error) {
	var id int64
	err := db.db.GetContext(ctx, &id, db.db.Rebind(`SELECT entity_id FROM import_keys WHERE municipality_id = ? AND kind = ? AND external_id = ?`),
		municipalityID, kind, externalID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, translate(err, "import key")
}
