package store

import (
	"context"
	"slices"

	"fiscald/fiscal"
	"fiscald/internal/auth"
)

// The life of accounts (fiscal.IdentityService): disable, enable, change
// role, set a password. Each is one transaction with its audit entry; the
// rules (oneself, the last admin, staff roles only) are
// fiscal.CheckAccountChange's.

// accountChange loads the target of the actor's municipality, checks the
// change, and runs apply in the same transaction. The municipality's
// enabled admins are read (locked FOR UPDATE on PostgreSQL, so two admins
// disabling each other at once cannot both pass the last-admin rule;
// SQLite has one writer).
func (db *DB) accountChange(ctx context.Context, id int64, change fiscal.AccountChange, role fiscal.Role, apply func(tx *Tx, u *fiscal.User) error) (*fiscal.User, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var out *fiscal.User
	err = db.InTx(ctx, func(tx *Tx) error {
		lock := ""
		if tx.Dialect() == "postgres" {
			lock = " FOR UPDATE"
		}
		var admins []int64
		if err := tx.Select(ctx, &admins, `SELECT id FROM users WHERE municipality_id = ? AND role = ? AND disabled = ? ORDER BY id`+lock,
			a.MunicipalityID, fiscal.RoleAdmin, false); err != nil {
			return translate(err, "users")
		}
		if !a.System && !slices.Contains(admins, a.UserID) {
			// Disabled or demoted since this request was authenticated (by
			// a change that committed meanwhile, on any instance).
			return fiscal.Errorf(fiscal.EFORBIDDEN, "only an enabled admin changes accounts")
		}
		var u fiscal.User
		if err := tx.Get(ctx, &u, `SELECT `+userColumns+` FROM users WHERE id = ? AND municipality_id = ?`+lock, id, a.MunicipalityID); err != nil {
			return translate(err, "user")
		}
		if err := fiscal.CheckAccountChange(a, &u, change, role, len(admins)); err != nil {
			return err
		}
		before := u
		if err := apply(tx, &u); err != nil {
			return err
		}
		out = &u
		return tx.Audit(ctx, a.MunicipalityID, "user."+string(change), "user", u.ID,
			map[string]any{"role": before.Role, "disabled": before.Disabled}, map[string]any{"role": u.Role, "disabled": u.Disabled})
	})
	return out, err
}

// endSessions revokes every session of the user. Authenticate revalidates
// each cached session against its row, so every instance refuses the
// tokens from the next request on.
func (tx *Tx) endSessions(ctx context.Context, userID int64) error {
	_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, tx.Now, userID)
	return translate(err, "sessions")
}

// requeue returns the user's open cases to the queue (unassigned), with a
// timeline event each.
func (tx *Tx) requeue(ctx context.Context, u *fiscal.User) error {
	var ids []int64
	if err := tx.Select(ctx, &ids, `SELECT id FROM cases WHERE assignee_id = ? AND status NOT IN (?, ?) ORDER BY id`,
		u.ID, fiscal.StatusApproved, fiscal.StatusRejected); err != nil {
		return translate(err, "cases")
	}
	actorID, actor := tx.eventActor()
	for _, id := range ids {
		if _, err := tx.Exec(ctx, `UPDATE cases SET assignee_id = NULL, updated_at = ?, version = version + 1 WHERE id = ?`, tx.Now, id); err != nil {
			return translate(err, "case")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO case_events (`+eventInsertCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			u.MunicipalityID, id, tx.Now, actorID, actor, "unassigned", u.Username, false); err != nil {
			return translate(err, "case event")
		}
	}
	if len(ids) > 0 {
		return tx.Audit(ctx, u.MunicipalityID, "case.unassign", "user", u.ID, map[string]any{"assignee_id": u.ID}, map[string]any{"cases": ids})
	}
	return nil
}

// DisableUser disables an account, ends its sessions, returns its open
// cases to the queue and revokes its signing key for new steps (old steps
// keep verifying: VerifyCase reads revoked keys too). Disabling a disabled
// account changes nothing more.
func (db *DB) DisableUser(ctx context.Context, id int64) (*fiscal.User, error) {
	return db.accountChange(ctx, id, fiscal.ChangeDisable, "", func(tx *Tx, u *fiscal.User) error {
		u.Disabled = true
		if _, err := tx.Exec(ctx, `UPDATE users SET disabled = ?, version = version + 1 WHERE id = ?`, true, u.ID); err != nil {
			return translate(err, "user")
		}
		if err := tx.endSessions(ctx, u.ID); err != nil {
			return err
		}
		if _, err := tx.RevokeSigningKeys(ctx, u.MunicipalityID, u.ID, keyHolderDisabled); err != nil {
			return err
		}
		return tx.requeue(ctx, u)
	})
}

// EnableUser enables an account again; a staff member gets a new signing
// key at their next step.
func (db *DB) EnableUser(ctx context.Context, id int64) (*fiscal.User, error) {
	return db.accountChange(ctx, id, fiscal.ChangeEnable, "", func(tx *Tx, u *fiscal.User) error {
		u.Disabled = false
		_, err := tx.Exec(ctx, `UPDATE users SET disabled = ?, version = version + 1 WHERE id = ?`, false, u.ID)
		return translate(err, "user")
	})
}

// SetRole changes a staff account's role and ends its sessions; an officer
// who is no longer one gives their open cases back to the queue.
func (db *DB) SetRole(ctx context.Context, id int64, role fiscal.Role) (*fiscal.User, error) {
	return db.accountChange(ctx, id, fiscal.ChangeRole, role, func(tx *Tx, u *fiscal.User) error {
		if u.Role == role {
			return nil
		}
		wasOfficer := u.Role == fiscal.RoleOfficer
		u.Role = role
		if _, err := tx.Exec(ctx, `UPDATE users SET role = ?, version = version + 1 WHERE id = ?`, role, u.ID); err != nil {
			return translate(err, "user")
		}
		if err := tx.endSessions(ctx, u.ID); err != nil {
			return err
		}
		if wasOfficer {
			return tx.requeue(ctx, u)
		}
		return nil
	})
}

// SetPassword sets a staff account's password (the password rule applies)
// and ends its sessions.
func (db *DB) SetPassword(ctx context.Context, id int64, password string) (*fiscal.User, error) {
	if _, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin); err != nil {
		return nil, err
	}
	u, err := db.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := fiscal.CheckPassword(password, u.Username, u.Email); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, fiscal.Internal(err, "hash password")
	}
	return db.accountChange(ctx, id, fiscal.ChangePassword, "", func(tx *Tx, u *fiscal.User) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = ?, version = version + 1 WHERE id = ?`, hash, u.ID); err != nil {
			return translate(err, "user")
		}
		return tx.endSessions(ctx, u.ID)
	})
}
