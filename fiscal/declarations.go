package fiscal

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"fiscald/calc"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// Declarations of buildings and land (contract: "Buildings and land in the
// fiscal record"): acquisition and disposal of a building or a plot, as case
// types. Each type's approval is a named effect (PropertyEffects) so that a
// case type defined as data can name it: "enter_building", "enter_land",
// "end_building", "end_land".

// The case types of buildings and land.
const (
	CaseBuildingAcquisition = "building_acquisition"
	CaseLandAcquisition     = "land_acquisition"
	CaseBuildingDisposal    = "building_disposal"
	CaseLandDisposal        = "land_disposal"
)

// PropertyCoOwner is a co-owner named in an acquisition: an individual by
// CNP or a company by CUI, with their share.
type PropertyCoOwner struct {
	CNP   string `json:"cnp,omitempty"`
	CUI   string `json:"cui,omitempty"`
	Name  string `json:"name"`
	Share Share  `json:"share"`
}

// Identity is the co-owner's CNP or CUI.
func (c *PropertyCoOwner) Identity() string {
	if c.CNP != "" {
		return c.CNP
	}
	return c.CUI
}

// BuildingAcquisition is the declaration of an acquired building.
type BuildingAcquisition struct {
	Address          string              `json:"address"`
	CadastralNumber  string              `json:"cadastral_number"`
	Use              string              `json:"use"`
	ConstructionType string              `json:"construction_type,omitempty"`
	BasementOrAttic  string              `json:"basement_or_attic,omitempty"`
	Utilities        *bool               `json:"utilities,omitempty"`
	BuiltAreaM2      *decimal.Decimal    `json:"built_area_m2,omitempty"`
	UsableAreaM2     *decimal.Decimal    `json:"usable_area_m2,omitempty"`
	Zone             string              `json:"zone,omitempty"`
	YearBuilt        int                 `json:"year_built,omitempty"`
	TaxableValue     *decimal.Decimal    `json:"taxable_value,omitempty"`
	ValuationDate    *civil.Date         `json:"valuation_date,omitempty"`
	Parts            []calc.BuildingPart `json:"parts,omitempty"`
	// Share is the declaring taxpayer's part; omitted, it is 1 − the
	// co-owners' shares.
	Share               *Share            `json:"share,omitempty"`
	AcquiredOn          civil.Date        `json:"acquired_on"`
	AcquisitionDocument string            `json:"acquisition_document"`
	CoOwners            []PropertyCoOwner `json:"co_owners,omitempty"`
}

// LandAcquisition is the declaration of an acquired plot.
type LandAcquisition struct {
	Address             string            `json:"address"`
	CadastralNumber     string            `json:"cadastral_number"`
	Location            string            `json:"location"`
	Zone                string            `json:"zone"`
	UseCategory         string            `json:"use_category"`
	AreaM2              *decimal.Decimal  `json:"area_m2"`
	Share               *Share            `json:"share,omitempty"`
	AcquiredOn          civil.Date        `json:"acquired_on"`
	AcquisitionDocument string            `json:"acquisition_document"`
	CoOwners            []PropertyCoOwner `json:"co_owners,omitempty"`
}

// PropertyDisposal is the declaration that a building or plot left the
// taxpayer's ownership.
type PropertyDisposal struct {
	BuildingID int64      `json:"building_id,omitempty"`
	LandID     int64      `json:"land_id,omitempty"`
	DisposedOn civil.Date `json:"disposed_on"`
	Reason     string     `json:"reason"`
}

// acquisition is what both acquisitions share once parsed.
type acquisition struct {
	kind        string
	address     string
	cadastral   string
	object      calc.Object
	share       *Share
	acquiredOn  civil.Date
	coOwners    []PropertyCoOwner
	valuationOn *civil.Date
}

func (b *BuildingAcquisition) acquisition() acquisition {
	return acquisition{kind: calc.TaxBuilding, address: b.Address, cadastral: b.CadastralNumber, share: b.Share, acquiredOn: b.AcquiredOn,
		coOwners: b.CoOwners, valuationOn: b.ValuationDate,
		object: calc.Object{Kind: calc.TaxBuilding, Use: b.Use, ConstructionType: b.ConstructionType, BasementOrAttic: b.BasementOrAttic,
			Utilities: b.Utilities, BuiltAreaM2: b.BuiltAreaM2, UsableAreaM2: b.UsableAreaM2, Zone: b.Zone, YearBuilt: b.YearBuilt,
			TaxableValue: b.TaxableValue, Parts: b.Parts}}
}

