package fiscal

import (
	"encoding/json"
	"fmt"
	"strings"

	"fiscald/calc"
	"fiscald/internal/money"
)

// The rules a case type carries beyond its form: the automatic checks
// officers see (and straight-through processing requires). They are pure: the
// store reads the facts a type names (CheckFacts) and hands them back in a
// CheckInput; AutomaticChecks decides.

// CheckFacts names the facts of the register the automatic checks of a case
// need, and its approval (PlanApproval) with them; the store reads exactly
// these.
type CheckFacts struct {
	// VIN, when set, asks how many vehicles with this VIN are in the
	// municipality's register (not deregistered).
	VIN string
	// VehicleID, when set, asks whether this vehicle is in the taxpayer's
	// register (not deregistered).
	VehicleID int64
	// DebtsUpToYear, when set, asks what remains unpaid of VehicleID's
	// debts up to this year.
	DebtsUpToYear int
	// Preview asks for the assessment preview of a vehicle registration
	// (or of a building or land acquisition, CasePreview).
	Preview bool
	// Property asks for the register's facts of a building or land
	// declaration (declarations.go).
	Property *PropertyFacts
	// Representation asks for the company of a representation request and
	// the filer's links to it (representation.go).
	Representation *RepresentationFacts
}

// CheckInput is what the automatic checks of a case decide on: the case's
// data and documents, the facts its type asked for (Facts) and what the
// store found.
type CheckInput struct {
	Type *CaseType
	Data json.RawMessage
	// Attachments are the kinds of the case's documents.
	Attachments []string
	Facts       CheckFacts
	// VINOwners is the number of vehicles in the register with Facts.VIN.
	VINOwners int
	// VehicleActive reports whether Facts.VehicleID is in the taxpayer's
	// register.
	VehicleActive bool
	// Outstanding is what remains unpaid of Facts.VehicleID's debts up to
	// Facts.DebtsUpToYear.
	Outstanding money.Bani
	// Preview is the assessment preview (when Facts.Preview).
	Preview *AssessmentPreview
	// Property is what the store found for Facts.Property.
	Property *PropertyState
	// Representation is what the store found for Facts.Representation.
	Representation *RepresentationState
}

// CheckFacts returns the facts the automatic checks (and the approval) of a
// case of this type with data need; a type without its own checks (or no
// type) needs none. An error means the stored data do not read (EINTERNAL).
func (t *CaseType) CheckFacts(data json.RawMessage) (CheckFacts, error) {
	if t == nil || t.Facts == nil {
		return CheckFacts{}, nil
	}
	f, err := t.Facts(data)
	if err != nil {
		return CheckFacts{}, Internal(err, "the case's data")
	}
	return f, nil
}

// AutomaticChecks are the checks of a case shown to officers, in order:
// documents_complete for every type, then the type's own checks.
func AutomaticChecks(in CheckInput) []Check {
	missing := in.Type.MissingDocuments(in.Data, in.Attachments)
	out := []Check{{Name: "documents_complete", OK: len(missing) == 0}}
	if len(missing) > 0 {
		out[0].Detail = fmt.Sprintf("missing: %v", missing)
	}
	if in.Type.Checks != nil {
		out = append(out, in.Type.Checks(in)...)
	}
	return out
}

// registrationFacts: a registration's VIN is checked against the register
// and its tax previewed.
func registrationFacts(data json.RawMessage) (CheckFacts, error) {
	var v VehicleRegistration
	if err := json.Unmarshal(data, &v); err != nil {
		return CheckFacts{}, err
	}
	return CheckFacts{VIN: v.VIN, Preview: true}, nil
}

// registrationChecks: the VIN is valid, no one else holds the vehicle in
// the register, and its tax can be computed.
func registrationChecks(in CheckInput) []Check {
	r := CheckVIN(in.Facts.VIN)
	out := []Check{{Name: "vin_valid", OK: r == "", Detail: r}}
	ck := Check{Name: "no_conflicting_owner", OK: in.VINOwners == 0}
	if in.VINOwners > 0 {
		ck.Detail = "the VIN is registered to an owner already: the previous owner must deregister it first"
	}
	out = append(out, ck)
	tc := Check{Name: "tax_computable", OK: in.Preview != nil && in.Preview.Error == ""}
	if in.Preview == nil {
		tc.Detail = "the tax was not previewed"
	} else {
		tc.Detail = in.Preview.Error
	}
	return append(out, tc)
}

