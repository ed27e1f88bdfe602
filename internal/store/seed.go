package store

import (
	"context"
	"encoding/json"
	"fmt"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/auth"
	"fiscald/internal/civil"
)

// The synthetic city (fiscald seed --synthetic): taxpayers with their
// vehicles and buildings written in one transaction by the bulk path
// (BulkLoad), the planner's statistics refreshed after it (Analyze), and
// taxpayer accounts for load tests (SyntheticAccounts). Not for real data:
// identities are not re-checked here.

// SeedBuilding is a building entry for BulkLoad.
type SeedBuilding struct {
	Address    string
	Object     calc.Object
	AcquiredOn civil.Date
	DisposedOn *civil.Date
}

// SeedTaxpayer is a taxpayer with what they own, for BulkLoad.
type SeedTaxpayer struct {
	Taxpayer  fiscal.Taxpayer
	Vehicles  []fiscal.Vehicle
	Buildings []SeedBuilding
	// Lands are plots of land (Object.Kind "land"), written to the lands
	// table (whole, share 1) and taxed by the annual run's land phase.
	Lands []SeedBuilding
}

// SeedCounts is what BulkLoad wrote.
type SeedCounts struct {
	Taxpayers, Vehicles, Buildings, Lands int64
}

// bulkFlush is how many rows BulkLoad buffers per table before writing them.
const bulkFlush = 8192

var (
	taxpayerCols = []string{"id", "municipality_id", "kind", "cnp", "cui", "name", "address", "email", "phone", "created_at", "updated_at", "version"}
	vehicleCols  = []string{"id", "municipality_id", "taxpayer_id", "vin", "plate", "category", "engine_cc", "emission_class", "propulsion", "attributes",
		"acquired_on", "deregistered_on", "taxed_from_year", "created_at", "updated_at", "version"}
	buildingCols = []string{"id", "municipality_id", "taxpayer_id", "address", "attributes", "acquired_on", "disposed_on", "created_at", "updated_at", "version"}
)

// BulkLoad writes taxpayers with their vehicles and buildings, pulled from
// next until it returns nil, in ONE transaction by the engine's bulk path,
// with one audit entry (action, counts) for the whole load. It is for the
// synthetic city (benchmarks, demos), not for registrations: identity
// numbers are not re-validated here and a duplicate fails the whole load
// with ECONFLICT.
func (db *DB) BulkLoad(ctx context.Context, municipalityID int64, action string, next func() (*SeedTaxpayer, error)) (SeedCounts, error) {
	var c SeedCounts
	err := db.inConnTx(ctx, func(tx *Tx) error {
		c = SeedCounts{}
		now := tx.Now
		var tps, vs, bs, ls [][]any
		// Owners are written before what they own (foreign keys).
		flush := func(force bool) error {
			if !force && len(tps) < bulkFlush && len(vs) < bulkFlush && len(bs) < bulkFlush && len(ls) < bulkFlush {
				return nil
			}
			if err := tx.bulkInsert(ctx, "taxpayers", taxpayerCols, tps); err != nil {
				return err
			}
			if err := tx.bulkInsert(ctx, "vehicles", vehicleCols, vs); err != nil {
				return err
			}
			if err := tx.bulkInsert(ctx, "buildings", buildingCols, bs); err != nil {
				return err
			}
			if err := tx.bulkInsert(ctx, "lands", buildingCols, ls); err != nil {
				return err
			}
			tps, vs, bs, ls = tps[:0], vs[:0], bs[:0], ls[:0]
			return nil
		}
		// Ids: on PostgreSQL blocks of the tables' sequences; on SQLite the
		// immediate transaction holds the write lock, so MAX(id)+1.. is ours.
		pools := map[string][]int64{}
		last := map[string]int64{}
		nextID := func(table string) (int64, error) {
			if tx.db.dialect == "postgres" {
				if len(pools[table]) == 0 {
					p, err := tx.allocIDs(ctx, table, bulkFlush)
					if err != nil {
						return 0, err
					}
					pools[table] = p
				}
				v := pools[table][0]
				pools[table] = pools[table][1:]
				return v, nil
			}
			if _, ok := last[table]; !ok {
				var max int64
				if err := tx.GetContext(ctx, &max, `SELECT COALESCE(MAX(id), 0) FROM `+table); err != nil {
					return 0, translate(err, table)
				}
				last[table] = max
			}
			last[table]++
			return last[table], nil
		}
		for {
			s, err := next()
			if err != nil {
				return err
			}
			if s == nil {
				break
			}
			t := &s.Taxpayer
			if t.ID, err = nextID("taxpayers"); err != nil {
				return err
			}
			tps = append(tps, []any{t.ID, municipalityID, string(t.Kind), t.CNP, t.CUI, t.Name, t.Address, t.Email, t.Phone, now, now, int64(1)})
			c.Taxpayers++
			for i := range s.Vehicles {
				v := &s.Vehicles[i]
				if v.ID, err = nextID("vehicles"); err != nil {
					return err
				}
				attrs, err := json.Marshal(v.VehicleObject())
				if err != nil {
					return fiscal.Internal(err, "vehicle attributes")
				}
				vs = append(vs, []any{v.ID, municipalityID, t.ID, v.VIN, v.Plate, v.Category, int64(v.EngineCC), v.EmissionClass, v.Propulsion, string(attrs),
					tx.dateArg(v.AcquiredOn), tx.dateArgPtr(v.DeregisteredOn), int64(v.TaxedFromYear), now, now, int64(1)})
				c.Vehicles++
			}
			for i := range len(s.Buildings) + len(s.Lands) {
				var b *SeedBuilding
				table, rows, n := "buildings", &bs, &c.Buildings
				if i < len(s.Buildings) {
					b = &s.Buildings[i]
				} else {
					b, table, rows, n = &s.Lands[i-len(s.Buildings)], "lands", &ls, &c.Lands
				}
				id, err := nextID(table)
				if err != nil {
					return err
				}
				attrs, err := json.Marshal(b.Object)
				if err != nil {
					return fiscal.Internal(err, table+" attributes")
				}
				*rows = append(*rows, []any{id, municipalityID, t.ID, b.Address, string(attrs), tx.dateArg(b.AcquiredOn), tx.dateArgPtr(b.DisposedOn), now, now, int64(1)})
				(*n)++
			}
			if err := flush(false); err != nil {
				return err
			}
		}
		if err := flush(true); err != nil {
			return err
		}
		return tx.Audit(ctx, municipalityID, action, "municipality", municipalityID, nil, c)
	})
	if fiscal.ErrorCode(err) == fiscal.ECONFLICT {
		return SeedCounts{}, fiscal.Errorf(fiscal.ECONFLICT, "the load collides with existing rows (a CNP, CUI or active VIN already registered: was this city seeded already?)")
	}
	return c, err
}

