package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"fiscald/fiscal"
)

// The per-address rate limits shared by every instance on this database
// (fiscal.RateLimits; migration 0021). A window is one row counted by an
// upsert-increment, atomic on both engines (INSERT … ON CONFLICT DO UPDATE
// … RETURNING), so two instances counting the same key at once get 1 and 2,
// never 1 and 1. On PostgreSQL the count is one autocommit statement (one
// round trip, on no shared row: it belongs to no municipality); on SQLite it
// goes through the process's writer like every write. Rows older than
// rateRetention (windows) or their failure memory are deleted at most every
// ratePruneEvery per process, in the background.

const (
	rateRetention  = 2 * time.Hour
	ratePruneEvery = 10 * time.Minute
)

const countAttemptSQL = `INSERT INTO rate_counters (limit_key, window_start, n) VALUES (?, ?, 1)
ON CONFLICT (limit_key, window_start) DO UPDATE SET n = rate_counters.n + 1 RETURNING n`

// maxRateKey is the longest key stored as it is; a longer one (a username
// pasted whole into a form) is stored as its SHA-256, so that no key
// exceeds what an index entry may hold.
const maxRateKey = 200

func rateKey(key string) string {
	if len(key) <= maxRateKey {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// windowStart is the start (Unix seconds) of the fixed window of period
// holding now.
func windowStart(now time.Time, period time.Duration) int64 {
	p := int64(period / time.Second)
	if p < 1 {
		p = 1
	}
	s := now.Unix()
	return s - s%p
}

// CountAttempt implements fiscal.RateLimits.
func (db *DB) CountAttempt(ctx context.Context, key string, period time.Duration) (int, error) {
	key = rateKey(key)
	ctx = fiscal.WithIdempotencyClaim(ctx, nil) // never the request's claim
	now := db.clock.Now()
	db.pruneRates(ctx, now)
	w := windowStart(now, period)
	var n int
	if db.dialect == "postgres" {
		err := db.db.QueryRowContext(ctx, db.db.Rebind(countAttemptSQL), key, w).Scan(&n)
		return n, translate(err, "count an attempt")
	}
	err := db.InTx(ctx, func(tx *Tx) error {
		return tx.Get(ctx, &n, countAttemptSQL, key, w)
	})
	return n, err
}

// Attempts implements fiscal.RateLimits.
func (db *DB) Attempts(ctx context.Context, key string, period time.Duration) (int, error) {
	key = rateKey(key)
	var n int
	err := db.get(ctx, &n, `SELECT n FROM rate_counters WHERE limit_key = ? AND window_start = ?`, key, windowStart(db.clock.Now(), period))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, translate(err, "read attempts")
}

// FailureWait implements fiscal.RateLimits.
func (db *DB) FailureWait(ctx context.Context, key string) (time.Duration, bool, error) {
	key = rateKey(key)
	var until int64
	err := db.get(ctx, &until, `SELECT until_at FROM rate_failures WHERE limit_key = ?`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, translate(err, "read failures")
	}
	wait := time.UnixMilli(until).Sub(db.clock.Now())
	if wait < 0 {
		wait = 0
	}
	return wait, true, nil
}

// CountFailure implements fiscal.RateLimits.
func (db *DB) CountFailure(ctx context.Context, key string, b fiscal.Backoff) (int, time.Duration, error) {
	key = rateKey(key)
	ctx = fiscal.WithIdempotencyClaim(ctx, nil)
	now := db.clock.Now()
	nowMS := now.UnixMilli()
	db.pruneRates(ctx, now)
	forgotten := now.Add(-b.Memory).UnixMilli()
	var n int
	var wait time.Duration
	err := db.InTx(ctx, func(tx *Tx) error {
		if err := tx.Get(ctx, &n, `INSERT INTO rate_failures (limit_key, n, last_at, until_at) VALUES (?, 1, ?, 0)
ON CONFLICT (limit_key) DO UPDATE SET n = CASE WHEN rate_failures.last_at < ? THEN 1 ELSE rate_failures.n + 1 END, last_at = excluded.last_at
RETURNING n`, key, nowMS, forgotten); err != nil {
			return err
		}
		wait = b.Wait(n)
		if wait == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE rate_failures SET until_at = ? WHERE limit_key = ?`, now.Add(wait).UnixMilli(), key)
		return err
	})
	if err != nil {
		return 0, 0, translate(err, "count a failure")
	}
	return n, wait, nil
}

// ForgetFailures implements fiscal.RateLimits.
func (db *DB) ForgetFailures(ctx context.Context, key string) error {
	key = rateKey(key)
	ctx = fiscal.WithIdempotencyClaim(ctx, nil)
	err := db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM rate_failures WHERE limit_key = ?`, key)
		return err
	})
	return translate(err, "forget failures")
}

// rateFailureRetention is how long failures are kept after the last one
// (at least the longest failure memory of a caller: the sign-in's 24 h).
const rateFailureRetention = 24 * time.Hour

// pruneRates deletes old windows and failures, at most every
// ratePruneEvery per process (any instance may: deleting is idempotent);
// the one request that does it pays one more transaction.
func (db *DB) pruneRates(ctx context.Context, now time.Time) {
	last := db.ratePruned.Load()
	if now.Unix()-last < int64(ratePruneEvery/time.Second) || !db.ratePruned.CompareAndSwap(last, now.Unix()) {
		return
	}
	_ = db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM rate_counters WHERE window_start < ?`, now.Add(-rateRetention).Unix()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM rate_failures WHERE last_at < ?`, now.Add(-rateFailureRetention).UnixMilli())
		return err
	})
}
