package portal_test

import (
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"fiscald/fiscal"
	"fiscald/internal/store/storetest"
)

// TestBrowserIdentityPages: the desk's enrollment-code page (the search,
// the taxpayer, the code shown once) and the admin's account page (a
// refusal next to its form, the account disabled) in chromium, each
// checked at 360 and 1280 px and by axe-core, in Romanian and English.
func TestBrowserIdentityPages(t *testing.T) {
	clock := fiscal.NewTestClock(inFebruary)
	s := startSite(t, storetest.MustOpen(t, "sqlite", clock), clock)
	sys := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test", MunicipalityID: s.muni.ID})
	tp, err := s.db.CreateTaxpayer(sys, &fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: "1900101350014", Name: "Vasile Pop", Address: "Str. Eroilor 3, Timișoara"})
	if err != nil {
		t.Fatal(err)
	}

	off := newTab(t, s)
	off.open("/login", 200)
	off.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "ioana"), chromedp.SendKeys(chromedp.CSS("#f-password"), staffPassword("ioana")))
	off.submit("#h-links")
	off.open("/staff/enroll?q=Vasile", 200)
	off.check("identity-enroll-search-ro")
	off.do("choose", chromedp.Click(chromedp.CSS("#enroll-results a")), chromedp.WaitVisible(chromedp.CSS("#enroll-form")))
	off.check("identity-enroll-taxpayer-ro")
	off.do("issue", chromedp.Click(chromedp.CSS("#enroll-form button")), chromedp.WaitVisible(chromedp.CSS("#enroll-code")))
	if code := off.text("#enroll-code"); !regexp.MustCompile(`^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$`).MatchString(code) {
		t.Fatalf("code %q", code)
	}
	off.check("identity-enroll-code-ro")
	off.open("/staff/enroll?lang=en&taxpayer="+strconv.FormatInt(tp.ID, 10), 200)
	off.check("identity-enroll-taxpayer-en")

	adm := newTab(t, s)
	adm.open("/login", 200)
	adm.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "admin"), chromedp.SendKeys(chromedp.CSS("#f-password"), staffPassword("admin")))
	adm.submit("#h-links")
	var adminID, ioanaID int64
	if err := s.db.SQL().Get(&adminID, `SELECT id FROM users WHERE username = 'admin'`); err != nil {
		t.Fatal(err)
	}
	if err := s.db.SQL().Get(&ioanaID, `SELECT id FROM users WHERE username = 'ioana'`); err != nil {
		t.Fatal(err)
	}
	adm.open("/admin/users/"+strconv.FormatInt(adminID, 10)+"?lang=en", 200)
	adm.do("disable oneself", chromedp.Click(chromedp.CSS("#disable-form button")), chromedp.WaitVisible(chromedp.CSS("#f-status-error")))
	adm.check("identity-user-refused-en")
	adm.open("/admin/users/"+strconv.FormatInt(ioanaID, 10)+"?lang=ro", 200)
	adm.check("identity-user-ro")
	adm.do("disable", chromedp.Click(chromedp.CSS("#disable-form button")), chromedp.WaitVisible(chromedp.CSS("#enable-form")))
	if got := adm.text("#user-state"); got != "Dezactivat" {
		t.Errorf("state %q", got)
	}
	adm.check("identity-user-disabled-ro")
	off.open("/staff/queue", 200) // redirected to the sign-in page: the session ended
	off.do("signed out", chromedp.WaitVisible(chromedp.CSS("#f-username")))

	// The taxpayer's side: a wrong code next to its field, in both languages.
	anon := newTab(t, s)
	anon.open("/enroll", 200)
	anon.check("identity-selfenroll-ro")
	anon.do("wrong code", chromedp.SendKeys(chromedp.CSS("#f-code"), "AAAA-BBBB-CCCC-DDDD"), chromedp.SendKeys(chromedp.CSS("#f-cnp"), "1900101350014"),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "v@example.ro"), chromedp.SendKeys(chromedp.CSS("#f-username"), "vasile"),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "parola-lunga-1"))
	anon.do("submit", chromedp.Click(chromedp.CSS("#selfenroll-form button")), chromedp.WaitVisible(chromedp.CSS("#f-code-error")))
	anon.check("identity-selfenroll-errors-ro")
	anon.open("/enroll?lang=en", 200)
	anon.check("identity-selfenroll-en")
}
