package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"fiscald/documents"
	"fiscald/fiscal"
	"fiscald/internal/blob"
	"fiscald/internal/signing"
	"fiscald/internal/store"
)

// OpenPair opens one fresh, migrated database of the engine twice, as two
// processes of the service would (two pools, two sets of in-process state:
// on SQLite two writer queues, on PostgreSQL two pairs of pools),
// both on the same clock. The two share the signing master key and the
// attachment folder, as instances sharing FISCAL_DATA_DIR do.
func OpenPair(tb testing.TB, engine string, clock fiscal.Clock) (*store.DB, *store.DB) {
	tb.Helper()
	dsn := DSN(tb, engine)
	blobs, err := blob.NewLocal(filepath.Join(tb.TempDir(), "attachments"))
	if err != nil {
		tb.Fatal(err)
	}
	keys := signing.NewRandom()
	var pair [2]*store.DB
	for i := range pair {
		db, err := store.Open(context.Background(), dsn, clock)
		if err != nil {
			tb.Fatalf("storetest: open %s: %v", engine, err)
		}
		tb.Cleanup(func() { db.Close() })
		tb.Cleanup(func() { checkTableScans(tb, db) }) // runs before Close
		db.UseCaseDeps(keys, blobs)
		db.UseDocuments(&documents.Producer{Signer: Signer(tb), Blobs: blobs, PublicURL: PublicURL})
		if i == 0 {
			if _, err := db.Migrate(context.Background()); err != nil {
				tb.Fatalf("storetest: migrate %s: %v", engine, err)
			}
		}
		pair[i] = db
	}
	return pair[0], pair[1]
}
