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

// LookupIdempotencyKey reads key's record without taking the writer: a
// stored response to replay, nil for a new key (the request's first write
// transaction claims it, see claimIdempotencyKey), ECONFLICT otherwise.
func (db *DB) LookupIdempotencyKey(ctx context.Context, municipalityID, userID int64, key, route, requestHash string) (*fiscal.StoredResponse, error) {
	var rec idemRecord
	err := db.reads().GetContext(ctx, &rec, db.db.Rebind(`SELECT id, request_hash, route, status, content_type, response, created_at FROM idempotency_keys
		WHERE municipality_id = ? AND user_id = ? AND idem_key = ?`), municipalityID, userID, key)
	if err != nil {
		if err = translate(err, "idempotency key"); fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
			return nil, nil
		}
		return nil, err
	}
	switch {
	case rec.RequestHash != requestHash || rec.Route != route:
		return nil, fiscal.Errorf(fiscal.ECONFLICT, "this Idempotency-Key was used with a different request")
	case rec.Status == 0:
		// The claim committed with the effect: the request is being
		// answered, or the process stopped before keeping its answer.
		return nil, errIdemInFlight
	}
	return &fiscal.StoredResponse{Status: rec.Status, ContentType: rec.ContentType, Body: rec.Response}, nil
}

var errIdemInFlight = fiscal.Errorf(fiscal.ECONFLICT, "a request with this Idempotency-Key is in progress or was already carried out: look up the result instead of sending it again")

// claimIdempotencyKey inserts the claim carried by ctx, if any and not yet
// taken, as the first statement of a write transaction. Two requests with
// the same key: the second meets the first's row (unique key) and its
// whole transaction is undone with ECONFLICT.
func claimIdempotencyKey(ctx context.Context, tx *Tx) (*fiscal.IdempotencyClaim, int64, error) {
	c := fiscal.IdempotencyClaimFrom(ctx)
	if c == nil || c.ID != 0 {
		return nil, 0, nil
	}
	id, err := tx.Insert(ctx, `INSERT INTO idempotency_keys (municipality_id, user_id, idem_key, route, request_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		c.MunicipalityID, c.UserID, c.Key, c.Route, c.RequestHash, tx.Now)
	if isUniqueViolation(err) {
		return nil, 0, errIdemInFlight
	}
	if err != nil {
		return nil, 0, translate(err, "idempotency key")
	}
	return c, id, nil
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
