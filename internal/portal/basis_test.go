package portal_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestExplanationNamesTheDecision: once the council's decision sets a value
// (here the art. 489 surcharge on vehicles), the explanation lines of a case's
// tax preview — for the taxpayer and the officer — and of the calculator name
// the decision with its number and date.
func TestExplanationNamesTheDecision(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		adm, off, ana := s.client(), s.client(), s.client()
		adm.login("admin", staffPassword("admin"))
		off.login("ioana", staffPassword("ioana"))
		ana.register("ana", "2850615350041", "Ana Popescu")
		const cited = "Codul fiscal art. 489; HCL 12/2025 din 10 decembrie 2025"
		calc := "/calculator?lang=ro&object.kind=vehicle&year=2026&object.category=car&object.propulsion=combustion&object.engine_cc=1598&object.emission_class=euro6"
		if p := s.client().get(calc); p.Status != 200 || strings.Contains(p.Body, "HCL 12/2025") {
			t.Fatalf("before the decision: %d", p.Status)
		}
		p := adm.post("/admin/council-decisions", url.Values{"_csrf": {adm.csrf("/admin/council-decisions")}, "decision_number": {"12/2025"},
			"decision_date": {"2025-12-10"}, "effective_from": {"2026-01-01"}, "values.0.key": {"vehicle.surcharge_pct"}, "values.0.value": {"10"}})
		if p.Status != 303 {
			t.Fatalf("decision: %d %s", p.Status, p.Body)
		}
		if p := s.client().get(calc); !strings.Contains(p.Body, cited) {
			t.Fatal("the calculator's explanation does not name the decision with its date")
		}
		p = ana.postMultipart("/declare/vehicle", golfForm(ana.csrf("/declare/vehicle")),
			map[string][]byte{"doc.acquisition_document": pdfDoc, "doc.vehicle_identity_card": pngDoc, "doc.owner_id": pdfDoc})
		if p.Status != 303 {
			t.Fatalf("declare: %d", p.Status)
		}
		for name, c := range map[string]*client{"taxpayer": ana, "officer": off} {
			if p := c.get(p.Location + "?lang=ro"); p.Status != 200 || !strings.Contains(p.Body, cited) {
				t.Errorf("%s's case page: %d, the explanation does not name the decision", name, p.Status)
			}
		}
	})
}
