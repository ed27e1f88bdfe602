package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// poppler runs a poppler-utils tool on a PDF (the argument "{}").
func poppler(t *testing.T, tool string, pdf []byte, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s not found (%v): apt-get install -y poppler-utils", tool, err)
	}
	file := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		if a == "{}" {
			args[i] = file
		}
	}
	out, _ := exec.Command(path, args...).CombinedOutput()
	return string(out)
}

func flatText(t *testing.T, pdf []byte) string {
	return strings.Join(strings.Fields(poppler(t, "pdftotext", pdf, "-enc", "UTF-8", "{}", "-")), " ")
}

func TestCertificatesContractAndAccess(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		mihaiID, mihai := e.taxpayer("mihai", "1850315350012")
		assessCar(t, db, e.muni.ID, anaID, "WVWZZZAUZHW123456")
		other := storetest.Municipality(t, db, "arad")
		if _, err := db.CreateStaff(context.Background(), other.ID, "aradofficer", "password-arad", fiscal.RoleOfficer, "Arad"); err != nil {
			t.Fatal(err)
		}
		r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "aradofficer", "password": "password-arad"}, "X-Municipality", "arad")
		arad := r.Body["token"].(string)
		officer := e.tokens["officer"]

		req := map[string]any{"type": "fiscal_clearance", "taxpayer_id": anaID}
		for _, c := range []struct {
			token string
			body  any
			want  int
		}{
			{"", req, 401}, {mihai, req, 404}, {arad, req, 404},
			{ana, map[string]any{"type": "tax_decision", "taxpayer_id": anaID}, 422},
			{ana, map[string]any{"type": "fiscal_clearance"}, 422},
		} {
			if r := e.do("POST", "/api/v1/certificates", c.token, c.body); r.Status != c.want {
				t.Fatalf("POST certificates %v: %d, want %d: %s", c.body, r.Status, c.want, r.Raw)
			}
		}

		// Issued at once: Friday 8 May 2026, the first instalment (99 lei,
		// due 31 March) is overdue with 2 lei of late fees.
		r = e.do("POST", "/api/v1/certificates", ana, req, "Idempotency-Key", "cert-1")
		if r.Status != 201 || r.Body["status"] != "issued" || r.Body["number"] != "CAF-2026-000001" || r.Body["issued_on"] != "2026-05-08" || r.Body["valid_until"] != "2026-06-07" {
			t.Fatalf("certificate: %d %s", r.Status, r.Raw)
		}
		code := r.Body["verification_code"].(string)
		if len(code) != 32 || strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("verification code %q: want 32 base32 characters (160 bits)", code)
		}
		id := num(r.Body["id"])
		pdfURL := r.Body["pdf_url"].(string)
		if pdfURL != fmt.Sprintf("/api/v1/documents/%d.pdf", id) {
			t.Fatalf("pdf_url %q", pdfURL)
		}
		if again := e.do("POST", "/api/v1/certificates", ana, req, "Idempotency-Key", "cert-1"); again.Status != 201 || num(again.Body["id"]) != id {
			t.Fatalf("idempotent replay: %d %s", again.Status, again.Raw)
		}

		// The PDF: holder and staff only.
		for _, c := range []struct {
			token string
			want  int
		}{{"", 401}, {mihai, 404}, {arad, 404}, {officer, 200}, {e.tokens["accountant"], 200}, {ana, 200}} {
			if r := e.do("GET", pdfURL, c.token, nil); r.Status != c.want {
				t.Fatalf("GET %s: %d, want %d", pdfURL, r.Status, c.want)
			}
		}
		doc := e.do("GET", pdfURL, ana, nil)
		if doc.Header["Content-Type"] != "application/pdf" {
			t.Fatalf("content type %q", doc.Header["Content-Type"])
		}
		text := flatText(t, doc.Raw)
		for _, want := range []string{"Certificat de atestare fiscală", "CAF-2026-000001", "Ana Popescu", "CNP: 2850615350041", "Impozit pe mijloacele de transport — cod bugetar 16.02.02.01",
			"31.03.2026 99.00 2.00 101.00", "Total obligații fiscale exigibile: 101.00 lei", "07.06.2026", "https://fiscal.test/verify/" + code[:10]} {
			if !strings.Contains(text, want) {
				t.Errorf("certificate text lacks %q:\n%s", want, text)
			}
		}
		if out := poppler(t, "pdfsig", doc.Raw, "{}"); !strings.Contains(out, "Signature is Valid") || !strings.Contains(out, "Total document signed") {
			t.Fatalf("pdfsig: %s", out)
		}
		sum := sha256.Sum256(doc.Raw)

		// The list for the account page.
		list := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/documents", anaID), ana, nil)
		if list.Status != 200 || len(list.Body["items"].([]any)) != 1 {
			t.Fatalf("documents: %d %s", list.Status, list.Raw)
		}
		for tok, want := range map[string]int{"": 401, mihai: 404, arad: 404, officer: 200} {
			if r := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/documents", anaID), tok, nil); r.Status != want {
				t.Fatalf("documents list: %d, want %d", r.Status, want)
			}
		}

		// Verification: public, masked, the hash of the PDF as issued.
		v := e.do("GET", "/api/v1/verify/"+code, "", nil)
		if v.Status != 200 || v.Body["valid"] != true || v.Body["type"] != "fiscal_clearance" || v.Body["number"] != "CAF-2026-000001" ||
			v.Body["issued_on"] != "2026-05-08" || v.Body["valid_until"] != "2026-06-07" || v.Body["holder"] != "A** P******" || v.Body["sha256"] != hex.EncodeToString(sum[:]) {
			t.Fatalf("verify: %d %s", v.Status, v.Raw)
		}
		if strings.Contains(string(v.Raw), "Popescu") || strings.Contains(string(v.Raw), "99.00") || strings.Contains(string(v.Raw), "2850615350041") {
			t.Fatalf("verification leaks personal data: %s", v.Raw)
		}
		if r := e.do("GET", "/api/v1/verify/"+strings.ToLower(code), "", nil); r.Status != 200 {
			t.Fatalf("lower-case code: %d", r.Status)
		}

		// Staff ask for another taxpayer: the next number of the series.
		r = e.do("POST", "/api/v1/certificates", officer, map[string]any{"type": "fiscal_clearance", "taxpayer_id": mihaiID})
		if r.Status != 201 || r.Body["number"] != "CAF-2026-000002" {
			t.Fatalf("officer's request: %d %s", r.Status, r.Raw)
		}
		m := flatText(t, e.do("GET", r.Body["pdf_url"].(string), mihai, nil).Raw)
		if !strings.Contains(m, "nu figurează cu obligații fiscale restante") {
			t.Fatalf("a clean account's certificate: %s", m)
		}

		// Expired after 30 days: authentic, no longer valid.
		clock.Advance(31 * 24 * 3600e9)
		e.relogin()
		if v := e.do("GET", "/api/v1/verify/"+code, "", nil); v.Status != 200 || v.Body["valid"] != false || v.Body["status"] != "expired" {
			t.Fatalf("expired: %d %s", v.Status, v.Raw)
		}

		// Random codes are 404; an address that tries many is refused.
		for i := 0; i < 20; i++ {
			if r := e.do("GET", fmt.Sprintf("/api/v1/verify/%032d", i), "", nil); r.Status != 404 {
				t.Fatalf("random code: %d", r.Status)
			}
		}
		if r := e.do("GET", "/api/v1/verify/"+code, "", nil); r.Status != 429 {
			t.Fatalf("after 20 unknown codes: %d, want 429", r.Status)
		}
	})
}

