package calc

import (
	"slices"

	"github.com/shopspring/decimal"
)

var (
	maxArea  = decimal.NewFromInt(10_000_000)      // m²; larger is a typing error
	maxValue = decimal.NewFromInt(100_000_000_000) // lei
	emission = []string{"non_euro", "euro0", "euro1", "euro2", "euro3", "euro4", "euro5", "euro6"}
	letters  = []string{"A", "B", "C", "D"}
)

func isSlug(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkAmount requires a positive decimal with at most 2 decimals below max.
func checkAmount(errs *InputErrors, field string, d *decimal.Decimal, max decimal.Decimal) {
	switch {
	case d == nil:
	case !d.IsPositive():
		errs.add(field, "must be greater than zero")
	case d.GreaterThan(max):
		errs.add(field, "must be at most %s", max.String())
	case !d.Equal(d.Round(2)):
		errs.add(field, "must have at most two decimals")
	}
}

// validateObject checks the fields of obj that its kind needs, reporting each
// invalid field by its JSON path.
func validateObject(errs *InputErrors, year int, o Object) {
	switch o.OwnerKind {
	case "", OwnerIndividual, OwnerCompany:
	default:
		errs.add("object.owner_kind", "must be individual or company")
	}
	switch o.Kind {
	case TaxVehicle:
		validateVehicle(errs, o)
	case TaxBuilding:
		validateBuilding(errs, year, o)
	case TaxLand:
		validateLand(errs, o)
	case "":
		errs.add("object.kind", "is required")
	default:
		errs.add("object.kind", "must be vehicle, building or land")
	}
}

func validateVehicle(errs *InputErrors, o Object) {
	if o.EngineCC < 0 || o.EngineCC > 100000 {
		errs.add("object.engine_cc", "must be between 0 and 100000")
	}
	switch o.Propulsion {
	case "", "combustion", "hybrid", "electric":
	default:
		errs.add("object.propulsion", "must be combustion, hybrid or electric")
	}
	if o.EmissionClass != "" && !slices.Contains(emission, o.EmissionClass) {
		errs.add("object.emission_class", "must be non_euro or euro0 to euro6")
	}
	if o.CO2GKm != nil && (*o.CO2GKm < 0 || *o.CO2GKm > 2000) {
		errs.add("object.co2_g_km", "must be between 0 and 2000")
	}
	switch o.Disability {
	case "", "severe", "accentuated":
	default:
		errs.add("object.disability", "must be severe or accentuated")
	}
	if o.Sidecar && o.Category != "motorcycle" {
		errs.add("object.sidecar", "applies only to motorcycles")
	}
	switch o.Category {
	case "car", "motorcycle", "bus", "light_goods", "tractor":
		if o.Propulsion == "" {
			errs.add("object.propulsion", "is required")
		}
		if o.Propulsion == "electric" {
			return
		}
		if o.EngineCC <= 0 {
			errs.add("object.engine_cc", "is required and must be greater than zero")
		}
		if o.Propulsion == "combustion" && o.EmissionClass == "" {
			errs.add("object.emission_class", "is required for a combustion engine")
		}
		if o.Propulsion == "hybrid" && o.CO2GKm == nil {
			errs.add("object.co2_g_km", "is required for a hybrid")
		}
	case "registered":
		// art. 470 alin. (2^2): engine_cc 0 (absent) means no recorded capacity.
	case "truck":
		if o.Axles < 2 || o.Axles > 20 {
			errs.add("object.axles", "must be between 2 and 20 for a truck")
		}
		if o.MaxMassKg < 12000 || o.MaxMassKg > 200000 {
			errs.add("object.max_mass_kg", "must be at least 12000 for a truck (lighter goods vehicles are light_goods)")
		}
	case "trailer":
		if o.MaxMassKg <= 0 || o.MaxMassKg > 200000 {
			errs.add("object.max_mass_kg", "is required for a trailer and must be between 1 and 200000")
		}
	case "boat":
		if !isSlug(o.BoatType) {
			errs.add("object.boat_type", "is required for a boat (lower-case letters, digits, _)")
		}
	case "":
		errs.add("object.category", "is required")
	default:
		errs.add("object.category", "must be car, motorcycle, bus, light_goods, tractor, registered, truck, trailer or boat")
	}
	if o.Disability != "" && !engineCategories[o.Category] {
		errs.add("object.disability", "applies only to an engine-capacity vehicle")
	}
}

func validateBuilding(errs *InputErrors, year int, o Object) {
	company := o.OwnerKind == OwnerCompany
	if !company {
		if !slices.Contains(letters, o.ConstructionType) {
			errs.add("object.construction_type", "must be A, B, C or D")
		}
		if !slices.Contains(letters, o.Zone) {
			errs.add("object.zone", "must be A, B, C or D")
		}
		if o.Utilities == nil {
			errs.add("object.utilities", "is required")
		}
	}
	switch o.BasementOrAttic {
	case "", "dwelling", "other":
	default:
		errs.add("object.basement_or_attic", "must be dwelling or other")
	}
	if company && o.BasementOrAttic != "" {
		errs.add("object.basement_or_attic", "applies to an individual's building valued by art. 457")
	}
	if o.YearBuilt < 0 || o.YearBuilt > year {
		errs.add("object.year_built", "must not be after the tax year")
	}
	checkPart := func(prefix string, built, usable, value *decimal.Decimal) {
		checkAmount(errs, prefix+"built_area_m2", built, maxArea)
		checkAmount(errs, prefix+"usable_area_m2", usable, maxArea)
		checkAmount(errs, prefix+"taxable_value", value, maxValue)
		switch {
		case company && value == nil:
			errs.add(prefix+"taxable_value", "is required for a company's building")
		case !company && built == nil && usable == nil:
			errs.add(prefix+"built_area_m2", "built_area_m2 or usable_area_m2 is required")
		}
	}
	switch o.Use {
	case "residential", "non_residential":
		checkPart("object.", o.BuiltAreaM2, o.UsableAreaM2, o.TaxableValue)
	case "mixed":
		if len(o.Parts) == 0 || len(o.Parts) > 20 {
			errs.add("object.parts", "a mixed-use building needs 1 to 20 parts")
		}
		for i, p := range o.Parts {
			prefix := "object.parts[" + itoa(i) + "]."
			if p.Use != "residential" && p.Use != "non_residential" {
				errs.add(prefix+"use", "must be residential or non_residential")
			}
			checkPart(prefix, p.BuiltAreaM2, p.UsableAreaM2, p.TaxableValue)
		}
	default:
		errs.add("object.use", "must be residential, non_residential or mixed")
	}
}

func validateLand(errs *InputErrors, o Object) {
	switch o.Location {
	case "intravilan", "extravilan":
		// Extravilan land also needs its zone: art. 465 alin. (7) applies the
		// rank and zone coefficient of art. 457 alin. (6).
		if !slices.Contains(letters, o.Zone) {
			errs.add("object.zone", "must be A, B, C or D")
		}
	default:
		errs.add("object.location", "must be intravilan or extravilan")
	}
	if !slices.Contains(LandUseCategories, o.UseCategory) {
		errs.add("object.use_category", "must be one of the land use categories")
	}
	if o.AreaM2 == nil {
		errs.add("object.area_m2", "is required")
	}
	checkAmount(errs, "object.area_m2", o.AreaM2, maxArea)
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// ValidateObject checks an object's fields as a quote or an assessment
// would (without computing), naming each bad field by its JSON path
// ("object.engine_cc"); nil when valid. The importer checks rows with it.
func ValidateObject(year int, o Object) InputErrors {
	var errs InputErrors
	validateObject(&errs, year, o)
	return errs
}
