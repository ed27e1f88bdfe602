package store

import (
	"context"
	"time"

	"fiscald/fiscal"
)

type idemRecord struct {
	ID          int64     `db:"id"`
	RequestHash string    `db:"request_hash"`
	Route       string    `db:"route"`
	Status      int       `db:"status"`
	ContentType string    `db:"content_type"`
	Response    []byte    `db:"response"`
	CreatedAt   time.Time `db:"created_at"`
}

// idemStale is how long an unfinished claim blocks retries (a crash between
// claim and finish must not block the key forever).
const idemStale = time.Minute

// ClaimIdempotencyKey claims key for the user. It returns (nil, id, nil) when
// the caller should run the request and then FinishIdempotencyKey(id); a
// finished record to replay when the same request was already answered; and
// ECONFLICT when the key was used with another request or is in flight.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, municipalityID, userID int64, key, route, requestHash string) (*fiscal.StoredResponse, int64, error) {
	var replay *fiscal.StoredResponse
	var claimID int64
	err := db.InTx(ctx, func(tx *Tx) error {
		var rec idemRecord
		err := tx.Get(ctx, &rec, `SELECT id, request_hash, route, status, content_type, response, created_at FROM idempotency_keys
			WHERE municipality_id = ? AND user_id = ? AND idem_key = ?`, municipalityID, userID, key)
		if err == nil {
			switch {
			case rec.RequestHash != requestHash || rec.Route != route:
				return fiscal.Errorf(fiscal.ECONFLICT, "this Idempotency-Key was used with a different request")
			case rec.Status != 0:
				replay = &fiscal.StoredResponse{Status: rec.Status, ContentType: rec.ContentType, Body: rec.Response}
				return nil
			case tx.Now.Sub(rec.CreatedAt) < idemStale:
				return fiscal.Errorf(fiscal.ECONFLICT, "a request with this Idempotency-Key is still in progress")
			}
			claimID = rec.ID
			_, err := tx.Exec(ctx, `UPDATE idempotency_keys SET created_at = ? WHERE id = ?`, tx.Now, rec.ID)
			return translate(err, "idempotency key")
		}
		if fiscal.ErrorCode(translate(err, "")) != fiscal.ENOTFOUND {
			return translate(err, "idempotency key")
		}
		claimID, err = tx.Insert(ctx, `INSERT INTO idempotency_keys (municipality_id, user_id, idem_key, route, request_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			municipalityID, userID, key, route, requestHash, tx.Now)
		if isUniqueViolation(err) {
			return fiscal.Errorf(fiscal.ECONFLICT, "a request with this Idempotency-Key is still in progress")
		}
		return translate(err, "idempotency key")
	})
	return replay, claimID, err
}

// FinishIdempotencyKey stores the response of a claimed key.
func (db *DB) FinishIdempotencyKey(ctx context.Context, id int64, status int, contentType string, body []byte) error {
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE idempotency_keys SET status = ?, content_type = ?, response = ? WHERE id = ?`, status, contentType, body, id)
		return translate(err, "idempotency key")
	})
}

// ReleaseIdempotencyKey forgets a claim whose request failed without effect
// (a server error), so that a retry runs again.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, id int64) error {
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE id = ? AND status = 0`, id)
		return translate(err, "idempotency key")
	})
}
