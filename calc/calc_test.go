package calc

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"fiscald/calc/calendar"
	"fiscald/calc/params"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

func testEngine(t testing.TB, extra ...params.Entry) *Engine {
	t.Helper()
	set, err := params.NewSet(append(params.Defaults(), extra...))
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{Params: set, Calendar: calendar.MustNew(nil)}
}

func dec(s string) *decimal.Decimal { d := decimal.RequireFromString(s); return &d }
func ptr[T any](v T) *T             { return &v }

// national is the 2026 table without Timișoara's surcharge: a municipality
// "national" with only a rank entry.
var national = params.Entry{Key: "municipality.rank", Municipality: "national", EffectiveFrom: civil.MustParse("2016-01-01"), Value: "1", LegalBasis: "test"}

func TestRoundLei(t *testing.T) {
	for in, want := range map[string]string{"178.20": "178", "194.4": "194", "1151.80": "1152", "515.3225": "515",
		"438.02": "438", "11.52": "12", "0.50": "1", "0.49": "0", "0.495": "1", "2.5": "3", "198": "198", "-0.5": "-1"} {
		if got := RoundLei(decimal.RequireFromString(in)); got.String() != want {
			t.Errorf("RoundLei(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestWorkedExamples checks every worked example of local-taxes.md §2-§3.
func TestWorkedExamples(t *testing.T) {
	e := testEngine(t, national)
	car := func(cc int, class, prop string) Object {
		o := Object{Kind: "vehicle", Category: "car", EngineCC: cc, EmissionClass: class, Propulsion: prop}
		if prop == "hybrid" {
			o.CO2GKm = ptr(80)
		}
		return o
	}
	tests := []struct {
		name   string
		muni   string
		obj    Object
		annual int64
	}{
		{"1598 E6 national", "national", car(1598, "euro6", "combustion"), 132},
		{"1598 E6 Timișoara", "timisoara", car(1598, "euro6", "combustion"), 198},
		{"1598 E0-3 Timișoara", "timisoara", car(1598, "euro3", "combustion"), 234},
		{"1598 hybrid Timișoara", "timisoara", car(1598, "", "hybrid"), 194},
		{"3100 E0-3 Timișoara", "timisoara", car(3100, "non_euro", "combustion"), 7656},
		{"3100 E6 Timișoara", "timisoara", car(3100, "euro6", "combustion"), 6960},
		{"1968 E5 national", "national", car(1968, "euro5", "combustion"), 267},
		{"2499 E4 national", "national", car(2499, "euro4", "combustion"), 1152},
		{"electric Timișoara", "timisoara", Object{Kind: "vehicle", Category: "car", Propulsion: "electric"}, 40},
		{"flat 55 m² usable", "timisoara", Object{Kind: "building", Use: "residential", ConstructionType: "A", Utilities: ptr(true),
			UsableAreaM2: dec("55.00"), Zone: "A"}, 515},
		{"flat built 1970", "timisoara", Object{Kind: "building", Use: "residential", ConstructionType: "A", Utilities: ptr(true),
			UsableAreaM2: dec("55.00"), Zone: "A", YearBuilt: 1970}, 438},
		{"flat 77 m² built", "timisoara", Object{Kind: "building", Use: "residential", ConstructionType: "A", Utilities: ptr(true),
			BuiltAreaM2: dec("77.00"), Zone: "A"}, 515},
		{"company non-residential", "timisoara", Object{Kind: "building", OwnerKind: "company", Use: "non_residential",
			TaxableValue: dec("1000000.00")}, 15000},
		{"1000 m² intravilan arable zone C", "timisoara", Object{Kind: "land", Location: "intravilan", Zone: "C", UseCategory: "arable", AreaM2: dec("1000.00")}, 26},
		{"5000 m² intravilan vineyard zone A", "timisoara", Object{Kind: "land", Location: "intravilan", Zone: "A", UseCategory: "vineyard", AreaM2: dec("5000.00")}, 305},
		{"sidecar 1598 E6", "national", Object{Kind: "vehicle", Category: "motorcycle", EngineCC: 1598, EmissionClass: "euro6", Propulsion: "combustion", Sidecar: true}, 66},
		{"severe disability 1598 E6 Timișoara", "timisoara", Object{Kind: "vehicle", Category: "car", EngineCC: 1598, EmissionClass: "euro6", Propulsion: "combustion", Disability: "severe"}, 99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := e.Annual(tt.muni, 2026, tt.obj)
			if err != nil {
				t.Fatal(err)
			}
			if a.Annual != money.Lei(tt.annual) {
				t.Errorf("annual = %s, want %d; lines %+v", a.Annual, tt.annual, a.Lines)
			}
			var sum money.Bani
			for _, l := range a.Lines {
				sum += l.Amount
				if l.Label == "" || l.LegalBasis == "" {
					t.Errorf("incomplete line %+v", l)
				}
			}
			if sum != a.Annual {
				t.Errorf("lines add up to %s, annual %s", sum, a.Annual)
			}
		})
	}
}

func TestQuoteContractExample(t *testing.T) {
	e := testEngine(t)
	var in QuoteInput
	if err := json.Unmarshal([]byte(`{"municipality": "timisoara", "year": 2026, "paid_on": "2026-05-10",
		"object": {"kind": "vehicle", "category": "car", "engine_cc": 1598, "emission_class": "euro6", "propulsion": "combustion"}}`), &in); err != nil {
		t.Fatal(err)
	}
	r, err := e.Quote(in)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(r)
	for _, want := range []string{`"tax_type":"vehicle"`, `"budget_code":"16.02.02.01"`, `"annual_tax":"198.00"`,
		`"installments":[{"due_date":"2026-03-31","amount":"99.00"},{"due_date":"2026-09-30","amount":"99.00"}]`,
		`"early_payment_bonus":"20.00"`,
		`"settlement":{"paid_on":"2026-05-10","principal":"198.00","bonus":"0.00","late_fees":"2.00","total":"200.00"}`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("quote %s\nlacks %s", got, want)
		}
	}
	// Paid by the first deadline: 198 - 20 = 178 (the worked example's 178.20 → 178).
	in.PaidOn = ptr(civil.MustParse("2026-03-31"))
	r, _ = e.Quote(in)
	if r.Settlement.Total != money.Lei(178) || r.Settlement.Bonus != money.Lei(20) || r.Settlement.LateFees != 0 {
		t.Errorf("settlement by the deadline = %+v", r.Settlement)
	}
}

func TestLateFees(t *testing.T) {
	e := testEngine(t)
	d := civil.MustParse
	tests := []struct {
		principal     int64
		due, paid     string
		periods, fees int64
	}{
		{576, "2026-03-31", "2026-05-10", 2, 12}, // the worked example: 11.52 → 12
		{576, "2026-03-31", "2026-03-31", 0, 0},
		{576, "2026-03-31", "2026-04-01", 1, 6},
		{576, "2026-03-31", "2026-04-30", 1, 6},
		{576, "2026-03-31", "2026-05-01", 2, 12},
		{100, "2026-01-31", "2026-03-01", 2, 2},  // 1 Feb-28 Feb, 1 Mar
		{100, "2026-01-30", "2026-02-28", 1, 1},  // 31 Jan-28 Feb (no 31 Feb)
		{100, "2026-01-30", "2026-03-01", 2, 2},  // next period opens 1 Mar
		{100, "2026-01-30", "2026-03-31", 3, 3},  // 31 Mar opens the third
		{100, "2024-01-29", "2024-02-29", 1, 1},  // leap year: 30 Jan-29 Feb
		{100, "2025-01-29", "2025-03-01", 2, 2},  // 30 Jan-28 Feb, then 1 Mar
		{50, "2026-09-30", "2026-10-01", 1, 1},   // 0.50 → 1
		{49, "2026-09-30", "2026-10-01", 1, 0},   // 0.49 → 0
		{99, "2026-03-31", "2027-03-31", 12, 12}, // 11.88 → 12
	}
	for _, tt := range tests {
		if p := LatePeriods(d(tt.due), d(tt.paid)); p != int(tt.periods) {
			t.Errorf("LatePeriods(%s, %s) = %d, want %d", tt.due, tt.paid, p, tt.periods)
		}
		f, err := e.LateFees("timisoara", money.Lei(tt.principal), d(tt.due), d(tt.paid))
		if err != nil || f != money.Lei(tt.fees) {
			t.Errorf("LateFees(%d, %s, %s) = %s, %v; want %d", tt.principal, tt.due, tt.paid, f, err, tt.fees)
		}
	}
}

func TestInstallments(t *testing.T) {
	e := testEngine(t, national)
	d := civil.MustParse
	tests := []struct {
		muni   string
		year   int
		annual int64
		want   []Installment
	}{
		{"timisoara", 2026, 515, []Installment{{d("2026-03-31"), money.Lei(258)}, {d("2026-09-30"), money.Lei(257)}}},
		{"timisoara", 2026, 50, []Installment{{d("2026-03-31"), money.Lei(50)}}},
		{"timisoara", 2026, 51, []Installment{{d("2026-03-31"), money.Lei(26)}, {d("2026-09-30"), money.Lei(25)}}},
		// 2029: 31 March is a Saturday, 30 September a Sunday.
		{"timisoara", 2029, 100, []Installment{{d("2029-04-02"), money.Lei(50)}, {d("2029-10-01"), money.Lei(50)}}},
		// 2030: 31 March is a Sunday.
		{"timisoara", 2030, 40, []Installment{{d("2030-04-01"), money.Lei(40)}}},
	}
	for _, tt := range tests {
		got, err := e.Installments(tt.muni, tt.year, money.Lei(tt.annual))
		if err != nil || len(got) != len(tt.want) {
			t.Fatalf("Installments(%d, %d) = %v, %v", tt.year, tt.annual, got, err)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("Installments(%d, %d)[%d] = %v, want %v", tt.year, tt.annual, i, got[i], tt.want[i])
			}
		}
	}
}

func TestBandEdges(t *testing.T) {
	e := testEngine(t, national)
	for _, tt := range []struct {
		cc   int
		want int64
	}{
		{1, 17}, {200, 17}, {201, 33}, // E6 row 1: 16.5 × groups, rounded
		{1500, 132},              // norms pct. 114: 1,500 cm³ gives 8 groups
		{1600, 132}, {1601, 226}, // 8 × 16.5; 9 × 25.1 = 225.9
		{2000, 251}, {2001, 856}, // 10 × 25.1; 11 × 77.8 = 855.8
		{2600, 1011}, {2601, 2117}, // 13 × 77.8 = 1011.4; 14 × 151.2 = 2116.8
		{3000, 2268}, {3001, 4640}, // 15 × 151.2; 16 × 290
	} {
		got, _, err := e.VehicleAnnualTax("national", 2026, Vehicle{Category: "car", EngineCC: tt.cc, EmissionClass: "euro6", Propulsion: "combustion"})
		if err != nil || got != money.Lei(tt.want) {
			t.Errorf("%d cm³ E6 = %s, %v; want %d", tt.cc, got, err, tt.want)
		}
	}
}

// TestMonotonic: within a column the tax never decreases as engine_cc grows.
func TestMonotonic(t *testing.T) {
	e := testEngine(t, national)
	for _, cat := range []string{"car", "motorcycle"} {
		for _, class := range []string{"euro3", "euro6"} {
			prev := money.Bani(0)
			for cc := 50; cc <= 6000; cc += 7 {
				got, _, err := e.VehicleAnnualTax("timisoara", 2026, Vehicle{Category: cat, EngineCC: cc, EmissionClass: class, Propulsion: "combustion"})
				if err != nil {
					t.Fatal(err)
				}
				if got < prev {
					t.Fatalf("%s %s: %d cm³ owes %s < %s", cat, class, cc, got, prev)
				}
				prev = got
			}
		}
	}
}

// TestSettlementProperty: total = annual - bonus by the first deadline, annual + late fees after.
func TestSettlementProperty(t *testing.T) {
	e := testEngine(t)
	start := civil.MustParse("2026-01-01")
	for _, cc := range []int{0, 99, 1598, 2499, 3100} {
		in := QuoteInput{Municipality: "timisoara", Year: 2026, Object: Object{Kind: "vehicle", Category: "car", EngineCC: cc, EmissionClass: "euro6", Propulsion: "combustion"}}
		if cc == 0 {
			in.Object.Propulsion = "electric"
		}
		for day := 0; day < 800; day += 3 {
			in.PaidOn = ptr(start.AddDays(day))
			r, err := e.Quote(in)
			if err != nil {
				t.Fatal(err)
			}
			s := r.Settlement
			if s.Principal != r.AnnualTax || s.Total != r.AnnualTax-s.Bonus+s.LateFees {
				t.Fatalf("%+v", s)
			}
			early := !in.PaidOn.After(r.Installments[0].DueDate)
			if early != (s.Bonus == r.EarlyPaymentBonus && s.LateFees == 0) || (!early && s.Bonus != 0) {
				t.Fatalf("paid %s: %+v", in.PaidOn, s)
			}
		}
	}
}

func TestMissingParams(t *testing.T) {
	e := testEngine(t)
	tests := []struct {
		year int
		obj  Object
		key  string
		msg  string
	}{
		{2026, Object{Kind: "vehicle", Category: "truck", Axles: 4, MaxMassKg: 30000}, "vehicle.truck.axles4.*",
			"no rate configured for trucks >= 12 t, 4 axles, 30000 kg, in 2026 for municipality timisoara"},
		{2027, Object{Kind: "vehicle", Category: "bus", EngineCC: 9000, EmissionClass: "euro6", Propulsion: "combustion"}, "vehicle.engine.row7.euro6", "buses"},
		{2026, Object{Kind: "vehicle", Category: "registered", EngineCC: 3000}, "vehicle.registered.small.per_group", "within 2-4 (Codul fiscal art. 470 alin. (2^2)"},
		{2026, Object{Kind: "vehicle", Category: "registered"}, "vehicle.registered.no_cc.annual", "within 50-150"},
		{2026, Object{Kind: "land", Location: "extravilan", Zone: "B", UseCategory: "arable", AreaM2: dec("20000")}, "land.extravilan.arable", "within 112-134"},
		{2026, Object{Kind: "land", Location: "intravilan", Zone: "B", UseCategory: "orchard", AreaM2: dec("400")}, "land.intravilan.constructions.rank1.zone_b", "within 5199-12998"},
		{2027, Object{Kind: "vehicle", Category: "car", EngineCC: 1598, EmissionClass: "euro6", Propulsion: "combustion"}, "vehicle.engine.row1.euro6", "in 2027"},
		{2025, Object{Kind: "vehicle", Category: "car", EngineCC: 1598, EmissionClass: "euro6", Propulsion: "combustion"}, "vehicle.engine.row1.euro6", "in 2025"},
		{2026, Object{Kind: "vehicle", Category: "trailer", MaxMassKg: 750}, "vehicle.trailer.*", "trailers"},
		{2026, Object{Kind: "vehicle", Category: "boat", BoatType: "yacht"}, "vehicle.boat.yacht", "water"},
		{2027, Object{Kind: "building", Use: "residential", ConstructionType: "C", Utilities: ptr(true), BuiltAreaM2: dec("50"), Zone: "B"}, "building.value_m2.c.utilities", "type C"},
		{2026, Object{Kind: "building", Use: "non_residential", ConstructionType: "A", Utilities: ptr(true), BuiltAreaM2: dec("50"), Zone: "B"}, "building.individual.non_residential.rate_pct", "non-residential"},
		{2026, Object{Kind: "land", Location: "intravilan", Zone: "A", UseCategory: "constructions", AreaM2: dec("500")}, "land.intravilan.constructions.rank1.zone_a",
			"intravilan land with buildings, rank 1, zone A, in 2026 for municipality timisoara: the council chooses it within 6878-17194 (Codul fiscal art. 465 alin. (2)) (parameter land.intravilan.constructions.rank1.zone_a)"},
	}
	for _, tt := range tests {
		_, err := e.Quote(QuoteInput{Municipality: "timisoara", Year: tt.year, Object: tt.obj})
		var me *MissingParamError
		if !errors.As(err, &me) || me.Key != tt.key || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%+v: err = %v, want missing %s", tt.obj, err, tt.key)
		}
	}
}

