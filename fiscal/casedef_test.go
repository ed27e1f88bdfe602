package fiscal

import (
	"encoding/json"
	"strings"
	"testing"
)

// MarketStallPermit is the contract's example definition.
const marketStallPermit = `{"type": "market_stall_permit", "title": "Autorizație de comercializare", "title_en": "Market stall permit",
 "sla_working_days": 5,
 "form": {"fields": [{"name": "location", "kind": "string", "required": true, "max_len": 200},
                     {"name": "from", "kind": "date", "required": true},
                     {"name": "stalls", "kind": "int", "required": true, "min": 1, "max": 5},
                     {"name": "goods", "kind": "enum", "options": ["flowers", "martisoare", "crafts"]}]},
 "documents": [{"kind": "owner_id", "title": "Actul de identitate", "required": true}],
 "steps": [{"name": "review", "roles": ["officer"], "decisions": ["approve", "reject", "request_info"]},
           {"name": "opinions", "parallel": [{"name": "urbanism", "roles": ["officer"]},
                                             {"name": "police", "roles": ["officer"]}], "quorum": "all"},
           {"name": "sign", "roles": ["signer"], "decisions": ["approve", "reject"],
            "distinct_from": ["review", "opinions"]}],
 "escalations": [{"step": "review", "after_working_days": 2, "action": "notify"}]}`

func mustDef(t *testing.T, s string) *CaseDefinition {
	t.Helper()
	d, err := ParseDefinition(json.RawMessage(s))
	if err != nil {
		t.Fatalf("definition refused: %v %+v", err, err.(*Error).Fields)
	}
	return d
}

// edit returns the contract's example changed by f.
func edit(t *testing.T, f func(m map[string]any)) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(marketStallPermit), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, _ := json.Marshal(m)
	return string(b)
}

func steps(m map[string]any) []any { return m["steps"].([]any) }
func step(m map[string]any, i int) map[string]any {
	return steps(m)[i].(map[string]any)
}