func (l *LandAcquisition) acquisition() acquisition {
	return acquisition{kind: calc.TaxLand, address: l.Address, cadastral: l.CadastralNumber, share: l.Share, acquiredOn: l.AcquiredOn,
		coOwners: l.CoOwners,
		object:   calc.Object{Kind: calc.TaxLand, Location: l.Location, Zone: l.Zone, UseCategory: l.UseCategory, AreaM2: l.AreaM2}}
}

// readAcquisition decodes a stored acquisition of either kind.
func readAcquisition(caseType string, data json.RawMessage) (acquisition, error) {
	if caseType == CaseLandAcquisition {
		var l LandAcquisition
		err := json.Unmarshal(data, &l)
		return l.acquisition(), err
	}
	var b BuildingAcquisition
	err := json.Unmarshal(data, &b)
	return b.acquisition(), err
}

// DeclaredShare is the declaring taxpayer's share: as given, or 1 − the
// co-owners'.
func (a *acquisition) declaredShare() Share {
	if a.share != nil {
		return *a.share
	}
	s := WholeShare
	for _, c := range a.coOwners {
		s -= c.Share
	}
	return s
}

// declaredTotal is the sum of every share the declaration names.
func (a *acquisition) declaredTotal() Share {
	s := a.declaredShare()
	for _, c := range a.coOwners {
		s += c.Share
	}
	return s
}

// checkAcquisition validates what both acquisitions share; the object's
// fields are checked by the engine's own rules (calc.ValidateObject), as an
// individual's unless a taxable value makes it a company's.
func checkAcquisition(a acquisition, document string, today civil.Date) []FieldError {
	var errs []FieldError
	add := func(f, m string) { errs = append(errs, FieldError{f, m}) }
	if t := strings.TrimSpace(a.address); t == "" || len(t) > 300 {
		add("address", "is required (at most 300 characters)")
	}
	if t := strings.TrimSpace(a.cadastral); t == "" || len(t) > 40 || strings.ContainsAny(t, " \t") {
		add("cadastral_number", "is required (the land book's cadastral number, at most 40 characters, no spaces)")
	}
	obj := a.object
	if obj.TaxableValue != nil {
		obj.OwnerKind = calc.OwnerCompany
	}
	for _, fe := range calc.ValidateObject(today.Year, obj) {
		add(strings.TrimPrefix(fe.Field, "object."), fe.Message)
	}
	switch {
	case !a.acquiredOn.IsValid():
		add("acquired_on", "is required (YYYY-MM-DD)")
	case a.acquiredOn.After(today):
		add("acquired_on", "must not be in the future")
	case a.acquiredOn.Year < 2000:
		add("acquired_on", "must be 2000 or later")
	}
	if a.valuationOn != nil && a.valuationOn.After(today) {
		add("valuation_date", "must not be in the future")
	}
	if !contains(acquisitionDocuments, document) {
		add("acquisition_document", "must be one of: "+strings.Join(acquisitionDocuments, ", "))
	}
	if len(a.coOwners) > 50 {
		add("co_owners", "at most 50 co-owners")
	}
	seen := map[string]bool{}
	var others Share
	for i, c := range a.coOwners {
		p := fmt.Sprintf("co_owners[%d].", i)
		switch {
		case c.CNP != "" && c.CUI != "":
			add(p+"cnp", "give the CNP of an individual or the CUI of a company, not both")
		case c.CNP != "":
			if r := CheckCNP(c.CNP); r != "" {
				add(p+"cnp", "invalid CNP: "+r)
			}
		case c.CUI != "":
			if r := CheckCUI(c.CUI); r != "" {
				add(p+"cui", "invalid CUI: "+r)
			}
		default:
			add(p+"cnp", "the co-owner's CNP (or a company's CUI) is required")
		}
		if id := c.Identity(); id != "" {
			if seen[id] {
				add(p+"cnp", "this co-owner is named twice")
			}
			seen[id] = true
		}
		if t := strings.TrimSpace(c.Name); t == "" || len(t) > 200 {
			add(p+"name", "is required (at most 200 characters)")
		}
		if c.Share <= 0 || c.Share > WholeShare {
			add(p+"share", "is required: a decimal fraction above 0, at most 1 (\"0.4000\")")
		}
		others += c.Share
	}
	switch {
	case a.share == nil && others >= WholeShare:
		add("co_owners", fmt.Sprintf("the co-owners' shares add up to %s%%: the declaring owner's share (the rest of 100%%) would be nothing", others.Percent()))
	case a.share != nil && (*a.share <= 0 || *a.share > WholeShare):
		add("share", "must be above 0 and at most 1")
	case a.share != nil && *a.share+others > WholeShare:
		add("share", fmt.Sprintf("the shares add up to %s%%, more than 100%%", (*a.share+others).Percent()))
	}
	return errs
}