func TestInputErrors(t *testing.T) {
	e := testEngine(t)
	_, err := e.Quote(QuoteInput{Municipality: "nowhere", Year: 2026, Object: Object{Kind: "vehicle", Category: "car", EngineCC: 1598, EmissionClass: "euro6", Propulsion: "combustion"}})
	if !errors.Is(err, ErrUnknownMunicipality) {
		t.Errorf("unknown municipality: %v", err)
	}
	tests := []struct {
		obj    Object
		fields []string
	}{
		{Object{Kind: "vehicle", Category: "spaceship"}, []string{"object.category"}},
		{Object{Kind: "vehicle", Category: "car", EngineCC: -5, Propulsion: "combustion"}, []string{"object.engine_cc", "object.engine_cc", "object.emission_class"}},
		{Object{Kind: "vehicle", Category: "car", EngineCC: 1400, Propulsion: "hybrid"}, []string{"object.co2_g_km"}},
		{Object{Kind: "vehicle", Category: "truck", Axles: 2, MaxMassKg: 8000}, []string{"object.max_mass_kg"}},
		{Object{Kind: "building", Use: "residential", ConstructionType: "E", Zone: "A", Utilities: ptr(true), BuiltAreaM2: dec("-3")}, []string{"object.construction_type", "object.built_area_m2"}},
		{Object{Kind: "building", OwnerKind: "company", Use: "mixed", Parts: []BuildingPart{{Use: "garage"}}}, []string{"object.parts[0].use", "object.parts[0].taxable_value"}},
		{Object{Kind: "boat"}, []string{"object.kind"}},
	}
	for _, tt := range tests {
		_, err := e.Quote(QuoteInput{Municipality: "timisoara", Year: 2026, Object: tt.obj})
		var ie InputErrors
		if !errors.As(err, &ie) {
			t.Errorf("%+v: err = %v", tt.obj, err)
			continue
		}
		var got []string
		for _, f := range ie {
			got = append(got, f.Field)
		}
		if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
			t.Errorf("%+v: fields %v, want %v", tt.obj, got, tt.fields)
		}
	}
	// disability on a 2,000 cm³ car
	_, err = e.Quote(QuoteInput{Municipality: "timisoara", Year: 2026, Object: Object{Kind: "vehicle", Category: "car", EngineCC: 2000, EmissionClass: "euro6", Propulsion: "combustion", Disability: "accentuated"}})
	var ie InputErrors
	if !errors.As(err, &ie) || ie[0].Field != "object.disability" {
		t.Errorf("disability over the limit: %v", err)
	}
}

