package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// Buildings and land in the fiscal record (fiscal.PropertyService): a row
// of buildings or lands is one owner's holding of an object (migration
// 0023); co-owners are the other current holdings of its cadastral number.

const holdingColumns = `h.id, h.municipality_id, h.taxpayer_id, h.address, h.cadastral_number, h.share_parts, h.acquired_on, h.disposed_on, h.taxed_from_year, h.version`

type holdingRow struct {
	fiscal.Holding
	Attributes    string      `db:"attributes"`
	ValuationDate *civil.Date `db:"valuation_date"`
}

// propertyTable is "buildings" or "lands" by object kind.
func propertyTable(kind string) string {
	if kind == "land" {
		return "lands"
	}
	return "buildings"
}

// holdings reads a taxpayer's holdings of one kind with their co-owners.
func (db *DB) holdings(ctx context.Context, kind string, taxpayerID int64) ([]holdingRow, error) {
	if _, err := db.Taxpayer(ctx, taxpayerID); err != nil {
		return nil, err
	}
	a := fiscal.ActorFrom(ctx)
	table := propertyTable(kind)
	extra := "NULL AS valuation_date"
	if table == "buildings" {
		extra = "h.valuation_date"
	}
	var rows []holdingRow
	err := db.db.SelectContext(ctx, &rows, db.db.Rebind(`SELECT `+holdingColumns+`, h.attributes, `+extra+` FROM `+table+` h
		WHERE h.municipality_id = ? AND h.taxpayer_id = ? ORDER BY h.disposed_on IS NOT NULL, h.acquired_on DESC, h.id`), a.MunicipalityID, taxpayerID)
	if err != nil {
		return nil, translate(err, table)
	}
	for i := range rows {
		h := &rows[i].Holding
		if err := json.Unmarshal([]byte(rows[i].Attributes), &h.Object); err != nil {
			return nil, fiscal.Internal(fmt.Errorf("%s %d: attributes: %w", table, h.ID, err), table)
		}
		h.TaxedFromYear = h.FirstTaxedYear()
		h.CoOwners = []fiscal.CoOwner{}
		if h.CadastralNumber == "" || h.DisposedOn != nil {
			continue
		}
		if err := db.db.SelectContext(ctx, &h.CoOwners, db.db.Rebind(`SELECT o.taxpayer_id, t.name, o.share_parts FROM `+table+` o JOIN taxpayers t ON t.id = o.taxpayer_id
			WHERE o.municipality_id = ? AND o.cadastral_number = ? AND o.cadastral_number <> '' AND o.disposed_on IS NULL AND o.id <> ? ORDER BY o.share_parts DESC, o.id`),
			a.MunicipalityID, h.CadastralNumber, h.ID); err != nil {
			return nil, translate(err, table)
		}
	}
	return rows, nil
}

// TaxpayerBuildings lists a taxpayer's buildings, current first.
func (db *DB) TaxpayerBuildings(ctx context.Context, taxpayerID int64) ([]*fiscal.Building, error) {
	rows, err := db.holdings(ctx, "building", taxpayerID)
	if err != nil {
		return nil, err
	}
	out := make([]*fiscal.Building, len(rows))
	for i := range rows {
		b := &fiscal.Building{Holding: rows[i].Holding, ValuationDate: rows[i].ValuationDate}
		b.FillFromObject()
		out[i] = b
	}
	return out, nil
}

// TaxpayerLands lists a taxpayer's land, current first.
func (db *DB) TaxpayerLands(ctx context.Context, taxpayerID int64) ([]*fiscal.Land, error) {
	rows, err := db.holdings(ctx, "land", taxpayerID)
	if err != nil {
		return nil, err
	}
	out := make([]*fiscal.Land, len(rows))
	for i := range rows {
		l := &fiscal.Land{Holding: rows[i].Holding}
		l.FillFromObject()
		out[i] = l
	}
	return out, nil
}