func parseBuildingAcquisition(raw json.RawMessage, today civil.Date) (json.RawMessage, []FieldError) {
	var b BuildingAcquisition
	if fe := strictDecode(raw, &b); fe != nil {
		return nil, fe
	}
	b.Address, b.CadastralNumber = strings.TrimSpace(b.Address), strings.TrimSpace(b.CadastralNumber)
	normalizeCoOwners(b.CoOwners)
	if errs := checkAcquisition(b.acquisition(), b.AcquisitionDocument, today); len(errs) > 0 {
		return nil, errs
	}
	out, err := json.Marshal(b)
	if err != nil {
		return nil, []FieldError{{"", err.Error()}}
	}
	return out, nil
}

func parseLandAcquisition(raw json.RawMessage, today civil.Date) (json.RawMessage, []FieldError) {
	var l LandAcquisition
	if fe := strictDecode(raw, &l); fe != nil {
		return nil, fe
	}
	l.Address, l.CadastralNumber = strings.TrimSpace(l.Address), strings.TrimSpace(l.CadastralNumber)
	normalizeCoOwners(l.CoOwners)
	if errs := checkAcquisition(l.acquisition(), l.AcquisitionDocument, today); len(errs) > 0 {
		return nil, errs
	}
	out, err := json.Marshal(l)
	if err != nil {
		return nil, []FieldError{{"", err.Error()}}
	}
	return out, nil
}

func normalizeCoOwners(cs []PropertyCoOwner) {
	for i := range cs {
		cs[i].CNP, cs[i].Name = strings.TrimSpace(cs[i].CNP), strings.TrimSpace(cs[i].Name)
		if cs[i].CUI != "" {
			cs[i].CUI = NormalizeCUI(cs[i].CUI)
		}
	}
}

var disposalReasons = []string{"sale", "donation", "inheritance", "demolition", "court_decision", "other"}

func parseDisposal(idField string) func(raw json.RawMessage, today civil.Date) (json.RawMessage, []FieldError) {
	return func(raw json.RawMessage, today civil.Date) (json.RawMessage, []FieldError) {
		var d PropertyDisposal
		if fe := strictDecode(raw, &d); fe != nil {
			return nil, fe
		}
		var errs []FieldError
		id, other := d.BuildingID, d.LandID
		if idField == "land_id" {
			id, other = d.LandID, d.BuildingID
		}
		if id <= 0 {
			errs = append(errs, FieldError{idField, "is required"})
		}
		if other != 0 {
			errs = append(errs, FieldError{map[bool]string{true: "building_id", false: "land_id"}[idField == "land_id"], "is not a field of this declaration"})
		}
		switch {
		case !d.DisposedOn.IsValid():
			errs = append(errs, FieldError{"disposed_on", "is required (YYYY-MM-DD)"})
		case d.DisposedOn.After(today):
			errs = append(errs, FieldError{"disposed_on", "must not be in the future"})
		}
		if !contains(disposalReasons, d.Reason) {
			errs = append(errs, FieldError{"reason", "must be one of: " + strings.Join(disposalReasons, ", ")})
		}
		if len(errs) > 0 {
			return nil, errs
		}
		b, _ := json.Marshal(d)
		return b, nil
	}
}

