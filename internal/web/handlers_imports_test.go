package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// importFile posts a multipart import.
func (e *env) importFile(token, kind, dryRun, filename string, content []byte) resp {
	e.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if kind != "" {
		w.WriteField("kind", kind)
	}
	if dryRun != "" {
		w.WriteField("dry_run", dryRun)
	}
	if filename != "" {
		fw, _ := w.CreateFormFile("file", filename)
		fw.Write(content)
	}
	w.Close()
	req := httptest.NewRequest("POST", "/api/v1/admin/imports", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := e.srv.App().Test(req, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	out := resp{Status: res.StatusCode, Raw: raw, Header: map[string]string{}}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// TestImportAPI: POST /api/v1/admin/imports answers the contract's report,
// the rejected rows download as CSV; only an administrator may import.
func TestImportAPI(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		csv, err := os.ReadFile("../importer/testdata/city/taxpayers.csv")
		if err != nil {
			t.Fatal(err)
		}
		e.do("POST", "/api/v1/auth/register", "", individual("ana", "2850615350041"))
		e.tokens["taxpayer"] = e.login("ana", "parola-lunga-1")
		for _, role := range []string{"taxpayer", "officer", "accountant", "signer"} {
			if r := e.importFile(e.tokens[role], "taxpayers", "", "t.csv", csv); r.Status != 403 {
				t.Fatalf("%s import: %d %s", role, r.Status, r.Raw)
			}
		}
		if r := e.importFile("", "taxpayers", "", "t.csv", csv); r.Status != 401 {
			t.Fatalf("anonymous import: %d", r.Status)
		}
		admin := e.tokens["admin"]
		for name, c := range map[string]struct {
			kind, dry, file string
			content         []byte
			status          int
			field           string
		}{
			"no kind":     {"", "", "t.csv", csv, 422, "kind"},
			"bad kind":    {"houses", "", "t.csv", csv, 422, "kind"},
			"bad dry_run": {"taxpayers", "maybe", "t.csv", csv, 422, "dry_run"},
			"no file":     {"taxpayers", "", "", nil, 422, "file"},
			"not UTF-8":   {"taxpayers", "", "t.csv", append([]byte("external_id,kind,cnp,cui,name,address,email,phone\nX,individual,,,"), 0xBA, '\n'), 422, "file"},
			"header":      {"vehicles", "", "t.csv", csv, 422, "file"},
		} {
			r := e.importFile(admin, c.kind, c.dry, c.file, c.content)
			if r.Status != c.status || !strings.Contains(strings.Join(fieldNames(r), ","), c.field) {
				t.Fatalf("%s: %d %s", name, r.Status, r.Raw)
			}
		}
		var n int
		if db.SQL().Get(&n, `SELECT COUNT(*) FROM taxpayers`); n != 1 { // ana
			t.Fatalf("refused imports wrote %d taxpayers", n-1)
		}
		dry := e.importFile(admin, "taxpayers", "true", "t.csv", csv)
		if dry.Status != 201 || dry.Body["dry_run"] != true || dry.Body["imported"] != float64(5) {
			t.Fatalf("dry run: %d %s", dry.Status, dry.Raw)
		}
		r := e.importFile(admin, "taxpayers", "false", "t.csv", csv)
		if r.Status != 201 {
			t.Fatalf("import: %d %s", r.Status, r.Raw)
		}
		for _, k := range []string{"id", "kind", "dry_run", "rows", "imported", "updated", "unchanged", "rejected", "errors"} {
			if _, ok := r.Body[k]; !ok {
				t.Fatalf("import answer lacks %q: %s", k, r.Raw)
			}
		}
		errs := r.Body["errors"].([]any)
		first := errs[0].(map[string]any)
		if r.Body["rows"] != float64(9) || r.Body["imported"] != float64(5) || r.Body["rejected"] != float64(4) || len(errs) != 4 ||
			first["line"] != float64(5) || first["field"] != "cnp" {
			t.Fatalf("import: %s", r.Raw)
		}
		id := int64(r.Body["id"].(float64))
		got := e.do("GET", fmt.Sprintf("/api/v1/admin/imports/%d/errors.csv", id), admin, nil)
		if got.Status != 200 || !strings.HasPrefix(got.Header["Content-Type"], "text/csv") || !strings.HasPrefix(string(got.Raw), "line,field,message\n5,cnp,") ||
			strings.Count(string(got.Raw), "\n") != 5 {
			t.Fatalf("errors.csv: %d %v %s", got.Status, got.Header, got.Raw)
		}
		if got := e.do("GET", fmt.Sprintf("/api/v1/admin/imports/%d", id), admin, nil); got.Status != 200 || got.Body["imported"] != float64(5) {
			t.Fatalf("report: %d %s", got.Status, got.Raw)
		}
		for _, role := range []string{"taxpayer", "officer"} {
			if got := e.do("GET", fmt.Sprintf("/api/v1/admin/imports/%d/errors.csv", id), e.tokens[role], nil); got.Status != 403 {
				t.Fatalf("%s errors.csv: %d", role, got.Status)
			}
		}
		if got := e.do("GET", "/api/v1/admin/imports/999999/errors.csv", admin, nil); got.Status != 404 {
			t.Fatalf("unknown import: %d", got.Status)
		}
		again := e.importFile(admin, "taxpayers", "", "t.csv", csv)
		if again.Status != 201 || again.Body["unchanged"] != float64(5) || again.Body["imported"] != float64(0) {
			t.Fatalf("second import: %s", again.Raw)
		}
	})
}
