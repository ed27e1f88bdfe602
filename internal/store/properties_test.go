package store_test

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"

	"fiscald/assess"
	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestAnnualRunPerOwnerAndShare: the annual run assesses each owner's
// holding of a building or plot on their share, rounded per owner, with the
// ≤ 50 lei rule on the owner's own sum; its totals by budget code equal an
// independent sum over the holdings; a second run adds nothing.
func TestAnnualRunPerOwnerAndShare(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		ctx, _ := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		tp := func(cnp, name string) int64 {
			p, err := db.CreateTaxpayer(ctx, &fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: cnp, Name: name, Address: "Timișoara"})
			if err != nil {
				t.Fatal(err)
			}
			return p.ID
		}
		ana, mihai, ioana := tp("2850615350041", "Ana"), tp("1850315350012", "Mihai"), tp("2900101350016", "Ioana")
		yes := true
		d := func(s string) *decimal.Decimal { v := decimal.RequireFromString(s); return &v }
		flat := calc.Object{Kind: "building", Use: "residential", ConstructionType: "A", Utilities: &yes, UsableAreaM2: d("55"), Zone: "A", YearBuilt: 2010}
		plot := calc.Object{Kind: "land", Location: "intravilan", Zone: "C", UseCategory: "arable", AreaM2: d("1000")}
		bought := civil.New(2025, 6, 10)
		holdings := []struct {
			kind  string
			owner int64
			cad   string
			share fiscal.Share
			obj   calc.Object
		}{
			{"building", ana, "CAD-1", 6000, flat},
			{"building", mihai, "CAD-1", 4000, flat},
			{"land", ana, "CAD-2", 5000, plot},   // 25.50 × 0.5 = 12.75 → 13 lei
			{"land", ioana, "CAD-2", 5000, plot}, // the same: 13 lei, due whole (≤ 50 lei)
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, h := range holdings {
				hd := fiscal.Holding{TaxpayerID: h.owner, Address: "Timișoara", CadastralNumber: h.cad, Share: h.share, AcquiredOn: bought,
					TaxedFromYear: 2026, Object: h.obj}
				if err := tx.InsertHolding(context.Background(), m.ID, h.kind, &hd, 0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		opts := assess.Options{MunicipalityID: m.ID, Municipality: "timisoara", Year: 2026, BatchObjects: 2, Workers: 2}
		rep, err := assess.Run(ctx, db, opts)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Assessments != 4 || len(rep.Unassessed) != 0 {
			t.Fatalf("report: %+v", rep)
		}
		var got []struct {
			TaxpayerID int64      `db:"taxpayer_id"`
			Kind       string     `db:"object_kind"`
			Annual     money.Bani `db:"annual_bani"`
			Bonus      money.Bani `db:"bonus_bani"`
			Code       string     `db:"budget_code"`
			Debts      int64      `db:"debts"`
		}
		if err := db.SQL().Select(&got, `SELECT a.taxpayer_id, a.object_kind, a.annual_bani, a.bonus_bani, a.budget_code,
			(SELECT COUNT(*) FROM debts d WHERE d.assessment_id = a.id) AS debts FROM assessments a ORDER BY a.object_kind, a.taxpayer_id`); err != nil {
			t.Fatal(err)
		}
		want := []struct {
			owner  int64
			kind   string
			annual money.Bani
			code   string
			debts  int64
		}{
			{ana, "building", money.Lei(309), "07.02.01.01", 2},   // 515.32 × 60% = 309.19 → 309
			{mihai, "building", money.Lei(206), "07.02.01.01", 2}, // 515.32 × 40% = 206.13 → 206
			{ana, "land", money.Lei(13), "07.02.02.01", 1},        // her land tax (13 ≤ 50 lei) is due whole; the rule is per tax type
			{ioana, "land", money.Lei(13), "07.02.02.01", 1},
		}
		if len(got) != len(want) {
			t.Fatalf("assessments: %+v", got)
		}
		engine, err := db.TaxEngine(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		sums := map[string]money.Bani{}
		for i, w := range want {
			g := got[i]
			if g.TaxpayerID != w.owner || g.Kind != w.kind || g.Annual != w.annual || g.Code != w.code {
				t.Errorf("assessment %d: %+v, want %+v", i, g, w)
			}
			if g.Debts != w.debts {
				t.Errorf("assessment %d: %d instalments, want %d (≤ 50 lei on the owner's sum)", i, g.Debts, w.debts)
			}
			// The bonus is the owner's: on their own share's tax.
			wantBonus, err := engine.Bonus("timisoara", 2026, w.kind, w.annual)
			if err != nil || g.Bonus != wantBonus || g.Bonus == 0 {
				t.Errorf("bonus of %d: %s, want %s (%v)", g.TaxpayerID, g.Bonus, wantBonus, err)
			}
			sums[w.code] += w.annual
		}
		for _, row := range rep.Summary {
			if row.Annual != sums[row.BudgetCode] || row.DebtTotal != sums[row.BudgetCode] {
				t.Errorf("summary %s: %s / %s, want %s", row.BudgetCode, row.Annual, row.DebtTotal, sums[row.BudgetCode])
			}
		}
		again, err := assess.Run(ctx, db, opts)
		if err != nil || again.Assessments != 0 || again.Skipped != 4 {
			t.Fatalf("second run: %+v %v", again, err)
		}
	})
}
