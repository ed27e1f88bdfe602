package store

import (
	"context"
	"encoding/json"

	"fiscald/fiscal"
	"fiscald/internal/money"
)

// The vehicle register: a vehicle entered inside the transaction of a
// registration's approval (InsertVehicle; an active VIN is held once per
// municipality), a taxpayer's vehicles listed (TaxpayerVehicles) and what a
// vehicle still owes, read by a case's checks and approval
// (vehicleOutstanding).

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

// vehicleOutstanding is what remains unpaid of a vehicle's debts up to a
// year: the principal of its non-cancelled debts less the payments allocated
// to them (payments' allocations, bonus included).
func (tx *Tx) vehicleOutstanding(ctx context.Context, municipalityID, vehicleID int64, upToYear int) (money.Bani, error) {
	var sum int64
	err := tx.Get(ctx, &sum, `SELECT CAST(COALESCE(SUM(d.amount_bani - (SELECT COALESCE(SUM(a.amount_bani), 0) FROM allocations a WHERE a.debt_id = d.id)), 0) AS BIGINT)
		FROM debts d WHERE d.municipality_id = ? AND d.object_id = ? AND d.tax_type = 'vehicle' AND d.year <= ? AND d.cancelled_at IS NULL`,
		municipalityID, vehicleID, upToYear)
	return money.Bani(sum), translate(err, "debts")
}
