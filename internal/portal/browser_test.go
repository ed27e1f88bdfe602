package portal_test

// Browser tests: Debian's chromium, headless, driven by chromedp. One
// browser per test binary; each test gets its own tab in its own browser
// context (its own cookies). Chromium missing is a failure with the command
// that installs it, never a skip. Screenshots go under $FISCAL_TEST_OUT
// (default testdata-out/ at the repository root, ignored by git).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"fiscald/fiscal"
	"fiscald/internal/store/storetest"
)

var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	os.Exit(code)
}

// chromiumPath finds Debian's chromium (or another Chrome) on PATH.
func chromiumPath() string {
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

func startBrowser() {
	path := chromiumPath()
	if path == "" {
		browser.err = errors.New("chromium is not installed: run `make deps` (it runs `apt-get install -y chromium`)")
		return
	}
	dir, err := os.MkdirTemp("", "fiscald-chromium-")
	if err != nil {
		browser.err = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.UserDataDir(dir), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		bcancel()
		acancel()
		os.RemoveAll(dir)
		browser.err = fmt.Errorf("starting %s: %w", path, err)
		return
	}
	browser.ctx = bctx
	browser.cancel = func() { bcancel(); acancel(); os.RemoveAll(dir) }
}

// tab is one test's browser tab with its own cookies, the page errors it
// saw, and where its screenshots go.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	out  string
	mu   sync.Mutex
	errs []string
}

func newTab(t *testing.T, s *site) *tab {
	t.Helper()
	browser.once.Do(startBrowser)
	if browser.err != nil {
		t.Fatal(browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel() })
	tb := &tab{t: t, ctx: ctx, base: s.URL, out: filepath.Join(testOut(t), "screenshots", t.Name())}
	if err := os.MkdirAll(tb.out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			// A page answered with an error status (a 422 form, the 404
			// page) is logged as a failed load; only failed assets count.
			if strings.HasPrefix(m.Text, "Failed to load resource") && !strings.Contains(m.URL, "/static/") {
				continue
			}
			if m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleError {
				tb.mu.Lock()
				tb.errs = append(tb.errs, fmt.Sprintf("%s: %s (%s)", m.Type, m.Text, m.URL))
				tb.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, e := range tb.errs {
			t.Errorf("page error: %s", e)
		}
	})
	return tb
}

// testOut is the folder for test artefacts: $FISCAL_TEST_OUT, or
// testdata-out at the repository root.
func testOut(t *testing.T) string {
	if d := os.Getenv("FISCAL_TEST_OUT"); d != "" {
		return d
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "testdata-out")
}

// do runs actions, failing the test on error.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open navigates to path and checks the page answered with status.
func (b *tab) open(path string, status int) {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, chromedp.Navigate(b.base+path))
	if err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	if res == nil || int(res.Status) != status {
		b.t.Fatalf("open %s: want %d, got %v", path, status, res)
	}
}

// submit clicks the main form's submit button and waits for sel on the next page.
func (b *tab) submit(sel string) {
	b.t.Helper()
	b.do("submit", chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(sel)))
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (b *tab) eval(js string, dst any) {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[json.RawMessage](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("eval %.60s: %v", js, err)
	}
	if dst != nil {
		if err := json.Unmarshal(v, dst); err != nil {
			b.t.Fatalf("eval %.60s: %v (%s)", js, err, v)
		}
	}
}

// widths are the viewports every page is checked at: a small phone and a desktop.
var widths = []int64{360, 1280}

// check renders the current page at each width, asserts it has no
// horizontal overflow, saves a full-page screenshot, and runs axe-core.
func (b *tab) check(name string) {
	b.t.Helper()
	for _, w := range widths {
		b.do("viewport", chromedp.EmulateViewport(w, 800))
		var overflow struct{ Doc, Win int }
		b.eval(`({Doc: document.documentElement.scrollWidth, Win: window.innerWidth})`, &overflow)
		if overflow.Doc > overflow.Win {
			b.t.Errorf("%s at %d px: the page is %d px wide (horizontal scrolling)", name, w, overflow.Doc)
		}
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			b.t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(b.out, fmt.Sprintf("%s-%d.png", name, w)), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	b.do("viewport", chromedp.EmulateViewport(1280, 900))
	b.axe(name)
}

// axeSource is axe-core's script from tools/node_modules (make deps).
var axeSource = sync.OnceValues(func() (string, error) {
	p := filepath.Join("..", "..", "tools", "node_modules", "axe-core", "axe.min.js")
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("axe-core is missing (%v): run `make deps` (it runs `npm ci` in tools/)", err)
	}
	return string(b), nil
})

type violation struct {
	ID, Impact, Help string
	Nodes            []string
}

// axe injects axe-core into the page and fails on serious or critical
// violations (WCAG 2.1 A/AA and axe's best practices).
func (b *tab) axe(name string) {
	b.t.Helper()
	src, err := axeSource()
	if err != nil {
		b.t.Fatal(err)
	}
	b.eval(src+";true", nil)
	var res struct {
		Passes     int
		Violations []violation
	}
	b.eval(`axe.run(document).then(r => ({Passes: r.passes.length, Violations: r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => ({ID: v.id, Impact: v.impact, Help: v.help, Nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}))}))`, &res)
	if res.Passes == 0 {
		b.t.Fatalf("axe on %s checked nothing", name)
	}
	for _, v := range res.Violations {
		b.t.Errorf("axe on %s: %s (%s): %s at %v", name, v.ID, v.Impact, v.Help, v.Nodes)
	}
}

// lang asserts the page's html lang.
func (b *tab) lang(want string) {
	b.t.Helper()
	var got string
	b.eval(`document.documentElement.lang`, &got)
	if got != want {
		b.t.Fatalf("html lang %q, want %q", got, want)
	}
}

