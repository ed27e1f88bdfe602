package store

import (
	"context"

	"fiscald/fiscal"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// On SQLite the process's write transactions run one at a time (writeMu) on
// one connection whose busy timeout is zero, and wait for a write lock held
// by another process (`fiscald assess` beside the server) by retrying BEGIN
// IMMEDIATE every sqliteWritePoll. SQLite's own busy handler sleeps 1, 2,
// 5 … then 100 ms between tries: a server writer waiting behind the annual
// run's batches would then find the lock taken again after each batch, and
// every writer of the server queued behind it (measured: intake and payments
// timing out after 20 s under `make loadtest`). Polling finely takes the lock
// in the gap between two batches.
const (
	sqliteWritePoll = 500 * time.Microsecond
	// sqliteWriteWait is how long a writer waits for another process's
	// lock before failing (the busy timeout of the other connections).
	sqliteWriteWait = 10 * time.Second
)

// beginSQLiteWrite begins an immediate transaction on the writer
// connection; the caller holds writeMu.
func (db *DB) beginSQLiteWrite(ctx context.Context) (*sqlx.Tx, error) {
	start := time.Now()
	for {
		if db.wconn == nil {
			c, err := db.db.Connx(ctx)
			if err != nil {
				return nil, err
			}
			if _, err := c.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
				c.Close()
				return nil, err
			}
			db.wconn = c
		}
		x, err := db.wconn.BeginTxx(ctx, nil)
		if err == nil {
			if d := time.Since(start); d > sqliteWritePoll/2 {
				db.writes.lockedNS.Add(int64(d)) // waited for another process
			}
			return x, nil
		}
		if !isSQLiteBusy(err) {
			db.releaseWriter() // a broken connection, or ctx ended: start afresh next time
			return nil, err
		}
		if time.Since(start) > sqliteWriteWait {
			return nil, err
		}
		t := time.NewTimer(sqliteWritePoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// releaseWriter gives the writer connection back to the pool with the
// busy timeout the other connections have; the caller holds writeMu.
func (db *DB) releaseWriter() {
	if db.wconn == nil {
		return
	}
	_, _ = db.wconn.ExecContext(context.Background(), "PRAGMA busy_timeout = 10000")
	_ = db.wconn.Close()
	db.wconn = nil
}

// writeStats counts this process's SQLite write transactions: how many,
// how long they waited for the writer, how long they held it.
type writeStats struct {
	count, waitedNS, heldNS atomic.Int64
	// lockedNS is the part of heldNS spent waiting for another process's
	// write lock (`fiscald assess` beside the server).
	lockedNS atomic.Int64
}

func (w *writeStats) add(waited, held time.Duration) {
	w.count.Add(1)
	w.waitedNS.Add(int64(waited))
	w.heldNS.Add(int64(held))
}

// WriteStats reports the process's SQLite write transactions so far: their
// number, the time they waited for the process's writer, the time they held
// it, and the part of that spent waiting for another process's write lock
// (zero on PostgreSQL), and the transactions of either engine run once
// more after the database undid them (InTx). Held time over wall time is the writer's
// utilisation: near 1, writes queue.
func (db *DB) WriteStats() fiscal.WriteStats {
	pool := db.db.Stats()
	if db.rd != db.db { // both pools (store.go)
		r := db.rd.Stats()
		pool.OpenConnections += r.OpenConnections
		pool.InUse += r.InUse
		pool.WaitCount += r.WaitCount
		pool.WaitDuration += r.WaitDuration
	}
	return fiscal.WriteStats{Count: db.writes.count.Load(), Waited: time.Duration(db.writes.waitedNS.Load()),
		Held: time.Duration(db.writes.heldNS.Load()), OtherProcess: time.Duration(db.writes.lockedNS.Load()),
		Retried: db.retried.Load(), PoolOpen: pool.OpenConnections, PoolInUse: pool.InUse, PoolWaits: pool.WaitCount, PoolWaited: pool.WaitDuration}
}