// Analyze refreshes the planner's statistics (and, on PostgreSQL, the
// visibility map) after a bulk load, so the annual run's range queries use
// their indexes instead of scanning a table the planner believes empty.
func (db *DB) Analyze(ctx context.Context) error {
	q := `ANALYZE`
	if db.dialect == "postgres" {
		q = `VACUUM (ANALYZE) taxpayers, vehicles, buildings`
	}
	_, err := db.db.ExecContext(ctx, q)
	return translate(err, "analyze")
}

// SyntheticAccounts gives the first n taxpayers of the municipality that own
// a registered vehicle and have no account yet a taxpayer account named
// prefix + a six-digit sequence number (prefix000001, ...), all with the same
// password, for load tests and demos of a synthetic city. The password is
// hashed once (argon2id costs tens of milliseconds): every account shares the
// hash, which is acceptable only for synthetic data. One transaction, one
// audit entry. It returns how many accounts it created (fewer than n when the
// city has fewer such taxpayers).
func (db *DB) SyntheticAccounts(ctx context.Context, municipalityID int64, n int, prefix, password string) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	if err := fiscal.CheckPassword(password, prefix); err != nil {
		return 0, err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return 0, fiscal.Internal(err, "hash password")
	}
	created := 0
	err = db.InTx(ctx, func(tx *Tx) error {
		var tps []struct {
			ID    int64  `db:"id"`
			Name  string `db:"name"`
			Email string `db:"email"`
		}
		if err := tx.Select(ctx, &tps, `SELECT t.id, t.name, t.email FROM taxpayers t
			WHERE t.municipality_id = ?
			  AND EXISTS (SELECT 1 FROM vehicles v WHERE v.taxpayer_id = t.id AND v.deregistered_on IS NULL)
			  AND NOT EXISTS (SELECT 1 FROM users u WHERE u.taxpayer_id = t.id)
			ORDER BY t.id LIMIT ?`, municipalityID, n); err != nil {
			return translate(err, "taxpayer")
		}
		var first, last int64
		for i, t := range tps {
			id, err := tx.Insert(ctx, `INSERT INTO users (municipality_id, username, password_hash, role, taxpayer_id, email, full_name, created_at, assurance) VALUES (?, ?, ?, 'taxpayer', ?, ?, ?, ?, 'verified')`,
				municipalityID, fmt.Sprintf("%s%06d", prefix, i+1), hash, t.ID, t.Email, t.Name, tx.Now)
			if err != nil {
				return translate(err, "user")
			}
			if first == 0 {
				first = id
			}
			last = id
		}
		created = len(tps)
		return tx.Audit(ctx, municipalityID, "seed.accounts", "user", first, nil,
			map[string]any{"accounts": created, "first_user_id": first, "last_user_id": last, "prefix": prefix})
	})
	if err != nil {
		return 0, err
	}
	return created, nil
}
