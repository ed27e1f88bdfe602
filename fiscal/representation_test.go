package fiscal

import (
	"encoding/json"
	"strings"
	"testing"

	"fiscald/internal/civil"
)

func TestRepresentationForm(t *testing.T) {
	typ, ok := CaseTypeByName(CaseRepresentation)
	if !ok {
		t.Fatal("representation is not a case type")
	}
	today := civil.New(2026, 5, 8)
	for _, c := range []struct {
		data, fields string
	}{
		{`{"cui":"RO18547290","role":"empowered"}`, ""},
		{`{"cui":"18547290","role":"administrator","valid_until":"2026-05-08"}`, ""},
		{`{"cui":"18547291","role":"empowered"}`, "data.cui"},
		{`{"role":"empowered"}`, "data.cui"},
		{`{"cui":"18547290","role":"owner"}`, "data.role"},
		{`{"cui":"18547290","role":"empowered","valid_until":"2026-05-07"}`, "data.valid_until"},
		{`{"cui":"18547290","role":"empowered","extra":1}`, "data.extra"},
	} {
		out, err := typ.ParseData(json.RawMessage(c.data), today)
		var got []string
		if e, ok := err.(*Error); ok {
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
		}
		if strings.Join(got, ",") != c.fields {
			t.Errorf("%s: fields %v, want %q (%v)", c.data, got, c.fields, err)
		}
		if c.fields == "" && !strings.Contains(string(out), `"cui":"18547290"`) {
			t.Errorf("%s: not normalised: %s", c.data, out)
		}
	}
	if got := typ.RequiredDocuments(json.RawMessage(`{"cui":"18547290","role":"administrator"}`)); strings.Join(got, ",") != "mandate,registry_extract" {
		t.Errorf("administrator documents %v", got)
	}
	if got := typ.RequiredDocuments(json.RawMessage(`{"cui":"18547290","role":"empowered"}`)); strings.Join(got, ",") != "mandate" {
		t.Errorf("empowered documents %v", got)
	}
}

func TestGrantRepresentation(t *testing.T) {
	typ, _ := CaseTypeByName(CaseRepresentation)
	today := civil.New(2026, 5, 8)
	company := &RegistryEntry{TaxpayerID: 7, Kind: "company", Name: "Construct Vest SRL"}
	data := json.RawMessage(`{"cui":"18547290","role":"empowered","valid_until":"2027-01-01"}`)
	ok := RepresentationState{Company: company, FilerID: 3, FilerAssurance: AssuranceVerified}
	for _, c := range []struct {
		name  string
		st    *RepresentationState
		data  json.RawMessage
		today civil.Date
		want  string // error code, or "" for the grant
	}{
		{"grant", &ok, data, today, ""},
		{"no company", &RepresentationState{FilerID: 3, FilerAssurance: AssuranceVerified}, data, today, ECONFLICT},
		{"linked already", &RepresentationState{Company: company, FilerID: 3, FilerAssurance: AssuranceVerified, ActiveLink: true}, data, today, ECONFLICT},
		{"no longer verified", &RepresentationState{Company: company, FilerID: 3, FilerAssurance: AssurancePassword}, data, today, ECONFLICT},
		{"mandate ended", &ok, data, civil.New(2027, 1, 2), ECONFLICT},
		{"itself", &RepresentationState{Company: &RegistryEntry{TaxpayerID: 1}, FilerID: 3, FilerAssurance: AssuranceVerified}, data, today, ECONFLICT},
		{"not read", nil, data, today, EINTERNAL},
	} {
		p, err := PlanApproval(ApprovalInput{Type: typ, TaxpayerID: 1, Data: c.data, Today: c.today, Representation: c.st})
		if ErrorCode(err) != c.want && !(c.want == "" && err == nil) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
			continue
		}
		if c.want == "" {
			g := p.Representation
			if g == nil || g.UserID != 3 || g.TaxpayerID != 7 || g.Role != "empowered" || g.ValidUntil == nil || *g.ValidUntil != civil.New(2027, 1, 1) {
				t.Errorf("grant %+v", g)
			}
		}
	}
	checks := AutomaticChecks(CheckInput{Type: typ, Data: data, Attachments: []string{"mandate"},
		Representation: &RepresentationState{Company: company, FilerID: 3, FilerAssurance: AssuranceVerified, ActiveLink: true}})
	var failed []string
	for _, ck := range checks {
		if !ck.OK {
			failed = append(failed, ck.Name)
		}
	}
	if strings.Join(failed, ",") != "no_active_link" || len(checks) != 5 {
		t.Errorf("checks %+v", checks)
	}
}

func TestRepresentationFiler(t *testing.T) {
	one := int64(1)
	for _, c := range []struct {
		name string
		a    Actor
		ok   bool
	}{
		{"verified person", Actor{Role: RoleTaxpayer, Assurance: AssuranceVerified, TaxpayerID: &one}, true},
		{"self-registered", Actor{Role: RoleTaxpayer, Assurance: AssuranceSelf}, false},
		{"password only", Actor{Role: RoleTaxpayer, Assurance: AssurancePassword}, false},
		{"acting for a company", Actor{Role: RoleTaxpayer, Assurance: AssuranceVerified, Representation: 4}, false},
		{"representation ended", Actor{Role: RoleTaxpayer, Assurance: AssuranceVerified, RepresentationEnded: true}, false},
		{"officer", Actor{Role: RoleOfficer}, false},
	} {
		err := CheckRepresentationFiler(&c.a)
		if (err == nil) != c.ok || (err != nil && ErrorCode(err) != EFORBIDDEN) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if !ActiveOn(false, nil, civil.New(2026, 1, 1)) || ActiveOn(true, nil, civil.New(2026, 1, 1)) {
		t.Error("ActiveOn without an end")
	}
	end := civil.New(2026, 1, 1)
	if !ActiveOn(false, &end, end) || ActiveOn(false, &end, civil.New(2026, 1, 2)) {
		t.Error("ActiveOn on the last day and after")
	}
}
