package fiscal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"fiscald/internal/civil"
)

// CaseType describes one kind of request: its form, the documents it needs,
// its checks, what approving it does, and its service-level target.
// Registered (RegisterCaseType), it is an *effect* a definition names
// ("effect"); the route every type runs is its definition's
// (ShippedDefinition, or a municipality's publication), not the CaseType's.
type CaseType struct {
	Name    string `json:"type"`
	Title   string `json:"title"`
	TitleEN string `json:"title_en,omitempty"`
	// Effect is the name the behaviour was registered under (a
	// definition's "effect"): a shipped type's own name, kept when a
	// municipality's type runs it under another name.
	Effect string `json:"effect,omitempty"`
	// SLAWorkingDays is the answer's target in working days.
	SLAWorkingDays int `json:"sla_working_days"`
	// Documents are the kinds of attachment the type knows, required or not.
	Documents []DocumentKind `json:"documents"`
	// Fields describe a simple form declaratively (used when Parse is nil).
	Fields []FormField `json:"fields,omitempty"`
	// Parse validates and normalises the form data against today's date and
	// returns the canonical JSON to store. Nil means: check Fields.
	Parse func(raw json.RawMessage, today civil.Date) (json.RawMessage, []FieldError) `json:"-"`
	// Required lists the kinds of documents the data makes mandatory; nil
	// means those of Documents marked Required.
	Required func(data json.RawMessage) []string `json:"-"`
	// Facts names the facts of the register the type's own automatic
	// checks need (caserules.go); nil means none.
	Facts func(data json.RawMessage) (CheckFacts, error) `json:"-"`
	// Checks are the type's own automatic checks, after documents_complete
	// (AutomaticChecks); nil means none.
	Checks func(in CheckInput) []Check `json:"-"`
	// StraightThrough reports whether a case of the type may be prepared
	// for signature without an officer when every automatic check passes
	// and the municipality turned it on for the type (StraightThrough).
	StraightThrough bool `json:"-"`
	// Approve plans what the signer's approval does (PlanApproval,
	// caseapproval.go); nil means nothing beyond the decision itself.
	Approve func(in ApprovalInput) (*ApprovalPlan, error) `json:"-"`
}

// DocumentKind is a kind of attachment a case type accepts.
type DocumentKind struct {
	Kind     string `json:"kind"`
	Title    string `json:"title"`
	Required bool   `json:"required"`
}

// FormField is one field of a declarative form: a string (with MaxLen), a
// date, an integer, or one of Options.
type FormField struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"` // "string", "date", "int", "enum"
	Required bool     `json:"required"`
	MaxLen   int      `json:"max_len,omitempty"`
	Options  []string `json:"options,omitempty"`
}

var caseTypes = map[string]*CaseType{}

// RegisterCaseType adds a case type (at init; it panics on a duplicate).
func RegisterCaseType(t *CaseType) {
	if _, dup := caseTypes[t.Name]; dup || t.Name == "" {
		panic("fiscal: case type registered twice or unnamed: " + t.Name)
	}
	if t.SLAWorkingDays <= 0 {
		t.SLAWorkingDays = 5
	}
	t.Effect = t.Name
	caseTypes[t.Name] = t
}

