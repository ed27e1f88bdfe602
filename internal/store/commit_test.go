package store_test

import (
	"context"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// The durability barrier flushes the WAL past an asynchronous commit made
// just before it (PostgreSQL; SQLite commits durably and has none). A
// barrier that writes no WAL (SELECT txid_current()) commits
// asynchronously itself and fails this.
func TestDurabilityBarrierFlushes(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		if db.Dialect() != "postgres" {
			return
		}
		ctx := context.Background()
		conn, err := db.SQL().Connx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for i := range 20 {
			tx, err := conn.BeginTxx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(`SELECT set_config('synchronous_commit', 'off', true)`); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(`INSERT INTO durability_marks (pid, n) VALUES ($1, 1) ON CONFLICT (pid) DO UPDATE SET n = durability_marks.n + 1`, -1-i); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			var lsn string // at or past the end of that commit record
			if err := conn.GetContext(ctx, &lsn, `SELECT CAST(pg_current_wal_insert_lsn() AS TEXT)`); err != nil {
				t.Fatal(err)
			}
			if err := db.DurabilityBarrier(ctx); err != nil {
				t.Fatal(err)
			}
			var flushed bool
			if err := conn.GetContext(ctx, &flushed, `SELECT pg_current_wal_flush_lsn() >= CAST($1 AS pg_lsn)`, lsn); err != nil {
				t.Fatal(err)
			}
			if !flushed {
				t.Fatalf("round %d: the WAL is not flushed past an asynchronous commit after the barrier", i)
			}
		}
	})
}
