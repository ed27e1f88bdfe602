package calc

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"fiscald/internal/money"
)

// Building is the typed description of a building for the tax of art. 455-462.
type Building struct {
	OwnerKind        string // individual (default) or company
	Use              string // residential, non_residential, mixed
	ConstructionType string // A-D (art. 457 alin. (2))
	BasementOrAttic  string // "", dwelling (type E) or other (type F): rooms in a basement, semi-basement or attic
	Utilities        bool
	BuiltAreaM2      *decimal.Decimal
	UsableAreaM2     *decimal.Decimal // used × usable_to_built when BuiltAreaM2 is nil
	Zone             string           // A-D
	YearBuilt        int              // 0 = unknown: no age reduction
	TaxableValue     *decimal.Decimal // companies
	Parts            []BuildingPart   // mixed use
}

// Building returns the building fields of o.
func (o Object) Building() Building {
	return Building{o.OwnerKind, o.Use, o.ConstructionType, o.BasementOrAttic, o.Utilities != nil && *o.Utilities, o.BuiltAreaM2,
		o.UsableAreaM2, o.Zone, o.YearBuilt, o.TaxableValue, o.Parts}
}

// BuildingAnnualTax computes the annual building tax (Codul fiscal art. 457-460)
// of b in the municipality and year, rounded to whole lei, with its lines.
func (e *Engine) BuildingAnnualTax(municipality string, year int, b Building) (money.Bani, []Line, error) {
	util := b.Utilities
	a, err := e.Annual(municipality, year, Object{Kind: TaxBuilding, OwnerKind: b.OwnerKind, Use: b.Use,
		ConstructionType: b.ConstructionType, BasementOrAttic: b.BasementOrAttic, Utilities: &util, BuiltAreaM2: b.BuiltAreaM2, UsableAreaM2: b.UsableAreaM2,
		Zone: b.Zone, YearBuilt: b.YearBuilt, TaxableValue: b.TaxableValue, Parts: b.Parts})
	return a.Annual, a.Lines, err
}

var useLabel = map[string]string{"residential": "rezidențială", "non_residential": "nerezidențială"}

// buildingTax applies art. 457 (individuals) or art. 458-460 (companies).
func buildingTax(l *lookup, b Building) (money.Bani, []Line, error) {
	owner := b.OwnerKind
	if owner == "" {
		owner = OwnerIndividual
	}
	parts := b.Parts
	if b.Use != "mixed" {
		parts = []BuildingPart{{Use: b.Use, BuiltAreaM2: b.BuiltAreaM2, UsableAreaM2: b.UsableAreaM2, TaxableValue: b.TaxableValue}}
	}
	var (
		lines []Line
		total decimal.Decimal
	)
	for _, p := range parts {
		rateKey := "building." + owner + "." + p.Use + ".rate_pct"
		rate, err := l.dec(rateKey, fmt.Sprintf("%s buildings of %ss", strings.ReplaceAll(p.Use, "_", "-"), owner))
		if err != nil {
			return 0, nil, err
		}
		var value decimal.Decimal
		var basis, how string
		if owner == OwnerCompany {
			// art. 460: the valuation-based taxable value declared by the company.
			value, basis, how = *p.TaxableValue, "Codul fiscal art. 460", "valoarea impozabilă declarată"
		} else {
			if value, how, err = individualValue(l, b, p); err != nil {
				return 0, nil, err
			}
			basis = "Codul fiscal art. 457"
		}
		tax := round2(value.Mul(pct(rate)))
		lines = append(lines, Line{fmt.Sprintf("Clădire %s: %s%% × %s lei (%s)", useLabel[p.Use], rate.String(), value.StringFixed(2), how), l.cite(basis, rateKey), bani(tax)})
		total = total.Add(tax)
	}
	// art. 457 alin. (8) as amended by OUG 9/2026: reduction by age on 1 January.
	if owner == OwnerIndividual && b.YearBuilt > 0 {
		age := l.year - b.YearBuilt
		best, bestAge := decimal.Decimal{}, -1
		for _, k := range l.set.Keys("building.age_reduction.min_age.") {
			minAge, err := strconv.Atoi(strings.TrimPrefix(k, "building.age_reduction.min_age."))
			if err != nil || minAge > age || minAge <= bestAge {
				continue
			}
			if v, err := l.dec(k, "age reductions"); err == nil {
				best, bestAge = v, minAge
			}
		}
		if bestAge >= 0 && !best.IsZero() {
			r := round2(total.Mul(pct(best)))
			lines = append(lines, Line{fmt.Sprintf("Reducere %s%% pentru vechime (%d ani)", best.String(), age), "Codul fiscal art. 457 alin. (8), OUG 9/2026", bani(r.Neg())})
			total = total.Sub(r)
		}
	}
	sp, err := l.dec("building.surcharge_pct", "the council surcharge on building tax")
	if err != nil {
		return 0, nil, err
	}
	if !sp.IsZero() {
		s := round2(total.Mul(pct(sp)))
		lines = append(lines, Line{"Cotă adițională " + sp.String() + "% (hotărârea consiliului local)", l.cite("Codul fiscal art. 489", "building.surcharge_pct"), bani(s)})
		total = total.Add(s)
	}
	annual, lines := finish(lines, total)
	return annual, lines, nil
}

