package web_test

import (
	"fmt"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestTaxDecisionNamesCouncilDecision: the tax decision an approval issues
// cites the council decision of a local value with its number and date
// (the quote line cites "HCL <number>"; the signed decision adds the date).
func TestTaxDecisionNamesCouncilDecision(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		r := e.do("POST", "/api/v1/admin/council-decisions", e.tokens["admin"], map[string]any{
			"decision": map[string]any{"number": "12/2025", "date": "2025-12-10"}, "effective_from": "2026-01-01",
			"values": []any{map[string]any{"key": "vehicle.surcharge_pct", "value": "50"}}})
		if r.Status != 201 {
			t.Fatalf("decision: %d %s", r.Status, r.Raw)
		}
		anaID, ana := e.taxpayer("ana", "2850615350041")
		id := e.fullCase(anaID, ana, "WVWZZZAUZHW123456", "2025-12-15")
		if r := e.do("POST", casePath(id, "/review"), e.tokens["officer"], map[string]any{"decision": "approve"}); r.Status != 200 {
			t.Fatalf("review: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/sign"), e.tokens["signer"], map[string]any{"decision": "approve"}); r.Status != 200 {
			t.Fatalf("sign: %d %s", r.Status, r.Raw)
		}
		var url string
		for _, it := range e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/documents", anaID), ana, nil).Body["items"].([]any) {
			if d := it.(map[string]any); d["type"] == "tax_decision" {
				url = d["pdf_url"].(string)
			}
		}
		if url == "" {
			t.Fatal("no tax decision issued")
		}
		text := flatText(t, e.do("GET", url, ana, nil).Raw)
		if !strings.Contains(text, "HCL 12/2025 din 10.12.2025") || !strings.Contains(text, "198.00") {
			t.Errorf("the tax decision does not name the council decision with its date: %s", text)
		}
	})
}
