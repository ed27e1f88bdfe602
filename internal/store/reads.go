package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"fiscald/fiscal"
)

// Reads outside a write transaction: one-row and list queries on the read
// pool (get, selectx), a read-only transaction whose queries share one
// snapshot (inReadTx: a statement's debts, credit and bonuses agree), a
// read-only use case given a read-only Tx (readTx), and a querier over the
// pool that runs SQLite's cached prepared statements (reads). Read helpers
// take a querier, so they run alike on a Tx, a read transaction or the pool.

// get runs a rebound one-row query outside a transaction (cached on SQLite).
func (db *DB) get(ctx context.Context, dest any, query string, args ...any) error {
	if st := db.prepared(ctx, query); st != nil {
		return st.GetContext(ctx, dest, args...)
	}
	return db.readPool(query).GetContext(ctx, dest, db.db.Rebind(query), args...)
}

// readPool is the pool for query outside a transaction: the read pool for
// a SELECT, the write pool for anything else.
func (db *DB) readPool(query string) *sqlx.DB {
	if q := strings.TrimSpace(query); len(q) >= 6 && strings.EqualFold(q[:6], "select") {
		return db.rd
	}
	return db.db
}

// selectx runs a rebound query into a slice outside a transaction.
func (db *DB) selectx(ctx context.Context, dest any, query string, args ...any) error {
	if st := db.prepared(ctx, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return db.readPool(query).SelectContext(ctx, dest, db.db.Rebind(query), args...)
}

// inReadTx runs fn over one read transaction: every query sees the same
// snapshot (a statement's debts, credit and bonuses agree with each other
// while payments land), and on SQLite the queries share one WAL read lock
// instead of taking one each. On SQLite it is a deferred transaction that
// never takes the write lock. Queries given to it must already be rebound.
//
// It runs the cached prepared statements but never prepares one while it
// holds its connection: preparing takes a second connection from the pool,
// and transactions that each hold one and wait for another deadlock the
// pool (seen under `make loadtest`). Queries not cached yet run directly
// and are prepared after the transaction.
func (db *DB) inReadTx(ctx context.Context, fn func(q querier) error) error {
	x, err := db.rd.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return translate(err, "begin read transaction")
	}
	r := &txReads{x: x, db: db}
	err = fn(r)
	_ = x.Rollback()
	for _, q := range r.missing {
		db.prepared(ctx, q)
	}
	return err
}

// readTx runs a read-only use case in a read-only transaction: one
// consistent snapshot that never takes SQLite's writer, a connection of
// PostgreSQL's write pool (it runs on the read pool) nor an Idempotency-Key
// claim. A write inside it
// fails (PostgreSQL refuses it; on SQLite the transaction never holds the
// write lock, so the write would wait for it and is refused the same way).
func (db *DB) readTx(ctx context.Context, fn func(tx *Tx) error) error {
	x, err := db.rd.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return translate(err, "begin read transaction")
	}
	tx := &Tx{Tx: x, db: db, Now: db.clock.Now().UTC().Truncate(time.Microsecond), Actor: fiscal.ActorFrom(ctx), readOnly: true}
	err = fn(tx)
	_ = x.Rollback()
	for _, q := range tx.missing {
		db.prepared(ctx, q)
	}
	return err
}

type txReads struct {
	x       *sqlx.Tx
	db      *DB
	missing []string
}

func (r *txReads) Rebind(query string) string { return r.x.Rebind(query) }

func (r *txReads) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := r.db.cachedStmt(query); st != nil {
		return r.x.StmtxContext(ctx, st).SelectContext(ctx, dest, args...)
	}
	r.missing = append(r.missing, query)
	return r.x.SelectContext(ctx, dest, query, args...)
}

func (r *txReads) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := r.db.cachedStmt(query); st != nil {
		return r.x.StmtxContext(ctx, st).GetContext(ctx, dest, args...)
	}
	r.missing = append(r.missing, query)
	return r.x.GetContext(ctx, dest, query, args...)
}

// reads returns a querier over the pool that runs each query through the
// cached prepared statements on SQLite (modernc parses every statement
// again otherwise) and directly on PostgreSQL. Queries given to it must
// already be rebound.
func (db *DB) reads() querier { return preparedReads{db} }

type preparedReads struct{ db *DB }

func (r preparedReads) Rebind(query string) string { return r.db.db.Rebind(query) }

func (r preparedReads) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := r.db.prepared(ctx, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return r.db.readPool(query).SelectContext(ctx, dest, query, args...)
}

func (r preparedReads) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := r.db.prepared(ctx, query); st != nil {
		return st.GetContext(ctx, dest, args...)
	}
	return r.db.readPool(query).GetContext(ctx, dest, query, args...)
}

type querier interface {
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	Rebind(query string) string
}

var _ querier = (*sqlx.DB)(nil)
var _ querier = (*Tx)(nil)
