package portal_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"fiscald/fiscal"
	"fiscald/internal/store/storetest"
)

// TestBrowserParameterPages: the administrator's parameter coverage, council
// decisions and next year's draft pages in both languages (axe, 360 and
// 1280 px), the law's range refusal next to its field, and a 2027 draft with
// its differences table, each in a tab of its own.
func TestBrowserParameterPages(t *testing.T) {
	clock := fiscal.NewTestClock(inFebruary)
	s := startSite(t, storetest.MustOpen(t, "sqlite", clock), clock)
	// Each page in a tab of its own (a tab's budget is 90 s; the pages are long).
	signedIn := func() *tab {
		adm := newTab(t, s)
		adm.open("/login", 200)
		adm.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "admin"), chromedp.SendKeys(chromedp.CSS("#f-password"), staffPassword("admin")))
		adm.submit("#h-links")
		return adm
	}
	// The parameter pages: coverage, council decisions, next year's draft.
	for name, path := range map[string]string{"coverage": "/admin/parameters/coverage?year=2026&", "decisions": "/admin/council-decisions?",
		"drafts": "/admin/parameter-drafts?"} {
		adm := signedIn()
		adm.open(path+"lang=ro", 200)
		adm.check("desk-admin-" + name + "-ro")
		adm.open(path+"lang=en", 200)
		adm.check("desk-admin-" + name + "-en")
	}
	// A council value outside the law's range: the 422 message next to its field.
	adm := signedIn()
	adm.open("/admin/council-decisions?lang=ro&key=land.intravilan.constructions.rank1.zone_a", 200)
	adm.do("decision", chromedp.SendKeys(chromedp.CSS("#f-decision-number"), "5/2026"), chromedp.SetValue(chromedp.CSS("#f-decision-date"), "2026-01-20"),
		chromedp.SendKeys(chromedp.CSS("#f-values-0-value"), "20000"))
	adm.do("submit", chromedp.Click(chromedp.CSS("#decision-form button")), chromedp.WaitVisible(chromedp.CSS("#f-values-0-value-error")))
	if got := adm.text("#f-values-0-value-error"); !strings.Contains(got, "în afara intervalului 6878-17194") {
		t.Errorf("range error: %q", got)
	}
	adm.check("desk-admin-decisions-errors-ro")
	adm = signedIn()
	adm.open("/admin/parameter-drafts?lang=en", 200)
	adm.do("draft", chromedp.SendKeys(chromedp.CSS("#f-inflation-pct"), "5.6"), chromedp.SendKeys(chromedp.CSS("#f-decision-number"), "9/2026"),
		chromedp.SetValue(chromedp.CSS("#f-decision-date"), "2026-12-15"))
	adm.do("create", chromedp.Click(chromedp.CSS("#draft-form button")), chromedp.WaitVisible(chromedp.CSS("#draft-diff")))
	adm.check("desk-admin-draft-en")
}
