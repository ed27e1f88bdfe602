package portal

import (
	"context"
	"fmt"
	"strings"

	"fiscald/fiscal"
	"fiscald/internal/money"
)

// "Clădirile și terenurile mele" on the account page: each building and
// plot of the taxpayer with their share, co-owners and this year's tax on
// their share (from the statement's debts of that object).

type propertiesData struct {
	Year int
	Rows []propertyRow
}

type propertyRow struct {
	Object, Address, Cadastral, Share, CoOwners, Tax, Status string
}

func coOwnersText(cs []fiscal.CoOwner) string {
	if len(cs) == 0 {
		return "—"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s (%s%%)", c.Name, c.Share.Percent())
	}
	return strings.Join(parts, ", ")
}

// properties reads the taxpayer's buildings and land and their tax of the
// statement's year; nil without the service.
func (p *Portal) properties(ctx context.Context, v *view, tpID int64, st *fiscal.Statement) (*propertiesData, error) {
	if p.deps.Properties == nil {
		return nil, nil
	}
	year := fiscal.LocalDate(p.deps.Clock.Now()).Year
	tax := map[string]money.Bani{}
	if st != nil {
		for _, d := range st.Debts {
			if d.ObjectID != nil && d.Year == year && (d.Kind == fiscal.DebtPrincipal || d.Kind == fiscal.DebtAdjustment) {
				tax[fmt.Sprint(d.TaxType, "/", *d.ObjectID)] += d.Principal
			}
		}
	}
	out := &propertiesData{Year: year}
	row := func(kind string, h *fiscal.Holding, object string) propertyRow {
		r := propertyRow{Object: object, Address: h.Address, Cadastral: h.CadastralNumber, Share: h.Share.Percent() + "%",
			CoOwners: coOwnersText(h.CoOwners), Tax: "—"}
		if b, ok := tax[fmt.Sprint(kind, "/", h.ID)]; ok {
			r.Tax = v.Money(b)
		}
		if h.DisposedOn != nil {
			r.Status = v.T("account.property.disposed", v.Date(*h.DisposedOn))
		} else {
			r.Status = v.T("account.property.taxedfrom", h.TaxedFromYear)
		}
		return r
	}
	bs, err := p.deps.Properties.TaxpayerBuildings(ctx, tpID)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		area := ""
		if a := b.UsableAreaM2; a != nil {
			area = a.String()
		} else if a := b.BuiltAreaM2; a != nil {
			area = a.String()
		}
		out.Rows = append(out.Rows, row("building", &b.Holding, v.T("account.property.building", v.T("account.property.use."+b.Use), area)))
	}
	ls, err := p.deps.Properties.TaxpayerLands(ctx, tpID)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		area := ""
		if l.AreaM2 != nil {
			area = l.AreaM2.String()
		}
		out.Rows = append(out.Rows, row("land", &l.Holding, v.T("account.property.land", v.T("account.property.loc."+l.Location),
			v.T("account.property.cat."+l.UseCategory), area)))
	}
	return out, nil
}
