package portal_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"fiscald/fiscal"
	"fiscald/internal/store/storetest"
)

// TestBrowserActingFor: the "Acționez pentru / Acting for" selector on
// /account in chromium, before and after choosing the company, and the
// representation request's form (empty and with its errors), at 360 and
// 1280 px and by axe-core, in Romanian and English.
func TestBrowserActingFor(t *testing.T) {
	clock := fiscal.NewTestClock(inFebruary)
	s := startSite(t, storetest.MustOpen(t, "sqlite", clock), clock)
	sys := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test", MunicipalityID: s.muni.ID})
	company, err := s.db.CreateTaxpayer(sys, &fiscal.TaxpayerInput{Kind: fiscal.Company, CUI: "18547290", Name: "Construct Vest SRL", Address: "Calea Aradului 10"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.db.Register(context.Background(), s.muni.ID, &fiscal.Registration{Username: "ion", Password: "parola-lunga-1", Email: "ion@example.ro",
		Taxpayer: fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: "1780305460017", Name: "Ion Stan", Address: "Str. Mărășești 1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.SQL().Exec(`UPDATE users SET assurance = 'verified' WHERE username = 'ion'`); err != nil {
		t.Fatal(err)
	}
	s.approvedRepresentation("ion", "parola-lunga-1", `{"cui":"18547290","role":"empowered","valid_until":"2027-12-31"}`)

	b := newTab(t, s)
	b.open("/login", 200)
	b.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "ion"), chromedp.SendKeys(chromedp.CSS("#f-password"), "parola-lunga-1"))
	b.submit("#actfor-select")
	b.check("actfor-ro")
	b.open("/declare/representation", 200)
	b.check("represent-form-ro")
	b.do("empty form", chromedp.Click(chromedp.CSS("#represent-form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#f-data-cui-error")))
	b.check("represent-form-errors-ro")
	b.open("/declare/representation?lang=en", 200)
	b.check("represent-form-en")
	b.open("/account?lang=ro", 200)
	b.eval(fmt.Sprintf(`document.querySelector('#actfor-select').value = '%d'`, company.ID), nil)
	b.do("act for", chromedp.Click(chromedp.CSS("#actfor-form button")), chromedp.WaitVisible(chromedp.CSS("main .notice")))
	if got := b.text("main .notice"); got != "De acum acționați pentru contribuabilul ales." {
		t.Fatalf("notice %q", got)
	}
	b.check("actfor-company-ro")
	b.open("/account?lang=en", 200)
	b.check("actfor-company-en")
}
