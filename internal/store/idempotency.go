package store

import (
	"context"
	"log/slog"
	"maps"
	"sync"
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
	// Twice at most: a response written behind between reading the row and
	// looking in memory has left memory, and the second read finds it.
	for attempt := 0; ; attempt++ {
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
		case rec.Status != 0:
			return &fiscal.StoredResponse{Status: rec.Status, ContentType: rec.ContentType, Body: rec.Response}, nil
		}
		if r := db.idem.get(rec.ID); r != nil {
			return r, nil // answered, not written yet
		}
		if attempt == 1 {
			// The claim committed with the effect: the request is being
			// answered, or the process stopped before keeping its answer.
			return nil, errIdemInFlight
		}
	}
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

// FinishIdempotencyKey keeps the response of a claimed key. The claim
// committed with the request's effect; the response is written behind, in
// batches (idemWriter), and replayed from memory until then. A request then
// costs its use case's transaction and a share of a batch instead of a
// transaction of its own (on SQLite's single writer, a third of the write
// transactions under `make loadtest`). If the process dies before the batch
// is written, a retry of the key answers 409 (carried out, no response kept)
// and never runs the request again.
func (db *DB) FinishIdempotencyKey(ctx context.Context, id int64, status int, contentType string, body []byte) error {
	db.idem.start(db)
	db.idem.add(id, &fiscal.StoredResponse{Status: status, ContentType: contentType, Body: body})
	return nil
}

// idemWriter writes finished responses in batches, one transaction each.
type idemWriter struct {
	once sync.Once
	// flushing serialises flushes: when one returns, what was queued
	// before it is written (or still in memory after an error).
	flushing sync.Mutex
	mu       sync.Mutex
	pending  map[int64]*fiscal.StoredResponse // claim id → response, until written
	wake     chan struct{}
	stop     chan struct{}
	done     chan struct{}
}

func (w *idemWriter) start(db *DB) {
	w.once.Do(func() {
		w.pending = map[int64]*fiscal.StoredResponse{}
		w.wake, w.stop, w.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
		go w.run(db)
	})
}

func (w *idemWriter) add(id int64, r *fiscal.StoredResponse) {
	w.mu.Lock()
	w.pending[id] = r
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// get returns the response of claim id while it waits to be written.
func (w *idemWriter) get(id int64) *fiscal.StoredResponse {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pending[id]
}

func (w *idemWriter) run(db *DB) {
	defer close(w.done)
	for {
		select {
		case <-w.wake:
		case <-w.stop:
			w.flush(db) // what is queued at shutdown
			return
		}
		if err := w.flush(db); err != nil {
			// The database is unavailable: the responses stay in memory
			// (replayed from there) and are written on the next try.
			slog.Warn("idempotency responses not written yet", "err", err)
			t := time.NewTimer(500 * time.Millisecond)
			select {
			case <-t.C:
				select { // try again
				case w.wake <- struct{}{}:
				default:
				}
			case <-w.stop:
				t.Stop()
				return
			}
		}
	}
}

// flush writes the responses waiting in memory in one transaction; they
// leave memory once written (on an error they stay for the next flush).
func (w *idemWriter) flush(db *DB) error {
	w.flushing.Lock()
	defer w.flushing.Unlock()
	w.mu.Lock()
	batch := maps.Clone(w.pending)
	w.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := db.InTx(context.Background(), func(tx *Tx) error {
		for id, r := range batch {
			if _, err := tx.Exec(context.Background(), `UPDATE idempotency_keys SET status = ?, content_type = ?, response = ? WHERE id = ?`,
				r.Status, r.ContentType, r.Body, id); err != nil {
				return translate(err, "idempotency key")
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for id := range batch {
		delete(w.pending, id)
	}
	return nil
}

// close writes what is queued and stops the writer.
func (w *idemWriter) close() {
	if w.stop == nil {
		return
	}
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// ReleaseIdempotencyKey forgets a claim whose request failed without effect
// (a server error), so that a retry runs again.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, id int64) error {
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE id = ? AND status = 0`, id)
		return translate(err, "idempotency key")
	})
}