// deregistrationFacts: the vehicle must be the taxpayer's, and from 2026
// (OUG 7/2026) its debts up to the year of disposal must be paid.
func deregistrationFacts(data json.RawMessage) (CheckFacts, error) {
	var d VehicleDeregistration
	if err := json.Unmarshal(data, &d); err != nil {
		return CheckFacts{}, err
	}
	f := CheckFacts{VehicleID: d.VehicleID}
	if d.DisposedOn.Year >= calc.SameYearSaleFrom {
		f.DebtsUpToYear = d.DisposedOn.Year
	}
	return f, nil
}

// deregistrationChecks: the vehicle is active in the taxpayer's register
// and, when the law asks (DebtsUpToYear), its debts are paid.
func deregistrationChecks(in CheckInput) []Check {
	out := []Check{{Name: "vehicle_active", OK: in.VehicleActive}}
	if in.Facts.DebtsUpToYear > 0 {
		ck := Check{Name: "vehicle_debts_paid", OK: in.Outstanding == 0}
		if in.Outstanding > 0 {
			ck.Detail = "outstanding: " + in.Outstanding.String() + " lei (OUG 7/2026: deregistration needs the debts paid)"
		}
		out = append(out, ck)
	}
	return out
}

// StraightThroughEligible reports whether a case may be tried for
// straight-through processing before its checks are read: its type is
// capable of it (CaseType.StraightThrough), the municipality turned it on
// for the type (enabled, settings.straight_through.<type>) and the case
// waits for an officer (submitted).
func StraightThroughEligible(t *CaseType, status CaseStatus, enabled bool) bool {
	return enabled && t != nil && t.StraightThrough && status == StatusSubmitted
}

// StraightThrough decides whether a case is prepared for signature by the
// system, without an officer: it is eligible (StraightThroughEligible) and
// every automatic check passed (there is always at least
// documents_complete; no checks at all is no decision).
func StraightThrough(t *CaseType, status CaseStatus, enabled bool, checks []Check) bool {
	if !StraightThroughEligible(t, status, enabled) || len(checks) == 0 {
		return false
	}
	for _, ck := range checks {
		if !ck.OK {
			return false
		}
	}
	return true
}

// StraightThroughComment is the comment of the system's review step of a
// case that went straight through.
const StraightThroughComment = "straight-through: every automatic check passed; prepared for signature"

// CheckStraightThroughType refuses (EINVALID on "type") turning
// straight-through processing on or off for a type that is not capable of
// it.
func CheckStraightThroughType(name string) error {
	if t, ok := CaseTypeByName(name); ok && t.StraightThrough {
		return nil
	}
	var names []string
	for _, t := range CaseTypes() {
		if t.StraightThrough {
			names = append(names, t.Name)
		}
	}
	list := strings.Join(names, ", ")
	if n := len(names); n > 1 {
		list = strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	}
	return InvalidField("type", "straight-through processing exists for "+list)
}

// CheckComplete refuses (ECONFLICT, one field error on "attachments" per
// missing kind) an officer's approval of a case that lacks a required
// document.
func (t *CaseType) CheckComplete(data json.RawMessage, have []string) error {
	missing := t.MissingDocuments(data, have)
	if len(missing) == 0 {
		return nil
	}
	fields := make([]FieldError, len(missing))
	for i, k := range missing {
		fields[i] = FieldError{Field: "attachments", Message: "missing required document: " + k}
	}
	return &Error{Code: ECONFLICT, Message: "the case lacks required documents: " + strings.Join(missing, ", "), Fields: fields, Err: ErrDocumentsMissing}
}

// CheckDecision validates a staff decision on a case before its
// transaction (EINVALID naming the field): a signer (ActionSign) approves or
// rejects; a rejection, or an officer's request for information, says why.
func CheckDecision(action string, d *Decision) error {
	comment := strings.TrimSpace(d.Comment) != ""
	switch action {
	case ActionSign:
		if d.Decision == DecisionRequestInfo {
			return InvalidField("decision", "must be one of: approve, reject")
		}
		if d.Decision == DecisionReject && !comment {
			return InvalidField("comment", "a rejection must say why")
		}
	case ActionReview:
		if (d.Decision == DecisionReject || d.Decision == DecisionRequestInfo) && !comment {
			return InvalidField("comment", "a rejection or a request for information must say why")
		}
	}
	return nil
}
