package store

import (
	"context"

	"fiscald/fiscal"
)

// Account look-ups outside users.go for the demo's seed (internal/demo):
// an account by its username (UserByUsername), and whether a taxpayer has
// an enabled account (HasTaxpayerAccount).

// UserByUsername returns the account of the actor's municipality with this
// username (case-insensitive), for the system and staff: the demo's
// seeding acts as its named accounts (internal/demo). ENOTFOUND when there
// is none.
func (db *DB) UserByUsername(ctx context.Context, username string) (*fiscal.User, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsStaff() {
		return nil, fiscal.Errorf(fiscal.EFORBIDDEN, "staff only")
	}
	var u fiscal.User
	err = db.reads().GetContext(ctx, &u, db.db.Rebind(`SELECT `+userColumns+` FROM users WHERE municipality_id = ? AND lower(username) = ?`),
		a.MunicipalityID, foldUsername(username))
	if err != nil {
		return nil, translate(err, "user")
	}
	return &u, nil
}

// HasTaxpayerAccount reports whether the taxpayer has an enabled account.
func (db *DB) HasTaxpayerAccount(ctx context.Context, taxpayerID int64) (bool, error) {
	var n int
	err := db.db.GetContext(ctx, &n, db.db.Rebind(`SELECT COUNT(*) FROM users WHERE taxpayer_id = ? AND disabled = ?`), taxpayerID, false)
	return n > 0, translate(err, "user")
}
