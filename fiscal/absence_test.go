package fiscal

import (
	"fmt"
	"testing"

	"fiscald/calc/calendar"
	"fiscald/internal/civil"
)

// absenceDef has a substitutable desk, a parallel group with one
// non-substitutable branch, a non-substitutable group and a
// non-substitutable signature.
const absenceDef = `{"type": "kiosk", "title": "Chioșc", "title_en": "Kiosk", "sla_working_days": 10,
 "steps": [{"name": "review", "roles": ["officer"]},
           {"name": "opinions", "parallel": [{"name": "urbanism", "roles": ["officer"], "substitutable": false},
                                             {"name": "police", "roles": ["officer"]}]},
           {"name": "audit", "substitutable": false, "parallel": [{"name": "legal", "roles": ["officer"]},
                                                                  {"name": "finance", "roles": ["officer", "signer"]}]},
           {"name": "sign", "roles": ["signer"], "substitutable": false}]}`

// TestAbsenceReassignment: which cases of an absent person go to the
// substitute and which return to the queue, by the steps open.
func TestAbsenceReassignment(t *testing.T) {
	d := mustDef(t, absenceDef)
	open := func(steps ...string) []OpenStep {
		var out []OpenStep
		for _, s := range steps {
			st, ok := d.Step(s)
			if !ok {
				t.Fatalf("no step %s", s)
			}
			out = append(out, OpenStep{Step: s, Roles: st.Roles})
		}
		return out
	}
	for _, tc := range []struct {
		name               string
		def                *CaseDefinition
		open               []OpenStep
		absent, substitute Role
		queue              bool
		takeable, kept     string
	}{
		{"built-in type", nil, nil, RoleOfficer, RoleOfficer, false, "[]", "[]"},
		{"substitutable desk", d, open("review"), RoleOfficer, RoleSigner, false, "[review]", "[]"},
		{"non-substitutable, substitute of the same role", d, open("opinions.urbanism"), RoleOfficer, RoleOfficer, false, "[opinions.urbanism]", "[]"},
		{"non-substitutable, substitute of another role", d, open("opinions.urbanism"), RoleOfficer, RoleSigner, true, "[]", "[opinions.urbanism]"},
		{"parallel: one branch takeable, one kept", d, open("opinions.urbanism", "opinions.police"), RoleOfficer, RoleSigner, false, "[opinions.police]", "[opinions.urbanism]"},
		{"the group's flag holds for its branches", d, open("audit.legal"), RoleOfficer, RoleSigner, true, "[]", "[audit.legal]"},
		{"a branch of the group the substitute takes in their own role", d, open("audit.legal", "audit.finance"), RoleOfficer, RoleSigner, false, "[audit.finance]", "[audit.legal]"},
		{"a step neither takes: the file follows its officer", d, open("sign"), RoleOfficer, RoleOfficer, false, "[]", "[]"},
		{"the absent signer's non-substitutable signature", d, open("sign"), RoleSigner, RoleOfficer, true, "[]", "[sign]"},
		{"signer for signer", d, open("sign"), RoleSigner, RoleSigner, false, "[sign]", "[]"},
		{"decided meanwhile: nothing open", d, []OpenStep{}, RoleOfficer, RoleSigner, false, "[]", "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := AbsenceReassignment(tc.def, tc.open, tc.absent, tc.substitute)
			if v.Queue != tc.queue || fmt.Sprint(v.Takeable) != tc.takeable || fmt.Sprint(v.Kept) != tc.kept {
				t.Fatalf("got queue=%v takeable=%v kept=%v", v.Queue, v.Takeable, v.Kept)
			}
		})
	}
	if d.StepSubstitutable("review") != true || d.StepSubstitutable("opinions.police") != true ||
		d.StepSubstitutable("opinions.urbanism") || d.StepSubstitutable("audit.finance") || d.StepSubstitutable("sign") {
		t.Fatal("StepSubstitutable")
	}
}

// TestAbsenceOn: an absence moves cases from its first day while a working
// day of it remains; one that is over or only covers days off moves none.
func TestAbsenceOn(t *testing.T) {
	cal := calendar.MustNew(nil)
	d := civil.MustParse
	for _, tc := range []struct {
		today, from, to string
		want            AbsenceState
	}{
		{"2026-05-08", "2026-05-11", "2026-05-15", AbsencePending}, // Friday before
		{"2026-05-11", "2026-05-11", "2026-05-15", AbsenceDue},     // its first day
		{"2026-05-13", "2026-05-11", "2026-05-15", AbsenceDue},     // recorded late
		{"2026-05-09", "2026-05-09", "2026-05-12", AbsenceDue},     // starts on a Saturday: moves then, ready for Monday
		{"2026-05-16", "2026-05-11", "2026-05-15", AbsenceLapsed},  // over
		{"2026-05-09", "2026-05-09", "2026-05-10", AbsenceLapsed},  // a weekend: nobody works
		{"2026-05-16", "2026-05-11", "2026-05-17", AbsenceLapsed},  // only its weekend is left
		{"2026-06-01", "2026-06-01", "2026-06-01", AbsenceLapsed},  // Whit Monday (Rusalii), a legal holiday
	} {
		if got := AbsenceOn(cal, d(tc.today), d(tc.from), d(tc.to)); got != tc.want {
			t.Errorf("today %s, absent %s–%s: %v, want %v", tc.today, tc.from, tc.to, got, tc.want)
		}
	}
}
