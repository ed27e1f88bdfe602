package portal

import (
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/web"
)

// The taxpayer's side of cases: declaring an acquired vehicle or a sold one
// (multipart forms with the documents), the case page (status, due date,
// timeline, documents still missing, the answer to a request for
// information) and the downloads of a case's documents. Staff open the same
// case URL and get the officer's or signer's page (pages_staff.go).

func (p *Portal) casePages() []page {
	return []page{
		{Method: "GET", Path: "/declare/vehicle", Access: taxpayerOnly, Handler: p.vehicleForm},
		{Method: "POST", Path: "/declare/vehicle", Access: taxpayerOnly, Handler: p.declareVehicle},
		{Method: "GET", Path: "/declare/deregistration", Access: taxpayerOnly, Handler: p.deregistrationForm},
		{Method: "POST", Path: "/declare/deregistration", Access: taxpayerOnly, Handler: p.declareDeregistration},
		{Method: "GET", Path: "/cases/:id", Access: access{}, Handler: p.casePage},
		{Method: "POST", Path: "/cases/:id/documents", Access: access{roles: []fiscal.Role{fiscal.RoleTaxpayer, fiscal.RoleOfficer}}, Handler: p.addDocument},
		{Method: "POST", Path: "/cases/:id/respond", Access: taxpayerOnly, Handler: p.respond},
		{Method: "GET", Path: "/cases/:id/documents/:aid", Access: access{}, Handler: p.downloadDocument},
	}
}

// vehicleFields are the declaration's inputs, named by the API's JSON paths
// (data.*), so its field errors land on them.
var vehicleFields = []string{"data.vin", "data.plate", "data.category", "data.engine_cc", "data.emission_class", "data.propulsion",
	"data.co2_g_km", "data.max_mass_kg", "data.axles", "data.air_suspension", "data.acquired_on", "data.acquisition_document"}

// docInput is one file input of a declaration form.
type docInput struct {
	Kind     string // the document kind; the input is named "doc.<kind>"
	Title    string
	Required bool
	Hint     string
	Error    string
}

type declareData struct {
	// FormID is the form's one-time id (formonce.go).
	FormID   string
	Docs     []docInput
	Vehicles []*fiscal.Vehicle
	MaxMiB   int
}

// docInputs lists the file inputs of a case type; required are the kinds
// the data makes mandatory.
func docInputs(v *view, caseType string, required []string) []docInput {
	t, _ := fiscal.CaseTypeByName(caseType)
	var out []docInput
	for _, d := range t.Documents {
		if d.Kind == "other" {
			continue
		}
		req := d.Required
		for _, r := range required {
			req = req || r == d.Kind
		}
		out = append(out, docInput{Kind: d.Kind, Title: v.T("doc." + d.Kind), Required: req, Hint: v.T("doc." + d.Kind + ".hint"),
			Error: v.Errors["doc."+d.Kind]})
	}
	return out
}

func (p *Portal) vehicleForm(c *fiber.Ctx, v *view) error {
	v.Form = map[string]string{"data.propulsion": "combustion", "data.category": "car"}
	return p.render(c, v, "declare_vehicle", declareData{FormID: formID(c), Docs: docInputs(v, fiscal.CaseVehicleRegistration, nil), MaxMiB: fiscal.MaxAttachmentSize >> 20})
}

// vehicleData builds the declaration's JSON from the form; numbers that are
// not numbers are field errors.
func vehicleData(f map[string]string) (json.RawMessage, []fiscal.FieldError) {
	var bad []fiscal.FieldError
	m := map[string]any{}
	for _, n := range []string{"vin", "plate", "category", "emission_class", "propulsion", "acquisition_document"} {
		if s := f["data."+n]; s != "" {
			m[n] = s
		}
	}
	for _, n := range []string{"engine_cc", "co2_g_km", "max_mass_kg", "axles"} {
		s := f["data."+n]
		if s == "" {
			continue
		}
		i, err := strconv.Atoi(s)
		if err != nil {
			bad = append(bad, fiscal.FieldError{Field: "data." + n, Message: "must be a number"})
			continue
		}
		m[n] = i
	}
	if f["data.air_suspension"] == "true" {
		m["air_suspension"] = true
	}
	if f["data.acquired_on"] != "" {
		if _, err := civil.Parse(f["data.acquired_on"]); err != nil {
			bad = append(bad, fiscal.FieldError{Field: "data.acquired_on", Message: "must be a date YYYY-MM-DD"})
		} else {
			m["acquired_on"] = f["data.acquired_on"]
		}
	}
	b, _ := json.Marshal(m)
	return b, bad
}

