package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// Bulk writes for the batch jobs (the annual assessment, the synthetic city).
// The engines differ here on purpose: SQLite takes prepared multi-row INSERT
// statements; PostgreSQL takes COPY (pgx CopyFrom on the transaction's own
// connection), several times faster than any INSERT there.

// sqliteMaxVars keeps a multi-row statement under SQLite's default limit of
// 32766 bound variables.
const sqliteMaxVars = 32000

// maxRowsPerStatement bounds a multi-row INSERT: beyond a few hundred rows
// parsing the statement costs more than it saves.
const maxRowsPerStatement = 256

// inConnTx runs fn in a transaction on a connection of its own, so that
// PostgreSQL COPY can reach the driver connection the transaction runs on.
func (db *DB) inConnTx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.dialect == "sqlite" {
		db.writeMu.Lock() // queue with this process's other writers (see InTx)
		defer db.writeMu.Unlock()
	}
	conn, err := db.db.Connx(ctx)
	if err != nil {
		return translate(err, "connection")
	}
	defer conn.Close()
	x, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return translate(err, "begin transaction")
	}
	tx := &Tx{Tx: x, db: db, Now: db.clock.Now().UTC().Truncate(time.Microsecond), Actor: fiscal.ActorFrom(ctx), conn: conn.Conn}
	if err := fn(tx); err != nil {
		_ = x.Rollback()
		return err
	}
	if err := tx.runAtCommit(ctx); err != nil {
		_ = x.Rollback()
		return err
	}
	if err := tx.flushAudit(ctx); err != nil {
		_ = x.Rollback()
		return err
	}
	if err := x.Commit(); err != nil {
		return translate(err, "commit")
	}
	if tx.asyncCommit {
		return db.durabilityBarrier(context.WithoutCancel(ctx))
	}
	return nil
}

// dateArg is a civil date as the engine's driver takes it for bulk writes:
// TEXT on SQLite, a time at midnight UTC for PostgreSQL's binary COPY.
func (tx *Tx) dateArg(d civil.Date) any {
	if tx.db.dialect == "postgres" {
		return d.In(time.UTC)
	}
	return d.String()
}

// dateArgPtr is dateArg for an optional date (NULL when nil).
func (tx *Tx) dateArgPtr(d *civil.Date) any {
	if d == nil {
		return nil
	}
	return tx.dateArg(*d)
}

// allocIDs reserves n ids of table. SQLite: the immediate transaction holds
// the write lock, so MAX(id)+1.. is ours until commit. PostgreSQL: n values
// of the table's sequence (not necessarily contiguous).
func (tx *Tx) allocIDs(ctx context.Context, table string, n int) ([]int64, error) {
	ids := make([]int64, n)
	if n == 0 {
		return ids, nil
	}
	if tx.db.dialect == "postgres" {
		rows, err := tx.QueryContext(ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)`, table, n)
		if err != nil {
			return nil, translate(err, table+" ids")
		}
		defer rows.Close()
		i := 0
		for rows.Next() && i < n {
			if err := rows.Scan(&ids[i]); err != nil {
				return nil, translate(err, table+" ids")
			}
			i++
		}
		if err := rows.Err(); err != nil || i != n {
			return nil, fiscal.Internal(fmt.Errorf("allocated %d of %d ids: %v", i, n, err), table+" ids")
		}
		return ids, nil
	}
	var max int64
	if err := tx.GetContext(ctx, &max, `SELECT COALESCE(MAX(id), 0) FROM `+table); err != nil {
		return nil, translate(err, table+" ids")
	}
	for i := range ids {
		ids[i] = max + int64(i) + 1
	}
	return ids, nil
}

// bulkInsert writes rows (each with one value per column) into table by the
// engine's fastest path inside tx.
func (tx *Tx) bulkInsert(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if tx.db.dialect == "postgres" && tx.conn != nil {
		return tx.copyFrom(ctx, table, cols, rows)
	}
	per := sqliteMaxVars / len(cols)
	if per > maxRowsPerStatement {
		per = maxRowsPerStatement
	}
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, per*len(cols))
	for start := 0; start < len(rows); start += per {
		end := min(start+per, len(rows))
		args = args[:0]
		for _, r := range rows[start:end] {
			args = append(args, r...)
		}
		var err error
		if end-start == per {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, tx.Rebind(multiInsert(table, cols, per))); err != nil {
					return translate(err, table)
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, tx.Rebind(multiInsert(table, cols, end-start)), args...)
		}
		if err != nil {
			return translate(err, table)
		}
	}
	return nil
}

// multiInsert is INSERT INTO table (cols) VALUES (?, ...), ... for n rows.
func multiInsert(table string, cols []string, n int) string {
	var b strings.Builder
	b.Grow(40 + len(table) + 12*len(cols) + n*(3*len(cols)+3))
	b.WriteString("INSERT INTO ")
	b.WriteString(table)
	b.WriteString(" (")
	b.WriteString(strings.Join(cols, ", "))
	b.WriteString(") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// copyFrom is PostgreSQL COPY through pgx on the transaction's connection
// (database/sql lets Raw run beside the open transaction; the COPY joins it).
func (tx *Tx) copyFrom(ctx context.Context, table string, cols []string, rows [][]any) error {
	err := tx.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		return err
	})
	return translate(err, table)
}
