// Package store is the data access of fiscald over sqlx, shared by SQLite
// (modernc.org/sqlite, the embedded default) and PostgreSQL (pgx). It
// implements the service interfaces of package fiscal: every use case opens
// and commits its own transaction, and writes its audit entry inside it.
// The SQL is portable (rebound with sqlx.Rebind); where the engines differ,
// the dialect seam in dialect.go says why. It is the only package that
// imports an SQL driver.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"fiscald/fiscal"
	"fiscald/migrations"
)

// DB is an open database with its dialect and clock.
type DB struct {
	// rd is the pool reads outside a write transaction use (inReadTx,
	// reads, get, selectx): on PostgreSQL a pool of its own, so that no
	// read waits for a connection behind writers waiting for a row lock;
	// on SQLite the same pool as db.
	rd      *sqlx.DB
	db      *sqlx.DB
	dialect string // "sqlite" or "postgres"
	clock   fiscal.Clock
	dsn     string
	// retried counts transactions run again after the database undid
	// them (InTx).
	retried atomic.Int64
	// timestampFailed counts step signatures left B-B after the commit
	// (the TSA failed); their first read adds the timestamp.
	timestampFailed atomic.Int64
	engines         engineCache
	// stmts caches prepared statements on SQLite, whose driver parses every
	// statement again otherwise (pgx caches them itself).
	stmtMu sync.Mutex
	stmts  map[string]*sqlx.Stmt
	// writeMu queues this process's SQLite transactions (see InTx).
	writeMu sync.Mutex
	// wconn is the connection InTx writes on, on SQLite (writer.go);
	// guarded by writeMu.
	wconn *sqlx.Conn
	// writes counts the write transactions and their time (WriteStats).
	writes writeStats
	// idem writes finished Idempotency-Key responses in batches.
	// keys and blobs serve the case workflow (UseCaseDeps).
	keys  fiscal.KeyVault
	blobs fiscal.BlobStore
	// docs renders, signs and stores issued documents (UseDocuments).
	docs  fiscal.DocumentProducer
	slugs sync.Map // municipality id → slug (payments.go)
	// sessions caches authenticated bearer tokens (sessioncache.go).
	sessions sessionCache
	// fault is the armed test fault point, none in service (faultpoint.go).
	fault faultState
	// barrier gathers the durability waits of concurrent requests into
	// one transaction (commit.go).
	barrier barrierGroup
	// intakes are the intakes waiting to be filed together (intakebatch.go).
	intakes intakeQueues
	// defs keeps the published versions of request types read so far
	// (immutable once published; casedefs.go).
	defs sync.Map
	// ratePruned is the Unix second of the last prune of the rate limits'
	// rows (ratelimits.go).
	ratePruned atomic.Int64
	// formClaimsPruned is the Unix second of the last prune of the
	// anonymous forms' claims (formclaims.go).
	formClaimsPruned atomic.Int64
}

// Open connects to dsn: "sqlite:PATH" (the folder is created) or a
// postgres:// URL. It does not migrate: call Migrate or CheckSchema.
func Open(ctx context.Context, dsn string, clock fiscal.Clock, opts ...Option) (*DB, error) {
	if clock == nil {
		clock = fiscal.SystemClock{}
	}
	o := options{mmap: 256 << 20}
	for _, f := range opts {
		f(&o)
	}
	var (
		x       *sqlx.DB
		dialect string
		err     error
	)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		p := strings.TrimPrefix(dsn, "sqlite:")
		if p == "" {
			return nil, fmt.Errorf("store: empty SQLite path")
		}
		if dir := filepath.Dir(p); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("store: %w", err)
			}
		}
		// WAL for concurrent readers, immediate transactions so concurrent
		// writers queue on busy_timeout instead of failing with SQLITE_BUSY.
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)",
			// Reads through a memory map of the database file: in WAL mode a
			// connection drops its page cache whenever another one has
			// committed, which under load is before nearly every read, and
			// then re-read each page with a pread system call (2-3 % of the
			// server's CPU under `make loadtest`). Writes still go through
			// the WAL.
			fmt.Sprintf("mmap_size(%d)", o.mmap)} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		q.Set("_time_format", "sqlite")
		x, err = sqlx.Open("sqlite", "file:"+p+"?"+q.Encode())
		dialect = "sqlite"
		if err == nil {
			// One writer at a time is SQLite's rule; a few connections let
			// readers run beside it.
			x.SetMaxOpenConns(8)
			x.SetMaxIdleConns(8)
			x.SetConnMaxLifetime(0)
		}
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		x, err = sqlx.Open("pgx", dsn)
		dialect = "postgres"
		if err == nil {
			x.SetMaxOpenConns(pgWritePool)
			x.SetMaxIdleConns(pgWritePool)
			x.SetConnMaxIdleTime(5 * time.Minute)
		}
	default:
		return nil, fmt.Errorf("store: FISCAL_DB must be sqlite:PATH or a postgres:// URL")
	}
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := x.PingContext(pctx); err != nil {
		x.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	rd := x
	if dialect == "postgres" {
		if rd, err = sqlx.Open("pgx", dsn); err != nil {
			x.Close()
			return nil, fmt.Errorf("store: open: %w", err)
		}
		rd.SetMaxOpenConns(pgReadPool)
		rd.SetMaxIdleConns(pgReadPool)
		rd.SetConnMaxIdleTime(5 * time.Minute)
	}
	return &DB{db: x, rd: rd, dialect: dialect, clock: clock, dsn: dsn}, nil
}

// Option changes how Open opens the database.
type Option func(*options)

type options struct {
	mmap int64 // SQLite's mmap_size
}

