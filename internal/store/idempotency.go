package store

import (
	"context"
	"time"

	"fiscald/fiscal"
)

// Idempotency keys. A request sent with an Idempotency-Key carries a
// fiscal.IdempotencyClaim. Its use case's first write transaction inserts
// the claim as its first statement (InTx), so the key is claimed exactly
// when the effect commits; the transaction that completes the use case
// writes the reply (keepReply) before it commits. A retry then reads the
// reply, byte for byte, on any instance and after any crash. A claim is
// never deleted. A key claimed without a reply is an operation with a
// provider whose outcome is unknown (a card payment or refund whose call to
// Stripe timed out): the routes that can resume it do so under the same
// provider idempotency key; the others answer 409.

type idemRecord struct {
	ID          int64     `db:"id"`
	RequestHash string    `db:"request_hash"`
	Route       string    `db:"route"`
	Status      int       `db:"status"`
	ContentType string    `db:"content_type"`
	Response    []byte    `db:"response"`
	CreatedAt   time.Time `db:"created_at"`
}

// LookupIdempotencyKey reads key's record without taking the writer: the
// stored response to replay, the claim's id when it has no response yet,
// nil and 0 for a new key; ECONFLICT for another request under the key.
func (db *DB) LookupIdempotencyKey(ctx context.Context, municipalityID, userID int64, key, route, requestHash string) (*fiscal.StoredResponse, int64, error) {
	var rec idemRecord
	err := db.reads().GetContext(ctx, &rec, db.db.Rebind(`SELECT id, request_hash, route, status, content_type, response, created_at FROM idempotency_keys
		WHERE municipality_id = ? AND user_id = ? AND idem_key = ?`), municipalityID, userID, key)
	if err != nil {
		if err = translate(err, "idempotency key"); fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
			return nil, 0, nil
		}
		return nil, 0, err
	}
	switch {
	case rec.RequestHash != requestHash || rec.Route != route:
		return nil, 0, fiscal.Errorf(fiscal.ECONFLICT, "this Idempotency-Key was used with a different request")
	case rec.Status != 0:
		return &fiscal.StoredResponse{Status: rec.Status, ContentType: rec.ContentType, Body: rec.Response}, 0, nil
	}
	return nil, rec.ID, nil
}

// claimIdempotencyKey inserts the claim carried by ctx, if any and not yet
// taken, as the first statement of a write transaction. Two requests with
// the same key: the second meets the first's row (unique key) and its
// whole transaction is undone with ECONFLICT.
func claimIdempotencyKey(ctx context.Context, tx *Tx) (*fiscal.IdempotencyClaim, int64, error) {
	c := unclaimed(ctx)
	if c == nil {
		return nil, 0, nil
	}
	id, err := tx.Insert(ctx, claimInsert, c.MunicipalityID, c.UserID, c.Key, c.Route, c.RequestHash, tx.Now)
	if isUniqueViolation(err) {
		return nil, 0, fiscal.ErrIdempotencyInFlight
	}
	if err != nil {
		return nil, 0, translate(err, "idempotency key")
	}
	return c, id, nil
}

// claimInsert inserts a claim (arguments: municipality, user, key, route,
// request hash, time); insertCase adds ON CONFLICT DO NOTHING to it.
const claimInsert = `INSERT INTO idempotency_keys (municipality_id, user_id, idem_key, route, request_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`

// unclaimed is the claim ctx carries if no earlier transaction of the
// request inserted it yet, else nil.
func unclaimed(ctx context.Context) *fiscal.IdempotencyClaim {
	if c := fiscal.IdempotencyClaimFrom(ctx); c != nil && c.ID == 0 {
		return c
	}
	return nil
}

// claimID is the id of the request's claim as this transaction sees it:
// inserted by this transaction or by an earlier one of the use case; 0
// without an Idempotency-Key.
func (tx *Tx) claimID(ctx context.Context) int64 {
	if tx.claimRow != 0 {
		return tx.claimRow
	}
	if c := fiscal.IdempotencyClaimFrom(ctx); c != nil {
		return c.ID
	}
	return 0
}

// replyStmt renders result as the request's reply and returns the
// statement that keeps it with the claim, for the use case to run in the
// transaction that completes it (alone, or in one batch with its other
// writes); nil when the request has no claim or its caller keeps no reply.
func (tx *Tx) replyStmt(ctx context.Context, result any) (*stmt, error) {
	c := fiscal.IdempotencyClaimFrom(ctx)
	id := tx.claimID(ctx)
	if c == nil || c.Reply == nil || id == 0 {
		return nil, nil
	}
	r, err := c.Reply(result)
	if err != nil {
		return nil, fiscal.Internal(err, "encode the reply")
	}
	tx.kept = r
	return &stmt{`UPDATE idempotency_keys SET status = ?, content_type = ?, response = ? WHERE id = ? AND status = 0`,
		[]any{r.Status, r.ContentType, r.Body, id}}, nil
}

// keepReply keeps result as the request's reply in tx (see replyStmt).
func (tx *Tx) keepReply(ctx context.Context, result any) error {
	s, err := tx.replyStmt(ctx, result)
	if s == nil || err != nil {
		return err
	}
	return tx.execAll(ctx, "idempotency key", *s)
}

// FinishIdempotencyKey stores the response of a committed claim whose use
// case kept none: an error answered after an earlier transaction of the
// request committed the claim (a refund the provider refused). A kept
// response is never replaced.
func (db *DB) FinishIdempotencyKey(ctx context.Context, id int64, status int, contentType string, body []byte) error {
	return db.InTx(fiscal.WithIdempotencyClaim(ctx, nil), func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE idempotency_keys SET status = ?, content_type = ?, response = ? WHERE id = ? AND status = 0`,
			status, contentType, body, id)
		return translate(err, "idempotency key")
	})
}
