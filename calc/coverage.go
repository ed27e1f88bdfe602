package calc

import (
	"fmt"
	"strings"

	"fiscald/calc/params"
)

// Requirement is one parameter the engine needs to tax some object of a
// kind in a municipality and year, and whether it is configured.
type Requirement struct {
	// Key is the parameter key, or a family prefix ending in "*" for the
	// council's banded or typed tables (trucks, trailers, boats).
	Key string `json:"key"`
	// Kind is the object kind that needs it: vehicle, building, land or
	// general (payment terms, rank).
	Kind string `json:"kind"`
	// What says what the value is for.
	What string `json:"what"`
	// LegalBasis is the article of the law that asks for the value.
	LegalBasis string `json:"legal_basis"`
	// Indexed is true for amounts that count only when entered for the tax
	// year itself (art. 491).
	Indexed bool `json:"indexed"`
	// Local is true when the law leaves the value to the council (a range,
	// or no national figure).
	Local bool `json:"local"`
	// Configured is true when a value applies in the year; Entry is then
	// the entry that applies (for a family: one of its entries).
	Configured bool          `json:"configured"`
	Entry      *params.Entry `json:"entry,omitempty"`
	// Range is the law's range for a value the council chooses.
	Range *params.Range `json:"range,omitempty"`
}

// paramBasis maps key prefixes to the article that asks for them (first
// match wins; more specific prefixes first).
var paramBasis = []struct{ prefix, basis string }{
	{"vehicle.engine.", "Codul fiscal art. 470 alin. (2)"},
	{"vehicle.electric.surcharge_pct", "Codul fiscal art. 489"},
	{"vehicle.electric.", "Codul fiscal art. 470 alin. (2)"},
	{"vehicle.tractor.", "Codul fiscal art. 470 alin. (2^2)"},
	{"vehicle.registered.", "Codul fiscal art. 470 alin. (2^2)"},
	{"vehicle.hybrid.", "Codul fiscal art. 470 alin. (3)"},
	{"vehicle.sidecar.", "Codul fiscal art. 470 alin. (3)"},
	{"vehicle.disability.", "Codul fiscal art. 469, OUG 9/2026"},
	{"vehicle.truck.", "Codul fiscal art. 470 alin. (5)"},
	{"vehicle.trailer.", "Codul fiscal art. 470 alin. (7)"},
	{"vehicle.boat.", "Codul fiscal art. 470 alin. (8)"},
	{"vehicle.bonus_pct", "Codul fiscal art. 472 alin. (2)"},
	{"building.bonus_pct", "Codul fiscal art. 462 alin. (2)"},
	{"land.bonus_pct", "Codul fiscal art. 467 alin. (2)"},
	{"building.individual.residential.", "Codul fiscal art. 457 alin. (1)"},
	{"building.individual.non_residential.", "Codul fiscal art. 458 alin. (1)"},
	{"building.company.residential.", "Codul fiscal art. 460 alin. (1)"},
	{"building.company.non_residential.", "Codul fiscal art. 460 alin. (2)"},
	{"building.value_m2.", "Codul fiscal art. 457 alin. (2)"},
	{"building.basement_or_attic.", "Codul fiscal art. 457 alin. (2)"},
	{"building.usable_to_built", "Codul fiscal art. 457 alin. (5)"},
	{"building.coef.", "Codul fiscal art. 457 alin. (6)"},
	{"building.age_reduction.", "Codul fiscal art. 457 alin. (8), OUG 9/2026"},
	{"land.intravilan.constructions.", "Codul fiscal art. 465 alin. (2)"},
	{"land.intravilan.coef.", "Codul fiscal art. 465 alin. (5)"},
	{"land.intravilan.as_constructions_max_m2", "Codul fiscal art. 465 alin. (2)-(3)"},
	{"land.intravilan.", "Codul fiscal art. 465 alin. (4)"},
	{"land.extravilan.", "Codul fiscal art. 465 alin. (7)"},
	{"municipality.rank", "Legea 351/2001"},
	{"payment.", "Codul fiscal art. 462, 467, 472"},
	{"late_fee.", "Codul de procedură fiscală art. 183"},
}

// ParamBasis returns the article of the law that asks for the parameter key
// (for a range bound, the article of the key it bounds), for a legal basis
// an administrator did not write out.
func ParamBasis(key string) string {
	if k, ok := RangedKey(key); ok {
		key = k
	}
	if strings.HasSuffix(key, ".surcharge_pct") {
		return "Codul fiscal art. 489"
	}
	for _, p := range paramBasis {
		if strings.HasPrefix(key, p.prefix) {
			return p.basis
		}
	}
	if strings.HasPrefix(key, "budget_code.") || strings.HasPrefix(key, "treasury_account.") {
		return "Clasificația indicatorilor privind finanțele publice"
	}
	return "Codul fiscal, Titlul IX"
}