func TestCertificateCaseWhenPaymentPending(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		assessCar(t, db, e.muni.ID, anaID, "WVWZZZAUZHW123456")
		if _, err := db.SQL().Exec(db.SQL().Rebind(`INSERT INTO payments (municipality_id, taxpayer_id, method, provider, status, amount_bani, created_at, updated_at)
			VALUES (?, ?, 'card', 'stripe', 'pending', 19800, ?, ?)`), e.muni.ID, anaID, clock.Now(), clock.Now()); err != nil {
			t.Fatal(err)
		}
		r := e.do("POST", "/api/v1/certificates", ana, map[string]any{"type": "fiscal_clearance", "taxpayer_id": anaID, "purpose": "vânzare auto"})
		if r.Status != 202 || r.Body["status"] != "case_opened" || num(r.Body["case_id"]) == 0 || r.Body["verification_code"] != nil {
			t.Fatalf("pending payment: %d %s", r.Status, r.Raw)
		}
		caseID := num(r.Body["case_id"])
		if up := e.upload(caseID, ana, "holder_id", "ci.pdf", pdfDoc); up.Status != 201 {
			t.Fatalf("upload: %d %s", up.Status, up.Raw)
		}
		if r := e.do("POST", casePath(caseID, "/review"), e.tokens["officer"], map[string]any{"decision": "approve"}); r.Status != 200 {
			t.Fatalf("review: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(caseID, "/sign"), e.tokens["signer"], map[string]any{"decision": "approve"}); r.Status != 200 {
			t.Fatalf("sign: %d %s", r.Status, r.Raw)
		}
		list := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/documents", anaID), ana, nil)
		items := list.Body["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("documents after approval: %s", list.Raw)
		}
		d := items[0].(map[string]any)
		if d["type"] != "fiscal_clearance" || d["number"] != "CAF-2026-000001" || num(d["case_id"]) != caseID {
			t.Fatalf("document of the case: %v", d)
		}
		text := flatText(t, e.do("GET", d["pdf_url"].(string), ana, nil).Raw)
		for _, want := range []string{"signer", "Șef serviciu", "vânzare auto", "TM-2026-000001"} {
			if !strings.Contains(text, want) {
				t.Errorf("text lacks %q: %s", want, text)
			}
		}
	})
}

