package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/money"
	"fiscald/internal/web"
)

// "Clădirile și terenurile mele" on the account page: each building and
// plot of the taxpayer with their share, co-owners and this year's tax on
// their share (from the statement's debts of that object).

type propertiesData struct {
	// Heading is the section's message key ("my" on the account page, the
	// taxpayer's on a staff case page).
	Heading string
	Year    int
	Rows    []propertyRow
}

type propertyRow struct {
	Object, Address, Cadastral, Share, CoOwners, Tax, Status string
	// ChangeURL declares a change of the building (the owner's own view).
	ChangeURL string
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
	out := &propertiesData{Heading: "account.properties", Year: year}
	if v.Properties == nil {
		v.Properties = map[string]string{}
	}
	row := func(kind string, h *fiscal.Holding, object string) propertyRow {
		if h.CadastralNumber != "" {
			v.Properties[fmt.Sprint(kind, "/", h.ID)] = h.CadastralNumber
		}
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
		r := row("building", &b.Holding, v.T("account.property.building", v.T("account.property.use."+b.Use), area))
		if b.DisposedOn == nil && v.Actor != nil && v.Actor.TaxpayerID != nil && *v.Actor.TaxpayerID == tpID {
			r.ChangeURL = "/declare/building-change?building_id=" + strconv.FormatInt(b.ID, 10)
		}
		out.Rows = append(out.Rows, r)
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

// The declaration forms of an acquired building or plot (one co-owner on
// the form; the API takes more).

var propertyFields = map[string][]string{
	"building": {"data.address", "data.cadastral_number", "data.use", "data.construction_type", "data.basement_or_attic", "data.utilities",
		"data.usable_area_m2", "data.built_area_m2", "data.zone", "data.year_built", "data.acquired_on", "data.acquisition_document",
		"data.co_owners[0].cnp", "data.co_owners[0].name", "data.co_owners[0].share"},
	"land": {"data.address", "data.cadastral_number", "data.location", "data.zone", "data.use_category", "data.area_m2", "data.acquired_on",
		"data.acquisition_document", "data.co_owners[0].cnp", "data.co_owners[0].name", "data.co_owners[0].share"},
}

var propertyCaseTypes = map[string]string{"building": fiscal.CaseBuildingAcquisition, "land": fiscal.CaseLandAcquisition}

type declarePropertyData struct {
	declareData
	Kind string
}

func (p *Portal) propertyPages() []page {
	var ps []page
	for _, kind := range []string{"building", "land"} {
		ps = append(ps,
			page{Method: "GET", Path: "/declare/" + kind, Access: taxpayerOnly, Handler: p.propertyForm(kind)},
			page{Method: "POST", Path: "/declare/" + kind, Access: taxpayerOnly, Handler: p.declareProperty(kind)})
	}
	if p.deps.Properties != nil {
		ps = append(ps, p.disposalPages()...)
		ps = append(ps, p.buildingChangePages()...)
	}
	return ps
}

func (p *Portal) propertyForm(kind string) func(c *fiber.Ctx, v *view) error {
	return func(c *fiber.Ctx, v *view) error {
		v.Form = map[string]string{}
		return p.render(c, v, "declare_property", declarePropertyData{Kind: kind,
			declareData: declareData{FormID: formID(c), Docs: docInputs(v, propertyCaseTypes[kind], nil), MaxMiB: fiscal.MaxAttachmentSize >> 20}})
	}
}

// propertyData builds the declaration's JSON from the form; numbers that
// are not numbers are field errors.
func propertyData(f map[string]string) (json.RawMessage, []fiscal.FieldError) {
	var bad []fiscal.FieldError
	m := map[string]any{}
	for _, n := range []string{"address", "cadastral_number", "use", "construction_type", "basement_or_attic", "zone", "location", "use_category",
		"usable_area_m2", "built_area_m2", "area_m2", "acquisition_document", "acquired_on"} {
		if s := f["data."+n]; s != "" {
			m[n] = s
		}
	}
	if _, ok := f["data.utilities"]; ok && f["data.use"] != "" {
		m["utilities"] = f["data.utilities"] == "true"
	}
	if s := f["data.year_built"]; s != "" {
		if y, err := strconv.Atoi(s); err != nil {
			bad = append(bad, fiscal.FieldError{Field: "data.year_built", Message: "must be a number"})
		} else {
			m["year_built"] = y
		}
	}
	if cnp, name, share := f["data.co_owners[0].cnp"], f["data.co_owners[0].name"], f["data.co_owners[0].share"]; cnp+name+share != "" {
		co := map[string]any{"cnp": cnp, "name": name}
		if share != "" {
			co["share"] = strings.ReplaceAll(share, ",", ".")
		}
		m["co_owners"] = []any{co}
	}
	b, _ := json.Marshal(m)
	return b, bad
}

func (p *Portal) declareProperty(kind string) func(c *fiber.Ctx, v *view) error {
	return func(c *fiber.Ctx, v *view) error {
		if v.Actor.TaxpayerID == nil {
			return fiscal.Errorf(fiscal.ENOTFOUND, "no taxpayer record")
		}
		v.Form = formValues(c, propertyFields[kind]...)
		data, bad := propertyData(v.Form)
		cs, err := p.submitCase(c, v, propertyCaseTypes[kind], data, bad)
		if err != nil {
			fe, ok := formErrors(v.Lang, err)
			if !ok {
				return err
			}
			v.Errors = fe
			return p.render(c.Status(web.HTTPStatus(err)), v, "declare_property", declarePropertyData{Kind: kind,
				declareData: declareData{FormID: formID(c), Docs: docInputs(v, propertyCaseTypes[kind], nil), MaxMiB: fiscal.MaxAttachmentSize >> 20}})
		}
		return c.Redirect("/cases/"+strconv.FormatInt(cs.ID, 10), fiber.StatusSeeOther)
	}
}

// The disposal forms: the taxpayer's current building or plot, the date and
// the reason, with the disposal document.

type holdingOption struct {
	ID    int64
	Label string
}

type disposePropertyData struct {
	declareData
	Kind     string
	Holdings []holdingOption
}

var disposalCaseTypes = map[string]string{"building": fiscal.CaseBuildingDisposal, "land": fiscal.CaseLandDisposal}

func (p *Portal) disposalPages() []page {
	var ps []page
	for _, kind := range []string{"building", "land"} {
		ps = append(ps,
			page{Method: "GET", Path: "/declare/" + kind + "-disposal", Access: taxpayerOnly, Handler: p.disposalForm(kind)},
			page{Method: "POST", Path: "/declare/" + kind + "-disposal", Access: taxpayerOnly, Handler: p.declareDisposal(kind)})
	}
	return ps
}

// currentHoldings lists the taxpayer's current holdings of a kind.
func (p *Portal) currentHoldings(ctx context.Context, v *view, kind string, tpID int64) ([]holdingOption, error) {
	var out []holdingOption
	label := func(h *fiscal.Holding) string {
		return fmt.Sprintf("%s — %s (%s%%)", h.Address, h.CadastralNumber, h.Share.Percent())
	}
	if kind == "building" {
		bs, err := p.deps.Properties.TaxpayerBuildings(ctx, tpID)
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			if b.DisposedOn == nil {
				out = append(out, holdingOption{b.ID, label(&b.Holding)})
			}
		}
		return out, nil
	}
	ls, err := p.deps.Properties.TaxpayerLands(ctx, tpID)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		if l.DisposedOn == nil {
			out = append(out, holdingOption{l.ID, label(&l.Holding)})
		}
	}
	return out, nil
}

