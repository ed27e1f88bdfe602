package portal_test

import (
	"bytes"
	"encoding/csv"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// Import files: three good taxpayers and one with a bad CNP (line 3).
const (
	tpCSVHeader = "external_id,kind,cnp,cui,name,address,email,phone\n"
	tpGood      = tpCSVHeader +
		"OLD-1,individual,1850315350012,,Popescu Ion,\"Str. Mărășești 1, Timișoara\",ion@example.ro,0722000001\n" +
		"OLD-2,individual,2900701350122,,Ionescu Maria,\"Str. Alba Iulia 2, Timișoara\",,\n" +
		"OLD-3,company,,RO18547290,SC Exemplu Construct SRL,\"Calea Aradului 10, Timișoara\",,\n"
	tpOneBad = tpCSVHeader +
		"OLD-1,individual,1850315350012,,Popescu Ion,\"Str. Mărășești 1, Timișoara\",ion@example.ro,0722000001\n" +
		"OLD-9,individual,1850315350013,,Greșit Vasile,\"Str. Paris 4, Timișoara\",,\n" +
		"OLD-2,individual,2900701350122,,Ionescu Maria,\"Str. Alba Iulia 2, Timișoara\",,\n"
)

// postFile submits a multipart form with one file named filename in the
// input "file" (none when filename is "").
func (c *client) postFile(path string, fields url.Values, filename string, content []byte) page {
	c.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	if filename != "" {
		fw, _ := w.CreateFormFile("file", filename)
		fw.Write(content)
	}
	w.Close()
	req, _ := http.NewRequest("POST", c.s.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

var importURLRe = regexp.MustCompile(`^/admin/imports/(\d+)$`)

// importForm opens the import page and returns its form's fields.
func (c *client) importForm(kind string, dry bool) url.Values {
	c.t.Helper()
	p := c.get("/admin/imports")
	m := formIDRe.FindStringSubmatch(p.Body)
	if p.Status != 200 || m == nil {
		c.t.Fatalf("import page: %d", p.Status)
	}
	f := url.Values{"_csrf": {c.csrf("/admin/imports")}, "form_id": {m[1]}, "kind": {kind}}
	if dry {
		f.Set("dry_run", "true")
	}
	return f
}

// importID is the report's id a POST redirected to.
func importID(t *testing.T, p page) int64 {
	t.Helper()
	m := importURLRe.FindStringSubmatch(p.Location)
	if p.Status != 303 || m == nil {
		t.Fatalf("import: %d %q %s", p.Status, p.Location, p.Body)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// counts reads the counts of a report page.
func counts(t *testing.T, body string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, k := range []string{"rows", "imported", "updated", "unchanged", "rejected"} {
		m := regexp.MustCompile(`id="count-` + k + `">(\d+)<`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("the report lacks its %s count", k)
		}
		out[k], _ = strconv.Atoi(m[1])
	}
	return out
}

// TestImportPageAccess: only an administrator opens the import pages,
// uploads, reads a report or its errors, or runs a dry run for real; the
// others are refused (403, or sent to sign in) and nothing is imported.
func TestImportPageAccess(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		adm := s.client()
		adm.login("admin", staffPassword("admin"))
		if p := adm.get("/staff"); !strings.Contains(p.Body, `href="/admin/imports"`) {
			t.Fatal("the admin's navigation lacks the import page")
		}
		id := importID(t, adm.postFile("/admin/imports", adm.importForm("taxpayers", true), "t.csv", []byte(tpOneBad)))
		before := count(t, s.db, `SELECT COUNT(*) FROM imports`)

		anon := s.client()
		if p := anon.get("/admin/imports"); p.Status != 303 || p.Location != "/login?next=%2Fadmin%2Fimports" {
			t.Fatalf("anonymous: %d %s", p.Status, p.Location)
		}
		tp := s.client()
		tp.register("ana", "2850615350041", "Ana Popescu")
		clients := map[string]*client{"taxpayer": tp}
		for _, u := range []string{"ioana", "dan", "carmen"} {
			c := s.client()
			if p := c.login(u, staffPassword(u)); p.Status != 303 {
				t.Fatalf("%s login: %d", u, p.Status)
			}
			clients[u] = c
		}
		rid := strconv.FormatInt(id, 10)
		for who, c := range clients {
			if p := c.get("/staff"); strings.Contains(p.Body, `href="/admin/imports"`) {
				t.Errorf("%s sees the import page in the navigation", who)
			}
			for _, path := range []string{"/admin/imports", "/admin/imports/" + rid, "/admin/imports/" + rid + "/errors.csv"} {
				if p := c.get(path); p.Status != 403 || strings.Contains(p.Body, "OLD-9") || strings.Contains(p.Body, "cnp,") {
					t.Errorf("%s GET %s: %d", who, path, p.Status)
				}
			}
			home := "/account"
			if who != "taxpayer" {
				home = "/staff"
			}
			tok := c.csrf(home)
			f := url.Values{"_csrf": {tok}, "kind": {"taxpayers"}}
			if p := c.postFile("/admin/imports", f, "t.csv", []byte(tpGood)); p.Status != 403 {
				t.Errorf("%s POST /admin/imports: %d", who, p.Status)
			}
			if p := c.post("/admin/imports/"+rid+"/run", url.Values{"_csrf": {tok}}); p.Status != 403 {
				t.Errorf("%s runs the dry run: %d", who, p.Status)
			}
		}
		if n := count(t, s.db, `SELECT COUNT(*) FROM imports`); n != before {
			t.Fatalf("refused users started %d imports", n-before)
		}
		if n := count(t, s.db, `SELECT COUNT(*) FROM taxpayers`); n != 1 { // ana
			t.Fatalf("refused users imported %d taxpayers", n-1)
		}
		// The admin without the form's CSRF token is refused too.
		f := adm.importForm("taxpayers", false)
		f.Set("_csrf", "forged")
		if p := adm.postFile("/admin/imports", f, "t.csv", []byte(tpGood)); p.Status != 403 {
			t.Fatalf("forged CSRF: %d", p.Status)
		}
		if n := count(t, s.db, `SELECT COUNT(*) FROM imports`); n != before {
			t.Fatal("a forged form started an import")
		}
	})
}

// TestImportPageBadFile: a file that is not CSV or XLSX, too large, with
// the wrong header, or missing is refused next to the file input with a
// clear message, and nothing is imported (no run is even recorded).
func TestImportPageBadFile(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		adm := s.client()
		adm.login("admin", staffPassword("admin"))
		huge := bytes.Repeat([]byte("x"), 10<<20+1)
		for name, c := range map[string]struct {
			kind, file string
			content    []byte
			status     int
			field      string
			want       string
		}{
			"pdf":        {"taxpayers", "t.csv", pdfDoc, 422, "f-file", "Antet greșit pentru taxpayers"},
			"png":        {"taxpayers", "t.xlsx", pngDoc, 422, "f-file", "Fișierul nu este un CSV UTF-8 sau un XLSX"},
			"zip":        {"taxpayers", "t.xlsx", []byte("PK\x03\x04not really a workbook"), 422, "f-file", "Fișierul nu este un registru XLSX care se poate citi."},
			"too large":  {"taxpayers", "t.csv", huge, 413, "f-file", "Fișierul este prea mare: cel mult 10 MiB"},
			"header":     {"vehicles", "t.csv", []byte(tpGood), 422, "f-file", "Antet greșit pentru vehicles (lipsesc owner_external_id"},
			"empty":      {"taxpayers", "t.csv", []byte(""), 422, "f-file", "Fișierul este gol."},
			"no file":    {"taxpayers", "", nil, 422, "f-file", "Alegeți fișierul de importat."},
			"no kind":    {"", "t.csv", []byte(tpGood), 422, "f-kind", ""},
			"other kind": {"houses", "t.csv", []byte(tpGood), 422, "f-kind", ""},
		} {
			f := adm.importForm(c.kind, true)
			if name == "too large" {
				f.Del("dry_run") // refused before anything runs, dry run or not
			}
			p := adm.postFile("/admin/imports", f, c.file, c.content)
			if p.Status != c.status || !strings.Contains(p.Body, `id="`+c.field+`-error"`) || !strings.Contains(p.Body, c.want) {
				t.Errorf("%s: %d %s", name, p.Status, errorText(p.Body))
			}
			if !strings.Contains(p.Body, `class="error-summary"`) || !strings.Contains(p.Body, `id="import-form"`) {
				t.Errorf("%s: the form does not come back with its errors", name)
			}
		}
		// English: the same file refusal in English.
		f := adm.importForm("taxpayers", true)
		if p := adm.postFile("/admin/imports?lang=en", f, "t.csv", pngDoc); p.Status != 422 || !strings.Contains(p.Body, "The file is neither UTF-8 CSV nor XLSX") {
			t.Errorf("pdf (en): %d %s", p.Status, errorText(p.Body))
		}
		if n := count(t, s.db, `SELECT COUNT(*) FROM imports`); n != 0 {
			t.Fatalf("refused files recorded %d imports", n)
		}
		if n := count(t, s.db, `SELECT COUNT(*) FROM taxpayers`); n != 0 {
			t.Fatalf("refused files imported %d taxpayers", n)
		}
		if p := adm.get("/admin/imports?lang=ro"); !strings.Contains(p.Body, "Niciun import încă.") {
			t.Fatal("the list of imports is not empty")
		}
	})
}

var errorTextRe = regexp.MustCompile(`<p class="error"[^>]*>(.*?)</p>`)

func errorText(body string) string {
	var out []string
	for _, m := range errorTextRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return strings.Join(out, " | ")
}

// TestImportPageDryRunThenReal: a dry run's report (counts, the bad row by
// line and field, the errors CSV) saves nothing; "import for real" runs the
// kept file; the same file imported again leaves every row unchanged; a form
// sent twice runs one import; the list shows them most recent first.
func TestImportPageDryRunThenReal(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		s := startSite(t, db, clock)
		adm := s.client()
		adm.login("admin", staffPassword("admin"))
		dryForm := adm.importForm("taxpayers", true)
		dry := importID(t, adm.postFile("/admin/imports", dryForm, "vechi.csv", []byte(tpOneBad)))
		rep := adm.get("/admin/imports/" + strconv.FormatInt(dry, 10))
		if rep.Status != 200 {
			t.Fatalf("report: %d", rep.Status)
		}
		if got := counts(t, rep.Body); got["rows"] != 3 || got["imported"] != 2 || got["rejected"] != 1 || got["unchanged"] != 0 {
			t.Fatalf("dry run counts: %v", got)
		}
		for _, want := range []string{"Fișierul a fost verificat; nu s-a salvat nimic.", "vechi.csv", `<td class="num">3</td><td class="mono">cnp</td>`,
			"CNP invalid: cifra de control nu se potrivește.", `href="/admin/imports/` + strconv.FormatInt(dry, 10) + `/errors.csv"`, `id="run-form"`} {
			if !strings.Contains(rep.Body, want) {
				t.Errorf("dry run report lacks %q", want)
			}
		}
		if strings.Contains(rep.Body, `id="f-file"`) {
			t.Error("the kept file is asked for again")
		}
		if n := count(t, db, `SELECT COUNT(*) FROM taxpayers`); n != 0 {
			t.Fatalf("the dry run saved %d taxpayers", n)
		}
		csv := adm.get("/admin/imports/" + strconv.FormatInt(dry, 10) + "/errors.csv")
		if csv.Status != 200 || !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(csv.Body, "line,field,message\n3,cnp,") ||
			!strings.Contains(csv.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("errors.csv: %d %v %q", csv.Status, csv.Header, csv.Body)
		}
		// The same form sent again leads to the same report.
		if again := importID(t, adm.postFile("/admin/imports", dryForm, "vechi.csv", []byte(tpOneBad))); again != dry {
			t.Fatalf("the form sent twice ran import %d after %d", again, dry)
		}

		// Import for real, from the kept file.
		m := formIDRe.FindStringSubmatch(rep.Body)
		runForm := url.Values{"_csrf": {adm.csrf("/admin/imports/" + strconv.FormatInt(dry, 10))}, "form_id": {m[1]}}
		real := importID(t, adm.post("/admin/imports/"+strconv.FormatInt(dry, 10)+"/run", runForm))
		got := counts(t, adm.get("/admin/imports/"+strconv.FormatInt(real, 10)).Body)
		if real == dry || got["rows"] != 3 || got["imported"] != 2 || got["rejected"] != 1 {
			t.Fatalf("real run %d: %v", real, got)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM taxpayers`); n != 2 {
			t.Fatalf("the real run saved %d taxpayers, want 2", n)
		}
		// Sent twice: the same import; the kept file is gone, the dry run's report asks for it.
		if again := importID(t, adm.post("/admin/imports/"+strconv.FormatInt(dry, 10)+"/run", runForm)); again != real {
			t.Fatalf("the run sent twice ran import %d after %d", again, real)
		}
		if p := adm.get("/admin/imports/" + strconv.FormatInt(dry, 10)); !strings.Contains(p.Body, `id="f-file"`) {
			t.Error("after the real run the dry run's report does not ask for the file")
		}
		// A real import's report has no run button, and cannot be run.
		if p := adm.get("/admin/imports/" + strconv.FormatInt(real, 10)); strings.Contains(p.Body, `id="run-form"`) {
			t.Error("a real import offers to run again")
		}
		tok := adm.csrf("/admin/imports")
		if p := adm.post("/admin/imports/"+strconv.FormatInt(real, 10)+"/run", url.Values{"_csrf": {tok}}); p.Status != 409 {
			t.Fatalf("running a real import: %d", p.Status)
		}
		if p := adm.get("/admin/imports/999999"); p.Status != 404 {
			t.Fatalf("unknown import: %d", p.Status)
		}

		// Idempotency: a clean file imported twice; the second time every row is unchanged.
		first := importID(t, adm.postFile("/admin/imports", adm.importForm("taxpayers", false), "curat.csv", []byte(tpGood)))
		second := importID(t, adm.postFile("/admin/imports", adm.importForm("taxpayers", false), "curat.csv", []byte(tpGood)))
		g1 := counts(t, adm.get("/admin/imports/"+strconv.FormatInt(first, 10)).Body)
		g2 := counts(t, adm.get("/admin/imports/"+strconv.FormatInt(second, 10)).Body)
		if g1["rows"] != 3 || g1["imported"] != 1 || g1["unchanged"] != 2 {
			t.Errorf("first clean import: %v", g1)
		}
		if g2["rows"] != 3 || g2["unchanged"] != 3 || g2["imported"]+g2["updated"]+g2["rejected"] != 0 {
			t.Errorf("second clean import: %v, want unchanged = rows", g2)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM taxpayers`); n != 3 {
			t.Fatalf("%d taxpayers, want 3", n)
		}

		// The list: most recent first, each with its counts and a link.
		list := adm.get("/admin/imports?lang=en").Body
		var ids []int64
		for _, m := range regexp.MustCompile(`href="/admin/imports/(\d+)">Import no\.`).FindAllStringSubmatch(list, -1) {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			ids = append(ids, n)
		}
		if want := []int64{second, first, real, dry}; len(ids) != 4 || ids[0] != want[0] || ids[1] != want[1] || ids[2] != want[2] || ids[3] != want[3] {
			t.Fatalf("listed imports %v, want %v", ids, want)
		}
		if !strings.Contains(list, "dry run") || !strings.Contains(list, "curat.csv") {
			t.Error("the list lacks the dry run's badge or a file name")
		}
	})
}