func TestVehicleApprovalIssuesDocuments(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		id := e.fullCase(anaID, ana, "WVWZZZAUZHW123456", "2025-12-15")
		if r := e.do("POST", casePath(id, "/review"), e.tokens["officer"], map[string]any{"decision": "approve"}); r.Status != 200 {
			t.Fatalf("review: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/sign"), e.tokens["signer"], map[string]any{"decision": "approve"}); r.Status != 200 {
			t.Fatalf("sign: %d %s", r.Status, r.Raw)
		}
		items := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/documents", anaID), ana, nil).Body["items"].([]any)
		got := map[string]map[string]any{}
		for _, it := range items {
			d := it.(map[string]any)
			got[d["type"].(string)] = d
		}
		reg, dec := got["vehicle_registration"], got["tax_decision"]
		if len(items) != 2 || reg == nil || dec == nil || reg["number"] != "DIF-2026-000001" || dec["number"] != "DI-2026-000001" {
			t.Fatalf("documents of the approval: %v", items)
		}
		text := flatText(t, e.do("GET", reg["pdf_url"].(string), ana, nil).Raw)
		for _, want := range []string{"WVWZZZAUZHW123456", "1598 cm³", "15.12.2025", "1 ianuarie 2026"} {
			if !strings.Contains(text, want) {
				t.Errorf("registration proof lacks %q: %s", want, text)
			}
		}
		raw := e.do("GET", dec["pdf_url"].(string), ana, nil).Raw
		text = flatText(t, raw)
		for _, want := range []string{"Decizie de impunere", "anul 2026", "198.00", "16.02.02.01", "31.03.2026", "30.09.2026", "99.00", "art. 470"} {
			if !strings.Contains(text, want) {
				t.Errorf("tax decision lacks %q: %s", want, text)
			}
		}
		if out := poppler(t, "pdfsig", raw, "{}"); !strings.Contains(out, "Signature is Valid") {
			t.Fatalf("pdfsig: %s", out)
		}
	})
}
