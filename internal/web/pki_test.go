package web_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/blob"
	"fiscald/internal/signing"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/internal/trust"
)

// TestStepSignaturesVerifyWithOpenSSL is the contract's "Signatures that
// others can verify" for steps: the public CA chain, a step's content and
// its CAdES signature, verified by openssl alone; the owner and staff may
// read them, another taxpayer gets 404 and nobody signed in 401.
func TestStepSignaturesVerifyWithOpenSSL(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ca, err := trust.Ensure(t.TempDir(), "Municipiul Timișoara", clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		blobs, err := blob.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		vault := signing.NewRandom()
		vault.UsePKI(ca, nil, clock.Now)
		db.UseCaseDeps(vault, blobs)
		e := newEnv(t, db, clock)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		_, mihai := e.taxpayer("mihai", "1850315350012")
		r := e.do("POST", "/api/v1/cases", ana, registration(anaID, "WVWZZZAUZHW123456", "2025-12-15"))
		if r.Status != 201 {
			t.Fatalf("intake: %d %s", r.Status, r.Raw)
		}
		id := num(r.Body["id"])
		if r := e.do("POST", casePath(id, "/review"), e.tokens["officer"], map[string]any{"decision": "reject", "comment": "incomplet"}); r.Status != 200 {
			t.Fatalf("review: %d %s", r.Status, r.Raw)
		}
		pemResp := e.do("GET", "/api/v1/pki/ca.pem", "", nil)
		if pemResp.Status != 200 || !strings.Contains(string(pemResp.Raw), "BEGIN CERTIFICATE") || pemResp.Header["Content-Type"] != "application/x-pem-file" {
			t.Fatalf("ca.pem: %d %v", pemResp.Status, pemResp.Header)
		}
		content := e.do("GET", casePath(id, "/steps/2/content"), ana, nil)
		sig := e.do("GET", casePath(id, "/steps/2/signature.p7s"), ana, nil)
		if content.Status != 200 || sig.Status != 200 || sig.Header["Content-Type"] != "application/pkcs7-signature" {
			t.Fatalf("content %d, signature %d %s", content.Status, sig.Status, sig.Raw)
		}
		dir := t.TempDir()
		for name, b := range map[string][]byte{"ca.pem": pemResp.Raw, "content": content.Raw, "signature.p7s": sig.Raw,
			"tampered": []byte(strings.Replace(string(content.Raw), "incomplet", "complet", 1))} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		verify := func(content string) ([]byte, error) {
			cmd := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content", content, "-in", "signature.p7s", "-CAfile", "ca.pem", "-out", os.DevNull)
			cmd.Dir = dir
			return cmd.CombinedOutput()
		}
		if out, err := verify("content"); err != nil {
			t.Fatalf("openssl cms -verify: %v\n%s", err, out)
		}
		if out, err := verify("tampered"); err == nil {
			t.Fatalf("a tampered content verified:\n%s", out)
		}
		if r := e.do("GET", casePath(id, "/steps/2/signature.p7s"), e.tokens["signer"], nil); r.Status != 200 {
			t.Fatalf("staff: %d", r.Status)
		}
		for _, p := range []string{"/steps/2/content", "/steps/2/signature.p7s", "/steps/1/content"} {
			if r := e.do("GET", casePath(id, p), mihai, nil); r.Status != 404 {
				t.Fatalf("another taxpayer %s: %d", p, r.Status)
			}
			if r := e.do("GET", casePath(id, p), "", nil); r.Status != 401 {
				t.Fatalf("anonymous %s: %d", p, r.Status)
			}
		}
		for _, p := range []string{"/steps/9/content", "/steps/0/signature.p7s", "/steps/x/content"} {
			if r := e.do("GET", casePath(id, p), ana, nil); r.Status != 404 || !strings.HasPrefix(r.Header["Content-Type"], "application/problem+json") {
				t.Fatalf("%s: %d %v", p, r.Status, r.Header)
			}
		}
	})
}

// withStepPKI makes db sign steps as CAdES under a demo CA of the test's own.
func withStepPKI(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
	t.Helper()
	ca, err := trust.Ensure(t.TempDir(), "Municipiul Timișoara", clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	vault := signing.NewRandom()
	vault.UsePKI(ca, nil, clock.Now)
	db.UseCaseDeps(vault, blobs)
}

// stepVerifiedByOpenSSL fetches step seq of a case as tok sees it and checks
// its CAdES signature with openssl and the published CA; it returns the
// signed content.
func stepVerifiedByOpenSSL(t *testing.T, e *env, id int64, seq int, tok string) string {
	t.Helper()
	pemResp := e.do("GET", "/api/v1/pki/ca.pem", "", nil)
	content := e.do("GET", casePath(id, fmt.Sprintf("/steps/%d/content", seq)), tok, nil)
	sig := e.do("GET", casePath(id, fmt.Sprintf("/steps/%d/signature.p7s", seq)), tok, nil)
	if pemResp.Status != 200 || content.Status != 200 || sig.Status != 200 {
		t.Fatalf("ca.pem %d, content %d, signature %d", pemResp.Status, content.Status, sig.Status)
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{"ca.pem": pemResp.Raw, "content": content.Raw, "signature.p7s": sig.Raw} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content", "content", "-in", "signature.p7s", "-CAfile", "ca.pem", "-out", os.DevNull)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl cms -verify of step %d: %v\n%s", seq, err, out)
	}
	return string(content.Raw)
}
