package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fiscald/documents"
	"fiscald/fiscal"
	"fiscald/internal/blob"
	"fiscald/internal/signing"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestDocumentStoreUnavailable points the attachment and document store at a
// folder that cannot exist (a path under a regular file: ENOTDIR, which root
// cannot override as it would a chmod 0500): an upload and a certificate
// both answer 503 problem+json naming the store, and leave no attachment,
// document, case event or audit entry behind; the document number is not
// consumed. With the store back, the same requests succeed, the certificate
// taking number 000001.
func TestDocumentStoreUnavailable(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		dir := t.TempDir()
		file := filepath.Join(dir, "not-a-folder")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		broken := &blob.Local{Dir: filepath.Join(file, "attachments")}
		good, err := blob.NewLocal(filepath.Join(dir, "attachments"))
		if err != nil {
			t.Fatal(err)
		}
		keys := signing.NewRandom()
		use := func(b fiscal.BlobStore) {
			db.UseCaseDeps(keys, b)
			db.UseDocuments(&documents.Producer{Signer: storetest.Signer(t), Blobs: b, PublicURL: storetest.PublicURL})
		}
		use(broken)
		e := newEnv(t, db, clock)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		r := e.do("POST", "/api/v1/cases", ana, registration(anaID, "WVWZZZAUZHW123456", "2026-03-10"))
		if r.Status != 201 {
			t.Fatalf("intake: %d %s", r.Status, r.Raw)
		}
		caseID := num(r.Body["id"])
		state := func() string {
			var b strings.Builder
			for _, q := range []string{`SELECT COUNT(*) FROM case_attachments`, `SELECT COUNT(*) FROM case_events`, `SELECT COUNT(*) FROM audit_log`,
				`SELECT COUNT(*) FROM documents`, `SELECT COALESCE(SUM(version), 0) FROM cases`} {
				b.WriteString(strings.TrimSpace(q[len("SELECT "):]) + "=" + fmt.Sprint(count(t, db, q)) + " ")
			}
			return b.String()
		}
		before := state()
		up := e.upload(caseID, ana, "owner_id", "ci.pdf", pdfDoc)
		if up.Status != 503 || !strings.Contains(up.Body["detail"].(string), "document store") {
			t.Fatalf("upload to a broken store: %d %s", up.Status, up.Raw)
		}
		cert := e.do("POST", "/api/v1/certificates", ana, map[string]any{"type": "fiscal_clearance", "taxpayer_id": anaID})
		if cert.Status != 503 || cert.Header["Content-Type"] != "application/problem+json" {
			t.Fatalf("certificate on a broken store: %d %s", cert.Status, cert.Raw)
		}
		if after := state(); after != before {
			t.Fatalf("a failed store left rows behind:\n before %s\n after  %s", before, after)
		}
		t.Logf("upload %d, certificate %d: %s", up.Status, cert.Status, up.Body["detail"])

		use(good)
		if up := e.upload(caseID, ana, "owner_id", "ci.pdf", pdfDoc); up.Status != 201 {
			t.Fatalf("upload after recovery: %d %s", up.Status, up.Raw)
		}
		cert = e.do("POST", "/api/v1/certificates", ana, map[string]any{"type": "fiscal_clearance", "taxpayer_id": anaID})
		if cert.Status != 201 || !strings.HasSuffix(cert.Body["number"].(string), "-000001") {
			t.Fatalf("certificate after recovery: %d %s", cert.Status, cert.Raw)
		}
	})
}
