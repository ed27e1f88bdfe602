package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"fiscald/fiscal"
)

// The outbox (fiscal.Outbox): the notifications a use case queued in its own
// transaction, sent after commit by notify.Dispatcher. Several instances of
// the service may drain it at once; each message is claimed in the database
// before it is sent:
//
//   - a claim is one short transaction that sets claimed_until (now + lease)
//     and claimed_by on the due messages it takes and counts an attempt; on
//     PostgreSQL the rows are taken FOR UPDATE SKIP LOCKED, so concurrent
//     claimers take disjoint rows without waiting for each other; on SQLite
//     the single writer serialises the claims;
//   - a message is marked sent after the mail server accepted it (its
//     claimed_by then names the sender that sent it);
//   - a failed send releases the message with claimed_until at the end of its
//     backoff, when it is due again;
//   - a sender that died holding a lease leaves its messages to the others
//     when claimed_until has passed. A death between the server's acceptance
//     and the mark sends that message twice (at least once, never lost).
//
// The instants are the service's clock: instances must agree on the time to
// well within a lease. OutboxPending counts the backlog for /metrics.

// ClaimNotifications claims for owner, until now+lease, up to limit due
// messages (see fiscal.Outbox), in id order.
func (db *DB) ClaimNotifications(ctx context.Context, owner string, limit, maxAttempts int, lease time.Duration) ([]*fiscal.Notification, error) {
	lock := ""
	if db.dialect == "postgres" {
		// Rows another claimer holds in its (uncommitted) claim are skipped,
		// not waited for; a row it claimed and committed since this
		// statement's snapshot is re-checked against the WHERE clause once
		// locked, and fails it (its claimed_until is in the future).
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var out []*fiscal.Notification
	err := db.InTx(ctx, func(tx *Tx) error {
		return tx.Select(ctx, &out, `UPDATE notifications SET claimed_until = ?, claimed_by = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM notifications WHERE sent_at IS NULL AND recipient <> '' AND attempts < ?
				AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY id LIMIT ?`+lock+`)
			RETURNING id, recipient, subject, body, attempts`,
			tx.Now.Add(lease), owner, maxAttempts, tx.Now, limit)
	})
	if err != nil {
		return nil, translate(err, "notifications")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// NotificationSent marks a message sent by owner and ends its claim; the
// row keeps claimed_by, the sender that sent it.
func (db *DB) NotificationSent(ctx context.Context, id int64, owner string) error {
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE notifications SET sent_at = ?, claimed_until = NULL, claimed_by = ? WHERE id = ? AND sent_at IS NULL`, tx.Now, owner, id)
		return translate(err, "notification")
	})
}

// NotificationFailed records a failed send and releases the message owner
// holds until now+retryAfter. A message whose lease ran out and which
// another sender claimed since is left to that sender.
func (db *DB) NotificationFailed(ctx context.Context, id int64, owner string, sendErr error, retryAfter time.Duration) error {
	msg := "unknown error"
	if sendErr != nil {
		msg = sendErr.Error()
	}
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE notifications SET last_error = ?, claimed_until = ?, claimed_by = '' WHERE id = ? AND claimed_by = ? AND sent_at IS NULL`,
			msg, tx.Now.Add(retryAfter), id, owner)
		return translate(err, "notification")
	})
}

// OutboxPending is the number of notifications not sent yet, of every
// municipality (the outbox's backlog, for /metrics; the partial index
// notifications_pending answers it).
func (db *DB) OutboxPending(ctx context.Context) (int64, error) {
	var n int64
	if err := db.get(ctx, &n, `SELECT COUNT(*) FROM notifications WHERE sent_at IS NULL`); err != nil {
		return 0, fmt.Errorf("store: outbox backlog: %w", err)
	}
	return n, nil
}