// WithMappedReads sets how much of a SQLite database file reads map into
// memory (default 256 MiB; 0: none, every page is read with a system call
// into SQLite's own cache). The mapped pages count in the process's
// resident memory: a batch job that must stay small (the import) maps
// less. No effect on PostgreSQL.
func WithMappedReads(bytes int64) Option { return func(o *options) { o.mmap = bytes } }

// The PostgreSQL pools of a process. Writes get few connections on
// purpose: every write transaction of a municipality ends by taking the
// same row (the audit chain's head), and the more transactions wait for
// that row at once, the fewer get it per second (measured with pgbench on
// 2 cores: 4 clients 2,300-2,700 commits/s, 40 clients 850), because
// the holder then competes for the processors with every waiter. A write
// waiting for a connection waits in Go, in order, without a backend. Reads
// have a pool of their own, so they never wait behind writers; both bounds
// hold per process, so N instances open at most N × 24 connections.
const (
	pgWritePool = 8
	pgReadPool  = 16
)

// Dialect is "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// Clock returns the clock the store stamps rows with.
func (db *DB) Clock() fiscal.Clock { return db.clock }

// DSN is the database db was opened on.
func (db *DB) DSN() string { return db.dsn }

// Close closes the cached statements and the pool.
func (db *DB) Close() error {
	db.stmtMu.Lock()
	for _, st := range db.stmts {
		st.Close()
	}
	db.stmts = nil
	db.stmtMu.Unlock()
	db.writeMu.Lock()
	db.releaseWriter()
	db.writeMu.Unlock()
	if db.rd != db.db {
		db.rd.Close()
	}
	return db.db.Close()
}

// Ping checks that the database answers (for /readyz).
func (db *DB) Ping(ctx context.Context) error { return db.db.PingContext(ctx) }

// SQL exposes the pool for tests and benchmarks of this module's own store
// and migration code.
func (db *DB) SQL() *sqlx.DB { return db.db }

// Migrate applies pending migrations and returns their names.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	return migrations.Apply(ctx, db.db.DB, db.dialect, db.clock.Now())
}

// CheckSchema fails when migrations are pending, so the server never runs on
// a schema that is behind.
func (db *DB) CheckSchema(ctx context.Context) error {
	p, err := migrations.Pending(ctx, db.db.DB, db.dialect)
	if err != nil {
		return err
	}
	if len(p) > 0 {
		return fmt.Errorf("store: the schema is behind by %d migration(s), first %s: run `fiscald migrate` or start with --migrate", len(p), p[0].Name)
	}
	return nil
}

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

// prepared returns the cached prepared statement of query on SQLite (nil on
// PostgreSQL, or when preparing fails: the caller then runs it directly).
func (db *DB) prepared(ctx context.Context, query string) *sqlx.Stmt {
	if db.dialect != "sqlite" {
		return nil
	}
	db.stmtMu.Lock()
	st, ok := db.stmts[query]
	full := len(db.stmts) > 512 // queries built at run time: do not grow without bound
	db.stmtMu.Unlock()
	if ok {
		return st
	}
	if full {
		return nil
	}
	// Prepared without the lock: preparing waits for a pool connection,
	// and no other statement look-up should wait behind that.
	st, err := db.db.PreparexContext(ctx, query)
	if err != nil {
		return nil
	}
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if prev, ok := db.stmts[query]; ok {
		st.Close() // another request prepared it meanwhile
		return prev
	}
	if db.stmts == nil {
		db.stmts = map[string]*sqlx.Stmt{}
	}
	db.stmts[query] = st
	return st
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

// Dialect is the engine of the transaction.
func (tx *Tx) Dialect() string { return tx.db.dialect }

// MunicipalityID is the actor's municipality, or an error for anonymous calls.
func (tx *Tx) MunicipalityID() (int64, error) {
	if tx.Actor == nil {
		return 0, fiscal.Errorf(fiscal.EUNAUTHORIZED, "authentication required")
	}
	return tx.Actor.MunicipalityID, nil
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

// cachedStmt returns query's prepared statement if it is cached (SQLite).
func (db *DB) cachedStmt(query string) *sqlx.Stmt {
	if db.dialect != "sqlite" {
		return nil
	}
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	return db.stmts[query]
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

// TableScans explains every statement cached so far (SQLite) and returns,
// for each that reads a table without an index, the query and the plan's
// step ("SCAN users"). Tests run it after exercising the service so that a
// query added without its index is found before a city-sized table makes it
// slow.
func (db *DB) TableScans(ctx context.Context) (map[string]string, error) {
	if db.dialect != "sqlite" {
		return nil, nil
	}
	db.stmtMu.Lock()
	queries := make([]string, 0, len(db.stmts))
	for q := range db.stmts {
		queries = append(queries, q)
	}
	db.stmtMu.Unlock()
	out := map[string]string{}
	for _, q := range queries {
		// An INSERT's plan lists the foreign-key look-ups SQLite compiles
		// for deferred constraints (not run here); an UPDATE or DELETE is
		// judged by how it finds its own rows.
		verb, rest, _ := strings.Cut(strings.TrimSpace(q), " ")
		target := ""
		switch strings.ToUpper(verb) {
		case "INSERT":
			continue
		case "UPDATE":
			target, _, _ = strings.Cut(strings.TrimSpace(rest), " ")
		case "DELETE":
			target, _, _ = strings.Cut(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), "FROM")), " ")
		}
		rows, err := db.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, make([]any, strings.Count(q, "?"))...)
		if err != nil {
			return nil, fmt.Errorf("store: explain %q: %w", q, err)
		}
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				rows.Close()
				return nil, err
			}
			f := strings.Fields(detail)
			if len(f) < 2 || f[0] != "SCAN" || strings.Contains(detail, " INDEX ") || strings.Contains(detail, "VALUES CLAUSE") {
				continue
			}
			if target == "" || f[1] == target {
				out[q] = detail
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
