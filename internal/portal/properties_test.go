package portal_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"fiscald/assess"
	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/store"
)

// TestAccountProperties: "Clădirile și terenurile mele" lists the
// taxpayer's buildings and land with their share, co-owners and this year's
// tax on their share, in Romanian and English; another taxpayer's objects
// are not on the page.
func TestAccountProperties(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		c := s.client()
		if p := c.register("ana", "2850615350041", "Ana Popescu"); p.Status != 303 {
			t.Fatalf("register: %d", p.Status)
		}
		if acc := c.get("/account"); !strings.Contains(acc.Body, "Nu aveți clădiri sau terenuri") {
			t.Fatalf("empty section missing: %s", acc.Body)
		}
		o := s.client()
		if p := o.register("mihai", "1850315350012", "Mihai Ionescu"); p.Status != 303 {
			t.Fatalf("register: %d", p.Status)
		}
		ctx := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test", MunicipalityID: s.muni.ID})
		var ids []int64
		if err := s.db.SQL().Select(&ids, `SELECT id FROM taxpayers ORDER BY id`); err != nil || len(ids) != 2 {
			t.Fatalf("taxpayers: %v %v", ids, err)
		}
		yes := true
		area := decimal.RequireFromString("55")
		plot := decimal.RequireFromString("5000")
		flat := calc.Object{Kind: "building", Use: "residential", ConstructionType: "A", Utilities: &yes, UsableAreaM2: &area, Zone: "A", YearBuilt: 2010}
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			for _, h := range []struct {
				kind  string
				owner int64
				share fiscal.Share
				obj   calc.Object
				cad   string
			}{
				{"building", ids[0], 6000, flat, "CAD-400100"}, {"building", ids[1], 4000, flat, "CAD-400100"},
				{"land", ids[1], 10000, calc.Object{Kind: "land", Location: "intravilan", Zone: "B", UseCategory: "vineyard", AreaM2: &plot}, "CAD-77"},
			} {
				hd := fiscal.Holding{TaxpayerID: h.owner, Address: "Str. Eroilor 5", CadastralNumber: h.cad, Share: h.share,
					AcquiredOn: civil.New(2025, 6, 10), TaxedFromYear: 2026, Object: h.obj}
				if err := tx.InsertHolding(ctx, s.muni.ID, h.kind, &hd, 0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := assess.Run(ctx, s.db, assess.Options{MunicipalityID: s.muni.ID, Municipality: "timisoara", Year: 2026}); err != nil {
			t.Fatal(err)
		}
		acc := c.get("/account")
		for _, want := range []string{"Clădirile și terenurile mele", "Clădire rezidențială, 55 m²", "CAD-400100", "60.00%", "Mihai Ionescu (40.00%)",
			"Impozit 2026 pe cotă", "309,00", "Impozitat din 2026"} {
			if !strings.Contains(acc.Body, want) {
				t.Errorf("ana's account lacks %q", want)
			}
		}
		if i := strings.Index(acc.Body, `class="debts"`); i < 0 || !strings.Contains(acc.Body[i:i+strings.Index(acc.Body[i:], "</table>")], "CAD-400100") {
			t.Error("the statement does not name the building of its debts by its cadastral number")
		}
		if strings.Contains(acc.Body, "CAD-77") {
			t.Error("ana's account shows mihai's land")
		}
		// A building declaration's case page, for the taxpayer and the officer.
		var anaUser int64
		if err := s.db.SQL().Get(&anaUser, `SELECT id FROM users WHERE username = 'ana'`); err != nil {
			t.Fatal(err)
		}
		tctx := fiscal.WithActor(context.Background(), &fiscal.Actor{UserID: anaUser, Username: "ana", MunicipalityID: s.muni.ID, Role: fiscal.RoleTaxpayer, TaxpayerID: &ids[0]})
		cs, err := s.db.CreateCase(tctx, &fiscal.NewCase{Type: "building_acquisition", TaxpayerID: ids[0], Data: []byte(`{"address": "Str. Florilor 2",
			"cadastral_number": "CAD-9", "use": "residential", "construction_type": "B", "utilities": false, "built_area_m2": "80", "zone": "C",
			"acquired_on": "2026-01-15", "acquisition_document": "donation", "co_owners": [{"cnp": "1850315350012", "name": "Mihai Ionescu", "share": "0.5"}]}`)})
		if err != nil {
			t.Fatal(err)
		}
		if p := c.get(fmt.Sprintf("/cases/%d", cs.ID)); p.Status != 200 || !strings.Contains(p.Body, "Extrasul de carte funciară") {
			t.Fatalf("taxpayer's case page: %d", p.Status)
		}
		off := s.client()
		off.login("ioana", staffPassword("ioana"))
		if p := off.get(fmt.Sprintf("/cases/%d?lang=en", cs.ID)); p.Status != 200 || !strings.Contains(p.Body, "CAD-9") ||
			!strings.Contains(p.Body, "The taxpayer&#39;s buildings and land") || !strings.Contains(p.Body, "Mihai Ionescu (40.00%)") {
			t.Fatalf("officer's case page: %d", p.Status)
		}
		en := o.get("/account?lang=en")
		for _, want := range []string{"My buildings and land", "Land, intravilan, vineyard, 5000 m²", "Ana Popescu (60.00%)", "40.00%", "2026 tax on the share", "206.00", "235.00"} {
			if !strings.Contains(en.Body, want) {
				t.Errorf("mihai's English account lacks %q", want)
			}
		}
	})
}

