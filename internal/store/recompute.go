package store

import (
	"context"
	"encoding/json"
	"math"
	"sort"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/payments"
)

// The retroactive recomputation's runs and batches (fiscal.RecomputeStore):
// StartRecomputeRun, RecomputeBatch, FinishRecomputeRun, and RecomputeRun
// (a run with its totals by budget code and its progress). What a changed
// object writes is recWriter's (recwriter.go), shared with a building's
// change.
//
// The retroactive recomputation (fiscal.RecomputeStore). For every current
// assessment (highest revision) of the year, the engine in force now gives
// the annual tax; the target is that the object's open debts (principal
// instalments and earlier adjustments, not cancelled) add up to it:
//
//   - more: a new revision and an `adjustment` debt of the difference, due
//     as for a tax decision (payments.AdjustmentDueDate: DecisionDueDate
//     moved to a working day);
//   - less: a new revision, and payments.Reduce cancels the debts it
//     lowers and inserts their replacements (replaces_debt_id), moving what
//     was paid on them (a negative allocation on the old debt, a positive one
//     on the new); the paid excess becomes the paying payment's credit
//     (credit_entries source 'recompute');
//   - equal: nothing is written, so a second run with the same parameters
//     changes nothing.
//
// payments.DecideRecompute decides each object (pure); this file reads and
// writes.
//
// Batches are taxpayer ranges; each is one transaction that first locks the
// accounts of its taxpayers (payments wait, then see the new debts), writes
// the changes, moves the run's cursor and writes one audit entry.

const recomputeRunColumns = `id, municipality_id, year, cursor_taxpayer_id, batches, objects, up, down, unchanged, failed, error, started_at, updated_at, finished_at`

