package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"unicode/utf8"

	"fiscald/fiscal"
	"fiscald/internal/money"
)

// The annual assessment run's storage (fiscal.AnnualStore): objects read by
// taxpayer range, batches written in one transaction each with the run's
// cursor and one summary audit entry.

// phaseTable names each phase's register and the column ending ownership.
// A row of buildings or lands is one owner's holding with its share
// (migration 0023).
var phaseTable = map[string]struct{ table, ended string }{
	fiscal.PhaseVehicles:  {"vehicles", "deregistered_on"},
	fiscal.PhaseBuildings: {"buildings", "disposed_on"},
	fiscal.PhaseLands:     {"lands", "disposed_on"},
}

// phaseShare is the column of the owner's share (parts per 10,000).
func phaseShare(phase string) string {
	if phase == fiscal.PhaseVehicles {
		return "10000"
	}
	return "o.share_parts"
}

func phaseOf(phase string) (string, string, error) {
	p, ok := phaseTable[phase]
	if !ok {
		return "", "", fiscal.Errorf(fiscal.EINVALID, "unknown assessment phase %q", phase)
	}
	return p.table, p.ended, nil
}

const runColumns = `id, municipality_id, year, phase, cursor_taxpayer_id, batches, assessments, debts, started_at, updated_at, finished_at,
	objects_total, objects_done, failed_at, failure`

// StartAnnualRun returns the run of a phase, creating it. A run whose last
// pass finished starts a new pass from the first taxpayer: objects assessed
// already are skipped, objects entered since are assessed. The phase's
// objects are then counted, outside the transaction (an index range), and
// recorded with the run for /metrics.
func (db *DB) StartAnnualRun(ctx context.Context, municipalityID int64, year int, phase string) (*fiscal.AnnualRun, error) {
	if _, _, err := phaseOf(phase); err != nil {
		return nil, err
	}
	run := &fiscal.AnnualRun{}
	err := db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO assessment_runs (municipality_id, year, phase, started_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			municipalityID, year, phase, tx.Now, tx.Now); err != nil {
			return translate(err, "assessment run")
		}
		if _, err := tx.Exec(ctx, `UPDATE assessment_runs SET cursor_taxpayer_id = 0, finished_at = NULL, started_at = ?, updated_at = ?
			WHERE municipality_id = ? AND year = ? AND phase = ? AND finished_at IS NOT NULL`, tx.Now, tx.Now, municipalityID, year, phase); err != nil {
			return translate(err, "assessment run")
		}
		return tx.Get(ctx, run, `SELECT `+runColumns+` FROM assessment_runs WHERE municipality_id = ? AND year = ? AND phase = ?`, municipalityID, year, phase)
	})
	if err != nil {
		return nil, err
	}
	if run.ObjectsTotal, run.ObjectsDone, err = db.CountAnnualObjects(ctx, municipalityID, phase, run.CursorTaxpayerID); err != nil {
		return nil, err
	}
	// The counts only if the cursor is where it was read (another run of
	// the phase may have moved it since: its batches record their own).
	err = db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE assessment_runs SET objects_total = ?, objects_done = ?, failed_at = NULL, failure = '', updated_at = ?
			WHERE id = ? AND cursor_taxpayer_id = ? AND finished_at IS NULL`, run.ObjectsTotal, run.ObjectsDone, tx.Now, run.ID, run.CursorTaxpayerID)
		return translate(err, "assessment run")
	})
	run.FailedAt, run.Failure = nil, ""
	return run, err
}

// FinishAnnualRun marks the current pass of a phase done (objects entered
// during the pass and read by it may have made done pass total: total is
// then done).
func (db *DB) FinishAnnualRun(ctx context.Context, municipalityID int64, year int, phase string) error {
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE assessment_runs SET finished_at = ?, updated_at = ?, failed_at = NULL, failure = '',
			objects_total = CASE WHEN objects_done > objects_total THEN objects_done ELSE objects_total END
			WHERE municipality_id = ? AND year = ? AND phase = ?`,
			tx.Now, tx.Now, municipalityID, year, phase)
		return translate(err, "assessment run")
	})
}

