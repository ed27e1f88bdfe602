package web_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

type skippedDay struct {
	Date   string `json:"date"`
	Reason string `json:"reason"`
}

func deadlineOf(t *testing.T, r resp) (string, []skippedDay) {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("deadline: %d %s", r.Status, r.Raw)
	}
	var out struct {
		From        string       `json:"from"`
		WorkingDays int          `json:"working_days"`
		DueOn       string       `json:"due_on"`
		Skipped     []skippedDay `json:"skipped"`
	}
	if err := json.Unmarshal(r.Raw, &out); err != nil || out.From == "" || out.Skipped == nil {
		t.Fatalf("deadline body: %v %s", err, r.Raw)
	}
	return out.DueOn, out.Skipped
}

func TestDeadlineAndBridgeDays(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		// Easter 2026 is 12 April: Good Friday 10, Easter Sunday 12 and Monday 13 are holidays.
		due, skipped := deadlineOf(t, e.do("GET", "/api/v1/calendar/deadline?from=2026-04-09&working_days=2", "", nil))
		want := []skippedDay{{"2026-04-10", "Vinerea Mare"}, {"2026-04-11", "sâmbătă"}, {"2026-04-12", "Paștele ortodox"}, {"2026-04-13", "a doua zi de Paște"}}
		if due != "2026-04-15" || !reflect.DeepEqual(skipped, want) {
			t.Fatalf("Easter: %s %v", due, skipped)
		}
		// 30 November (Sfântul Andrei) and 1 December after a weekend.
		due, skipped = deadlineOf(t, e.do("GET", "/api/v1/calendar/deadline?from=2026-11-27&working_days=1", "", nil))
		want = []skippedDay{{"2026-11-28", "sâmbătă"}, {"2026-11-29", "duminică"}, {"2026-11-30", "Sfântul Andrei"}, {"2026-12-01", "Ziua Națională a României"}}
		if due != "2026-12-02" || !reflect.DeepEqual(skipped, want) {
			t.Fatalf("30 Nov-1 Dec: %s %v", due, skipped)
		}
		if due, skipped = deadlineOf(t, e.do("GET", "/api/v1/calendar/deadline?from=2026-11-27&working_days=0", "", nil)); due != "2026-11-27" || len(skipped) != 0 {
			t.Fatalf("zero days: %s %v", due, skipped)
		}
		// Bad values: 422 naming each.
		for q, field := range map[string]string{"from=2026-02-30&working_days=2": "from", "from=2026-04-09&working_days=366": "working_days",
			"from=2026-04-09&working_days=-1": "working_days", "from=2026-04-09": "working_days", "working_days=3": "from"} {
			if r := e.do("GET", "/api/v1/calendar/deadline?"+q, "", nil); r.Status != 422 || strings.Join(fieldNames(r), ",") != field {
				t.Errorf("%s: %d %s", q, r.Status, r.Raw)
			}
		}
		if r := e.do("GET", "/api/v1/calendar/deadline?from=2026-04-09&working_days=2&municipality=atlantida", "", nil); r.Status != 404 {
			t.Errorf("unknown municipality: %d %s", r.Status, r.Raw)
		}

		// Admin: a bridge day (Friday 2 January 2026 is a holiday; use Monday 29 December... here 14 August 2026, a Friday).
		day := map[string]string{"date": "2026-08-14", "reason": "zi liberă (punte), HG test"}
		for _, role := range []string{"officer", "signer", "accountant"} {
			if r := e.do("POST", "/api/v1/admin/calendar/days", e.tokens[role], day); r.Status != 403 {
				t.Fatalf("%s added a day off: %d", role, r.Status)
			}
		}
		if r := e.do("POST", "/api/v1/admin/calendar/days", "", day); r.Status != 401 {
			t.Fatalf("anonymous: %d", r.Status)
		}
		if r := e.do("POST", "/api/v1/admin/calendar/days", e.tokens["admin"], day); r.Status != 201 {
			t.Fatalf("add day: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/v1/admin/calendar/days", e.tokens["admin"], day); r.Status != 409 {
			t.Fatalf("same day again: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/v1/admin/calendar/days", e.tokens["admin"], map[string]string{"date": "2026-08-15"}); r.Status != 422 || fieldNames(r)[0] != "date" {
			t.Fatalf("a holiday as bridge day: %d %s", r.Status, r.Raw)
		}
		due, skipped = deadlineOf(t, e.do("GET", "/api/v1/calendar/deadline?from=2026-08-13&working_days=1", "", nil))
		if due != "2026-08-17" || skipped[0] != (skippedDay{"2026-08-14", "zi liberă (punte), HG test"}) {
			t.Fatalf("with the bridge day: %s %v", due, skipped)
		}
		r := e.do("GET", "/api/v1/admin/calendar/days?year=2026", e.tokens["admin"], nil)
		if r.Status != 200 || !strings.Contains(string(r.Raw), `"2026-08-14"`) {
			t.Fatalf("list: %d %s", r.Status, r.Raw)
		}
		if r := e.do("DELETE", "/api/v1/admin/calendar/days/2026-08-14", e.tokens["officer"], nil); r.Status != 403 {
			t.Fatalf("officer delete: %d", r.Status)
		}
		if r := e.do("DELETE", "/api/v1/admin/calendar/days/2026-08-14", e.tokens["admin"], nil); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Raw)
		}
		if r := e.do("DELETE", "/api/v1/admin/calendar/days/2026-08-14", e.tokens["admin"], nil); r.Status != 404 {
			t.Fatalf("delete again: %d %s", r.Status, r.Raw)
		}
		if due, _ = deadlineOf(t, e.do("GET", "/api/v1/calendar/deadline?from=2026-08-13&working_days=1", "", nil)); due != "2026-08-14" {
			t.Fatalf("after removal: %s", due)
		}
		// Each change is audited and the chain holds.
		r = e.do("GET", "/api/v1/audit/verify", e.tokens["admin"], nil)
		if r.Status != 200 || r.Body["valid"] != true {
			t.Fatalf("audit: %d %s", r.Status, r.Raw)
		}
	})
}