// TestDeclarePropertyForms: the building and land declaration forms file
// a case with its documents; field errors land next to their inputs; a
// staff member or an anonymous visitor may not use them.
func TestDeclarePropertyForms(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		ana := s.client()
		ana.register("ana", "2850615350041", "Ana Popescu")
		s.client().register("mihai", "1850315350012", "Mihai Ionescu")
		for _, lang := range []string{"ro", "en"} {
			for _, kind := range []string{"building", "land"} {
				if p := ana.get("/declare/" + kind + "?lang=" + lang); p.Status != 200 || !strings.Contains(p.Body, `name="data.cadastral_number"`) {
					t.Fatalf("%s form (%s): %d", kind, lang, p.Status)
				}
			}
		}
		ana.get("/account?lang=ro")
		flat := func(tok string) url.Values {
			return url.Values{"_csrf": {tok}, "data.address": {"Str. Eroilor 5, ap. 3"}, "data.cadastral_number": {"CAD-400100"}, "data.use": {"residential"},
				"data.construction_type": {"A"}, "data.utilities": {"true"}, "data.usable_area_m2": {"55"}, "data.zone": {"A"}, "data.year_built": {"2010"},
				"data.acquired_on": {"2025-06-10"}, "data.acquisition_document": {"sale_contract"},
				"data.co_owners[0].cnp": {"1850315350012"}, "data.co_owners[0].name": {"Mihai Ionescu"}, "data.co_owners[0].share": {"0,4"}}
		}
		// A future date and a missing extract: 422, each next to its input, no case.
		f := flat(ana.csrf("/declare/building"))
		f.Set("data.acquired_on", "2027-01-01")
		p := ana.postMultipart("/declare/building", f, map[string][]byte{"doc.acquisition_document": pdfDoc, "doc.owner_id": pdfDoc})
		if p.Status != 422 {
			t.Fatalf("invalid declaration: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-data-acquired-on": "", "f-doc-cadastral-extract": "Atașați acest document."})
		if n := count(t, s.db, `SELECT COUNT(*) FROM cases`); n != 0 {
			t.Fatalf("a refused form filed %d cases", n)
		}
		// Valid, with its three documents: the case, and its preview of Ana's 60%.
		p = ana.postMultipart("/declare/building", flat(ana.csrf("/declare/building")),
			map[string][]byte{"doc.acquisition_document": pdfDoc, "doc.owner_id": pngDoc, "doc.cadastral_extract": append(append([]byte{}, pdfDoc...), 'x')})
		if p.Status != 303 || caseURL.FindStringSubmatch(p.Location) == nil {
			t.Fatalf("declaration: %d %q %s", p.Status, p.Location, p.Body)
		}
		if page := ana.get(p.Location); !strings.Contains(page.Body, "309,00") {
			t.Errorf("the case page does not preview Ana's 60%% (309 lei)")
		}
		// Land, with no co-owner.
		land := url.Values{"_csrf": {ana.csrf("/declare/land")}, "data.address": {"Calea Aradului km 3"}, "data.cadastral_number": {"CAD-T1"},
			"data.location": {"intravilan"}, "data.zone": {"C"}, "data.use_category": {"arable"}, "data.area_m2": {"1000"},
			"data.acquired_on": {"2025-03-01"}, "data.acquisition_document": {"donation"}}
		p = ana.postMultipart("/declare/land", land, map[string][]byte{"doc.acquisition_document": pdfDoc, "doc.owner_id": append(append([]byte{}, pngDoc...), 'y')})
		if p.Status != 303 || caseURL.FindStringSubmatch(p.Location) == nil {
			t.Fatalf("land declaration: %d %q %s", p.Status, p.Location, p.Body)
		}
		// Who may not.
		if p := s.client().get("/declare/building"); p.Status != 303 || !strings.HasPrefix(p.Location, "/login") {
			t.Fatalf("anonymous: %d %s", p.Status, p.Location)
		}
		o := s.client()
		o.login("ioana", staffPassword("ioana"))
		if p := o.get("/declare/land"); p.Status != 403 {
			t.Fatalf("officer: %d", p.Status)
		}
	})
}

