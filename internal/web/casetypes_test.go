package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// marketStallPermit is the contract's example ("Request types as data").
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

// staffUser creates a member of staff and returns their id and token.
func (e *env) staffUser(username string, role fiscal.Role) (int64, string) {
	e.t.Helper()
	u, err := e.db.CreateStaff(context.Background(), e.muni.ID, username, "Zmeu-albastru-cu-coada-42", role, username)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID, e.login(username, "Zmeu-albastru-cu-coada-42")
}

func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }

func openSteps(r resp) string {
	var out []string
	list, _ := r.Body["open_steps"].([]any)
	for _, o := range list {
		m := o.(map[string]any)
		out = append(out, fmt.Sprintf("%s%v@%v", m["step"], m["roles"], m["due_on"]))
	}
	return strings.Join(out, " ")
}

func act(step, decision string) map[string]any {
	return map[string]any{"step": step, "decision": decision, "comment": "ok " + step}
}

// TestPublishedCaseTypeEndToEnd is the acceptance: the contract's
// market_stall_permit is published, filed by a taxpayer, reviewed, given
// both parallel opinions by two other officers and signed by a signer;
// wrong roles are 403, a step not open 409, and the chain of signed steps
// verifies.
func TestPublishedCaseTypeEndToEnd(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		admin, officer1, signer := e.tokens["admin"], e.tokens["officer"], e.tokens["signer"]
		_, officer2 := e.staffUser("officer2", fiscal.RoleOfficer)
		_, officer3 := e.staffUser("officer3", fiscal.RoleOfficer)
		anaID, ana := e.taxpayer("ana", "2850615350041")

		// Who may publish.
		if r := e.do("POST", "/api/v1/admin/case-types", "", rawJSON(marketStallPermit)); r.Status != 401 {
			t.Fatalf("anonymous publish: %d", r.Status)
		}
		for _, tok := range []string{officer1, signer, ana} {
			if r := e.do("POST", "/api/v1/admin/case-types", tok, rawJSON(marketStallPermit)); r.Status != 403 {
				t.Fatalf("non-admin publish: %d %s", r.Status, r.Raw)
			}
		}
		// A definition that cannot complete is 422 naming the problem.
		bad := strings.Replace(marketStallPermit, `"roles": ["signer"]`, `"roles": ["mayor"]`, 1)
		if r := e.do("POST", "/api/v1/admin/case-types", admin, rawJSON(bad)); r.Status != 422 || !strings.Contains(string(r.Raw), `steps[2].roles[0]`) {
			t.Fatalf("unknown role: %d %s", r.Status, r.Raw)
		}
		unreachable := strings.Replace(marketStallPermit, `"quorum": "all"}`, `"quorum": "all", "next": {"approve": "approved"}}`, 1)
		if r := e.do("POST", "/api/v1/admin/case-types", admin, rawJSON(unreachable)); r.Status != 422 || !strings.Contains(string(r.Raw), `unreachable`) {
			t.Fatalf("unreachable step: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/v1/admin/case-types", admin, `{"type":`); r.Status != 400 {
			t.Fatalf("malformed: %d %s", r.Status, r.Raw)
		}
		// The dry run plans the route and publishes nothing.
		r := e.do("POST", "/api/v1/admin/case-types/dry-run", admin, rawJSON(marketStallPermit))
		route, _ := r.Body["route"].(map[string]any)
		if r.Status != 200 || fmt.Sprint(route["steps"]) != "[review opinions.urbanism opinions.police sign]" || route["outcome"] != "approved" {
			t.Fatalf("dry run: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/v1/admin/case-types?dry_run=true", admin, rawJSON(marketStallPermit)); r.Status != 200 || num(r.Body["version"]) != 1 {
			t.Fatalf("dry run (query): %d %s", r.Status, r.Raw)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM case_definitions`); n != 0 {
			t.Fatalf("the dry run published %d", n)
		}
		r = e.do("POST", "/api/v1/admin/case-types", admin, rawJSON(marketStallPermit))
		if r.Status != 201 || r.Body["type"] != "market_stall_permit" || num(r.Body["version"]) != 1 {
			t.Fatalf("publish: %d %s", r.Status, r.Raw)
		}
		// Any user (and the public) sees the form with its version.
		r = e.do("GET", "/api/v1/case-types", ana, nil)
		if !strings.Contains(string(r.Raw), `"type":"market_stall_permit","title":"Autorizație de comercializare","title_en":"Market stall permit","version":1`) ||
			!strings.Contains(string(r.Raw), `"name":"stalls","kind":"int"`) || !strings.Contains(string(r.Raw), `"type":"vehicle_registration"`) {
			t.Fatalf("case types: %d %s", r.Status, r.Raw)
		}

		// The taxpayer files a case; the form is checked.
		body := map[string]any{"type": "market_stall_permit", "taxpayer_id": anaID,
			"data": map[string]any{"location": "Piața 700", "from": "2026-06-01", "stalls": 2, "goods": "flowers"}}
		badBody := map[string]any{"type": "market_stall_permit", "taxpayer_id": anaID,
			"data": map[string]any{"location": "Piața 700", "from": "2026-06-01", "stalls": 9}}
		if r := e.do("POST", "/api/v1/cases", ana, badBody); r.Status != 422 || fmt.Sprint(fieldNames(r)) != "[data.stalls]" {
			t.Fatalf("bad form: %d %s", r.Status, r.Raw)
		}
		r = e.do("POST", "/api/v1/cases", ana, body)
		if r.Status != 201 || r.Body["status"] != "submitted" {
			t.Fatalf("intake: %d %s", r.Status, r.Raw)
		}
		id := num(r.Body["id"])
		if up := e.upload(id, ana, "owner_id", "ci.pdf", pdfDoc); up.Status != 201 {
			t.Fatalf("upload: %d %s", up.Status, up.Raw)
		}
		r = e.do("GET", casePath(id, ""), officer1, nil)
		if num(r.Body["version"]) != 1 || openSteps(r) != "review[officer]@2026-05-15" {
			t.Fatalf("case: %s / %s", openSteps(r), r.Raw)
		}

		// Roles come from the session: a taxpayer and a wrong role are 403;
		// a step not open is 409; an unknown step 422.
		if r := e.do("POST", casePath(id, "/act"), ana, act("review", "approve")); r.Status != 403 {
			t.Fatalf("taxpayer act: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), signer, act("review", "approve")); r.Status != 403 {
			t.Fatalf("signer takes review: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), officer1, act("opinions.urbanism", "approve")); r.Status != 409 {
			t.Fatalf("step not open: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), officer1, act("nope", "approve")); r.Status != 422 || fieldNames(r)[0] != "step" {
			t.Fatalf("unknown step: %d %s", r.Status, r.Raw)
		}
		r = e.do("POST", casePath(id, "/act"), officer1, act("review", "approve"))
		if r.Status != 200 || r.Body["status"] != "submitted" ||
			openSteps(r) != "opinions.urbanism[officer]@2026-05-15 opinions.police[officer]@2026-05-15" {
			t.Fatalf("review: %d %s / %s", r.Status, openSteps(r), r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), officer2, act("opinions.urbanism", "approve")); r.Status != 200 || openSteps(r) != "opinions.police[officer]@2026-05-15" {
			t.Fatalf("urbanism: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), officer3, act("opinions.urbanism", "approve")); r.Status != 409 {
			t.Fatalf("urbanism twice: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), officer3, act("opinions.police", "approve")); r.Status != 200 || openSteps(r) != "sign[signer]@2026-05-15" {
			t.Fatalf("police: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), officer3, act("sign", "approve")); r.Status != 403 {
			t.Fatalf("officer signs: %d %s", r.Status, r.Raw)
		}
		r = e.do("POST", casePath(id, "/act"), signer, act("sign", "approve"))
		if r.Status != 200 || r.Body["status"] != "approved" || openSteps(r) != "" {
			t.Fatalf("sign: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), signer, act("sign", "approve")); r.Status != 409 {
			t.Fatalf("decided case: %d %s", r.Status, r.Raw)
		}
		r = e.do("GET", casePath(id, "/verify"), ana, nil)
		if r.Status != 200 || r.Body["valid"] != true || num(r.Body["steps"]) != 5 {
			t.Fatalf("verify: %d %s", r.Status, r.Raw)
		}
		r = e.do("GET", casePath(id, ""), ana, nil)
		steps := r.Body["steps"].([]any)
		if s := steps[2].(map[string]any); s["step"] != "opinions.urbanism" || s["actor"] != "officer2" || s["action"] != "act" {
			t.Fatalf("step 3: %v", s)
		}
		// Tampering with an act breaks the chain.
		if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE case_steps SET step = 'opinions.police' WHERE case_id = ? AND seq = 3`), id); err != nil {
			t.Fatal(err)
		}
		if r := e.do("GET", casePath(id, "/verify"), officer1, nil); r.Body["valid"] != false || num(r.Body["first_invalid_step"]) != 3 {
			t.Fatalf("tampered: %s", r.Raw)
		}
	})
}

