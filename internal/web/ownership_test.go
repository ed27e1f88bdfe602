package web_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// paramSegment finds each path parameter with the segment before it, which
// together name its shape: "cases/:id", "attachments/:aid", "documents/:id".
var paramSegment = regexp.MustCompile(`([a-z-]+)/:([A-Za-z_]+)`)

// ownershipFixture builds, once per database, an object of taxpayer A
// (municipality "timisoara") and returns the value to put in the path.
type ownershipFixture struct {
	build func(f *ownedObjects) string
	// shared parameters name municipality-wide keys (a date, a case type),
	// not an object someone owns: a caller of another municipality acts on
	// its own municipality, so only "A's data unchanged" is asserted.
	shared bool
}

// ownedObjects are taxpayer A's objects, made through the services.
type ownedObjects struct {
	anaID, caseID, attachmentID, paymentID, documentID, recomputeID, draftID, importID int64
	officerID                                                                          int64 // a staff account of A's municipality
	buildingID, landID                                                                 int64
	representationID                                                                   int64 // A's link to a company
}

// ownershipFixtures maps each path-parameter shape of the route table to
// its fixture. A route with a parameter missing here fails the test.
var ownershipFixtures = map[string]ownershipFixture{
	"taxpayers/:id":        {build: func(f *ownedObjects) string { return fmt.Sprint(f.anaID) }},
	"cases/:id":            {build: func(f *ownedObjects) string { return fmt.Sprint(f.caseID) }},
	"attachments/:aid":     {build: func(f *ownedObjects) string { return fmt.Sprint(f.attachmentID) }},
	"payments/:id":         {build: func(f *ownedObjects) string { return fmt.Sprint(f.paymentID) }},
	"documents/:id":        {build: func(f *ownedObjects) string { return fmt.Sprint(f.documentID) }},
	"recompute/:id":        {build: func(f *ownedObjects) string { return fmt.Sprint(f.recomputeID) }},
	"parameter-drafts/:id": {build: func(f *ownedObjects) string { return fmt.Sprint(f.draftID) }},
	"users/:id":            {build: func(f *ownedObjects) string { return fmt.Sprint(f.officerID) }},
	"buildings/:id":        {build: func(f *ownedObjects) string { return fmt.Sprint(f.buildingID) }},
	"lands/:id":            {build: func(f *ownedObjects) string { return fmt.Sprint(f.landID) }},
	"imports/:id":          {build: func(f *ownedObjects) string { return fmt.Sprint(f.importID) }},
	"representations/:id":  {build: func(f *ownedObjects) string { return fmt.Sprint(f.representationID) }},
	"lines/:key":           {build: func(*ownedObjects) string { return "vehicle.engine.row1.euro6" }, shared: true},
	"days/:date":           {build: func(*ownedObjects) string { return "2026-12-24" }, shared: true},
	"case-types/:type":     {build: func(*ownedObjects) string { return "petition" }, shared: true},
	"verify/:code":         {build: func(*ownedObjects) string { return "x" }, shared: true}, // public
	"steps/:n":             {build: func(*ownedObjects) string { return "1" }, shared: true}, // the case's own step; the case is what is owned
}

// ownershipBodies are valid bodies, so a refusal comes from ownership and
// not from validation; other routes get {}.
var ownershipBodies = map[string]any{
	"POST /api/v1/cases/:id/review":                       map[string]any{"decision": "approve"},
	"POST /api/v1/cases/:id/sign":                         map[string]any{"decision": "approve"},
	"POST /api/v1/cases/:id/act":                          map[string]any{"step": "review", "decision": "approve"},
	"POST /api/v1/cases/:id/respond":                      map[string]any{"comment": "iată documentul"},
	"POST /api/v1/cases/:id/assign":                       map[string]any{"officer_id": 1},
	"POST /api/v1/cases/:id/comments":                     map[string]any{"body": "un comentariu"},
	"POST /api/v1/payments/:id/refunds":                   map[string]any{"amount": "1.00", "reason": "restituire test"},
	"POST /api/v1/taxpayers/:id/credit/refund":            map[string]any{"amount": "1.00", "reason": "restituire", "iban": "RO49AAAA1B31007593840000"},
	"PUT /api/v1/case-types/:type/straight-through":       map[string]any{"enabled": true},
	"PATCH /api/v1/admin/parameter-drafts/:id/lines/:key": map[string]any{"to_value": "20"},
	"PUT /api/v1/users/:id/role":                          map[string]any{"role": "signer"},
	"POST /api/v1/representations/:id/revoke":             map[string]any{"reason": "mandat retras"},
	"POST /api/v1/users/:id/password":                     map[string]any{"password": "un pinguin pe bicicletă"},
	"PUT /api/v1/buildings/:id": map[string]any{"version": 1, "reason": "corectare", "address": "Str. Eroilor 5", "use": "residential",
		"construction_type": "A", "utilities": true, "usable_area_m2": "60", "zone": "A"},
	"PUT /api/v1/lands/:id": map[string]any{"version": 1, "reason": "corectare", "address": "Calea Aradului", "location": "intravilan",
		"zone": "B", "use_category": "arable", "area_m2": "900"},
}

