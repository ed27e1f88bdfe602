package calc

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"fiscald/calc/params"
	"fiscald/internal/civil"
)

func draftLines(t *testing.T, lines []DraftLine) map[string]DraftLine {
	t.Helper()
	m := map[string]DraftLine{}
	for _, l := range lines {
		if _, dup := m[l.Key]; dup || l.LegalBasis == "" || l.Rule == "" {
			t.Errorf("line %+v", l)
		}
		m[l.Key] = l
	}
	return m
}

// TestDraft2027: next year's values by art. 491 from 2026 with 5.6%.
func TestDraft2027(t *testing.T) {
	eur := decimal.RequireFromString("5.0900")
	e := testEngine(t, council("timisoara", "land.intravilan.constructions.rank1.zone_a", "10000"),
		council("timisoara", "vehicle.truck.axles2.mass13000-14000.other", "400"),
		council("timisoara", "vehicle.trailer.mass1000-3000", "80"),
		params.Entry{Key: EurRonKey, Municipality: "timisoara", EffectiveFrom: civil.MustParse("2026-01-01"), Value: "4.9000", LegalBasis: "test"})
	lines, err := e.Draft("timisoara", DraftInput{FromYear: 2026, ToYear: 2027, InflationPct: decimal.RequireFromString("5.6"), EurRon: &eur})
	if err != nil {
		t.Fatal(err)
	}
	m := draftLines(t, lines)
	for key, want := range map[string][2]string{
		"vehicle.engine.row1.euro6":                  {"17.42", RuleIndexed}, // 16.5 × 1.056 = 17.424
		"vehicle.engine.row6.euro0_3":                {"336.86", RuleIndexed},
		"vehicle.electric.annual":                    {"42.24", RuleIndexed},
		"vehicle.tractor.per_group":                  {"19.01", RuleIndexed},
		"building.value_m2.a.utilities":              {"2826.91", RuleIndexed},
		"land.intravilan.arable.zone_a":              {"79.2", RuleIndexed},
		"land.intravilan.constructions.rank1.zone_a": {"10560", RuleIndexed},
		"vehicle.trailer.mass1000-3000":              {"84.48", RuleIndexed},
		"vehicle.truck.axles2.mass13000-14000.other": {"415.51", RuleEuroRate}, // 400 × 5.09 / 4.9
		"vehicle.surcharge_pct":                      {"50", RuleUnchanged},
		"building.individual.residential.rate_pct":   {"0.1", RuleUnchanged},
		EurRonKey: {"5.09", RuleEuroRate},
		// The law's bounds of lei values are indexed alike (art. 491 alin. (1)).
		"range.land.intravilan.constructions.rank1.zone_a.min": {"7263.17", RuleIndexed},
		"range.land.intravilan.constructions.rank1.zone_a.max": {"18156.86", RuleIndexed},
		"range.land.extravilan.arable.max":                     {"141.5", RuleIndexed},
		"range.vehicle.registered.no_cc.annual.min":            {"52.8", RuleIndexed},
	} {
		l, ok := m[key]
		if !ok || l.ToValue != want[0] || l.Rule != want[1] {
			t.Errorf("%s: %+v, want %v", key, l, want)
		}
	}
	for _, key := range []string{"building.coef.rank1.zone_a", "vehicle.engine.group_cc", "land.intravilan.coef.rank1", "budget_code.vehicle.individual",
		"range.land.intravilan.constructions.rank2.zone_a.min", "range.vehicle.surcharge_pct.max", "range.vehicle.bonus_pct.max"} {
		if _, ok := m[key]; ok {
			t.Errorf("%s drafted: it carries over by itself", key)
		}
	}
	if got := m["vehicle.engine.row1.euro6"].LegalBasis; got != "Codul fiscal art. 470 alin. (2); Codul fiscal art. 491 alin. (1)" {
		t.Errorf("basis %q", got)
	}
}

