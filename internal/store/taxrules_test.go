package store_test

import (
	"context"
	"testing"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

func TestTaxEngineOverridesAndBridgeDays(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		golf := calc.Object{Kind: "vehicle", Category: "car", EngineCC: 1598, EmissionClass: "euro6", Propulsion: "combustion"}
		e, err := db.TaxEngine(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		a, err := e.Annual("timisoara", 2026, golf)
		if err != nil || a.Annual.String() != "198.00" {
			t.Fatalf("embedded parameters: %v %v", a.Annual, err)
		}
		// An administrator's entry replaces the embedded one with the same date.
		if _, err := db.SQL().Exec(db.SQL().Rebind(`INSERT INTO tax_parameters (municipality_id, param_key, effective_from, value, legal_basis, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
			m.ID, "vehicle.surcharge_pct", civil.MustParse("2026-01-01"), "100", "HCL test", clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec(db.SQL().Rebind(`INSERT INTO calendar_days (municipality_id, day, reason, created_at) VALUES (?, ?, ?, ?)`),
			m.ID, civil.MustParse("2026-05-11"), "zi liberă (punte)", clock.Now()); err != nil {
			t.Fatal(err)
		}
		db.InvalidateTaxEngine(m.ID)
		e, err = db.TaxEngine(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		a, err = e.Annual("timisoara", 2026, golf)
		if err != nil || a.Annual.String() != "264.00" {
			t.Fatalf("override: %v %v", a.Annual, err)
		}
		if ok, reason := e.Calendar.IsWorkingDay(civil.MustParse("2026-05-11")); ok || reason == "" {
			t.Fatalf("bridge day is a working day: %v %q", ok, reason)
		}
	})
}