// TestImportPageUploadAgain: when the dry run's file is no longer kept,
// the real run takes it again, and only the same file (same SHA-256).
func TestImportPageUploadAgain(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		dir := t.TempDir()
		s := startSiteWithConfig(t, db, clock, func(c *portalConfig) { c.ImportDir = dir })
		adm := s.client()
		adm.login("admin", staffPassword("admin"))
		dry := importID(t, adm.postFile("/admin/imports", adm.importForm("taxpayers", true), "t.csv", []byte(tpGood)))
		rid := strconv.FormatInt(dry, 10)
		kept, _ := filepath.Glob(filepath.Join(dir, "*-"+rid+".upload"))
		if len(kept) != 1 {
			t.Fatalf("kept files %v", kept)
		}
		// A kept file changed on the server is not run.
		if err := os.WriteFile(kept[0], []byte(tpOneBad), 0o600); err != nil {
			t.Fatal(err)
		}
		rep := adm.get("/admin/imports/" + rid)
		if !strings.Contains(rep.Body, `id="f-file"`) {
			t.Fatal("a changed kept file is offered for the real run")
		}
		fid := formIDRe.FindStringSubmatch(rep.Body)[1]
		tok := adm.csrf("/admin/imports/" + rid)
		p := adm.postFile("/admin/imports/"+rid+"/run", url.Values{"_csrf": {tok}, "form_id": {fid}}, "t.csv", []byte(tpOneBad))
		if p.Status != 422 || !strings.Contains(p.Body, "Nu este fișierul verificat") {
			t.Fatalf("another file: %d %s", p.Status, errorText(p.Body))
		}
		if p := adm.post("/admin/imports/"+rid+"/run", url.Values{"_csrf": {tok}, "form_id": {fid}}); p.Status != 422 || !strings.Contains(p.Body, "nu mai este păstrat") {
			t.Fatalf("no file: %d %s", p.Status, errorText(p.Body))
		}
		if n := count(t, db, `SELECT COUNT(*) FROM taxpayers`); n != 0 {
			t.Fatalf("refused runs saved %d taxpayers", n)
		}
		real := importID(t, adm.postFile("/admin/imports/"+rid+"/run", url.Values{"_csrf": {tok}, "form_id": {fid}}, "t.csv", []byte(tpGood)))
		if got := counts(t, adm.get("/admin/imports/"+strconv.FormatInt(real, 10)).Body); got["imported"] != 3 {
			t.Fatalf("real run: %v", got)
		}
	})
}

