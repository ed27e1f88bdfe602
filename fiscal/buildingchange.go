package fiscal

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"fiscald/calc"
	"fiscald/internal/civil"
)

// The change of a building (case type "building_change"): an extension (a
// new built or usable area) or a change of use (residential,
// non-residential, or mixed with each part's area), declared by one of its
// owners. Like any change affecting the tax (local-taxes.md: "takes effect
// on 1 January of the following year"), the new data are taxed from
// 1 January of the year after effective_on, for every current co-owner. Its
// approval is the named effect "change_building".

// CaseBuildingChange is the case type of a building's change.
const CaseBuildingChange = "building_change"

// The kinds of change.
const (
	ChangeExtension   = "extension"
	ChangeOfUse       = "change_of_use"
	PermitDocument    = "building_permit"
	ReceptionDocument = "proces_verbal_receptie"
)

// BuildingChange is the declaration of a building's change.
type BuildingChange struct {
	BuildingID int64  `json:"building_id"`
	Change     string `json:"change"`
	// An extension's new area (one of them).
	BuiltAreaM2  *decimal.Decimal `json:"built_area_m2,omitempty"`
	UsableAreaM2 *decimal.Decimal `json:"usable_area_m2,omitempty"`
	// A change of use: the new use and, for mixed, each part with its area.
	Use   string              `json:"use,omitempty"`
	Parts []calc.BuildingPart `json:"parts,omitempty"`
	// EffectiveOn is the date of the change (the acceptance report's, or the
	// permit's end of works); taxed from 1 January after it.
	EffectiveOn civil.Date `json:"effective_on"`
	// ChangeDocument names the document attached: the building permit or
	// the acceptance report (proces-verbal de recepție).
	ChangeDocument string `json:"change_document"`
}

// FirstChangedYear is the first year taxed on the changed data.
func (b *BuildingChange) FirstChangedYear() int { return b.EffectiveOn.Year + 1 }

// Apply returns the building's object after the change.
func (b *BuildingChange) Apply(obj calc.Object) calc.Object {
	out := obj
	if b.BuiltAreaM2 != nil || b.UsableAreaM2 != nil {
		out.BuiltAreaM2, out.UsableAreaM2 = b.BuiltAreaM2, b.UsableAreaM2
	}
	if b.Use != "" {
		out.Use, out.Parts = b.Use, b.Parts
		if b.Use != "mixed" {
			out.Parts = nil
		}
	}
	return out
}

func positiveArea(d *decimal.Decimal) bool {
	return d != nil && d.IsPositive() && d.LessThanOrEqual(decimal.New(1_000_000, 0)) && d.Exponent() >= -2
}