func count(t *testing.T, db *store.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.SQL().Get(&n, q); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDeclarePropertyDisposal: the disposal forms list the taxpayer's
// current buildings and land; a future date is refused next to its input;
// a valid disposal files a case.
func TestDeclarePropertyDisposal(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		ana := s.client()
		ana.register("ana", "2850615350041", "Ana Popescu")
		if p := ana.get("/declare/land-disposal"); p.Status != 200 || !strings.Contains(p.Body, "Nu aveți bunuri de acest fel") {
			t.Fatalf("no land: %d", p.Status)
		}
		var tpID int64
		if err := s.db.SQL().Get(&tpID, `SELECT id FROM taxpayers`); err != nil {
			t.Fatal(err)
		}
		ctx := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test", MunicipalityID: s.muni.ID})
		plot := decimal.RequireFromString("1000")
		var landID int64
		if err := s.db.InTx(ctx, func(tx *store.Tx) error {
			h := fiscal.Holding{TaxpayerID: tpID, Address: "Calea Aradului km 3", CadastralNumber: "CAD-T9", Share: fiscal.WholeShare,
				AcquiredOn: civil.New(2024, 3, 1), TaxedFromYear: 2025, Object: calc.Object{Kind: "land", Location: "intravilan", Zone: "C", UseCategory: "arable", AreaM2: &plot}}
			err := tx.InsertHolding(ctx, s.muni.ID, "land", &h, 0)
			landID = h.ID
			return err
		}); err != nil {
			t.Fatal(err)
		}
		p := ana.get("/declare/land-disposal?lang=en")
		if p.Status != 200 || !strings.Contains(p.Body, "Calea Aradului km 3 — CAD-T9 (100.00%)") {
			t.Fatalf("land disposal form: %d", p.Status)
		}
		f := url.Values{"_csrf": {ana.csrf("/declare/land-disposal")}, "data.land_id": {fmt.Sprint(landID)}, "data.disposed_on": {"2030-01-01"}, "data.reason": {"sale"}}
		p = ana.postMultipart("/declare/land-disposal", f, map[string][]byte{"doc.disposal_document": pdfDoc})
		if p.Status != 422 {
			t.Fatalf("future disposal: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-data-disposed-on": "future"})
		f.Set("data.disposed_on", "2026-04-01")
		f.Set("_csrf", ana.csrf("/declare/land-disposal"))
		p = ana.postMultipart("/declare/land-disposal", f, map[string][]byte{"doc.disposal_document": pdfDoc})
		if p.Status != 303 || caseURL.FindStringSubmatch(p.Location) == nil {
			t.Fatalf("disposal: %d %q %s", p.Status, p.Location, p.Body)
		}
		if n := count(t, s.db, `SELECT COUNT(*) FROM cases WHERE type = 'land_disposal'`); n != 1 {
			t.Fatalf("%d disposal cases", n)
		}
	})
}