// TestImportPageFirstErrors: the report lists the first 100 rejected rows
// and says how many there are; the CSV has every one.
func TestImportPageFirstErrors(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		adm := s.client()
		adm.login("admin", staffPassword("admin"))
		var b strings.Builder
		b.WriteString(tpCSVHeader)
		for i := range 105 {
			b.WriteString("BAD-" + strconv.Itoa(i) + ",individual,1850315350013,,Nume,Adresa 1,,\n")
		}
		id := importID(t, adm.postFile("/admin/imports", adm.importForm("taxpayers", true), "t.csv", []byte(b.String())))
		rep := adm.get("/admin/imports/" + strconv.FormatInt(id, 10))
		if got := counts(t, rep.Body); got["rejected"] != 105 || !strings.Contains(rep.Body, "Primele 100 din 105 rânduri respinse.") ||
			strings.Count(rep.Body, `<td class="mono">cnp</td>`) != 100 {
			t.Fatalf("report: %v", counts(t, rep.Body))
		}
		if csv := adm.get("/admin/imports/" + strconv.FormatInt(id, 10) + "/errors.csv"); strings.Count(csv.Body, "\n") != 106 {
			t.Fatalf("errors.csv has %d lines", strings.Count(csv.Body, "\n"))
		}
	})
}

