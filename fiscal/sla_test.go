package fiscal

import (
	"encoding/json"
	"reflect"
	"testing"

	"fiscald/calc/calendar"
	"fiscald/internal/civil"
)

func d(s string) civil.Date { return civil.MustParse(s) }

func dp(s string) *civil.Date { x := d(s); return &x }

func TestDueDatesAroundHolidays(t *testing.T) {
	cal := calendar.MustNew(nil)
	for _, c := range []struct {
		name, submitted, due string
	}{
		{"ordinary week", "2026-05-04", "2026-05-11"},
		{"over a weekend", "2026-05-08", "2026-05-15"},
		{"Orthodox Easter 2026 (Good Friday 10 April, Easter Monday 13 April)", "2026-04-09", "2026-04-20"},
		{"Pentecost 2026 (Monday 1 June, also Children's Day)", "2026-05-29", "2026-06-08"},
		{"30 November and 1 December", "2026-11-27", "2026-12-08"},
		{"Christmas", "2026-12-23", "2026-12-31"},
		{"year end: 1-2 January", "2026-12-28", "2027-01-05"},
		{"year end: 1-2 and 6-7 January", "2026-12-29", "2027-01-08"},
		{"Easter 2027 (Good Friday 30 April, 1 May, Easter Monday 3 May)", "2027-04-28", "2027-05-07"},
	} {
		s, e := ComputeSLA(cal, d(c.submitted), 5, nil, d(c.submitted), nil)
		if s.DueOn.String() != c.due || e.DueOn != s.DueOn {
			t.Errorf("%s: submitted %s due %s, want %s (skipped %v)", c.name, c.submitted, s.DueOn, c.due, e.Skipped)
		}
		if s.WorkingDaysLeft != 5 || s.State != SLAOnTrack {
			t.Errorf("%s: %+v", c.name, s)
		}
	}
	// A bridge day moves the due date by one working day.
	bridged := calendar.MustNew([]calendar.DayOff{{Date: d("2026-05-12")}})
	if s, _ := ComputeSLA(bridged, d("2026-05-08"), 5, nil, d("2026-05-08"), nil); s.DueOn.String() != "2026-05-18" {
		t.Errorf("bridge day: %s", s.DueOn)
	}
}

func TestSLAStatesAndPauses(t *testing.T) {
	cal := calendar.MustNew(nil)
	sub := d("2026-05-04") // Monday: due Monday 11 May
	for _, c := range []struct {
		today string
		left  int
		state string
	}{
		{"2026-05-04", 5, SLAOnTrack},
		{"2026-05-07", 2, SLAOnTrack},
		{"2026-05-08", 1, SLAAtRisk},
		{"2026-05-10", 1, SLAAtRisk}, // Sunday
		{"2026-05-11", 0, SLAAtRisk},
		{"2026-05-12", -1, SLABreached},
	} {
		s, _ := ComputeSLA(cal, sub, 5, nil, d(c.today), nil)
		if s.WorkingDaysLeft != c.left || s.State != c.state {
			t.Errorf("on %s: %+v, want %d %s", c.today, s, c.left, c.state)
		}
	}
	// Information requested on Tuesday 5 May, answered Thursday 7 May: two
	// working days paused, the due date moves from 11 to 13 May.
	open := []Pause{{From: d("2026-05-05")}}
	s, _ := ComputeSLA(cal, sub, 5, open, d("2026-05-06"), nil)
	if s.State != SLAPaused || s.DueOn.String() != "2026-05-12" || s.WorkingDaysLeft != 4 {
		t.Errorf("while paused: %+v", s)
	}
	closed := []Pause{{From: d("2026-05-05"), To: dp("2026-05-07")}}
	s, e := ComputeSLA(cal, sub, 5, closed, d("2026-05-07"), nil)
	if s.State != SLAOnTrack || s.DueOn.String() != "2026-05-13" || e.PausedWorkingDays != 2 || s.WorkingDaysLeft != 4 {
		t.Errorf("after the pause: %+v %+v", s, e)
	}
	// A pause over a weekend and Easter costs only its working days.
	s, e = ComputeSLA(cal, d("2026-04-08"), 5, []Pause{{From: d("2026-04-09"), To: dp("2026-04-14")}}, d("2026-04-14"), nil)
	if e.PausedWorkingDays != 1 || s.DueOn.String() != "2026-04-20" {
		t.Errorf("pause over Easter: %+v %+v", s, e)
	}
	// A case decided after its due date stays breached; before, on track.
	if s, _ := ComputeSLA(cal, sub, 5, nil, d("2026-06-01"), dp("2026-05-12")); s.State != SLABreached {
		t.Errorf("decided late: %+v", s)
	}
	if s, _ := ComputeSLA(cal, sub, 5, nil, d("2026-06-01"), dp("2026-05-08")); s.State != SLAOnTrack {
		t.Errorf("decided in time: %+v", s)
	}
}

