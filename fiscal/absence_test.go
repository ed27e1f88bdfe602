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

// Chains of substitutes: ana (1), bob (2), cora (3), dan (4), eva (5),
// fane (6), gia (7). The week of 11-15 May 2026.
func chainLinks(spec ...string) []SubstitutionLink {
	var out []SubstitutionLink
	for i, s := range spec {
		// "1>2 on_behalf 05-11 05-15 [type]"
		var l SubstitutionLink
		var from, to, typ string
		fmt.Sscanf(s, "%d>%d %s %s %s %s", &l.Absent, &l.Substitute, &l.Mode, &from, &to, &typ)
		l.ID, l.From, l.To, l.CaseType = int64(i+1), civil.MustParse("2026-"+from), civil.MustParse("2026-"+to), typ
		out = append(out, l)
	}
	return out
}

func chainPath(chain []SubstitutionLink) string {
	if len(chain) == 0 {
		return ""
	}
	s := fmt.Sprint(chain[0].Absent)
	for _, l := range chain {
		s += fmt.Sprintf(">%d", l.Substitute)
	}
	return s
}

// TestSubstituteChain: an absent person's cases go to the first present
// person along the chain of substitutes in force for the case's type, or to
// the queue when the chain loops or is too long.
func TestSubstituteChain(t *testing.T) {
	day := civil.MustParse("2026-05-12")
	for _, tc := range []struct {
		name  string
		links []SubstitutionLink // the first is the absence starting
		typ   string
		path  string
		ok    bool
	}{
		{"the substitute is present", chainLinks("1>2 delegate 05-11 05-15"), "kiosk", "1>2", true},
		{"the substitute is absent too", chainLinks("1>2 delegate 05-11 05-15", "2>3 on_behalf 05-12 05-13"), "kiosk", "1>2>3", true},
		{"three links", chainLinks("1>2 delegate 05-11 05-15", "2>3 delegate 05-11 05-15", "3>4 delegate 05-01 05-31"), "kiosk", "1>2>3>4", true},
		{"the substitute's absence has not started", chainLinks("1>2 delegate 05-11 05-15", "2>3 delegate 05-13 05-15"), "kiosk", "1>2", true},
		{"the substitute's absence is over", chainLinks("1>2 delegate 05-11 05-15", "2>3 delegate 05-04 05-11"), "kiosk", "1>2", true},
		{"the substitute is away only for another type", chainLinks("1>2 delegate 05-11 05-15", "2>3 delegate 05-11 05-15 petition"), "kiosk", "1>2", true},
		{"the substitute is away for this type", chainLinks("1>2 delegate 05-11 05-15", "2>3 delegate 05-11 05-15 kiosk"), "kiosk", "1>2>3", true},
		{"two substitutions of the substitute: the first recorded", chainLinks("1>2 delegate 05-11 05-15", "2>4 delegate 05-11 05-15", "2>3 delegate 05-11 05-15"), "kiosk", "1>2>4", true},
		{"a loop back to the absent person", chainLinks("1>2 delegate 05-11 05-15", "2>1 delegate 05-11 05-15"), "kiosk", "1>2>1", false},
		{"a loop further on", chainLinks("1>2 delegate 05-11 05-15", "2>3 delegate 05-11 05-15", "3>2 delegate 05-11 05-15"), "kiosk", "1>2>3>2", false},
		{"five links reach someone present", chainLinks("1>2 delegate 05-11 05-15", "2>3 delegate 05-11 05-15", "3>4 delegate 05-11 05-15",
			"4>5 delegate 05-11 05-15", "5>6 delegate 05-11 05-15"), "kiosk", "1>2>3>4>5>6", true},
		{"six links are too many", chainLinks("1>2 delegate 05-11 05-15", "2>3 delegate 05-11 05-15", "3>4 delegate 05-11 05-15",
			"4>5 delegate 05-11 05-15", "5>6 delegate 05-11 05-15", "6>7 delegate 05-11 05-15"), "kiosk", "1>2>3>4>5>6", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chain, ok := SubstituteChain(tc.links[0], tc.links, tc.typ, day)
			if p := chainPath(chain); p != tc.path || ok != tc.ok {
				t.Fatalf("chain %s ok=%v, want %s ok=%v", p, ok, tc.path, tc.ok)
			}
		})
	}
}

