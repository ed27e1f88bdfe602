package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"

	"fiscald/fiscal"
)

// A use case's write transaction (Tx). InTx opens it (on SQLite through the
// process's single writer, writer.go), claims the request's Idempotency-Key
// (idempotency.go), runs the use case, then its at-commit hooks, chains its
// audit entries (audit.go) and commits; a transaction the database undid to
// resolve a conflict runs once more. On PostgreSQL an asynchronous commit is
// followed by the durability barrier (commit.go). Get, Select, Exec and Insert
// run rebound statements, through SQLite's prepared statement cache
// (stmtcache.go). The bulk path's transaction on a connection of its own is
// inConnTx (bulk.go).

// Tx is one use case's transaction, with the instant it runs at and the
// actor it runs for.
type Tx struct {
	*sqlx.Tx
	db    *DB
	Now   time.Time
	Actor *fiscal.Actor
	// conn is the connection of a transaction opened by inConnTx (bulk
	// writes); nil otherwise.
	conn *sql.Conn
	// keyCache holds signing keys read before the transaction began.
	keyCache map[int64]*signingKey
	// asyncCommit says tx commits without waiting for the WAL flush, and
	// InTx runs the durability barrier before it returns (commit.go).
	asyncCommit bool
	// claimRow is the Idempotency-Key claim this transaction inserted
	// (idempotency.go); kept is the reply it kept with it.
	claimRow int64
	kept     *fiscal.StoredResponse
	// readOnly transactions (readTx) run cached statements only: preparing
	// one while holding the connection waits for a second connection of
	// the pool (see inReadTx); missing lists those to prepare afterwards.
	readOnly bool
	missing  []string
	// audits are the entries Audit buffered, chained at commit.
	audits []*fiscal.AuditEntry
	// atCommit run after fn, in order, just before the audit chain's head
	// is taken: what takes another shared row (a receipt counter) is done
	// there so that the row is held for the last statements only.
	atCommit []func(context.Context) error
	// stamps are the steps signed in the transaction, timestamped after
	// it committed (stampAfterCommit, pki.go).
	stamps []stepStamp
	// after are run once the transaction committed, holding nothing
	// (afterCommit, pki.go).
	after []func(context.Context)
}

// InTx runs fn in a transaction and commits when it returns nil. The actor
// is taken from ctx (nil for anonymous use cases). A transaction the
// database undid to resolve a conflict (a deadlock, a serialization
// failure, SQLite busy) runs once more; a second such failure is
// EUNAVAILABLE (503 with Retry-After). fn must therefore set what it
// returns afresh on each run.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	var after []func(context.Context)
	run := func(tx *Tx) error {
		tx.after = nil
		err := fn(tx)
		after = tx.after
		return err
	}
	err := db.inTx(ctx, run)
	if err != nil && isRetryable(err) && ctx.Err() == nil {
		db.retried.Add(1)
		err = db.inTx(ctx, run)
	}
	if err == nil {
		for _, f := range after {
			f(context.WithoutCancel(ctx))
		}
	}
	if err != nil && isRetryable(err) {
		return translate(err, "transaction") // EUNAVAILABLE
	}
	return err
}

func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.dialect == "sqlite" {
		// SQLite has one writer at a time. Waiting for the write lock inside
		// SQLite means busy_timeout's sleeps (1, 2, 5 … 100 ms) that leave the
		// lock idle; queueing the process's writers on a mutex hands it over
		// at once. busy_timeout still covers other processes (the CLI).
		queued := time.Now()
		db.writeMu.Lock()
		held := time.Now()
		defer func() {
			db.writes.add(held.Sub(queued), time.Since(held))
			db.writeMu.Unlock()
		}()
	}
	var x *sqlx.Tx
	var err error
	if db.dialect == "sqlite" {
		x, err = db.beginSQLiteWrite(ctx)
	} else {
		x, err = db.db.BeginTxx(ctx, nil)
	}
	if err != nil {
		return translate(err, "begin transaction")
	}
	// PostgreSQL keeps microseconds: truncate so that what we hash is what we read back.
	tx := &Tx{Tx: x, db: db, Now: db.clock.Now().UTC().Truncate(time.Microsecond), Actor: fiscal.ActorFrom(ctx)}
	claim, claimID, err := claimIdempotencyKey(ctx, tx)
	if err != nil {
		_ = x.Rollback()
		return err
	}
	tx.claimRow = claimID
	if err := fn(tx); err != nil {
		_ = x.Rollback()
		return err
	}
	if err := tx.runAtCommit(ctx); err != nil {
		_ = x.Rollback()
		return err
	}
	// The audit chain's head last, after every slow step of fn.
	if err := tx.flushAudit(ctx); err != nil {
		_ = x.Rollback()
		return err
	}
	if err := x.Commit(); err != nil {
		return translate(err, "commit")
	}
	// The claim committed: recorded before the barrier, so that a failed
	// barrier never makes the caller think the key is free.
	if claim != nil {
		claim.ID = claimID
	}
	if c := fiscal.IdempotencyClaimFrom(ctx); c != nil && tx.kept != nil {
		c.Kept = tx.kept
	}
	if tx.asyncCommit {
		if err := db.durabilityBarrier(context.WithoutCancel(ctx)); err != nil {
			return err
		}
	}
	return nil
}

// runAtCommit runs the hooks of tx.atCommit in order (a hook may add
// another).
func (tx *Tx) runAtCommit(ctx context.Context) error {
	for i := 0; i < len(tx.atCommit); i++ {
		if err := tx.atCommit[i](ctx); err != nil {
			return err
		}
	}
	return nil
}

// stmt returns query's cached statement bound to the transaction, or nil.
func (tx *Tx) stmt(ctx context.Context, query string) *sqlx.Stmt {
	if tx.readOnly {
		if st := tx.db.cachedStmt(query); st != nil {
			return tx.StmtxContext(ctx, st)
		}
		if tx.db.dialect == "sqlite" {
			tx.missing = append(tx.missing, query)
		}
		return nil
	}
	if st := tx.db.prepared(ctx, query); st != nil {
		return tx.StmtxContext(ctx, st)
	}
	return nil
}

// Get runs a rebound query that returns one row into dest.
func (tx *Tx) Get(ctx context.Context, dest any, query string, args ...any) error {
	if st := tx.stmt(ctx, query); st != nil {
		return st.GetContext(ctx, dest, args...)
	}
	return tx.GetContext(ctx, dest, tx.Rebind(query), args...)
}

// Select runs a rebound query into a slice.
func (tx *Tx) Select(ctx context.Context, dest any, query string, args ...any) error {
	if st := tx.stmt(ctx, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return tx.SelectContext(ctx, dest, tx.Rebind(query), args...)
}

// Exec runs a rebound statement.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := tx.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, tx.Rebind(query), args...)
}

// Insert runs an INSERT ... RETURNING id and returns the id.
func (tx *Tx) Insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := tx.Get(ctx, &id, query+" RETURNING id", args...)
	return id, err
}

// Dialect is the engine of the transaction.
func (tx *Tx) Dialect() string { return tx.db.dialect }

// MunicipalityID is the actor's municipality, or an error for anonymous calls.
func (tx *Tx) MunicipalityID() (int64, error) {
	if tx.Actor == nil {
		return 0, fiscal.Errorf(fiscal.EUNAUTHORIZED, "authentication required")
	}
	return tx.Actor.MunicipalityID, nil
}
