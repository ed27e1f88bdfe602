package portal_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"fiscald/assess"
	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestBrowserAccountProperties: the account page with buildings and land
// (co-owned) passes axe-core and fits 360 px, in Romanian and English.
func TestBrowserAccountProperties(t *testing.T) {
	clock := fiscal.NewTestClock(storetest.Epoch)
	s := startSite(t, storetest.MustOpen(t, "sqlite", clock), clock)
	c := s.client()
	if p := c.register("ana", "2850615350041", "Ana Popescu"); p.Status != 303 {
		t.Fatalf("register: %d", p.Status)
	}
	if p := s.client().register("mihai", "1850315350012", "Mihai Ionescu"); p.Status != 303 {
		t.Fatalf("register: %d", p.Status)
	}
	ctx := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test", MunicipalityID: s.muni.ID})
	var ids []int64
	if err := s.db.SQL().Select(&ids, `SELECT id FROM taxpayers ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	yes := true
	area, plot := decimal.RequireFromString("55"), decimal.RequireFromString("1000")
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		for i, o := range []calc.Object{
			{Kind: "building", Use: "residential", ConstructionType: "A", Utilities: &yes, UsableAreaM2: &area, Zone: "A", YearBuilt: 2010},
			{Kind: "land", Location: "intravilan", Zone: "C", UseCategory: "arable", AreaM2: &plot},
		} {
			for k, owner := range ids {
				hd := fiscal.Holding{TaxpayerID: owner, Address: "Str. Eroilor 5, ap. 3, Timișoara", CadastralNumber: []string{"CAD-400100", "CAD-77"}[i],
					Share: fiscal.Share(6000 - 2000*k), AcquiredOn: civil.New(2025, 6, 10), TaxedFromYear: 2026, Object: o}
				if err := tx.InsertHolding(ctx, s.muni.ID, o.Kind, &hd, 0); err != nil {
					return err
				}
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
	tp := newTab(t, s)
	tp.open("/login?lang=ro", 200)
	tp.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "ana"), chromedp.SendKeys(chromedp.CSS("#f-password"), "parola-lunga-1"))
	tp.submit("#h-statement")
	tp.open("/account?lang=ro", 200)
	tp.check("properties-account-ro")
	tp.open("/account?lang=en", 200)
	tp.check("properties-account-en")
	for _, kind := range []string{"building-change", "building-disposal", "land-disposal", "building", "land"} {
		tp.open("/declare/"+kind+"?lang=ro", 200)
		tp.check("declare-" + kind + "-ro")
		tp.open("/declare/"+kind+"?lang=en", 200)
		tp.check("declare-" + kind + "-en")
	}
	// The building form refused (a future date, no documents): errors shown.
	tp.do("fill the land form",
		chromedp.SetValue(chromedp.CSS("#f-data-address"), "Str. Eroilor 5"),
		chromedp.SetValue(chromedp.CSS("#f-data-acquired-on"), "2030-01-01"))
	tp.submit(".error-summary")
	tp.check("declare-land-errors-en")
	// The change form refused (no date, no documents): errors shown.
	tp.open("/declare/building-change?lang=en", 200)
	tp.do("fill the change form", chromedp.SetValue(chromedp.CSS("#f-data-change"), "extension"))
	tp.submit(".error-summary")
	tp.check("declare-building-change-errors-en")

	// The officer's case page of a building declaration lists the
	// taxpayer's buildings and land.
	var anaUser int64
	if err := s.db.SQL().Get(&anaUser, `SELECT id FROM users WHERE username = 'ana'`); err != nil {
		t.Fatal(err)
	}
	tctx := fiscal.WithActor(context.Background(), &fiscal.Actor{UserID: anaUser, Username: "ana", MunicipalityID: s.muni.ID, Role: fiscal.RoleTaxpayer, TaxpayerID: &ids[0]})
	cs, err := s.db.CreateCase(tctx, &fiscal.NewCase{Type: "building_acquisition", TaxpayerID: ids[0], Data: []byte(`{"address": "Str. Florilor 2",
		"cadastral_number": "CAD-9", "use": "residential", "construction_type": "B", "utilities": false, "built_area_m2": "80", "zone": "C",
		"acquired_on": "2026-01-15", "acquisition_document": "donation"}`)})
	if err != nil {
		t.Fatal(err)
	}
	off := newTab(t, s)
	off.open("/login", 200)
	off.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "ioana"), chromedp.SendKeys(chromedp.CSS("#f-password"), staffPassword("ioana")))
	off.submit("#h-links")
	off.open(fmt.Sprintf("/cases/%d?lang=ro", cs.ID), 200)
	off.check("properties-staffcase-ro")
	off.open(fmt.Sprintf("/cases/%d?lang=en", cs.ID), 200)
	off.check("properties-staffcase-en")
}
