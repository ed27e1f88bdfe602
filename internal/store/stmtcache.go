package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// SQLite's prepared statement cache (modernc.org/sqlite parses every
// statement again otherwise; pgx keeps its own): prepared prepares and keeps
// a query's statement, cachedStmt finds one without preparing (a read
// transaction must not prepare while it holds a connection), and TableScans
// explains every cached statement, so that tests find a query that reads a
// table without an index.

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

// cachedStmt returns query's prepared statement if it is cached (SQLite).
func (db *DB) cachedStmt(query string) *sqlx.Stmt {
	if db.dialect != "sqlite" {
		return nil
	}
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	return db.stmts[query]
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