func TestAdminParameters(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		taxpayer := e.do("POST", "/api/v1/auth/register", "", individual("ana", "2850615350041"))
		if taxpayer.Status != 201 {
			t.Fatal(taxpayer.Status)
		}
		anaTok := e.login("ana", "parola-lunga-1")
		list := "/api/v1/admin/parameters?key_prefix=vehicle.trailer.&year=2026"
		for who, want := range map[string]int{"": 401, "officer": 403, "signer": 403, "accountant": 403, "ana": 403} {
			tok := e.tokens[who]
			if who == "ana" {
				tok = anaTok
			}
			if r := e.do("GET", list, tok, nil); r.Status != want {
				t.Errorf("%q listing: %d", who, r.Status)
			}
			if r := e.do("POST", "/api/v1/admin/parameters", tok, map[string]string{}); r.Status != want {
				t.Errorf("%q adding: %d", who, r.Status)
			}
		}
		admin := e.tokens["admin"]
		r := e.do("GET", list, admin, nil)
		if r.Status != 200 || len(r.Body["items"].([]any)) != 0 {
			t.Fatalf("trailers are unconfigured: %d %s", r.Status, r.Raw)
		}
		bus := map[string]any{"key": "vehicle.trailer.mass1000-3000", "effective_from": "2026-01-01", "value": "30.5", "legal_basis": "HCL test 2026", "note": "test", "national": false,
			"decision": map[string]any{"number": "77/2025", "date": "2025-12-18"}}
		if r = e.do("POST", "/api/v1/admin/parameters", admin, bus); r.Status != 201 || r.Body["source"] != "database" || r.Body["replaces_embedded"] != nil {
			t.Fatalf("add: %d %s", r.Status, r.Raw)
		}
		if r = e.do("POST", "/api/v1/admin/parameters", admin, bus); r.Status != 409 {
			t.Fatalf("same key and date: %d %s", r.Status, r.Raw)
		}
		r = e.do("GET", list, admin, nil)
		items := r.Body["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["source"] != "database" || items[0].(map[string]any)["value"] != "30.5" ||
			items[0].(map[string]any)["decision"].(map[string]any)["number"] != "77/2025" {
			t.Fatalf("list after add: %s", r.Raw)
		}
		// The quote now has the trailer rate: 30.5 × 1.5 = 45.75 → 46.
		q := e.do("POST", "/api/v1/tax/quote", "", map[string]any{"municipality": "timisoara", "year": 2026,
			"object": map[string]any{"kind": "vehicle", "category": "trailer", "max_mass_kg": 2500}})
		if q.Status != 200 || q.Body["annual_tax"] != "46.00" ||
			q.Body["lines"].([]any)[0].(map[string]any)["legal_basis"] != "Codul fiscal art. 470 alin. (7); HCL 77/2025" {
			t.Fatalf("trailer quote: %d %s", q.Status, q.Raw)
		}
		// Embedded entries are listed as such.
		r = e.do("GET", "/api/v1/admin/parameters?key_prefix=vehicle.engine.row1.euro6&year=2026", admin, nil)
		if items = r.Body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["source"] != "embedded" || items[0].(map[string]any)["national"] != true {
			t.Fatalf("embedded: %s", r.Raw)
		}
		// Invalid entries: 422 naming the field.
		for field, body := range map[string]map[string]any{
			"key":         {"key": "vehicle.engine.row9.euro6", "effective_from": "2026-01-01", "value": "1", "legal_basis": "x"},
			"value":       {"key": "vehicle.engine.row8.euro6", "effective_from": "2026-01-01", "value": "1e3", "legal_basis": "x"},
			"legal_basis": {"key": "vehicle.engine.row8.euro6", "effective_from": "2026-01-01", "value": "1", "national": true},
			"decision":    {"key": "vehicle.engine.row8.euro6", "effective_from": "2026-01-01", "value": "1", "legal_basis": "x"},
		} {
			r := e.do("POST", "/api/v1/admin/parameters", admin, body)
			if f := fieldNames(r); r.Status != 422 || !slices.Contains(f, field) {
				t.Errorf("%s: %d %s", field, r.Status, r.Raw)
			}
		}
		// A date that does not exist is 422 naming the field.
		if r = e.do("POST", "/api/v1/admin/parameters", admin, map[string]any{"key": "vehicle.engine.row8.euro6", "effective_from": "2026-13-01", "value": "1", "legal_basis": "x"}); r.Status != 422 || !slices.Contains(fieldNames(r), "effective_from") {
			t.Errorf("bad date: %d %s", r.Status, r.Raw)
		}
		if r = e.do("GET", "/api/v1/admin/parameters?year=abc", admin, nil); r.Status != 422 {
			t.Errorf("bad year: %d", r.Status)
		}
		r = e.do("GET", "/api/v1/audit/verify", admin, nil)
		if r.Status != 200 || r.Body["valid"] != true {
			t.Fatalf("audit: %d %s", r.Status, r.Raw)
		}
	})
}
