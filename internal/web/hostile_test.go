package web_test

import (
	"context"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestControlCharactersRefused: a NUL (or another C0 control character) in
// a query parameter or a JSON string is a 422 naming the field on both
// engines — PostgreSQL used to answer 500 and SQLite stored it — while TAB
// and line breaks in body text still pass.
func TestControlCharactersRefused(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		officer := e.tokens["officer"]
		for _, tc := range []struct{ name, path, field string }{
			{"NUL in q", "/api/v1/taxpayers?q=Ana%00", "q"},
			{"NUL in type", "/api/v1/cases?type=vehicle%00", "type"},
			{"escape in status", "/api/v1/cases?status=%1B%5B2J", "status"},
			{"line feed in q", "/api/v1/taxpayers?q=a%0Ab", "q"},
			{"invalid UTF-8 in q", "/api/v1/taxpayers?q=%C3%28", "q"},
		} {
			r := e.do("GET", tc.path, officer, nil)
			if r.Status != 422 || strings.Join(fieldNames(r), ",") != tc.field {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Raw)
			}
		}
		// The municipality named by a header (not a query parameter).
		login := map[string]string{"username": "officer1", "password": "password-officer"}
		for _, slug := range []string{"tim\xffisoara"} {
			if r := e.do("POST", "/api/v1/auth/login", "", login, "X-Municipality", slug); r.Status != 422 || strings.Join(fieldNames(r), ",") != "municipality" {
				t.Errorf("X-Municipality %q: %d %s", slug, r.Status, r.Raw)
			}
		}
		if r := e.do("POST", "/api/v1/auth/login?municipality=tim%00isoara", "", login); r.Status != 422 || strings.Join(fieldNames(r), ",") != "municipality" {
			t.Errorf("NUL in ?municipality=: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/v1/payments/cash", officer, `{"taxpayer_id":1,"amount":"1.00"}`, "Idempotency-Key", "k\xff1"); r.Status != 422 || strings.Join(fieldNames(r), ",") != "Idempotency-Key" {
			t.Errorf("Idempotency-Key not UTF-8: %d %s", r.Status, r.Raw)
		}
		for _, path := range []string{"/api/v1/verify/ab%00cd", "/api/v1/verify/ab%C3%28cd"} {
			if r := e.do("GET", path, "", nil); r.Status >= 500 {
				t.Errorf("%s: %d %s", path, r.Status, r.Raw)
			}
		}
		// A TAB in a query is text.
		if r := e.do("GET", "/api/v1/taxpayers?q=Ana%09Pop", officer, nil); r.Status != 200 {
			t.Errorf("TAB in q: %d %s", r.Status, r.Raw)
		}

		for _, tc := range []struct{ name, body, field string }{
			{"NUL in name", `{"kind":"individual","cnp":"2850615350041","name":"Ana\u0000Pop","address":"Str. Mărășești 1"}`, "name"},
			{"BEL in address", `{"kind":"individual","cnp":"2850615350041","name":"Ana Pop","address":"Str. \u0007 1"}`, "address"},
			{"backspace escape", `{"kind":"individual","cnp":"2850615350041","name":"Ana\bPop","address":"Str. 1"}`, "name"},
			{"NUL in a key", `{"kind":"individual","cnp":"2850615350041","name":"Ana Pop","address":"Str. 1","x\u0000":"y"}`, "x\uFFFD"},
		} {
			r := e.do("POST", "/api/v1/taxpayers", officer, tc.body)
			if r.Status != 422 || strings.Join(fieldNames(r), ",") != tc.field {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Raw)
			}
		}
		// Nested fields are named by their path.
		reg := `{"username":"ana","password":"parola-lunga-1","email":"ana@example.ro","taxpayer":{"kind":"individual","cnp":"2850615350041","name":"Ana\u0000","address":"Str. 1"}}`
		if r := e.do("POST", "/api/v1/auth/register", "", reg); r.Status != 422 || strings.Join(fieldNames(r), ",") != "taxpayer.name" {
			t.Errorf("NUL in taxpayer.name: %d %s", r.Status, r.Raw)
		}
		// Nothing was stored.
		if r := e.do("GET", "/api/v1/taxpayers?q=Ana", officer, nil); r.Status != 200 || len(r.Body["items"].([]any)) != 0 {
			t.Fatalf("after the refusals: %d %s", r.Status, r.Raw)
		}
		// TAB, LF and CR inside body text pass (multi-line text).
		r := e.do("POST", "/api/v1/taxpayers", officer, `{"kind":"individual","cnp":"2850615350041","name":"Ana Pop","address":"Str. Mărășești 1\r\nbl. 2\tsc. A"}`)
		if r.Status != 201 {
			t.Fatalf("line breaks in the address: %d %s", r.Status, r.Raw)
		}
	})
}

