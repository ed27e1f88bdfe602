package store

import (
	"context"
	"encoding/json"

	"fiscald/fiscal"
	"fiscald/internal/auth"
	"fiscald/internal/civil"
)

// Companies represented by persons (fiscal/representation.go; migration
// 0026): the link written by an approved representation request, the
// session's choice of whom it acts for, and the staff's revocation.

// activeLinkCond is the SQL condition of a link in force on the day given
// as its one argument.
const activeLinkCond = `r.revoked_at IS NULL AND (r.valid_until IS NULL OR r.valid_until >= ?)`

// companyByCUI finds the company with the CUI in the municipality's
// registry (nil: none).
func companyByCUI(ctx context.Context, q interface {
	Select(ctx context.Context, dest any, query string, args ...any) error
}, municipalityID int64, cui string) (*fiscal.RegistryEntry, error) {
	var rows []struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	if err := q.Select(ctx, &rows, `SELECT id, name FROM taxpayers WHERE municipality_id = ? AND cui = ? AND kind = 'company'`, municipalityID, cui); err != nil {
		return nil, translate(err, "taxpayers")
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &fiscal.RegistryEntry{TaxpayerID: rows[0].ID, Kind: string(fiscal.Company), Name: rows[0].Name}, nil
}

// representationState reads the facts of a representation request: the
// company with its CUI, the filer (cases.created_by) and their link to it.
func (tx *Tx) representationState(ctx context.Context, c *caseRow, f *fiscal.RepresentationFacts) (*fiscal.RepresentationState, error) {
	st := &fiscal.RepresentationState{}
	var err error
	if st.Company, err = companyByCUI(ctx, tx, c.MunicipalityID, f.CUI); err != nil {
		return nil, err
	}
	if c.CreatedBy == nil {
		return st, nil // filed by no one known: no one to link (FilerAssurance "" fails)
	}
	st.FilerID = *c.CreatedBy
	var assurance string
	if err := tx.Get(ctx, &assurance, `SELECT assurance FROM users WHERE id = ? AND role = ? AND disabled = ?`, st.FilerID, fiscal.RoleTaxpayer, false); err != nil {
		if err = translate(err, "user"); fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
			return nil, err
		}
	}
	st.FilerAssurance = fiscal.Assurance(assurance)
	if st.Company != nil {
		var n int
		if err := tx.Get(ctx, &n, `SELECT COUNT(*) FROM representations r WHERE r.municipality_id = ? AND r.user_id = ? AND r.taxpayer_id = ? AND `+activeLinkCond,
			c.MunicipalityID, st.FilerID, st.Company.TaxpayerID, fiscal.LocalDate(tx.Now)); err != nil {
			return nil, translate(err, "representations")
		}
		st.ActiveLink = n > 0
	}
	return st, nil
}

// representationIntake refuses a representation request from anyone but a
// verified person acting for themself, for their own record, and one naming
// a company not in the registry (422 on data.cui) or already represented
// by them (409).
func (db *DB) representationIntake(ctx context.Context, a *fiscal.Actor, taxpayerID int64, caseType string, data json.RawMessage) error {
	if caseType != fiscal.CaseRepresentation {
		return nil
	}
	if err := fiscal.CheckRepresentationFiler(a); err != nil {
		return err
	}
	r, err := fiscal.ReadRepresentation(data)
	if err != nil {
		return fiscal.InvalidField("data", "does not read as a representation request: "+err.Error())
	}
	var kind string
	if err := db.get(ctx, &kind, `SELECT kind FROM taxpayers WHERE id = ? AND municipality_id = ?`, taxpayerID, a.MunicipalityID); err != nil {
		return translate(err, "taxpayer")
	}
	if kind != string(fiscal.Individual) {
		return fiscal.Errorf(fiscal.EFORBIDDEN, "a representation request is filed by a person (an individual's account)")
	}
	var company *fiscal.RegistryEntry
	err = db.readTx(ctx, func(tx *Tx) error {
		var err error
		if company, err = companyByCUI(ctx, tx, a.MunicipalityID, r.CUI); err != nil || company == nil {
			return err
		}
		var n int
		if err := tx.Get(ctx, &n, `SELECT COUNT(*) FROM representations r WHERE r.municipality_id = ? AND r.user_id = ? AND r.taxpayer_id = ? AND `+activeLinkCond,
			a.MunicipalityID, a.UserID, company.TaxpayerID, fiscal.LocalDate(db.clock.Now())); err != nil {
			return translate(err, "representations")
		}
		if n > 0 {
			return fiscal.Errorf(fiscal.ECONFLICT, "you already represent this company")
		}
		return nil
	})
	if err != nil {
		return err
	}
	if company == nil {
		return fiscal.InvalidField("data.cui", "no company with this CUI is in the municipality's registry: the tax department enters it first")
	}
	return nil
}

