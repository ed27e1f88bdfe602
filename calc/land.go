package calc

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"fiscald/internal/money"
)

// Land is the typed description of a plot for the tax of art. 465.
type Land struct {
	OwnerKind   string // individual (default) or company
	Location    string // intravilan or extravilan
	Zone        string // A-D (intravilan)
	UseCategory string // one of LandUseCategories
	AreaM2      decimal.Decimal
}

// LandUseCategories are the use categories of art. 465 alin. (4) and (7);
// "constructions" is land occupied by buildings, "beach" a beach used for an
// economic activity (added by Legea 239/2025).
var LandUseCategories = []string{"constructions", "arable", "pasture", "hayfield", "vineyard", "orchard", "forest", "water", "roads", "unproductive", "beach"}

// Land returns the land fields of o.
func (o Object) Land() Land {
	var a decimal.Decimal
	if o.AreaM2 != nil {
		a = *o.AreaM2
	}
	return Land{o.OwnerKind, o.Location, o.Zone, o.UseCategory, a}
}

var m2PerHa = decimal.NewFromInt(10000)

// landTax applies art. 465: the area in hectares × lei per hectare.
//   - Intravilan land with buildings (alin. (2)), and intravilan land of
//     another use of at most land.intravilan.as_constructions_max_m2
//     (alin. (2)-(3)): the council's value for the locality's rank and the
//     zone (land.intravilan.constructions.rank<r>.zone_<z>, inside the law's
//     range).
//   - Other intravilan land (alin. (3)-(5)): the law's amount by category and
//     zone (land.intravilan.<category>.zone_<z>) × the rank coefficient
//     (land.intravilan.coef.rank<r>).
//   - Extravilan land (alin. (7)): the council's value by category
//     (land.extravilan.<category>, inside the law's range) × the rank and
//     zone coefficient of art. 457 alin. (6) (building.coef.rank<r>.zone_<z>).
func landTax(l *lookup, p Land) (money.Bani, []Line, error) {
	ha := p.AreaM2.Div(m2PerHa)
	zone := strings.ToLower(p.Zone)
	rank, err := l.int("municipality.rank", "the locality rank")
	if err != nil {
		return 0, nil, err
	}
	var (
		rate, coef decimal.Decimal
		key        string
		label      string
		basis      = "Codul fiscal art. 465"
	)
	category, small := p.UseCategory, ""
	if p.Location != "extravilan" && category != "constructions" {
		limit, err := l.dec("land.intravilan.as_constructions_max_m2", "the area up to which intravilan land is taxed as land with buildings")
		if err != nil {
			return 0, nil, err
		}
		if !p.AreaM2.GreaterThan(limit) {
			category, small = "constructions", limit.String()
			basis += " alin. (2)-(3)"
		}
	}
	switch {
	case p.Location == "extravilan":
		basis += " alin. (7)"
		key = "land.extravilan." + category
		if rate, err = l.indexed(key, "extravilan land, category "+category); err != nil {
			return 0, nil, err
		}
		if coef, err = l.dec(fmt.Sprintf("building.coef.rank%d.zone_%s", rank, zone), fmt.Sprintf("the coefficient of rank %d, zone %s (art. 457 alin. (6))", rank, p.Zone)); err != nil {
			return 0, nil, err
		}
		label = fmt.Sprintf("Teren extravilan (%s), zona %s: %s m² × %s lei/ha × coeficient %s", category, p.Zone, p.AreaM2.StringFixed(2), rate.String(), coef.String())
	case category == "constructions":
		if p.UseCategory == "constructions" {
			basis += " alin. (2)"
		}
		key = fmt.Sprintf("land.intravilan.constructions.rank%d.zone_%s", rank, zone)
		if rate, err = l.indexed(key, fmt.Sprintf("intravilan land with buildings, rank %d, zone %s", rank, p.Zone)); err != nil {
			return 0, nil, err
		}
		coef = decimal.NewFromInt(1)
		label = fmt.Sprintf("Teren intravilan cu construcții, zona %s: %s m² × %s lei/ha", p.Zone, p.AreaM2.StringFixed(2), rate.String())
		if p.UseCategory != "constructions" {
			label = fmt.Sprintf("Teren intravilan (%s) de cel mult %s m², impozitat ca teren cu construcții, zona %s: %s m² × %s lei/ha",
				p.UseCategory, small, p.Zone, p.AreaM2.StringFixed(2), rate.String())
		}
	default:
		basis += " alin. (4)-(5)"
		key = fmt.Sprintf("land.intravilan.%s.zone_%s", category, zone)
		if rate, err = l.indexed(key, fmt.Sprintf("intravilan land, category %s, zone %s", category, p.Zone)); err != nil {
			return 0, nil, err
		}
		if coef, err = l.dec(fmt.Sprintf("land.intravilan.coef.rank%d", rank), fmt.Sprintf("the land coefficient of rank %d", rank)); err != nil {
			return 0, nil, err
		}
		label = fmt.Sprintf("Teren intravilan (%s), zona %s: %s m² × %s lei/ha × coeficient %s", category, p.Zone, p.AreaM2.StringFixed(2), rate.String(), coef.String())
	}
	total := round2(ha.Mul(rate).Mul(coef))
	lines := []Line{{label, l.cite(basis, key), bani(total)}}
	sp, err := l.dec("land.surcharge_pct", "the council surcharge on land tax")
	if err != nil {
		return 0, nil, err
	}
	if !sp.IsZero() {
		s := round2(total.Mul(pct(sp)))
		lines = append(lines, Line{"Cotă adițională " + sp.String() + "% (hotărârea consiliului local)", l.cite("Codul fiscal art. 489", "land.surcharge_pct"), bani(s)})
		total = total.Add(s)
	}
	annual, lines := finish(lines, total)
	return annual, lines, nil
}