// TestOwnershipMatrix walks the route table: every non-public route with a
// path parameter is called, on an object of taxpayer A, by another taxpayer
// of the same municipality (when the route admits taxpayers) and by staff of
// another municipality (each admitted staff role); each call must answer
// 403 or 404 and leave A's municipality unchanged (its audit chain does not
// grow, and a digest of A's case, payment and document rows is the same).
func TestOwnershipMatrix(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		ctx := context.Background()
		f := &ownedObjects{}
		var ana string
		f.anaID, ana = e.taxpayer("ana", "2850615350041")
		_, mihai := e.taxpayer("mihai", "1850315350012")
		f.officerID = num(e.do("GET", "/api/v1/me", e.tokens["officer"], nil).Body["id"])
		f.caseID = e.fullCase(f.anaID, ana, "WVWZZZAUZHW123456", "2026-03-10")
		f.attachmentID = count(t, db, `SELECT MIN(id) FROM case_attachments WHERE case_id = ?`, f.caseID)
		if r := e.do("POST", "/api/v1/certificates", ana, map[string]any{"type": "fiscal_clearance", "taxpayer_id": f.anaID}); r.Status != 201 {
			t.Fatalf("certificate: %d %s", r.Status, r.Raw)
		} else {
			f.documentID = num(r.Body["id"])
		}
		if r := e.do("POST", "/api/v1/payments/cash", e.tokens["officer"], map[string]any{"taxpayer_id": f.anaID, "amount": "15.50"}); r.Status != 201 {
			t.Fatalf("cash: %d %s", r.Status, r.Raw)
		} else {
			f.paymentID = num(r.Body["id"])
		}
		if r := e.do("POST", "/api/v1/admin/recompute", e.tokens["admin"], map[string]any{"year": 2026}); r.Status/100 != 2 {
			t.Fatalf("recompute: %d %s", r.Status, r.Raw)
		} else {
			f.recomputeID = num(r.Body["id"])
		}
		e.recompute.Wait()
		f.buildingID, f.landID = e.holdings(f.anaID)
		if r := e.do("POST", "/api/v1/taxpayers", e.tokens["officer"], map[string]any{"kind": "company", "cui": "18547290", "name": "Construct Vest SRL",
			"address": "Calea Aradului 10"}); r.Status != 201 {
			t.Fatalf("company: %d %s", r.Status, r.Raw)
		}
		f.representationID = e.represent(f.anaID, e.verify("ana"), "18547290", "2027-12-31")
		if r := e.do("POST", "/api/v1/admin/parameter-drafts", e.tokens["admin"], map[string]any{"from_year": 2026, "to_year": 2027, "inflation_pct": "5.6",
			"eur_ron": "5.0900", "decision": map[string]any{"number": "200/2026", "date": "2026-12-15"}}); r.Status != 201 {
			t.Fatalf("parameter draft: %d %s", r.Status, r.Raw)
		} else {
			f.draftID = num(r.Body["id"])
		}
		if r := e.importFile(e.tokens["admin"], "taxpayers", "true", "t.csv", []byte("external_id,kind,cnp,cui,name,address,email,phone\nX,company,,1,Firma,Str. 1,,\n")); r.Status != 201 {
			t.Fatalf("import: %d %s", r.Status, r.Raw)
		} else {
			f.importID = num(r.Body["id"])
		}

		other := storetest.Municipality(t, db, "arad")
		arad := map[fiscal.Role]string{}
		for _, role := range []fiscal.Role{fiscal.RoleOfficer, fiscal.RoleSigner, fiscal.RoleAccountant, fiscal.RoleAdmin} {
			name := "arad" + string(role)
			if _, err := db.CreateStaff(ctx, other.ID, name, "password-arad", role, "Arad"); err != nil {
				t.Fatal(err)
			}
			r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"username": name, "password": "password-arad"}, "X-Municipality", "arad")
			if r.Status != 200 {
				t.Fatalf("arad login: %d %s", r.Status, r.Raw)
			}
			arad[role] = r.Body["token"].(string)
		}

		// stateOfA digests what a wrongful call could change in A's municipality.
		stateOfA := func() string {
			var b strings.Builder
			for _, q := range []string{
				`SELECT COUNT(*) FROM audit_log WHERE municipality_id = ?`,
				`SELECT COUNT(*) FROM case_events WHERE case_id IN (SELECT id FROM cases WHERE municipality_id = ?)`,
				`SELECT COUNT(*) FROM case_attachments WHERE municipality_id = ?`,
				`SELECT COALESCE(SUM(version), 0) FROM cases WHERE municipality_id = ?`,
				`SELECT COUNT(*) FROM refunds WHERE municipality_id = ?`,
				`SELECT COUNT(*) FROM payments WHERE municipality_id = ?`,
				`SELECT COUNT(*) FROM credit_refunds WHERE municipality_id = ?`,
				`SELECT COUNT(*) FROM credit_entries WHERE municipality_id = ?`,
				`SELECT COUNT(*) FROM tax_parameters WHERE municipality_id = ?`,
				`SELECT COUNT(*) FROM parameter_drafts WHERE municipality_id = ? AND status = 'draft'`,
				`SELECT COALESCE(SUM(version), 0) FROM users WHERE municipality_id = ?`,
				`SELECT COUNT(*) FROM sessions WHERE municipality_id = ? AND revoked_at IS NOT NULL`,
				`SELECT COUNT(*) FROM enrollment_codes WHERE municipality_id = ?`,
				`SELECT COUNT(*) FROM representations WHERE municipality_id = ? AND revoked_at IS NULL`,
			} {
				fmt.Fprintf(&b, "%d/", count(t, db, q, e.muni.ID))
			}
			return b.String()
		}

		values := map[string]string{}
		checked, calls := 0, 0
		for _, r := range e.srv.RouteTable() {
			if r.Access.Public || !strings.Contains(r.Path, ":") {
				continue
			}
			path, shared, ok := r.Path, false, true
			for _, m := range paramSegment.FindAllStringSubmatch(r.Path, -1) {
				shape := m[1] + "/:" + m[2]
				fx, found := ownershipFixtures[shape]
				if !found {
					t.Errorf("%s %s: no fixture for the path parameter %q; add an ownership fixture in ownershipFixtures", r.Method, r.Path, shape)
					ok = false
					continue
				}
				if _, done := values[shape]; !done {
					values[shape] = fx.build(f)
				}
				shared = shared || fx.shared
				path = strings.Replace(path, m[0], m[1]+"/"+values[shape], 1)
			}
			if !ok {
				continue
			}
			if strings.Contains(path, ":") {
				t.Errorf("%s %s: a path parameter not of the form segment/:name; add an ownership fixture", r.Method, r.Path)
				continue
			}
			type caller struct{ who, token string }
			var callers []caller
			admits := func(role fiscal.Role) bool { return len(r.Access.Roles) == 0 || slices.Contains(r.Access.Roles, role) }
			if admits(fiscal.RoleTaxpayer) {
				callers = append(callers, caller{"another taxpayer", mihai})
			}
			for _, role := range []fiscal.Role{fiscal.RoleOfficer, fiscal.RoleSigner, fiscal.RoleAccountant, fiscal.RoleAdmin} {
				if admits(role) {
					callers = append(callers, caller{"arad " + string(role), arad[role]})
				}
			}
			body := ownershipBodies[r.Method+" "+r.Path]
			if body == nil {
				body = "{}"
			}
			for _, c := range callers {
				before := stateOfA()
				var got resp
				if r.Path == "/api/v1/cases/:id/attachments" {
					got = e.upload(f.caseID, c.token, "owner_id", "other.pdf", append([]byte{}, pdfDoc...))
				} else {
					got = e.do(r.Method, path, c.token, body)
				}
				calls++
				if !shared && got.Status != 403 && got.Status != 404 {
					t.Errorf("%s %s by %s on A's object: %d, want 403 or 404: %s", r.Method, path, c.who, got.Status, got.Raw)
				}
				if after := stateOfA(); after != before {
					t.Errorf("%s %s by %s changed A's municipality: %s → %s", r.Method, path, c.who, before, after)
				}
			}
			checked++
		}
		if checked < 15 {
			t.Fatalf("only %d routes with path parameters checked", checked)
		}
		t.Logf("%d routes with path parameters, %d foreign calls, all refused without change", checked, calls)
	})
}