// InsertHolding enters one owner's holding of a building or land inside tx,
// with its audit entry. caseID is the declaration that entered it (0: none).
func (tx *Tx) InsertHolding(ctx context.Context, municipalityID int64, kind string, h *fiscal.Holding, caseID int64) error {
	attrs, err := json.Marshal(h.Object)
	if err != nil {
		return fiscal.Internal(err, kind+" attributes")
	}
	var cid any
	if caseID > 0 {
		cid = caseID
	}
	table := propertyTable(kind)
	h.MunicipalityID = municipalityID
	h.ID, err = tx.Insert(ctx, `INSERT INTO `+table+` (municipality_id, taxpayer_id, address, cadastral_number, attributes, share_parts, acquired_on, disposed_on,
		taxed_from_year, case_id, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		municipalityID, h.TaxpayerID, h.Address, h.CadastralNumber, string(attrs), int64(h.Share), h.AcquiredOn, h.DisposedOn,
		h.TaxedFromYear, cid, tx.Now, tx.Now)
	if err != nil {
		return translate(err, kind)
	}
	h.Version = 1
	return tx.Audit(ctx, municipalityID, kind+".enter", kind, h.ID, nil, map[string]any{"taxpayer_id": h.TaxpayerID,
		"address": h.Address, "cadastral_number": h.CadastralNumber, "share": h.Share, "acquired_on": h.AcquiredOn,
		"taxed_from_year": h.TaxedFromYear, "object": h.Object, "case_id": cid})
}

// SharesHeld sums the current shares of a cadastral number (parts per
// 10,000), of buildings or land, with the shares kept for co-owners not yet
// in the registry (pending_holdings).
func (tx *Tx) SharesHeld(ctx context.Context, municipalityID int64, kind, cadastral string) (int64, error) {
	var n int64
	err := tx.Get(ctx, &n, `SELECT CAST(COALESCE(SUM(share_parts), 0) AS BIGINT) + (SELECT CAST(COALESCE(SUM(share_parts), 0) AS BIGINT) FROM pending_holdings
		WHERE municipality_id = ? AND kind = ? AND cadastral_number = ? AND entered_at IS NULL) FROM `+propertyTable(kind)+`
		WHERE municipality_id = ? AND cadastral_number = ? AND cadastral_number <> '' AND disposed_on IS NULL`, municipalityID, kind, cadastral, municipalityID, cadastral)
	return n, translate(err, kind)
}

var _ fiscal.PropertyService = (*DB)(nil)

// CorrectBuilding is the staff's correction of a building's data.
func (db *DB) CorrectBuilding(ctx context.Context, id int64, c *fiscal.BuildingCorrection) (*fiscal.Building, error) {
	h, err := db.correct(ctx, "building", id, c.Version, c.Reason, c.Address, c.Object(), c.ValuationDate)
	if err != nil {
		return nil, err
	}
	b := &fiscal.Building{Holding: *h, ValuationDate: c.ValuationDate}
	b.FillFromObject()
	return b, nil
}

// CorrectLand is the staff's correction of a plot's data.
func (db *DB) CorrectLand(ctx context.Context, id int64, c *fiscal.LandCorrection) (*fiscal.Land, error) {
	h, err := db.correct(ctx, "land", id, c.Version, c.Reason, c.Address, c.Object(), nil)
	if err != nil {
		return nil, err
	}
	l := &fiscal.Land{Holding: *h}
	l.FillFromObject()
	return l, nil
}

// correct writes a correction of an object's data on every current holding
// of its cadastral number (or the one holding without one) in one
// transaction with one audit entry (before and after).
func (db *DB) correct(ctx context.Context, kind string, id, version int64, reason, address string, obj calc.Object, valuation *civil.Date) (*fiscal.Holding, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleOfficer, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	table := propertyTable(kind)
	var out fiscal.Holding
	err = db.InTx(ctx, func(tx *Tx) error {
		var rows []holdingRow
		extra := "NULL AS valuation_date"
		if table == "buildings" {
			extra = "h.valuation_date"
		}
		if err := tx.Select(ctx, &rows, `SELECT `+holdingColumns+`, h.attributes, `+extra+` FROM `+table+` h WHERE h.id = ? AND h.municipality_id = ?`,
			id, a.MunicipalityID); err != nil {
			return translate(err, kind)
		}
		if len(rows) == 0 {
			return fiscal.Errorf(fiscal.ENOTFOUND, "%s not found", kind)
		}
		h := rows[0].Holding
		if h.Version != version {
			return fiscal.Errorf(fiscal.ECONFLICT, "the %s changed since you read it (version %d, now %d): read it again", kind, version, h.Version)
		}
		if h.DisposedOn != nil {
			return fiscal.Errorf(fiscal.ECONFLICT, "the %s was disposed of on %s: correct a current record", kind, h.DisposedOn)
		}
		var owner string
		if err := tx.Get(ctx, &owner, `SELECT kind FROM taxpayers WHERE id = ?`, h.TaxpayerID); err != nil {
			return translate(err, "taxpayer")
		}
		check := obj
		check.OwnerKind = owner
		if fe := calc.ValidateObject(fiscal.LocalDate(tx.Now).Year, check); len(fe) > 0 {
			fields := make([]fiscal.FieldError, len(fe))
			for i, f := range fe {
				fields[i] = fiscal.FieldError{Field: strings.TrimPrefix(f.Field, "object."), Message: f.Message}
			}
			return fiscal.Invalid(fields...)
		}
		attrs, err := json.Marshal(obj)
		if err != nil {
			return fiscal.Internal(err, kind+" attributes")
		}
		set, args := `address = ?, attributes = ?, updated_at = ?, version = version + 1`, []any{address, string(attrs), tx.Now}
		if table == "buildings" {
			set += `, valuation_date = ?`
			args = append(args, valuation)
		}
		where := ` WHERE municipality_id = ? AND id = ?`
		args = append(args, a.MunicipalityID, id)
		if h.CadastralNumber != "" {
			where = ` WHERE municipality_id = ? AND cadastral_number = ? AND cadastral_number <> '' AND disposed_on IS NULL`
			args = append(args[:len(args)-2], a.MunicipalityID, h.CadastralNumber)
		}
		var ids []int64
		if err := tx.Select(ctx, &ids, `SELECT id FROM `+table+where+` ORDER BY id`, args[len(args)-2:]...); err != nil {
			return translate(err, kind)
		}
		if _, err := tx.Exec(ctx, `UPDATE `+table+` SET `+set+where, args...); err != nil {
			return translate(err, kind)
		}
		before := map[string]any{"address": h.Address, "attributes": json.RawMessage(rows[0].Attributes), "version": h.Version}
		after := map[string]any{"address": address, "attributes": json.RawMessage(attrs), "reason": reason, "holdings": ids}
		if table == "buildings" {
			before["valuation_date"], after["valuation_date"] = rows[0].ValuationDate, valuation
		}
		out = h
		out.Address, out.Object, out.Version = address, obj, h.Version+1
		out.TaxedFromYear = out.FirstTaxedYear()
		out.CoOwners = []fiscal.CoOwner{}
		return tx.Audit(ctx, a.MunicipalityID, kind+".correct", kind, id, before, after)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

var _ fiscal.PropertyCorrections = (*DB)(nil)
