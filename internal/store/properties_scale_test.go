package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"fiscald/assess"
	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestAnnualRunPropertyCity seeds a city of buildings and plots (a fifth
// co-owned by two or three owners; types A-D with and without utilities,
// basements and attics E/F, companies' valued buildings; every intravilan
// land category the national table prices) and runs the annual assessment:
// nothing is refused, and its totals by budget code equal an independent
// sum over the holdings (each object computed once, split by share and
// rounded per owner here). Small by default; FISCAL_PROPERTY_CITY=
// "300000,200000" sizes it (BENCHMARKS.md).
func TestAnnualRunPropertyCity(t *testing.T) {
	nb, nl := 3000, 2000
	if v := os.Getenv("FISCAL_PROPERTY_CITY"); v != "" {
		b, l, _ := strings.Cut(v, ",")
		nb, _ = strconv.Atoi(b)
		nl, _ = strconv.Atoi(l)
	}
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		actx := fiscal.WithActor(ctx, &fiscal.Actor{System: true, Username: "seed", MunicipalityID: m.ID})
		rng := rand.New(rand.NewPCG(18, 2026))
		// Owners: individuals and a few companies.
		nInd, nCo := (nb+nl)*3/4+10, nb/20+1
		var seeds []*store.SeedTaxpayer
		for i := 0; i < nInd+nCo; i++ {
			s := &store.SeedTaxpayer{Taxpayer: fiscal.Taxpayer{Kind: fiscal.Individual, Name: fmt.Sprint("Proprietar ", i), Address: "Timișoara"}}
			id := fmt.Sprintf("%013d", 1_000_000_000_000+i)
			if i >= nInd {
				s.Taxpayer.Kind, id = fiscal.Company, fmt.Sprintf("RO%d", 10_000_000+i)
				s.Taxpayer.CUI = &id
			} else {
				s.Taxpayer.CNP = &id
			}
			seeds = append(seeds, s)
		}
		k := 0
		start := time.Now()
		if _, err := db.BulkLoad(actx, m.ID, "seed.synthetic", func() (*store.SeedTaxpayer, error) {
			if k == len(seeds) {
				return nil, nil
			}
			k++
			return seeds[k-1], nil
		}); err != nil {
			t.Fatal(err)
		}
		individual := func() int64 { return seeds[rng.IntN(nInd)].Taxpayer.ID }
		company := func() int64 { return seeds[nInd+rng.IntN(nCo)].Taxpayer.ID }
		engine, err := db.TaxEngine(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]money.Bani{}
		holdings := 0
		// expect adds the owners' shares of an object to the independent sums.
		expect := func(obj calc.Object, shares []int64) {
			a, err := engine.Annual("timisoara", 2026, obj)
			if err != nil {
				t.Fatalf("%+v: %v", obj, err)
			}
			var before int64
			for _, l := range a.Lines {
				if l.Label != "Rotunjire la leu" {
					before += int64(l.Amount)
				}
			}
			for _, p := range shares {
				part := decimal.New(before, -2).Mul(decimal.New(p, -4)).Round(2)
				want[a.BudgetCode] += money.MustFromDecimal(calc.RoundLei(part))
			}
			holdings += len(shares)
		}
		// A fifth co-owned: 12 single owners to 3 co-owned splits.
		splits := [][]int64{{6000, 4000}, {5000, 5000}, {3334, 3333, 3333}}
		for range 12 {
			splits = append(splits, []int64{10000})
		}
		bought := civil.New(2024, 3, 1)
		yes, no := true, false
		var bs, ls []store.SeedHolding
		for i := 0; i < nb; i++ {
			cad := fmt.Sprint("C", i)
			var obj calc.Object
			split := splits[rng.IntN(len(splits))]
			owners := make([]int64, len(split))
			if i%20 == 0 {
				v := decimal.New(int64(200_000+rng.IntN(5_000_000)), 0)
				obj = calc.Object{Kind: "building", OwnerKind: calc.OwnerCompany, Use: "non_residential", TaxableValue: &v}
				split = []int64{10000}
				owners = []int64{company()}
			} else {
				area := decimal.New(int64(30+rng.IntN(170)), 0)
				obj = calc.Object{Kind: "building", OwnerKind: calc.OwnerIndividual, Use: "residential", ConstructionType: string(rune('A' + rng.IntN(4))),
					Zone: string(rune('A' + rng.IntN(4))), Utilities: []*bool{&yes, &no}[rng.IntN(2)], UsableAreaM2: &area, YearBuilt: 1900 + rng.IntN(125)}
				if i%7 == 0 {
					obj.BasementOrAttic = []string{"dwelling", "other"}[rng.IntN(2)]
				}
				for j := range owners {
					owners[j] = individual()
				}
				if len(owners) > 1 && owners[0] == owners[1] || len(owners) > 2 && (owners[2] == owners[0] || owners[2] == owners[1]) {
					split, owners = []int64{10000}, owners[:1]
				}
			}
			expect(obj, split)
			for j, o := range owners {
				ob := obj
				ob.OwnerKind = ""
				bs = append(bs, store.SeedHolding{TaxpayerID: o, Address: "Timișoara", CadastralNumber: cad, Share: fiscal.Share(split[j]), Object: ob, AcquiredOn: bought})
			}
		}
		cats := []string{"arable", "pasture", "hayfield", "vineyard", "orchard", "forest", "water", "roads", "unproductive", "beach"}
		for i := 0; i < nl; i++ {
			area := decimal.New(int64(500+rng.IntN(50_000)), 0)
			obj := calc.Object{Kind: "land", OwnerKind: calc.OwnerIndividual, Location: "intravilan", Zone: string(rune('A' + rng.IntN(4))),
				UseCategory: cats[rng.IntN(len(cats))], AreaM2: &area}
			split := splits[rng.IntN(len(splits))]
			owners := make([]int64, len(split))
			for j := range owners {
				owners[j] = individual()
			}
			if len(owners) > 1 && owners[0] == owners[1] || len(owners) > 2 && (owners[2] == owners[0] || owners[2] == owners[1]) {
				split, owners = []int64{10000}, owners[:1]
			}
			expect(obj, split)
			for j, o := range owners {
				ob := obj
				ob.OwnerKind = ""
				ls = append(ls, store.SeedHolding{TaxpayerID: o, Address: "Timișoara", CadastralNumber: fmt.Sprint("T", i), Share: fiscal.Share(split[j]), Object: ob, AcquiredOn: bought})
			}
		}
		if err := db.BulkLoadHoldings(actx, m.ID, "building", bs); err != nil {
			t.Fatal(err)
		}
		if err := db.BulkLoadHoldings(actx, m.ID, "land", ls); err != nil {
			t.Fatal(err)
		}
		if err := db.Analyze(ctx); err != nil {
			t.Fatal(err)
		}
		seeded := time.Since(start)
		start = time.Now()
		rep, err := assess.Run(actx, db, assess.Options{MunicipalityID: m.ID, Municipality: "timisoara", Year: 2026,
			Phases: []string{fiscal.PhaseBuildings, fiscal.PhaseLands}})
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		if len(rep.Unassessed) != 0 || rep.Assessments != int64(holdings) {
			t.Fatalf("run: %d assessments of %d holdings, unassessed %+v", rep.Assessments, holdings, rep.Unassessed)
		}
		got := map[string]money.Bani{}
		for _, r := range rep.Summary {
			if r.Annual != r.DebtTotal {
				t.Errorf("%s: assessed %s, debts %s", r.BudgetCode, r.Annual, r.DebtTotal)
			}
			got[r.BudgetCode] += r.Annual
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("totals by budget code: run %v, independent sum %v", got, want)
		}
		t.Logf("%d buildings + %d plots = %d holdings (%d taxpayers): seeded in %s, annual run %s (%.0f holdings/s, %d debts); totals %v",
			nb, nl, holdings, len(seeds), seeded.Round(time.Millisecond), took.Round(time.Millisecond), float64(holdings)/took.Seconds(), rep.Debts, got)
	})
}