// upload is a checked file of a form.
type upload struct {
	kind string
	fh   *multipart.FileHeader
}

// formUploads reads the "doc.<kind>" files of a multipart form and checks
// each one as the store will: at most 10 MiB, PDF, JPEG or PNG by content.
// Required kinds without a file are field errors too.
func formUploads(c *fiber.Ctx, t *fiscal.CaseType, required []string) ([]upload, []fiscal.FieldError) {
	var (
		ups  []upload
		errs []fiscal.FieldError
	)
	form, err := c.MultipartForm()
	if err != nil {
		// Not multipart: every required document is missing.
		form = &multipart.Form{}
	}
	have := map[string]bool{}
	for _, d := range t.Documents {
		name := "doc." + d.Kind
		files := form.File[name]
		if len(files) == 0 || files[0].Size == 0 {
			continue
		}
		fh := files[0]
		if msg := checkFile(fh); msg != "" {
			errs = append(errs, fiscal.FieldError{Field: name, Message: msg})
			continue
		}
		have[d.Kind] = true
		ups = append(ups, upload{kind: d.Kind, fh: fh})
	}
	for _, k := range required {
		if !have[k] && !hasField(errs, "doc."+k) {
			errs = append(errs, fiscal.FieldError{Field: "doc." + k, Message: "attach this document"})
		}
	}
	return ups, errs
}

func hasField(fe []fiscal.FieldError, name string) bool {
	for _, f := range fe {
		if f.Field == name {
			return true
		}
	}
	return false
}