// PropertyFacts names what the checks and the approval of a building or
// land declaration read from the register.
type PropertyFacts struct {
	// Kind is calc.TaxBuilding or calc.TaxLand.
	Kind string
	// Cadastral asks for the shares of this cadastral number held now.
	Cadastral string
	// Identities asks which of these CNPs/CUIs are in the registry.
	Identities []string
	// HoldingID asks for the taxpayer's current holding (a disposal) and
	// what remains unpaid of its debts up to DebtsUpToYear.
	HoldingID     int64
	DebtsUpToYear int
	// OwnersFrom asks, for the declarer and each co-owner found, the sum of
	// their current assessments of Kind for each year from OwnersFrom (the
	// ≤ 50 lei rule looks at an owner's sum per tax type).
	OwnersFrom int
	// CoHoldings asks for every current holding of HoldingID's cadastral
	// number (a building's change), with their owners' kinds.
	CoHoldings bool
}

// RegistryEntry is a taxpayer found in the registry by CNP or CUI.
type RegistryEntry struct {
	TaxpayerID int64
	Kind       string
	Name       string
}

// PropertyState is what the store found for PropertyFacts.
type PropertyState struct {
	// SharesHeld are the parts of Cadastral held now.
	SharesHeld int64
	// Registry maps each identity found to its taxpayer.
	Registry map[string]RegistryEntry
	// Holding is the taxpayer's current holding HoldingID (nil: none).
	Holding *Holding
	// Outstanding is what remains unpaid of the holding's debts up to
	// DebtsUpToYear.
	Outstanding money.Bani
	// Assessed is, per owner (taxpayer id) and year, the sum of their
	// current assessments of Kind (Facts.OwnersFrom).
	Assessed map[int64]map[int]money.Bani
	// CoHoldings are the current holdings of the holding's cadastral number
	// (itself included; Facts.CoHoldings), with their objects.
	CoHoldings []Holding
	// OwnerKinds are the kinds of the CoHoldings' owners by taxpayer id.
	OwnerKinds map[int64]string
}

func propertyFacts(caseType string, data json.RawMessage) (CheckFacts, error) {
	switch caseType {
	case CaseBuildingAcquisition, CaseLandAcquisition:
		a, err := readAcquisition(caseType, data)
		if err != nil {
			return CheckFacts{}, err
		}
		pf := &PropertyFacts{Kind: a.kind, Cadastral: a.cadastral, OwnersFrom: a.acquiredOn.Year + 1}
		for _, c := range a.coOwners {
			pf.Identities = append(pf.Identities, c.Identity())
		}
		return CheckFacts{Property: pf, Preview: true}, nil
	default:
		var d PropertyDisposal
		if err := json.Unmarshal(data, &d); err != nil {
			return CheckFacts{}, err
		}
		pf := &PropertyFacts{Kind: calc.TaxBuilding, HoldingID: d.BuildingID, DebtsUpToYear: d.DisposedOn.Year}
		if caseType == CaseLandDisposal {
			pf.Kind, pf.HoldingID = calc.TaxLand, d.LandID
		}
		return CheckFacts{Property: pf}, nil
	}
}

// SharesRefusal is the message of a declaration whose shares, with those
// already held of the cadastral number, would exceed 100% ("" when not).
func SharesRefusal(cadastral string, held, declared int64) string {
	if held+declared <= calc.SharePartsWhole {
		return ""
	}
	return fmt.Sprintf("cadastral number %s: %s%% is held already and this declaration adds %s%%; the shares of one property cannot exceed 100%%",
		cadastral, Share(held).Percent(), Share(declared).Percent())
}

// DeclaredParts is the total share an acquisition declares, in parts.
func DeclaredParts(caseType string, data json.RawMessage) (string, int64, error) {
	a, err := readAcquisition(caseType, data)
	return a.cadastral, int64(a.declaredTotal()), err
}

