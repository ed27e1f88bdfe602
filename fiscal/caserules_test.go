package fiscal

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func mustType(t *testing.T, name string) *CaseType {
	t.Helper()
	ct, ok := CaseTypeByName(name)
	if !ok {
		t.Fatalf("case type %s is not registered", name)
	}
	return ct
}

func TestCheckFacts(t *testing.T) {
	for _, c := range []struct {
		name, typ, data string
		want            CheckFacts
		wantErr         bool
	}{
		{"registration: the VIN and the preview", CaseVehicleRegistration, `{"vin":"WVWZZZAUZHW123456"}`, CheckFacts{VIN: "WVWZZZAUZHW123456", Preview: true}, false},
		{"deregistration before 2026: no debts asked", CaseVehicleDeregistration, `{"vehicle_id":7,"disposed_on":"2025-12-31"}`, CheckFacts{VehicleID: 7}, false},
		{"deregistration from 2026: the debts up to the year of disposal", CaseVehicleDeregistration, `{"vehicle_id":7,"disposed_on":"2026-01-01"}`, CheckFacts{VehicleID: 7, DebtsUpToYear: 2026}, false},
		{"certificate: nothing", CaseFiscalCertificate, `{"purpose":"x"}`, CheckFacts{}, false},
		{"petition: nothing", CasePetition, `{}`, CheckFacts{}, false},
		{"unreadable data", CaseVehicleDeregistration, `{"vehicle_id":"x"}`, CheckFacts{}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := mustType(t, c.typ).CheckFacts(json.RawMessage(c.data))
			if (err != nil) != c.wantErr || (err != nil && ErrorCode(err) != EINTERNAL) {
				t.Fatalf("err = %v, want error %v (EINTERNAL)", err, c.wantErr)
			}
			if got != c.want {
				t.Fatalf("facts = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestAutomaticChecks(t *testing.T) {
	const vin = "WVWZZZAUZHW123456"
	regDocs := []string{"acquisition_document", "vehicle_identity_card", "owner_id"}
	reg := `{"vin":"` + vin + `"}`
	heavy := `{"vin":"` + vin + `","max_mass_kg":12000}`
	ok := &AssessmentPreview{FirstTaxedYear: 2027}
	for _, c := range []struct {
		name, typ, data string
		in              CheckInput
		want            []Check
	}{
		{"registration: everything in order", CaseVehicleRegistration, reg,
			CheckInput{Attachments: regDocs, Facts: CheckFacts{VIN: vin, Preview: true}, Preview: ok},
			[]Check{{"documents_complete", true, ""}, {"vin_valid", true, ""}, {"no_conflicting_owner", true, ""}, {"tax_computable", true, ""}}},
		{"registration: a document missing", CaseVehicleRegistration, reg,
			CheckInput{Attachments: []string{"owner_id", "other"}, Facts: CheckFacts{VIN: vin, Preview: true}, Preview: ok},
			[]Check{{"documents_complete", false, "missing: [acquisition_document vehicle_identity_card]"}, {"vin_valid", true, ""}, {"no_conflicting_owner", true, ""}, {"tax_computable", true, ""}}},
		{"registration: a heavy vehicle needs the suspension certificate", CaseVehicleRegistration, heavy,
			CheckInput{Attachments: regDocs, Facts: CheckFacts{VIN: vin, Preview: true}, Preview: ok},
			[]Check{{"documents_complete", false, "missing: [suspension_certificate]"}, {"vin_valid", true, ""}, {"no_conflicting_owner", true, ""}, {"tax_computable", true, ""}}},
		{"registration: the VIN is held by an owner", CaseVehicleRegistration, reg,
			CheckInput{Attachments: regDocs, Facts: CheckFacts{VIN: vin, Preview: true}, VINOwners: 1, Preview: ok},
			[]Check{{"documents_complete", true, ""}, {"vin_valid", true, ""},
				{"no_conflicting_owner", false, "the VIN is registered to an owner already: the previous owner must deregister it first"}, {"tax_computable", true, ""}}},
		{"registration: a bad VIN, a tax that does not compute", CaseVehicleRegistration, reg,
			CheckInput{Attachments: regDocs, Facts: CheckFacts{VIN: "WVWZZZAUZHW12345I", Preview: true}, Preview: &AssessmentPreview{Error: "no rate for 2027"}},
			[]Check{{"documents_complete", true, ""}, {"vin_valid", false, CheckVIN("WVWZZZAUZHW12345I")}, {"no_conflicting_owner", true, ""}, {"tax_computable", false, "no rate for 2027"}}},
		{"registration: no preview is no computable tax", CaseVehicleRegistration, reg,
			CheckInput{Attachments: regDocs, Facts: CheckFacts{VIN: vin, Preview: true}},
			[]Check{{"documents_complete", true, ""}, {"vin_valid", true, ""}, {"no_conflicting_owner", true, ""}, {"tax_computable", false, "the tax was not previewed"}}},
		{"deregistration before 2026: no debts check", CaseVehicleDeregistration, `{}`,
			CheckInput{Attachments: []string{"disposal_document"}, Facts: CheckFacts{VehicleID: 7}, VehicleActive: true, Outstanding: 5000},
			[]Check{{"documents_complete", true, ""}, {"vehicle_active", true, ""}}},
		{"deregistration from 2026, debts paid", CaseVehicleDeregistration, `{}`,
			CheckInput{Attachments: []string{"disposal_document"}, Facts: CheckFacts{VehicleID: 7, DebtsUpToYear: 2026}, VehicleActive: true},
			[]Check{{"documents_complete", true, ""}, {"vehicle_active", true, ""}, {"vehicle_debts_paid", true, ""}}},
		{"deregistration from 2026, debts outstanding, vehicle gone", CaseVehicleDeregistration, `{}`,
			CheckInput{Facts: CheckFacts{VehicleID: 7, DebtsUpToYear: 2026}, Outstanding: 12345},
			[]Check{{"documents_complete", false, "missing: [disposal_document]"}, {"vehicle_active", false, ""},
				{"vehicle_debts_paid", false, "outstanding: 123.45 lei (OUG 7/2026: deregistration needs the debts paid)"}}},
		{"certificate: documents only", CaseFiscalCertificate, `{"purpose":"x"}`,
			CheckInput{Attachments: []string{"holder_id"}},
			[]Check{{"documents_complete", true, ""}}},
		{"petition: nothing required", CasePetition, `{}`, CheckInput{}, []Check{{"documents_complete", true, ""}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			in.Type, in.Data = mustType(t, c.typ), json.RawMessage(c.data)
			if got := AutomaticChecks(in); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("checks =\n%+v\nwant\n%+v", got, c.want)
			}
		})
	}
}

func TestStraightThrough(t *testing.T) {
	pass := []Check{{Name: "documents_complete", OK: true}, {Name: "vehicle_active", OK: true}}
	fail := []Check{{Name: "documents_complete", OK: true}, {Name: "vehicle_active", OK: false}}
	for _, c := range []struct {
		name, typ string
		status    CaseStatus
		enabled   bool
		checks    []Check
		eligible  bool
		want      bool
	}{
		{"registration, on, submitted, all pass", CaseVehicleRegistration, StatusSubmitted, true, pass, true, true},
		{"deregistration, on, submitted, all pass", CaseVehicleDeregistration, StatusSubmitted, true, pass, true, true},
		{"a check fails", CaseVehicleDeregistration, StatusSubmitted, true, fail, true, false},
		{"no checks is no decision", CaseVehicleDeregistration, StatusSubmitted, true, nil, true, false},
		{"turned off for the type", CaseVehicleRegistration, StatusSubmitted, false, pass, false, false},
		{"awaiting the taxpayer", CaseVehicleRegistration, StatusAwaitingTaxpayer, true, pass, false, false},
		{"already reviewed", CaseVehicleRegistration, StatusReviewed, true, pass, false, false},
		{"a certificate is never automatic", CaseFiscalCertificate, StatusSubmitted, true, pass, false, false},
		{"a petition is never automatic", CasePetition, StatusSubmitted, true, pass, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ct := mustType(t, c.typ)
			if got := StraightThroughEligible(ct, c.status, c.enabled); got != c.eligible {
				t.Errorf("eligible = %v, want %v", got, c.eligible)
			}
			if got := StraightThrough(ct, c.status, c.enabled, c.checks); got != c.want {
				t.Errorf("straight through = %v, want %v", got, c.want)
			}
		})
	}
	if StraightThroughEligible(nil, StatusSubmitted, true) {
		t.Error("an unknown type is eligible")
	}
}

func TestCheckStraightThroughType(t *testing.T) {
	for _, name := range []string{CaseVehicleRegistration, CaseVehicleDeregistration} {
		if err := CheckStraightThroughType(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{CaseFiscalCertificate, CasePetition, "nonsense"} {
		err := CheckStraightThroughType(name)
		var e *Error
		if !errors.As(err, &e) || e.Code != EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != "type" ||
			e.Fields[0].Message != "straight-through processing exists for vehicle_deregistration and vehicle_registration" {
			t.Errorf("%s: %#v", name, err)
		}
	}
}

func TestCheckComplete(t *testing.T) {
	reg := mustType(t, CaseVehicleRegistration)
	heavy := json.RawMessage(`{"max_mass_kg":12000}`)
	if err := reg.CheckComplete(heavy, []string{"acquisition_document", "vehicle_identity_card", "owner_id", "suspension_certificate"}); err != nil {
		t.Fatalf("complete: %v", err)
	}
	err := reg.CheckComplete(heavy, []string{"owner_id", "other"})
	var e *Error
	if !errors.As(err, &e) || e.Code != ECONFLICT || e.Message != "the case lacks required documents: acquisition_document, vehicle_identity_card, suspension_certificate" {
		t.Fatalf("err = %#v", err)
	}
	want := []FieldError{{"attachments", "missing required document: acquisition_document"}, {"attachments", "missing required document: vehicle_identity_card"},
		{"attachments", "missing required document: suspension_certificate"}}
	if !reflect.DeepEqual(e.Fields, want) {
		t.Fatalf("fields = %+v", e.Fields)
	}
	if err := mustType(t, CasePetition).CheckComplete(json.RawMessage(`{}`), nil); err != nil {
		t.Fatalf("petition: %v", err)
	}
}

func TestCheckDecision(t *testing.T) {
	for _, c := range []struct {
		action, decision, comment string
		field                     string // "" when valid
	}{
		{ActionReview, DecisionApprove, "", ""},
		{ActionReview, DecisionReject, " ", "comment"},
		{ActionReview, DecisionReject, "the VIN does not match the CIV", ""},
		{ActionReview, DecisionRequestInfo, "", "comment"},
		{ActionReview, DecisionRequestInfo, "please attach the CIV", ""},
		{ActionSign, DecisionApprove, "", ""},
		{ActionSign, DecisionReject, "", "comment"},
		{ActionSign, DecisionReject, "the tax is wrong", ""},
		{ActionSign, DecisionRequestInfo, "please attach the CIV", "decision"},
	} {
		err := CheckDecision(c.action, &Decision{Decision: c.decision, Comment: c.comment})
		var e *Error
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s %s %q: %v", c.action, c.decision, c.comment, err)
		case c.field != "" && (!errors.As(err, &e) || e.Code != EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != c.field):
			t.Errorf("%s %s %q: %#v, want EINVALID on %s", c.action, c.decision, c.comment, err, c.field)
		}
	}
}

// TestShippedDefinitionFourEyes: on a shipped definition the reviewer may
// not sign (ECONFLICT, ErrFourEyes); another signer may, and the system's
// straight-through review (actor 0) keeps nobody from signing.
func TestShippedDefinitionFourEyes(t *testing.T) {
	d, ok := ShippedDefinition(CaseVehicleRegistration)
	if !ok || CheckDefinition(d) != nil {
		t.Fatalf("shipped definition: %v %v", ok, CheckDefinition(d))
	}
	r := d.NewRoute()
	if err := d.Take(r, RouteAct{Step: StepReview, Decision: DecisionApprove, ActorID: 7}, RoleOfficer); err != nil {
		t.Fatal(err)
	}
	if d.StatusAt(r) != StatusReviewed {
		t.Fatalf("status after review: %s", d.StatusAt(r))
	}
	err := d.Take(r, RouteAct{Step: StepSign, Decision: DecisionApprove, ActorID: 7}, RoleSigner)
	if ErrorCode(err) != ECONFLICT || !errors.Is(err, ErrFourEyes) {
		t.Fatalf("the reviewer signs: %v", err)
	}
	if err := d.Take(r, RouteAct{Step: StepSign, Decision: DecisionApprove, ActorID: 8}, RoleSigner); err != nil || d.StatusAt(r) != StatusApproved {
		t.Fatalf("another signer: %v %s", err, d.StatusAt(r))
	}
	r = d.NewRoute()
	if err := d.Take(r, RouteAct{Step: StepReview, Decision: DecisionApprove}, RoleOfficer); err != nil {
		t.Fatal(err)
	}
	if err := d.Take(r, RouteAct{Step: StepSign, Decision: DecisionReject, ActorID: 8}, RoleSigner); err != nil || d.StatusAt(r) != StatusRejected {
		t.Fatalf("sign after the system's review: %v %s", err, d.StatusAt(r))
	}
	if err := d.Take(d.NewRoute(), RouteAct{Step: StepReview, Decision: DecisionApprove, ActorID: 7}, RoleSigner); ErrorCode(err) != EFORBIDDEN {
		t.Fatalf("a signer reviews: %v", err)
	}
}