// streetEvent separates its steps with distinct_from and loops back to
// review when the signer refuses.
const streetEvent = `{"type": "street_event", "title": "Eveniment stradal", "title_en": "Street event", "sla_working_days": 10,
 "form": {"fields": [{"name": "place", "kind": "string", "required": true}]},
 "steps": [{"name": "review", "roles": ["officer"], "decisions": ["approve", "reject", "request_info"]},
           {"name": "check", "roles": ["officer"], "distinct_from": ["review"], "sla_working_days": 2},
           {"name": "sign", "roles": ["signer"], "substitutable": false, "next": {"reject": "review"}}]}`

// TestPublishedCaseTypeFourEyesAndBuiltInEndpoints: the same officer on
// two steps distinct_from separates is 409; request_info pauses the case
// until the taxpayer answers; review and sign take the steps of those
// names; a version is counted per type.
func TestPublishedCaseTypeFourEyesAndBuiltInEndpoints(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		admin, officer1, signer := e.tokens["admin"], e.tokens["officer"], e.tokens["signer"]
		_, officer2 := e.staffUser("officer2", fiscal.RoleOfficer)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		for v := 1; v <= 2; v++ {
			if r := e.do("POST", "/api/v1/admin/case-types", admin, rawJSON(streetEvent)); r.Status != 201 || num(r.Body["version"]) != int64(v) {
				t.Fatalf("publish %d: %d %s", v, r.Status, r.Raw)
			}
		}
		r := e.do("POST", "/api/v1/cases", ana, map[string]any{"type": "street_event", "taxpayer_id": anaID, "data": map[string]any{"place": "Piața Unirii"}})
		if r.Status != 201 {
			t.Fatalf("intake: %d %s", r.Status, r.Raw)
		}
		id := num(r.Body["id"])
		// request_info through the review endpoint pauses the case.
		r = e.do("POST", casePath(id, "/review"), officer1, map[string]any{"decision": "request_info", "comment": "which day?"})
		if r.Status != 200 || r.Body["status"] != "awaiting_taxpayer" || num(r.Body["version"]) != 2 {
			t.Fatalf("request_info: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), officer1, act("review", "approve")); r.Status != 409 {
			t.Fatalf("act while paused: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/respond"), ana, map[string]any{"comment": "Sunday"}); r.Status != 200 || r.Body["status"] != "submitted" {
			t.Fatalf("respond: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/review"), officer1, map[string]any{"decision": "approve"}); r.Status != 200 || openSteps(r) != "check[officer]@2026-05-12" {
			t.Fatalf("review: %d %s / %s", r.Status, openSteps(r), r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), officer1, act("check", "approve")); r.Status != 409 || !strings.Contains(string(r.Raw), "four eyes") {
			t.Fatalf("distinct_from: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), officer2, act("check", "approve")); r.Status != 200 {
			t.Fatalf("check: %d %s", r.Status, r.Raw)
		}
		// The signer refuses: back to review. distinct_from works both
		// ways and over the whole history: officer2, who checked, may not
		// review; officer1 reviews again and still may not check.
		if r := e.do("POST", casePath(id, "/sign"), signer, map[string]any{"decision": "reject", "comment": "date"}); r.Status != 200 || r.Body["status"] != "submitted" || !strings.HasPrefix(openSteps(r), "review") {
			t.Fatalf("sign reject loops: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/review"), officer2, map[string]any{"decision": "approve"}); r.Status != 409 {
			t.Fatalf("review by the checker: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/review"), officer1, map[string]any{"decision": "approve"}); r.Status != 200 {
			t.Fatalf("review again: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), officer1, act("check", "approve")); r.Status != 409 {
			t.Fatalf("distinct_from over the whole history: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), officer2, act("check", "approve")); r.Status != 200 {
			t.Fatalf("check again: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/sign"), signer, map[string]any{"decision": "approve"}); r.Status != 200 || r.Body["status"] != "approved" {
			t.Fatalf("sign: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", casePath(id, "/verify"), officer1, nil); r.Body["valid"] != true {
			t.Fatalf("verify: %s", r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), officer1, map[string]any{"step": "review"}); r.Status != 422 {
			t.Fatalf("act without decision: %d %s", r.Status, r.Raw)
		}
		// A shipped type runs on its definition too: act takes its review
		// step as review does, and its sign step keeps the reviewer out.
		r = e.do("POST", "/api/v1/cases", ana, map[string]any{"type": "petition", "taxpayer_id": anaID, "data": map[string]any{"subject": "Bănci", "body": "Mai multe bănci"}})
		if r.Status != 201 {
			t.Fatalf("petition: %d %s", r.Status, r.Raw)
		}
		pid := num(r.Body["id"])
		if a := e.do("POST", casePath(pid, "/act"), officer1, act("review", "approve")); a.Status != 200 || a.Body["status"] != "reviewed" || num(a.Body["version"]) != 1 || openSteps(a) != "sign[signer]@2026-05-15" {
			t.Fatalf("act on a shipped type's review: %d %s", a.Status, a.Raw)
		}
		if a := e.do("POST", casePath(pid, "/review"), officer1, map[string]any{"decision": "approve"}); a.Status != 409 {
			t.Fatalf("review twice: %d %s", a.Status, a.Raw)
		}
		if a := e.do("POST", casePath(pid, "/sign"), signer, map[string]any{"decision": "approve"}); a.Status != 200 || a.Body["status"] != "approved" {
			t.Fatalf("sign a shipped type: %d %s", a.Status, a.Raw)
		}
	})
}

// TestPublishedCaseTypeVersions: a case runs on the version it was filed
// under; a new version changes nothing for it; an admin moves open cases
// with an explicit step map, checked, audited per case.
func TestPublishedCaseTypeVersions(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		admin, officer1, signer := e.tokens["admin"], e.tokens["officer"], e.tokens["signer"]
		_, officer2 := e.staffUser("officer2", fiscal.RoleOfficer)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		file := func() int64 {
			r := e.do("POST", "/api/v1/cases", ana, map[string]any{"type": "street_event", "taxpayer_id": anaID, "data": map[string]any{"place": "Piața Unirii"}})
			if r.Status != 201 {
				t.Fatalf("intake: %d %s", r.Status, r.Raw)
			}
			return num(r.Body["id"])
		}
		step := func(id int64, tok, step, want string) {
			t.Helper()
			r := e.do("POST", casePath(id, "/act"), tok, act(step, "approve"))
			if r.Status != 200 || !strings.HasPrefix(openSteps(r)+string(r.Body["status"].(string)), want) {
				t.Fatalf("%s on %d: %d %s / %s", step, id, r.Status, openSteps(r), r.Raw)
			}
		}
		if r := e.do("POST", "/api/v1/admin/case-types", admin, rawJSON(streetEvent)); r.Status != 201 {
			t.Fatalf("publish v1: %d %s", r.Status, r.Raw)
		}
		a, c := file(), file()
		step(a, officer1, "review", "check")
		step(c, officer1, "review", "check")
		v2 := strings.Replace(streetEvent, `{"name": "sign"`, `{"name": "inspection", "roles": ["officer"]}, {"name": "sign"`, 1)
		if r := e.do("POST", "/api/v1/admin/case-types", admin, rawJSON(v2)); r.Status != 201 || num(r.Body["version"]) != 2 {
			t.Fatalf("publish v2: %d %s", r.Status, r.Raw)
		}
		b := file()
		// a completes on version 1, without the new step.
		step(a, officer2, "check", "sign")
		step(a, signer, "sign", "approved")
		// b runs on version 2.
		step(b, officer1, "review", "check")
		step(b, officer2, "check", "inspection")
		if r := e.do("GET", casePath(b, ""), officer1, nil); num(r.Body["version"]) != 2 {
			t.Fatalf("b's version: %s", r.Raw)
		}

		// Moving c: only an admin, with a complete and valid map.
		path := "/api/v1/admin/case-types/street_event/migrate"
		good := map[string]any{"from_version": 1, "to_version": 2, "step_map": map[string]any{"review": "review", "check": "inspection", "sign": "sign"}}
		if r := e.do("POST", path, officer1, good); r.Status != 403 {
			t.Fatalf("officer migrates: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", path, admin, map[string]any{"from_version": 1, "to_version": 2, "step_map": map[string]any{"review": "review", "check": "nowhere"}}); r.Status != 422 ||
			fmt.Sprint(fieldNames(r)) != "[step_map.check step_map.sign]" {
			t.Fatalf("bad map: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", path, admin, map[string]any{"from_version": 1, "to_version": 9, "step_map": good["step_map"]}); r.Status != 422 {
			t.Fatalf("unknown version: %d %s", r.Status, r.Raw)
		}
		audits := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'case.migrate'`)
		r := e.do("POST", path, admin, good)
		if r.Status != 200 || fmt.Sprint(r.Body["moved"]) != fmt.Sprintf("[%d]", c) {
			t.Fatalf("migrate: %d %s", r.Status, r.Raw)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'case.migrate' AND entity_id = ?`, fmt.Sprint(c)); n != 1 || audits != 0 {
			t.Fatalf("audit entries of the move: %d (before %d)", n, audits)
		}
		r = e.do("GET", casePath(c, ""), officer1, nil)
		if num(r.Body["version"]) != 2 || openSteps(r) != "inspection[officer]@2026-05-22" {
			t.Fatalf("moved case: %s / %s", openSteps(r), r.Raw)
		}
		// officer1 reviewed c on version 1: still not the inspector? The
		// inspection step has no distinct_from; the check does not run again.
		step(c, officer2, "inspection", "sign")
		step(c, signer, "sign", "approved")
		if r := e.do("GET", casePath(c, "/verify"), ana, nil); r.Body["valid"] != true || num(r.Body["steps"]) != 5 {
			t.Fatalf("verify the moved case: %s", r.Raw)
		}
		// Nothing left to move.
		if r := e.do("POST", path, admin, good); r.Status != 200 || fmt.Sprint(r.Body["moved"]) != "[]" {
			t.Fatalf("second move: %d %s", r.Status, r.Raw)
		}
	})
}

// TestSubstitutions: an on-behalf substitute's act records both people
// ("X for Y" in the timeline), a delegate acts in their own name, a
// non-substitutable step refuses the substitute, and a substitution acts
// only in its date range.
func TestSubstitutions(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		withStepPKI(t, db, clock)
		e := newEnv(t, db, clock)
		admin, officer1 := e.tokens["admin"], e.tokens["officer"]
		signerID := count(t, db, `SELECT id FROM users WHERE username = 'signer1'`)
		_, officer2 := e.staffUser("officer2", fiscal.RoleOfficer)
		o4, officer4 := e.staffUser("officer4", fiscal.RoleOfficer)
		o5, officer5 := e.staffUser("officer5", fiscal.RoleOfficer)
		o6, officer6 := e.staffUser("officer6", fiscal.RoleOfficer)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		if signerID == 0 {
			t.Fatal("no id for the signer")
		}
		for _, d := range []string{marketStallPermit, streetEvent} {
			if r := e.do("POST", "/api/v1/admin/case-types", admin, rawJSON(d)); r.Status != 201 {
				t.Fatalf("publish: %d %s", r.Status, r.Raw)
			}
		}
		sub := func(tok string, user, substitute int64, from, to, mode, typ string) resp {
			return e.do("POST", "/api/v1/admin/substitutions", tok, map[string]any{"user_id": user, "substitute_id": substitute,
				"from": from, "to": to, "mode": mode, "case_type": typ})
		}
		if r := sub(officer1, signerID, o4, "2026-05-01", "2026-05-31", "on_behalf", ""); r.Status != 403 {
			t.Fatalf("officer adds a substitution: %d %s", r.Status, r.Raw)
		}
		if r := sub(ana, signerID, o4, "2026-05-01", "2026-05-31", "on_behalf", ""); r.Status != 403 {
			t.Fatalf("taxpayer adds a substitution: %d %s", r.Status, r.Raw)
		}
		if r := sub("", signerID, o4, "2026-05-01", "2026-05-31", "on_behalf", ""); r.Status != 401 {
			t.Fatalf("anonymous adds a substitution: %d %s", r.Status, r.Raw)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM substitutions`); n != 0 {
			t.Fatalf("a refused substitution was recorded: %d", n)
		}
		if r := sub(admin, signerID, signerID, "2026-05-01", "2026-05-31", "on_behalf", ""); r.Status != 422 || fieldNames(r)[0] != "substitute_id" {
			t.Fatalf("self substitution: %d %s", r.Status, r.Raw)
		}
		if r := sub(admin, signerID, o4, "2026-05-31", "2026-05-01", "on_behalf", ""); r.Status != 422 || fieldNames(r)[0] != "to" {
			t.Fatalf("range backwards: %d %s", r.Status, r.Raw)
		}
		if r := sub(admin, signerID, o4, "2026-05-01", "2026-05-31", "sometimes", ""); r.Status != 422 || fieldNames(r)[0] != "mode" {
			t.Fatalf("bad mode: %d %s", r.Status, r.Raw)
		}
		if r := sub(admin, signerID, 99999, "2026-05-01", "2026-05-31", "delegate", ""); r.Status != 422 || fieldNames(r)[0] != "substitute_id" {
			t.Fatalf("unknown substitute: %d %s", r.Status, r.Raw)
		}
		for _, r := range []resp{
			sub(admin, signerID, o4, "2026-05-01", "2026-05-31", "on_behalf", "market_stall_permit"),
			sub(admin, signerID, o5, "2026-05-01", "2026-05-31", "delegate", ""),
			sub(admin, signerID, o6, "2026-06-01", "2026-06-30", "delegate", ""),
		} {
			if r.Status != 201 || num(r.Body["id"]) == 0 {
				t.Fatalf("substitution: %d %s", r.Status, r.Raw)
			}
			// Started (May) at once, the June one on its first day.
			if started := r.Body["from"] == "2026-05-01"; (r.Body["reassigned_at"] != nil) != started {
				t.Fatalf("reassigned_at: %s", r.Raw)
			}
		}
		stall := func() int64 {
			r := e.do("POST", "/api/v1/cases", ana, map[string]any{"type": "market_stall_permit", "taxpayer_id": anaID,
				"data": map[string]any{"location": "Piața 700", "from": "2026-06-01", "stalls": 1}})
			id := num(r.Body["id"])
			e.upload(id, ana, "owner_id", "ci.pdf", pdfDoc)
			for _, s := range []struct{ tok, step string }{{officer1, "review"}, {officer2, "opinions.urbanism"}, {officer1, "opinions.police"}} {
				if r := e.do("POST", casePath(id, "/act"), s.tok, act(s.step, "approve")); r.Status != 200 {
					t.Fatalf("%s: %d %s", s.step, r.Status, r.Raw)
				}
			}
			return id
		}
		// On behalf: officer4 signs for the signer.
		id := stall()
		if r := e.do("POST", casePath(id, "/act"), officer6, act("sign", "approve")); r.Status != 403 {
			t.Fatalf("substitution not yet in force: %d %s", r.Status, r.Raw)
		}
		r := e.do("POST", casePath(id, "/act"), officer4, act("sign", "approve"))
		if r.Status != 200 || r.Body["status"] != "approved" {
			t.Fatalf("on behalf: %d %s", r.Status, r.Raw)
		}
		steps := r.Body["steps"].([]any)
		last := steps[len(steps)-1].(map[string]any)
		if last["actor"] != "officer4" || last["actor_role"] != "signer" || last["on_behalf_of"] != "signer1" || num(last["on_behalf_of_id"]) != signerID {
			t.Fatalf("the act records both people: %v", last)
		}
		if tl := e.do("GET", casePath(id, ""), ana, nil); !strings.Contains(string(tl.Raw), "(officer4 for signer1)") {
			t.Fatalf("timeline: %s", tl.Raw)
		}
		if v := e.do("GET", casePath(id, "/verify"), ana, nil); v.Body["valid"] != true {
			t.Fatalf("verify: %s", v.Raw)
		}
		// The signed content names the person acted for; anyone checks it
		// with openssl and the published CA.
		if c := stepVerifiedByOpenSSL(t, e, id, len(steps), ana); !strings.Contains(c, fmt.Sprintf(`"step":"sign","on_behalf_of":%d`, signerID)) {
			t.Fatalf("the signed content of the substitute's step: %s", c)
		}
		// Delegate: officer5 signs in their own name.
		id = stall()
		r = e.do("POST", casePath(id, "/act"), officer5, act("sign", "approve"))
		if r.Status != 200 || r.Body["status"] != "approved" {
			t.Fatalf("delegate: %d %s", r.Status, r.Raw)
		}
		steps = r.Body["steps"].([]any)
		if last := steps[len(steps)-1].(map[string]any); last["actor"] != "officer5" || last["on_behalf_of"] != nil {
			t.Fatalf("delegate's act: %v", last)
		}
		// A non-substitutable sign step refuses the substitute.
		r = e.do("POST", "/api/v1/cases", ana, map[string]any{"type": "street_event", "taxpayer_id": anaID, "data": map[string]any{"place": "Piața Unirii"}})
		ev := num(r.Body["id"])
		e.do("POST", casePath(ev, "/act"), officer1, act("review", "approve"))
		e.do("POST", casePath(ev, "/act"), officer2, act("check", "approve"))
		if r := e.do("POST", casePath(ev, "/act"), officer5, act("sign", "approve")); r.Status != 403 || !strings.Contains(string(r.Raw), "substitute") {
			t.Fatalf("non-substitutable: %d %s", r.Status, r.Raw)
		}
	})
}

// vehicleRegistrationV2 is a municipality's own version of the shipped
// vehicle registration: a registry desk checks the vehicle after the
// review, by another officer, and the signer decides; the effect (entering
// the vehicle and taxing it) is the shipped one.
const vehicleRegistrationV2 = `{"type": "vehicle_registration", "title": "Declarație de dobândire a unui vehicul", "title_en": "Vehicle acquired",
 "effect": "vehicle_registration", "sla_working_days": 5,
 "steps": [{"name": "review", "roles": ["officer"], "decisions": ["approve", "reject", "request_info"]},
           {"name": "registry", "roles": ["officer"], "distinct_from": ["review"]},
           {"name": "sign", "roles": ["signer"], "status": "reviewed", "distinct_from": ["review", "registry"], "substitutable": false}]}`

// TestShippedTypeOwnVersion: every type runs on a definition. A case filed
// on the shipped vehicle registration (version 1) completes on it while
// the municipality publishes its own version 2 with a third desk; a case
// filed after runs version 2 and its approval still enters the vehicle
// (the named effect); the shipped type may not lose its effect, and a
// definition naming an effect may not bring its own form.
func TestShippedTypeOwnVersion(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		admin, officer1, signer := e.tokens["admin"], e.tokens["officer"], e.tokens["signer"]
		_, officer2 := e.staffUser("officer2", fiscal.RoleOfficer)
		anaID, ana := e.taxpayer("ana", "2850615350041")

		old := e.fullCase(anaID, ana, "WVWZZZAUZHW123456", "2026-03-10")
		if r := e.do("GET", casePath(old, ""), officer1, nil); num(r.Body["version"]) != 1 || openSteps(r) != "review[officer]@2026-05-15" {
			t.Fatalf("a shipped type's case: %s", r.Raw)
		}
		// A refusal says why, whichever endpoint takes the step.
		if r := e.do("POST", casePath(old, "/act"), officer1, map[string]any{"step": "review", "decision": "reject"}); r.Status != 422 || fmt.Sprint(fieldNames(r)) != "[comment]" {
			t.Fatalf("a rejection without a reason: %d %s", r.Status, r.Raw)
		}
		// Another case waits for the signature when version 2 comes (moved below).
		waiting := e.fullCase(anaID, ana, "VF1RFB00X56789012", "2026-02-01")
		if r := e.do("POST", casePath(waiting, "/review"), officer1, map[string]any{"decision": "approve"}); r.Status != 200 || r.Body["status"] != "reviewed" {
			t.Fatalf("review of the waiting case: %d %s", r.Status, r.Raw)
		}
		// Refused: the shipped type without its effect, an effect with its own form.
		lost := strings.Replace(vehicleRegistrationV2, `"effect": "vehicle_registration",`, "", 1)
		if r := e.do("POST", "/api/v1/admin/case-types", admin, rawJSON(lost)); r.Status != 422 || fmt.Sprint(fieldNames(r)) != "[effect]" {
			t.Fatalf("without its effect: %d %s", r.Status, r.Raw)
		}
		own := strings.Replace(vehicleRegistrationV2, `"sla_working_days": 5,`, `"sla_working_days": 5, "form": {"fields": [{"name": "vin", "kind": "vin"}]},`, 1)
		if r := e.do("POST", "/api/v1/admin/case-types", admin, rawJSON(own)); r.Status != 422 || fmt.Sprint(fieldNames(r)) != "[form.fields]" {
			t.Fatalf("an effect with its own form: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/v1/admin/case-types", admin, rawJSON(vehicleRegistrationV2)); r.Status != 201 || num(r.Body["version"]) != 2 {
			t.Fatalf("publish version 2: %d %s", r.Status, r.Raw)
		}
		// The open case stays on version 1: review, then sign.
		if r := e.do("POST", casePath(old, "/review"), officer1, map[string]any{"decision": "approve"}); r.Status != 200 || r.Body["status"] != "reviewed" || openSteps(r) != "sign[signer]@2026-05-15" {
			t.Fatalf("review on version 1: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(old, "/sign"), signer, map[string]any{"decision": "approve"}); r.Status != 200 || r.Body["status"] != "approved" {
			t.Fatalf("sign on version 1: %d %s", r.Status, r.Raw)
		}
		// A new case runs version 2: three desks, four eyes between them.
		id := e.fullCase(anaID, ana, "WBA3A5C51CF256985", "2026-04-02")
		if r := e.do("POST", casePath(id, "/review"), officer1, map[string]any{"decision": "approve"}); r.Status != 200 || r.Body["status"] != "submitted" ||
			num(r.Body["version"]) != 2 || openSteps(r) != "registry[officer]@2026-05-15" {
			t.Fatalf("review on version 2: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/sign"), signer, map[string]any{"decision": "approve"}); r.Status != 409 {
			t.Fatalf("sign before the registry: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), officer1, act("registry", "approve")); r.Status != 409 || !strings.Contains(string(r.Raw), "four eyes") {
			t.Fatalf("the reviewer at the registry: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/act"), officer2, act("registry", "approve")); r.Status != 200 || r.Body["status"] != "reviewed" {
			t.Fatalf("registry: %d %s", r.Status, r.Raw)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM vehicles`); n != 1 {
			t.Fatalf("vehicles before the signature: %d", n)
		}
		r := e.do("POST", casePath(id, "/sign"), signer, map[string]any{"decision": "approve"})
		if r.Status != 200 || r.Body["status"] != "approved" || !strings.Contains(string(r.Raw), `"vehicle_id"`) {
			t.Fatalf("sign on version 2: %d %s", r.Status, r.Raw)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM vehicles`); n != 2 {
			t.Fatalf("the effect entered %d vehicles, want 2", n)
		}
		for _, c := range []int64{old, id} {
			if r := e.do("GET", casePath(c, "/verify"), officer1, nil); r.Body["valid"] != true {
				t.Fatalf("verify %d: %s", c, r.Raw)
			}
		}
		// The case waiting for the signature on version 1 moves to the
		// registry desk of version 2: its status is that step's (submitted).
		r = e.do("POST", "/api/v1/admin/case-types/vehicle_registration/migrate", admin,
			map[string]any{"from_version": 1, "to_version": 2, "step_map": map[string]any{"review": "review", "sign": "registry"}})
		if r.Status != 200 || fmt.Sprint(r.Body["moved"]) != fmt.Sprintf("[%d]", waiting) {
			t.Fatalf("migrate: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", casePath(waiting, ""), officer1, nil); r.Body["status"] != "submitted" || num(r.Body["version"]) != 2 || openSteps(r) != "registry[officer]@2026-05-15" {
			t.Fatalf("the moved case: %s", r.Raw)
		}
		if r := e.do("POST", casePath(waiting, "/act"), officer2, act("registry", "approve")); r.Status != 200 || r.Body["status"] != "reviewed" {
			t.Fatalf("registry of the moved case: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", casePath(waiting, "/verify"), officer1, nil); r.Body["valid"] != true {
			t.Fatalf("verify the moved case: %s", r.Raw)
		}
		// A new type may run an effect under its own name: the effect's
		// checks of the register run at its intake too.
		dereg := `{"type": "fleet_deregistration", "title": "Scoaterea din evidență (flote)", "title_en": "Fleet deregistration",
		 "effect": "vehicle_deregistration", "sla_working_days": 10, "steps": [{"name": "review", "roles": ["officer"]}, {"name": "sign", "roles": ["signer"], "distinct_from": ["review"]}]}`
		if r := e.do("POST", "/api/v1/admin/case-types", admin, rawJSON(dereg)); r.Status != 201 {
			t.Fatalf("publish a type with an effect: %d %s", r.Status, r.Raw)
		}
		r = e.do("POST", "/api/v1/cases", ana, map[string]any{"type": "fleet_deregistration", "taxpayer_id": anaID,
			"data": map[string]any{"vehicle_id": 999999, "disposed_on": "2026-05-01", "reason": "sale"}})
		if r.Status != 422 || fmt.Sprint(fieldNames(r)) != "[data.vehicle_id]" {
			t.Fatalf("another's vehicle through an effect: %d %s", r.Status, r.Raw)
		}
		// The list shows version 2 with the effect and its documents.
		r = e.do("GET", "/api/v1/case-types", ana, nil)
		if !strings.Contains(string(r.Raw), `"type":"vehicle_registration","title":"Declarație de dobândire a unui vehicul","title_en":"Vehicle acquired","effect":"vehicle_registration","version":2`) ||
			!strings.Contains(string(r.Raw), `"kind":"vehicle_identity_card"`) {
			t.Fatalf("case types: %s", r.Raw)
		}
	})
}
