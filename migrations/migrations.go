// Package migrations holds the SQL schema of fiscald for SQLite and
// PostgreSQL, embedded in the binary, and applies it. Each engine has its own
// folder with the same file names (NNNN_name.sql): the engines differ only in
// column types and identity columns, and each file says why where it does.
// The server refuses to start on a schema that is behind (see Pending).
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// Migration is one schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// List returns the migrations of a dialect ("sqlite" or "postgres") in order.
func List(dialect string) ([]Migration, error) {
	entries, err := fs.ReadDir(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migrations: bad file name %s", name)
		}
		body, err := files.ReadFile(path.Join(dialect, name))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations: version %d twice", out[i].Version)
		}
	}
	return out, nil
}

const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at TEXT NOT NULL)`

func applied(ctx context.Context, db *sql.DB) (map[int]string, error) {
	if _, err := db.ExecContext(ctx, createTable); err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT version, name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var v int
		var n string
		if err := rows.Scan(&v, &n); err != nil {
			return nil, err
		}
		out[v] = n
	}
	return out, rows.Err()
}

// Pending returns the migrations not yet applied. It fails when the database
// holds a version this binary does not know (a newer binary migrated it).
func Pending(ctx context.Context, db *sql.DB, dialect string) ([]Migration, error) {
	all, err := List(dialect)
	if err != nil {
		return nil, err
	}
	done, err := applied(ctx, db)
	if err != nil {
		return nil, err
	}
	known := map[int]bool{}
	var pending []Migration
	for _, m := range all {
		known[m.Version] = true
		if _, ok := done[m.Version]; !ok {
			pending = append(pending, m)
		}
	}
	for v, n := range done {
		if !known[v] {
			return nil, fmt.Errorf("migrations: the database has migration %d (%s) that this binary does not know; run a newer fiscald", v, n)
		}
	}
	return pending, nil
}

// Apply runs the pending migrations, each in its own transaction, and returns
// their names. On PostgreSQL an advisory lock keeps two processes from
// migrating at once.
func Apply(ctx context.Context, db *sql.DB, dialect string, now time.Time) ([]string, error) {
	if dialect == "postgres" {
		conn, err := db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(784512)`); err != nil {
			return nil, fmt.Errorf("migrations: lock: %w", err)
		}
		defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(784512)`)
	}
	pending, err := Pending(ctx, db, dialect)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range pending {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return names, err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return names, fmt.Errorf("migrations: %s: %w", m.Name, err)
		}
		q := `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`
		if dialect == "postgres" {
			q = `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`
		}
		if _, err := tx.ExecContext(ctx, q, m.Version, m.Name, now.UTC().Format(time.RFC3339)); err != nil {
			tx.Rollback()
			return names, fmt.Errorf("migrations: %s: %w", m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return names, fmt.Errorf("migrations: %s: %w", m.Name, err)
		}
		names = append(names, m.Name)
	}
	return names, nil
}
