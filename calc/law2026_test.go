package calc

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"fiscald/calc/params"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// The 2026 tables of local-taxes.md §2-§3, typed here from the reference
// (independently of calc/params/data), so every figure of the embedded data
// is checked against the law's text through a quote.
var (
	// art. 470 alin. (2): rows 1-8, columns E0-3, E4, E5, E6, hybrid (lei per 200 cm³).
	table470 = [9][5]string{
		1: {"19.5", "18.8", "17.6", "16.5", "16.2"},
		2: {"22.1", "21.3", "19.9", "18.7", "18.4"},
		3: {"29.7", "28.5", "26.7", "25.1", "24.6"},
		4: {"92.2", "88.6", "82.8", "77.8", "76.3"},
		5: {"182.9", "172.8", "154.1", "151.2", "149.8"},
		6: {"319.0", "297.3", "294.4", "290.0", "275.5"},
		7: {"31.2", "30.0", "28.1", "26.4", "25.9"},
		8: {"39.0", "37.5", "35.1", "33.0", "32.4"},
	}
	// art. 457 alin. (2): with / without utilities, lei/m².
	table457 = map[string][2]string{"A": {"2677", "1606"}, "B": {"803", "535"}, "C": {"535", "469"}, "D": {"335", "201"}}
	// art. 465 alin. (4): lei/ha by zone A-D.
	table465 = map[string][4]string{
		"arable": {"75", "56", "51", "41"}, "pasture": {"56", "51", "41", "36"}, "hayfield": {"56", "51", "41", "36"},
		"vineyard": {"122", "94", "75", "51"}, "orchard": {"143", "122", "94", "75"}, "forest": {"75", "56", "51", "41"},
		"water": {"41", "36", "22", "0"}, "roads": {"0", "0", "0", "0"}, "unproductive": {"0", "0", "0", "0"},
		"beach": {"41", "36", "22", "0"},
	}
	// art. 465 alin. (5): rank coefficients 0, I-V.
	rankCoef465 = [6]string{"8.00", "5.00", "4.00", "3.00", "1.10", "1.00"}
	// art. 457 alin. (6): [rank][zone A-D].
	coef457 = [6][4]string{
		{"2.60", "2.50", "2.40", "2.30"}, {"2.50", "2.40", "2.30", "2.20"}, {"2.40", "2.30", "2.20", "2.10"},
		{"2.30", "2.20", "2.10", "2.00"}, {"1.10", "1.05", "1.00", "0.95"}, {"1.05", "1.00", "0.95", "0.90"},
	}
	// art. 465 alin. (7): ranges of extravilan land, lei/ha.
	ranges465x = map[string][2]string{"constructions": {"60", "83"}, "arable": {"112", "134"}, "pasture": {"54", "75"},
		"hayfield": {"54", "75"}, "vineyard": {"129", "148"}, "orchard": {"129", "150"}, "forest": {"22", "43"},
		"water": {"3", "15"}, "beach": {"3", "15"}}
	// art. 465 alin. (2): ranges of intravilan land with buildings [zone][rank].
	ranges465 = map[string][6][2]string{
		"A": {{"8282", "20706"}, {"6878", "17194"}, {"6042", "15106"}, {"5236", "13090"}, {"711", "1788"}, {"569", "1422"}},
		"B": {{"6878", "17194"}, {"5199", "12998"}, {"4215", "10538"}, {"3558", "8894"}, {"569", "1422"}, {"427", "1068"}},
		"C": {{"5199", "12998"}, {"3558", "8894"}, {"2668", "6670"}, {"1690", "4226"}, {"427", "1068"}, {"284", "710"}},
		"D": {{"3558", "8894"}, {"1690", "4226"}, {"1410", "3526"}, {"984", "2439"}, {"278", "696"}, {"142", "356"}},
	}
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// lei is the expected whole-lei amount of an exact decimal (RoundLei).
func lei(x decimal.Decimal) money.Bani { return money.Bani(RoundLei(x).Shift(2).IntPart()) }

// rankEntry places a test municipality at a rank.
func rankEntry(muni string, rank int) params.Entry {
	return params.Entry{Key: "municipality.rank", Municipality: muni, EffectiveFrom: civil.MustParse("2016-01-01"), Value: fmt.Sprint(rank), LegalBasis: "test"}
}

func council(muni, key, value string) params.Entry {
	return params.Entry{Key: key, Municipality: muni, EffectiveFrom: civil.MustParse("2026-01-01"), Value: value,
		LegalBasis: "test", Decision: &params.Decision{Number: "123/2025", Date: civil.MustParse("2025-12-15")}}
}

// TestVehicleTable2026 quotes every row and column of art. 470 alin. (2),
// nationally and in Timișoara (+50%), at a capacity inside the row.
func TestVehicleTable2026(t *testing.T) {
	e := testEngine(t, national, council("national", "vehicle.bonus_pct", "0"))
	cols := []string{"euro3", "euro4", "euro5", "euro6", ""}
	type probe struct {
		cat string
		cc  int
	}
	probes := map[int][]probe{
		1: {{"car", 1598}, {"motorcycle", 650}}, 2: {{"motorcycle", 1800}}, 3: {{"car", 1968}}, 4: {{"car", 2499}},
		5: {{"car", 2999}}, 6: {{"car", 3100}, {"car", 5000}}, 7: {{"bus", 9000}, {"bus", 2499}}, 8: {{"light_goods", 2287}, {"light_goods", 7200}},
	}
	n := 0
	for row := 1; row <= 8; row++ {
		for _, p := range probes[row] {
			for c, class := range cols {
				o := Object{Kind: "vehicle", Category: p.cat, EngineCC: p.cc, EmissionClass: class, Propulsion: "combustion"}
				if class == "" {
					o.Propulsion, o.CO2GKm = "hybrid", ptr(90)
				}
				groups := decimal.NewFromInt(int64((p.cc + 199) / 200))
				base := groups.Mul(d(table470[row][c]))
				for muni, factor := range map[string]string{"national": "1", "timisoara": "1.5"} {
					r, err := e.Quote(QuoteInput{Municipality: muni, Year: 2026, Object: o})
					if err != nil {
						t.Fatalf("row %d %s %d %q %s: %v", row, p.cat, p.cc, class, muni, err)
					}
					if want := lei(base.Mul(d(factor))); r.AnnualTax != want {
						t.Errorf("row %d %s %d cm³ %q in %s = %s, want %s (%+v)", row, p.cat, p.cc, class, muni, r.AnnualTax, want, r.Lines)
					}
					if !strings.Contains(r.Lines[0].Label, fmt.Sprintf("rândul %d", row)) {
						t.Errorf("row %d: line %q", row, r.Lines[0].Label)
					}
					n++
				}
			}
		}
	}
	if n != 2*5*12 {
		t.Fatalf("%d quotes", n)
	}
}

// TestHybridLowCO2Reduction: a hybrid of at most 50 g CO₂/km gets the
// council's reduction (art. 470 alin. (3), at most 30%), others none.
func TestHybridLowCO2Reduction(t *testing.T) {
	e := testEngine(t, national, council("national", "vehicle.hybrid.low_co2.reduction_pct", "30"), council("national", "vehicle.bonus_pct", "0"))
	for _, tt := range []struct {
		co2  int
		want int64
	}{{50, 91}, {51, 130}} { // 8 × 16.2 = 129.60; × 0.7 = 90.72
		r, err := e.Quote(QuoteInput{Municipality: "national", Year: 2026, Object: Object{Kind: "vehicle", Category: "car", EngineCC: 1598, Propulsion: "hybrid", CO2GKm: ptr(tt.co2)}})
		if err != nil || r.AnnualTax != money.Lei(tt.want) {
			t.Fatalf("%d g: %v %v %+v", tt.co2, r.AnnualTax, err, r.Lines)
		}
		if tt.co2 == 50 && r.Lines[1].LegalBasis != "Codul fiscal art. 470 alin. (3); HCL 123/2025" {
			t.Errorf("reduction line %+v", r.Lines[1])
		}
	}
}

// TestTractorsAndRegistered2026 is art. 470 alin. (2^2): tractors 18 lei
// per 200 cm³ (national); registered vehicles at the council's values.
func TestTractorsAndRegistered2026(t *testing.T) {
	e := testEngine(t, national,
		council("national", "vehicle.registered.small.per_group", "3"),
		council("national", "vehicle.registered.large.per_group", "5.5"),
		council("national", "vehicle.registered.no_cc.annual", "120"))
	for _, tt := range []struct {
		name string
		obj  Object
		want int64
		cite string
	}{
		{"tractor 4,400 cm³", Object{Kind: "vehicle", Category: "tractor", EngineCC: 4400, Propulsion: "combustion", EmissionClass: "non_euro"}, 22 * 18, "Codul fiscal art. 470 alin. (2^2)"},
		{"tractor 4,401 cm³", Object{Kind: "vehicle", Category: "tractor", EngineCC: 4401, Propulsion: "combustion", EmissionClass: "euro3"}, 23 * 18, "Codul fiscal art. 470 alin. (2^2)"},
		{"registered 4,799 cm³", Object{Kind: "vehicle", Category: "registered", EngineCC: 4799}, 24 * 3, "Codul fiscal art. 470 alin. (2^2); HCL 123/2025"},
		{"registered 4,800 cm³", Object{Kind: "vehicle", Category: "registered", EngineCC: 4800}, 132, "Codul fiscal art. 470 alin. (2^2); HCL 123/2025"}, // 24 × 5.5
		{"registered 6,450 cm³", Object{Kind: "vehicle", Category: "registered", EngineCC: 6450}, 182, "Codul fiscal art. 470 alin. (2^2); HCL 123/2025"}, // 33 × 5.5 = 181.5
		{"registered, no capacity", Object{Kind: "vehicle", Category: "registered"}, 120, "Codul fiscal art. 470 alin. (2^2); HCL 123/2025"},
	} {
		a, err := e.Annual("national", 2026, tt.obj)
		if err != nil || a.Annual != money.Lei(tt.want) || a.Lines[0].LegalBasis != tt.cite {
			t.Errorf("%s: %s %v %+v, want %d", tt.name, a.Annual, err, a.Lines, tt.want)
		}
	}
	// Not indexed into 2027 without the year's own values (art. 491).
	_, err := e.Annual("national", 2027, Object{Kind: "vehicle", Category: "tractor", EngineCC: 4400, Propulsion: "combustion", EmissionClass: "euro3"})
	var me *MissingParamError
	if !errors.As(err, &me) || me.Key != "vehicle.tractor.per_group" {
		t.Errorf("2027 tractor: %v", err)
	}
}

// TestBuildingTypes2026 quotes every type A-F of art. 457 alin. (2), with and
// without utilities, in Timișoara (rank I, 0.1%) in each zone.
func TestBuildingTypes2026(t *testing.T) {
	e := testEngine(t)
	n := 0
	for typ, vals := range table457 {
		for u, util := range []bool{true, false} {
			for _, boa := range []string{"", "dwelling", "other"} {
				for z, zone := range []string{"A", "B", "C", "D"} {
					perM2 := d(vals[u])
					switch boa {
					case "dwelling":
						perM2 = perM2.Mul(d("0.75"))
					case "other":
						perM2 = perM2.Mul(d("0.50"))
					}
					value := d("123.40").Mul(perM2).Mul(d(coef457[1][z])).Round(2)
					want := lei(value.Mul(d("0.001")).Round(2))
					a, err := e.Annual("timisoara", 2026, Object{Kind: "building", Use: "residential", ConstructionType: typ, BasementOrAttic: boa,
						Utilities: ptr(util), BuiltAreaM2: dec("123.40"), Zone: zone})
					if err != nil || a.Annual != want {
						t.Errorf("type %s util %v %q zone %s: %s %v, want %s", typ, util, boa, zone, a.Annual, err, want)
					}
					n++
				}
			}
		}
	}
	if n != 4*2*3*4 {
		t.Fatal(n)
	}
	// A worked figure by hand: 100 m² type E over type A with utilities,
	// zone A, rank I: 100 × 2,007.75 × 2.50 × 0.1% = 501.94 → 502 lei.
	a, err := e.Annual("timisoara", 2026, Object{Kind: "building", Use: "residential", ConstructionType: "A", BasementOrAttic: "dwelling",
		Utilities: ptr(true), BuiltAreaM2: dec("100"), Zone: "A"})
	if err != nil || a.Annual != money.Lei(502) || !strings.Contains(a.Lines[0].Label, "tip E") {
		t.Errorf("type E: %s %v %+v", a.Annual, err, a.Lines)
	}
}

// TestBuildingCoefficients2026 checks the whole art. 457 alin. (6) grid: one
// municipality per rank.
func TestBuildingCoefficients2026(t *testing.T) {
	var extra []params.Entry
	for r := 0; r <= 5; r++ {
		m := fmt.Sprintf("rank%d", r)
		extra = append(extra, rankEntry(m, r), council(m, "building.individual.residential.rate_pct", "0.1"))
	}
	e := testEngine(t, extra...)
	for r := 0; r <= 5; r++ {
		for z, zone := range []string{"A", "B", "C", "D"} {
			want := lei(d("1000").Mul(d("2677")).Mul(d(coef457[r][z])).Mul(d("0.001")))
			a, err := e.Annual(fmt.Sprintf("rank%d", r), 2026, Object{Kind: "building", Use: "residential", ConstructionType: "A",
				Utilities: ptr(true), BuiltAreaM2: dec("1000"), Zone: zone})
			if err != nil || a.Annual != want {
				t.Errorf("rank %d zone %s: %s %v, want %s", r, zone, a.Annual, err, want)
			}
		}
	}
}

// TestLandIntravilan2026 quotes every category of art. 465 alin. (4) in every
// zone and rank (× alin. (5)), and the 400 m² rule of alin. (3).
func TestLandIntravilan2026(t *testing.T) {
	var extra []params.Entry
	for r := 0; r <= 5; r++ {
		extra = append(extra, rankEntry(fmt.Sprintf("rank%d", r), r))
	}
	e := testEngine(t, extra...)
	n := 0
	for cat, amounts := range table465 {
		for r := 0; r <= 5; r++ {
			for z, zone := range []string{"A", "B", "C", "D"} {
				want := lei(d("0.25").Mul(d(amounts[z])).Mul(d(rankCoef465[r])).Round(2))
				a, err := e.Annual(fmt.Sprintf("rank%d", r), 2026, Object{Kind: "land", Location: "intravilan", Zone: zone, UseCategory: cat, AreaM2: dec("2500")})
				if err != nil || a.Annual != want {
					t.Errorf("%s rank %d zone %s: %s %v, want %s", cat, r, zone, a.Annual, err, want)
				}
				if err == nil && a.Lines[0].LegalBasis != "Codul fiscal art. 465 alin. (4)-(5)" {
					t.Errorf("basis %q", a.Lines[0].LegalBasis)
				}
				n++
			}
		}
	}
	if n != 10*6*4 {
		t.Fatal(n)
	}
	// ≤ 400 m² of another use is taxed as land with buildings: the council's
	// value for rank I, zone B (inside 5,199-12,998).
	e = testEngine(t, council("timisoara", "land.intravilan.constructions.rank1.zone_b", "10000"))
	for _, tt := range []struct {
		area string
		want int64
		key  string
	}{
		{"400.00", 400, "Teren intravilan (orchard) de cel mult 400 m²"}, // 0.04 × 10,000
		{"400.01", 24, "Teren intravilan (orchard), zona B"},             // 0.040001 × 122 × 5 = 24.40 → 24
	} {
		a, err := e.Annual("timisoara", 2026, Object{Kind: "land", Location: "intravilan", Zone: "B", UseCategory: "orchard", AreaM2: dec(tt.area)})
		if err != nil || !strings.HasPrefix(a.Lines[0].Label, tt.key) {
			t.Fatalf("%s m²: %v %+v", tt.area, err, a.Lines)
		}
		if tt.area == "400.00" && (a.Annual != money.Lei(tt.want) || a.Lines[0].LegalBasis != "Codul fiscal art. 465 alin. (2)-(3); HCL 123/2025") {
			t.Errorf("400 m²: %s %+v", a.Annual, a.Lines)
		}
		if tt.area == "400.01" && a.Annual != lei(d("0.040001").Mul(d("122")).Mul(d("5")).Round(2)) {
			t.Errorf("400.01 m²: %s %+v", a.Annual, a.Lines)
		}
	}
	// Land with buildings in every rank and zone, at each end of the range.
	for zone, byRank := range ranges465 {
		for r := 0; r <= 5; r++ {
			m := fmt.Sprintf("rank%d", r)
			for _, v := range byRank[r] {
				key := fmt.Sprintf("land.intravilan.constructions.rank%d.zone_%s", r, strings.ToLower(zone))
				e := testEngine(t, rankEntry(m, r), council(m, key, v))
				a, err := e.Annual(m, 2026, Object{Kind: "land", Location: "intravilan", Zone: zone, UseCategory: "constructions", AreaM2: dec("700")})
				if want := lei(d("0.07").Mul(d(v))); err != nil || a.Annual != want {
					t.Errorf("%s: %s %v, want %s", key, a.Annual, err, want)
				}
				rg, ok := e.Params.RangeOf(key, m, civil.MustParse("2026-01-01"))
				if !ok || rg.String() != byRank[r][0]+"-"+byRank[r][1] || rg.LegalBasis != "Codul fiscal art. 465 alin. (2)" {
					t.Errorf("range of %s: %+v %v", key, rg, ok)
				}
			}
		}
	}
}

// TestLandExtravilan2026 quotes every category of art. 465 alin. (7) at both
// ends of its range, × the art. 457 alin. (6) coefficient.
func TestLandExtravilan2026(t *testing.T) {
	for cat, rg := range ranges465x {
		for _, v := range rg {
			e := testEngine(t, council("timisoara", "land.extravilan."+cat, v))
			for z, zone := range []string{"A", "B", "C", "D"} {
				want := lei(d("1.5").Mul(d(v)).Mul(d(coef457[1][z])).Round(2))
				a, err := e.Annual("timisoara", 2026, Object{Kind: "land", Location: "extravilan", Zone: zone, UseCategory: cat, AreaM2: dec("15000")})
				if err != nil || a.Annual != want || a.BudgetCode != "07.02.02.03" || a.Lines[0].LegalBasis != "Codul fiscal art. 465 alin. (7); HCL 123/2025" {
					t.Errorf("%s %s zone %s: %s %v %+v, want %s", cat, v, zone, a.Annual, err, a.Lines, want)
				}
			}
			r, ok := e.Params.RangeOf("land.extravilan."+cat, "timisoara", civil.MustParse("2026-06-01"))
			if !ok || r.String() != rg[0]+"-"+rg[1] {
				t.Errorf("range %s: %+v", cat, r)
			}
		}
	}
	e := testEngine(t)
	for _, cat := range []string{"roads", "unproductive"} {
		a, err := e.Annual("timisoara", 2026, Object{Kind: "land", Location: "extravilan", Zone: "A", UseCategory: cat, AreaM2: dec("15000")})
		if err != nil || a.Annual != 0 {
			t.Errorf("%s: %s %v", cat, a.Annual, err)
		}
	}
}

// TestCouncilDecisionCited: a local value carries its decision into the
// legal basis of the lines that use it; national values do not.
func TestCouncilDecisionCited(t *testing.T) {
	e := testEngine(t, council("timisoara", "land.intravilan.constructions.rank1.zone_a", "7000"),
		params.Entry{Key: "land.surcharge_pct", Municipality: "timisoara", EffectiveFrom: civil.MustParse("2026-01-01"), Value: "10",
			LegalBasis: "test", Decision: &params.Decision{Number: "7/2026", Date: civil.MustParse("2026-01-20")}})
	r, err := e.Quote(QuoteInput{Municipality: "timisoara", Year: 2026, Object: Object{Kind: "land", Location: "intravilan", Zone: "A", UseCategory: "constructions", AreaM2: dec("500")}})
	if err != nil {
		t.Fatal(err)
	}
	// 0.05 × 7,000 = 350; + 10% = 385.
	if r.AnnualTax != money.Lei(385) || r.Lines[0].LegalBasis != "Codul fiscal art. 465 alin. (2); HCL 123/2025" ||
		r.Lines[1].LegalBasis != "Codul fiscal art. 489; HCL 7/2026" {
		t.Errorf("%s %+v", r.AnnualTax, r.Lines)
	}
	r, _ = e.Quote(QuoteInput{Municipality: "timisoara", Year: 2026, Object: Object{Kind: "vehicle", Category: "car", EngineCC: 1598, EmissionClass: "euro6", Propulsion: "combustion"}})
	if r.Lines[0].LegalBasis != "Codul fiscal art. 470 alin. (2)" {
		t.Errorf("national line cites %q", r.Lines[0].LegalBasis)
	}
}

// TestCouncilTrucksTrailersBoats: no national default; the council's values
// compute (art. 470 alin. (5), (7), (8)).
func TestCouncilTrucksTrailersBoats(t *testing.T) {
	e := testEngine(t)
	for _, o := range []Object{
		{Kind: "vehicle", Category: "truck", Axles: 2, MaxMassKg: 13500},
		{Kind: "vehicle", Category: "trailer", MaxMassKg: 2500},
		{Kind: "vehicle", Category: "boat", BoatType: "yacht"},
	} {
		var me *MissingParamError
		if _, err := e.Annual("timisoara", 2026, o); !errors.As(err, &me) {
			t.Errorf("%s: %v", o.Category, err)
		}
	}
	e = testEngine(t, council("timisoara", "vehicle.truck.axles2.mass13000-14000.other", "400"),
		council("timisoara", "vehicle.trailer.mass1000-3000", "80"), council("timisoara", "vehicle.boat.yacht", "1200"))
	for _, tt := range []struct {
		obj  Object
		want int64
	}{
		{Object{Kind: "vehicle", Category: "truck", Axles: 2, MaxMassKg: 13500}, 600},
		{Object{Kind: "vehicle", Category: "trailer", MaxMassKg: 2500}, 120},
		{Object{Kind: "vehicle", Category: "boat", BoatType: "yacht"}, 1800},
	} {
		a, err := e.Annual("timisoara", 2026, tt.obj)
		if err != nil || a.Annual != money.Lei(tt.want) || !strings.HasSuffix(a.Lines[0].LegalBasis, "; HCL 123/2025") {
			t.Errorf("%s: %s %v %+v", tt.obj.Category, a.Annual, err, a.Lines)
		}
	}
}

// TestEmbeddedDataConsistent: every embedded key is one the engine reads;
// every range bounds such a key, has both ends with min <= max, and cites the law.
func TestEmbeddedDataConsistent(t *testing.T) {
	s := params.Default()
	for _, en := range s.Entries() {
		if !KnownParam(en.Key) {
			t.Errorf("embedded key %s is not read by the engine", en.Key)
		}
		if !strings.Contains(en.LegalBasis, "art.") && !strings.Contains(en.LegalBasis, "Legea") && !strings.Contains(en.LegalBasis, "Clasificația") {
			t.Errorf("%s: legal basis %q cites no article", en.Key, en.LegalBasis)
		}
		k, ok := RangedKey(en.Key)
		if !ok {
			continue
		}
		r, ok := s.RangeOf(k, "", en.EffectiveFrom)
		if !ok || r.Min.GreaterThan(r.Max) {
			t.Errorf("range of %s from %s: %+v %v", k, en.EffectiveFrom, r, ok)
		}
	}
	if r, ok := s.RangeOf("vehicle.surcharge_pct", "timisoara", civil.MustParse("2025-12-31")); !ok || r.String() != "0-50" {
		t.Errorf("2025 surcharge range %+v", r)
	}
	if r, ok := s.RangeOf("vehicle.surcharge_pct", "timisoara", civil.MustParse("2026-01-01")); !ok || r.String() != "0-100" {
		t.Errorf("2026 surcharge range %+v", r)
	}
}

// TestCheckRange: inside the range (ends included) passes; outside is an
// input error naming value and the range; an unbounded key passes.
func TestCheckRange(t *testing.T) {
	s := params.Default()
	on := civil.MustParse("2026-01-01")
	for v, ok := range map[string]bool{"2": true, "4": true, "3.5": true, "1.99": false, "4.01": false} {
		err := CheckRange(s, "timisoara", "vehicle.registered.small.per_group", on, d(v))
		var ie InputErrors
		if (err == nil) != ok || (!ok && (!errors.As(err, &ie) || ie[0].Field != "value" || !strings.Contains(ie[0].Message, "2-4"))) {
			t.Errorf("%s: %v", v, err)
		}
	}
	if err := CheckRange(s, "timisoara", "vehicle.surcharge_pct", civil.MustParse("2025-01-01"), d("60")); err == nil {
		t.Error("60% surcharge in 2025 (up to 50%)")
	}
	if err := CheckRange(s, "timisoara", "vehicle.surcharge_pct", on, d("60")); err != nil {
		t.Errorf("60%% surcharge in 2026: %v", err)
	}
	if err := CheckRange(s, "timisoara", "vehicle.truck.axles2.mass12000-13000.other", on, d("99999")); err != nil {
		t.Errorf("unbounded key: %v", err)
	}
}

// TestRequirements: the coverage of a year names every key the engine reads
// for each object kind, configured or missing, with the law's article.
func TestRequirements(t *testing.T) {
	e := testEngine(t, council("timisoara", "land.extravilan.arable", "120"))
	reqs, err := e.Requirements("timisoara", 2026)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Requirement{}
	for _, r := range reqs {
		got[r.Key] = r
		if r.LegalBasis == "" || r.What == "" || (r.Kind != "vehicle" && r.Kind != "building" && r.Kind != "land" && r.Kind != "general") {
			t.Errorf("incomplete %+v", r)
		}
	}
	for key, configured := range map[string]bool{
		"vehicle.engine.row6.euro5": true, "vehicle.engine.row7.euro0_3": true, "vehicle.tractor.per_group": true,
		"vehicle.registered.no_cc.annual": false, "vehicle.truck.*": false, "building.value_m2.c.no_utilities": true,
		"building.coef.rank1.zone_d": true, "land.intravilan.constructions.rank1.zone_c": false, "land.extravilan.arable": true,
		"land.extravilan.forest": false, "land.intravilan.unproductive.zone_a": true, "building.company.residential.rate_pct": false,
	} {
		r, ok := got[key]
		if !ok || r.Configured != configured {
			t.Errorf("%s: %+v (want configured %v)", key, r, configured)
		}
	}
	if r := got["land.extravilan.arable"]; r.Entry == nil || r.Entry.Decision == nil || r.Range == nil || r.LegalBasis != "Codul fiscal art. 465 alin. (7)" {
		t.Errorf("extravilan arable %+v", r)
	}
	reqs, _ = e.Requirements("timisoara", 2027)
	for _, r := range reqs {
		if r.Key == "vehicle.engine.row1.euro6" && r.Configured {
			t.Error("2027 row 1 configured without a 2027 entry")
		}
	}
	if ParamBasis("range.vehicle.surcharge_pct.max") != "Codul fiscal art. 489" || ParamBasis("land.intravilan.arable.zone_a") != "Codul fiscal art. 465 alin. (4)" {
		t.Error("ParamBasis")
	}
}