// checkFile returns why a file is refused, or "".
func checkFile(fh *multipart.FileHeader) string {
	if fh.Size > fiscal.MaxAttachmentSize {
		return "an attachment may have at most 10 MiB"
	}
	f, err := fh.Open()
	if err != nil {
		return "could not be read"
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	if fiscal.DocumentContentType(head[:n]) == "" {
		return "must be a PDF, JPEG or PNG document (checked by its content)"
	}
	return ""
}

// attach stores the checked files on the case.
func (p *Portal) attach(c *fiber.Ctx, caseID int64, ups []upload) error {
	for _, u := range ups {
		f, err := u.fh.Open()
		if err != nil {
			return fiscal.Internal(err, "upload")
		}
		_, err = p.deps.Cases.AddAttachment(c.UserContext(), caseID, &fiscal.Upload{Kind: u.kind, Filename: strings.Clone(u.fh.Filename), Size: u.fh.Size, Content: f})
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// submitCase validates the data and the files, then files the case and
// attaches the files; field errors come back for the form.
func (p *Portal) submitCase(c *fiber.Ctx, v *view, caseType string, data json.RawMessage, bad []fiscal.FieldError) (*fiscal.Case, error) {
	t, _ := fiscal.CaseTypeByName(caseType)
	today := fiscal.LocalDate(p.deps.Clock.Now())
	norm, err := t.ParseData(data, today)
	var required []string
	if err == nil {
		required = t.RequiredDocuments(norm)
	} else {
		required = t.RequiredDocuments(data)
	}
	ups, fileErrs := formUploads(c, t, required)
	if err == nil && len(bad)+len(fileErrs) > 0 {
		err = fiscal.Invalid(append(bad, fileErrs...)...)
	} else if err != nil {
		err = withFields(err, append(bad, fileErrs...))
	}
	if err != nil {
		return nil, err
	}
	cs, again, err := p.filedOnce(c, v, func(ctx context.Context) (*fiscal.Case, error) {
		return p.deps.Cases.CreateCase(ctx, &fiscal.NewCase{Type: caseType, TaxpayerID: *v.Actor.TaxpayerID, Data: norm})
	})
	if err != nil {
		return nil, err
	}
	if again { // the same form, sent again: its case, documents already attached
		p.setFlash(c, "case.already_filed")
		return cs, nil
	}
	if err := p.attach(c, cs.ID, ups); err != nil {
		// The case exists: its page says which documents are missing.
		p.log.Warn("portal: a document of a new case was refused", "case", cs.ID, "err", err.Error())
		p.setFlash(c, "case.docs.failed")
		return cs, nil
	}
	p.setFlash(c, "case.created")
	return cs, nil
}

func (p *Portal) declareVehicle(c *fiber.Ctx, v *view) error {
	if v.Actor.TaxpayerID == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no taxpayer record")
	}
	v.Form = formValues(c, vehicleFields...)
	data, bad := vehicleData(v.Form)
	cs, err := p.submitCase(c, v, fiscal.CaseVehicleRegistration, data, bad)
	if err != nil {
		fe, ok := formErrors(v.Lang, err)
		if !ok {
			return err
		}
		v.Errors = fe
		var required []string
		if mm, _ := strconv.Atoi(v.Form["data.max_mass_kg"]); mm >= fiscal.HeavyVehicleKg {
			required = []string{"suspension_certificate"}
		}
		return p.render(c.Status(web.HTTPStatus(err)), v, "declare_vehicle", declareData{FormID: formID(c), Docs: docInputs(v, fiscal.CaseVehicleRegistration, required), MaxMiB: fiscal.MaxAttachmentSize >> 20})
	}
	return c.Redirect("/cases/"+strconv.FormatInt(cs.ID, 10), fiber.StatusSeeOther)
}

// activeVehicles are the taxpayer's vehicles still in the register.
func (p *Portal) activeVehicles(c *fiber.Ctx, v *view) ([]*fiscal.Vehicle, error) {
	if p.deps.Vehicles == nil {
		return nil, nil
	}
	all, err := p.deps.Vehicles.TaxpayerVehicles(c.UserContext(), *v.Actor.TaxpayerID)
	if err != nil {
		return nil, err
	}
	var out []*fiscal.Vehicle
	for _, x := range all {
		if x.DeregisteredOn == nil {
			out = append(out, x)
		}
	}
	return out, nil
}

var deregistrationFields = []string{"data.vehicle_id", "data.disposed_on", "data.reason"}

func (p *Portal) deregistrationForm(c *fiber.Ctx, v *view) error {
	if v.Actor.TaxpayerID == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no taxpayer record")
	}
	vs, err := p.activeVehicles(c, v)
	if err != nil {
		return err
	}
	v.Form = map[string]string{"data.vehicle_id": strings.Clone(c.Query("vehicle")), "data.reason": "sale"}
	return p.render(c, v, "declare_deregistration", declareData{FormID: formID(c), Docs: docInputs(v, fiscal.CaseVehicleDeregistration, nil), Vehicles: vs, MaxMiB: fiscal.MaxAttachmentSize >> 20})
}

func (p *Portal) declareDeregistration(c *fiber.Ctx, v *view) error {
	if v.Actor.TaxpayerID == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no taxpayer record")
	}
	v.Form = formValues(c, deregistrationFields...)
	m := map[string]any{}
	var bad []fiscal.FieldError
	if s := v.Form["data.vehicle_id"]; s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			bad = append(bad, fiscal.FieldError{Field: "data.vehicle_id", Message: "is required"})
		}
		m["vehicle_id"] = id
	}
	if s := v.Form["data.disposed_on"]; s != "" {
		if _, err := civil.Parse(s); err != nil {
			bad = append(bad, fiscal.FieldError{Field: "data.disposed_on", Message: "must be a date YYYY-MM-DD"})
		} else {
			m["disposed_on"] = s
		}
	}
	if s := v.Form["data.reason"]; s != "" {
		m["reason"] = s
	}
	data, _ := json.Marshal(m)
	cs, err := p.submitCase(c, v, fiscal.CaseVehicleDeregistration, data, bad)
	if err != nil {
		fe, ok := formErrors(v.Lang, err)
		if !ok {
			return err
		}
		v.Errors = fe
		vs, verr := p.activeVehicles(c, v)
		if verr != nil {
			return verr
		}
		return p.render(c.Status(web.HTTPStatus(err)), v, "declare_deregistration", declareData{FormID: formID(c), Docs: docInputs(v, fiscal.CaseVehicleDeregistration, nil), Vehicles: vs, MaxMiB: fiscal.MaxAttachmentSize >> 20})
	}
	return c.Redirect("/cases/"+strconv.FormatInt(cs.ID, 10), fiber.StatusSeeOther)
}

// dataLine is one field of a case's form data, for display.
type dataLine struct {
	Label, Value string
}