// propertyChecks: the shares stay within 100%, and for a disposal the
// holding is the taxpayer's and its debts are paid (art. 159 CPF: the
// notary needs the fiscal certificate attesting them).
func propertyChecks(in CheckInput) []Check {
	ps := in.Property
	if ps == nil {
		return []Check{{Name: "register_read", OK: false, Detail: "the register was not read"}}
	}
	switch in.Type.Effect {
	case CaseBuildingAcquisition, CaseLandAcquisition:
		a, err := readAcquisition(in.Type.Effect, in.Data)
		if err != nil {
			return []Check{{Name: "shares_within_whole", OK: false, Detail: err.Error()}}
		}
		r := SharesRefusal(a.cadastral, ps.SharesHeld, int64(a.declaredTotal()))
		out := []Check{{Name: "shares_within_whole", OK: r == "", Detail: r}}
		var missing []string
		for _, c := range a.coOwners {
			if _, ok := ps.Registry[c.Identity()]; !ok {
				missing = append(missing, c.Name)
			}
		}
		ck := Check{Name: "co_owners_in_registry", OK: len(missing) == 0}
		if len(missing) > 0 {
			ck.Detail = "not in the registry (their shares are entered once they are registered): " + strings.Join(missing, ", ")
		}
		out = append(out, ck)
		tc := Check{Name: "tax_computable", OK: in.Preview != nil && in.Preview.Error == ""}
		if in.Preview != nil {
			tc.Detail = in.Preview.Error
		}
		return append(out, tc)
	default:
		out := []Check{{Name: "property_held", OK: ps.Holding != nil}}
		ck := Check{Name: "property_debts_paid", OK: ps.Outstanding == 0}
		if ps.Outstanding > 0 {
			ck.Detail = "outstanding: " + ps.Outstanding.String() + " lei (art. 159 CPF: the transfer needs the fiscal certificate attesting the debts paid)"
		}
		return append(out, ck)
	}
}

// PropertyPreview computes the declaring owner's tax on their share for
// each year from the first taxed year to today's.
func PropertyPreview(caseType string, data json.RawMessage, tax TaxFacts, today civil.Date) (*AssessmentPreview, error) {
	a, err := readAcquisition(caseType, data)
	if err != nil {
		return nil, Internal(err, "case data")
	}
	obj := a.object
	obj.OwnerKind = tax.OwnerKind
	p := &AssessmentPreview{FirstTaxedYear: a.acquiredOn.Year + 1, Years: []PreviewYear{}}
	for y := p.FirstTaxedYear; y <= today.Year; y++ {
		as, inst, _, err := shareTax(tax.Engine, tax.Municipality, y, obj, int64(a.declaredShare()), 0)
		if err != nil {
			p.Error = err.Error()
			return p, nil
		}
		p.Years = append(p.Years, PreviewYear{Year: y, Annual: as.Annual.String(), Installments: inst, Lines: as.Lines})
	}
	return p, nil
}

// shareTax is yearTax on an owner's share: the object's tax, the owner's
// part rounded to whole lei (calc.ShareOf), its instalments (the ≤ 50 lei
// rule on the owner's amount) and bonus.
//
// others is what the owner owes already for that tax type and year: the
// schedule is decided on the owner's sum, as the annual run does.
func shareTax(e *calc.Engine, slug string, year int, obj calc.Object, parts int64, others money.Bani) (calc.Assessment, []calc.Installment, money.Bani, error) {
	a, err := e.Annual(slug, year, obj)
	if err != nil {
		return a, nil, 0, err
	}
	if a, err = calc.ShareOf(a, parts); err != nil {
		return a, nil, 0, err
	}
	sched, err := e.TaxpayerInstallments(slug, year, []money.Bani{others, a.Annual})
	if err != nil {
		return a, nil, 0, err
	}
	inst := sched[1]
	bonus, err := e.Bonus(slug, year, a.TaxType, a.Annual)
	return a, inst, bonus, err
}

// PropertyPlan is what approving a building or land declaration writes.
type PropertyPlan struct {
	// Kind is calc.TaxBuilding or calc.TaxLand.
	Kind string
	// Enter are the holdings to enter (the declaring owner first), each
	// with its assessments.
	Enter []PropertyEntry
	// NotFound are the co-owners not in the registry (not entered).
	NotFound []string
	// Pending are those co-owners with their identity and share: kept, and
	// entered when a taxpayer with that CNP/CUI is created.
	Pending []PropertyCoOwner
	// Change changes a building (buildingchange.go).
	Change *BuildingChangePlan
	// End ends a holding (a disposal).
	End *PropertyEnd
	// ValuationDate of a company's building.
	ValuationDate *civil.Date
}

