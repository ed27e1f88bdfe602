package portal_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserImportPage: the administrator's import page in both languages
// (axe, 360 and 1280 px): a CSV with one bad row checked as a dry run (the
// report with the bad row's line, field and message), then imported for
// real from the report, the taxpayers counted; a file over the limit is
// refused before it is sent.
func TestBrowserImportPage(t *testing.T) {
	s := browserSite(t)
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "contribuabili.csv")
	if err := os.WriteFile(csvPath, []byte(tpOneBad), 0o644); err != nil {
		t.Fatal(err)
	}
	adm := newTab(t, s)
	adm.open("/login", 200)
	adm.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "admin"), chromedp.SendKeys(chromedp.CSS("#f-password"), staffPassword("admin")))
	adm.submit("#h-links")
	adm.open("/admin/imports?lang=en", 200)
	adm.check("admin-imports-en")
	adm.open("/admin/imports?lang=ro", 200)
	adm.check("admin-imports-ro")
	// The script shows the columns of the chosen kind only.
	var shown []string
	adm.eval(`[...document.querySelectorAll("[data-show-when]")].filter(e => !e.hidden).map(e => e.id)`, &shown)
	if len(shown) != 1 || shown[0] != "columns-taxpayers" {
		t.Fatalf("columns shown: %v", shown)
	}
	var dry bool
	adm.eval(`document.getElementById("f-dry-run").checked`, &dry)
	if !dry {
		t.Fatal("the dry run is not on by default")
	}

	// A file over the limit: refused by the page, nothing sent.
	big := filepath.Join(dir, "mare.csv")
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), 11<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	adm.do("big file", chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{big}),
		chromedp.Click(chromedp.CSS("#import-form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#f-file-error")))
	if got := adm.text("#f-file-error"); !strings.Contains(got, "Fișierul este prea mare: cel mult 10 MiB") {
		t.Fatalf("big file: %q", got)
	}
	adm.check("admin-imports-too-large-ro")

	// The dry run.
	adm.open("/admin/imports?lang=ro", 200)
	adm.do("upload", chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{csvPath}))
	adm.submit("#import-counts")
	for sel, want := range map[string]string{"#count-rows": "3", "#count-imported": "2", "#count-rejected": "1", "#count-unchanged": "0",
		"#import-mode": "verificare fără salvare", "#import-errors tbody": "3\tcnp\tCNP invalid: cifra de control nu se potrivește."} {
		if got := adm.text(sel); got != want {
			t.Errorf("dry run %s: %q, want %q", sel, got, want)
		}
	}
	adm.check("admin-import-dry-ro")
	adm.do("english", chromedp.Click(chromedp.CSS("a.lang")), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #run-form`)))
	adm.check("admin-import-dry-en")

	// For real, from the report: the same file, kept on the server.
	adm.do("run", chromedp.Click(chromedp.CSS("#run-form button")), chromedp.WaitNotPresent(chromedp.CSS("#run-form")))
	for sel, want := range map[string]string{"#count-rows": "3", "#count-imported": "2", "#count-rejected": "1", "#import-mode": "import"} {
		if got := adm.text(sel); got != want {
			t.Errorf("real run %s: %q, want %q", sel, got, want)
		}
	}
	if got := adm.text(".notice"); got != "The import has finished." {
		t.Errorf("notice: %q", got)
	}
	adm.check("admin-import-real-en")
	var n int
	if err := s.db.SQL().Get(&n, `SELECT COUNT(*) FROM taxpayers`); err != nil || n != 2 {
		t.Fatalf("taxpayers after the real run: %d %v", n, err)
	}

	// The list: both runs, the real one first.
	adm.open("/admin/imports?lang=ro", 200)
	var rows []string
	adm.eval(`[...document.querySelectorAll("#imports tbody tr")].map(r => r.innerText.replace(/\s+/g, " ").trim())`, &rows)
	if len(rows) != 2 || !strings.Contains(rows[0], "Importul nr. 2") || !strings.Contains(rows[0], "3 2 0 0 1") ||
		!strings.Contains(rows[1], "verificare") {
		t.Fatalf("list: %q", rows)
	}
	adm.check("admin-imports-list-ro")
}
