package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"fiscald/fiscal"
)

// Speculative numbering (PostgreSQL intake). After the per-municipality
// queue (serial.go) the intake's locked part was still three round trips:
// take the case counter and the audit chain's head, compute what needs
// them (number, signed step, audit hash), write it, commit. The rows'
// next values are known in advance, though: this process wrote them last.
// So an intake that holds the municipality's numbering turn (one at a time
// in this process) computes with the values it remembers and writes them in
// one statement whose counter and head updates only apply where the rows
// still hold the remembered values; the locked part is that statement and
// the commit. The turn ends when the statement has run: the rows are then
// locked by this transaction, the next intake speculates on what it wrote,
// and its statement waits inside PostgreSQL for this commit. When the rows
// do not hold the remembered values (another process or instance wrote
// them, or the transaction speculated on rolled back), the transaction is
// rolled back and the intake runs again the ordinary way, which takes the
// rows with their locks and remembers their new values; with nothing
// remembered (the first intake of the process or of the year) it takes the
// ordinary way at once. Correctness rests on the rows, as before: the
// remembered values are only a guess the statement checks.

// errStale is a speculation that did not hold; the use case runs again
// without speculating.
var errStale = errors.New("store: the remembered case counter or audit head was stale")

// chainTip is what this process last wrote to a municipality's audit chain
// head and case counter: by an intake, as soon as its statement has run; by
// other use cases' audit entries, once they commit.
type chainTip struct {
	headSeq  int64
	headHash string
	year     int
	caseN    int64 // last number of year; 0: not known
}

type chainTips struct {
	mu sync.Mutex
	m  map[int64]chainTip
	// speculated and stale count the speculations and those that did not
	// hold (WriteStats, /metrics).
	speculated, stale atomic.Int64
}

func (t *chainTips) get(municipalityID int64) (chainTip, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tip, ok := t.m[municipalityID]
	return tip, ok
}

// setHead remembers a head written, unless a later one is known
// (transactions of other use cases commit in any order).
func (t *chainTips) setHead(municipalityID, seq int64, hash string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[int64]chainTip{}
	}
	tip := t.m[municipalityID]
	if seq > tip.headSeq {
		tip.headSeq, tip.headHash = seq, hash
		t.m[municipalityID] = tip
	}
}

// setCase remembers a case number written, unless a later one is known.
func (t *chainTips) setCase(municipalityID int64, year int, n int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[int64]chainTip{}
	}
	tip := t.m[municipalityID]
	if year != tip.year || n > tip.caseN {
		tip.year, tip.caseN = year, n
		t.m[municipalityID] = tip
	}
}

func (t *chainTips) forget(municipalityID int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, municipalityID)
}

// speculate returns the next case number and audit slot from what this
// process remembers (ok false: nothing to go on). The caller holds the
// municipality's numbering turn.
func (tx *Tx) speculate(municipalityID int64, year int) (int64, *auditSlot, bool) {
	tip, ok := tx.db.tips.get(municipalityID)
	if !ok || tip.year != year || tip.caseN == 0 || tip.headSeq == 0 {
		return 0, nil, false
	}
	tx.db.tips.speculated.Add(1)
	return tip.caseN + 1, &auditSlot{MunicipalityID: municipalityID, Seq: tip.headSeq + 1, Hash: tip.headHash}, true
}

// execSpeculated runs writes (which include the audit entry's insert but
// not head.append's unconditional move of the head) together with the
// checked updates of the case counter (to n) and the head (to newHash), in
// one statement that also turns synchronous commit off. errStale when the rows
// did not hold the values speculated on: the caller rolls back.
func (tx *Tx) execSpeculated(ctx context.Context, municipalityID int64, year int, n int64, head *auditSlot, newHash string, writes []stmt) error {
	q, args := withClauses(writes)
	// The checks are in SET, not WHERE: under READ COMMITTED a row locked
	// by the previous intake is waited for and SET is computed from its
	// committed version, while WHERE is first tested on the version the
	// statement's snapshot saw (the one before the previous intake, which
	// would fail the check). A check that fails leaves the row as it was.
	// (A counter already at n passes its own check; the case's number is
	// then taken, and the insert's unique key refuses it: stale too.)
	q += `, wc AS (UPDATE case_counters SET last_number = CASE WHEN last_number = ? THEN ? ELSE last_number END
			WHERE municipality_id = ? AND year = ? RETURNING last_number),
		wh AS (UPDATE audit_heads SET seq = CASE WHEN seq = ? AND hash = ? THEN ? ELSE seq END,
			hash = CASE WHEN seq = ? AND hash = ? THEN ? ELSE hash END
			WHERE municipality_id = ? AND (SELECT count(*) FROM wc) = 1 RETURNING seq, hash)
		SELECT (SELECT count(*) FROM wc WHERE last_number = ?) + (SELECT count(*) FROM wh WHERE seq = ? AND hash = ?), ` + asyncCommitColumn
	args = append(args, n-1, n, municipalityID, year,
		head.Seq-1, head.Hash, head.Seq, head.Seq-1, head.Hash, newHash, municipalityID,
		n, head.Seq, newHash)
	var got int
	if err := tx.QueryRowxContext(ctx, tx.Rebind(q), args...).Scan(&got, new(string)); err != nil {
		if isUniqueViolation(err) || isDeadlock(err) {
			return errStale // the audit entry's seq was taken; a writer elsewhere locked the rows the other way
		}
		return translate(err, "case")
	}
	if got != 2 {
		return errStale
	}
	tx.asyncCommit = true
	return nil
}

// chain appends e to the chain at head (head.append) and remembers the new
// head for after the commit (InTx).
func (tx *Tx) chain(head *auditSlot, e *fiscal.AuditEntry) []stmt {
	st := head.append(e)
	tx.headAfter = &auditSlot{MunicipalityID: head.MunicipalityID, Seq: head.Seq, Hash: e.Hash}
	return st
}

// committed tells this process's memory the audit head tx wrote (the
// intake has told it already, before its commit).
func (db *DB) committed(tx *Tx) {
	if h := tx.headAfter; h != nil {
		db.tips.setHead(h.MunicipalityID, h.Seq, h.Hash)
	}
}

// aborted forgets what a transaction that did not commit let others
// speculate on.
func (db *DB) aborted(tx *Tx) {
	if tx.speculated != 0 {
		db.tips.forget(tx.speculated)
	}
}
