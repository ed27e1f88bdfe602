package store

import "context"

// KeepReply exposes keepReply to the package's external tests.
func (tx *Tx) KeepReply(ctx context.Context, result any) error { return tx.keepReply(ctx, result) }
