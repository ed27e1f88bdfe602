package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"fiscald/internal/civil"
	"fiscald/migrations"
)

// RawLimit is the measured ceiling of the annual run's writes: the same
// assessment and debt rows written with the same driver by the fastest path
// (one transaction; multi-row INSERT on SQLite, COPY on PostgreSQL) into
// empty copies of the tables with the same columns, keys, indexes and
// foreign keys.
type RawLimit struct {
	Assessments, Debts int64
	// Write is the time spent in the writes and the commit only (reading the
	// rows back and building them is not counted).
	Write time.Duration
}

// RowsPerSecond is (assessments + debts) / Write.
func (r RawLimit) RowsPerSecond() float64 {
	return float64(r.Assessments+r.Debts) / r.Write.Seconds()
}

var rawRename = regexp.MustCompile(`\b((?:assessments|debts)\w*)`)

// rawTablesDDL derives the CREATE statements of raw_assessments and
// raw_debts from the ledger migration, so the copies cannot drift from the
// real tables.
func rawTablesDDL(dialect string) ([]string, error) {
	ms, err := migrations.List(dialect)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ms {
		var lines []string
		for _, l := range strings.Split(m.SQL, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") {
				lines = append(lines, l)
			}
		}
		for _, st := range strings.Split(strings.Join(lines, "\n"), ";") {
			st = strings.TrimSpace(st)
			if strings.HasPrefix(st, "CREATE TABLE assessments") || strings.HasPrefix(st, "CREATE TABLE debts") ||
				strings.HasPrefix(st, "ALTER TABLE assessments") || strings.HasPrefix(st, "ALTER TABLE debts") ||
				(strings.HasPrefix(st, "CREATE") && strings.Contains(st, "INDEX") && regexp.MustCompile(`\bON (assessments|debts)\b`).MatchString(st)) {
				out = append(out, rawRename.ReplaceAllString(st, "raw_$1"))
			}
		}
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("store: the ledger tables were not found in the migrations")
	}
	return out, nil
}

// MeasureRawLimit copies a year's assessments and debts into fresh
// raw_assessments / raw_debts tables by the fastest path and times the
// writes, then drops the copies. Run it after `fiscald assess` on the same
// database (benchmarks only).
func (db *DB) MeasureRawLimit(ctx context.Context, municipalityID int64, year int) (RawLimit, error) {
	var r RawLimit
	ddl, err := rawTablesDDL(db.dialect)
	if err != nil {
		return r, err
	}
	drop := func() {
		// On SQLite, DROP TABLE with foreign keys on deletes row by row and
		// looks for rows that refer to each (raw_debts refers to itself
		// through an unindexed column): hours for a million rows. The
		// copies are dropped with the checks off, on one connection.
		ctx := context.Background()
		c, err := db.db.Conn(ctx)
		if err != nil {
			return
		}
		defer c.Close()
		if db.dialect == "sqlite" {
			c.ExecContext(ctx, `PRAGMA foreign_keys = OFF`)
			defer c.ExecContext(ctx, `PRAGMA foreign_keys = ON`)
		}
		c.ExecContext(ctx, `DROP TABLE IF EXISTS raw_debts`)
		c.ExecContext(ctx, `DROP TABLE IF EXISTS raw_assessments`)
	}
	drop()
	defer drop()
	for _, st := range ddl {
		if _, err := db.db.ExecContext(ctx, st); err != nil {
			return r, fmt.Errorf("store: %s: %w", st, err)
		}
	}
	const chunk = 50000
	var beforeCommit time.Time
	err = db.inConnTx(ctx, func(tx *Tx) error {
		for _, t := range []struct {
			table string
			cols  []string
			date  int // index of the date column, -1 for none
			n     *int64
		}{{"assessments", assessmentCols, -1, &r.Assessments}, {"debts", debtCols, 9, &r.Debts}} {
			var after int64
			for {
				rows, last, err := db.rawChunk(ctx, tx, t.table, t.cols, t.date, municipalityID, year, after, chunk)
				if err != nil {
					return err
				}
				if len(rows) == 0 {
					break
				}
				start := time.Now()
				if err := tx.bulkInsert(ctx, "raw_"+t.table, t.cols, rows); err != nil {
					return err
				}
				r.Write += time.Since(start)
				*t.n += int64(len(rows))
				after = last
			}
		}
		beforeCommit = time.Now()
		return nil
	})
	if err != nil {
		return r, err
	}
	r.Write += time.Since(beforeCommit) // the commit is part of the write
	return r, nil
}

// rawChunk reads up to n rows of table after id `after` (on the pool, not
// tx) as bulk rows. The unary + keeps SQLite on the primary key's range
// (with an index on municipality_id it read and sorted every row of the
// table for each chunk).
func (db *DB) rawChunk(ctx context.Context, tx *Tx, table string, cols []string, dateCol int, municipalityID int64, year int, after int64, n int) ([][]any, int64, error) {
	rows, err := db.db.QueryContext(ctx, db.db.Rebind(`SELECT `+strings.Join(cols, ", ")+` FROM `+table+`
		WHERE +municipality_id = ? AND +year = ? AND id > ? ORDER BY id LIMIT ?`), municipalityID, year, after, n)
	if err != nil {
		return nil, 0, translate(err, table)
	}
	defer rows.Close()
	var out [][]any
	var last int64
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		var d civil.Date
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if dateCol >= 0 {
			ptrs[dateCol] = &d
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, 0, translate(err, table)
		}
		if dateCol >= 0 {
			vals[dateCol] = tx.dateArg(d)
		}
		last = vals[0].(int64)
		out = append(out, vals)
	}
	return out, last, translate(rows.Err(), table)
}