// individualValue is art. 457 alin. (2)-(6): built area × value per m² of the
// construction type (types E and F: rooms in a basement, semi-basement or
// attic of a type A-D building, at a share of that type's value) ×
// coefficient of the locality rank and zone.
func individualValue(l *lookup, b Building, p BuildingPart) (decimal.Decimal, string, error) {
	area := p.BuiltAreaM2
	how := ""
	if area == nil {
		f, err := l.dec("building.usable_to_built", "the usable-to-built area factor")
		if err != nil {
			return decimal.Decimal{}, "", err
		}
		a := round2(p.UsableAreaM2.Mul(f))
		area = &a
		how = fmt.Sprintf("%s m² utili × %s = ", p.UsableAreaM2.StringFixed(2), f.String())
	}
	util := "utilities"
	if !b.Utilities {
		util = "no_utilities"
	}
	t := strings.ToLower(b.ConstructionType)
	perM2, err := l.indexed("building.value_m2."+t+"."+util, fmt.Sprintf("the value per m² of type %s buildings (%s)", b.ConstructionType, strings.ReplaceAll(util, "_", " ")))
	if err != nil {
		return decimal.Decimal{}, "", err
	}
	typeE := ""
	if b.BasementOrAttic != "" {
		// art. 457 alin. (2) types E (dwelling, 75%) and F (other use, 50%).
		share, err := l.dec("building.basement_or_attic."+b.BasementOrAttic+"_pct", "rooms in a basement or attic used as "+b.BasementOrAttic)
		if err != nil {
			return decimal.Decimal{}, "", err
		}
		perM2 = round2(perM2.Mul(pct(share)))
		typeE = fmt.Sprintf(" (tip %s: %s%% din tipul %s)", map[string]string{"dwelling": "E", "other": "F"}[b.BasementOrAttic], share.String(), b.ConstructionType)
	}
	rank, err := l.int("municipality.rank", "the locality rank")
	if err != nil {
		return decimal.Decimal{}, "", err
	}
	coef, err := l.dec(fmt.Sprintf("building.coef.rank%d.zone_%s", rank, strings.ToLower(b.Zone)), fmt.Sprintf("the coefficient of rank %d, zone %s", rank, b.Zone))
	if err != nil {
		return decimal.Decimal{}, "", err
	}
	value := round2(area.Mul(perM2).Mul(coef))
	how += fmt.Sprintf("%s m² × %s lei/m²%s × %s", area.StringFixed(2), perM2.String(), typeE, coef.StringFixed(2))
	return value, how, nil
}
