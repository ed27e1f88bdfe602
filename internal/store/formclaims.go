package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"fiscald/fiscal"
	"fiscald/internal/auth"
)

// Anonymous forms sent twice (fiscal.AnonymousFormClaim, migration 0035).
// The portal's registration and enrollment forms carry a one-time id like
// every form that changes stored data, but nobody is signed in to hold it
// as an Idempotency-Key. Their claims are rows of anonymous_form_claims,
// not of idempotency_keys: those belong to a user (user_id NOT NULL, in the
// unique key, referenced by payments and refunds) and are never deleted,
// while an anonymous claim has no user, keeps no answer (its answer is
// fixed: the account exists) and is kept a day only. Making user_id
// nullable would have meant rebuilding that table on SQLite and a second,
// partial unique index for the rows without a user.
//
// The use case that opens the account (Register, Enroll) claims the id with
// the first statement of the transaction that creates the account, so the
// claim commits exactly with the account: a claimed id means the account
// exists, and there is no claim "still running" for another transaction to
// see. A second sending meanwhile waits on the first one's row of the unique
// key (PostgreSQL; on SQLite, on the one writer), at most the claim's Wait,
// and then finds the id claimed (or, if the first was undone, claims it
// itself). Enroll's attempt counter is a transaction of its own before
// that, and does not take the claim.

// formClaimRetention is how long an anonymous form's claim is kept: a form
// is sent again within seconds (a double click, HAProxy's resend) or
// minutes (the back button, a restored tab); after a day the same form
// runs again, and the username it chose is taken. formClaimPruneEvery: how
// often one process deletes the older ones.
const (
	formClaimRetention  = 24 * time.Hour
	formClaimPruneEvery = time.Hour
)

// claimAnonymousForm inserts the anonymous form claim carried by ctx, if
// any, as the first statement of the transaction that creates an account:
// fiscal.ErrFormSentBefore when another sending of the same form committed
// its claim, or still holds it uncommitted after the claim's Wait.
func (tx *Tx) claimAnonymousForm(ctx context.Context, municipalityID int64) error {
	c := fiscal.AnonymousFormClaimFrom(ctx)
	if c == nil {
		return nil
	}
	bounded := tx.db.dialect == "postgres" && c.Wait > 0
	if bounded {
		// Only the claim's insert waits at most Wait for another
		// sending's open transaction; the account's own statements wait
		// as they always do.
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = `+strconv.FormatInt(max(c.Wait.Milliseconds(), 1), 10)); err != nil {
			return translate(err, "form claim")
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO anonymous_form_claims (municipality_id, form, key_hash, created_at) VALUES (?, ?, ?, ?)`,
		municipalityID, c.Form, auth.HashToken(c.Key), tx.Now)
	if isUniqueViolation(err) || isLockTimeout(err) {
		return fiscal.ErrFormSentBefore
	}
	if err != nil {
		return translate(err, "form claim")
	}
	if bounded {
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout TO DEFAULT`); err != nil {
			return translate(err, "form claim")
		}
	}
	tx.afterCommit(tx.db.pruneFormClaims)
	return nil
}

// isLockTimeout: SQLSTATE 55P03, a statement waited longer than
// lock_timeout.
func isLockTimeout(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "55P03"
}

// AnonymousFormClaimed says whether a sending of the anonymous form
// committed its claim, and so its account (fiscal.IdempotencyStore).
func (db *DB) AnonymousFormClaimed(ctx context.Context, municipalityID int64, form, key string) (bool, error) {
	var n int
	if err := db.get(ctx, &n, `SELECT COUNT(*) FROM anonymous_form_claims WHERE municipality_id = ? AND form = ? AND key_hash = ?`,
		municipalityID, form, auth.HashToken(key)); err != nil {
		return false, translate(err, "form claim")
	}
	return n > 0, nil
}

// pruneFormClaims deletes the claims older than formClaimRetention, at
// most every formClaimPruneEvery per process (any instance may: deleting
// is idempotent), after the commit of an account that claimed one.
func (db *DB) pruneFormClaims(ctx context.Context) {
	now := db.clock.Now()
	last := db.formClaimsPruned.Load()
	if now.Unix()-last < int64(formClaimPruneEvery/time.Second) || !db.formClaimsPruned.CompareAndSwap(last, now.Unix()) {
		return
	}
	ctx = fiscal.WithAnonymousFormClaim(fiscal.WithIdempotencyClaim(ctx, nil), nil)
	_ = db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM anonymous_form_claims WHERE created_at < ?`, tx.Now.Add(-formClaimRetention))
		return err
	})
}
