//go:build pkcs11

package store_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/signing"
	"fiscald/internal/store/storetest"
)

// TestPKCS11StepsSignedOnTheToken: with the PKCS #11 backend on a fresh
// SoftHSM2 token, the municipality's key (its submissions) and the
// officer's are generated on the token, never extractable, and the case's
// steps, signed through it, verify.
func TestPKCS11StepsSignedOnTheToken(t *testing.T) {
	for _, tool := range []string{"softhsm2-util", "pkcs11-tool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: apt-get install -y softhsm2 opensc", tool)
		}
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+dir+"\nobjectstore.backend = file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	if out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", "fiscald", "--pin", "1234", "--so-pin", "5678").CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util: %v\n%s", err, out)
	}
	const module = "/usr/lib/softhsm/libsofthsm2.so"
	t.Setenv("FISCAL_PKCS11_MODULE", module)
	t.Setenv("FISCAL_PKCS11_TOKEN", "fiscald")
	t.Setenv("FISCAL_PKCS11_PIN", "1234")
	backend, err := signing.PKCS11FromEnv()
	if err != nil || backend == nil {
		t.Fatalf("backend: %v", err)
	}
	defer backend.(*signing.PKCS11).Close()

	clock := fiscal.NewTestClock(storetest.Epoch)
	db := storetest.MustOpen(t, "sqlite", clock)
	vault := signing.NewRandom()
	ca := withPKI(t, db, clock, vault)
	vault.UsePKI(ca, backend, clock.Now) // the token instead of the file backend
	m := storetest.Municipality(t, db, "timisoara")
	officer, _ := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
	ana, tp := signedInTaxpayer(t, db, m)
	c, err := db.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CaseVehicleRegistration, TaxpayerID: tp.ID, Data: registrationData(1)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Review(officer, c.ID, &fiscal.Decision{Decision: fiscal.DecisionReject, Comment: "incomplet"}); err != nil {
		t.Fatal(err)
	}
	if v, err := db.VerifyCase(officer, c.ID); err != nil || !v.Valid || v.Steps != 2 {
		t.Fatalf("verify: %+v %v", v, err)
	}
	out, err := exec.Command("pkcs11-tool", "--module", module, "--token-label", "fiscald", "--login", "--pin", "1234", "--list-objects", "--type", "privkey").CombinedOutput()
	if err != nil {
		t.Fatalf("pkcs11-tool: %v\n%s", err, out)
	}
	if strings.Count(string(out), "Private Key Object") != 2 || strings.Count(string(out), "never extractable") != 2 {
		t.Fatalf("want the municipality's and the officer's keys on the token, never extractable:\n%s", out)
	}
	for _, who := range []string{"Municipiul", "officer1"} {
		if !strings.Contains(string(out), who) {
			t.Errorf("no key labelled for %s:\n%s", who, out)
		}
	}
}
