package portal

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"context"

	"fiscald/fiscal"
	"fiscald/internal/web"
)

// The taxpayer's form of a request type the municipality published
// (fiscal.CaseDefinition): its fields and documents rendered from the
// definition, checked by the same pure rule as the API (ParseForm), each
// message in the page's language.

func (p *Portal) requestPages() []page {
	return []page{
		{Method: "GET", Path: "/requests", Access: taxpayerOnly, Handler: p.requestList},
		{Method: "GET", Path: "/requests/:type", Access: taxpayerOnly, Handler: p.requestForm},
		{Method: "POST", Path: "/requests/:type", Access: taxpayerOnly, Handler: p.fileRequest},
		{Method: "POST", Path: "/cases/:id/act", Access: access{roles: []fiscal.Role{fiscal.RoleOfficer, fiscal.RoleSigner, fiscal.RoleAccountant, fiscal.RoleAdmin}}, Handler: p.actStep},
	}
}

// requestField is one input of a published form.
type requestField struct {
	Field    field
	Textarea bool
}

type requestData struct {
	FormID string
	Type   string
	Fields []requestField
	Docs   []docInput
	MaxMiB int
}

// publishedType finds the current version of a published type.
func (p *Portal) publishedType(c *fiber.Ctx, v *view) (*fiscal.CaseDefinition, error) {
	list, err := p.deps.RequestTypes.PublishedCaseTypes(c.UserContext(), v.Actor.MunicipalityID)
	if err != nil {
		return nil, err
	}
	name := c.Params("type")
	for _, t := range list {
		if t.Type == name && t.Effect == "" { // a type with an effect has the effect's own form page
			return &fiscal.CaseDefinition{Type: t.Type, Title: t.Title, TitleEN: t.TitleEN, SLAWorkingDays: t.SLAWorkingDays,
				Form: t.Form, Documents: t.Documents, Steps: t.Steps}, nil
		}
	}
	return nil, fiscal.Errorf(fiscal.ENOTFOUND, "no such request type")
}

func (p *Portal) requestView(v *view, d *fiscal.CaseDefinition) requestData {
	v.Title = d.Title
	if v.Lang == EN {
		v.Title = d.TitleEN
	}
	out := requestData{Type: d.Type, MaxMiB: fiscal.MaxAttachmentSize >> 20}
	for _, f := range d.Form.Fields {
		name := "data." + f.Name
		label := f.Label
		if v.Lang == EN && f.LabelEN != "" {
			label = f.LabelEN
		}
		if label == "" {
			label = strings.ReplaceAll(f.Name, "_", " ")
		}
		rf := requestField{Field: field{V: v, Name: name, ID: fieldID(name), Label: label, Type: "text", Value: v.Form[name],
			Error: v.Errors[name], Required: f.Required}}
		switch f.Kind {
		case fiscal.KindText:
			rf.Textarea = true
		case fiscal.KindDate:
			rf.Field.Type = "date"
		case fiscal.KindInt:
			rf.Field.Inputmode = "numeric"
		case fiscal.KindDecimal:
			rf.Field.Inputmode = "decimal"
		case fiscal.KindEnum:
			rf.Field.Options = append(rf.Field.Options, option{Value: "", Label: v.T("opt.choose")})
			for _, o := range f.Options {
				rf.Field.Options = append(rf.Field.Options, option{Value: o, Label: o, Selected: o == rf.Field.Value})
			}
		}
		out.Fields = append(out.Fields, rf)
	}
	for _, doc := range d.Documents {
		out.Docs = append(out.Docs, docInput{Kind: doc.Kind, Title: doc.Title, Required: doc.Required, Error: v.Errors["doc."+doc.Kind]})
	}
	return out
}

func (p *Portal) requestForm(c *fiber.Ctx, v *view) error {
	d, err := p.publishedType(c, v)
	if err != nil {
		return err
	}
	data := p.requestView(v, d)
	data.FormID = formID(c)
	return p.render(c, v, "request", data)
}

