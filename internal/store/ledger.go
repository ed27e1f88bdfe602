package store

import (
	"context"
	"encoding/json"

	"fiscald/fiscal"
)

// InsertVehicle enters a vehicle in the register inside tx. A VIN already
// held by an active entry of the municipality is ECONFLICT naming "vin".
func (tx *Tx) InsertVehicle(ctx context.Context, municipalityID int64, v *fiscal.Vehicle) error {
	attrs, err := json.Marshal(v.VehicleObject())
	if err != nil {
		return fiscal.Internal(err, "vehicle attributes")
	}
	v.MunicipalityID = municipalityID
	v.ID, err = tx.Insert(ctx, `INSERT INTO vehicles (municipality_id, taxpayer_id, vin, plate, category, engine_cc, emission_class, propulsion, attributes,
		acquired_on, deregistered_on, taxed_from_year, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		municipalityID, v.TaxpayerID, v.VIN, v.Plate, v.Category, v.EngineCC, v.EmissionClass, v.Propulsion, string(attrs),
		v.AcquiredOn, v.DeregisteredOn, v.TaxedFromYear, tx.Now, tx.Now)
	if isUniqueViolation(err) {
		return &fiscal.Error{Code: fiscal.ECONFLICT, Message: "this VIN is registered to an owner already",
			Fields: []fiscal.FieldError{{Field: "vin", Message: "already in the register"}}, Err: err}
	}
	if err != nil {
		return translate(err, "vehicle")
	}
	v.Version = 1
	return tx.Audit(ctx, municipalityID, "vehicle.register", "vehicle", v.ID, nil, v)
}

// RecordAssessment stores an assessment and its instalment debts inside tx.
// It is idempotent: when the object already has an assessment for that tax
// and year it returns that one's id and created=false, adding nothing.
func (tx *Tx) RecordAssessment(ctx context.Context, municipalityID int64, a *fiscal.NewAssessment) (id int64, created bool, err error) {
	lines, err := json.Marshal(a.Assessment.Lines)
	if err != nil {
		return 0, false, fiscal.Internal(err, "assessment lines")
	}
	res, err := tx.Exec(ctx, `INSERT INTO assessments (municipality_id, taxpayer_id, tax_type, object_kind, object_id, year, revision, annual_bani, bonus_bani, budget_code, lines, source, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		municipalityID, a.TaxpayerID, a.TaxType, a.ObjectKind, a.ObjectID, a.Year, a.Assessment.Annual, a.Bonus, a.Assessment.BudgetCode, string(lines), a.Source, tx.Now)
	if err != nil {
		return 0, false, translate(err, "assessment")
	}
	n, _ := res.RowsAffected()
	if err := tx.Get(ctx, &id, `SELECT id FROM assessments WHERE municipality_id = ? AND tax_type = ? AND object_kind = ? AND object_id = ? AND year = ? AND revision = 1`,
		municipalityID, a.TaxType, a.ObjectKind, a.ObjectID, a.Year); err != nil {
		return 0, false, translate(err, "assessment")
	}
	if n == 0 {
		return id, false, nil
	}
	for i, inst := range a.Installments {
		if _, err := tx.Exec(ctx, `INSERT INTO debts (municipality_id, taxpayer_id, assessment_id, kind, tax_type, year, object_id, installment, due_date, amount_bani, budget_code, created_at)
			VALUES (?, ?, ?, 'principal', ?, ?, ?, ?, ?, ?, ?, ?)`,
			municipalityID, a.TaxpayerID, id, a.TaxType, a.Year, a.ObjectID, i+1, inst.DueDate, inst.Amount, a.Assessment.BudgetCode, tx.Now); err != nil {
			return 0, false, translate(err, "debt")
		}
	}
	return id, true, tx.Audit(ctx, municipalityID, "assessment.create", "assessment", id, nil, map[string]any{
		"taxpayer_id": a.TaxpayerID, "tax_type": a.TaxType, "object": a.ObjectKind, "object_id": a.ObjectID, "year": a.Year,
		"annual": a.Assessment.Annual, "installments": a.Installments, "source": a.Source})
}

const vehicleColumns = `id, municipality_id, taxpayer_id, vin, plate, category, engine_cc, emission_class, propulsion, acquired_on, deregistered_on, taxed_from_year, version`

// TaxpayerVehicles lists a taxpayer's vehicles, current first.
func (db *DB) TaxpayerVehicles(ctx context.Context, taxpayerID int64) ([]*fiscal.Vehicle, error) {
	if _, err := db.Taxpayer(ctx, taxpayerID); err != nil {
		return nil, err
	}
	a := fiscal.ActorFrom(ctx)
	var rows []struct {
		fiscal.Vehicle
		Attributes string `db:"attributes"`
	}
	err := db.db.SelectContext(ctx, &rows, db.db.Rebind(`SELECT `+vehicleColumns+`, attributes FROM vehicles
		WHERE municipality_id = ? AND taxpayer_id = ? ORDER BY deregistered_on IS NOT NULL, acquired_on DESC, id`), a.MunicipalityID, taxpayerID)
	if err != nil {
		return nil, translate(err, "vehicles")
	}
	out := make([]*fiscal.Vehicle, len(rows))
	for i := range rows {
		v := rows[i].Vehicle
		_ = json.Unmarshal([]byte(rows[i].Attributes), &v.Object)
		out[i] = &v
	}
	return out, nil
}
