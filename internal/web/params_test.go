package web_test

import (
	"slices"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// errorMessages joins the messages of a problem's errors.
func errorMessages(r resp) string {
	var out []string
	errs, _ := r.Body["errors"].([]any)
	for _, x := range errs {
		out = append(out, x.(map[string]any)["message"].(string))
	}
	return strings.Join(out, "; ")
}

// TestParamRangeAndMissingKey: a council value outside the law's range is
// 422 naming value and the range, and changes nothing; a land-with-buildings
// quote in Timișoara names the exact key to enter (and the range); once an
// administrator enters it, the quote computes.
func TestParamRangeAndMissingKey(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		admin := e.tokens["admin"]
		const key = "land.intravilan.constructions.rank1.zone_a"
		landQuote := map[string]any{"municipality": "timisoara", "year": 2026,
			"object": map[string]any{"kind": "land", "owner_kind": "individual", "location": "intravilan", "zone": "A", "use_category": "constructions", "area_m2": "500.00"}}
		r := e.do("POST", "/api/v1/tax/quote", "", landQuote)
		if r.Status != 422 || !strings.Contains(r.Body["detail"].(string), "(parameter "+key+")") ||
			!strings.Contains(errorMessages(r), "(parameter "+key+")") || !strings.Contains(r.Body["detail"].(string), "6878-17194") {
			t.Fatalf("missing key: %d %s", r.Status, r.Raw)
		}
		entry := func(value string) map[string]any {
			return map[string]any{"key": key, "effective_from": "2026-01-01", "value": value, "legal_basis": "Codul fiscal art. 465 alin. (2)",
				"decision": map[string]any{"number": "123/2025", "date": "2025-12-15"}}
		}
		for _, v := range []string{"6877.99", "17194.01", "0"} {
			r = e.do("POST", "/api/v1/admin/parameters", admin, entry(v))
			if r.Status != 422 || !slices.Equal(fieldNames(r), []string{"value"}) || !strings.Contains(errorMessages(r), "6878-17194") ||
				!strings.Contains(errorMessages(r), "art. 465 alin. (2)") {
				t.Fatalf("out of range %s: %d %s", v, r.Status, r.Raw)
			}
		}
		// Nothing was entered: the quote still names the key.
		if r = e.do("POST", "/api/v1/tax/quote", "", landQuote); r.Status != 422 {
			t.Fatalf("after refusals: %d %s", r.Status, r.Raw)
		}
		// The surcharge of art. 489 is bounded too (up to 100% from 2026).
		r = e.do("POST", "/api/v1/admin/parameters", admin, map[string]any{"key": "vehicle.surcharge_pct", "effective_from": "2026-01-01", "value": "101",
			"legal_basis": "Codul fiscal art. 489", "decision": map[string]any{"number": "1/2026", "date": "2026-01-10"}})
		if r.Status != 422 || !strings.Contains(errorMessages(r), "0-100") {
			t.Fatalf("surcharge: %d %s", r.Status, r.Raw)
		}
		// A range is the law's: not a municipality's value.
		r = e.do("POST", "/api/v1/admin/parameters", admin, map[string]any{"key": "range." + key + ".max", "effective_from": "2026-01-01", "value": "99999",
			"legal_basis": "x", "decision": map[string]any{"number": "1/2026", "date": "2026-01-10"}})
		if r.Status != 422 || !slices.Equal(fieldNames(r), []string{"national"}) {
			t.Fatalf("local range: %d %s", r.Status, r.Raw)
		}
		// Inside the range (its ends included): entered, and the quote computes:
		// 0.05 ha × 17,194 = 859.70 → 860 lei.
		if r = e.do("POST", "/api/v1/admin/parameters", admin, entry("17194")); r.Status != 201 {
			t.Fatalf("in range: %d %s", r.Status, r.Raw)
		}
		r = e.do("POST", "/api/v1/tax/quote", "", landQuote)
		if r.Status != 200 || r.Body["annual_tax"] != "860.00" || r.Body["budget_code"] != "07.02.02.01" {
			t.Fatalf("quote after entry: %d %s", r.Status, r.Raw)
		}
	})
}