// Requirements lists every parameter the engine would need to tax any
// vehicle, building or land of the municipality in the year (for its locality
// rank), each marked configured or missing, in a stable order. Errors: an
// error wrapping ErrUnknownMunicipality.
func (e *Engine) Requirements(municipality string, year int) ([]Requirement, error) {
	l, err := e.lookup(municipality, year)
	if err != nil {
		return nil, err
	}
	var out []Requirement
	add := func(kind, key, what string, indexed, local bool) {
		r := Requirement{Key: key, Kind: kind, What: what, LegalBasis: ParamBasis(key), Indexed: indexed, Local: local}
		if rg, ok := l.set.RangeOf(key, l.muni, l.on); ok {
			r.Range, r.Local = &rg, true
		}
		if v, ok := l.y.vals[key]; ok && (!indexed || v.from.Year == year) {
			if en, ok := l.set.Lookup(key, municipality, l.on); ok {
				r.Configured, r.Entry = true, &en
			}
		}
		out = append(out, r)
	}
	family := func(kind, prefix, what string) {
		r := Requirement{Key: prefix + "*", Kind: kind, What: what, LegalBasis: ParamBasis(prefix), Indexed: true, Local: true}
		for _, k := range l.set.Keys(prefix) {
			if v, ok := l.y.vals[k]; ok && v.from.Year == year {
				if en, ok := l.set.Lookup(k, municipality, l.on); ok {
					r.Configured, r.Entry = true, &en
					break
				}
			}
		}
		out = append(out, r)
	}
	add("general", "municipality.rank", "the locality rank (0-5 for ranks 0, I-V)", false, true)
	for _, t := range []string{TaxVehicle, TaxBuilding, TaxLand} {
		add(t, t+".surcharge_pct", "the council surcharge on "+t+" tax", false, true)
		add(t, t+".bonus_pct", "the early-payment bonus on "+t+" tax", false, true)
	}
	// Vehicles (art. 470).
	for row := 1; row <= 8; row++ {
		for c, col := range []string{"non-Euro, Euro 0-3", "Euro 4", "Euro 5", "Euro 6", "hybrid"} {
			add(TaxVehicle, engineKeys[row][c], fmt.Sprintf("%s (row %d), %s, lei per 200 cm³", rowNames[row], row, col), true, false)
		}
	}
	add(TaxVehicle, "vehicle.electric.annual", "electric vehicles, lei a year", true, false)
	add(TaxVehicle, "vehicle.electric.surcharge_pct", "the council surcharge on electric vehicles", false, true)
	add(TaxVehicle, "vehicle.hybrid.low_co2.reduction_pct", "the reduction for hybrids of at most 50 g CO₂/km", false, true)
	add(TaxVehicle, "vehicle.tractor.per_group", "registered tractors, lei per 200 cm³", true, false)
	add(TaxVehicle, "vehicle.registered.small.per_group", "registered vehicles below the capacity limit, lei per 200 cm³", true, true)
	add(TaxVehicle, "vehicle.registered.large.per_group", "registered vehicles from the capacity limit, lei per 200 cm³", true, true)
	add(TaxVehicle, "vehicle.registered.no_cc.annual", "registered vehicles without a recorded capacity, lei a year", true, true)
	family(TaxVehicle, "vehicle.truck.", "trucks of 12 t or more and road trains, by axles, mass band and suspension (vehicle.truck.axles<n>.mass<lo>-<hi>.air|other)")
	family(TaxVehicle, "vehicle.trailer.", "trailers, semi-trailers and caravans by mass band (vehicle.trailer.mass<lo>-<hi>)")
	family(TaxVehicle, "vehicle.boat.", "water vehicles by type (vehicle.boat.<type>)")
	// Buildings (art. 457-460).
	for _, o := range []string{OwnerIndividual, OwnerCompany} {
		for _, u := range []string{"residential", "non_residential"} {
			add(TaxBuilding, "building."+o+"."+u+".rate_pct", fmt.Sprintf("the rate of %s buildings of %ss, percent", strings.ReplaceAll(u, "_", "-"), o), false, true)
		}
	}
	for _, t := range []string{"a", "b", "c", "d"} {
		for _, u := range []string{"utilities", "no_utilities"} {
			add(TaxBuilding, "building.value_m2."+t+"."+u, fmt.Sprintf("the value per m² of type %s (%s)", strings.ToUpper(t), strings.ReplaceAll(u, "_", " ")), true, false)
		}
	}
	add(TaxBuilding, "building.basement_or_attic.dwelling_pct", "type E: basement or attic rooms used as a dwelling, percent of the type's value", false, false)
	add(TaxBuilding, "building.basement_or_attic.other_pct", "type F: basement or attic rooms used otherwise, percent of the type's value", false, false)
	rank, rankErr := l.int("municipality.rank", "")
	if rankErr == nil {
		for _, z := range []string{"a", "b", "c", "d"} {
			add(TaxBuilding, fmt.Sprintf("building.coef.rank%d.zone_%s", rank, z), fmt.Sprintf("the coefficient of rank %d, zone %s", rank, strings.ToUpper(z)), false, false)
		}
	}
	// Land (art. 465).
	if rankErr == nil {
		for _, z := range []string{"a", "b", "c", "d"} {
			add(TaxLand, fmt.Sprintf("land.intravilan.constructions.rank%d.zone_%s", rank, z), fmt.Sprintf("intravilan land with buildings, rank %d, zone %s, lei/ha", rank, strings.ToUpper(z)), true, true)
		}
		add(TaxLand, fmt.Sprintf("land.intravilan.coef.rank%d", rank), fmt.Sprintf("the land coefficient of rank %d", rank), false, false)
	}
	for _, c := range LandUseCategories[1:] {
		for _, z := range []string{"a", "b", "c", "d"} {
			add(TaxLand, "land.intravilan."+c+".zone_"+z, fmt.Sprintf("intravilan land, category %s, zone %s, lei/ha", c, strings.ToUpper(z)), true, false)
		}
	}
	for _, c := range LandUseCategories {
		add(TaxLand, "land.extravilan."+c, "extravilan land, category "+c+", lei/ha", true, false)
	}
	return out, nil
}
