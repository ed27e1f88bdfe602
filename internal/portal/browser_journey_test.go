package portal_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"fiscald/fiscal"
	"fiscald/internal/store/storetest"
)

// TestBrowserJourney is issue 8's journey in chromium: a taxpayer registers
// and declares a vehicle with its documents (a field error first, in both
// languages), the officer reviews it from the queue, the signer approves it
// from theirs, the taxpayer sees the debt, with the bonus until 31 March, on
// the account page and downloads the signed tax decision from the case page;
// anybody opens the decision's verification page (its QR code). Every new
// page is checked at 360 and 1280 px and by axe-core, in Romanian and
// English; the decision PDF is saved beside the screenshots.
func TestBrowserJourney(t *testing.T) {
	clock := fiscal.NewTestClock(inFebruary)
	s := startSite(t, storetest.MustOpen(t, "sqlite", clock), clock)
	dir := t.TempDir()
	files := map[string]string{}
	for name, b := range map[string][]byte{"contract.pdf": pdfDoc, "civ.png": pngDoc, "ci.pdf": pdfDoc, "notes.txt": []byte("not a document")} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files[name] = p
	}

	// 1. The taxpayer registers.
	tp := newTab(t, s)
	tp.open("/register", 200)
	tp.do("register",
		chromedp.SendKeys(chromedp.CSS("#f-taxpayer-name"), "Ana Popescu"),
		chromedp.SendKeys(chromedp.CSS("#f-taxpayer-cnp"), "2850615350041"),
		chromedp.SendKeys(chromedp.CSS("#f-taxpayer-address"), "Str. Mărășești 1, Timișoara"),
		chromedp.SendKeys(chromedp.CSS("#f-email"), "ana@example.ro"),
		chromedp.SendKeys(chromedp.CSS("#f-username"), "ana"),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "parola-lunga-1"))
	tp.submit("#h-statement")
	tp.check("journey-1-account-empty-ro")

	// 2. Declares the Golf: first with a bad VIN and a text file.
	tp.do("open the declaration", chromedp.Click(chromedp.CSS("#declare-vehicle")), chromedp.WaitVisible(chromedp.CSS("#f-data-vin")))
	tp.check("journey-2-declare-ro")
	fill := func(vin string) {
		tp.do("fill the declaration",
			chromedp.SetValue(chromedp.CSS("#f-data-vin"), vin),
			chromedp.SetValue(chromedp.CSS("#f-data-plate"), "TM 12 ABC"),
			chromedp.SetValue(chromedp.CSS("#f-data-category"), "car"),
			chromedp.SetValue(chromedp.CSS("#f-data-propulsion"), "combustion"),
			chromedp.SetValue(chromedp.CSS("#f-data-engine-cc"), "1598"),
			chromedp.SetValue(chromedp.CSS("#f-data-emission-class"), "euro6"),
			chromedp.SetValue(chromedp.CSS("#f-data-acquired-on"), "2025-03-10"),
			chromedp.SetValue(chromedp.CSS("#f-data-acquisition-document"), "sale_contract"))
	}
	fill("WVWZZZAUZHP12345O")
	tp.do("attach", chromedp.SetUploadFiles(chromedp.CSS("#f-doc-acquisition-document"), []string{files["notes.txt"]}))
	tp.submit("#f-data-vin-error")
	if got := tp.text("#f-data-vin-error"); !strings.Contains(got, "VIN-ul nu conține literele I, O sau Q.") {
		t.Fatalf("RO VIN error: %q", got)
	}
	if got := tp.text("#f-doc-acquisition-document-error"); !strings.Contains(got, "nu este PDF, JPEG sau PNG") {
		t.Fatalf("RO file error: %q", got)
	}
	if got := tp.text("#f-doc-owner-id-error"); !strings.Contains(got, "Atașați acest document.") {
		t.Fatalf("RO missing document: %q", got)
	}
	tp.check("journey-2-declare-errors-ro")
	tp.do("switch to English", chromedp.Click(chromedp.CSS("a.lang")), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #f-data-vin`)))
	fill("WVWZZZAUZHP12345O")
	tp.submit("#f-data-vin-error")
	if got := tp.text("#f-data-vin-error"); !strings.Contains(got, "A VIN does not contain the letters I, O or Q.") {
		t.Fatalf("EN VIN error: %q", got)
	}
	tp.check("journey-2-declare-errors-en")
	fill("WVWZZZAUZHP123456")
	tp.do("attach the documents",
		chromedp.SetUploadFiles(chromedp.CSS("#f-doc-acquisition-document"), []string{files["contract.pdf"]}),
		chromedp.SetUploadFiles(chromedp.CSS("#f-doc-vehicle-identity-card"), []string{files["civ.png"]}),
		chromedp.SetUploadFiles(chromedp.CSS("#f-doc-owner-id"), []string{files["ci.pdf"]}))
	tp.submit("#case-status")
	if got := tp.text("#case-status"); got != "Submitted" {
		t.Fatalf("case status: %q", got)
	}
	if !strings.Contains(tp.text("#case-due"), "working days left") {
		t.Errorf("due date: %q", tp.text("#case-due"))
	}
	var casePath string
	tp.eval(`location.pathname`, &casePath)
	tp.check("journey-2-case-en")
	tp.open(casePath+"?lang=ro", 200)
	tp.check("journey-2-case-ro")

	// 3. The officer reviews it from the queue.
	off := newTab(t, s)
	off.open("/login", 200)
	off.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "ioana"), chromedp.SendKeys(chromedp.CSS("#f-password"), staffPassword("ioana")))
	off.submit("#h-links")
	off.open("/staff/queue", 200)
	off.check("journey-3-queue-ro")
	off.do("open the case", chromedp.Click(chromedp.CSS(`a[href="`+casePath+`"]`)), chromedp.WaitVisible(chromedp.CSS("#review-form")))
	if !strings.Contains(off.text("#checks"), "VIN valid") {
		t.Errorf("checks: %q", off.text("#checks"))
	}
	off.check("journey-3-staffcase-ro")
	off.do("approve", chromedp.Click(chromedp.CSS(`#review-form input[value="approve"]`)),
		chromedp.Click(chromedp.CSS("#review-form button")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := off.text("#case-status"); got != "Verificată, de semnat" {
		t.Fatalf("after review: %q", got)
	}
	off.open("/staff/queue?lang=en", 200)
	off.check("journey-3-queue-en")
	off.open(casePath, 200)
	off.check("journey-3-staffcase-en")

	// 4. The signer approves it from the signer's queue.
	sg := newTab(t, s)
	sg.open("/login", 200)
	sg.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "dan"), chromedp.SendKeys(chromedp.CSS("#f-password"), staffPassword("dan")))
	sg.submit("#h-links")
	sg.open("/staff/sign", 200)
	sg.check("journey-4-signqueue-ro")
	sg.do("open the case", chromedp.Click(chromedp.CSS(`a[href="`+casePath+`"]`)), chromedp.WaitVisible(chromedp.CSS("#sign-form")))
	// A rejection without a reason: the server's field error.
	sg.do("reject", chromedp.Click(chromedp.CSS(`#sign-form input[value="reject"]`)),
		chromedp.Click(chromedp.CSS("#sign-form button")), chromedp.WaitVisible(chromedp.CSS("#f-comment-error")))
	sg.check("journey-4-sign-errors-ro")
	sg.do("approve", chromedp.Click(chromedp.CSS(`#sign-form input[value="approve"]`)),
		chromedp.Click(chromedp.CSS("#sign-form button")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := sg.text("#case-status"); got != "Aprobată" {
		t.Fatalf("after signing: %q", got)
	}
	sg.open("/staff/sign?lang=en", 200)
	sg.check("journey-4-signqueue-en")

	// 5. The taxpayer sees the debt, the bonus and the case approved.
	tp.open("/account?lang=ro", 200)
	if got := tp.text("#total-due"); got != "198,00 lei" {
		t.Fatalf("total due: %q", got)
	}
	if got := tp.text(".bonus"); !strings.Contains(got, "31 martie 2026") || !strings.Contains(got, "178,00 lei") {
		t.Errorf("bonus: %q", got)
	}
	if !strings.Contains(tp.text("#cases"), "Aprobată") {
		t.Errorf("cases: %q", tp.text("#cases"))
	}
	tp.check("journey-5-account-debt-ro")
	tp.open("/account?lang=en", 200)
	tp.check("journey-5-account-debt-en")
	tp.open(casePath, 200)
	tp.check("journey-5-case-approved-en")
	// Paying by card without Stripe configured: a clear message, no form.
	tp.do("pay", chromedp.Click(chromedp.CSS(`a.lang`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="ro"]`)))
	tp.open("/account/pay", 200)
	if !strings.Contains(tp.text("#card-not-configured"), "nu este disponibilă") {
		t.Errorf("pay without Stripe: %q", tp.text("main"))
	}
	tp.check("journey-5-pay-notconfigured-ro")

	// 6. Downloads the decision from the case page; checks it by its QR code.
	tp.open(casePath, 200)
	tp.check("journey-6-case-documents-ro")
	var dl struct {
		Href, Type, Head, Code string
		Status                 int
		B64                    string
	}
	tp.eval(`(async () => {
		const a = document.querySelector('a.doc-link[data-type="tax_decision"]');
		const r = await fetch(a.href);
		const buf = new Uint8Array(await r.arrayBuffer());
		let bin = ""; for (const b of buf) bin += String.fromCharCode(b);
		return {Href: a.getAttribute("href"), Type: r.headers.get("content-type"), Status: r.status,
			Head: bin.slice(0, 5), B64: btoa(bin), Code: a.parentElement.querySelector(".mono").textContent};
	})()`, &dl)
	if dl.Status != 200 || dl.Type != "application/pdf" || dl.Head != "%PDF-" {
		t.Fatalf("decision download %s: %d %s %q", dl.Href, dl.Status, dl.Type, dl.Head)
	}
	pdf, err := base64.StdEncoding.DecodeString(dl.B64)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tp.out, "decizie-de-impunere.pdf"), pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	anon := newTab(t, s)
	anon.open("/verify/"+dl.Code, 200)
	if got := anon.text("#verify-result"); got != "Document autentic și valabil." {
		t.Fatalf("verify: %q", got)
	}
	anon.check("journey-6-verify-ro")
	anon.open("/verify/"+dl.Code+"?lang=en", 200)
	anon.check("journey-6-verify-en")
}

// TestBrowserStaffDesk covers the cash desk with its receipt, the
// deregistration form, the accountant's reports page and the
// administrator's pages, in both languages.
func TestBrowserStaffDesk(t *testing.T) {
	clock := fiscal.NewTestClock(inFebruary)
	s := startSite(t, storetest.MustOpen(t, "sqlite", clock), clock)
	s.client().register("ana", "2850615350041", "Ana Popescu")
	approveGolf(t, s)

	tp := newTab(t, s)
	tp.open("/login", 200)
	tp.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "ana"), chromedp.SendKeys(chromedp.CSS("#f-password"), "parola-lunga-1"))
	tp.submit("#h-statement")
	tp.open("/declare/deregistration", 200)
	tp.check("desk-deregistration-ro")
	tp.do("submit empty", chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#f-data-disposed-on-error")))
	tp.check("desk-deregistration-errors-ro")
	tp.open("/declare/deregistration?lang=en", 200)
	tp.check("desk-deregistration-en")

	off := newTab(t, s)
	off.open("/login", 200)
	off.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "ioana"), chromedp.SendKeys(chromedp.CSS("#f-password"), staffPassword("ioana")))
	off.submit("#h-links")
	off.open("/staff/cash?q=Popescu", 200)
	off.do("choose", chromedp.Click(chromedp.CSS("#cash-results a")), chromedp.WaitVisible(chromedp.CSS("#cash-form")))
	off.check("desk-cash-ro")
	off.do("amount", chromedp.SendKeys(chromedp.CSS("#f-amount"), "198,00"), chromedp.Click(chromedp.CSS("#cash-form button")),
		chromedp.WaitVisible(chromedp.CSS("#receipt-link")))
	if got := off.text("#payment-status"); got != "Plătită" {
		t.Fatalf("cash payment: %q", got)
	}
	off.check("desk-payment-ro")
	off.open("/staff/cash?lang=en", 200)
	off.check("desk-cash-en")

	tp.open("/account?lang=ro", 200)
	if got := tp.text("#total-due"); got != "0,00 lei" {
		t.Errorf("after paying: %q", got)
	}
	tp.check("desk-account-paid-ro")

	acc := newTab(t, s)
	acc.open("/login", 200)
	acc.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "carmen"), chromedp.SendKeys(chromedp.CSS("#f-password"), staffPassword("carmen")))
	acc.submit("#h-links")
	acc.open("/staff/reports", 200)
	acc.check("desk-reports-ro")
	acc.open("/staff/reports/collections?from=2026-02-30&to=2026-02-10&format=xlsx&lang=en", 422)
	acc.check("desk-reports-errors-en")

	adm := newTab(t, s)
	adm.open("/login", 200)
	adm.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "admin"), chromedp.SendKeys(chromedp.CSS("#f-password"), staffPassword("admin")))
	adm.submit("#h-links")
	for _, pg := range []string{"users", "parameters", "calendar"} {
		adm.open("/admin/"+pg+"?lang=ro", 200)
		adm.check("desk-admin-" + pg + "-ro")
		adm.open("/admin/"+pg+"?lang=en", 200)
		adm.check("desk-admin-" + pg + "-en")
	}
	// A short password: the server's error next to the field, in English.
	adm.open("/admin/users?lang=en", 200)
	adm.do("new user", chromedp.SendKeys(chromedp.CSS("#f-full-name"), "Maria Pop"), chromedp.SendKeys(chromedp.CSS("#f-username"), "maria"),
		chromedp.SendKeys(chromedp.CSS("#f-password"), "short"))
	adm.do("submit", chromedp.Click(chromedp.CSS("#user-form button")), chromedp.WaitVisible(chromedp.CSS("#f-password-error")))
	if got := adm.text("#f-password-error"); !strings.Contains(got, "Enter at least 10 characters.") {
		t.Errorf("password error: %q", got)
	}
	adm.check("desk-admin-users-errors-en")
}
