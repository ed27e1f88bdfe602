package store

import "context"

// KeepReply exposes keepReply to the package's external tests.
func (tx *Tx) KeepReply(ctx context.Context, result any) error { return tx.keepReply(ctx, result) }

// PGWritePool is the size of the PostgreSQL write pool (store.go).
const PGWritePool = pgWritePool

// DurabilityBarrier exposes durabilityBarrier to the package's external tests.
func (db *DB) DurabilityBarrier(ctx context.Context) error { return db.durabilityBarrier(ctx) }