// TestEnteredAmountsBounded: the probe's 93 cash payments of
// 999,999,999,999,999.99 lei overflowed the statement's and the collections
// report's sums (500 for good on both engines). Now an amount beyond the
// ledger's limit is refused at decoding, one beyond the municipality's
// plausibility bound (1,000,000 lei by default, settings "amount_limits"
// otherwise) by the use case, each a 422 naming the field and the bound; the
// statement and the report still answer.
func TestEnteredAmountsBounded(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		officer, accountant := e.tokens["officer"], e.tokens["accountant"]
		reg := e.do("POST", "/api/v1/auth/register", "", individual("ana", "2850615350041"))
		if reg.Status != 201 {
			t.Fatalf("register: %d %s", reg.Status, reg.Raw)
		}
		anaID := int64(reg.Body["taxpayer"].(map[string]any)["id"].(float64))
		refused := func(what string, r resp, bound string) {
			t.Helper()
			if r.Status != 422 || strings.Join(fieldNames(r), ",") != "amount" || !strings.Contains(string(r.Raw), bound) {
				t.Fatalf("%s: %d %s", what, r.Status, r.Raw)
			}
		}
		cash := func(amount string) resp {
			return e.do("POST", "/api/v1/payments/cash", officer, map[string]any{"taxpayer_id": anaID, "amount": amount})
		}
		refused("the probe's amount", cash("999999999999999.99"), "99999999999.99")
		refused("above the default bound", cash("1000000.01"), "1000000.00")
		var last resp
		for range 3 {
			if last = cash("1000000.00"); last.Status != 201 {
				t.Fatalf("cash at the bound: %d %s", last.Status, last.Raw)
			}
		}
		payID := int64(last.Body["id"].(float64))
		refused("a refund above the bound", e.do("POST", "/api/v1/payments/"+itoa(payID)+"/refunds", accountant,
			map[string]any{"amount": "1000000.01", "reason": "plată greșită"}), "1000000.00")
		refused("a credit refund above the bound", e.do("POST", "/api/v1/taxpayers/"+itoa(anaID)+"/credit/refund", accountant,
			map[string]any{"amount": "1000000.01", "reason": "la cerere", "iban": "RO49AAAA1B31007593840000"}), "1000000.00")
		st := e.do("GET", "/api/v1/taxpayers/"+itoa(anaID)+"/statement", officer, nil)
		if st.Status != 200 || st.Body["credit"] != "3000000.00" {
			t.Fatalf("statement: %d %s", st.Status, st.Raw)
		}
		rep := e.do("GET", "/api/v1/reports/collections?from=2026-01-01&to=2026-12-31&group=month&format=csv", accountant, nil)
		if rep.Status != 200 || !strings.Contains(string(rep.Raw), "3000000.00") {
			t.Fatalf("collections: %d %s", rep.Status, rep.Raw)
		}

		// A municipality with its own bounds.
		arad := &fiscal.Municipality{Slug: "arad", Name: "Municipiul Arad", Rank: "I", County: "Arad",
			Settings: `{"amount_limits": {"cash": "5000.00", "refund": "100.00", "credit_refund": "50.00"}}`}
		if err := db.CreateMunicipality(context.Background(), arad); err != nil {
			t.Fatal(err)
		}
		for _, r := range []fiscal.Role{fiscal.RoleOfficer, fiscal.RoleAccountant} {
			if _, err := db.CreateStaff(context.Background(), arad.ID, "arad-"+string(r), "password-arad", r, "Arad"); err != nil {
				t.Fatal(err)
			}
		}
		login := func(u string) string {
			r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"username": u, "password": "password-arad"}, "X-Municipality", "arad")
			if r.Status != 200 {
				t.Fatalf("login %s: %d %s", u, r.Status, r.Raw)
			}
			return r.Body["token"].(string)
		}
		aOfficer, aAccountant := login("arad-officer"), login("arad-accountant")
		tp := e.do("POST", "/api/v1/taxpayers", aOfficer, map[string]any{"kind": "individual", "cnp": "1850315350012", "name": "Mihai Pop", "address": "Str. 1"})
		if tp.Status != 201 {
			t.Fatalf("arad taxpayer: %d %s", tp.Status, tp.Raw)
		}
		tpID := int64(tp.Body["id"].(float64))
		refused("above arad's cash bound", e.do("POST", "/api/v1/payments/cash", aOfficer, map[string]any{"taxpayer_id": tpID, "amount": "5000.01"}), "5000.00")
		p := e.do("POST", "/api/v1/payments/cash", aOfficer, map[string]any{"taxpayer_id": tpID, "amount": "5000.00"})
		if p.Status != 201 {
			t.Fatalf("arad cash at the bound: %d %s", p.Status, p.Raw)
		}
		refused("above arad's refund bound", e.do("POST", "/api/v1/payments/"+itoa(int64(p.Body["id"].(float64)))+"/refunds", aAccountant,
			map[string]any{"amount": "100.01", "reason": "plată greșită"}), "100.00")
		refused("above arad's credit refund bound", e.do("POST", "/api/v1/taxpayers/"+itoa(tpID)+"/credit/refund", aAccountant,
			map[string]any{"amount": "50.01", "reason": "la cerere", "iban": "RO49AAAA1B31007593840000"}), "50.00")
		if r := e.do("POST", "/api/v1/taxpayers/"+itoa(tpID)+"/credit/refund", aAccountant,
			map[string]any{"amount": "50.00", "reason": "la cerere", "iban": "RO49AAAA1B31007593840000"}); r.Status != 201 {
			t.Fatalf("credit refund at the bound: %d %s", r.Status, r.Raw)
		}
	})
}

