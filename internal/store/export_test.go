package store

import "context"

// KeepReply exposes keepReply to the package's external tests.
func (tx *Tx) KeepReply(ctx context.Context, result any) error { return tx.keepReply(ctx, result) }

// PGWritePool is the size of the PostgreSQL write pool (store.go).
const PGWritePool = pgWritePool