// PropertyEntry is one owner's holding with the assessments it owes now.
type PropertyEntry struct {
	Holding     Holding
	Assessments []NewAssessment
}

// PropertyEnd ends a holding on a date: the owner owes up to LastTaxedYear
// (owner on 31 December of the year before, art. 456, 466), so the
// holding's debts of later years are withdrawn.
type PropertyEnd struct {
	HoldingID     int64
	On            civil.Date
	LastTaxedYear int
}

// PropertyEffects are the approvals of the building and land declarations
// by name, for case types defined as data.
var PropertyEffects = map[string]func(ApprovalInput) (*ApprovalPlan, error){
	"enter_building": EnterProperty,
	"enter_land":     EnterProperty,
	"end_building":   EndProperty,
	"end_land":       EndProperty,
}

// EnterProperty (effects "enter_building", "enter_land") enters the object
// for the declaring taxpayer and each co-owner found in the registry, each
// with their share, taxed from 1 January after the acquisition, with the
// tax of each year owed up to today's on their share and a tax decision per
// assessment. Shares of the cadastral number above 100% are ECONFLICT.
func EnterProperty(in ApprovalInput) (*ApprovalPlan, error) {
	a, err := readAcquisition(in.Type.Effect, in.Data)
	if err != nil {
		return nil, Internal(err, "case data")
	}
	ps := in.Property
	if ps == nil {
		return nil, Errorf(EINTERNAL, "the register was not read")
	}
	if r := SharesRefusal(a.cadastral, ps.SharesHeld, int64(a.declaredTotal())); r != "" {
		return nil, Errorf(ECONFLICT, "%s", r)
	}
	first := a.acquiredOn.Year + 1
	pp := &PropertyPlan{Kind: a.kind, ValuationDate: a.valuationOn}
	type owner struct {
		id    int64
		kind  string
		share Share
	}
	owners := []owner{{in.TaxpayerID, in.Tax.OwnerKind, a.declaredShare()}}
	for _, c := range a.coOwners {
		r, ok := ps.Registry[c.Identity()]
		if !ok {
			pp.NotFound = append(pp.NotFound, c.Name)
			pp.Pending = append(pp.Pending, c)
			continue
		}
		if r.TaxpayerID == in.TaxpayerID {
			return nil, Errorf(ECONFLICT, "co-owner %s is the declaring taxpayer", c.Name)
		}
		owners = append(owners, owner{r.TaxpayerID, r.Kind, c.Share})
	}
	for _, o := range owners {
		obj := a.object
		obj.OwnerKind = o.kind
		e := PropertyEntry{Holding: Holding{TaxpayerID: o.id, Address: a.address, CadastralNumber: a.cadastral, Share: o.share,
			AcquiredOn: a.acquiredOn, TaxedFromYear: first, Object: obj}}
		for y := first; y <= in.Today.Year; y++ {
			as, inst, bonus, err := shareTax(in.Tax.Engine, in.Tax.Municipality, y, obj, int64(o.share), ps.Assessed[o.id][y])
			if err != nil {
				return nil, Errorf(ECONFLICT, "the tax cannot be computed, so the case cannot be approved yet: %s", err)
			}
			e.Assessments = append(e.Assessments, NewAssessment{TaxpayerID: o.id, TaxType: a.kind, ObjectKind: a.kind,
				Year: y, Assessment: as, Installments: inst, Bonus: bonus, Source: "case"})
		}
		pp.Enter = append(pp.Enter, e)
	}
	return &ApprovalPlan{Property: pp, Documents: ApprovalDocuments{Decisions: true}}, nil
}