func TestCheckDefinition(t *testing.T) {
	mustDef(t, marketStallPermit)
	cases := []struct {
		name, field, msg string
		f                func(m map[string]any)
	}{
		{"unknown role", "steps[0].roles[0]", "unknown role", func(m map[string]any) { step(m, 0)["roles"] = []any{"mayor"} }},
		{"taxpayer role", "steps[2].roles[0]", "unknown role", func(m map[string]any) { step(m, 2)["roles"] = []any{"taxpayer"} }},
		{"nobody can take", "steps[0].roles", "nobody can take", func(m map[string]any) { delete(step(m, 0), "roles") }},
		{"branch nobody", "steps[1].parallel[1].roles", "nobody can take", func(m map[string]any) {
			delete(step(m, 1)["parallel"].([]any)[1].(map[string]any), "roles")
		}},
		{"unreachable", "steps[2]", "unreachable", func(m map[string]any) {
			step(m, 1)["next"] = map[string]any{"approve": "approved"}
		}},
		{"loop without exit", "steps[1]", "loop without exit", func(m map[string]any) {
			step(m, 1)["next"] = map[string]any{"approve": "review", "reject": "review"}
			step(m, 0)["next"] = map[string]any{"reject": "opinions"}
		}},
		{"no approval", "steps", "no route leads to approval", func(m map[string]any) {
			step(m, 2)["next"] = map[string]any{"approve": "rejected"}
		}},
		{"only request_info", "steps[0].decisions", "never complete", func(m map[string]any) {
			step(m, 0)["decisions"] = []any{"request_info"}
		}},
		{"distinct unknown", "steps[2].distinct_from[1]", "unknown step", func(m map[string]any) {
			step(m, 2)["distinct_from"] = []any{"review", "opinion"}
		}},
		{"distinct self", "steps[2].distinct_from[0]", "itself", func(m map[string]any) { step(m, 2)["distinct_from"] = []any{"sign"} }},
		{"bad quorum", "steps[1].quorum", "bad quorum", func(m map[string]any) { step(m, 1)["quorum"] = "most" }},
		{"n too big", "steps[1].n", "bad quorum", func(m map[string]any) { step(m, 1)["quorum"], step(m, 1)["n"] = "n_of_m", 3 }},
		{"quorum on desk", "steps[0].quorum", "bad quorum", func(m map[string]any) { step(m, 0)["quorum"] = "all" }},
		{"next unknown", "steps[0].next.approve", "unknown step", func(m map[string]any) { step(m, 0)["next"] = map[string]any{"approve": "nowhere"} }},
		{"deem not authorization", "escalations[0].action", "authorization", func(m map[string]any) {
			m["escalations"] = []any{map[string]any{"step": "review", "after_working_days": 2, "action": "deem", "decision": "approve"}}
		}},
		{"escalation step", "escalations[0].step", "unknown step", func(m map[string]any) {
			m["escalations"] = []any{map[string]any{"step": "x", "after_working_days": 2, "action": "notify"}}
		}},
		{"reassign without role", "escalations[0].to_role", "reassign", func(m map[string]any) {
			m["escalations"] = []any{map[string]any{"step": "review", "after_working_days": 2, "action": "reassign"}}
		}},
		{"int min over max", "form.fields[2].max", "below min", func(m map[string]any) {
			m["form"].(map[string]any)["fields"].([]any)[2].(map[string]any)["min"] = 9
		}},
		{"enum without options", "form.fields[3].options", "enum needs options", func(m map[string]any) {
			delete(m["form"].(map[string]any)["fields"].([]any)[3].(map[string]any), "options")
		}},
		{"required_if unknown", "form.fields[0].required_if.field", "another field", func(m map[string]any) {
			m["form"].(map[string]any)["fields"].([]any)[0].(map[string]any)["required_if"] = map[string]any{"field": "nope", "equals": "x"}
		}},
		{"shipped type without its effect", "effect", "keeps its effect", func(m map[string]any) { m["type"] = "petition" }},
		{"shipped type with another effect", "effect", "keeps its effect", func(m map[string]any) {
			m["type"], m["effect"] = "petition", "fiscal_certificate"
		}},
		{"unknown effect", "effect", "not an effect of the service", func(m map[string]any) { m["effect"] = "enter_castle" }},
		{"effect with its own form", "form.fields", "effect's form", func(m map[string]any) { m["effect"] = "petition" }},
		{"effect with its own documents", "documents", "effect's documents", func(m map[string]any) { m["effect"] = "petition" }},
		{"step status", "steps[0].status", "submitted or reviewed", func(m map[string]any) { step(m, 0)["status"] = "approved" }},
		{"duplicate step", "steps[2].name", "another step", func(m map[string]any) { step(m, 2)["name"] = "review" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseDefinition(json.RawMessage(edit(t, c.f)))
			var e *Error
			if err == nil || ErrorCode(err) != EINVALID {
				t.Fatalf("want EINVALID, got %v", err)
			}
			e = err.(*Error)
			for _, f := range e.Fields {
				if f.Field == c.field && strings.Contains(f.Message, c.msg) {
					return
				}
			}
			t.Fatalf("want %s: %q among %+v", c.field, c.msg, e.Fields)
		})
	}
	// A loop with an exit is fine; deem on an authorization is fine.
	mustDef(t, edit(t, func(m map[string]any) {
		step(m, 2)["next"] = map[string]any{"reject": "review"}
		m["authorization"] = true
		m["escalations"] = []any{map[string]any{"step": "review", "after_working_days": 2, "action": "deem", "decision": "approve", "warn_working_days": 1}}
	}))
	if _, err := ParseDefinition(json.RawMessage(`{"type":"x_y_z","unknown":1}`)); ErrorCode(err) != EINVALID {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestParseForm(t *testing.T) {
	d := mustDef(t, edit(t, func(m map[string]any) {
		f := m["form"].(map[string]any)["fields"].([]any)
		f = append(f,
			map[string]any{"name": "cnp", "kind": "cnp"},
			map[string]any{"name": "iban", "kind": "iban"},
			map[string]any{"name": "area", "kind": "decimal", "min": "0.5", "max": "100"},
			map[string]any{"name": "note", "kind": "text", "required_if": map[string]any{"field": "goods", "equals": "crafts"}})
		m["form"].(map[string]any)["fields"] = f
	}))
	ok := `{"location":" Piața Victoriei ","from":"2026-12-10","stalls":2,"goods":"flowers","area":"12.50"}`
	out, errs := d.ParseForm(json.RawMessage(ok))
	if errs != nil {
		t.Fatalf("valid data refused: %+v", errs)
	}
	if string(out) != `{"area":"12.5","from":"2026-12-10","goods":"flowers","location":"Piața Victoriei","stalls":2}` {
		t.Fatalf("normalised: %s", out)
	}
	bad := []struct{ data, field, ro, en string }{
		{`{"from":"2026-12-10","stalls":2}`, "data.location", "obligatoriu", "is required"},
		{`{"location":"x","from":"10.12.2026","stalls":2}`, "data.from", "AAAA-LL-ZZ", "YYYY-MM-DD"},
		{`{"location":"x","from":"2026-12-10","stalls":6}`, "data.stalls", "cel mult 5", "at most 5"},
		{`{"location":"x","from":"2026-12-10","stalls":0}`, "data.stalls", "cel puțin 1", "at least 1"},
		{`{"location":"x","from":"2026-12-10","stalls":1.5}`, "data.stalls", "întreg", "whole number"},
		{`{"location":"x","from":"2026-12-10","stalls":1,"goods":"cars"}`, "data.goods", "una dintre", "one of"},
		{`{"location":"` + strings.Repeat("a", 201) + `","from":"2026-12-10","stalls":1}`, "data.location", "200", "at most 200"},
		{`{"location":"x","from":"2026-12-10","stalls":1,"cnp":"1234567890123"}`, "data.cnp", "CNP", "CNP"},
		{`{"location":"x","from":"2026-12-10","stalls":1,"iban":"RO00"}`, "data.iban", "IBAN", "IBAN"},
		{`{"location":"x","from":"2026-12-10","stalls":1,"area":"0.1"}`, "data.area", "cel puțin", "at least 0.5"},
		{`{"location":"x","from":"2026-12-10","stalls":1,"goods":"crafts"}`, "data.note", "obligatoriu", "is required"},
		{`{"location":"x","from":"2026-12-10","stalls":1,"other":1}`, "data.other", "nu este un câmp", "not a field"},
		{`[1]`, "data", "obiect", "object"},
	}
	for _, b := range bad {
		_, errs := d.ParseForm(json.RawMessage(b.data))
		found := false
		for _, e := range errs {
			found = found || (e.Field == b.field && strings.Contains(e.RO, b.ro) && strings.Contains(e.EN, b.en))
		}
		if !found {
			t.Errorf("%s: want %s %q/%q, got %+v", b.data, b.field, b.ro, b.en, errs)
		}
	}
}

func TestRouteMarketStall(t *testing.T) {
	d := mustDef(t, marketStallPermit)
	r := d.NewRoute()
	open := func() string {
		var s []string
		for _, o := range d.Open(r) {
			s = append(s, o.Step)
		}
		return strings.Join(s, ",")
	}
	take := func(step, dec string, who int64, role Role, code string) {
		t.Helper()
		err := d.Take(r, RouteAct{step, dec, who}, role)
		if ErrorCode(err) != code {
			t.Fatalf("%s %s by %d: want %q, got %v", step, dec, who, code, err)
		}
	}
	if open() != "review" {
		t.Fatalf("open: %s", open())
	}
	take("sign", "approve", 9, RoleSigner, ECONFLICT)      // not open
	take("review", "approve", 1, RoleSigner, EFORBIDDEN)   // wrong role
	take("review", "approve", 1, RoleTaxpayer, EFORBIDDEN) // taxpayer
	take("review", "maybe", 1, RoleOfficer, EINVALID)
	take("nope", "approve", 1, RoleOfficer, EINVALID)
	take("review", "request_info", 1, RoleOfficer, "")
	take("review", "approve", 1, RoleOfficer, "")
	if open() != "opinions.urbanism,opinions.police" {
		t.Fatalf("open: %s", open())
	}
	take("opinions.urbanism", "approve", 2, RoleOfficer, "")
	take("opinions.urbanism", "approve", 3, RoleOfficer, ECONFLICT) // taken
	take("opinions.police", "approve", 3, RoleOfficer, "")
	if open() != "sign" {
		t.Fatalf("open: %s", open())
	}
	// A person who took review or an opinion cannot sign (distinct_from);
	// roles come first, so an officer is forbidden.
	take("sign", "approve", 2, RoleOfficer, EFORBIDDEN)
	take("sign", "approve", 1, RoleSigner, ECONFLICT)
	take("sign", "approve", 3, RoleSigner, ECONFLICT)
	take("sign", "approve", 4, RoleSigner, "")
	if r.Outcome != StatusApproved || open() != "" {
		t.Fatalf("outcome %s open %s", r.Outcome, open())
	}
	// Replay gives the same route.
	acts := []RouteAct{{"review", "request_info", 1}, {"review", "approve", 1}, {"opinions.urbanism", "approve", 2}, {"opinions.police", "approve", 3}, {"sign", "approve", 4}}
	r2, err := d.Replay(acts)
	if err != nil || r2.Outcome != StatusApproved {
		t.Fatalf("replay: %v %v", err, r2)
	}
	if _, err := d.Replay(acts[2:]); ErrorCode(err) != EINTERNAL {
		t.Fatalf("replay out of order: %v", err)
	}
	if p := d.DryRun(); strings.Join(p.Steps, ",") != "review,opinions.urbanism,opinions.police,sign" || p.Outcome != StatusApproved {
		t.Fatalf("dry run: %+v", p)
	}
}

func TestRouteQuorumAndLoops(t *testing.T) {
	d := mustDef(t, edit(t, func(m map[string]any) {
		g := step(m, 1)
		g["parallel"] = append(g["parallel"].([]any), map[string]any{"name": "fire", "roles": []any{"officer"}})
		g["quorum"], g["n"] = "n_of_m", 2
		g["next"] = map[string]any{"reject": "review"}
		step(m, 2)["next"] = map[string]any{"reject": "review"}
	}))
	r, _ := d.Replay([]RouteAct{{"review", "approve", 1}, {"opinions.urbanism", "reject", 2}})
	if len(d.Open(r)) != 2 {
		t.Fatalf("after one reject of 2-of-3: %+v", d.Open(r))
	}
	r, _ = d.Replay([]RouteAct{{"review", "approve", 1}, {"opinions.urbanism", "reject", 2}, {"opinions.police", "approve", 3}, {"opinions.fire", "approve", 5}})
	if o := d.Open(r); len(o) != 1 || o[0].Step != "sign" || o[0].OpenedAfter != 3 {
		t.Fatalf("2 of 3 approve → sign: %+v", o)
	}
	// Two rejections make the quorum unreachable: back to review, which
	// reopens with fresh branches afterwards.
	r, _ = d.Replay([]RouteAct{{"review", "approve", 1}, {"opinions.urbanism", "reject", 2}, {"opinions.police", "reject", 3}})
	if o := d.Open(r); len(o) != 1 || o[0].Step != "review" {
		t.Fatalf("quorum unreachable → review: %+v", o)
	}
	if err := d.Take(r, RouteAct{"review", "approve", 1}, RoleOfficer); err != nil {
		t.Fatal(err)
	}
	if len(d.Open(r)) != 3 {
		t.Fatalf("branches reopen: %+v", d.Open(r))
	}
	// The signer's rejection loops back to review.
	r, _ = d.Replay([]RouteAct{{"review", "approve", 1}, {"opinions.urbanism", "approve", 2}, {"opinions.police", "approve", 3}, {"sign", "reject", 4}})
	if o := d.Open(r); r.Outcome != "" || o[0].Step != "review" {
		t.Fatalf("sign reject → review: %+v", o)
	}
}

func TestParseDec(t *testing.T) {
	for in, want := range map[string]string{"12.50": "12.5", "-0.0": "0", "007": "7", "0.5": "0.5", "-3.140": "-3.14", "10": "10", ".5": "", "1e3": "", "0.123456789": "", "1234567890123456": "", "": "", "1.": ""} {
		d, err := ParseDec(in)
		if (err != nil) != (want == "") || (err == nil && d.String() != want) {
			t.Errorf("%q: %q %v, want %q", in, d.String(), err, want)
		}
	}
	a, _ := ParseDec("2.5")
	b, _ := ParseDec("10")
	if a.Cmp(b) >= 0 || !b.IsInteger() || a.IsInteger() || b.Int64() != 10 {
		t.Fatal("compare")
	}
}
