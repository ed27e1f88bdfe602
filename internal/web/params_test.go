package web_test

import (
	"slices"
	"strconv"
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

// keysOf lists the keys of a coverage list.
func keysOf(list any) []string {
	var out []string
	for _, x := range list.([]any) {
		out = append(out, x.(map[string]any)["key"].(string))
	}
	return out
}

// TestCouncilDecisionAndCoverage: the coverage of a year lists what is
// configured and what is missing; a decision's values go in at once, all
// or none, carry the decision, and the quote cites it; bad input is 422
// naming each field and changes nothing.
func TestCouncilDecisionAndCoverage(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		admin := e.tokens["admin"]
		if r := e.do("GET", "/api/v1/admin/parameter-coverage?year=2026", e.tokens["officer"], nil); r.Status != 403 {
			t.Fatalf("officer: %d", r.Status)
		}
		if r := e.do("GET", "/api/v1/admin/parameter-coverage", admin, nil); r.Status != 422 || fieldNames(r)[0] != "year" {
			t.Fatalf("no year: %d %s", r.Status, r.Raw)
		}
		cov := e.do("GET", "/api/v1/admin/parameter-coverage?year=2026", admin, nil)
		if cov.Status != 200 {
			t.Fatalf("coverage: %d %s", cov.Status, cov.Raw)
		}
		missing, configured := keysOf(cov.Body["missing"]), keysOf(cov.Body["configured"])
		for _, k := range []string{"land.intravilan.constructions.rank1.zone_a", "land.intravilan.constructions.rank1.zone_d", "land.extravilan.arable",
			"vehicle.registered.small.per_group", "vehicle.truck.*", "vehicle.trailer.*", "vehicle.boat.*", "building.individual.non_residential.rate_pct"} {
			if !slices.Contains(missing, k) {
				t.Errorf("2026 missing lacks %s: %v", k, missing)
			}
		}
		for _, k := range []string{"vehicle.engine.row6.euro4", "vehicle.engine.row8.hybrid", "vehicle.tractor.per_group", "building.value_m2.d.no_utilities",
			"building.basement_or_attic.other_pct", "land.intravilan.beach.zone_c", "land.intravilan.coef.rank1", "land.extravilan.roads", "vehicle.surcharge_pct"} {
			if !slices.Contains(configured, k) {
				t.Errorf("2026 configured lacks %s", k)
			}
		}
		for _, m := range cov.Body["missing"].([]any) {
			if m := m.(map[string]any); m["key"] == "land.intravilan.constructions.rank1.zone_b" {
				if rg := m["range"].(map[string]any); rg["min"] != "5199" || rg["max"] != "12998" || rg["legal_basis"] != "Codul fiscal art. 465 alin. (2)" || m["kind"] != "land" {
					t.Errorf("range in coverage: %v", m)
				}
			}
		}
		// 2027: the indexed amounts are missing until next year's values are adopted.
		cov27 := e.do("GET", "/api/v1/admin/parameter-coverage?year=2027", admin, nil)
		if m := keysOf(cov27.Body["missing"]); !slices.Contains(m, "vehicle.engine.row1.euro6") || !slices.Contains(m, "building.value_m2.a.utilities") {
			t.Errorf("2027 missing %v", m)
		}

		landQuote := map[string]any{"municipality": "timisoara", "year": 2026,
			"object": map[string]any{"kind": "land", "location": "intravilan", "zone": "B", "use_category": "constructions", "area_m2": "1000.00"}}
		decision := map[string]any{"number": "123/2025", "date": "2025-12-15"}
		good := []any{
			map[string]any{"key": "land.intravilan.constructions.rank1.zone_a", "value": "10000"},
			map[string]any{"key": "land.intravilan.constructions.rank1.zone_b", "value": "8000"},
			map[string]any{"key": "land.intravilan.constructions.rank1.zone_c", "value": "5000"},
			map[string]any{"key": "land.intravilan.constructions.rank1.zone_d", "value": "2000", "note": "periphery"},
			map[string]any{"key": "land.extravilan.arable", "value": "120"},
		}
		// Bad input, every field named, nothing entered.
		bad := []any{
			map[string]any{"key": "land.intravilan.constructions.rank1.zone_a", "value": "zece mii"},
			map[string]any{"key": "land.intravilan.castles.zone_a", "value": "10"},
			map[string]any{"key": "land.extravilan.arable", "value": "200"},
			map[string]any{"key": "land.extravilan.pasture", "value": "60"},
			map[string]any{"key": "land.extravilan.pasture", "value": "61"},
		}
		r := e.do("POST", "/api/v1/admin/council-decisions", admin, map[string]any{"decision": decision, "effective_from": "2026-01-01", "values": bad})
		if f := fieldNames(r); r.Status != 422 || !slices.Equal(f, []string{"values[0].value", "values[1].key", "values[2].value", "values[4].key"}) ||
			!strings.Contains(errorMessages(r), "112-134") {
			t.Fatalf("bad values: %d %s", r.Status, r.Raw)
		}
		for name, body := range map[string]struct {
			body  map[string]any
			field string
		}{
			"decision date":  {map[string]any{"decision": map[string]any{"number": "1/2026", "date": "2025-02-30"}, "effective_from": "2026-01-01", "values": good}, "decision.date"},
			"effective date": {map[string]any{"decision": decision, "effective_from": "2026-13-01", "values": good}, "effective_from"},
			"dotted date":    {map[string]any{"decision": map[string]any{"number": "1/2026", "date": "15.12.2025"}, "effective_from": "2026-01-01", "values": good}, "decision.date"},
			"number as date": {map[string]any{"decision": decision, "effective_from": 20260101, "values": good}, "effective_from"},
			"no number":      {map[string]any{"decision": map[string]any{"date": "2025-12-15"}, "effective_from": "2026-01-01", "values": good}, "decision.number"},
			"no values":      {map[string]any{"decision": decision, "effective_from": "2026-01-01", "values": []any{}}, "values"},
		} {
			r := e.do("POST", "/api/v1/admin/council-decisions", admin, body.body)
			if r.Status != 422 || !slices.Contains(fieldNames(r), body.field) {
				t.Errorf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		if r := e.do("POST", "/api/v1/tax/quote", "", landQuote); r.Status != 422 {
			t.Fatalf("after refused decisions the quote computed: %s", r.Raw)
		}
		// The decision in one go.
		r = e.do("POST", "/api/v1/admin/council-decisions", admin, map[string]any{"decision": decision, "effective_from": "2026-01-01", "values": good})
		if r.Status != 201 || len(r.Body["items"].([]any)) != 5 {
			t.Fatalf("decision: %d %s", r.Status, r.Raw)
		}
		first := r.Body["items"].([]any)[0].(map[string]any)
		if first["decision"].(map[string]any)["number"] != "123/2025" || first["legal_basis"] != "Codul fiscal art. 465 alin. (2)" {
			t.Errorf("item %v", first)
		}
		// The quote computes and cites the decision: 0.1 ha × 8,000 = 800 lei.
		q := e.do("POST", "/api/v1/tax/quote", "", landQuote)
		if q.Status != 200 || q.Body["annual_tax"] != "800.00" ||
			q.Body["lines"].([]any)[0].(map[string]any)["legal_basis"] != "Codul fiscal art. 465 alin. (2); HCL 123/2025" {
			t.Fatalf("quote: %d %s", q.Status, q.Raw)
		}
		cov = e.do("GET", "/api/v1/admin/parameter-coverage?year=2026", admin, nil)
		if m := keysOf(cov.Body["missing"]); slices.Contains(m, "land.intravilan.constructions.rank1.zone_b") || slices.Contains(m, "land.extravilan.arable") {
			t.Errorf("still missing after the decision: %v", m)
		}
		// All or none: one value already entered makes the whole decision 409.
		again := []any{map[string]any{"key": "land.extravilan.pasture", "value": "60"}, map[string]any{"key": "land.extravilan.arable", "value": "121"}}
		r = e.do("POST", "/api/v1/admin/council-decisions", admin, map[string]any{"decision": decision, "effective_from": "2026-01-01", "values": again})
		if r.Status != 409 || !slices.Contains(fieldNames(r), "values[1].effective_from") {
			t.Fatalf("conflict: %d %s", r.Status, r.Raw)
		}
		if m := keysOf(e.do("GET", "/api/v1/admin/parameter-coverage?year=2026", admin, nil).Body["missing"]); !slices.Contains(m, "land.extravilan.pasture") {
			t.Errorf("a refused decision entered a value")
		}
		if r = e.do("GET", "/api/v1/audit/verify", admin, nil); r.Status != 200 || r.Body["valid"] != true {
			t.Fatalf("audit: %d %s", r.Status, r.Raw)
		}
	})
}

// TestParameterDraft2027: a 2027 quote names the missing parameter; a draft
// from 2026 with 5.6% shows each line with its rule and legal basis, a line
// can be corrected (inside the law's range), and once adopted the 2027
// quote computes and cites the new decision. Bad input changes nothing.
func TestParameterDraft2027(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		admin := e.tokens["admin"]
		car27 := map[string]any{"municipality": "timisoara", "year": 2027,
			"object": map[string]any{"kind": "vehicle", "category": "car", "engine_cc": 1598, "emission_class": "euro6", "propulsion": "combustion"}}
		r := e.do("POST", "/api/v1/tax/quote", "", car27)
		if r.Status != 422 || !strings.Contains(r.Body["detail"].(string), "(parameter vehicle.engine.row1.euro6)") {
			t.Fatalf("2027 before: %d %s", r.Status, r.Raw)
		}
		draft := map[string]any{"from_year": 2026, "to_year": 2027, "inflation_pct": "5.6", "eur_ron": "5.0900",
			"decision": map[string]any{"number": "200/2026", "date": "2026-12-15"}}
		with := func(k string, v any) map[string]any {
			m := map[string]any{}
			for kk, vv := range draft {
				m[kk] = vv
			}
			m[k] = v
			return m
		}
		for field, body := range map[string]map[string]any{
			"from_year":     with("from_year", 2023),
			"to_year":       with("to_year", 2029),
			"inflation_pct": with("inflation_pct", "cinci"),
			"eur_ron":       with("eur_ron", "5,09"),
			"decision.date": with("decision", map[string]any{"number": "1/2026", "date": "2026-02-30"}),
		} {
			if field == "from_year" {
				body["to_year"] = 2024
			}
			r := e.do("POST", "/api/v1/admin/parameter-drafts", admin, body)
			if r.Status != 422 || !slices.Contains(fieldNames(r), field) {
				t.Errorf("%s: %d %s", field, r.Status, r.Raw)
			}
		}
		if r := e.do("POST", "/api/v1/admin/parameter-drafts", e.tokens["officer"], draft); r.Status != 403 {
			t.Errorf("officer: %d", r.Status)
		}
		r = e.do("POST", "/api/v1/admin/parameter-drafts", admin, draft)
		if r.Status != 201 || r.Body["status"] != "draft" || r.Body["from_year"] != float64(2026) || r.Body["to_year"] != float64(2027) {
			t.Fatalf("draft: %d %s", r.Status, r.Raw)
		}
		id := int64(r.Body["id"].(float64))
		if id != 1 {
			t.Errorf("refused drafts left rows: id %d", id)
		}
		lines := map[string]map[string]any{}
		for _, l := range r.Body["lines"].([]any) {
			l := l.(map[string]any)
			lines[l["key"].(string)] = l
		}
		if l := lines["vehicle.engine.row1.euro6"]; l["from_value"] != "16.5" || l["to_value"] != "17.42" || l["rule"] != "indexed" ||
			l["legal_basis"] != "Codul fiscal art. 470 alin. (2); Codul fiscal art. 491 alin. (1)" {
			t.Errorf("row 1 line %v", l)
		}
		if l := lines["vehicle.surcharge_pct"]; l["rule"] != "unchanged" || l["to_value"] != "50" {
			t.Errorf("surcharge line %v", l)
		}
		path := "/api/v1/admin/parameter-drafts/" + strconv.FormatInt(id, 10)
		if g := e.do("GET", path, admin, nil); g.Status != 200 || len(g.Body["lines"].([]any)) != len(lines) {
			t.Fatalf("get: %d %s", g.Status, g.Raw)
		}
		// Corrections: inside the range, outside, not a decimal, unknown line.
		for _, c := range []struct {
			key, value string
			status     int
		}{
			{"vehicle.surcharge_pct", "150", 422}, {"vehicle.surcharge_pct", "6O", 422}, {"vehicle.boat.yacht", "10", 404},
			{"vehicle.surcharge_pct", "60", 200},
		} {
			r := e.do("PATCH", path+"/lines/"+c.key, admin, map[string]any{"to_value": c.value})
			if r.Status != c.status || (c.status == 422 && !slices.Contains(fieldNames(r), "to_value")) {
				t.Errorf("correct %s=%s: %d %s", c.key, c.value, r.Status, r.Raw)
			}
		}
		if r := e.do("PATCH", path+"/lines/range.land.extravilan.arable.max", admin, map[string]any{"to_value": "500"}); r.Status != 422 || !slices.Contains(fieldNames(r), "key") {
			t.Errorf("correct a range bound: %d %s", r.Status, r.Raw)
		}
		if r := e.do("PATCH", path+"/lines/vehicle.trailer.mass1000-3000", admin, map[string]any{"to_value": "1"}); r.Status != 404 {
			t.Errorf("a key with a dash and no line: %d %s", r.Status, r.Raw)
		}
		// Before adoption the 2027 quote still names the parameter.
		if r := e.do("POST", "/api/v1/tax/quote", "", car27); r.Status != 422 {
			t.Fatalf("2027 before adoption: %d %s", r.Status, r.Raw)
		}
		r = e.do("POST", path+"/adopt", admin, nil)
		if r.Status != 200 || r.Body["status"] != "adopted" {
			t.Fatalf("adopt: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", path+"/adopt", admin, nil); r.Status != 409 {
			t.Errorf("adopt twice: %d", r.Status)
		}
		if r := e.do("PATCH", path+"/lines/vehicle.surcharge_pct", admin, map[string]any{"to_value": "40"}); r.Status != 409 {
			t.Errorf("correct after adoption: %d", r.Status)
		}
		// 8 × 17.42 = 139.36; + 60% = 83.62; 222.98 → 223 lei, citing HCL 200/2026.
		r = e.do("POST", "/api/v1/tax/quote", "", car27)
		if r.Status != 200 || r.Body["annual_tax"] != "223.00" {
			t.Fatalf("2027 after adoption: %d %s", r.Status, r.Raw)
		}
		ql := r.Body["lines"].([]any)
		if ql[0].(map[string]any)["legal_basis"] != "Codul fiscal art. 470 alin. (2); HCL 200/2026" ||
			ql[1].(map[string]any)["legal_basis"] != "Codul fiscal art. 489; HCL 200/2026" {
			t.Errorf("2027 lines %v", ql)
		}
		// The adopted range is the law's indexed alike: 18,000 lei/ha is inside
		// 7,263.17-18,156.86 for 2027 (outside 2026's 6,878-17,194).
		land27 := map[string]any{"key": "land.intravilan.constructions.rank1.zone_a", "effective_from": "2027-01-01", "value": "18000",
			"decision": map[string]any{"number": "201/2026", "date": "2026-12-16"}}
		if r := e.do("POST", "/api/v1/admin/parameters", admin, land27); r.Status != 201 {
			t.Errorf("2027 land value in the indexed range: %d %s", r.Status, r.Raw)
		}
		land27["effective_from"], land27["value"] = "2026-06-01", "18000"
		if r := e.do("POST", "/api/v1/admin/parameters", admin, land27); r.Status != 422 || !strings.Contains(errorMessages(r), "6878-17194") {
			t.Errorf("2026 land value outside 2026's range: %d %s", r.Status, r.Raw)
		}
		// 2026 is untouched: 198 lei.
		car26 := map[string]any{"municipality": "timisoara", "year": 2026, "object": car27["object"]}
		if r := e.do("POST", "/api/v1/tax/quote", "", car26); r.Body["annual_tax"] != "198.00" {
			t.Errorf("2026 after adoption: %s", r.Raw)
		}
		if r = e.do("GET", "/api/v1/audit/verify", admin, nil); r.Status != 200 || r.Body["valid"] != true {
			t.Fatalf("audit: %d %s", r.Status, r.Raw)
		}
	})
}