func effectNames() []string {
	out := make([]string, 0, len(caseTypes))
	for n := range caseTypes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ShippedVersion is the version of the definitions the service ships: a
// municipality's own versions of a shipped type start at the next.
const ShippedVersion = 1

// ShippedDefinition is the definition the service ships for each effect,
// under the effect's name: an officer's review (approve, reject or ask the
// taxpayer), then a signer's decision, never by the reviewer; approval
// runs the effect. A municipality may publish later versions (more desks,
// parallel opinions, escalations), keeping the effect.
func ShippedDefinition(typ string) (*CaseDefinition, bool) {
	t, ok := caseTypes[typ]
	if !ok {
		return nil, false
	}
	return &CaseDefinition{Type: t.Name, Title: t.Title, TitleEN: t.TitleEN, Effect: t.Name, SLAWorkingDays: t.SLAWorkingDays,
		Steps: []DefStep{
			{Name: StepReview, Roles: []Role{RoleOfficer}, Decisions: []string{DecisionApprove, DecisionReject, DecisionRequestInfo}},
			{Name: StepSign, Roles: []Role{RoleSigner}, Decisions: []string{DecisionApprove, DecisionReject},
				DistinctFrom: []string{StepReview}, Status: StatusReviewed},
		}}, true
}

// The steps of the shipped definitions, which the contract's review and
// sign take, and whose acts are recorded under those actions.
const (
	StepReview = ActionReview
	StepSign   = ActionSign
)

// StepAction is the action a step's act is recorded under: review and
// sign under their own (as the contract's review and sign always were),
// any other step as an act naming it.
func StepAction(step string) string {
	if step == StepReview || step == StepSign {
		return step
	}
	return ActionAct
}

// CaseTypeByName returns a registered case type.
func CaseTypeByName(name string) (*CaseType, bool) {
	t, ok := caseTypes[name]
	return t, ok
}

// CaseTypes lists the registered case types by name.
func CaseTypes() []*CaseType {
	out := make([]*CaseType, 0, len(caseTypes))
	for _, t := range caseTypes {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ParseData validates the form data of a case of this type.
func (t *CaseType) ParseData(raw json.RawMessage, today civil.Date) (json.RawMessage, error) {
	var (
		out    json.RawMessage
		fields []FieldError
	)
	if t.Parse != nil {
		out, fields = t.Parse(raw, today)
	} else {
		out, fields = parseFields(t.Fields, raw)
	}
	if len(fields) > 0 {
		for i := range fields {
			fields[i].Field = "data." + fields[i].Field
		}
		return nil, Invalid(fields...)
	}
	return out, nil
}

// RequiredDocuments lists the kinds of documents the case must have.
func (t *CaseType) RequiredDocuments(data json.RawMessage) []string {
	if t.Required != nil {
		return t.Required(data)
	}
	var out []string
	for _, d := range t.Documents {
		if d.Required {
			out = append(out, d.Kind)
		}
	}
	return out
}

// KnowsDocument reports whether kind is a document kind of the type.
func (t *CaseType) KnowsDocument(kind string) bool {
	for _, d := range t.Documents {
		if d.Kind == kind {
			return true
		}
	}
	return false
}

// MissingDocuments returns the required kinds absent from have.
func (t *CaseType) MissingDocuments(data json.RawMessage, have []string) []string {
	got := map[string]bool{}
	for _, h := range have {
		got[h] = true
	}
	out := []string{}
	for _, k := range t.RequiredDocuments(data) {
		if !got[k] {
			out = append(out, k)
		}
	}
	return out
}

// strictDecode decodes raw into v refusing unknown fields; type errors name
// the field.
func strictDecode(raw json.RawMessage, v any) []FieldError {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return []FieldError{{Field: te.Field, Message: "has the wrong type"}}
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return []FieldError{{Field: strings.Trim(f, `"`), Message: "is not a field of this form"}}
		}
		if strings.Contains(err.Error(), "YYYY-MM-DD") {
			return []FieldError{{Field: "date", Message: err.Error()}}
		}
		return []FieldError{{Field: "", Message: "must be a JSON object of the form's fields"}}
	}
	return nil
}

func parseFields(spec []FormField, raw json.RawMessage) (json.RawMessage, []FieldError) {
	var m map[string]any
	if fe := strictDecode(raw, &m); fe != nil {
		return nil, fe
	}
	known := map[string]FormField{}
	for _, f := range spec {
		known[f.Name] = f
	}
	var errs []FieldError
	for k := range m {
		if _, ok := known[k]; !ok {
			errs = append(errs, FieldError{k, "is not a field of this form"})
		}
	}
	out := map[string]any{}
	for _, f := range spec {
		v, ok := m[f.Name]
		if !ok || v == nil || v == "" {
			if f.Required {
				errs = append(errs, FieldError{f.Name, "is required"})
			}
			continue
		}
		switch f.Kind {
		case "string", "enum":
			s, ok := v.(string)
			if !ok {
				errs = append(errs, FieldError{f.Name, "must be a string"})
				continue
			}
			s = strings.TrimSpace(s)
			if f.MaxLen > 0 && len([]rune(s)) > f.MaxLen {
				errs = append(errs, FieldError{f.Name, fmt.Sprintf("must have at most %d characters", f.MaxLen)})
			}
			if f.Kind == "enum" && !contains(f.Options, s) {
				errs = append(errs, FieldError{f.Name, "must be one of: " + strings.Join(f.Options, ", ")})
			}
			out[f.Name] = s
		case "date":
			s, _ := v.(string)
			d, err := civil.Parse(s)
			if err != nil {
				errs = append(errs, FieldError{f.Name, "must be a date YYYY-MM-DD"})
				continue
			}
			out[f.Name] = d
		case "int":
			n, ok := v.(float64)
			if !ok || n != float64(int64(n)) {
				errs = append(errs, FieldError{f.Name, "must be a whole number"})
				continue
			}
			out[f.Name] = int64(n)
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return nil, errs
	}
	b, err := json.Marshal(out) // map keys are sorted: canonical
	if err != nil {
		return nil, []FieldError{{"", err.Error()}}
	}
	return b, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The case types of the issue.
const (
	CaseVehicleRegistration   = "vehicle_registration"
	CaseVehicleDeregistration = "vehicle_deregistration"
	CaseFiscalCertificate     = "fiscal_certificate"
	CasePetition              = "petition"
)

// VehicleRegistration is the form of an acquired vehicle's declaration
// (ITL-005 < 12 t, ITL-006 ≥ 12 t, ITL-007 water vehicles).
type VehicleRegistration struct {
	VIN                 string     `json:"vin"`
	Plate               string     `json:"plate"`
	Category            string     `json:"category"`
	EngineCC            int        `json:"engine_cc,omitempty"`
	EmissionClass       string     `json:"emission_class,omitempty"`
	Propulsion          string     `json:"propulsion,omitempty"`
	CO2GKm              *int       `json:"co2_g_km,omitempty"`
	MaxMassKg           int        `json:"max_mass_kg,omitempty"`
	Axles               int        `json:"axles,omitempty"`
	AirSuspension       bool       `json:"air_suspension,omitempty"`
	AcquiredOn          civil.Date `json:"acquired_on"`
	AcquisitionDocument string     `json:"acquisition_document"`
}

// Acquisition documents (local-taxes.md §6).
var acquisitionDocuments = []string{"sale_contract", "invoice", "inheritance_certificate", "donation", "court_decision", "auction_record", "leasing_contract"}

var (
	vehicleCategories = []string{"car", "motorcycle", "bus", "light_goods", "tractor", "truck", "trailer", "boat"}
	emissionClasses   = []string{"non_euro", "euro0", "euro1", "euro2", "euro3", "euro4", "euro5", "euro6"}
	propulsions       = []string{"combustion", "hybrid", "electric"}
)

// HeavyVehicleKg is the mass from which a vehicle is heavy (art. 470 (5)):
// the suspension certificate is required.
const HeavyVehicleKg = 12000

// NormalizePlate upper-cases a plate and removes spaces and dashes.
func NormalizePlate(p string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, p)
}

// checkPlate accepts Romanian plates (county + 2-3 digits + 3 letters, or
// B + 2-3 digits + 3 letters) and, permissively, other 2-10 alphanumeric
// plates (temporary, foreign); it returns the reason when invalid.
func checkPlate(p string) string {
	if len(p) < 2 || len(p) > 10 {
		return "must have 2 to 10 letters and digits"
	}
	for _, r := range p {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "only letters and digits"
		}
	}
	return ""
}

func parseVehicleRegistration(raw json.RawMessage, today civil.Date) (json.RawMessage, []FieldError) {
	var v VehicleRegistration
	if fe := strictDecode(raw, &v); fe != nil {
		return nil, fe
	}
	var errs []FieldError
	add := func(f, m string) { errs = append(errs, FieldError{f, m}) }
	v.VIN = strings.ToUpper(strings.TrimSpace(v.VIN))
	if r := CheckVIN(v.VIN); r != "" {
		add("vin", r)
	}
	v.Plate = NormalizePlate(v.Plate)
	if v.Plate == "" {
		add("plate", "is required")
	} else if r := checkPlate(v.Plate); r != "" {
		add("plate", r)
	}
	if !contains(vehicleCategories, v.Category) {
		add("category", "must be one of: "+strings.Join(vehicleCategories, ", "))
	}
	engineTaxed := contains([]string{"car", "motorcycle", "bus", "light_goods", "tractor"}, v.Category)
	if v.Propulsion == "" {
		v.Propulsion = "combustion"
	}
	if !contains(propulsions, v.Propulsion) {
		add("propulsion", "must be one of: "+strings.Join(propulsions, ", "))
	}
	if engineTaxed && v.Propulsion != "electric" {
		if v.EngineCC <= 0 || v.EngineCC > 100000 {
			add("engine_cc", "is required (cm³, 1-100000)")
		}
		if !contains(emissionClasses, v.EmissionClass) {
			add("emission_class", "must be one of: "+strings.Join(emissionClasses, ", "))
		}
	} else if v.EmissionClass != "" && !contains(emissionClasses, v.EmissionClass) {
		add("emission_class", "must be one of: "+strings.Join(emissionClasses, ", "))
	}
	if v.Propulsion == "hybrid" && (v.CO2GKm == nil || *v.CO2GKm < 0 || *v.CO2GKm > 2000) {
		add("co2_g_km", "is required for a hybrid (g/km, 0-2000)")
	}
	if v.Propulsion != "hybrid" && v.CO2GKm != nil {
		add("co2_g_km", "is only for hybrids")
	}
	switch v.Category {
	case "truck":
		if v.MaxMassKg < HeavyVehicleKg || v.MaxMassKg > 200000 {
			add("max_mass_kg", "is required for a truck (12000-200000 kg)")
		}
		if v.Axles < 2 || v.Axles > 20 {
			add("axles", "is required for a truck (2-20)")
		}
	case "trailer":
		if v.MaxMassKg <= 0 || v.MaxMassKg > 200000 {
			add("max_mass_kg", "is required for a trailer (kg)")
		}
	}
	if v.MaxMassKg < 0 || v.Axles < 0 {
		add("max_mass_kg", "must not be negative")
	}
	switch {
	case !v.AcquiredOn.IsValid():
		add("acquired_on", "is required (YYYY-MM-DD)")
	case v.AcquiredOn.After(today):
		add("acquired_on", "must not be in the future")
	case v.AcquiredOn.Year < 2000:
		add("acquired_on", "must be 2000 or later")
	}
	if !contains(acquisitionDocuments, v.AcquisitionDocument) {
		add("acquisition_document", "must be one of: "+strings.Join(acquisitionDocuments, ", "))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, []FieldError{{"", err.Error()}}
	}
	return b, nil
}

// VehicleDeregistration is the form of a vehicle leaving the register
// (ITL-016): sale, scrapping or export.
type VehicleDeregistration struct {
	VehicleID  int64      `json:"vehicle_id"`
	DisposedOn civil.Date `json:"disposed_on"`
	Reason     string     `json:"reason"`
}

func parseVehicleDeregistration(raw json.RawMessage, today civil.Date) (json.RawMessage, []FieldError) {
	var v VehicleDeregistration
	if fe := strictDecode(raw, &v); fe != nil {
		return nil, fe
	}
	var errs []FieldError
	if v.VehicleID <= 0 {
		errs = append(errs, FieldError{"vehicle_id", "is required"})
	}
	switch {
	case !v.DisposedOn.IsValid():
		errs = append(errs, FieldError{"disposed_on", "is required (YYYY-MM-DD)"})
	case v.DisposedOn.After(today):
		errs = append(errs, FieldError{"disposed_on", "must not be in the future"})
	}
	if !contains([]string{"sale", "scrapping", "export"}, v.Reason) {
		errs = append(errs, FieldError{"reason", "must be one of: sale, scrapping, export"})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	b, _ := json.Marshal(v)
	return b, nil
}

func init() {
	RegisterCaseType(&CaseType{
		Name: CaseVehicleRegistration, Title: "Declarație de dobândire a unui vehicul (ITL-005/006/007)", TitleEN: "Declaration of an acquired vehicle (ITL-005/006/007)", SLAWorkingDays: 5,
		Documents: []DocumentKind{
			{"acquisition_document", "Actul de dobândire (contract ITL-054, factură, certificat de moștenitor, hotărâre, proces-verbal de licitație)", true},
			{"vehicle_identity_card", "Cartea de identitate a vehiculului (CIV)", true},
			{"owner_id", "Actul de identitate al proprietarului", true},
			{"suspension_certificate", "Certificatul privind suspensia (vehicule ≥ 12 t)", false},
			{"customs_document", "Documentul vamal (vehicule din afara UE)", false},
			{"other", "Alt document", false},
		},
		Parse:           parseVehicleRegistration,
		Facts:           registrationFacts,
		Checks:          registrationChecks,
		StraightThrough: true,
		Approve:         approveRegistration,
		Required: func(data json.RawMessage) []string {
			req := []string{"acquisition_document", "vehicle_identity_card", "owner_id"}
			var v VehicleRegistration
			if json.Unmarshal(data, &v) == nil && v.MaxMassKg >= HeavyVehicleKg {
				req = append(req, "suspension_certificate")
			}
			return req
		},
	})
	RegisterCaseType(&CaseType{
		Name: CaseVehicleDeregistration, Title: "Scoaterea din evidență a unui vehicul (ITL-016)", TitleEN: "Removal of a vehicle from the register (ITL-016)", SLAWorkingDays: 5,
		Documents: []DocumentKind{
			{"disposal_document", "Contractul de vânzare, factura, certificatul de distrugere sau de export", true},
			{"other", "Alt document", false},
		},
		Parse:           parseVehicleDeregistration,
		Facts:           deregistrationFacts,
		Checks:          deregistrationChecks,
		StraightThrough: true,
		Approve:         approveDeregistration,
	})
	RegisterCaseType(&CaseType{
		Name: CaseFiscalCertificate, Title: "Certificat de atestare fiscală (ITL-010/012)", TitleEN: "Fiscal clearance certificate (ITL-010/012)", SLAWorkingDays: 5,
		Documents: []DocumentKind{
			{"holder_id", "Actul de identitate al titularului sau mandatul reprezentantului", true},
			{"other", "Alt document", false},
		},
		Fields:  []FormField{{Name: "purpose", Kind: "string", Required: true, MaxLen: 300}},
		Approve: approveCertificate,
	})
	RegisterCaseType(&CaseType{
		Name: CasePetition, Title: "Petiție", TitleEN: "Petition", SLAWorkingDays: 5,
		Documents: []DocumentKind{{"other", "Document", false}},
		Fields: []FormField{
			{Name: "subject", Kind: "string", Required: true, MaxLen: 200},
			{Name: "body", Kind: "string", Required: true, MaxLen: 10000},
		},
	})
}
