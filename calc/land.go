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
// "constructions" is land occupied by buildings.
var LandUseCategories = []string{"constructions", "arable", "pasture", "hayfield", "vineyard", "orchard", "forest", "water", "roads", "unproductive"}

// Land returns the land fields of o.
func (o Object) Land() Land {
	var a decimal.Decimal
	if o.AreaM2 != nil {
		a = *o.AreaM2
	}
	return Land{o.OwnerKind, o.Location, o.Zone, o.UseCategory, a}
}

var m2PerHa = decimal.NewFromInt(10000)

// landTax applies art. 465: lei per hectare from grids that are parameters.
// Intravilan land with buildings: rate by rank and zone
// (land.intravilan.constructions.rank<r>.zone_<z>); other intravilan land: rate
// by category and zone × rank coefficient (land.intravilan.<category>.zone_<z>,
// land.intravilan.coef.rank<r>); extravilan: rate by category
// (land.extravilan.<category>). The statutory grids are unconfirmed, so they
// ship unconfigured.
func landTax(l *lookup, p Land) (money.Bani, []Line, error) {
	ha := p.AreaM2.Div(m2PerHa)
	zone := strings.ToLower(p.Zone)
	var (
		rate  decimal.Decimal
		err   error
		label string
	)
	basis := "Codul fiscal art. 465"
	switch {
	case p.Location == "extravilan":
		basis += " alin. (7)"
		rate, err = l.indexed("land.extravilan."+p.UseCategory, "extravilan land, category "+p.UseCategory)
		label = fmt.Sprintf("Teren extravilan (%s): %s m² × %s lei/ha", p.UseCategory, p.AreaM2.StringFixed(2), rate.String())
	default:
		var rank int
		if rank, err = l.int("municipality.rank", "the locality rank"); err != nil {
			return 0, nil, err
		}
		if p.UseCategory == "constructions" {
			basis += " alin. (2)"
			rate, err = l.indexed(fmt.Sprintf("land.intravilan.constructions.rank%d.zone_%s", rank, zone),
				fmt.Sprintf("intravilan land with buildings, rank %d, zone %s", rank, p.Zone))
			label = fmt.Sprintf("Teren intravilan cu construcții, zona %s: %s m² × %s lei/ha", p.Zone, p.AreaM2.StringFixed(2), rate.String())
		} else {
			basis += " alin. (3)-(5)"
			var coef decimal.Decimal
			if rate, err = l.indexed(fmt.Sprintf("land.intravilan.%s.zone_%s", p.UseCategory, zone),
				fmt.Sprintf("intravilan land, category %s, zone %s", p.UseCategory, p.Zone)); err != nil {
				return 0, nil, err
			}
			if coef, err = l.dec(fmt.Sprintf("land.intravilan.coef.rank%d", rank), fmt.Sprintf("the land coefficient of rank %d", rank)); err != nil {
				return 0, nil, err
			}
			rate = rate.Mul(coef)
			label = fmt.Sprintf("Teren intravilan (%s), zona %s: %s m² × %s lei/ha (cu coeficient %s)", p.UseCategory, p.Zone, p.AreaM2.StringFixed(2), rate.String(), coef.String())
		}
	}
	if err != nil {
		return 0, nil, err
	}
	total := round2(ha.Mul(rate))
	lines := []Line{{label, basis, bani(total)}}
	sp, err := l.dec("land.surcharge_pct", "the council surcharge on land tax")
	if err != nil {
		return 0, nil, err
	}
	if !sp.IsZero() {
		s := round2(total.Mul(pct(sp)))
		lines = append(lines, Line{"Cotă adițională " + sp.String() + "% (hotărârea consiliului local)", "Codul fiscal art. 489", bani(s)})
		total = total.Add(s)
	}
	annual, lines := finish(lines, total)
	return annual, lines, nil
}