// TestImportPageXLSX: a workbook is taken like its CSV (checked by its
// content, whatever its name says); one with a formula is refused whole.
func TestImportPageXLSX(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		adm := s.client()
		adm.login("admin", staffPassword("admin"))
		book := func(formula bool) []byte {
			f := excelize.NewFile()
			for i, line := range strings.Split(strings.TrimSpace(tpGood), "\n") {
				r := csvRow(t, line)
				ax, _ := excelize.CoordinatesToCellName(1, i+1)
				if err := f.SetSheetRow("Sheet1", ax, &r); err != nil {
					t.Fatal(err)
				}
			}
			if formula {
				f.SetCellFormula("Sheet1", "H2", "=1+1")
			}
			var b bytes.Buffer
			if err := f.Write(&b); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}
		p := adm.postFile("/admin/imports", adm.importForm("taxpayers", false), "export.xlsx", book(true))
		if p.Status != 422 || !strings.Contains(errorText(p.Body), "conține o formulă") {
			t.Fatalf("formula: %d %s", p.Status, errorText(p.Body))
		}
		id := importID(t, adm.postFile("/admin/imports", adm.importForm("taxpayers", false), "export.bin", book(false)))
		if got := counts(t, adm.get("/admin/imports/"+strconv.FormatInt(id, 10)).Body); got["rows"] != 3 || got["imported"] != 3 {
			t.Fatalf("xlsx: %v", got)
		}
	})
}

// csvRow splits one line of a test CSV.
func csvRow(t *testing.T, line string) []any {
	t.Helper()
	rec, err := csv.NewReader(strings.NewReader(line)).Read()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]any, len(rec))
	for i, v := range rec {
		out[i] = v
	}
	return out
}