// StartRecomputeRun returns the year's unfinished run or creates one.
func (db *DB) StartRecomputeRun(ctx context.Context, municipalityID int64, year int) (*fiscal.RecomputeRun, error) {
	run := &fiscal.RecomputeRun{}
	err := db.InTx(ctx, func(tx *Tx) error {
		err := tx.Get(ctx, run, `SELECT `+recomputeRunColumns+` FROM recompute_runs WHERE municipality_id = ? AND year = ? AND finished_at IS NULL`, municipalityID, year)
		if err == nil {
			_, err = tx.Exec(ctx, `UPDATE recompute_runs SET error = '', updated_at = ? WHERE id = ?`, tx.Now, run.ID)
			run.Error = ""
			return translate(err, "recompute run")
		}
		if fiscal.ErrorCode(translate(err, "recompute run")) != fiscal.ENOTFOUND {
			return translate(err, "recompute run")
		}
		var by *int64
		if tx.Actor != nil && tx.Actor.UserID > 0 {
			by = &tx.Actor.UserID
		}
		id, err := tx.Insert(ctx, `INSERT INTO recompute_runs (municipality_id, year, started_by, started_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			municipalityID, year, by, tx.Now, tx.Now)
		if err != nil {
			return translate(err, "recompute run")
		}
		if err := tx.Get(ctx, run, `SELECT `+recomputeRunColumns+` FROM recompute_runs WHERE id = ?`, id); err != nil {
			return translate(err, "recompute run")
		}
		return tx.Audit(ctx, municipalityID, "recompute.start", "recompute_run", id, nil, map[string]any{"year": year})
	})
	if err != nil {
		return nil, err
	}
	run.Status = fiscal.RecomputeRunning
	return run, nil
}

// FinishRecomputeRun marks the run finished, or records runErr.
func (db *DB) FinishRecomputeRun(ctx context.Context, municipalityID, runID int64, runErr error) error {
	return db.InTx(ctx, func(tx *Tx) error {
		if runErr != nil {
			_, err := tx.Exec(ctx, `UPDATE recompute_runs SET error = ?, updated_at = ? WHERE id = ? AND municipality_id = ?`, runErr.Error(), tx.Now, runID, municipalityID)
			return translate(err, "recompute run")
		}
		if _, err := tx.Exec(ctx, `UPDATE recompute_runs SET finished_at = ?, updated_at = ?, error = '' WHERE id = ? AND municipality_id = ? AND finished_at IS NULL`,
			tx.Now, tx.Now, runID, municipalityID); err != nil {
			return translate(err, "recompute run")
		}
		return tx.Audit(ctx, municipalityID, "recompute.finish", "recompute_run", runID, nil, nil)
	})
}

// RecomputeRun reads a run of the municipality with its totals by budget
// code and its progress.
func (db *DB) RecomputeRun(ctx context.Context, municipalityID, runID int64) (*fiscal.RecomputeRun, error) {
	run := &fiscal.RecomputeRun{}
	if err := db.db.GetContext(ctx, run, db.db.Rebind(`SELECT `+recomputeRunColumns+` FROM recompute_runs WHERE id = ? AND municipality_id = ?`), runID, municipalityID); err != nil {
		return nil, translate(err, "recompute run")
	}
	switch {
	case run.FinishedAt != nil:
		run.Status = fiscal.RecomputeFinished
	case run.Error != "":
		run.Status = fiscal.RecomputeFailed
	default:
		run.Status = fiscal.RecomputeRunning
	}
	run.Totals = []fiscal.RecomputeTotal{}
	if err := db.db.SelectContext(ctx, &run.Totals, db.db.Rebind(`SELECT budget_code, extra_bani, reduced_bani, credit_bani FROM recompute_totals WHERE run_id = ? ORDER BY budget_code`), runID); err != nil {
		return nil, translate(err, "recompute totals")
	}
	run.Total.BudgetCode = "total"
	for _, t := range run.Totals {
		run.Total.Extra += t.Extra
		run.Total.Reduced += t.Reduced
		run.Total.Credit += t.Credit
	}
	var p struct {
		Total int64 `db:"total"`
		Done  int64 `db:"done"`
	}
	if err := db.db.GetContext(ctx, &p, db.db.Rebind(`SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN taxpayer_id <= ? THEN 1 ELSE 0 END), 0) AS done
		FROM assessments WHERE municipality_id = ? AND year = ? AND revision = 1`), run.CursorTaxpayerID, municipalityID, run.Year); err != nil {
		return nil, translate(err, "assessments")
	}
	if run.FinishedAt != nil {
		p.Done = p.Total
	}
	run.Progress = &fiscal.RecomputeProgress{Done: p.Done, Total: p.Total}
	return run, nil
}

type recAssessment struct {
	ID         int64      `db:"id"`
	TaxpayerID int64      `db:"taxpayer_id"`
	TaxType    string     `db:"tax_type"`
	ObjectKind string     `db:"object_kind"`
	ObjectID   int64      `db:"object_id"`
	Revision   int        `db:"revision"`
	Annual     money.Bani `db:"annual_bani"`
	Bonus      money.Bani `db:"bonus_bani"`
	BudgetCode string     `db:"budget_code"`
	OwnerKind  string     `db:"owner_kind"`
	Attributes string     `db:"attributes"`
	Share      int64      `db:"share_parts"`
}

type recDebt struct {
	ID          int64      `db:"id"`
	TaxpayerID  int64      `db:"taxpayer_id"`
	Kind        string     `db:"kind"`
	TaxType     string     `db:"tax_type"`
	ObjectKind  string     `db:"object_kind"`
	ObjectID    *int64     `db:"object_id"`
	Installment int        `db:"installment"`
	DueDate     civil.Date `db:"due_date"`
	Amount      money.Bani `db:"amount_bani"`
	BudgetCode  string     `db:"budget_code"`
}

type recAlloc struct {
	DebtID    int64      `db:"debt_id"`
	PaymentID int64      `db:"payment_id"`
	Bonus     bool       `db:"is_bonus"`
	Amount    money.Bani `db:"amount_bani"`
}

type objKey struct {
	tax, kind string
	id        int64
}

// recomputeRange is the SQL condition of a batch's current assessments.
const recomputeCurrent = `a.municipality_id = ? AND a.year = ? AND a.taxpayer_id > ? AND a.taxpayer_id <= ?`

// RecomputeBatch recomputes the next taxpayers of a run (see the file comment).
func (db *DB) RecomputeBatch(ctx context.Context, municipalityID, runID int64, n int) (fiscal.RecomputeBatchResult, error) {
	var res fiscal.RecomputeBatchResult
	engine, slug, err := db.engineFor(ctx, municipalityID)
	if err != nil {
		return res, err
	}
	if n <= 0 {
		n = 500
	}
	err = db.InTx(ctx, func(tx *Tx) error {
		res = fiscal.RecomputeBatchResult{}
		// Lock the run row first: a second process waits, then continues
		// from the cursor this batch leaves.
		var run struct {
			Cursor int64 `db:"cursor_taxpayer_id"`
			Year   int   `db:"year"`
		}
		if err := tx.Get(ctx, &run, `UPDATE recompute_runs SET updated_at = ? WHERE id = ? AND municipality_id = ? AND finished_at IS NULL RETURNING cursor_taxpayer_id, year`,
			tx.Now, runID, municipalityID); err != nil {
			if fiscal.ErrorCode(translate(err, "")) == fiscal.ENOTFOUND {
				return fiscal.Errorf(fiscal.ECONFLICT, "recompute run %d is finished or unknown", runID)
			}
			return translate(err, "recompute run")
		}
		after := run.Cursor
		var bound []int64
		if err := tx.Select(ctx, &bound, `SELECT taxpayer_id FROM assessments WHERE municipality_id = ? AND year = ? AND taxpayer_id > ? ORDER BY taxpayer_id LIMIT 1 OFFSET ?`,
			municipalityID, run.Year, after, n-1); err != nil {
			return translate(err, "assessments")
		}
		upTo := int64(math.MaxInt64)
		if len(bound) > 0 {
			upTo = bound[0]
		} else {
			res.Done = true
		}
		// Payments of these taxpayers wait for this batch.
		if _, err := tx.Exec(ctx, `INSERT INTO taxpayer_accounts (municipality_id, taxpayer_id, version)
			SELECT DISTINCT a.municipality_id, a.taxpayer_id, 1 FROM assessments a WHERE `+recomputeCurrent+`
			ON CONFLICT (municipality_id, taxpayer_id) DO UPDATE SET version = taxpayer_accounts.version + 1`, municipalityID, run.Year, after, upTo); err != nil {
			return translate(err, "accounts")
		}
		var cur []recAssessment
		if err := tx.Select(ctx, &cur, `SELECT a.id, a.taxpayer_id, a.tax_type, a.object_kind, a.object_id, a.revision, a.annual_bani, a.bonus_bani, a.budget_code,
			t.kind AS owner_kind, COALESCE(v.attributes, (SELECT bh.attributes FROM building_history bh WHERE bh.building_id = b.id AND bh.until_year >= ?
				ORDER BY bh.until_year LIMIT 1), b.attributes, l.attributes, '{}') AS attributes,
			COALESCE(b.share_parts, l.share_parts, 10000) AS share_parts
			FROM assessments a JOIN taxpayers t ON t.id = a.taxpayer_id
			LEFT JOIN vehicles v ON a.object_kind = 'vehicle' AND v.id = a.object_id
			LEFT JOIN buildings b ON a.object_kind = 'building' AND b.id = a.object_id
			LEFT JOIN lands l ON a.object_kind = 'land' AND l.id = a.object_id
			WHERE `+recomputeCurrent+` AND NOT EXISTS (SELECT 1 FROM assessments n WHERE n.municipality_id = a.municipality_id AND n.tax_type = a.tax_type
				AND n.object_kind = a.object_kind AND n.object_id = a.object_id AND n.year = a.year AND n.revision > a.revision)
			ORDER BY a.taxpayer_id, a.id`, run.Year, municipalityID, run.Year, after, upTo); err != nil {
			return translate(err, "assessments")
		}
		var debts []recDebt
		if err := tx.Select(ctx, &debts, `SELECT d.id, d.taxpayer_id, d.kind, d.tax_type, a.object_kind, d.object_id, d.installment, d.due_date, d.amount_bani, d.budget_code
			FROM debts d JOIN assessments a ON a.id = d.assessment_id
			WHERE `+recomputeCurrent+` AND d.cancelled_at IS NULL AND d.kind IN ('principal', 'adjustment') ORDER BY d.id`, municipalityID, run.Year, after, upTo); err != nil {
			return translate(err, "debts")
		}
		var allocs []recAlloc
		if err := tx.Select(ctx, &allocs, `SELECT al.debt_id, al.payment_id, CASE WHEN al.source = 'bonus' THEN 1 ELSE 0 END AS is_bonus, CAST(SUM(al.amount_bani) AS BIGINT) AS amount_bani
			FROM allocations al JOIN debts d ON d.id = al.debt_id JOIN assessments a ON a.id = d.assessment_id
			WHERE `+recomputeCurrent+` AND d.cancelled_at IS NULL
			GROUP BY al.debt_id, al.payment_id, CASE WHEN al.source = 'bonus' THEN 1 ELSE 0 END`, municipalityID, run.Year, after, upTo); err != nil {
			return translate(err, "allocations")
		}
		debtsOf := map[objKey][]*recDebt{}
		for i := range debts {
			d := &debts[i]
			if d.ObjectID != nil {
				k := objKey{d.TaxType, d.ObjectKind, *d.ObjectID}
				debtsOf[k] = append(debtsOf[k], d)
			}
		}
		paidOf := map[int64][]payments.Paid{}
		for _, a := range allocs {
			paidOf[a.DebtID] = append(paidOf[a.DebtID], payments.Paid{PaymentID: a.PaymentID, Bonus: a.Bonus, Amount: a.Amount})
		}
		today := payments.LocalDate(tx.Now)
		due := payments.AdjustmentDueDate(today, engine.Calendar)
		w := &recWriter{tx: tx, muni: municipalityID, year: run.Year, today: today, due: due, totals: map[string]*fiscal.RecomputeTotal{}}
		var changes []map[string]any
		var failures []map[string]any
		for i := range cur {
			a := &cur[i]
			res.Objects++
			var obj calc.Object
			if err := json.Unmarshal([]byte(a.Attributes), &obj); err != nil {
				res.Failed++
				failures = append(failures, map[string]any{"assessment_id": a.ID, "error": "attributes: " + err.Error()})
				continue
			}
			if obj.Kind == "" {
				obj.Kind = a.ObjectKind
			}
			obj.OwnerKind = a.OwnerKind
			ds := debtsOf[objKey{a.TaxType, a.ObjectKind, a.ObjectID}]
			o := payments.RecomputeObject{TaxType: a.TaxType, Object: obj, Share: a.Share, Annual: a.Annual, Bonus: a.Bonus, Debts: make([]payments.ReduceDebt, len(ds))}
			byID := map[int64]*recDebt{}
			for k, d := range ds {
				o.Debts[k] = payments.ReduceDebt{ID: d.ID, DueDate: d.DueDate.String(), Amount: d.Amount, Paid: paidOf[d.ID]}
				byID[d.ID] = d
			}
			dec, err := payments.DecideRecompute(engine, slug, run.Year, o)
			if err != nil {
				res.Failed++
				failures = append(failures, map[string]any{"assessment_id": a.ID, "error": err.Error()})
				continue
			}
			if dec.Outcome == payments.RecomputeUnchanged {
				res.Unchanged++
				continue
			}
			revID, err := w.revision(ctx, a, dec.Assessment, dec.Bonus)
			if err != nil {
				return err
			}
			ch := map[string]any{"assessment_id": a.ID, "revision_id": revID, "old": a.Annual, "new": dec.Assessment.Annual, "delta": dec.Delta}
			switch dec.Outcome {
			case payments.RecomputeUp:
				res.Up++
				id, err := w.adjustment(ctx, a, revID, dec.AdjustmentInstallment, dec.Delta)
				if err != nil {
					return err
				}
				ch["adjustment_debt_id"] = id
			case payments.RecomputeDown:
				res.Down++
				credit, err := w.reduce(ctx, byID, revID, dec.Cuts)
				if err != nil {
					return err
				}
				ch["credit"] = credit
			default:
				res.Unchanged++ // the revision records a new computation of the same sum
			}
			changes = append(changes, ch)
		}
		for code, t := range w.totals {
			if _, err := tx.Exec(ctx, `INSERT INTO recompute_totals (run_id, budget_code, extra_bani, reduced_bani, credit_bani) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (run_id, budget_code) DO UPDATE SET extra_bani = recompute_totals.extra_bani + excluded.extra_bani,
				reduced_bani = recompute_totals.reduced_bani + excluded.reduced_bani, credit_bani = recompute_totals.credit_bani + excluded.credit_bani`,
				runID, code, t.Extra, t.Reduced, t.Credit); err != nil {
				return translate(err, "recompute totals")
			}
		}
		newCursor := upTo
		if res.Done {
			newCursor = after
			if len(cur) > 0 {
				newCursor = cur[len(cur)-1].TaxpayerID
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE recompute_runs SET cursor_taxpayer_id = ?, batches = batches + 1, objects = objects + ?, up = up + ?, down = down + ?,
			unchanged = unchanged + ?, failed = failed + ? WHERE id = ?`, newCursor, res.Objects, res.Up, res.Down, res.Unchanged, res.Failed, runID); err != nil {
			return translate(err, "recompute run")
		}
		if res.Objects == 0 {
			return nil
		}
		totals := make([]fiscal.RecomputeTotal, 0, len(w.totals))
		for _, t := range w.totals {
			totals = append(totals, *t)
		}
		sort.Slice(totals, func(i, j int) bool { return totals[i].BudgetCode < totals[j].BudgetCode })
		return tx.Audit(ctx, municipalityID, "recompute.batch", "recompute_run", runID, nil, map[string]any{
			"year": run.Year, "taxpayers_after": after, "taxpayers_up_to": newCursor, "objects": res.Objects, "up": res.Up, "down": res.Down,
			"unchanged": res.Unchanged, "failed": res.Failed, "changes": changes, "failures": failures, "totals": totals, "adjustment_due": due})
	})
	return res, err
}

var _ fiscal.RecomputeStore = (*DB)(nil)
