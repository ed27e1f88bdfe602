package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/money"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/payments/stripe/stripetest"
)

// otherMunicipality creates Arad with one staff member of role and returns
// the token.
func (e *env) otherMunicipality(role fiscal.Role) string {
	e.t.Helper()
	m, err := e.db.MunicipalityBySlug(context.Background(), "arad")
	if err != nil {
		m = storetest.Municipality(e.t, e.db, "arad")
	}
	name := "arad" + string(role)
	if _, err := e.db.CreateStaff(context.Background(), m.ID, name, "password-arad", role, "Arad"); err != nil {
		e.t.Fatal(err)
	}
	r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"username": name, "password": "password-arad"}, "X-Municipality", "arad")
	if r.Status != 200 {
		e.t.Fatalf("arad login: %d %s", r.Status, r.Raw)
	}
	return r.Body["token"].(string)
}

func TestRecomputeCreditReconciliationAPI(t *testing.T) {
	api := stripetest.Start(t)
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnvStripe(t, db, clock, api)
		ana := e.do("POST", "/api/v1/auth/register", "", individual("ana", "2850615350041"))
		e.do("POST", "/api/v1/auth/register", "", individual("mihai", "1850315350012"))
		anaID := int64(ana.Body["taxpayer"].(map[string]any)["id"].(float64))
		assessCar(t, db, e.muni.ID, anaID, "WVWZZZAUZHW123456")
		anaTok, mihaiTok := e.login("ana", "parola-lunga-1"), e.login("mihai", "parola-lunga-1")
		aradAdmin, aradAccountant := e.otherMunicipality(fiscal.RoleAdmin), e.otherMunicipality(fiscal.RoleAccountant)
		stPath := fmt.Sprintf("/api/v1/taxpayers/%d/statement", anaID)

		// Recomputation: admin only.
		year := map[string]any{"year": 2026}
		for who, want := range map[string]int{"": 401, anaTok: 403, e.tokens["officer"]: 403, e.tokens["accountant"]: 403, e.tokens["signer"]: 403} {
			if r := e.do("POST", "/api/v1/admin/recompute", who, year); r.Status != want {
				t.Fatalf("recompute by %q: %d %s", who, r.Status, r.Raw)
			}
		}
		if r := e.do("POST", "/api/v1/admin/recompute", e.tokens["admin"], map[string]any{"year": 1990}); r.Status != 422 {
			t.Fatalf("bad year: %d %s", r.Status, r.Raw)
		}
		// The law lowers Timișoara's surcharge to 40% retroactively.
		if r := e.do("POST", "/api/v1/admin/parameters", e.tokens["admin"], map[string]any{"key": "vehicle.surcharge_pct", "effective_from": "2026-01-01",
			"value": "40", "legal_basis": "OUG 9/2026", "decision": map[string]any{"number": "40/2026", "date": "2026-03-20"}}); r.Status != 201 {
			t.Fatalf("parameter: %d %s", r.Status, r.Raw)
		}
		r := e.do("POST", "/api/v1/admin/recompute", e.tokens["admin"], year)
		if r.Status != 201 || r.Body["year"].(float64) != 2026 {
			t.Fatalf("start: %d %s", r.Status, r.Raw)
		}
		runPath := fmt.Sprintf("/api/v1/admin/recompute/%d", int64(r.Body["id"].(float64)))
		e.recompute.Wait()
		run := e.do("GET", runPath, e.tokens["admin"], nil)
		total := run.Body["total"].(map[string]any)
		if run.Status != 200 || run.Body["status"] != "finished" || run.Body["down"].(float64) != 1 || total["reduced_debt"] != "13.00" || total["credit"] != "0.00" {
			t.Fatalf("run: %d %s", run.Status, run.Raw)
		}
		if r := e.do("GET", runPath, aradAdmin, nil); r.Status != 404 {
			t.Fatalf("run seen by another municipality: %d", r.Status)
		}
		if r := e.do("GET", runPath, e.tokens["accountant"], nil); r.Status != 403 {
			t.Fatalf("run seen by an accountant: %d", r.Status)
		}
		st := e.do("GET", stPath+"?as_of=2026-03-01", anaTok, nil)
		if st.Body["total_due"] != "185.00" {
			t.Fatalf("statement after recompute: %s", st.Raw)
		}

		// Credit: 150 lei on the reduced September instalment (86) leave 64.
		debts := st.Body["debts"].([]any)
		second := int64(debts[1].(map[string]any)["id"].(float64))
		if c := e.do("POST", "/api/v1/payments/cash", e.tokens["officer"], map[string]any{"taxpayer_id": anaID, "amount": "150.00", "debt_ids": []int64{second}}); c.Status != 201 || c.Body["credit"] != "64.00" {
			t.Fatalf("cash: %d %s", c.Status, c.Raw)
		}
		// Paying everything by card charges the total due net of the credit.
		before := e.do("GET", stPath, anaTok, nil)
		p := e.do("POST", "/api/v1/payments", anaTok, map[string]any{"taxpayer_id": anaID, "all": true}, "Idempotency-Key", "all-1")
		if p.Status != 201 || p.Body["amount"] != before.Body["total_due"] || before.Body["credit"] != "64.00" {
			t.Fatalf("card payment of everything: %d %s (statement %s)", p.Status, p.Raw, before.Raw)
		}
		if st := e.do("GET", stPath, anaTok, nil); st.Body["credit"] != "0.00" || st.Body["total_due"] != before.Body["total_due"] {
			t.Fatalf("after the card payment opened: %s", st.Raw)
		}
		apply := fmt.Sprintf("/api/v1/taxpayers/%d/credit/apply", anaID)
		for who, want := range map[string]int{"": 401, mihaiTok: 404, aradAccountant: 404, anaTok: 422} {
			if r := e.do("POST", apply, who, nil); r.Status != want {
				t.Fatalf("apply by %q: %d %s", who, r.Status, r.Raw)
			}
		}
		// An overpayment at the desk; the credit is applied, then refunded.
		e.do("POST", "/api/v1/payments/cash", e.tokens["officer"], map[string]any{"taxpayer_id": anaID, "amount": "500.00"})
		credit := e.do("GET", stPath, anaTok, nil).Body["credit"]
		refund := fmt.Sprintf("/api/v1/taxpayers/%d/credit/refund", anaID)
		body := map[string]any{"amount": "100.00", "reason": "restituire la cerere", "iban": "RO49AAAA1B31007593840000"}
		for who, want := range map[string]int{"": 401, anaTok: 403, e.tokens["officer"]: 403, aradAccountant: 404} {
			if r := e.do("POST", refund, who, body); r.Status != want {
				t.Fatalf("refund by %q: %d %s", who, r.Status, r.Raw)
			}
		}
		bad := map[string]any{"amount": "100.00", "reason": "restituire", "iban": "RO49AAAA1B31007593840001"}
		if r := e.do("POST", refund, e.tokens["accountant"], bad); r.Status != 422 || fieldNames(r)[0] != "iban" || r.Header["Content-Type"] != "application/problem+json" {
			t.Fatalf("bad IBAN: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", refund, e.tokens["accountant"], map[string]any{"amount": 100, "reason": "x", "iban": "y"}); r.Status != 422 {
			t.Fatalf("number amount: %d %s", r.Status, r.Raw)
		}
		rf := e.do("POST", refund, e.tokens["accountant"], body, "Idempotency-Key", "rf-1")
		if rf.Status != 201 || rf.Body["status"] != "pending_transfer" || rf.Body["amount"] != "100.00" {
			t.Fatalf("refund: %d %s (credit was %v)", rf.Status, rf.Raw, credit)
		}

		// Reconciliation: accountant and admin.
		imp := map[string]any{"payout_id": "po_123"}
		for who, want := range map[string]int{"": 401, anaTok: 403, e.tokens["officer"]: 403, e.tokens["signer"]: 403} {
			if r := e.do("POST", "/api/v1/reconciliation/imports", who, imp); r.Status != want {
				t.Fatalf("import by %q: %d %s", who, r.Status, r.Raw)
			}
			if r := e.do("GET", "/api/v1/reconciliation/differences?from=2026-05-01&to=2026-05-31", who, nil); r.Status != want {
				t.Fatalf("differences by %q: %d %s", who, r.Status, r.Raw)
			}
			if r := e.do("GET", "/api/v1/reports/reconciliation?from=2026-05-01&to=2026-05-31", who, nil); r.Status != want {
				t.Fatalf("reconciliation report by %q: %d %s", who, r.Status, r.Raw)
			}
		}
		if r := e.do("POST", "/api/v1/reconciliation/imports", e.tokens["accountant"], map[string]any{"from": "2026-05-01"}); r.Status != 422 {
			t.Fatalf("import without a payout or range: %d %s", r.Status, r.Raw)
		}
		im := e.do("POST", "/api/v1/reconciliation/imports", e.tokens["accountant"], imp)
		if im.Status != 201 || im.Body["transactions"].(float64) < 1 {
			t.Fatalf("import: %d %s", im.Status, im.Raw)
		}
		again := e.do("POST", "/api/v1/reconciliation/imports", e.tokens["admin"], map[string]any{"from": "2026-05-01", "to": "2026-05-31"})
		if again.Status != 201 || again.Body["new"].(float64) != 0 {
			t.Fatalf("import again: %d %s", again.Status, again.Raw)
		}
		if r := e.do("GET", "/api/v1/reconciliation/differences?from=2026-05-01", e.tokens["accountant"], nil); r.Status != 422 {
			t.Fatalf("differences without to: %d", r.Status)
		}
		d := e.do("GET", "/api/v1/reconciliation/differences?from=2000-01-01&to=2026-12-31", e.tokens["accountant"], nil)
		if d.Status != 200 || d.Body["items"] == nil {
			t.Fatalf("differences: %d %s", d.Status, d.Raw)
		}
		// The report shows the same differences, one row each, and their
		// sums in the TOTAL row.
		// (A period is at most ten years, so 2000-2009, where stripe-mock dates its transactions.)
		d = e.do("GET", "/api/v1/reconciliation/differences?from=2000-01-01&to=2009-12-31", e.tokens["accountant"], nil)
		rep := e.do("GET", "/api/v1/reports/reconciliation?from=2000-01-01&to=2009-12-31&format=csv", e.tokens["accountant"], nil)
		if rep.Status != 200 || !strings.HasPrefix(rep.Header["Content-Type"], "text/csv") {
			t.Fatalf("reconciliation report: %d %s", rep.Status, rep.Raw)
		}
		cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(rep.Raw, []byte("\uFEFF"))))
		cr.FieldsPerRecord = -1
		recs, err := cr.ReadAll() // title block, header (the blank line is dropped), rows, TOTAL
		if err != nil {
			t.Fatal(err)
		}
		items := d.Body["items"].([]any)
		rows, tot := recs[5:len(recs)-1], recs[len(recs)-1]
		if len(rows) != len(items) || len(items) == 0 || tot[0] != "TOTAL" {
			t.Fatalf("report rows %d, differences %d: %s", len(rows), len(items), rep.Raw)
		}
		var ours, theirs, fee money.Bani
		for i, it := range items {
			m := it.(map[string]any)
			pi, _ := m["payment_intent_id"].(string)
			if rows[i][0] != m["kind"] || rows[i][3] != pi {
				t.Errorf("row %d %v, difference %v", i, rows[i], m)
			}
			for _, p := range []struct {
				dst *money.Bani
				key string
			}{{&ours, "ours"}, {&theirs, "theirs"}, {&fee, "fee"}} {
				v, err := money.Parse(m[p.key].(string))
				if err != nil {
					t.Fatal(err)
				}
				*p.dst += v
			}
		}
		if tot[5] != ours.String() || tot[6] != theirs.String() || tot[7] != fee.String() {
			t.Errorf("TOTAL %v, want ours %s theirs %s fee %s", tot, ours, theirs, fee)
		}
		if r := e.do("GET", "/api/v1/audit/verify", e.tokens["admin"], nil); r.Body["valid"] != true {
			t.Fatalf("audit: %s", r.Raw)
		}
	})
}
