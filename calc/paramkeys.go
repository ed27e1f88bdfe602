package calc

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"

	"fiscald/calc/params"
	"fiscald/internal/civil"
)

// knownKeys are the parameter keys the engine reads, as patterns: fixed keys
// and the families of banded or per-category tables. An administrator may
// enter only keys that match (KnownParam), so a typing error cannot create a
// parameter nothing reads.
var knownKeys = regexp.MustCompile(`^(` + strings.Join([]string{
	`municipality\.rank`,
	`(vehicle|building|land)\.(bonus_pct|surcharge_pct)`,
	`vehicle\.electric\.(annual|surcharge_pct)`,
	`vehicle\.engine\.group_cc`,
	`vehicle\.engine\.car\.row[1345]\.max_cc`,
	`vehicle\.engine\.motorcycle\.row1\.max_cc`,
	`vehicle\.engine\.row[1-8]\.(euro0_3|euro4|euro5|euro6|hybrid)`,
	`vehicle\.tractor\.per_group`,
	`vehicle\.registered\.(small|large)\.per_group`,
	`vehicle\.registered\.large\.min_cc`,
	`vehicle\.registered\.no_cc\.annual`,
	`vehicle\.hybrid\.low_co2\.(max_g_km|reduction_pct)`,
	`vehicle\.sidecar\.share_pct`,
	`vehicle\.disability\.(severe|accentuated)\.reduction_pct`,
	`vehicle\.disability\.cc_below`,
	`vehicle\.truck\.axles([2-9]|1[0-9]|20)\.mass[0-9]+-[0-9]*\.(air|other)`,
	`vehicle\.trailer\.mass[0-9]+-[0-9]*`,
	`vehicle\.boat\.[a-z0-9_]+`,
	`building\.(individual|company)\.(residential|non_residential)\.rate_pct`,
	`building\.usable_to_built`,
	`building\.value_m2\.[a-d]\.(utilities|no_utilities)`,
	`building\.basement_or_attic\.(dwelling|other)_pct`,
	`building\.coef\.rank[0-5]\.zone_[a-d]`,
	`building\.age_reduction\.min_age\.[0-9]+`,
	`land\.intravilan\.constructions\.rank[0-5]\.zone_[a-d]`,
	`land\.intravilan\.(arable|pasture|hayfield|vineyard|orchard|forest|water|roads|unproductive|beach)\.zone_[a-d]`,
	`land\.intravilan\.coef\.rank[0-5]`,
	`land\.intravilan\.as_constructions_max_m2`,
	`land\.extravilan\.(constructions|arable|pasture|hayfield|vineyard|orchard|forest|water|roads|unproductive|beach)`,
	`payment\.(first|second)_due\.(month|day)`,
	`payment\.single_installment_max`,
	`late_fee\.monthly_pct`,
	`indexation\.(excluded|eur_ron)`,
	`(budget_code|treasury_account)\.(vehicle|building)\.(individual|company)`,
	`(budget_code|treasury_account)\.land\.(individual|company|extravilan)`,
}, "|") + `)$`)

// KnownParam reports whether the engine reads a parameter named key: one of
// its fixed keys or a member of one of its banded or per-category tables, or
// the bound of the law's range of such a key (range.<key>.min|max, national
// only: see IsRangeKey).
func KnownParam(key string) bool {
	if k, ok := RangedKey(key); ok {
		return knownKeys.MatchString(k)
	}
	return knownKeys.MatchString(key)
}

// RangedKey returns the key a range bound (range.<key>.min or .max) bounds.
func RangedKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, params.RangePrefix)
	if !ok {
		return "", false
	}
	if k, ok := strings.CutSuffix(rest, ".min"); ok {
		return k, true
	}
	if k, ok := strings.CutSuffix(rest, ".max"); ok {
		return k, true
	}
	return "", false
}

// MissingParamField names the input field of a quote that needs the missing
// parameter, for error reports: "year" when the key is configured for other
// dates but not for the tax year (an unindexed year), otherwise the object
// field whose value selected the missing rate.
func MissingParamField(e *MissingParamError, s *params.Set) string {
	key := strings.TrimSuffix(e.Key, "*")
	if s != nil && !strings.HasSuffix(e.Key, "*") {
		for _, k := range s.Keys(key) {
			if k == key {
				return "year"
			}
		}
	}
	switch {
	case strings.HasPrefix(key, "vehicle.engine.row7."), strings.HasPrefix(key, "vehicle.engine.row8."),
		strings.HasPrefix(key, "vehicle.tractor."), strings.HasPrefix(key, "vehicle.registered.no_cc."):
		return "object.category"
	case strings.HasPrefix(key, "vehicle.registered."):
		return "object.engine_cc"
	case strings.HasSuffix(key, ".hybrid"), strings.HasPrefix(key, "vehicle.hybrid."), strings.HasPrefix(key, "vehicle.electric."):
		return "object.propulsion"
	case strings.HasPrefix(key, "vehicle.engine.row"):
		return "object.emission_class"
	case strings.HasPrefix(key, "vehicle.engine."):
		return "object.engine_cc"
	case strings.HasPrefix(key, "vehicle.truck."), strings.HasPrefix(key, "vehicle.trailer."):
		return "object.max_mass_kg"
	case strings.HasPrefix(key, "vehicle.boat."):
		return "object.boat_type"
	case strings.HasPrefix(key, "vehicle.disability."):
		return "object.disability"
	case strings.HasPrefix(key, "vehicle.sidecar."):
		return "object.sidecar"
	case strings.HasPrefix(key, "building.value_m2."):
		return "object.construction_type"
	case strings.HasPrefix(key, "building.basement_or_attic."):
		return "object.basement_or_attic"
	case strings.HasPrefix(key, "building.coef."), strings.HasPrefix(key, "land.intravilan.constructions."):
		return "object.zone"
	case strings.HasPrefix(key, "building.") && strings.HasSuffix(key, ".rate_pct"):
		return "object.use"
	case strings.HasPrefix(key, "land.intravilan."), strings.HasPrefix(key, "land.extravilan."):
		return "object.use_category"
	case strings.HasSuffix(key, ".surcharge_pct"), strings.HasSuffix(key, ".bonus_pct"), key == "municipality.rank":
		return "municipality"
	}
	return "object"
}

// CheckRange is the rule that a value the law bounds by a range (art. 465
// alin. (2) and (7), art. 470 alin. (2^2) and (3), art. 489, the bonuses)
// lies inside the range in force for the municipality on the value's
// effective date. It returns InputErrors naming "value" and the range, or nil
// for a value inside its range or a key the law does not bound.
func CheckRange(s *params.Set, municipality, key string, on civil.Date, v decimal.Decimal) error {
	r, ok := s.RangeOf(key, municipality, on)
	if !ok || r.Contains(v) {
		return nil
	}
	return InputErrors{{Field: "value", Message: fmt.Sprintf("%s is outside the range %s of %s for %d: enter a value from %s to %s",
		v.String(), r.String(), r.LegalBasis, on.Year, r.Min.String(), r.Max.String())}}
}