// TestShippedRoute: the shipped definitions' route gives the contract's
// statuses (review → reviewed, sign → approved or rejected, request_info
// leaves the step open), refuses a step not open (409) and a wrong role
// (403); a response is the taxpayer's (or an officer's) to a waiting case.
func TestShippedRoute(t *testing.T) {
	d, _ := ShippedDefinition(CasePetition)
	type act struct {
		step, decision string
		role           Role
	}
	for _, c := range []struct {
		acts []act
		want CaseStatus
		code string // of the last act
	}{
		{[]act{{StepReview, DecisionApprove, RoleOfficer}}, StatusReviewed, ""},
		{[]act{{StepReview, DecisionReject, RoleOfficer}}, StatusRejected, ""},
		{[]act{{StepReview, DecisionRequestInfo, RoleOfficer}}, StatusSubmitted, ""},
		{[]act{{StepReview, DecisionApprove, RoleOfficer}, {StepSign, DecisionApprove, RoleSigner}}, StatusApproved, ""},
		{[]act{{StepReview, DecisionApprove, RoleOfficer}, {StepSign, DecisionReject, RoleSigner}}, StatusRejected, ""},
		{[]act{{StepSign, DecisionApprove, RoleSigner}}, StatusSubmitted, ECONFLICT},
		{[]act{{StepReview, DecisionApprove, RoleOfficer}, {StepReview, DecisionApprove, RoleOfficer}}, StatusReviewed, ECONFLICT},
		{[]act{{StepReview, DecisionApprove, RoleOfficer}, {StepSign, DecisionApprove, RoleSigner}, {StepSign, DecisionReject, RoleSigner}}, StatusApproved, ECONFLICT},
		{[]act{{StepReview, DecisionApprove, RoleSigner}}, StatusSubmitted, EFORBIDDEN},
		{[]act{{StepReview, DecisionApprove, RoleOfficer}, {StepSign, DecisionApprove, RoleOfficer}}, StatusReviewed, EFORBIDDEN},
		{[]act{{StepReview, DecisionApprove, RoleOfficer}, {StepSign, DecisionApprove, RoleTaxpayer}}, StatusReviewed, EFORBIDDEN},
		{[]act{{StepSign, DecisionRequestInfo, RoleSigner}}, StatusSubmitted, EINVALID},
	} {
		r := d.NewRoute()
		var err error
		for i, a := range c.acts {
			err = d.Take(r, RouteAct{Step: a.step, Decision: a.decision, ActorID: int64(i + 1)}, a.role)
		}
		if d.StatusAt(r) != c.want || ErrorCode(err) != c.code {
			t.Errorf("%v: %s %v, want %s %s", c.acts, d.StatusAt(r), err, c.want, c.code)
		}
	}
	if CheckRespond(StatusAwaitingTaxpayer, RoleTaxpayer) != nil || CheckRespond(StatusAwaitingTaxpayer, RoleOfficer) != nil ||
		ErrorCode(CheckRespond(StatusAwaitingTaxpayer, RoleSigner)) != EFORBIDDEN || ErrorCode(CheckRespond(StatusSubmitted, RoleTaxpayer)) != ECONFLICT {
		t.Error("respond")
	}
}

func TestCaseTypeForms(t *testing.T) {
	reg, _ := CaseTypeByName(CaseVehicleRegistration)
	today := d("2026-05-08")
	good := `{"vin":"wvwzzzauzhw123456","plate":"tm-01-ana","category":"car","engine_cc":1598,"emission_class":"euro6","propulsion":"combustion","acquired_on":"2026-03-10","acquisition_document":"sale_contract"}`
	out, err := reg.ParseData(json.RawMessage(good), today)
	if err != nil {
		t.Fatal(err)
	}
	var v VehicleRegistration
	_ = json.Unmarshal(out, &v)
	if v.VIN != "WVWZZZAUZHW123456" || v.Plate != "TM01ANA" {
		t.Fatalf("not normalised: %s", out)
	}
	if m := reg.MissingDocuments(out, []string{"owner_id"}); len(m) != 2 {
		t.Fatalf("missing %v", m)
	}
	for _, c := range []struct{ body, field string }{
		{`{"vin":"WVWZZZAUZHW12345O","plate":"TM01ANA","category":"car","engine_cc":1598,"emission_class":"euro6","acquired_on":"2026-03-10","acquisition_document":"invoice"}`, "data.vin"},
		{`{"vin":"WVWZZZAUZHW123456","plate":"TM01ANA","category":"car","emission_class":"euro6","acquired_on":"2026-03-10","acquisition_document":"invoice"}`, "data.engine_cc"},
		{`{"vin":"WVWZZZAUZHW123456","plate":"TM01ANA","category":"car","engine_cc":1598,"emission_class":"euro6","propulsion":"hybrid","acquired_on":"2026-03-10","acquisition_document":"invoice"}`, "data.co2_g_km"},
		{`{"vin":"WVWZZZAUZHW123456","plate":"TM01ANA","category":"truck","engine_cc":1598,"emission_class":"euro6","acquired_on":"2026-03-10","acquisition_document":"invoice"}`, "data.max_mass_kg"},
		{`{"vin":"WVWZZZAUZHW123456","plate":"TM01ANA","category":"car","engine_cc":1598,"emission_class":"euro6","acquired_on":"2026-06-10","acquisition_document":"invoice"}`, "data.acquired_on"},
		{`{"vin":"WVWZZZAUZHW123456","plate":"TM01ANA","category":"car","engine_cc":1598,"emission_class":"euro6","acquired_on":"2026-03-10","acquisition_document":"gift"}`, "data.acquisition_document"},
		{`{"vin":"WVWZZZAUZHW123456","colour":"red"}`, "data.colour"},
	} {
		_, err := reg.ParseData(json.RawMessage(c.body), today)
		e, ok := err.(*Error)
		if !ok || e.Code != EINVALID || e.Fields[0].Field != c.field {
			t.Errorf("%s: %v", c.field, err)
		}
	}
	// A heavy vehicle needs the suspension certificate.
	heavy := `{"vin":"WVWZZZAUZHW123456","plate":"TM01ANA","category":"truck","max_mass_kg":18000,"axles":2,"acquired_on":"2026-03-10","acquisition_document":"invoice"}`
	out, err = reg.ParseData(json.RawMessage(heavy), today)
	if err != nil {
		t.Fatal(err)
	}
	if m := reg.MissingDocuments(out, []string{"owner_id", "vehicle_identity_card", "acquisition_document"}); len(m) != 1 || m[0] != "suspension_certificate" {
		t.Fatalf("heavy: %v", m)
	}
	pet, _ := CaseTypeByName(CasePetition)
	if _, err := pet.ParseData(json.RawMessage(`{"subject":"Zgomot"}`), today); err == nil {
		t.Fatal("petition without body accepted")
	}
	if out, err := pet.ParseData(json.RawMessage(`{"subject":" Zgomot ","body":"Vă rog..."}`), today); err != nil || string(out) != `{"body":"Vă rog...","subject":"Zgomot"}` {
		t.Fatalf("petition: %s %v", out, err)
	}
}

