package store

import (
	"context"
	"strings"

	"fiscald/fiscal"
)

// The taxpayer registry: a taxpayer entered by staff (CreateTaxpayer;
// insertTaxpayer, the one place taxpayers are inserted, also enters the
// shares kept for them as pending co-owners), read as the actor may see it
// (Taxpayer, logged for staff) and searched (FindTaxpayers).

const taxpayerColumns = `id, municipality_id, kind, cnp, cui, name, address, email, phone, created_at, updated_at, version`

// CreateTaxpayer enters a taxpayer in the registry (staff only).
func (db *DB) CreateTaxpayer(ctx context.Context, in *fiscal.TaxpayerInput) (*fiscal.Taxpayer, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleOfficer, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	if err := in.Check(""); err != nil {
		return nil, err
	}
	var tp *fiscal.Taxpayer
	err = db.InTx(ctx, func(tx *Tx) error {
		tp, err = insertTaxpayer(ctx, tx, a.MunicipalityID, in, "")
		return err
	})
	return tp, err
}

// insertTaxpayer inserts and audits a checked taxpayer; a CNP or CUI already
// registered in the municipality is ECONFLICT naming the field.
func insertTaxpayer(ctx context.Context, tx *Tx, municipalityID int64, in *fiscal.TaxpayerInput, prefix string) (*fiscal.Taxpayer, error) {
	tp := &fiscal.Taxpayer{MunicipalityID: municipalityID, Kind: in.Kind, Name: strings.TrimSpace(in.Name), Address: strings.TrimSpace(in.Address),
		Email: in.Email, Phone: in.Phone, CreatedAt: tx.Now, UpdatedAt: tx.Now, Version: 1}
	field := "cnp"
	if in.Kind == fiscal.Individual {
		tp.CNP = &in.CNP
	} else {
		field, tp.CUI = "cui", &in.CUI
	}
	id, err := tx.Insert(ctx, `INSERT INTO taxpayers (municipality_id, kind, cnp, cui, name, address, email, phone, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`, municipalityID, tp.Kind, tp.CNP, tp.CUI, tp.Name, tp.Address, tp.Email, tp.Phone, tx.Now, tx.Now)
	if err != nil {
		if isUniqueViolation(err) {
			return nil, &fiscal.Error{Code: fiscal.ECONFLICT, Message: "a taxpayer with this " + strings.ToUpper(field) + " is already registered",
				Fields: []fiscal.FieldError{{Field: prefix + field, Message: "already registered"}}, Err: err}
		}
		return nil, translate(err, "taxpayer")
	}
	tp.ID = id
	if err := tx.Audit(ctx, municipalityID, "taxpayer.create", "taxpayer", id, nil, tp); err != nil {
		return nil, err
	}
	// A co-owner declared before they were registered gets their holdings.
	return tp, tx.enterPending(ctx, tp)
}

// Taxpayer returns a taxpayer visible to the actor. Another taxpayer's
// record, or another municipality's, is ENOTFOUND: its existence is not
// disclosed.
func (db *DB) Taxpayer(ctx context.Context, id int64) (*fiscal.Taxpayer, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	var tp fiscal.Taxpayer
	err = db.reads().GetContext(ctx, &tp, db.db.Rebind(`SELECT `+taxpayerColumns+` FROM taxpayers WHERE id = ? AND municipality_id = ?`), id, a.MunicipalityID)
	if err != nil {
		return nil, translate(err, "taxpayer")
	}
	if !a.CanSeeTaxpayer(tp.MunicipalityID, tp.ID) {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "taxpayer not found")
	}
	if !a.CanSeeRecord(tp.MunicipalityID, tp.ID) {
		return nil, fiscal.ErrRecordNotVerified()
	}
	return &tp, db.logAccess(ctx, a, tp.ID, "view")
}

// FindTaxpayers searches the actor's municipality by name, CNP or CUI.
func (db *DB) FindTaxpayers(ctx context.Context, f fiscal.TaxpayerFilter) ([]*fiscal.Taxpayer, int, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleOfficer, fiscal.RoleSigner, fiscal.RoleAccountant, fiscal.RoleAdmin)
	if err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	where := ` FROM taxpayers WHERE municipality_id = ?`
	args := []any{a.MunicipalityID}
	if q := strings.TrimSpace(f.Q); q != "" {
		// LIKE wildcards in the query are escaped: the search is literal.
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q))
		where += ` AND (LOWER(name) LIKE ? ESCAPE '\' OR cnp = ? OR cui = ?)`
		args = append(args, "%"+esc+"%", q, fiscal.NormalizeCUI(q))
	}
	var total int
	if err := db.db.GetContext(ctx, &total, db.db.Rebind(`SELECT COUNT(*)`+where), args...); err != nil {
		return nil, 0, translate(err, "taxpayers")
	}
	var out []*fiscal.Taxpayer
	err = db.db.SelectContext(ctx, &out, db.db.Rebind(`SELECT `+taxpayerColumns+where+` ORDER BY name, id LIMIT ? OFFSET ?`), append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, translate(err, "taxpayers")
	}
	return out, total, nil
}