// EndProperty (effects "end_building", "end_land") ends the taxpayer's
// holding on the date of disposal: their tax stops from the next 1 January.
// The holding's debts up to the year of disposal must be paid first (art.
// 159 CPF: the notary authenticates the transfer of a building or land only
// with the fiscal certificate attesting them).
func EndProperty(in ApprovalInput) (*ApprovalPlan, error) {
	var d PropertyDisposal
	if err := json.Unmarshal(in.Data, &d); err != nil {
		return nil, Internal(err, "case data")
	}
	ps := in.Property
	if ps == nil || ps.Holding == nil {
		return nil, Errorf(ECONFLICT, "the property is no longer in this taxpayer's record")
	}
	if ps.Outstanding > 0 {
		return nil, Errorf(ECONFLICT, "the property's debts (%s lei) must be paid before its disposal is recorded (art. 159 CPF)", ps.Outstanding)
	}
	if d.DisposedOn.Before(ps.Holding.AcquiredOn) {
		return nil, Errorf(ECONFLICT, "the disposal (%s) is before the acquisition (%s)", d.DisposedOn, ps.Holding.AcquiredOn)
	}
	kind := calc.TaxBuilding
	if in.Type.Effect == CaseLandDisposal {
		kind = calc.TaxLand
	}
	return &ApprovalPlan{Property: &PropertyPlan{Kind: kind, End: &PropertyEnd{HoldingID: ps.Holding.ID, On: d.DisposedOn, LastTaxedYear: d.DisposedOn.Year}}}, nil
}

func init() {
	ownerID := DocumentKind{"owner_id", "Actul de identitate al proprietarului", true}
	acq := DocumentKind{"acquisition_document", "Actul de dobândire (contract, certificat de moștenitor, donație, hotărâre, proces-verbal de licitație)", true}
	other := DocumentKind{"other", "Alt document", false}
	facts := func(name string) func(json.RawMessage) (CheckFacts, error) {
		return func(data json.RawMessage) (CheckFacts, error) { return propertyFacts(name, data) }
	}
	RegisterCaseType(&CaseType{
		Name: CaseBuildingAcquisition, Title: "Declarație de impunere pentru clădiri (dobândire)", TitleEN: "Tax declaration for a building (acquisition)", SLAWorkingDays: 5,
		Documents: []DocumentKind{acq, ownerID, {"cadastral_extract", "Extrasul de carte funciară / documentația cadastrală", true}, other},
		Parse:     parseBuildingAcquisition, Facts: facts(CaseBuildingAcquisition), Checks: propertyChecks,
		Approve: PropertyEffects["enter_building"],
	})
	RegisterCaseType(&CaseType{
		Name: CaseLandAcquisition, Title: "Declarație de impunere pentru teren (dobândire)", TitleEN: "Tax declaration for land (acquisition)", SLAWorkingDays: 5,
		Documents: []DocumentKind{acq, ownerID, {"cadastral_extract", "Extrasul de carte funciară (dacă există)", false}, other},
		Parse:     parseLandAcquisition, Facts: facts(CaseLandAcquisition), Checks: propertyChecks,
		Approve: PropertyEffects["enter_land"],
	})
	disposalDoc := DocumentKind{"disposal_document", "Actul de înstrăinare (contract, certificat de moștenitor, hotărâre, autorizație de demolare)", true}
	RegisterCaseType(&CaseType{
		Name: CaseBuildingDisposal, Title: "Scoaterea din evidență a unei clădiri", TitleEN: "Removal of a building from the register", SLAWorkingDays: 5,
		Documents: []DocumentKind{disposalDoc, other},
		Parse:     parseDisposal("building_id"), Facts: facts(CaseBuildingDisposal), Checks: propertyChecks,
		Approve: PropertyEffects["end_building"],
	})
	RegisterCaseType(&CaseType{
		Name: CaseLandDisposal, Title: "Scoaterea din evidență a unui teren", TitleEN: "Removal of land from the register", SLAWorkingDays: 5,
		Documents: []DocumentKind{disposalDoc, other},
		Parse:     parseDisposal("land_id"), Facts: facts(CaseLandDisposal), Checks: propertyChecks,
		Approve: PropertyEffects["end_land"],
	})
}

// CasePreview is the assessment preview of a case whose facts ask for one
// (CheckFacts.Preview): a building or land acquisition's, or a vehicle
// registration's.
func CasePreview(t *CaseType, data json.RawMessage, tax TaxFacts, today civil.Date) (*AssessmentPreview, error) {
	if t != nil && (t.Effect == CaseBuildingAcquisition || t.Effect == CaseLandAcquisition) {
		return PropertyPreview(t.Effect, data, tax, today)
	}
	return RegistrationPreview(data, tax, today)
}
