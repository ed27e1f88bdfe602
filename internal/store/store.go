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

// This file opens and closes the database: DB with its pools and caches,
// Open (SQLite or PostgreSQL, with its options), Close, Ping, Migrate and
// CheckSchema. A use case's transaction is in tx.go, the reads outside one
// in reads.go, SQLite's statement cache in stmtcache.go.

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
	slugs sync.Map // municipality id → slug (municipalities.go)
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
