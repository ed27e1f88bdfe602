package fiscal

import (
	"encoding/json"
	"fmt"

	"fiscald/calc"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// What the signer's approval of a case does, decided purely: the store reads
// the facts the case's type names (CaseType.CheckFacts, the same facts as
// its automatic checks) and the municipality's tax engine into an
// ApprovalInput; PlanApproval returns the plan (ApprovalPlan: the vehicle to
// enter or to deregister, the assessments to record, the documents to issue)
// and the store writes it.

// TaxFacts is what the tax of a case's vehicle is computed with.
type TaxFacts struct {
	// Engine is the municipality's tax engine (pure, over its dated
	// parameters).
	Engine *calc.Engine
	// Municipality is the municipality's slug, as the engine names it.
	Municipality string
	// OwnerKind is the taxpayer's kind (needed for a registration's object).
	OwnerKind string
}

// RegistrationObject is the engine's object of a declared vehicle.
func RegistrationObject(v *VehicleRegistration, ownerKind string) calc.Object {
	return calc.Object{Kind: calc.TaxVehicle, OwnerKind: ownerKind, Category: v.Category, EngineCC: v.EngineCC, EmissionClass: v.EmissionClass,
		Propulsion: v.Propulsion, CO2GKm: v.CO2GKm, Axles: v.Axles, MaxMassKg: v.MaxMassKg, AirSuspension: v.AirSuspension}
}

// yearTax computes one year's assessment of an object with its instalments
// and bonus.
func yearTax(e *calc.Engine, slug string, year int, obj calc.Object) (calc.Assessment, []calc.Installment, money.Bani, error) {
	a, err := e.Annual(slug, year, obj)
	if err != nil {
		return a, nil, 0, err
	}
	inst, err := e.Installments(slug, year, a.Annual)
	if err != nil {
		return a, nil, 0, err
	}
	bonus, err := e.Bonus(slug, year, a.TaxType, a.Annual)
	return a, inst, bonus, err
}

// RegistrationPreview computes what approving a registration records: the
// tax of each year from the first taxed year to today's (a late declaration
// owes the years the taxpayer already held the vehicle on 31 December, art.
// 471 (2)), and the next year's tax as an indication (at the latest
// configured year's rates when its own are not configured yet). A year
// whose tax does not compute stops the preview with Error set. An error
// means the data do not read (EINTERNAL).
func RegistrationPreview(data json.RawMessage, tax TaxFacts, today civil.Date) (*AssessmentPreview, error) {
	var v VehicleRegistration
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, Internal(err, "case data")
	}
	obj := RegistrationObject(&v, tax.OwnerKind)
	e, slug := tax.Engine, tax.Municipality
	p := &AssessmentPreview{FirstTaxedYear: calc.FirstTaxedYear(v.AcquiredOn), Years: []PreviewYear{}}
	for y := p.FirstTaxedYear; y <= today.Year; y++ {
		a, inst, _, err := yearTax(e, slug, y, obj)
		if err != nil {
			p.Error = err.Error()
			return p, nil
		}
		p.Years = append(p.Years, PreviewYear{Year: y, Annual: a.Annual.String(), Installments: inst, Lines: a.Lines})
	}
	next := max(p.FirstTaxedYear, today.Year+1)
	if a, inst, _, err := yearTax(e, slug, next, obj); err == nil {
		p.NextYear = &PreviewYear{Year: next, Annual: a.Annual.String(), Installments: inst, Lines: a.Lines}
	} else if a, inst, _, err := yearTax(e, slug, today.Year, obj); err == nil {
		p.NextYear = &PreviewYear{Year: next, Annual: a.Annual.String(), Installments: inst, Lines: a.Lines,
			Note: fmt.Sprintf("the rates of %d are not configured yet: this is the tax at the rates of %d", next, today.Year)}
	}
	return p, nil
}

// ApprovalInput is what the approval of a case decides on.
type ApprovalInput struct {
	Type       *CaseType
	TaxpayerID int64
	Data       json.RawMessage
	// Today is the day of the approval (Romanian time).
	Today civil.Date
	// Facts are those the type named (CaseType.CheckFacts).
	Facts CheckFacts
	// Tax is the municipality's engine (when Facts.Preview or
	// Facts.VehicleID) and the owner's kind (when Facts.Preview).
	Tax TaxFacts
	// Vehicle is Facts.VehicleID as it is in the taxpayer's register, with
	// its stored Object; nil when it is no longer there.
	Vehicle *Vehicle
	// Outstanding is what remains unpaid of the vehicle's debts up to
	// Facts.DebtsUpToYear.
	Outstanding money.Bani
	// Property is what the store found for Facts.Property.
	Property *PropertyState
	// Representation is what the store found for Facts.Representation.
	Representation *RepresentationState
}

// ApprovalPlan is what an approval does, in this order: enter Register or
// end Deregister, record Assessments (for that vehicle), issue Documents.
type ApprovalPlan struct {
	// Register is a vehicle to enter in the register.
	Register *Vehicle
	// Deregister ends a vehicle's registration.
	Deregister *Deregistration
	// Assessments are recorded for the plan's vehicle (the store sets
	// ObjectID to Register's id once inserted, or to Deregister's vehicle).
	Assessments []NewAssessment
	// Documents are issued once the rest is written.
	Documents ApprovalDocuments
	// Property enters or ends buildings or land (declarations.go); the
	// vehicle fields are then unused.
	Property *PropertyPlan
	// Representation links a person to a company (representation.go).
	Representation *RepresentationGrant
}