func TestDocumentContentType(t *testing.T) {
	for in, want := range map[string]string{"%PDF-1.7\n": "application/pdf", "\xFF\xD8\xFF\xE0": "image/jpeg", "\x89PNG\r\n\x1a\n": "image/png",
		"GIF89a": "", "<html>": "", "": "", "%PD": ""} {
		if got := DocumentContentType([]byte(in)); got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
}

func TestSLAActions(t *testing.T) {
	for _, c := range []struct {
		state                          string
		escalated, breached            bool
		wantEscalate, wantRecordBreach bool
	}{
		{SLAOnTrack, false, false, false, false},
		{SLAPaused, false, false, false, false},
		{SLAAtRisk, false, false, true, false},
		{SLAAtRisk, true, false, false, false},
		{SLABreached, false, false, true, true},
		{SLABreached, true, false, false, true},
		{SLABreached, false, true, true, false},
		{SLABreached, true, true, false, false},
	} {
		e, b := SLAActions(SLA{State: c.state}, c.escalated, c.breached)
		if e != c.wantEscalate || b != c.wantRecordBreach {
			t.Errorf("%s (escalated %v, breached %v): escalate %v, breach %v; want %v, %v", c.state, c.escalated, c.breached, e, b, c.wantEscalate, c.wantRecordBreach)
		}
	}
}

func TestEndPauses(t *testing.T) {
	in := []Pause{{From: d("2026-05-04"), To: dp("2026-05-06")}, {From: d("2026-05-11")}}
	got := EndPauses(in, d("2026-05-14"))
	want := []Pause{{From: d("2026-05-04"), To: dp("2026-05-06")}, {From: d("2026-05-11"), To: dp("2026-05-14")}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pauses = %+v, want %+v", got, want)
	}
	if in[1].To != nil {
		t.Fatal("EndPauses changed its argument")
	}
	if got := EndPauses(nil, d("2026-05-14")); len(got) != 0 {
		t.Fatalf("no pauses: %+v", got)
	}
}

// TestStepDue: a step's own term counts from the day it opened and moves by
// the taxpayer's waits since then, not by those before.
func TestStepDue(t *testing.T) {
	cal := calendar.MustNew(nil)
	d := civil.MustParse
	p := func(from, to string) Pause {
		if to == "" {
			return Pause{From: d(from)}
		}
		x := d(to)
		return Pause{From: d(from), To: &x}
	}
	for _, tc := range []struct {
		name   string
		opened string
		pauses []Pause
		today  string
		want   string
	}{
		{"no pause", "2026-05-08", nil, "2026-05-08", "2026-05-12"},
		{"a pause on the step", "2026-05-08", []Pause{p("2026-05-08", "2026-05-13")}, "2026-05-13", "2026-05-15"},
		{"still waiting", "2026-05-08", []Pause{p("2026-05-08", "")}, "2026-05-11", "2026-05-13"},
		{"a pause before the step opened", "2026-05-13", []Pause{p("2026-05-08", "2026-05-12")}, "2026-05-13", "2026-05-15"},
	} {
		if got := StepDue(cal, d(tc.opened), 2, tc.pauses, d(tc.today)); got.String() != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
