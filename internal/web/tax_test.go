package web_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/internal/web"
)

// contractQuote is the request example of the contract, verbatim.
const contractQuote = `{"municipality": "timisoara", "year": 2026, "paid_on": "2026-05-10",
   "object": {"kind": "vehicle", "category": "car", "engine_cc": 1598,
              "emission_class": "euro6", "propulsion": "combustion"}}`

func TestQuoteContractExample(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		r := e.do("POST", "/api/v1/tax/quote", "", contractQuote)
		if r.Status != 200 {
			t.Fatalf("quote: %d %s", r.Status, r.Raw)
		}
		// The contract's field names, no more and no fewer.
		var keys []string
		for k := range r.Body {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"annual_tax", "budget_code", "early_payment_bonus", "installments", "lines", "municipality", "settlement", "tax_type", "year"}
		if !reflect.DeepEqual(keys, want) {
			t.Fatalf("fields %v, want %v", keys, want)
		}
		// The figures of the law (local-taxes.md §2, §4, §5): 8 groups × 16.5 ×
		// 1.5 = 198; halves 99/99 on 31 March and 30 September 2026; bonus
		// 10% = 19.80 → 20; paid 10 May: the first half is overdue by two
		// started month periods (1-30 April, 1-10 May): 2% × 99 = 1.98 → 2.
		var got map[string]any
		json.Unmarshal(r.Raw, &got)
		wantJSON := `{"municipality": "timisoara", "year": 2026, "tax_type": "vehicle", "budget_code": "16.02.02.01",
			"annual_tax": "198.00",
			"installments": [{"due_date": "2026-03-31", "amount": "99.00"}, {"due_date": "2026-09-30", "amount": "99.00"}],
			"early_payment_bonus": "20.00",
			"settlement": {"paid_on": "2026-05-10", "principal": "198.00", "bonus": "0.00", "late_fees": "2.00", "total": "200.00"}}`
		var w map[string]any
		if err := json.Unmarshal([]byte(wantJSON), &w); err != nil {
			t.Fatal(err)
		}
		for k, v := range w {
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		lines := got["lines"].([]any)
		if len(lines) < 2 {
			t.Fatalf("lines %v", lines)
		}
		for _, l := range lines {
			m := l.(map[string]any)
			if m["label"] == "" || m["legal_basis"] == "" || m["amount"] == nil {
				t.Errorf("line %v", m)
			}
		}
		if lines[0].(map[string]any)["legal_basis"] != "Codul fiscal art. 470 alin. (2)" || lines[0].(map[string]any)["amount"] != "132.00" {
			t.Errorf("first line %v", lines[0])
		}
		if !strings.HasPrefix(r.Header["Content-Type"], "application/json") {
			t.Errorf("content type %q", r.Header["Content-Type"])
		}
	})
}

