package store

import (
	"context"
	"encoding/json"
	"fmt"

	"fiscald/fiscal"
)

// Imports of vehicles (issue 20): a row is a vehicle keyed by its external
// id, naming its owner by the owner's external id (an imported taxpayer,
// else the row is rejected). A VIN held by another active vehicle rejects
// the row on vin. Changed rows are updated with an audit entry each, new
// ones bulk-inserted.

func (w *batchWriter) vehicles(ctx context.Context, rows []fiscal.ImportRow) error {
	changed, fresh := w.classify(rows)
	var exts, vins []string
	for _, r := range append(append([]*fiscal.ImportRow{}, changed...), fresh...) {
		exts = append(exts, r.Vehicle.OwnerExternalID)
		if r.Vehicle.Vehicle.DeregisteredOn == nil {
			vins = append(vins, r.Vehicle.Vehicle.VIN)
		}
	}
	owners, err := w.owners(ctx, exts)
	if err != nil {
		return err
	}
	var active []struct {
		ID  int64  `db:"id"`
		VIN string `db:"vin"`
	}
	if err := w.tx.selectIn(ctx, &active, `SELECT id, vin FROM vehicles WHERE municipality_id = ? AND deregistered_on IS NULL AND vin IN (%s)`, uniq(vins), w.muni); err != nil {
		return err
	}
	holder := make(map[string]int64, len(active))
	for _, a := range active {
		holder[a.VIN] = a.ID
	}
	check := func(r *fiscal.ImportRow, own int64) (importOwner, bool) {
		o, ok := w.owner(r, owners, r.Vehicle.OwnerExternalID)
		if !ok {
			return o, false
		}
		v := &r.Vehicle.Vehicle
		if id, held := holder[v.VIN]; held && id != own && v.DeregisteredOn == nil {
			w.reject(r, "vin", fmt.Sprintf("already registered to another owner (vehicle %d)", id))
			return o, false
		}
		v.TaxpayerID = o.ID
		v.Object.OwnerKind = o.Kind
		return o, true
	}
	for _, r := range changed {
		k := w.keys[r.ExternalID]
		if _, ok := check(r, k.EntityID); !ok {
			continue
		}
		if w.dry {
			w.res.Updated++
			continue
		}
		var before fiscal.Vehicle
		if err := w.tx.Get(ctx, &before, `SELECT `+vehicleColumns+` FROM vehicles WHERE id = ? AND municipality_id = ?`, k.EntityID, w.muni); err != nil {
			return translate(err, "vehicle")
		}
		v := r.Vehicle.Vehicle
		attrs, err := json.Marshal(v.Object)
		if err != nil {
			return fiscal.Internal(err, "vehicle attributes")
		}
		v.ID, v.MunicipalityID, v.Version = k.EntityID, w.muni, before.Version+1
		if _, err := w.tx.Exec(ctx, `UPDATE vehicles SET taxpayer_id = ?, vin = ?, plate = ?, category = ?, engine_cc = ?, emission_class = ?, propulsion = ?, attributes = ?,
			acquired_on = ?, deregistered_on = ?, taxed_from_year = ?, updated_at = ?, version = version + 1 WHERE id = ? AND municipality_id = ?`,
			v.TaxpayerID, v.VIN, v.Plate, v.Category, v.EngineCC, v.EmissionClass, v.Propulsion, string(attrs), v.AcquiredOn, v.DeregisteredOn, v.TaxedFromYear,
			w.tx.Now, k.EntityID, w.muni); err != nil {
			return translate(err, "vehicle")
		}
		if err := w.tx.Audit(ctx, w.muni, "vehicle.import_update", "vehicle", k.EntityID, before, v); err != nil {
			return err
		}
		if err := w.rekey(ctx, r); err != nil {
			return err
		}
	}
	var ok []*fiscal.ImportRow
	for _, r := range fresh {
		if _, good := check(r, 0); good {
			ok = append(ok, r)
		}
	}
	if w.dry {
		w.res.Imported += int64(len(ok))
		return nil
	}
	newIDs, err := w.tx.allocIDs(ctx, "vehicles", len(ok))
	if err != nil {
		return err
	}
	out := make([][]any, len(ok))
	now := w.tx.Now
	for i, r := range ok {
		v := &r.Vehicle.Vehicle
		attrs, err := json.Marshal(v.Object)
		if err != nil {
			return fiscal.Internal(err, "vehicle attributes")
		}
		out[i] = []any{newIDs[i], w.muni, v.TaxpayerID, v.VIN, v.Plate, v.Category, int64(v.EngineCC), v.EmissionClass, v.Propulsion, string(attrs),
			w.tx.dateArg(v.AcquiredOn), w.tx.dateArgPtr(v.DeregisteredOn), int64(v.TaxedFromYear), now, now, int64(1)}
		w.keep(r, newIDs[i])
	}
	return w.tx.bulkInsert(ctx, "vehicles", vehicleCols, out)
}