func parseBuildingChange(raw json.RawMessage, today civil.Date) (json.RawMessage, []FieldError) {
	var b BuildingChange
	if fe := strictDecode(raw, &b); fe != nil {
		return nil, fe
	}
	var errs []FieldError
	add := func(f, m string) { errs = append(errs, FieldError{f, m}) }
	if b.BuildingID <= 0 {
		add("building_id", "is required")
	}
	switch b.Change {
	case ChangeExtension:
		switch {
		case b.BuiltAreaM2 == nil && b.UsableAreaM2 == nil:
			add("built_area_m2", "an extension needs the new built area (or the usable area)")
		case b.BuiltAreaM2 != nil && b.UsableAreaM2 != nil:
			add("usable_area_m2", "give the built area or the usable area, not both")
		case b.BuiltAreaM2 != nil && !positiveArea(b.BuiltAreaM2):
			add("built_area_m2", "must be above 0 (m², at most 2 decimals)")
		case b.UsableAreaM2 != nil && !positiveArea(b.UsableAreaM2):
			add("usable_area_m2", "must be above 0 (m², at most 2 decimals)")
		}
		if b.Use != "" || len(b.Parts) > 0 {
			add("use", "an extension keeps the use: declare a change of use separately")
		}
	case ChangeOfUse:
		if b.BuiltAreaM2 != nil || b.UsableAreaM2 != nil {
			add("built_area_m2", "a change of use keeps the area: declare an extension separately")
		}
		switch b.Use {
		case "residential", "non_residential":
			if len(b.Parts) > 0 {
				add("parts", "only a mixed use has parts")
			}
		case "mixed":
			if len(b.Parts) < 2 || len(b.Parts) > 20 {
				add("parts", "a mixed use needs each part (2 to 20) with its use and area")
			}
			for i, p := range b.Parts {
				f := "parts[" + strconv.Itoa(i) + "]."
				if p.Use != "residential" && p.Use != "non_residential" {
					add(f+"use", "must be residential or non_residential")
				}
				if p.TaxableValue != nil {
					add(f+"taxable_value", "a company's valued building changes through its valuation")
				}
				switch {
				case p.BuiltAreaM2 == nil && p.UsableAreaM2 == nil:
					add(f+"usable_area_m2", "each part needs its usable area (or built area)")
				case p.BuiltAreaM2 != nil && !positiveArea(p.BuiltAreaM2):
					add(f+"built_area_m2", "must be above 0 (m², at most 2 decimals)")
				case p.UsableAreaM2 != nil && !positiveArea(p.UsableAreaM2):
					add(f+"usable_area_m2", "must be above 0 (m², at most 2 decimals)")
				}
			}
		default:
			add("use", "must be one of: residential, non_residential, mixed")
		}
	default:
		add("change", "must be one of: extension, change_of_use")
	}
	switch {
	case !b.EffectiveOn.IsValid():
		add("effective_on", "is required (YYYY-MM-DD)")
	case b.EffectiveOn.After(today):
		add("effective_on", "must not be in the future")
	case b.EffectiveOn.Year < 2000:
		add("effective_on", "must be 2000 or later")
	}
	if b.ChangeDocument != PermitDocument && b.ChangeDocument != ReceptionDocument {
		add("change_document", "must be one of: "+PermitDocument+", "+ReceptionDocument)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	out, err := json.Marshal(b)
	if err != nil {
		return nil, []FieldError{{"", err.Error()}}
	}
	return out, nil
}

// changeFacts: the declarer's holding, its co-owners' holdings and each
// owner's assessed sums from the first changed year.
func changeFacts(data json.RawMessage) (CheckFacts, error) {
	var b BuildingChange
	if err := json.Unmarshal(data, &b); err != nil {
		return CheckFacts{}, err
	}
	return CheckFacts{Property: &PropertyFacts{Kind: calc.TaxBuilding, HoldingID: b.BuildingID, CoHoldings: true,
		OwnersFrom: b.FirstChangedYear()}}, nil
}

// changedObject validates the building's object after the change (by the
// engine's rules, as its owner's); "" when valid.
func changedObject(b *BuildingChange, h *Holding, ownerKind string, year int) (calc.Object, string) {
	obj := b.Apply(h.Object)
	obj.Kind = calc.TaxBuilding
	check := obj
	if ownerKind != "" {
		check.OwnerKind = ownerKind
	} else if obj.TaxableValue != nil {
		check.OwnerKind = calc.OwnerCompany
	}
	var msgs []string
	for _, fe := range calc.ValidateObject(year, check) {
		msgs = append(msgs, strings.TrimPrefix(fe.Field, "object.")+": "+fe.Message)
	}
	return obj, strings.Join(msgs, "; ")
}

// changeChecks: the building is the declarer's and not disposed of, the
// change is not before its acquisition, and the changed building is one
// the engine taxes.
func changeChecks(in CheckInput) []Check {
	ps := in.Property
	if ps == nil {
		return []Check{{Name: "register_read", OK: false, Detail: "the register was not read"}}
	}
	var b BuildingChange
	if err := json.Unmarshal(in.Data, &b); err != nil {
		return []Check{{Name: "property_held", OK: false, Detail: err.Error()}}
	}
	out := []Check{{Name: "property_held", OK: ps.Holding != nil}}
	if ps.Holding == nil {
		out[0].Detail = "the building is not a current building of this taxpayer"
		return out
	}
	after := Check{Name: "change_after_acquisition", OK: !b.EffectiveOn.Before(ps.Holding.AcquiredOn)}
	if !after.OK {
		after.Detail = "the change (" + b.EffectiveOn.String() + ") is before the acquisition (" + ps.Holding.AcquiredOn.String() + ")"
	}
	_, msg := changedObject(&b, ps.Holding, "", b.FirstChangedYear())
	return append(out, after, Check{Name: "change_valid", OK: msg == "", Detail: msg})
}

// BuildingChangePlan is what approving a building's change writes: the new
// object on every current holding of the building from FromYear (the
// earlier years keep the data they had), and, for each holding, the tax of
// each year from FromYear to today's on the new data, recorded where the
// holding has no assessment of that year yet, and recomputed (payments
// DecideRecompute: an adjustment or reduced debts) where it has one.
type BuildingChangePlan struct {
	Change   BuildingChange
	Before   calc.Object
	After    calc.Object
	FromYear int
	Holdings []PropertyEntry
}

// ChangeBuilding (effect "change_building") plans a building's change for
// every current co-owner. ECONFLICT when the building left the declarer's
// record, the change precedes the acquisition, or the changed building
// does not compute.
func ChangeBuilding(in ApprovalInput) (*ApprovalPlan, error) {
	var b BuildingChange
	if err := json.Unmarshal(in.Data, &b); err != nil {
		return nil, Internal(err, "case data")
	}
	ps := in.Property
	if ps == nil || ps.Holding == nil {
		return nil, Errorf(ECONFLICT, "the building is no longer in this taxpayer's record")
	}
	if b.EffectiveOn.Before(ps.Holding.AcquiredOn) {
		return nil, Errorf(ECONFLICT, "the change (%s) is before the acquisition (%s)", b.EffectiveOn, ps.Holding.AcquiredOn)
	}
	from := b.FirstChangedYear()
	plan := &BuildingChangePlan{Change: b, Before: ps.Holding.Object, FromYear: from}
	holdings := ps.CoHoldings
	if len(holdings) == 0 {
		holdings = []Holding{*ps.Holding}
	}
	for _, h := range holdings {
		kind := ps.OwnerKinds[h.TaxpayerID]
		obj, msg := changedObject(&b, &h, kind, from)
		if msg != "" {
			return nil, Errorf(ECONFLICT, "the changed building is not one the tax can be computed on: %s", msg)
		}
		obj.OwnerKind = kind
		if h.ID == ps.Holding.ID {
			plan.After = obj
		}
		e := PropertyEntry{Holding: h}
		e.Holding.Object = obj
		for y := max(from, h.FirstTaxedYear()); y <= in.Today.Year; y++ {
			as, inst, bonus, err := shareTax(in.Tax.Engine, in.Tax.Municipality, y, obj, int64(h.Share), ps.Assessed[h.TaxpayerID][y])
			if err != nil {
				return nil, Errorf(ECONFLICT, "the tax cannot be computed, so the case cannot be approved yet: %s", err)
			}
			e.Assessments = append(e.Assessments, NewAssessment{TaxpayerID: h.TaxpayerID, TaxType: calc.TaxBuilding, ObjectKind: calc.TaxBuilding,
				ObjectID: h.ID, Year: y, Assessment: as, Installments: inst, Bonus: bonus, Source: "case"})
		}
		plan.Holdings = append(plan.Holdings, e)
	}
	return &ApprovalPlan{Property: &PropertyPlan{Kind: calc.TaxBuilding, Change: plan}, Documents: ApprovalDocuments{Decisions: true}}, nil
}

func init() {
	PropertyEffects["change_building"] = ChangeBuilding
	RegisterCaseType(&CaseType{
		Name: CaseBuildingChange, Title: "Declarație de modificare a clădirii (extindere, schimbarea destinației)", TitleEN: "Declaration of a change to a building (extension, change of use)", SLAWorkingDays: 5,
		Documents: []DocumentKind{
			{PermitDocument, "Autorizația de construire", false},
			{ReceptionDocument, "Procesul-verbal de recepție a lucrărilor", false},
			{"cadastral_extract", "Extrasul de carte funciară / documentația cadastrală actualizată", true},
			{"other", "Alt document", false},
		},
		// The permit or the acceptance report (the one the form names) and
		// the cadastral extract.
		Required: func(data json.RawMessage) []string {
			var b BuildingChange
			_ = json.Unmarshal(data, &b)
			doc := b.ChangeDocument
			if doc != ReceptionDocument {
				doc = PermitDocument
			}
			return []string{doc, "cadastral_extract"}
		},
		Parse: parseBuildingChange, Facts: changeFacts, Checks: changeChecks,
		Approve: PropertyEffects["change_building"],
	})
}
