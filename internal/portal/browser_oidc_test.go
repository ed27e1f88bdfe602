package portal_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"fiscald/fiscal"
	"fiscald/internal/store/storetest"
	"fiscald/internal/testroeid"
)

// TestBrowserROeID: in chromium, "Intră cu ROeID" on the sign-in page, the
// test ROeID's login page, the person already in the registry with a car
// and a debt, back on /account showing that debt with pay offered. The
// pages are checked at 360 px and with axe, and so is the failure page.
func TestBrowserROeID(t *testing.T) {
	clock := fiscal.NewTestClock(storetest.Epoch)
	db := storetest.MustOpen(t, "sqlite", clock)
	s, _ := roeidSite(t, db, clock)
	seedRegistered(t, db, s.muni, clock)
	b := newTab(t, s)

	b.open("/login", 200)
	b.check("login-roeid-ro")
	if got := b.text("#oidc-login"); got != "Intră cu ROeID" {
		t.Fatalf("the button says %q", got)
	}
	person := "#identity-" + testroeid.DemoRegistered.Subject
	b.do("Intră cu ROeID", chromedp.Click(chromedp.CSS("#oidc-login")), chromedp.WaitVisible(chromedp.CSS(person)))
	if !strings.Contains(b.text("h1"), "ROeID de test") {
		t.Fatal("not on the test ROeID's login page")
	}
	b.do("sign in at the provider", chromedp.Click(chromedp.CSS(person)), chromedp.WaitVisible(chromedp.CSS("#total-due")))
	var path string
	b.eval(`location.pathname`, &path)
	if path != "/account" {
		t.Fatalf("landed on %s", path)
	}
	main := b.text("main")
	for _, want := range []string{"Stan Gheorghe", "1780305460017", "TM-19-ROE", "Impozit pe mijloacele de transport"} {
		if !strings.Contains(main, want) {
			t.Fatalf("the account lacks %q:\n%s", want, main)
		}
	}
	if due := b.text("#total-due"); due == "" || strings.HasPrefix(due, "0,00") {
		t.Fatalf("no debt shown: %q", due)
	}
	var payHref string
	b.eval(`document.querySelector("#pay-link") && document.querySelector("#pay-link").getAttribute("href")`, &payHref)
	if payHref != "/account/pay" {
		t.Fatalf("pay is not offered: %q", payHref)
	}
	b.check("account-roeid-ro")

	// The failure page: a callback whose state this browser never began.
	b.open("/auth/oidc/callback?code=x&state=never-begun", 401)
	if !strings.Contains(b.text("#oidc-error"), "în alt browser") {
		t.Fatalf("failure page: %q", b.text("main"))
	}
	b.check("oidc-error-ro")
}
