package portal_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestParamPages: the administrator's coverage, council decision and
// next-year draft pages — who may not open them, the law's range refusal
// next to its field in both languages, a decision entered in one go, a
// 2027 draft from 2026 with its differences table, a line corrected and
// the draft adopted.
func TestParamPages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		adm, off, tp := s.client(), s.client(), s.client()
		adm.login("admin", staffPassword("admin"))
		off.login("ioana", staffPassword("ioana"))
		tp.register("ana", "2850615350041", "Ana Popescu")
		for _, path := range []string{"/admin/parameters/coverage?year=2026", "/admin/council-decisions", "/admin/parameter-drafts", "/admin/parameter-drafts/1"} {
			if p := s.client().get(path); p.Status != 303 || !strings.HasPrefix(p.Location, "/login") {
				t.Errorf("anonymous %s: %d", path, p.Status)
			}
			for name, c := range map[string]*client{"officer": off, "taxpayer": tp} {
				if p := c.get(path); p.Status != 403 {
					t.Errorf("%s on %s: %d", name, path, p.Status)
				}
			}
		}
		for _, path := range []string{"/admin/council-decisions", "/admin/parameter-drafts", "/admin/parameter-drafts/1/adopt", "/admin/parameter-drafts/1/lines"} {
			if p := off.post(path, url.Values{"_csrf": {off.csrf("/staff")}, "decision_number": {"1/2026"}}); p.Status != 403 {
				t.Errorf("officer posting %s: %d", path, p.Status)
			}
		}

		// Coverage: the land-with-buildings key of Timișoara (rank I) is missing, with its range and article.
		const key = "land.intravilan.constructions.rank1.zone_a"
		p := adm.get("/admin/parameters/coverage?year=2026")
		if p.Status != 200 {
			t.Fatalf("coverage: %d", p.Status)
		}
		row := regexp.MustCompile(`(?s)<tr data-key="` + regexp.QuoteMeta(key) + `" class="cov-missing">.*?</tr>`).FindString(p.Body)
		if !strings.Contains(row, "6878 – 17194") || !strings.Contains(row, "Codul fiscal art. 465 alin. (2)") ||
			!strings.Contains(row, `href="/admin/council-decisions?year=2026&amp;key=`+key+`"`) {
			t.Fatalf("missing key's row: %q", row)
		}
		if !strings.Contains(p.Body, `class="cov-national"`) || !strings.Contains(p.Body, "din lege (națională)") {
			t.Fatal("no national value listed")
		}
		if p := adm.get("/admin/parameters/coverage?year=2026&lang=en"); !strings.Contains(p.Body, "the law&#39;s (national)") || !strings.Contains(p.Body, ">missing<") {
			t.Fatal("coverage in English")
		}

		// The decision form, prefilled from the coverage link.
		if p := adm.get("/admin/council-decisions?year=2026&key=" + key); !strings.Contains(p.Body, `value="`+key+`"`) {
			t.Fatal("the key is not prefilled")
		}
		tok := adm.csrf("/admin/council-decisions")
		form := url.Values{"_csrf": {tok}, "decision_number": {"5/2026"}, "decision_date": {"2026-01-20"}, "effective_from": {"2026-01-01"},
			"values.0.key": {"vehicle.surcharge_pct"}, "values.0.value": {"10"},
			"values.2.key": {key}, "values.2.value": {"20000"}}
		p = adm.post("/admin/council-decisions?lang=ro", form)
		if p.Status != 422 {
			t.Fatalf("out of range: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-values-2-value": "20000 este în afara intervalului 6878-17194 din Codul fiscal art. 465 alin. (2) pentru 2026"})
		p = adm.post("/admin/council-decisions?lang=en", form)
		checkFieldErrors(t, p.Body, map[string]string{"f-values-2-value": "20000 is outside the range 6878-17194 of Codul fiscal art. 465 alin. (2) for 2026: enter a value from 6878 to 17194."})
		// All or none: the valid value of the refused decision was not entered.
		if p := adm.get("/admin/council-decisions?year=2026"); strings.Contains(p.Body, "HCL 5/2026") {
			t.Fatal("a refused decision left a value")
		}
		bad := url.Values{"_csrf": {tok}, "decision_number": {""}, "decision_date": {"2026-02-30"}, "effective_from": {"2026-01-01"}, "values.0.key": {key}, "values.0.value": {"zece"}}
		p = adm.post("/admin/council-decisions", bad)
		if p.Status != 422 || !strings.Contains(p.Body, `id="f-decision-date-error"`) {
			t.Fatalf("bad decision: %d", p.Status)
		}
		form.Set("values.2.value", "10000,50")
		if p = adm.post("/admin/council-decisions", form); p.Status != 303 || p.Location != "/admin/council-decisions?year=2026" {
			t.Fatalf("decision: %d %s", p.Status, p.Body)
		}
		p = adm.get("/admin/council-decisions?year=2026&lang=ro")
		if !strings.Contains(p.Body, "HCL 5/2026 din 20 ianuarie 2026") || !strings.Contains(p.Body, "10000.50") {
			t.Fatal("the decision is not listed")
		}
		row = regexp.MustCompile(`(?s)<tr data-key="` + regexp.QuoteMeta(key) + `" class="cov-council">.*?</tr>`).FindString(adm.get("/admin/parameters/coverage?year=2026").Body)
		if !strings.Contains(row, "10000.50") || !strings.Contains(row, "HCL 5/2026") {
			t.Fatalf("the council's value in the coverage: %q", row)
		}

		// Next year's draft: refused input next to its fields, then 2027 from 2026 at 5.6%.
		tok = adm.csrf("/admin/parameter-drafts")
		p = adm.post("/admin/parameter-drafts", url.Values{"_csrf": {tok}, "from_year": {"2026"}, "to_year": {"2027"}, "inflation_pct": {"cinci"},
			"decision_number": {"9/2026"}, "decision_date": {"2026-12-15"}})
		if p.Status != 422 || !strings.Contains(p.Body, `id="f-inflation-pct-error"`) {
			t.Fatalf("bad inflation: %d", p.Status)
		}
		p = adm.post("/admin/parameter-drafts", url.Values{"_csrf": {tok}, "from_year": {"2026"}, "to_year": {"2027"}, "inflation_pct": {"5,6"},
			"eur_ron": {"5.09"}, "decision_number": {"9/2026"}, "decision_date": {"2026-12-15"}})
		if p.Status != 303 || !strings.HasPrefix(p.Location, "/admin/parameter-drafts/") {
			t.Fatalf("create draft: %d %s", p.Status, p.Body)
		}
		draft := p.Location
		p = adm.get(draft)
		if p.Status != 200 || !strings.Contains(p.Body, `id="draft-diff"`) {
			t.Fatalf("draft page: %d", p.Status)
		}
		// The council's land value indexed by 5.6%: 10000.50 → 10560.53, +560.03 (+5.60 %).
		row = regexp.MustCompile(`(?s)<tr data-key="` + regexp.QuoteMeta(key) + `"[^>]*>.*?</tr>`).FindString(p.Body)
		if !strings.Contains(row, ">10000.5<") || !strings.Contains(row, ">10560.53<") || !strings.Contains(row, "&#43;560.03 (&#43;5.60 %)") ||
			!strings.Contains(row, "indexată cu inflația") {
			t.Fatalf("land line: %q", row)
		}
		if !strings.Contains(adm.get("/admin/parameter-drafts").Body, `href="`+draft+`"`) {
			t.Fatal("the draft is not listed")
		}
		// A correction outside the law's range (indexed alike) is refused next to its field; one inside is kept.
		tok = adm.csrf(draft)
		p = adm.post(draft+"/lines", url.Values{"_csrf": {tok}, "key": {key}, "to_value": {"99999"}})
		if p.Status != 422 || !strings.Contains(p.Body, `id="f-to-value-error"`) || !strings.Contains(p.Body, "în afara intervalului") {
			t.Fatalf("correction out of range: %d", p.Status)
		}
		if p = adm.post(draft+"/lines", url.Values{"_csrf": {tok}, "key": {key}, "to_value": {"10600"}}); p.Status != 303 {
			t.Fatalf("correction: %d %s", p.Status, p.Body)
		}
		if row := regexp.MustCompile(`(?s)<tr data-key="` + regexp.QuoteMeta(key) + `"[^>]*>.*?</tr>`).FindString(adm.get(draft).Body); !strings.Contains(row, ">10600<") {
			t.Fatalf("corrected line: %q", row)
		}
		if p = adm.post(draft+"/adopt", url.Values{"_csrf": {tok}}); p.Status != 303 {
			t.Fatalf("adopt: %d %s", p.Status, p.Body)
		}
		p = adm.get(draft + "?lang=en")
		if !strings.Contains(p.Body, `id="draft-adopted"`) || strings.Contains(p.Body, `id="adopt-form"`) {
			t.Fatal("the adopted draft still offers adoption")
		}
		// Adopting twice or correcting an adopted draft: refused, shown on the page.
		if p = adm.post(draft+"/adopt", url.Values{"_csrf": {tok}}); p.Status != 409 || !strings.Contains(p.Body, `id="f-adopt-error"`) {
			t.Fatalf("adopt twice: %d", p.Status)
		}
		if p = adm.post(draft+"/lines", url.Values{"_csrf": {tok}, "key": {key}, "to_value": {"10000"}}); p.Status != 409 {
			t.Fatalf("correct after adoption: %d", p.Status)
		}
		// 2027 now has the council's value under the new decision.
		row = regexp.MustCompile(`(?s)<tr data-key="` + regexp.QuoteMeta(key) + `" class="cov-council">.*?</tr>`).FindString(adm.get("/admin/parameters/coverage?year=2027").Body)
		if !strings.Contains(row, ">10600<") || !strings.Contains(row, "HCL 9/2026") {
			t.Fatalf("2027 coverage: %q", row)
		}
		if p := adm.get("/admin/parameter-drafts/99999"); p.Status != 404 {
			t.Fatalf("unknown draft: %d", p.Status)
		}
	})
}
