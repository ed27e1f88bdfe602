package store

import (
	"context"
	"sync"
	"time"
)

// On PostgreSQL, every intake of a municipality takes two shared rows (the
// case counter and the audit chain's head) and holds them until commit, so
// those transactions run one after another whatever the pool size. With
// many in flight, the holder competes for the 2 cores with the backends
// queued behind it and the queue grows (measured: 16 concurrent intakes,
// 550-620/s, p99 110-160 ms). Two things shorten the hold:
//
//   - a turn (serialQueues.turn, taken by InTx): this process's write
//     transactions of a municipality take a turn before they begin, at
//     most serialDepth at once (as
//     SQLite's writers queue on writeMu), so the rest wait in Go without a
//     backend running for them. Two at once, not one: the second waits on
//     the row lock inside PostgreSQL and goes on the moment the first
//     commits (one: 704-755/s, two: 795-848/s in BenchmarkCaseIntake). The
//     turn is taken before BEGIN, holding no lock, so it cannot close a
//     cycle with a row lock; the wait is still bounded (serialWait, then
//     the transaction goes on without a turn) in case a transaction is
//     begun while another is open in the same goroutine. Correctness never
//     depends on it: the row locks serialise other processes and instances.
//   - asynchronous commit with a durability barrier (the intake): the
//     transaction commits with synchronous_commit off, so its locks are
//     released when the commit record is written, not after the WAL flush;
//     then, before the use case answers, a one-statement transaction that
//     takes a transaction id commits synchronously, which flushes the WAL
//     up to its own commit record and so past ours (the WAL is flushed in
//     order; concurrent barriers share one flush). An answered request is
//     durable as before. A PostgreSQL crash between the commit and the
//     barrier loses that transaction and every later one (same WAL order):
//     numbers stay gapless; the client got an error and retries
//     (Idempotency-Key). What changes: for those milliseconds another reader
//     may see a row that such a crash then loses.

const (
	serialDepth = 2
	// serialWait bounds the wait for a turn (see above).
	serialWait = 250 * time.Millisecond
)

type serialQueues struct {
	depth int // turns at once; 0: serialDepth
	mu    sync.Mutex
	q     map[int64]chan struct{}
}

// turn waits (bounded by serialWait and ctx) for a turn of the
// municipality's queue and returns the function that ends it.
func (s *serialQueues) turn(ctx context.Context, municipalityID int64) func() {
	s.mu.Lock()
	if s.q == nil {
		s.q = map[int64]chan struct{}{}
	}
	c, ok := s.q[municipalityID]
	if !ok {
		d := s.depth
		if d == 0 {
			d = serialDepth
		}
		c = make(chan struct{}, d)
		s.q[municipalityID] = c
	}
	s.mu.Unlock()
	t := time.NewTimer(serialWait)
	defer t.Stop()
	select {
	case c <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-c }) }
	case <-t.C:
	case <-ctx.Done():
	}
	return func() {}
}

// asyncCommitColumn is a select-list item that turns synchronous_commit off
// for the rest of the transaction (set_config's third argument: local to
// it) inside the statement that takes the shared rows, saving a round trip
// of its own. The caller sets tx.asyncCommit so that InTx runs the barrier.
const asyncCommitColumn = `set_config('synchronous_commit', 'off', true)`

// durabilityBarrier returns once the WAL is flushed past every transaction
// this process committed before the call (see above): a transaction that
// takes a transaction id commits synchronously. Concurrent barriers share
// PostgreSQL's flushes. (Grouping them in Go, one statement for all callers
// waiting at once, measured no faster in BenchmarkCaseIntake.)
func (db *DB) durabilityBarrier(ctx context.Context) error {
	_, err := db.db.ExecContext(ctx, `SELECT txid_current()`)
	return translate(err, "commit")
}