func (p *Portal) renderDisposal(c *fiber.Ctx, v *view, kind string) error {
	hs, err := p.currentHoldings(c.UserContext(), v, kind, *v.Actor.TaxpayerID)
	if err != nil {
		return err
	}
	return p.render(c, v, "declare_property_disposal", disposePropertyData{Kind: kind, Holdings: hs,
		declareData: declareData{FormID: formID(c), Docs: docInputs(v, disposalCaseTypes[kind], nil), MaxMiB: fiscal.MaxAttachmentSize >> 20}})
}

func (p *Portal) disposalForm(kind string) func(c *fiber.Ctx, v *view) error {
	return func(c *fiber.Ctx, v *view) error {
		if v.Actor.TaxpayerID == nil {
			return fiscal.Errorf(fiscal.ENOTFOUND, "no taxpayer record")
		}
		v.Form = map[string]string{"data.reason": "sale"}
		return p.renderDisposal(c, v, kind)
	}
}

func (p *Portal) declareDisposal(kind string) func(c *fiber.Ctx, v *view) error {
	return func(c *fiber.Ctx, v *view) error {
		if v.Actor.TaxpayerID == nil {
			return fiscal.Errorf(fiscal.ENOTFOUND, "no taxpayer record")
		}
		idField := "data." + kind + "_id"
		v.Form = formValues(c, idField, "data.disposed_on", "data.reason")
		m := map[string]any{}
		var bad []fiscal.FieldError
		if s := v.Form[idField]; s != "" {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				bad = append(bad, fiscal.FieldError{Field: idField, Message: "is required"})
			}
			m[kind+"_id"] = id
		}
		if s := v.Form["data.disposed_on"]; s != "" {
			m["disposed_on"] = s
		}
		if s := v.Form["data.reason"]; s != "" {
			m["reason"] = s
		}
		data, _ := json.Marshal(m)
		cs, err := p.submitCase(c, v, disposalCaseTypes[kind], data, bad)
		if err != nil {
			fe, ok := formErrors(v.Lang, err)
			if !ok {
				return err
			}
			v.Errors = fe
			c.Status(web.HTTPStatus(err))
			return p.renderDisposal(c, v, kind)
		}
		return c.Redirect("/cases/"+strconv.FormatInt(cs.ID, 10), fiber.StatusSeeOther)
	}
}