func browserSite(t *testing.T) *site {
	clock := fiscal.NewTestClock(storetest.Epoch)
	return startSite(t, storetest.MustOpen(t, "sqlite", clock), clock)
}

func TestBrowserTaxpayerRegisters(t *testing.T) {
	s := browserSite(t)
	b := newTab(t, s)

	b.open("/", 200)
	b.lang("ro")
	b.check("home-ro")

	// Invalid CNP, in Romanian: the error is next to the field.
	b.open("/register", 200)
	b.check("register-ro")
	fill := func(cnp string) {
		b.do("fill the form",
			chromedp.Click(chromedp.CSS(`input[name="taxpayer.kind"][value="individual"]`)),
			chromedp.SendKeys(chromedp.CSS("#f-taxpayer-name"), "Ana Popescu"),
			chromedp.SendKeys(chromedp.CSS("#f-taxpayer-cnp"), cnp),
			chromedp.SendKeys(chromedp.CSS("#f-taxpayer-address"), "Str. Mărășești 1, Timișoara"),
			chromedp.SendKeys(chromedp.CSS("#f-email"), "ana@example.ro"),
			chromedp.SendKeys(chromedp.CSS("#f-username"), "ana"),
			chromedp.SendKeys(chromedp.CSS("#f-password"), "parola-lunga-1"))
	}
	fill("1850315350013")
	b.submit("#f-taxpayer-cnp-error")
	if got := b.text("#f-taxpayer-cnp-error"); !strings.Contains(got, "CNP invalid: cifra de control nu se potrivește.") {
		t.Fatalf("RO CNP error: %q", got)
	}
	var focused string
	b.eval(`document.activeElement.className`, &focused)
	if focused != "error-summary" {
		t.Errorf("focus after a failed submit is on %q, want the error summary", focused)
	}
	b.check("register-errors-ro")

	// The language switch, then the same mistake in English.
	b.do("switch to English", chromedp.Click(chromedp.CSS("a.lang")), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #f-taxpayer-cnp`)))
	fill("1850315350013")
	b.submit("#f-taxpayer-cnp-error")
	if got := b.text("#f-taxpayer-cnp-error"); !strings.Contains(got, "Invalid CNP: the check digit does not match.") {
		t.Fatalf("EN CNP error: %q", got)
	}
	b.check("register-errors-en")

	// A valid CNP: the account opens (in English, the language chosen).
	b.do("clear the CNP", chromedp.Clear(chromedp.CSS("#f-taxpayer-cnp")), chromedp.Clear(chromedp.CSS("#f-password")))
	b.do("fill", chromedp.SendKeys(chromedp.CSS("#f-taxpayer-cnp"), "2850615350041"), chromedp.SendKeys(chromedp.CSS("#f-password"), "parola-lunga-1"))
	b.submit("#h-vehicles")
	if got := b.text("h1"); got != "My account" {
		t.Fatalf("after registering: %q", got)
	}
	b.check("account-en")
	b.open("/account?lang=ro", 200)
	if !strings.Contains(b.text("main"), "Ana Popescu") {
		t.Fatal("the account page does not show the taxpayer")
	}
	b.check("account-ro")

	// Sign out, sign in again through the form.
	b.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`a[href="/login"]`)))
	b.open("/login", 200)
	b.check("login-ro")
	b.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "ana"), chromedp.SendKeys(chromedp.CSS("#f-password"), "parola-lunga-1"))
	b.submit("#h-vehicles")
}

func TestBrowserCalculator(t *testing.T) {
	s := browserSite(t)
	b := newTab(t, s)
	b.open("/calculator", 200)
	b.check("calculator-ro")
	b.do("fill the calculator",
		chromedp.SetValue(chromedp.CSS("#f-year"), "2026"),
		chromedp.SetValue(chromedp.CSS("#f-object-category"), "car"),
		chromedp.SetValue(chromedp.CSS("#f-object-propulsion"), "combustion"),
		chromedp.SendKeys(chromedp.CSS("#f-object-engine-cc"), "1598"),
		chromedp.SetValue(chromedp.CSS("#f-object-emission-class"), "euro6"))
	b.submit("#annual-tax")
	if got := b.text("#annual-tax"); got != "198,00 lei" {
		t.Fatalf("annual tax: %q, want 198,00 lei", got)
	}
	if !strings.Contains(b.text(".bonus"), "178,00 lei") {
		t.Errorf("bonus line: %q", b.text(".bonus"))
	}
	b.check("calculator-result-ro")
	b.do("switch to English", chromedp.Click(chromedp.CSS("a.lang")), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #annual-tax`)))
	if got := b.text("#annual-tax"); got != "198.00 lei" {
		t.Fatalf("annual tax (en): %q", got)
	}
	b.check("calculator-result-en")
	// The building form, chosen with the radio (the script hides the vehicle fields).
	b.do("building", chromedp.Click(chromedp.CSS(`input[name="object.kind"][value="building"]`)), chromedp.WaitVisible(chromedp.CSS("#f-object-use")))
	b.check("calculator-building-en")
}

func TestBrowserStaffAndErrors(t *testing.T) {
	s := browserSite(t)
	b := newTab(t, s)
	b.open("/login?lang=en", 200)
	b.check("login-en")
	b.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "ioana"), chromedp.SendKeys(chromedp.CSS("#f-password"), staffPassword("ioana")))
	b.submit("#h-links")
	b.check("staff-en")
	b.open("/staff?lang=ro", 200)
	b.check("staff-ro")
	b.open("/account", 403)
	b.check("forbidden-ro")
	b.open("/nowhere", 404)
	b.check("notfound-ro")
	b.open("/?lang=en", 200)
	b.check("home-en")
}
