package portal

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/shopspring/decimal"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/money"
	"fiscald/internal/web"
)

func (p *Portal) calculatorPages() []page {
	return []page{
		// A GET form: the result has a URL a taxpayer can keep or share.
		{Method: "GET", Path: "/calculator", Access: public, Nav: "nav.calculator", NavOrder: 5, Handler: p.calculator},
	}
}

// calcFields are the calculator's inputs, named by the quote API's JSON paths.
var calcFields = []string{"year", "object.kind", "object.category", "object.engine_cc", "object.emission_class", "object.propulsion",
	"object.co2_g_km", "object.use", "object.construction_type", "object.utilities", "object.usable_area_m2", "object.zone", "object.year_built"}

type calcData struct {
	Years    []string
	Result   *calc.Result
	PayEarly money.Bani
}

func (p *Portal) calculator(c *fiber.Ctx, v *view) error {
	year := civilYear(p)
	d := calcData{Years: []string{strconv.Itoa(year - 1), strconv.Itoa(year), strconv.Itoa(year + 1)}}
	v.Form = map[string]string{}
	for _, n := range calcFields {
		v.Form[n] = strings.TrimSpace(strings.Clone(c.Query(n)))
	}
	if v.Form["year"] == "" {
		v.Form["year"] = strconv.Itoa(year)
	}
	if v.Form["object.kind"] == "" {
		// The first visit: an empty form, vehicle by default.
		v.Form["object.kind"] = "vehicle"
		v.Form["object.propulsion"] = "combustion"
		return p.render(c, v, "calculator", d)
	}
	if err := p.api.PublicLimit(c, "portal-calc"); err != nil {
		return err
	}
	in, fields := quoteInput(v.Muni.Slug, v.Form)
	var err error
	if len(fields) > 0 {
		err = fiscal.Invalid(fields...)
	} else {
		err = web.Validate(&in)
	}
	if err == nil {
		var e *calc.Engine
		if e, err = p.deps.Tax.TaxEngine(c.UserContext(), v.Muni.ID); err != nil {
			return err
		}
		var r calc.Result
		r, err = e.Quote(in)
		err = fiscal.FromCalc(err, e)
		if err == nil {
			d.Result = &r
			d.PayEarly = r.AnnualTax - r.EarlyPaymentBonus
			err = p.loadDecisions(c, v, in.Year)
		}
	}
	if err != nil {
		fe, ok := formErrors(v.Lang, err)
		if !ok {
			return err
		}
		v.Errors = fe
		return p.render(c.Status(fiber.StatusUnprocessableEntity), v, "calculator", d)
	}
	return p.render(c, v, "calculator", d)
}

func civilYear(p *Portal) int { return p.deps.Clock.Now().Year() }

// quoteInput builds the quote request from the form; values that are not
// numbers are field errors.
func quoteInput(muni string, f map[string]string) (calc.QuoteInput, []fiscal.FieldError) {
	var bad []fiscal.FieldError
	num := func(name string) int {
		s := f[name]
		if s == "" {
			return 0
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			bad = append(bad, fiscal.FieldError{Field: name, Message: "must be a number"})
		}
		return n
	}
	in := calc.QuoteInput{Municipality: muni, Year: num("year"), Object: calc.Object{Kind: f["object.kind"]}}
	switch in.Object.Kind {
	case "vehicle":
		o := &in.Object
		o.Category, o.EmissionClass, o.Propulsion = f["object.category"], f["object.emission_class"], f["object.propulsion"]
		o.EngineCC = num("object.engine_cc")
		if f["object.co2_g_km"] != "" {
			co2 := num("object.co2_g_km")
			o.CO2GKm = &co2
		}
		if o.Propulsion == "electric" {
			o.EmissionClass = ""
		}
	case "building":
		o := &in.Object
		o.OwnerKind, o.Use, o.ConstructionType, o.Zone = calc.OwnerIndividual, f["object.use"], f["object.construction_type"], f["object.zone"]
		utilities := f["object.utilities"] == "true"
		o.Utilities = &utilities
		o.YearBuilt = num("object.year_built")
		if s := strings.ReplaceAll(f["object.usable_area_m2"], ",", "."); s != "" {
			a, err := decimal.NewFromString(s)
			if err != nil {
				bad = append(bad, fiscal.FieldError{Field: "object.usable_area_m2", Message: "must be a number"})
			} else {
				o.UsableAreaM2 = &a
			}
		}
	}
	return in, bad
}