// TestCovered: whom a member of staff may act for: direct substitutions and
// chains of them, all in force today for the case's type, nearest first,
// each with the mode of the absent person's own substitution.
func TestCovered(t *testing.T) {
	day := civil.MustParse("2026-05-12")
	for _, tc := range []struct {
		name  string
		actor int64
		links []SubstitutionLink
		typ   string
		want  string // absent:mode:path …
	}{
		{"nobody", 3, chainLinks("1>2 delegate 05-11 05-15"), "kiosk", "[]"},
		{"direct", 2, chainLinks("1>2 on_behalf 05-11 05-15"), "kiosk", "[1:on_behalf:1>2]"},
		{"a chain: the first link's mode", 3, chainLinks("1>2 on_behalf 05-11 05-15", "2>3 delegate 05-11 05-15"), "kiosk",
			"[2:delegate:2>3 1:on_behalf:1>2>3]"},
		{"a chain: delegate first", 3, chainLinks("1>2 delegate 05-11 05-15", "2>3 on_behalf 05-11 05-15"), "kiosk",
			"[2:on_behalf:2>3 1:delegate:1>2>3]"},
		{"a link not in force breaks the chain", 3, chainLinks("1>2 delegate 05-13 05-15", "2>3 delegate 05-11 05-15"), "kiosk", "[2:delegate:2>3]"},
		{"the middle link not in force", 3, chainLinks("1>2 delegate 05-11 05-15", "2>3 delegate 05-04 05-08"), "kiosk", "[]"},
		{"a link of another type breaks the chain", 3, chainLinks("1>2 delegate 05-11 05-15 petition", "2>3 delegate 05-11 05-15"), "kiosk", "[2:delegate:2>3]"},
		{"of that type it holds", 3, chainLinks("1>2 delegate 05-11 05-15 petition", "2>3 delegate 05-11 05-15"), "petition", "[2:delegate:2>3 1:delegate:1>2>3]"},
		{"a loop: never the actor", 1, chainLinks("1>2 delegate 05-11 05-15", "2>1 delegate 05-11 05-15"), "kiosk", "[2:delegate:2>1]"},
		{"nearest first, then as recorded", 4, chainLinks("1>2 delegate 05-11 05-15", "2>4 delegate 05-11 05-15", "3>4 on_behalf 05-11 05-15", "1>3 on_behalf 05-11 05-15"), "kiosk",
			"[2:delegate:2>4 3:on_behalf:3>4 1:delegate:1>2>4]"},
		{"five links away", 6, chainLinks("1>2 delegate 05-11 05-15", "2>3 delegate 05-11 05-15", "3>4 delegate 05-11 05-15",
			"4>5 delegate 05-11 05-15", "5>6 delegate 05-11 05-15"), "kiosk",
			"[5:delegate:5>6 4:delegate:4>5>6 3:delegate:3>4>5>6 2:delegate:2>3>4>5>6 1:delegate:1>2>3>4>5>6]"},
		{"six links away: too far", 7, chainLinks("1>2 delegate 05-11 05-15", "2>3 delegate 05-11 05-15", "3>4 delegate 05-11 05-15",
			"4>5 delegate 05-11 05-15", "5>6 delegate 05-11 05-15", "6>7 delegate 05-11 05-15"), "kiosk",
			"[6:delegate:6>7 5:delegate:5>6>7 4:delegate:4>5>6>7 3:delegate:3>4>5>6>7 2:delegate:2>3>4>5>6>7]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range Covered(tc.actor, tc.links, tc.typ, day) {
				if c.Chain[0].Absent != c.Absent || c.Chain[len(c.Chain)-1].Substitute != tc.actor {
					t.Fatalf("a chain from %d that does not reach the actor: %s", c.Absent, chainPath(c.Chain))
				}
				got = append(got, fmt.Sprintf("%d:%s:%s", c.Absent, c.Mode(), chainPath(c.Chain)))
			}
			if fmt.Sprint(got) != tc.want && !(len(got) == 0 && tc.want == "[]") {
				t.Fatalf("got %v, want %s", got, tc.want)
			}
		})
	}
}
