package store

import (
	"context"
	"database/sql"
	"errors"
)

// ImportDone reports whether a finished (not dry) import of the file (kind
// and SHA-256) exists in the municipality: the demo seed imports each of
// its files once.
func (db *DB) ImportDone(ctx context.Context, municipalityID int64, kind, sha string) (bool, error) {
	var n int
	err := db.db.GetContext(ctx, &n, db.db.Rebind(`SELECT COUNT(*) FROM imports WHERE municipality_id = ? AND kind = ? AND file_sha256 = ?
		AND dry_run = ? AND finished_at IS NOT NULL`), municipalityID, kind, sha, false)
	return n > 0, translate(err, "import")
}

// ImportedID is the id of the record an import key names (0: none).
func (db *DB) ImportedID(ctx context.Context, municipalityID int64, kind, externalID string) (int64, error) {
	var id int64
	err := db.db.GetContext(ctx, &id, db.db.Rebind(`SELECT entity_id FROM import_keys WHERE municipality_id = ? AND kind = ? AND external_id = ?`),
		municipalityID, kind, externalID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, translate(err, "import key")
}

// HasTaxpayerAccount reports whether the taxpayer has an enabled account.
func (db *DB) HasTaxpayerAccount(ctx context.Context, taxpayerID int64) (bool, error) {
	var n int
	err := db.db.GetContext(ctx, &n, db.db.Rebind(`SELECT COUNT(*) FROM users WHERE taxpayer_id = ? AND disabled = ?`), taxpayerID, false)
	return n > 0, translate(err, "user")
}