// writeRepresentation writes an approved request's link in the signer's
// transaction: an expired link of the same person and company is closed
// first (the unique index keeps one link not revoked per pair; a concurrent
// approval of the same pair is 409).
func (db *DB) writeRepresentation(ctx context.Context, tx *Tx, c *caseRow, g *fiscal.RepresentationGrant) error {
	today := fiscal.LocalDate(tx.Now)
	if _, err := tx.Exec(ctx, `UPDATE representations SET revoked_at = ?, revoke_reason = 'expired' WHERE municipality_id = ? AND user_id = ? AND taxpayer_id = ?
		AND revoked_at IS NULL AND valid_until < ?`, tx.Now, c.MunicipalityID, g.UserID, g.TaxpayerID, today); err != nil {
		return translate(err, "representations")
	}
	id, err := tx.Insert(ctx, `INSERT INTO representations (municipality_id, user_id, taxpayer_id, role, case_id, valid_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.MunicipalityID, g.UserID, g.TaxpayerID, g.Role, c.ID, g.ValidUntil, tx.Now)
	if err != nil {
		return translate(err, "representation")
	}
	result := map[string]any{"representation_id": id, "user_id": g.UserID, "taxpayer_id": g.TaxpayerID, "role": g.Role, "valid_until": g.ValidUntil}
	if err := tx.Audit(ctx, c.MunicipalityID, "representation.grant", "representation", id, nil, result); err != nil {
		return err
	}
	b, _ := json.Marshal(result)
	c.Result = string(b)
	return nil
}

// ActingTaxpayers lists the person's own record and the companies they
// represent now.
func (db *DB) ActingTaxpayers(ctx context.Context) ([]fiscal.ActingTaxpayer, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleTaxpayer)
	if err != nil {
		return nil, err
	}
	self := a.Self
	if self == nil {
		self = a.TaxpayerID
	}
	out := []fiscal.ActingTaxpayer{}
	if self == nil {
		return out, nil
	}
	err = db.inReadTx(ctx, func(q querier) error {
		var own struct {
			ID   int64   `db:"id"`
			Kind string  `db:"kind"`
			Name string  `db:"name"`
			CNP  *string `db:"cnp"`
			CUI  *string `db:"cui"`
		}
		if err := q.GetContext(ctx, &own, db.db.Rebind(`SELECT id, kind, name, cnp, cui FROM taxpayers WHERE id = ?`), *self); err != nil {
			return translate(err, "taxpayer")
		}
		ident := ""
		if own.CNP != nil {
			ident = fiscal.MaskCNP(*own.CNP)
		} else if own.CUI != nil {
			ident = *own.CUI
		}
		out = append(out, fiscal.ActingTaxpayer{TaxpayerID: own.ID, Kind: own.Kind, Name: own.Name, Identity: ident, Relation: "self",
			Acting: a.Representation == 0})
		var links []struct {
			ID         int64       `db:"id"`
			TaxpayerID int64       `db:"taxpayer_id"`
			Role       string      `db:"role"`
			ValidUntil *civil.Date `db:"valid_until"`
			Name       string      `db:"name"`
			CUI        *string     `db:"cui"`
		}
		if a.Assurance != fiscal.AssuranceVerified {
			return nil // links count only for a verified account
		}
		if err := q.SelectContext(ctx, &links, db.db.Rebind(`SELECT r.id, r.taxpayer_id, r.role, r.valid_until, t.name, t.cui FROM representations r
			JOIN taxpayers t ON t.id = r.taxpayer_id WHERE r.municipality_id = ? AND r.user_id = ? AND `+activeLinkCond+` ORDER BY t.name, r.id`),
			a.MunicipalityID, a.UserID, fiscal.LocalDate(db.clock.Now())); err != nil {
			return translate(err, "representations")
		}
		for _, l := range links {
			cui := ""
			if l.CUI != nil {
				cui = *l.CUI
			}
			out = append(out, fiscal.ActingTaxpayer{TaxpayerID: l.TaxpayerID, Kind: string(fiscal.Company), Name: l.Name, Identity: cui,
				Relation: l.Role, RepresentationID: l.ID, ValidUntil: l.ValidUntil, Acting: a.Representation == l.ID})
		}
		return nil
	})
	return out, err
}

// ActFor sets whom the session of token acts for: the person's own record
// (representation_id NULL) or a company with a link in force (403
// otherwise). The session is found by the token's hash and must be the
// actor's own.
func (db *DB) ActFor(ctx context.Context, token string, taxpayerID int64) (*fiscal.ActingTaxpayer, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleTaxpayer)
	if err != nil {
		return nil, err
	}
	list, err := db.ActingTaxpayers(ctx)
	if err != nil {
		return nil, err
	}
	var chosen *fiscal.ActingTaxpayer
	for i := range list {
		if list[i].TaxpayerID == taxpayerID {
			chosen = &list[i]
			break
		}
	}
	if chosen == nil {
		return nil, fiscal.Errorf(fiscal.EFORBIDDEN, "you may act only for yourself or a company you represent (an approved representation request)")
	}
	hash := auth.HashToken(token)
	db.sessions.drop(hash)
	defer db.sessions.drop(hash)
	var rep *int64
	if chosen.RepresentationID != 0 {
		rep = &chosen.RepresentationID
	}
	err = db.InTx(ctx, func(tx *Tx) error {
		var n int
		if rep != nil {
			// The link still in force in the writing transaction.
			if err := tx.Get(ctx, &n, `SELECT COUNT(*) FROM representations r WHERE r.id = ? AND r.user_id = ? AND `+activeLinkCond,
				*rep, a.UserID, fiscal.LocalDate(tx.Now)); err != nil {
				return translate(err, "representations")
			}
			if n == 0 {
				return fiscal.Errorf(fiscal.EFORBIDDEN, "the representation ended")
			}
		}
		res, err := tx.Exec(ctx, `UPDATE sessions SET representation_id = ? WHERE token_hash = ? AND user_id = ? AND revoked_at IS NULL`, rep, hash, a.UserID)
		if err != nil {
			return translate(err, "session")
		}
		if k, err := res.RowsAffected(); err != nil || k != 1 {
			return fiscal.Errorf(fiscal.EUNAUTHORIZED, "invalid or expired token")
		}
		return tx.Audit(ctx, a.MunicipalityID, "session.act_for", "taxpayer", taxpayerID, nil, map[string]any{"representation_id": chosen.RepresentationID})
	})
	if err != nil {
		return nil, err
	}
	chosen.Acting = true
	return chosen, nil
}

const representationCols = `r.id, r.user_id, u.username, r.taxpayer_id, r.role, r.case_id, r.valid_until, r.revoked_at, r.revoke_reason`

// TaxpayerRepresentations lists a taxpayer's links, newest first (staff of
// the municipality).
func (db *DB) TaxpayerRepresentations(ctx context.Context, taxpayerID int64) ([]*fiscal.Representation, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleOfficer, fiscal.RoleSigner, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var n int
	if err := db.get(ctx, &n, `SELECT COUNT(*) FROM taxpayers WHERE id = ? AND municipality_id = ?`, taxpayerID, a.MunicipalityID); err != nil {
		return nil, translate(err, "taxpayer")
	}
	if n == 0 {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "taxpayer not found")
	}
	out := []*fiscal.Representation{}
	if err := db.db.SelectContext(ctx, &out, db.db.Rebind(`SELECT `+representationCols+` FROM representations r JOIN users u ON u.id = r.user_id
		WHERE r.municipality_id = ? AND r.taxpayer_id = ? ORDER BY r.id DESC`), a.MunicipalityID, taxpayerID); err != nil {
		return nil, translate(err, "representations")
	}
	today := fiscal.LocalDate(db.clock.Now())
	for _, r := range out {
		r.Active = fiscal.ActiveOn(r.RevokedAt != nil, r.ValidUntil, today)
	}
	return out, nil
}

// RevokeRepresentation ends a link at once: sessions acting through it are
// refused from their next request on every instance (Authenticate reads the
// link on every request).
func (db *DB) RevokeRepresentation(ctx context.Context, id int64, in *fiscal.RevokeRepresentation) (*fiscal.Representation, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleOfficer, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var out fiscal.Representation
	err = db.InTx(ctx, func(tx *Tx) error {
		if err := tx.Get(ctx, &out, `SELECT `+representationCols+` FROM representations r JOIN users u ON u.id = r.user_id WHERE r.id = ? AND r.municipality_id = ?`,
			id, a.MunicipalityID); err != nil {
			return translate(err, "representation")
		}
		if out.RevokedAt != nil {
			return fiscal.Errorf(fiscal.ECONFLICT, "the representation was revoked already")
		}
		res, err := tx.Exec(ctx, `UPDATE representations SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL`,
			tx.Now, a.UserID, in.Reason, id)
		if err != nil {
			return translate(err, "representation")
		}
		if k, err := res.RowsAffected(); err != nil || k != 1 {
			return fiscal.Errorf(fiscal.ECONFLICT, "the representation was revoked already")
		}
		now := tx.Now
		out.RevokedAt, out.RevokeReason, out.Active = &now, in.Reason, false
		return tx.Audit(ctx, a.MunicipalityID, "representation.revoke", "representation", id, map[string]any{"revoked_at": nil},
			map[string]any{"revoked_at": now, "reason": in.Reason, "user_id": out.UserID, "taxpayer_id": out.TaxpayerID})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
