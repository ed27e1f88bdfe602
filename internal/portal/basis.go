package portal

import (
	"github.com/gofiber/fiber/v2"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// Basis is an explanation line's legal basis as the page shows it: each
// council decision the engine cites ("…; HCL 123/2026") is named with its
// date ("HCL 123/2026 din 15 decembrie 2026"). The legal basis is Romanian
// (the law's language), so the date is too.
func (v *view) Basis(s string) string {
	return calc.NameDecisions(s, v.Decisions, func(d civil.Date) string { return formatDate(RO, d) })
}

// loadDecisions gives the view the dates of the council decisions in force
// in the years of the page's explanation lines. Without the tax rules (or
// without years) lines keep their legal basis as the engine wrote it.
func (p *Portal) loadDecisions(c *fiber.Ctx, v *view, years ...int) error {
	if p.deps.Tax == nil || v.Muni == nil || len(years) == 0 {
		return nil
	}
	e, err := p.deps.Tax.TaxEngine(c.UserContext(), v.Muni.ID)
	if err != nil {
		return err
	}
	if v.Decisions == nil {
		v.Decisions = map[string]civil.Date{}
	}
	for _, y := range years {
		for k, d := range e.CouncilDecisions(v.Muni.Slug, y) {
			v.Decisions[k] = d
		}
	}
	return nil
}

// previewYears are the years whose council decisions a case's tax preview
// may cite: each previewed year and the one before it (a year whose own
// amounts are not configured yet is previewed with the latest year's).
func previewYears(cd *fiscal.CaseDetail) []int {
	pv := cd.Preview
	if pv == nil {
		return nil
	}
	var ys []int
	for _, y := range pv.Years {
		ys = append(ys, y.Year-1, y.Year)
	}
	if pv.NextYear != nil {
		ys = append(ys, pv.NextYear.Year-1, pv.NextYear.Year)
	}
	return ys
}