// FailAnnualRun records that the current pass of a phase stopped on an
// error; the next batch committed or start clears it.
func (db *DB) FailAnnualRun(ctx context.Context, municipalityID int64, year int, phase, reason string) error {
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE assessment_runs SET failed_at = ?, failure = ?, updated_at = ? WHERE municipality_id = ? AND year = ? AND phase = ? AND finished_at IS NULL`,
			tx.Now, failureText(reason), tx.Now, municipalityID, year, phase)
		return translate(err, "assessment run")
	})
}

// failureText bounds a job's recorded failure to 500 bytes (on a rune
// boundary).
func failureText(s string) string {
	if len(s) <= 500 {
		return s
	}
	s = s[:500]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// CountAnnualObjects counts a phase's objects: all, and those of taxpayers
// up to cursor.
func (db *DB) CountAnnualObjects(ctx context.Context, municipalityID int64, phase string, cursor int64) (total, done int64, err error) {
	table, _, err := phaseOf(phase)
	if err != nil {
		return 0, 0, err
	}
	var c struct {
		Total int64 `db:"total"`
		Done  int64 `db:"done"`
	}
	err = db.db.GetContext(ctx, &c, db.db.Rebind(`SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN taxpayer_id <= ? THEN 1 ELSE 0 END), 0) AS done
		FROM `+table+` WHERE municipality_id = ?`), cursor, municipalityID)
	return c.Total, c.Done, translate(err, table)
}

// NextTaxpayerBound finds the taxpayer holding the n-th object after
// taxpayer `after` (in the (municipality_id, taxpayer_id) index); the batch
// ends with that taxpayer's objects, so a taxpayer is never split.
func (db *DB) NextTaxpayerBound(ctx context.Context, municipalityID int64, phase string, after int64, n int) (int64, bool, error) {
	table, _, err := phaseOf(phase)
	if err != nil {
		return 0, false, err
	}
	var ids []int64
	err = db.db.SelectContext(ctx, &ids, db.db.Rebind(`SELECT taxpayer_id FROM `+table+` WHERE municipality_id = ? AND taxpayer_id > ?
		ORDER BY taxpayer_id LIMIT 1 OFFSET ?`), municipalityID, after, n-1)
	if err != nil {
		return 0, false, translate(err, table)
	}
	if len(ids) == 0 {
		return math.MaxInt64, true, nil
	}
	return ids[0], false, nil
}

// AnnualObjects reads the objects of taxpayers in (after, upTo] with their
// owner's kind (a building's data as they were in year), ordered by
// taxpayer and id.
func (db *DB) AnnualObjects(ctx context.Context, municipalityID int64, phase string, year int, after, upTo int64) ([]fiscal.AnnualObject, error) {
	table, ended, err := phaseOf(phase)
	if err != nil {
		return nil, err
	}
	// A building's attributes of the run's year: those it had then when a
	// change took effect later (building_history).
	attrSQL, args := "o.attributes", []any{municipalityID, after, upTo}
	if table == "buildings" {
		attrSQL, args = historyAttributes, []any{year, municipalityID, after, upTo}
	}
	rows, err := db.db.QueryContext(ctx, db.db.Rebind(`SELECT o.id, o.taxpayer_id, t.kind, `+attrSQL+`, o.acquired_on, o.`+ended+`, `+phaseShare(phase)+`
		FROM `+table+` o JOIN taxpayers t ON t.id = o.taxpayer_id
		WHERE o.municipality_id = ? AND o.taxpayer_id > ? AND o.taxpayer_id <= ? ORDER BY o.taxpayer_id, o.id`), args...)
	if err != nil {
		return nil, translate(err, table)
	}
	defer rows.Close()
	var out []fiscal.AnnualObject
	var attrs []byte
	var kind string
	for rows.Next() {
		var o fiscal.AnnualObject
		if err := rows.Scan(&o.ID, &o.TaxpayerID, &kind, &attrs, &o.AcquiredOn, &o.EndedOn, &o.Share); err != nil {
			return nil, translate(err, table)
		}
		if err := json.Unmarshal(attrs, &o.Object); err != nil {
			return nil, fiscal.Internal(fmt.Errorf("%s %d: attributes: %w", table, o.ID, err), table)
		}
		if o.Object.Kind == "" {
			o.Object.Kind = phase
		}
		o.Object.OwnerKind = kind
		out = append(out, o)
	}
	return out, translate(rows.Err(), table)
}

var (
	assessmentCols = []string{"id", "municipality_id", "taxpayer_id", "tax_type", "object_kind", "object_id", "year", "revision",
		"annual_bani", "bonus_bani", "budget_code", "lines", "source", "created_at"}
	debtCols = []string{"id", "municipality_id", "taxpayer_id", "assessment_id", "kind", "tax_type", "year", "object_id",
		"installment", "due_date", "amount_bani", "budget_code", "created_at"}
)

// WriteAnnualBatch writes one batch of the annual run in one transaction:
// the assessments not yet present (the idempotency key is the object, tax
// and year: an object assessed already, by a case or an earlier pass, is
// skipped), their instalment debts, the cursor move and ONE audit entry
// summarising the batch.
func (db *DB) WriteAnnualBatch(ctx context.Context, municipalityID int64, b *fiscal.AnnualBatch) (fiscal.AnnualBatchResult, error) {
	var res fiscal.AnnualBatchResult
	err := db.inConnTx(ctx, func(tx *Tx) error {
		res = fiscal.AnnualBatchResult{}
		// The cursor guard: the UPDATE also locks the run row (PostgreSQL),
		// so two runs of the same phase cannot interleave batches.
		r, err := tx.Exec(ctx, `UPDATE assessment_runs SET updated_at = ? WHERE municipality_id = ? AND year = ? AND phase = ? AND cursor_taxpayer_id = ? AND finished_at IS NULL`,
			tx.Now, municipalityID, b.Year, b.Phase, b.FromTaxpayer)
		if err != nil {
			return translate(err, "assessment run")
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return fiscal.Errorf(fiscal.ECONFLICT, "the %s assessment run of %d moved on: another run is writing", b.Phase, b.Year)
		}
		existing := map[[2]string]map[int64]bool{}
		var have []struct {
			TaxType    string `db:"tax_type"`
			ObjectKind string `db:"object_kind"`
			ObjectID   int64  `db:"object_id"`
		}
		if err := tx.Select(ctx, &have, `SELECT tax_type, object_kind, object_id FROM assessments
			WHERE municipality_id = ? AND taxpayer_id > ? AND taxpayer_id <= ? AND year = ?`, municipalityID, b.FromTaxpayer, b.ToTaxpayer, b.Year); err != nil {
			return translate(err, "assessments")
		}
		for _, h := range have {
			k := [2]string{h.TaxType, h.ObjectKind}
			if existing[k] == nil {
				existing[k] = map[int64]bool{}
			}
			existing[k][h.ObjectID] = true
		}
		items := make([]*fiscal.AnnualAssessment, 0, len(b.Items))
		nDebts := 0
		for i := range b.Items {
			it := &b.Items[i]
			if existing[[2]string{it.TaxType, it.ObjectKind}][it.ObjectID] {
				res.Skipped++
				continue
			}
			items = append(items, it)
			nDebts += len(it.Installments)
		}
		aIDs, err := tx.allocIDs(ctx, "assessments", len(items))
		if err != nil {
			return err
		}
		dIDs, err := tx.allocIDs(ctx, "debts", nDebts)
		if err != nil {
			return err
		}
		arows := make([][]any, len(items))
		drows := make([][]any, 0, nDebts)
		flat := make([]any, 0, len(items)*len(assessmentCols)+nDebts*len(debtCols))
		now := tx.Now
		for i, it := range items {
			start := len(flat)
			flat = append(flat, aIDs[i], municipalityID, it.TaxpayerID, it.TaxType, it.ObjectKind, it.ObjectID, int64(it.Year), int64(1),
				int64(it.Assessment.Annual), int64(it.Bonus), it.Assessment.BudgetCode, string(it.LinesJSON), it.Source, now)
			arows[i] = flat[start:len(flat):len(flat)]
			for k, inst := range it.Installments {
				start := len(flat)
				flat = append(flat, dIDs[len(drows)], municipalityID, it.TaxpayerID, aIDs[i], fiscal.DebtPrincipal, it.TaxType, int64(it.Year), it.ObjectID,
					int64(k+1), tx.dateArg(inst.DueDate), int64(inst.Amount), it.Assessment.BudgetCode, now)
				drows = append(drows, flat[start:len(flat):len(flat)])
			}
			res.Annual += it.Assessment.Annual
		}
		if err := tx.bulkInsert(ctx, "assessments", assessmentCols, arows); err != nil {
			return err
		}
		if err := tx.bulkInsert(ctx, "debts", debtCols, drows); err != nil {
			return err
		}
		res.Assessments, res.Debts = len(items), len(drows)
		tx.fault(FaultAnnualCursor)
		if _, err := tx.Exec(ctx, `UPDATE assessment_runs SET cursor_taxpayer_id = ?, batches = batches + 1, assessments = assessments + ?, debts = debts + ?,
			objects_done = ?, failed_at = NULL, failure = '' WHERE municipality_id = ? AND year = ? AND phase = ?`,
			b.ToTaxpayer, res.Assessments, res.Debts, b.ObjectsDone, municipalityID, b.Year, b.Phase); err != nil {
			return translate(err, "assessment run")
		}
		summary := map[string]any{"year": b.Year, "phase": b.Phase, "taxpayers_after": b.FromTaxpayer, "taxpayers_up_to": b.ToTaxpayer,
			"assessments": res.Assessments, "debts": res.Debts, "skipped": res.Skipped, "annual": res.Annual}
		if len(aIDs) > 0 {
			summary["assessment_ids"] = []int64{aIDs[0], aIDs[len(aIDs)-1]}
		}
		return tx.Audit(ctx, municipalityID, "assessment.annual_batch", "assessment_run", fmt.Sprintf("%d/%s", b.Year, b.Phase), nil, summary)
	})
	return res, err
}

// AnnualSummary totals a year's assessments (current revision 1) and their
// principal debts by tax type and budget code.
func (db *DB) AnnualSummary(ctx context.Context, municipalityID int64, year int) ([]fiscal.AnnualSummaryRow, error) {
	var rows []fiscal.AnnualSummaryRow
	err := db.db.SelectContext(ctx, &rows, db.db.Rebind(`SELECT a.tax_type, a.budget_code, COUNT(*) AS assessments, CAST(SUM(a.annual_bani) AS BIGINT) AS annual_bani,
		0 AS debts, 0 AS debt_bani FROM assessments a WHERE a.municipality_id = ? AND a.year = ? GROUP BY a.tax_type, a.budget_code ORDER BY a.tax_type, a.budget_code`),
		municipalityID, year)
	if err != nil {
		return nil, translate(err, "assessments")
	}
	var debts []struct {
		TaxType    string     `db:"tax_type"`
		BudgetCode string     `db:"budget_code"`
		N          int64      `db:"n"`
		Sum        money.Bani `db:"total"`
	}
	err = db.db.SelectContext(ctx, &debts, db.db.Rebind(`SELECT tax_type, budget_code, COUNT(*) AS n, CAST(SUM(amount_bani) AS BIGINT) AS total FROM debts
		WHERE municipality_id = ? AND year = ? AND kind = 'principal' AND cancelled_at IS NULL GROUP BY tax_type, budget_code`), municipalityID, year)
	if err != nil {
		return nil, translate(err, "debts")
	}
	for _, d := range debts {
		for i := range rows {
			if rows[i].TaxType == d.TaxType && rows[i].BudgetCode == d.BudgetCode {
				rows[i].Debts, rows[i].DebtTotal = d.N, d.Sum
			}
		}
	}
	return rows, nil
}

// compile-time check that the store serves the annual run.
var _ fiscal.AnnualStore = (*DB)(nil)
