package store

// FlushIdempotencyResponses writes the responses waiting in memory now
// (tests; the server's writer does it in the background).
func (db *DB) FlushIdempotencyResponses() error { return db.idem.flush(db) }