// Deregistration ends a vehicle's registration on a date: the tax stops
// from the next 1 January (art. 471 (5)-(6)), so the vehicle's debts of the
// years after LastTaxedYear are withdrawn.
type Deregistration struct {
	VehicleID     int64
	On            civil.Date
	LastTaxedYear int
	// SameYearSale reports whether Assessments hold the tax of a vehicle
	// bought and sold within the year (OUG 7/2026), due on the date of sale.
	SameYearSale bool
}

// ApprovalDocuments are the documents an approval issues (when the
// municipality has a document producer).
type ApprovalDocuments struct {
	// Clearance issues a fiscal clearance certificate for this purpose.
	Clearance *string
	// VehicleProof issues the vehicle's proof (DocVehicleRegistration or
	// DocVehicleDeregistration) with this content; the store fills in the
	// vehicle as written and the debts it withdrew.
	VehicleProof *VehicleContent
	// ProofType is the document type of VehicleProof.
	ProofType string
	// Decisions issues one tax decision per assessment recorded.
	Decisions bool
}

// PlanApproval decides what approving a case does: its type's approval
// (CaseType.Approve), or nothing beyond the decision itself. A plan that
// cannot be carried out (the tax does not compute, the vehicle left the
// register, its debts are unpaid) is ECONFLICT; data that do not read are
// EINTERNAL.
func PlanApproval(in ApprovalInput) (*ApprovalPlan, error) {
	if in.Type == nil || in.Type.Approve == nil {
		return &ApprovalPlan{}, nil
	}
	return in.Type.Approve(in)
}

// approveRegistration enters the vehicle, taxed from the year after its
// acquisition (art. 471 (2)), with an assessment for each year owed up to
// today's, its proof of registration and a tax decision per assessment.
func approveRegistration(in ApprovalInput) (*ApprovalPlan, error) {
	var v VehicleRegistration
	if err := json.Unmarshal(in.Data, &v); err != nil {
		return nil, Internal(err, "case data")
	}
	obj := RegistrationObject(&v, in.Tax.OwnerKind)
	first := calc.FirstTaxedYear(v.AcquiredOn)
	p := &ApprovalPlan{
		Register: &Vehicle{TaxpayerID: in.TaxpayerID, VIN: v.VIN, Plate: v.Plate, Category: v.Category, EngineCC: v.EngineCC,
			EmissionClass: v.EmissionClass, Propulsion: v.Propulsion, AcquiredOn: v.AcquiredOn, TaxedFromYear: first, Object: obj},
		Documents: ApprovalDocuments{VehicleProof: &VehicleContent{}, ProofType: DocVehicleRegistration, Decisions: true},
	}
	for y := first; y <= in.Today.Year; y++ {
		a, inst, bonus, err := yearTax(in.Tax.Engine, in.Tax.Municipality, y, obj)
		if err != nil {
			return nil, Errorf(ECONFLICT, "the tax cannot be computed, so the case cannot be approved yet: %s", err)
		}
		p.Assessments = append(p.Assessments, NewAssessment{TaxpayerID: in.TaxpayerID, TaxType: calc.TaxVehicle, ObjectKind: "vehicle",
			Year: y, Assessment: a, Installments: inst, Bonus: bonus, Source: "case"})
	}
	return p, nil
}

// approveDeregistration ends the vehicle's registration on the date of
// disposal. From 2026 its debts up to that year must be paid first (OUG
// 7/2026), and a vehicle bought and sold within the year owes that year's
// tax, due on the date of sale. It issues the proof of deregistration and a
// tax decision for a same-year sale's assessment.
func approveDeregistration(in ApprovalInput) (*ApprovalPlan, error) {
	var d VehicleDeregistration
	if err := json.Unmarshal(in.Data, &d); err != nil {
		return nil, Internal(err, "case data")
	}
	veh := in.Vehicle
	if veh == nil {
		return nil, Errorf(ECONFLICT, "the vehicle is no longer in this taxpayer's register")
	}
	if in.Facts.DebtsUpToYear > 0 && in.Outstanding > 0 {
		return nil, Errorf(ECONFLICT, "the vehicle's debts (%s lei) must be paid before it is removed from the register (OUG 7/2026)", in.Outstanding)
	}
	last := calc.LastTaxedYear(d.DisposedOn)
	on := d.DisposedOn
	p := &ApprovalPlan{
		Deregister: &Deregistration{VehicleID: veh.ID, On: d.DisposedOn, LastTaxedYear: last},
		Documents: ApprovalDocuments{VehicleProof: &VehicleContent{DisposedOn: &on, Reason: d.Reason, LastTaxedYear: last},
			ProofType: DocVehicleDeregistration, Decisions: true},
	}
	if due, ok := calc.SameYearSale(veh.AcquiredOn, &d.DisposedOn); ok {
		a, err := in.Tax.Engine.Annual(in.Tax.Municipality, d.DisposedOn.Year, veh.VehicleObject())
		if err != nil {
			return nil, Errorf(ECONFLICT, "the tax of the year of sale cannot be computed: %v", err)
		}
		p.Deregister.SameYearSale = true
		p.Assessments = []NewAssessment{{TaxpayerID: in.TaxpayerID, TaxType: calc.TaxVehicle, ObjectKind: "vehicle", ObjectID: veh.ID,
			Year: d.DisposedOn.Year, Assessment: a, Installments: []calc.Installment{{DueDate: due, Amount: a.Annual}}, Source: "case"}}
	}
	return p, nil
}

// approveCertificate issues the fiscal clearance certificate for the
// purpose the taxpayer gave.
func approveCertificate(in ApprovalInput) (*ApprovalPlan, error) {
	var data struct {
		Purpose string `json:"purpose"`
	}
	if err := json.Unmarshal(in.Data, &data); err != nil {
		return nil, Internal(err, "case data")
	}
	return &ApprovalPlan{Documents: ApprovalDocuments{Clearance: &data.Purpose}}, nil
}
