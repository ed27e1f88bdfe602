package store

import (
	"context"
	"sync"
	"time"
)

// On PostgreSQL every write transaction of a municipality ends by taking
// the audit chain's head (flushAudit), and an intake also the case counter
// (nextCaseNumbers), holding them until commit: those transactions pass
// the rows one after another, across every instance. The holding is kept
// short in three ways:
//
//   - the rows are taken last: the entries are chained at commit by one
//     statement (audit_append, migration 0028) after every slow step of
//     the use case (signing, rendering); a card receipt's counter is taken
//     just before it (Tx.atCommit);
//   - few writers wait for them at once: the write pool is small
//     (pgWritePool, store.go), so the rest wait in Go, in order, without a
//     backend competing for the processors with the holder;
//   - asynchronous commit with a durability barrier: a transaction that
//     takes the head commits with synchronous_commit off, so its locks are
//     released when the commit record is written, not after the WAL flush;
//     then, before the use case answers, a one-statement transaction that
//     takes a transaction id commits synchronously, which flushes the WAL
//     up to its own commit record and so past ours (the WAL is flushed in
//     order; concurrent barriers share one flush). An answered request is
//     durable as before. A PostgreSQL crash between the commit and the
//     barrier loses that transaction and every later one (same WAL order):
//     numbers stay gapless and the chain whole; the client got an error and
//     retries (Idempotency-Key). What changes: for those milliseconds
//     another reader may see a row that such a crash then loses.
//
// (Until issue 21 a per-process, per-municipality turn queued the write
// transactions in Go before BEGIN. It bounded nothing across instances and
// had to give up after 250 ms in case of a nested transaction; under
// overload every waiter gave up and piled onto the row at once. Removed:
// BENCHMARKS.md, "What limited the cluster, and the change".)

// asyncCommitColumn is a select-list item that turns synchronous_commit off
// for the rest of the transaction (set_config's third argument: local to
// it) inside the statement that takes the shared rows, saving a round trip
// of its own. The caller sets tx.asyncCommit so that InTx runs the barrier.
const asyncCommitColumn = `set_config('synchronous_commit', 'off', true)`

// durabilityBarrier returns once the WAL is flushed past every transaction
// this process committed before the call (see above): a transaction that
// writes WAL (its backend's row of durability_marks, migration 0032) and
// commits synchronously. Taking a transaction id alone is not enough:
// PostgreSQL commits a transaction that wrote no WAL asynchronously.
// The requests waiting at once share one barrier (barrierGroup): a round
// started after a caller's commit covers it, so a caller joins the next
// round to start, and one transaction serves every caller that joined it.
// It runs on the read pool: it waits for no other transaction's row, only
// for the flush, and must not queue behind the writers for a connection;
// it is bounded by barrierTimeout.
func (db *DB) durabilityBarrier(ctx context.Context) error {
	return db.barrier.wait(ctx, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), barrierTimeout)
		defer cancel()
		_, err := db.rd.ExecContext(ctx, `INSERT INTO durability_marks (pid, n) VALUES (pg_backend_pid(), 1)
			ON CONFLICT (pid) DO UPDATE SET n = durability_marks.n + 1`)
		return translate(err, "commit")
	})
}

// barrierGroup runs one barrier at a time for the callers gathered
// meanwhile (a group commit of the durability waits).
type barrierGroup struct {
	mu      sync.Mutex
	pending *barrierRound // gathering callers, not started
	running bool
}

type barrierRound struct {
	done chan struct{}
	err  error
}

// wait joins the next round to start and returns its outcome.
func (g *barrierGroup) wait(ctx context.Context, run func() error) error {
	g.mu.Lock()
	if g.pending == nil {
		g.pending = &barrierRound{done: make(chan struct{})}
	}
	r := g.pending
	if !g.running {
		g.running, g.pending = true, nil
		g.mu.Unlock()
		g.lead(r, run)
	} else {
		g.mu.Unlock()
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return translate(ctx.Err(), "commit")
	}
}

// lead runs round r, then hands the next gathered round to a goroutine of
// its own (so that r's callers answer at once).
func (g *barrierGroup) lead(r *barrierRound, run func() error) {
	r.err = run()
	close(r.done)
	g.mu.Lock()
	next := g.pending
	g.pending = nil
	if next == nil {
		g.running = false
	}
	g.mu.Unlock()
	if next != nil {
		go g.lead(next, run)
	}
}

// barrierTimeout bounds the wait for the WAL flush; past it the request
// fails (503) although its transaction committed: the client retries with
// its Idempotency-Key and gets the kept reply.
const barrierTimeout = 10 * time.Second