// caseDataLines shows a case's normalised data as labelled lines (labels
// from the catalog, enumerations translated).
func caseDataLines(v *view, raw json.RawMessage) []dataLine {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []dataLine
	for _, k := range keys {
		var val string
		switch x := m[k].(type) {
		case string:
			val = x
			if tr := v.T("opt." + x); tr != "opt."+x {
				val = tr
			} else if d, err := civil.Parse(x); err == nil {
				val = v.Date(d)
			}
		case float64:
			val = strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			val = v.T("opt.no")
			if x {
				val = v.T("opt.yes")
			}
		default:
			b, _ := json.Marshal(x)
			val = string(b)
		}
		label := v.T("data." + k)
		out = append(out, dataLine{Label: label, Value: val})
	}
	return out
}

// caseView is the data of the case pages.
type caseView struct {
	Case      *fiscal.CaseDetail
	Lines     []dataLine
	Missing   []docInput
	DocKinds  []option
	Taxpayer  *fiscal.Taxpayer
	Vehicles  []*fiscal.Vehicle
	Statement *fiscal.Statement
	// Properties are the taxpayer's buildings and land (staff case page).
	Properties *propertiesData
	// Actions the signed-in staff member may take now.
	CanReview, CanSign, CanComment bool
	// Acts are the open steps of a published type's route the staff
	// member's role may take (pages_requests.go).
	Acts []fiscal.OpenStep
	// Issued are the documents the case produced (the decision, the
	// certificate).
	Issued []*fiscal.Document
}

// caseIssued lists the documents a case produced.
func (p *Portal) caseIssued(c *fiber.Ctx, cd *fiscal.CaseDetail) ([]*fiscal.Document, error) {
	if p.deps.Documents == nil || cd.Status != fiscal.StatusApproved {
		return nil, nil
	}
	all, err := p.deps.Documents.TaxpayerDocuments(c.UserContext(), cd.TaxpayerID)
	if err != nil {
		return nil, err
	}
	var out []*fiscal.Document
	for _, d := range all {
		if d.CaseID != nil && *d.CaseID == cd.ID {
			out = append(out, d)
		}
	}
	return out, nil
}

func pathInt(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fiscal.Errorf(fiscal.ENOTFOUND, "no such page")
	}
	return id, nil
}

func (p *Portal) casePage(c *fiber.Ctx, v *view) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	if v.Actor.IsStaff() {
		return p.staffCasePage(c, v, id)
	}
	return p.taxpayerCasePage(c, v, id, 200)
}

func (p *Portal) taxpayerCasePage(c *fiber.Ctx, v *view, id int64, status int) error {
	cd, err := p.deps.Cases.Case(c.UserContext(), id)
	if err != nil {
		return err
	}
	p.publishedLabels(c, v)
	d := caseView{Case: cd, Lines: caseDataLines(v, cd.Data)}
	if err := p.loadDecisions(c, v, previewYears(cd)...); err != nil {
		return err
	}
	d.Missing = missingDocs(v, cd)
	d.DocKinds = docKinds(v, cd)
	if d.Issued, err = p.caseIssued(c, cd); err != nil {
		return err
	}
	v.Title = v.T("case.title", cd.Number)
	return p.render(c.Status(status), v, "case", d)
}

// missingDocs lists the required documents a case lacks.
func missingDocs(v *view, cd *fiscal.CaseDetail) []docInput {
	var out []docInput
	for _, k := range cd.MissingDocuments {
		out = append(out, docInput{Kind: k, Title: v.T("doc." + k), Required: true})
	}
	return out
}

// docKinds are the options of the "add a document" form, missing ones first.
func docKinds(v *view, cd *fiscal.CaseDetail) []option {
	t, ok := fiscal.CaseTypeByName(cd.Type)
	if !ok {
		t = &fiscal.CaseType{} // a published type: its missing documents
	}
	var out []option
	seen := map[string]bool{}
	for _, k := range cd.MissingDocuments {
		out = append(out, option{Value: k, Label: v.T("doc." + k), Selected: len(out) == 0 && v.Val("kind") == ""})
		seen[k] = true
	}
	for _, d := range t.Documents {
		if !seen[d.Kind] {
			out = append(out, option{Value: d.Kind, Label: v.T("doc." + d.Kind)})
		}
	}
	for i := range out {
		if v.Val("kind") != "" {
			out[i].Selected = out[i].Value == v.Val("kind")
		}
	}
	return out
}

