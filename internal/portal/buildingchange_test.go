package portal_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/store"
)

// TestDeclareBuildingChangeForm: each current building on /account links
// to its change form; the form lists only the taxpayer's current buildings,
// refuses a future date and a missing acceptance report next to their
// inputs (no case), refuses another taxpayer's building, and files an
// extension and a change to mixed use; anonymous visitors and staff may not
// use it.
func TestDeclareBuildingChangeForm(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		ana := s.client()
		ana.register("ana", "2850615350041", "Ana Popescu")
		s.client().register("mihai", "1850315350012", "Mihai Ionescu")
		var ids []int64
		if err := s.db.SQL().Select(&ids, `SELECT id FROM taxpayers ORDER BY id`); err != nil || len(ids) != 2 {
			t.Fatalf("taxpayers: %v %v", ids, err)
		}
		ctx := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test", MunicipalityID: s.muni.ID})
		yes := true
		area := decimal.RequireFromString("55")
		flat := calc.Object{Kind: "building", Use: "residential", ConstructionType: "A", Utilities: &yes, UsableAreaM2: &area, Zone: "A", YearBuilt: 2010}
		var hs []int64
		if err := s.db.InTx(ctx, func(tx *store.Tx) error {
			for i, cad := range []string{"CAD-400100", "CAD-88"} {
				h := fiscal.Holding{TaxpayerID: ids[i], Address: "Str. Eroilor 5", CadastralNumber: cad, Share: fiscal.WholeShare,
					AcquiredOn: civil.New(2025, 6, 10), TaxedFromYear: 2026, Object: flat}
				if err := tx.InsertHolding(ctx, s.muni.ID, "building", &h, 0); err != nil {
					return err
				}
				hs = append(hs, h.ID)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		link := fmt.Sprintf("/declare/building-change?building_id=%d", hs[0])
		for _, lang := range []string{"ro", "en"} {
			acc := ana.get("/account?lang=" + lang)
			if !strings.Contains(acc.Body, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) || strings.Contains(acc.Body, fmt.Sprintf("building_id=%d", hs[1])) {
				t.Fatalf("the account (%s) does not link ana's building to its change form", lang)
			}
			p := ana.get(link + "&lang=" + lang)
			if p.Status != 200 || !strings.Contains(p.Body, fmt.Sprintf(`<option value="%d" selected>`, hs[0])) || strings.Contains(p.Body, "CAD-88") ||
				!strings.Contains(p.Body, `name="doc.proces_verbal_receptie"`) || !strings.Contains(p.Body, `name="doc.cadastral_extract"`) {
				t.Fatalf("change form (%s): %d %s", lang, p.Status, p.Body)
			}
		}
		form := func(building int64) url.Values {
			return url.Values{"_csrf": {ana.csrf("/declare/building-change")}, "data.building_id": {fmt.Sprint(building)}, "data.change": {"extension"},
				"data.usable_area_m2": {"80,5"}, "data.effective_on": {"2025-11-20"}, "data.change_document": {"proces_verbal_receptie"}}
		}
		docs := map[string][]byte{"doc.proces_verbal_receptie": pdfDoc, "doc.cadastral_extract": pngDoc}
		// A future date and no acceptance report: 422 next to each input.
		f := form(hs[0])
		f.Set("data.effective_on", "2030-01-01")
		p := ana.postMultipart("/declare/building-change", f, map[string][]byte{"doc.cadastral_extract": pngDoc})
		if p.Status != 422 {
			t.Fatalf("invalid change: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-data-effective-on": "", "f-doc-proces-verbal-receptie": "Attach this document."})
		// Mihai's building: refused.
		p = ana.postMultipart("/declare/building-change", form(hs[1]), docs)
		if p.Status != 422 || !strings.Contains(p.Body, "f-data-building-id-error") {
			t.Fatalf("another's building: %d", p.Status)
		}
		if n := count(t, s.db, `SELECT COUNT(*) FROM cases`); n != 0 {
			t.Fatalf("refused forms filed %d cases", n)
		}
		p = ana.postMultipart("/declare/building-change", form(hs[0]), docs)
		if p.Status != 303 || caseURL.FindStringSubmatch(p.Location) == nil {
			t.Fatalf("extension: %d %q %s", p.Status, p.Location, p.Body)
		}
		if page := ana.get(p.Location + "?lang=ro"); page.Status != 200 || !strings.Contains(page.Body, "Modificarea unei clădiri") || !strings.Contains(page.Body, "Procesul-verbal de recepție") {
			t.Fatalf("the case page: %d", page.Status)
		}
		off := s.client()
		off.login("ioana", staffPassword("ioana"))
		if page := off.get(p.Location + "?lang=en"); page.Status != 200 || !strings.Contains(page.Body, "Change of a building") || !strings.Contains(page.Body, "CAD-400100") {
			t.Fatalf("the officer's case page: %d", page.Status)
		}
		mixed := form(hs[0])
		mixed.Set("data.change", "change_of_use")
		mixed.Set("data.use", "mixed")
		mixed.Set("data.parts[0].usable_area_m2", "50")
		mixed.Set("data.parts[1].usable_area_m2", "30,5")
		mixed.Set("data.change_document", "building_permit")
		p = ana.postMultipart("/declare/building-change", mixed, map[string][]byte{"doc.building_permit": append(append([]byte{}, pdfDoc...), 'z'),
			"doc.cadastral_extract": append(append([]byte{}, pngDoc...), 'z')})
		if p.Status != 303 {
			t.Fatalf("change of use: %d %s", p.Status, p.Body)
		}
		var data []string
		if err := s.db.SQL().Select(&data, `SELECT data FROM cases WHERE type = 'building_change' ORDER BY id`); err != nil || len(data) != 2 ||
			!strings.Contains(data[0], `"usable_area_m2":"80.5"`) || !strings.Contains(data[1], `"use":"non_residential","usable_area_m2":"30.5"`) {
			t.Fatalf("cases: %v %v", data, err)
		}
		if n := count(t, s.db, `SELECT COUNT(*) FROM case_attachments`); n != 4 {
			t.Errorf("attachments: %d", n)
		}
		// Who may not.
		if p := s.client().get("/declare/building-change"); p.Status != 303 || !strings.HasPrefix(p.Location, "/login") {
			t.Fatalf("anonymous: %d %s", p.Status, p.Location)
		}
		o := s.client()
		o.login("ioana", staffPassword("ioana"))
		if p := o.get("/declare/building-change"); p.Status != 403 {
			t.Fatalf("officer: %d", p.Status)
		}
	})
}