func TestQuoteCases(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		quote := func(obj map[string]any, extra ...any) resp {
			t.Helper()
			body := map[string]any{"municipality": "timisoara", "year": 2026, "object": obj}
			for i := 0; i+1 < len(extra); i += 2 {
				body[extra[i].(string)] = extra[i+1]
			}
			return e.do("POST", "/api/v1/tax/quote", "", body)
		}
		// The building example of local-taxes.md §3: 55 m² usable, zone A, rank I, built 1970 → 438.
		r := quote(map[string]any{"kind": "building", "owner_kind": "individual", "use": "residential", "construction_type": "A",
			"utilities": true, "usable_area_m2": "55.00", "zone": "A", "year_built": 1970})
		if r.Status != 200 || r.Body["annual_tax"] != "438.00" || r.Body["budget_code"] != "07.02.01.01" {
			t.Fatalf("building: %d %s", r.Status, r.Raw)
		}
		if inst := r.Body["installments"].([]any); len(inst) != 2 || inst[0].(map[string]any)["amount"] != "219.00" {
			t.Fatalf("building instalments: %s", r.Raw)
		}
		// A truck ≥ 12 t: a council parameter with no national default (art. 470 alin. (5)).
		r = quote(map[string]any{"kind": "vehicle", "category": "truck", "axles": 2, "max_mass_kg": 13500, "air_suspension": false})
		if r.Status != 422 || strings.Join(fieldNames(r), ",") != "object.max_mass_kg" || !strings.Contains(r.Body["detail"].(string), "vehicle.truck.axles2.*") {
			t.Fatalf("truck: %d %s", r.Status, r.Raw)
		}
		// A bus (row 7, Euro 6): 45 groups × 26.4 × 1.5 = 1,782 lei.
		r = quote(map[string]any{"kind": "vehicle", "category": "bus", "engine_cc": 9000, "emission_class": "euro6", "propulsion": "combustion"})
		if r.Status != 200 || r.Body["annual_tax"] != "1782.00" {
			t.Fatalf("bus: %d %s", r.Status, r.Raw)
		}
		// Electric: 40 lei, no surcharge; ≤ 50 lei is one instalment on 31 March.
		r = quote(map[string]any{"kind": "vehicle", "category": "car", "propulsion": "electric"})
		if r.Status != 200 || r.Body["annual_tax"] != "40.00" || len(r.Body["installments"].([]any)) != 1 || r.Body["early_payment_bonus"] != "4.00" {
			t.Fatalf("electric: %d %s", r.Status, r.Raw)
		}
		// Paid by the first deadline: the bonus.
		r = quote(map[string]any{"kind": "vehicle", "category": "car", "engine_cc": 1598, "emission_class": "euro6", "propulsion": "combustion"}, "paid_on", "2026-03-31")
		if s := r.Body["settlement"].(map[string]any); s["bonus"] != "20.00" || s["total"] != "178.00" || s["late_fees"] != "0.00" {
			t.Fatalf("early payment: %s", r.Raw)
		}
		// A value the council has not entered (trailers): 422 naming the rate.
		r = quote(map[string]any{"kind": "vehicle", "category": "trailer", "max_mass_kg": 2500})
		if r.Status != 422 || strings.Join(fieldNames(r), ",") != "object.max_mass_kg" || !strings.Contains(r.Body["detail"].(string), "vehicle.trailer.*") {
			t.Fatalf("missing rate: %d %s", r.Status, r.Raw)
		}
		// A year whose indexed table is not configured: 422 naming year.
		r = quote(map[string]any{"kind": "vehicle", "category": "car", "engine_cc": 1598, "emission_class": "euro6", "propulsion": "combustion"}, "year", 2027)
		if r.Status != 422 || strings.Join(fieldNames(r), ",") != "year" || !strings.Contains(r.Body["detail"].(string), "2027") {
			t.Fatalf("missing year: %d %s", r.Status, r.Raw)
		}
		// Unknown municipality: 404 naming municipality.
		r = quote(map[string]any{"kind": "vehicle", "category": "car", "propulsion": "electric"}, "municipality", "atlantida")
		if r.Status != 404 || strings.Join(fieldNames(r), ",") != "municipality" {
			t.Fatalf("unknown municipality: %d %s", r.Status, r.Raw)
		}
		// Bad fields: validator/v10 tags first, then the engine's rules.
		r = quote(map[string]any{"kind": "vehicle", "category": "plane", "engine_cc": -1, "propulsion": "combustion"})
		if f := fieldNames(r); r.Status != 422 || !slices.Contains(f, "object.category") || !slices.Contains(f, "object.engine_cc") {
			t.Fatalf("bad fields: %d %s", r.Status, r.Raw)
		}
		r = quote(map[string]any{"kind": "vehicle", "category": "car", "propulsion": "combustion"})
		if f := fieldNames(r); r.Status != 422 || !slices.Contains(f, "object.engine_cc") || !slices.Contains(f, "object.emission_class") {
			t.Fatalf("engine rules: %d %s", r.Status, r.Raw)
		}
		if r = e.do("POST", "/api/v1/tax/quote", "", `{"year": 2026, "object": {"kind": "vehicle"}`); r.Status != 400 {
			t.Fatalf("malformed: %d %s", r.Status, r.Raw)
		}
		if r = e.do("POST", "/api/v1/tax/quote", "", `{"municipality": "timisoara", "year": "2026", "object": {"kind": "vehicle"}}`); r.Status != 422 || fieldNames(r)[0] != "year" {
			t.Fatalf("wrong type: %d %s", r.Status, r.Raw)
		}
		r = quote(map[string]any{"kind": "vehicle", "category": "car", "propulsion": "electric"}, "paid_on", "2026-02-30")
		if r.Status != 422 && r.Status != 400 {
			t.Fatalf("bad paid_on: %d %s", r.Status, r.Raw)
		}
		// An administrator's override is used at once.
		p := map[string]any{"key": "vehicle.surcharge_pct", "effective_from": "2026-01-01", "value": "100", "legal_basis": "HCL test 2026",
			"decision": map[string]any{"number": "5/2026", "date": "2026-01-15"}}
		if r = e.do("POST", "/api/v1/admin/parameters", e.tokens["admin"], p); r.Status != 201 || r.Body["replaces_embedded"] != true {
			t.Fatalf("override: %d %s", r.Status, r.Raw)
		}
		if r = e.do("POST", "/api/v1/tax/quote", "", contractQuote); r.Body["annual_tax"] != "264.00" {
			t.Fatalf("quote after override: %s", r.Raw)
		}
	})
}

