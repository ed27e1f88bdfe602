package web

import (
	"github.com/gofiber/fiber/v2"

	"fiscald/calc"
	"fiscald/fiscal"
)

// The tax quote is the busiest public endpoint, and validator/v10 walked its
// input (thirty fields, each boxed by reflection) for a third of the
// request's CPU. validQuoteTags answers, without reflection, what the
// validate tags of calc.QuoteInput, calc.Object and calc.BuildingPart
// answer; a quote that passes it skips the walk, any other goes through
// validator/v10, which writes the field errors as for every other
// request. TestValidQuoteTagsAgreesWithValidator compares the two on
// random inputs and fails when a tag changes, so the tags stay the rules.

// decodeQuote reads and validates a quote's body as decode does: the
// common shape through readQuote, any other through encoding/json.
func decodeQuote(c *fiber.Ctx, in *calc.QuoteInput) error {
	if body := c.Body(); len(body) > maxJSONBody || !readQuote(body, in) {
		*in = calc.QuoteInput{}
		if err := decodeJSON(c, in); err != nil {
			return err
		}
	}
	if !validQuoteTags(in) {
		return check(in)
	}
	// check's second step (no calc input has a Validate method today;
	// this keeps the order if one gets it).
	if vv, ok := any(in).(validatable); ok {
		if fields := vv.Validate(); len(fields) > 0 {
			return fiscal.Invalid(fields...)
		}
	}
	return nil
}

// validQuoteTags reports whether in passes its validate tags.
func validQuoteTags(in *calc.QuoteInput) bool {
	if in.Municipality == "" || in.Year < 2000 || in.Year > 2100 {
		return false
	}
	o := &in.Object
	switch o.Kind {
	case "vehicle", "building", "land":
	default:
		return false
	}
	if !oneOf(o.OwnerKind, "individual", "company") ||
		!oneOf(o.Category, "car", "motorcycle", "bus", "light_goods", "tractor", "registered", "truck", "trailer", "boat") ||
		o.EngineCC < 0 || o.EngineCC > 100000 ||
		!oneOf(o.EmissionClass, "non_euro", "euro0", "euro1", "euro2", "euro3", "euro4", "euro5", "euro6") ||
		!oneOf(o.Propulsion, "combustion", "hybrid", "electric") ||
		o.CO2GKm != nil && (*o.CO2GKm < 0 || *o.CO2GKm > 2000) ||
		o.Axles < 0 || o.Axles > 20 ||
		o.MaxMassKg < 0 || o.MaxMassKg > 200000 ||
		!oneOf(o.Disability, "severe", "accentuated") ||
		!oneOf(o.Use, "residential", "non_residential", "mixed") ||
		!oneOf(o.ConstructionType, "A", "B", "C", "D") ||
		!oneOf(o.BasementOrAttic, "dwelling", "other") ||
		!oneOf(o.Zone, "A", "B", "C", "D") ||
		o.YearBuilt < 0 || o.YearBuilt > 2100 ||
		!oneOf(o.Location, "intravilan", "extravilan") {
		return false
	}
	for i := range o.Parts {
		if u := o.Parts[i].Use; u != "residential" && u != "non_residential" {
			return false
		}
	}
	return true
}

// oneOf is the tag "omitempty,oneof=...": empty, or one of the values.
func oneOf(s string, values ...string) bool {
	if s == "" {
		return true
	}
	for _, v := range values {
		if s == v {
			return true
		}
	}
	return false
}