func TestOwnership(t *testing.T) {
	d := civil.MustParse
	dp := func(s string) *civil.Date { v := d(s); return &v }
	if FirstTaxedYear(d("2025-12-31")) != 2026 || LastTaxedYear(d("2026-03-01")) != 2026 {
		t.Error("first/last year")
	}
	tests := []struct {
		acq   string
		dereg *civil.Date
		year  int
		want  bool
	}{
		{"2025-06-01", nil, 2025, false},
		{"2025-06-01", nil, 2026, true},
		{"2025-12-31", nil, 2026, true},
		{"2024-01-10", dp("2026-02-01"), 2026, true},  // seller owes the year of sale
		{"2024-01-10", dp("2026-02-01"), 2027, false}, // stops from next 1 January
		{"2024-01-10", dp("2025-12-31"), 2026, false},
		{"2026-02-01", dp("2026-08-01"), 2026, true},  // same-year buy and sell from 2026
		{"2025-02-01", dp("2025-08-01"), 2025, false}, // before OUG 7/2026
		{"2026-02-01", dp("2027-08-01"), 2026, false},
		{"2026-02-01", dp("2027-08-01"), 2027, true},
	}
	for _, tt := range tests {
		if got := TaxedInYear(d(tt.acq), tt.dereg, tt.year); got != tt.want {
			t.Errorf("TaxedInYear(%s, %v, %d) = %v", tt.acq, tt.dereg, tt.year, got)
		}
	}
	if due, ok := SameYearSale(d("2026-02-01"), dp("2026-08-01")); !ok || due != d("2026-08-01") {
		t.Error("same-year sale due date")
	}
	if got := TaxedYears(d("2024-05-01"), dp("2026-05-01"), 2024, 2028); len(got) != 2 || got[0] != 2025 || got[1] != 2026 {
		t.Errorf("TaxedYears = %v", got)
	}
}