// TestBidiNamesAndDownloads: bidirectional formatting characters are refused
// in names (422 naming the field) and stripped from uploaded file names; an
// uploaded document downloads as an attachment with a safe name and nosniff.
func TestBidiNamesAndDownloads(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		for _, bidi := range []string{"\u202E", "\u202A", "\u2066", "\u2069", "\u200F", "\u200E", "\u061C"} {
			reg := individual("ana", "2850615350041")
			reg["taxpayer"].(map[string]any)["name"] = "Ana " + bidi + "Popescu"
			if r := e.do("POST", "/api/v1/auth/register", "", reg); r.Status != 422 || strings.Join(fieldNames(r), ",") != "taxpayer.name" {
				t.Errorf("registration with %U: %d %s", []rune(bidi)[0], r.Status, r.Raw)
			}
		}
		if r := e.do("POST", "/api/v1/taxpayers", e.tokens["officer"], map[string]any{"kind": "company", "cui": "18547290",
			"name": "SC Ion\u202Etxt.exe SRL", "address": "Str. 1"}); r.Status != 422 || strings.Join(fieldNames(r), ",") != "name" {
			t.Errorf("taxpayer name with an override: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/v1/users", e.tokens["admin"], map[string]any{"username": "maria", "password": "parola-lunga-1",
			"role": "officer", "full_name": "Maria \u2067Pop"}); r.Status != 422 || strings.Join(fieldNames(r), ",") != "full_name" {
			t.Errorf("staff full name with an isolate: %d %s", r.Status, r.Raw)
		}

		anaID, ana := e.taxpayer("mihai", "1850315350012")
		c := e.do("POST", "/api/v1/cases", ana, registration(anaID, "WVWZZZAUZHW123456", "2025-12-15"))
		if c.Status != 201 {
			t.Fatalf("intake: %d %s", c.Status, c.Raw)
		}
		id := num(c.Body["id"])
		up := e.upload(id, ana, "acquisition_document", "contract\u202Efdp.exe", pdfDoc)
		if up.Status != 201 || up.Body["filename"] != "contractfdp.exe" {
			t.Fatalf("upload: %d %s", up.Status, up.Raw)
		}
		aid := num(up.Body["id"])
		d := e.do("GET", casePath(id, "/attachments/"+itoa(aid)), e.tokens["officer"], nil)
		want := `attachment; filename="acquisition_document-` + itoa(aid) + `.pdf"`
		if d.Status != 200 || d.Header["Content-Disposition"] != want || d.Header["X-Content-Type-Options"] != "nosniff" || string(d.Raw) != string(pdfDoc) {
			t.Fatalf("download: %d %q %q", d.Status, d.Header["Content-Disposition"], d.Header["X-Content-Type-Options"])
		}
	})
}