// TestDraftExcludedAndRefused: amounts the law excluded for the new year are
// kept (for 2026: art. 457, 465 alin. (4) and (7), 470 alin. (2)); bad input
// and a year with nothing to draft from are refused naming the field.
func TestDraftExcludedAndRefused(t *testing.T) {
	y25 := civil.MustParse("2025-01-01")
	e := testEngine(t,
		params.Entry{Key: "building.value_m2.a.utilities", EffectiveFrom: y25, Value: "2500", LegalBasis: "test"},
		params.Entry{Key: "vehicle.engine.row1.euro6", EffectiveFrom: y25, Value: "15", LegalBasis: "test"},
		params.Entry{Key: "land.extravilan.arable", Municipality: "timisoara", EffectiveFrom: y25, Value: "100", LegalBasis: "test"},
		params.Entry{Key: "land.intravilan.constructions.rank1.zone_a", Municipality: "timisoara", EffectiveFrom: y25, Value: "9000", LegalBasis: "test"})
	lines, err := e.Draft("timisoara", DraftInput{FromYear: 2025, ToYear: 2026, InflationPct: decimal.RequireFromString("5.6")})
	if err != nil {
		t.Fatal(err)
	}
	m := draftLines(t, lines)
	for key, want := range map[string][2]string{
		"building.value_m2.a.utilities":              {"2500", RuleExcluded},
		"vehicle.engine.row1.euro6":                  {"15", RuleExcluded},
		"land.extravilan.arable":                     {"100", RuleExcluded},
		"land.intravilan.constructions.rank1.zone_a": {"9504", RuleIndexed}, // art. 465 alin. (2) is not excluded
	} {
		if l := m[key]; l.ToValue != want[0] || l.Rule != want[1] {
			t.Errorf("%s: %+v, want %v", key, l, want)
		}
	}
	for _, tt := range []struct {
		in    DraftInput
		field string
	}{
		{DraftInput{FromYear: 2026, ToYear: 2028, InflationPct: decimal.NewFromInt(5)}, "to_year"},
		{DraftInput{FromYear: 2026, ToYear: 2027, InflationPct: decimal.NewFromInt(-1)}, "inflation_pct"},
		{DraftInput{FromYear: 2023, ToYear: 2024, InflationPct: decimal.NewFromInt(5)}, "from_year"},
	} {
		_, err := e.Draft("timisoara", tt.in)
		var ie InputErrors
		if !errors.As(err, &ie) || ie[0].Field != tt.field {
			t.Errorf("%+v: %v", tt.in, err)
		}
	}
	// A corrected line of an amount respects the law's range indexed alike.
	r, ok := DraftRange(e.Params, "timisoara", "land.intravilan.constructions.rank1.zone_a", 2027, decimal.RequireFromString("5.6"))
	if !ok || r.String() != "7263.17-18156.86" {
		t.Errorf("indexed range %+v", r)
	}
	if r, ok := DraftRange(e.Params, "timisoara", "vehicle.surcharge_pct", 2027, decimal.RequireFromString("5.6")); !ok || r.String() != "0-100" {
		t.Errorf("percent range %+v", r)
	}
}

// TestDraftRoundsToTheBan: art. 491 (local-taxes.md §1) indexes lei amounts by
// the inflation rate but says nothing of rounding the result, and the domain
// reference is silent; the draft keeps an indexed amount to the ban with a
// half ban rounding up (local-taxes.md §4: intermediate results at 2
// decimals), never to the leu: the whole-leu rounding applies to the tax
// owed (RoundLei), not to the rates it is computed from.
func TestDraftRoundsToTheBan(t *testing.T) {
	e := testEngine(t, council("timisoara", "vehicle.trailer.mass1000-3000", "1"),
		council("timisoara", "vehicle.trailer.mass3000-5000", "0.99"),
		council("timisoara", "vehicle.trailer.mass0-1000", "10.50"))
	lines, err := e.Draft("timisoara", DraftInput{FromYear: 2026, ToYear: 2027, InflationPct: decimal.RequireFromString("5.5")})
	if err != nil {
		t.Fatal(err)
	}
	m := draftLines(t, lines)
	for key, want := range map[string]string{
		"vehicle.trailer.mass1000-3000": "1.06",  // 1 × 1.055 = 1.055: the half ban rounds up
		"vehicle.trailer.mass3000-5000": "1.04",  // 0.99 × 1.055 = 1.04445
		"vehicle.trailer.mass0-1000":    "11.08", // 10.50 × 1.055 = 11.0775, not 11 lei
	} {
		if l := m[key]; l.ToValue != want || l.Rule != RuleIndexed {
			t.Errorf("%s: %+v, want %s", key, l, want)
		}
	}
}
