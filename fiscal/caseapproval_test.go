package fiscal

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"fiscald/calc"
	"fiscald/calc/calendar"
	"fiscald/calc/params"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

func testTax(t *testing.T) TaxFacts {
	t.Helper()
	set, err := params.NewSet(params.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	return TaxFacts{Engine: &calc.Engine{Params: set, Calendar: calendar.MustNew(nil)}, Municipality: "timisoara", OwnerKind: "individual"}
}

func registrationData(acquired string) json.RawMessage {
	return json.RawMessage(`{"vin":"WVWZZZAUZHW123456","plate":"TM01ANA","category":"car","engine_cc":1598,"emission_class":"euro6",
		"propulsion":"combustion","acquired_on":"` + acquired + `","acquisition_document":"sale_contract"}`)
}

// TestPlanRegistration: the vehicle enters taxed from the year after its
// acquisition (art. 471 (2)); a late declaration owes every year held on 31
// December up to this one.
func TestPlanRegistration(t *testing.T) {
	tax := testTax(t)
	car := calc.Object{Kind: calc.TaxVehicle, OwnerKind: "individual", Category: "car", EngineCC: 1598, EmissionClass: "euro6", Propulsion: "combustion"}
	for _, c := range []struct {
		name, acquired, today string
		years                 []int
	}{
		{"bought last year: this year's tax", "2025-03-10", "2026-05-04", []int{2026}},
		{"bought this year: nothing owed yet", "2026-02-01", "2026-05-04", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			today := civil.MustParse(c.today)
			p, err := PlanApproval(ApprovalInput{Type: mustType(t, CaseVehicleRegistration), TaxpayerID: 42, Data: registrationData(c.acquired), Today: today, Tax: tax})
			if err != nil {
				t.Fatal(err)
			}
			acq := civil.MustParse(c.acquired)
			want := &Vehicle{TaxpayerID: 42, VIN: "WVWZZZAUZHW123456", Plate: "TM01ANA", Category: "car", EngineCC: 1598, EmissionClass: "euro6",
				Propulsion: "combustion", AcquiredOn: acq, TaxedFromYear: acq.Year + 1, Object: car}
			if !reflect.DeepEqual(p.Register, want) {
				t.Errorf("register = %+v, want %+v", p.Register, want)
			}
			if p.Deregister != nil {
				t.Errorf("deregister = %+v", p.Deregister)
			}
			var years []int
			for _, a := range p.Assessments {
				years = append(years, a.Year)
				if a.TaxpayerID != 42 || a.TaxType != calc.TaxVehicle || a.ObjectKind != "vehicle" || a.ObjectID != 0 || a.Source != "case" {
					t.Errorf("assessment %d: %+v", a.Year, a)
				}
				var sum money.Bani
				for _, in := range a.Installments {
					sum += in.Amount
				}
				if sum != a.Assessment.Annual || len(a.Installments) == 0 {
					t.Errorf("%d: instalments %v do not add up to %s", a.Year, a.Installments, a.Assessment.Annual)
				}
			}
			if !reflect.DeepEqual(years, c.years) {
				t.Errorf("years = %v, want %v", years, c.years)
			}
			if len(p.Assessments) > 0 && p.Assessments[len(p.Assessments)-1].Assessment.Annual != money.Bani(19800) {
				t.Errorf("2026 tax = %s, want 198.00 (1598 cm³ Euro 6 in Timișoara)", p.Assessments[len(p.Assessments)-1].Assessment.Annual)
			}
			wantDocs := ApprovalDocuments{VehicleProof: &VehicleContent{}, ProofType: DocVehicleRegistration, Decisions: true}
			if !reflect.DeepEqual(p.Documents, wantDocs) {
				t.Errorf("documents = %+v", p.Documents)
			}
		})
	}
	t.Run("declared late, an earlier year's rates not configured: no approval", func(t *testing.T) {
		_, err := PlanApproval(ApprovalInput{Type: mustType(t, CaseVehicleRegistration), TaxpayerID: 42, Data: registrationData("2023-06-30"),
			Today: civil.MustParse("2026-05-04"), Tax: tax})
		if ErrorCode(err) != ECONFLICT || !strings.Contains(err.Error(), "in 2024 for municipality timisoara") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a year whose tax does not compute stops the approval", func(t *testing.T) {
		_, err := PlanApproval(ApprovalInput{Type: mustType(t, CaseVehicleRegistration), TaxpayerID: 42, Data: registrationData("2025-03-10"),
			Today: civil.MustParse("2026-05-04"), Tax: TaxFacts{Engine: tax.Engine, Municipality: "atlantis", OwnerKind: "individual"}})
		if ErrorCode(err) != ECONFLICT || !strings.Contains(err.Error(), "the tax cannot be computed, so the case cannot be approved yet") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("data that do not read", func(t *testing.T) {
		_, err := PlanApproval(ApprovalInput{Type: mustType(t, CaseVehicleRegistration), Data: json.RawMessage(`{"acquired_on":5}`), Tax: tax})
		if ErrorCode(err) != EINTERNAL {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestPlanDeregistration: the tax stops from the next 1 January; from 2026
// the debts must be paid first and a same-year buy and sale owes that
// year's tax on the date of sale (OUG 7/2026).
func TestPlanDeregistration(t *testing.T) {
	tax := testTax(t)
	car := calc.Object{Kind: calc.TaxVehicle, OwnerKind: "individual", Category: "car", EngineCC: 1598, EmissionClass: "euro6", Propulsion: "combustion"}
	veh := func(acquired string) *Vehicle {
		return &Vehicle{ID: 7, TaxpayerID: 42, Category: "car", AcquiredOn: civil.MustParse(acquired), Object: car}
	}
	data := func(disposed string) json.RawMessage {
		return json.RawMessage(`{"vehicle_id":7,"disposed_on":"` + disposed + `","reason":"sale"}`)
	}
	for _, c := range []struct {
		name, disposed string
		vehicle        *Vehicle
		outstanding    money.Bani
		wantErr        string
		sameYear       bool
	}{
		{"sold in 2026, debts paid", "2026-04-01", veh("2024-05-01"), 0, "", false},
		{"sold in 2026, debts unpaid", "2026-04-01", veh("2024-05-01"), 12345, "the vehicle's debts (123.45 lei) must be paid before it is removed from the register (OUG 7/2026)", false},
		{"sold in 2025, debts unpaid: not yet the rule", "2025-11-01", veh("2020-05-01"), 12345, "", false},
		{"bought and sold within 2026: that year's tax on the date of sale", "2026-04-01", veh("2026-01-10"), 0, "", true},
		{"bought and sold within 2025: before the rule", "2025-09-01", veh("2025-01-10"), 0, "", false},
		{"the vehicle left the register", "2026-04-01", nil, 0, "the vehicle is no longer in this taxpayer's register", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ct := mustType(t, CaseVehicleDeregistration)
			f, err := ct.CheckFacts(data(c.disposed))
			if err != nil {
				t.Fatal(err)
			}
			p, err := PlanApproval(ApprovalInput{Type: ct, TaxpayerID: 42, Data: data(c.disposed), Today: civil.MustParse("2026-05-04"), Facts: f,
				Tax: TaxFacts{Engine: tax.Engine, Municipality: tax.Municipality}, Vehicle: c.vehicle, Outstanding: c.outstanding})
			if c.wantErr != "" {
				if ErrorCode(err) != ECONFLICT || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want ECONFLICT %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			on := civil.MustParse(c.disposed)
			if want := (&Deregistration{VehicleID: 7, On: on, LastTaxedYear: on.Year, SameYearSale: c.sameYear}); !reflect.DeepEqual(p.Deregister, want) {
				t.Errorf("deregister = %+v, want %+v", p.Deregister, want)
			}
			if p.Register != nil {
				t.Errorf("register = %+v", p.Register)
			}
			if !c.sameYear && len(p.Assessments) != 0 {
				t.Errorf("assessments = %+v", p.Assessments)
			}
			if c.sameYear {
				if len(p.Assessments) != 1 {
					t.Fatalf("assessments = %+v", p.Assessments)
				}
				a := p.Assessments[0]
				want := []calc.Installment{{DueDate: on, Amount: money.Bani(19800)}}
				if a.Year != 2026 || a.ObjectID != 7 || a.TaxpayerID != 42 || a.Source != "case" || a.Bonus != 0 || !reflect.DeepEqual(a.Installments, want) {
					t.Errorf("same-year assessment = %+v, want one instalment %v", a, want)
				}
			}
			wantDocs := ApprovalDocuments{VehicleProof: &VehicleContent{DisposedOn: &on, Reason: "sale", LastTaxedYear: on.Year}, ProofType: DocVehicleDeregistration, Decisions: true}
			if !reflect.DeepEqual(p.Documents, wantDocs) {
				t.Errorf("documents = %+v, want %+v", p.Documents, wantDocs)
			}
		})
	}
}

func TestPlanOtherTypes(t *testing.T) {
	p, err := PlanApproval(ApprovalInput{Type: mustType(t, CaseFiscalCertificate), Data: json.RawMessage(`{"purpose":"licitație"}`)})
	if err != nil || p.Documents.Clearance == nil || *p.Documents.Clearance != "licitație" || p.Register != nil || p.Deregister != nil || p.Assessments != nil {
		t.Errorf("certificate: %+v, %v", p, err)
	}
	p, err = PlanApproval(ApprovalInput{Type: mustType(t, CasePetition), Data: json.RawMessage(`{"subject":"a","body":"b"}`)})
	if err != nil || !reflect.DeepEqual(p, &ApprovalPlan{}) {
		t.Errorf("petition: %+v, %v", p, err)
	}
}

func TestRegistrationPreview(t *testing.T) {
	tax := testTax(t)
	p, err := RegistrationPreview(registrationData("2025-03-10"), tax, civil.MustParse("2026-05-04"))
	if err != nil {
		t.Fatal(err)
	}
	if p.FirstTaxedYear != 2026 || len(p.Years) != 1 || p.Years[0].Year != 2026 || p.Years[0].Annual != "198.00" || p.Error != "" {
		t.Fatalf("preview = %+v", p)
	}
	if p.NextYear == nil || p.NextYear.Year != 2027 {
		t.Fatalf("next year = %+v", p.NextYear)
	}
	p, err = RegistrationPreview(registrationData("2025-03-10"), TaxFacts{Engine: tax.Engine, Municipality: "atlantis"}, civil.MustParse("2026-05-04"))
	if err != nil || p.Error == "" || len(p.Years) != 0 {
		t.Fatalf("preview in an unknown municipality = %+v, %v", p, err)
	}
}
