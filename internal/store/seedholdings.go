package store

import (
	"context"
	"encoding/json"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// The synthetic city's buildings and land with shares (BulkLoadHoldings):
// one owner's holding per row, written in one transaction by the bulk path,
// without the checks of a declaration.

// SeedHolding is one owner's holding of a building or plot for
// BulkLoadHoldings (the synthetic city's buildings and land with shares).
type SeedHolding struct {
	TaxpayerID      int64
	Address         string
	CadastralNumber string
	Share           fiscal.Share
	Object          calc.Object
	AcquiredOn      civil.Date
}

var holdingCols = []string{"id", "municipality_id", "taxpayer_id", "address", "cadastral_number", "attributes", "share_parts", "acquired_on",
	"taxed_from_year", "created_at", "updated_at", "version"}

// BulkLoadHoldings writes holdings of one kind ("building" or "land") of
// existing taxpayers in ONE transaction by the engine's bulk path, with one
// audit entry for the load. Like BulkLoad it is for synthetic cities: the
// shares of a cadastral number are not checked here.
func (db *DB) BulkLoadHoldings(ctx context.Context, municipalityID int64, kind string, hs []SeedHolding) error {
	table := propertyTable(kind)
	return db.inConnTx(ctx, func(tx *Tx) error {
		now := tx.Now
		for start := 0; start < len(hs); start += bulkFlush {
			part := hs[start:min(start+bulkFlush, len(hs))]
			ids, err := tx.allocIDs(ctx, table, len(part))
			if err != nil {
				return err
			}
			rows := make([][]any, len(part))
			for i := range part {
				h := &part[i]
				attrs, err := json.Marshal(h.Object)
				if err != nil {
					return fiscal.Internal(err, kind+" attributes")
				}
				rows[i] = []any{ids[i], municipalityID, h.TaxpayerID, h.Address, h.CadastralNumber, string(attrs), int64(h.Share),
					tx.dateArg(h.AcquiredOn), int64(h.AcquiredOn.Year + 1), now, now, int64(1)}
			}
			if err := tx.bulkInsert(ctx, table, holdingCols, rows); err != nil {
				return err
			}
		}
		if db.dialect == "postgres" {
			// The planner must know the table is no longer empty (as Analyze).
			if _, err := tx.Exec(ctx, `ANALYZE `+table); err != nil {
				return translate(err, table)
			}
		}
		return tx.Audit(ctx, municipalityID, "seed."+kind+"s", "municipality", municipalityID, nil, map[string]any{"holdings": len(hs)})
	})
}
