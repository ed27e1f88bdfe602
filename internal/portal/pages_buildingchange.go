package portal

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/web"
)

// The form of a building's change (/declare/building-change, linked from
// each current building on /account): the building, an extension's new
// area or a change of use (mixed: the residential and the non-residential
// part's usable area), the date, which document proves it (the acceptance
// report or the building permit) and the documents.

var buildingChangeFields = []string{"data.building_id", "data.change", "data.usable_area_m2", "data.built_area_m2", "data.use",
	"data.parts[0].usable_area_m2", "data.parts[1].usable_area_m2", "data.effective_on", "data.change_document"}

func (p *Portal) buildingChangePages() []page {
	return []page{
		{Method: "GET", Path: "/declare/building-change", Access: taxpayerOnly, Handler: p.buildingChangeForm},
		{Method: "POST", Path: "/declare/building-change", Access: taxpayerOnly, Handler: p.declareBuildingChange},
	}
}

func (p *Portal) renderBuildingChange(c *fiber.Ctx, v *view) error {
	hs, err := p.currentHoldings(c.UserContext(), v, "building", *v.Actor.TaxpayerID)
	if err != nil {
		return err
	}
	var required []string
	if d := v.Form["data.change_document"]; d != "" {
		required = []string{d}
	}
	return p.render(c, v, "declare_building_change", disposePropertyData{Kind: "building", Holdings: hs,
		declareData: declareData{FormID: formID(c), Docs: docInputs(v, fiscal.CaseBuildingChange, required), MaxMiB: fiscal.MaxAttachmentSize >> 20}})
}

func (p *Portal) buildingChangeForm(c *fiber.Ctx, v *view) error {
	if v.Actor.TaxpayerID == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no taxpayer record")
	}
	v.Form = map[string]string{"data.change_document": fiscal.ReceptionDocument}
	if id := c.Query("building_id"); id != "" {
		if _, err := strconv.ParseInt(id, 10, 64); err == nil {
			v.Form["data.building_id"] = id
		}
	}
	return p.renderBuildingChange(c, v)
}

// buildingChangeData builds the declaration's JSON from the form.
func buildingChangeData(f map[string]string) (json.RawMessage, []fiscal.FieldError) {
	var bad []fiscal.FieldError
	m := map[string]any{}
	if s := f["data.building_id"]; s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			bad = append(bad, fiscal.FieldError{Field: "data.building_id", Message: "is required"})
		}
		m["building_id"] = id
	}
	dec := func(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), ",", ".") }
	for _, n := range []string{"change", "effective_on", "change_document"} {
		if s := f["data."+n]; s != "" {
			m[n] = s
		}
	}
	switch f["data.change"] {
	case fiscal.ChangeExtension:
		for _, n := range []string{"usable_area_m2", "built_area_m2"} {
			if s := f["data."+n]; s != "" {
				m[n] = dec(s)
			}
		}
	case fiscal.ChangeOfUse:
		if s := f["data.use"]; s != "" {
			m["use"] = s
		}
		if f["data.use"] == "mixed" {
			var parts []any
			for i, use := range []string{"residential", "non_residential"} {
				part := map[string]any{"use": use}
				if s := f["data.parts["+strconv.Itoa(i)+"].usable_area_m2"]; s != "" {
					part["usable_area_m2"] = dec(s)
				}
				parts = append(parts, part)
			}
			m["parts"] = parts
		}
	}
	b, _ := json.Marshal(m)
	return b, bad
}

func (p *Portal) declareBuildingChange(c *fiber.Ctx, v *view) error {
	if v.Actor.TaxpayerID == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no taxpayer record")
	}
	v.Form = formValues(c, buildingChangeFields...)
	data, bad := buildingChangeData(v.Form)
	cs, err := p.submitCase(c, v, fiscal.CaseBuildingChange, data, bad)
	if err != nil {
		fe, ok := formErrors(v.Lang, err)
		if !ok {
			return err
		}
		v.Errors = fe
		c.Status(web.HTTPStatus(err))
		return p.renderBuildingChange(c, v)
	}
	return c.Redirect("/cases/"+strconv.FormatInt(cs.ID, 10), fiber.StatusSeeOther)
}