func TestRecompute(t *testing.T) {
	objs := []AssessedObject{
		{ID: "v1", Input: QuoteInput{Municipality: "timisoara", Year: 2026, Object: Object{Kind: "vehicle", Category: "car", EngineCC: 1598, EmissionClass: "euro6", Propulsion: "combustion"}}, OldAnnualTax: money.Lei(198)},
		{ID: "v2", Input: QuoteInput{Municipality: "timisoara", Year: 2026, Object: Object{Kind: "vehicle", Category: "trailer", MaxMassKg: 2500}}, OldAnnualTax: money.Lei(500)},
	}
	// A retroactive change (as OUG 9/2026 did): Timișoara's 2026 surcharge
	// replaced by 30% in a new parameter set.
	entries := params.Defaults()
	for i := range entries {
		if entries[i].Key == "vehicle.surcharge_pct" && entries[i].Municipality == "timisoara" {
			entries[i].Value = "30"
		}
	}
	set, err := params.NewSet(entries)
	if err != nil {
		t.Fatal(err)
	}
	diffs := Recompute(objs, &Engine{Params: set, Calendar: calendar.MustNew(nil)})
	if diffs[0].New != money.Lei(172) || diffs[0].Delta != money.Lei(-26) || diffs[0].Err != nil { // 132 × 1.3 = 171.6 → 172
		t.Errorf("v1: %+v", diffs[0])
	}
	var me *MissingParamError
	if !errors.As(diffs[1].Err, &me) {
		t.Errorf("v2: %+v", diffs[1])
	}
}
