package web_test

import (
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
