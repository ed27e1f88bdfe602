package store

import (
	"context"
	"fmt"
	"strings"
)

// What backups and restores ask of the database (cmd/fiscald backup,
// internal/backup): a consistent copy of a SQLite database (SnapshotInto,
// VACUUM INTO), the tables a restore target holds (Tables), an empty
// PostgreSQL schema dropped before a restore (DropEmptySchema).

// SnapshotInto writes a consistent copy of the SQLite database into path
// (VACUUM INTO: one read transaction, so writers go on meanwhile; the copy
// is compact and has no WAL). PostgreSQL is copied by pg_dump
// (internal/backup).
func (db *DB) SnapshotInto(ctx context.Context, path string) error {
	if db.dialect != "sqlite" {
		return fmt.Errorf("store: SnapshotInto is for SQLite; PostgreSQL is dumped with pg_dump")
	}
	_, err := db.db.ExecContext(ctx, `VACUUM INTO '`+strings.ReplaceAll(path, `'`, `''`)+`'`)
	if err != nil {
		return fmt.Errorf("store: snapshot into %s: %w", path, err)
	}
	return nil
}

// Tables is the number of tables in the database (SQLite) or in the
// schema of the connection's search_path (PostgreSQL): 0 for an empty
// database that a restore may fill.
func (db *DB) Tables(ctx context.Context) (int, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.dialect == "postgres" {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	var n int
	if err := db.db.GetContext(ctx, &n, q); err != nil {
		return 0, fmt.Errorf("store: count tables: %w", err)
	}
	return n, nil
}

// DropEmptySchema drops the PostgreSQL schema name if it exists and holds
// nothing (RESTRICT), so that a restore of a dump of that schema can create
// it.
func (db *DB) DropEmptySchema(ctx context.Context, name string) error {
	if db.dialect != "postgres" {
		return nil
	}
	var quoted string
	if err := db.db.GetContext(ctx, &quoted, `SELECT quote_ident($1)`, name); err != nil {
		return err
	}
	if _, err := db.db.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+quoted+` RESTRICT`); err != nil {
		return fmt.Errorf("store: the schema %s is not empty: %w", name, err)
	}
	return nil
}