// TestQuoteExamplesPassTags: validator/v10 accepts every example of the
// contract and of the domain reference, and the engine accepts them too.
func TestQuoteExamplesPassTags(t *testing.T) {
	examples := []string{
		contractQuote,
		`{"municipality": "timisoara", "year": 2026, "object": {"kind": "building", "owner_kind": "individual", "use": "residential", "construction_type": "A", "utilities": true, "built_area_m2": "77.00", "zone": "A"}}`,
		`{"municipality": "timisoara", "year": 2026, "object": {"kind": "building", "owner_kind": "individual", "use": "residential", "construction_type": "A", "utilities": true, "usable_area_m2": "55.00", "zone": "A", "year_built": 1970}}`,
		`{"municipality": "timisoara", "year": 2026, "object": {"kind": "building", "owner_kind": "company", "use": "non_residential", "taxable_value": "1000000.00"}}`,
		`{"municipality": "timisoara", "year": 2026, "object": {"kind": "vehicle", "category": "car", "engine_cc": 1598, "propulsion": "hybrid", "co2_g_km": 120}}`,
		`{"municipality": "timisoara", "year": 2026, "object": {"kind": "vehicle", "category": "car", "propulsion": "electric"}}`,
		`{"municipality": "timisoara", "year": 2026, "object": {"kind": "vehicle", "category": "motorcycle", "engine_cc": 650, "emission_class": "non_euro", "propulsion": "combustion"}}`,
		`{"municipality": "timisoara", "year": 2026, "object": {"kind": "vehicle", "category": "truck", "axles": 3, "max_mass_kg": 20000, "air_suspension": true}}`,
		`{"municipality": "timisoara", "year": 2026, "object": {"kind": "vehicle", "category": "trailer", "max_mass_kg": 2500}}`,
		`{"municipality": "timisoara", "year": 2026, "object": {"kind": "vehicle", "category": "boat", "boat_type": "yacht"}}`,
	}
	eng := &calc.Engine{}
	for i, ex := range examples {
		var in calc.QuoteInput
		dec := json.NewDecoder(bytes.NewReader([]byte(ex)))
		if err := dec.Decode(&in); err != nil {
			t.Fatalf("example %d: %v", i, err)
		}
		if err := web.Check(&in); err != nil {
			t.Errorf("example %d refused by the tags: %v", i, err)
		}
		// The engine's own validation: only "unknown municipality" may come
		// back from an engine without parameters, never a field error.
		if _, err := eng.Quote(in); err != nil {
			var ie calc.InputErrors
			if errorsAs(err, &ie) {
				t.Errorf("example %d refused by the engine: %v", i, err)
			}
		}
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