// addDocument uploads one document to a case (the taxpayer's missing ones,
// or an officer adding a paper brought to the desk).
func (p *Portal) addDocument(c *fiber.Ctx, v *view) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	v.Form = formValues(c, "kind")
	kind := v.Form["kind"]
	out, err := p.onceTo(c, v, formOutcome{To: "/cases/" + strconv.FormatInt(id, 10), Flash: "case.doc.added"},
		func(ctx context.Context) error { return p.uploadOne(ctx, c, id, kind, "file") })
	if err != nil {
		fe, ok := formErrors(v.Lang, err)
		if !ok {
			return err
		}
		v.Errors = fe
		if v.Actor.IsStaff() {
			return p.renderStaffCase(c.Status(web.HTTPStatus(err)), v, id)
		}
		return p.taxpayerCasePage(c, v, id, web.HTTPStatus(err))
	}
	return p.answer(c, out)
}

// uploadOne checks and stores the file of input name as a document of
// kind (ctx: the use case's, with the form's claim).
func (p *Portal) uploadOne(ctx context.Context, c *fiber.Ctx, caseID int64, kind, name string) error {
	fh, err := c.FormFile(name)
	if err != nil || fh.Size == 0 {
		return fiscal.InvalidField(name, "attach this document")
	}
	if msg := checkFile(fh); msg != "" {
		return fiscal.InvalidField(name, msg)
	}
	if kind == "" {
		return fiscal.InvalidField("kind", "is required")
	}
	f, err := fh.Open()
	if err != nil {
		return fiscal.Internal(err, "upload")
	}
	defer f.Close()
	_, err = p.deps.Cases.AddAttachment(ctx, caseID, &fiscal.Upload{Kind: kind, Filename: strings.Clone(fh.Filename), Size: fh.Size, Content: f})
	if fe, ok := err.(*fiscal.Error); ok && len(fe.Fields) > 0 {
		fields := make([]fiscal.FieldError, len(fe.Fields))
		for i, f := range fe.Fields {
			if f.Field == "file" {
				f.Field = name
			}
			fields[i] = f
		}
		return fiscal.Invalid(fields...)
	}
	return err
}

// respond is the taxpayer's answer to a request for information, with an
// optional document.
func (p *Portal) respond(c *fiber.Ctx, v *view) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	v.Form = formValues(c, "comment", "kind")
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	r := fiscal.Response{Comment: v.Form["comment"], Version: version}
	err = web.Validate(&r)
	fh, ferr := c.FormFile("file")
	hasFile := ferr == nil && fh.Size > 0
	if err == nil && hasFile {
		if msg := checkFile(fh); msg != "" {
			err = fiscal.InvalidField("file", msg)
		}
	}
	out := formOutcome{To: "/cases/" + strconv.FormatInt(id, 10), Flash: "case.responded"}
	if err == nil {
		// Without a document the answer is one transaction (settled); with
		// one, the document's transaction claims the form's id and the
		// answer's follows: a sending again waits for it.
		f := onceForm{}
		if !hasFile {
			f.settled = &out
		}
		out, _, err = p.once(c, v, f, func(ctx context.Context) (formOutcome, error) {
			if hasFile {
				// The document first: the case still awaits the taxpayer.
				if err := p.uploadOne(ctx, c, id, v.Form["kind"], "file"); err != nil {
					return formOutcome{}, err
				}
			}
			_, err := p.deps.Cases.Respond(ctx, id, &r)
			return out, err
		})
	}
	if err != nil {
		fe, ok := formErrors(v.Lang, err)
		if !ok {
			return err
		}
		v.Errors = fe
		return p.taxpayerCasePage(c, v, id, web.HTTPStatus(err))
	}
	return p.answer(c, out)
}

// downloadDocument sends a document of a case the actor may see, as a file
// to save (web.SetDownloadHeaders): an uploaded PDF is never opened in the
// staff's browser; the page's image previews still show.
func (p *Portal) downloadDocument(c *fiber.Ctx, v *view) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	aid, err := pathInt(c, "aid")
	if err != nil {
		return err
	}
	att, rc, err := p.deps.Cases.AttachmentContent(c.UserContext(), id, aid)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, att.ContentType)
	web.SetDownloadHeaders(c, att.Kind+"-"+strconv.FormatInt(att.ID, 10)+web.AttachmentExt(att.ContentType))
	return c.SendStream(rc, int(att.Size))
}