// fileRequest checks the form and the files, files the case and attaches
// the files.
func (p *Portal) fileRequest(c *fiber.Ctx, v *view) error {
	if v.Actor.TaxpayerID == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no taxpayer record")
	}
	d, err := p.publishedType(c, v)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(d.Form.Fields))
	for _, f := range d.Form.Fields {
		names = append(names, "data."+f.Name)
	}
	v.Form = formValues(c, names...)
	raw := map[string]any{}
	for _, f := range d.Form.Fields {
		s := v.Form["data."+f.Name]
		if s == "" {
			continue
		}
		if f.Kind == fiscal.KindInt {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				raw[f.Name] = n
				continue
			}
		}
		raw[f.Name] = s
	}
	body, _ := json.Marshal(raw)
	norm, ferrs := d.ParseForm(body)
	v.Errors = map[string]string{}
	for _, e := range ferrs {
		if v.Lang == EN {
			v.Errors[e.Field] = e.EN
		} else {
			v.Errors[e.Field] = e.RO
		}
	}
	var required []string
	for _, doc := range d.Documents {
		if doc.Required {
			required = append(required, doc.Kind)
		}
	}
	ups, fileErrs := formUploads(c, d.CaseType(), required)
	for _, e := range fileErrs {
		v.Errors[e.Field] = fieldMessage(v.Lang, e)
	}
	if len(v.Errors) == 0 {
		cs, again, err := p.filedOnce(c, v, func(ctx context.Context) (*fiscal.Case, error) {
			return p.deps.Cases.CreateCase(ctx, &fiscal.NewCase{Type: d.Type, TaxpayerID: *v.Actor.TaxpayerID, Data: norm})
		})
		if err == nil {
			switch {
			case again:
				p.setFlash(c, "case.already_filed")
			case p.attach(c, cs.ID, ups) != nil:
				p.setFlash(c, "case.docs.failed")
			default:
				p.setFlash(c, "case.created")
			}
			return c.Redirect("/cases/"+strconv.FormatInt(cs.ID, 10), fiber.StatusSeeOther)
		}
		fe, ok := formErrors(v.Lang, err)
		if !ok {
			return err
		}
		v.Errors = fe
	}
	data := p.requestView(v, d)
	data.FormID = formID(c)
	return p.render(c.Status(web.HTTPStatus(fiscal.Invalid())), v, "request", data)
}

// requestItem is a published type in the list.
type requestItem struct {
	Type, Title string
	SLA         int
}

// requestList lists the published types, each linking to its form.
func (p *Portal) requestList(c *fiber.Ctx, v *view) error {
	list, err := p.deps.RequestTypes.PublishedCaseTypes(c.UserContext(), v.Actor.MunicipalityID)
	if err != nil {
		return err
	}
	items := make([]requestItem, 0, len(list))
	for _, t := range list {
		if t.Effect != "" {
			continue // the shipped types and their versions have their own pages (vehicles, properties, certificates, petitions)
		}
		title := t.Title
		if v.Lang == EN {
			title = t.TitleEN
		}
		items = append(items, requestItem{Type: t.Type, Title: title, SLA: t.SLAWorkingDays})
	}
	return p.render(c, v, "requests", items)
}

// actsFor are the open steps of a case the actor's role may take (a
// substitute's borrowed role is the engine's to grant: its steps are not
// offered here).
func actsFor(a *fiscal.Actor, cd *fiscal.CaseDetail) []fiscal.OpenStep {
	if !cd.Status.Open() || cd.Status == fiscal.StatusAwaitingTaxpayer {
		return nil
	}
	var out []fiscal.OpenStep
	for _, o := range cd.OpenSteps {
		if a.Has(o.Roles...) {
			out = append(out, o)
		}
	}
	return out
}

// actStep takes a step of a published type's route from the staff case
// page; errors show on the page as a review's do.
func (p *Portal) actStep(c *fiber.Ctx, v *view) error {
	step := strings.Clone(c.FormValue("step"))
	return p.decide(c, v, func(ctx context.Context, id int64, d *fiscal.Decision) error {
		_, err := p.deps.RequestTypes.Act(ctx, id, &fiscal.ActInput{Step: step, Decision: d.Decision, Comment: d.Comment, Version: d.Version})
		return err
	}, fiscal.DecisionApprove, fiscal.DecisionReject, fiscal.DecisionRequestInfo)
}

// publishedLabels gives the view the titles of the published types and the
// labels of their fields (by the field's data path), so the case pages,
// the account and the queues name them as their definitions do. A failure
// leaves the catalog's keys.
func (p *Portal) publishedLabels(c *fiber.Ctx, v *view) {
	if p.deps.RequestTypes == nil || v.Actor == nil {
		return
	}
	list, err := p.deps.RequestTypes.PublishedCaseTypes(c.UserContext(), v.Actor.MunicipalityID)
	if err != nil {
		p.log.Warn("portal: published request types", "err", err.Error())
		return
	}
	if v.labels == nil {
		v.labels = map[string]string{}
	}
	for _, t := range list {
		if t.Type == t.Effect {
			continue // a shipped type: the catalog names it and its fields
		}
		title := t.Title
		if v.Lang == EN {
			title = t.TitleEN
		}
		v.labels["casetype."+t.Type] = title
		for _, f := range t.Form.Fields {
			label := f.Label
			if v.Lang == EN && f.LabelEN != "" {
				label = f.LabelEN
			}
			if label != "" {
				if _, builtin := v.labels["data."+f.Name]; !builtin && translate(v.Lang, "data."+f.Name) == "data."+f.Name {
					v.labels["data."+f.Name] = label
				}
			}
		}
		for _, d := range t.Documents {
			if translate(v.Lang, "doc."+d.Kind) == "doc."+d.Kind {
				v.labels["doc."+d.Kind] = d.Title
			}
		}
	}
}
