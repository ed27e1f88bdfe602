//go:build pkcs11

package signing_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fiscald/internal/cades"
	"fiscald/internal/csc"
	"fiscald/internal/signing"
	"fiscald/internal/trust"
)

const softhsmModule = "/usr/lib/softhsm/libsofthsm2.so"

// softToken makes a fresh SoftHSM2 token (its own token directory) and
// points FISCAL_PKCS11_* at it.
func softToken(t *testing.T) {
	t.Helper()
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
	t.Setenv("FISCAL_PKCS11_MODULE", softhsmModule)
	t.Setenv("FISCAL_PKCS11_TOKEN", "fiscald")
	t.Setenv("FISCAL_PKCS11_PIN", "1234")
}

// TestPKCS11KeysNeverLeaveTheToken: the seal's and an officer's keys are
// generated on the token, pkcs11-tool lists them sensitive and never
// extractable, and steps are signed (CAdES-B-T) through the token from
// several goroutines.
func TestPKCS11KeysNeverLeaveTheToken(t *testing.T) {
	softToken(t)
	b, err := signing.PKCS11FromEnv()
	if err != nil || b == nil {
		t.Fatalf("backend: %v", err)
	}
	defer b.(*signing.PKCS11).Close()
	ca, err := trust.Ensure(t.TempDir(), "Municipiul Test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	v := signing.NewRandom()
	v.UsePKI(ca, b, time.Now)
	type key struct {
		cert   string
		handle []byte
	}
	var keys []key
	for _, who := range []struct {
		name string
		seal bool
	}{{"Municipiul Test", true}, {"Ana Popescu", false}} {
		_, cert, _, handle, err := v.NewCertifiedKey(who.name, who.seal, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key{cert, handle})
	}
	out, err := exec.Command("pkcs11-tool", "--module", softhsmModule, "--token-label", "fiscald", "--login", "--pin", "1234", "--list-objects", "--type", "privkey").CombinedOutput()
	if err != nil {
		t.Fatalf("pkcs11-tool: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "Private Key Object"); n != 2 {
		t.Fatalf("%d private keys on the token, want 2:\n%s", n, out)
	}
	if n := strings.Count(string(out), "never extractable"); n != 2 || strings.Count(string(out), "sensitive") < 2 {
		t.Fatalf("the keys are not all sensitive and never extractable:\n%s", out)
	}
	// Reopened (another instance, another session pool), the keys are found by handle.
	b2, err := signing.PKCS11FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer b2.(*signing.PKCS11).Close()
	v2 := signing.NewRandom()
	v2.UsePKI(ca, b2, time.Now)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := keys[i%2]
			content := []byte(`{"seq":` + string(rune('1'+i)) + `}`)
			p7s, _, err := v2.SignCAdES(k.handle, k.cert, content)
			if err == nil {
				p7s, err = v2.TimestampCAdES(p7s)
			}
			if err == nil {
				_, ts, verr := v2.VerifyCAdES(p7s, content, time.Now())
				if err = verr; err == nil && ts.IsZero() {
					t.Error("not timestamped")
				}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A key that is not on the token signs nothing.
	if _, _, err := v2.SignCAdES([]byte("no-such-key-id!!"), keys[0].cert, []byte("x")); err == nil {
		t.Fatal("signed with a key that is not on the token")
	}
}

// TestPKCS11BehindCSC: the CSC stand-in serves a key generated on the
// SoftHSM2 token; a client signs through the API only the hash it
// authorized.
func TestPKCS11BehindCSC(t *testing.T) {
	softToken(t)
	b, err := signing.PKCS11FromEnv()
	if err != nil || b == nil {
		t.Fatalf("backend: %v", err)
	}
	defer b.(*signing.PKCS11).Close()
	ca, err := trust.Ensure(t.TempDir(), "Municipiul Test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := b.Generate("Ana Popescu")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(trust.Person, pkix.Name{CommonName: "Ana Popescu"}, key.Public(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&csc.StandIn{Token: "tok", Now: time.Now, Credentials: map[string]*csc.Credential{
		"ana": {Key: key, Chain: append([]*x509.Certificate{cert}, ca.Chain()...), PIN: "4321"}}})
	defer srv.Close()
	c := &csc.Client{BaseURL: srv.URL, Token: "tok"}
	signer, chain, err := c.Signer(context.Background(), "ana", "4321")
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte(`{"seq":3}`))
	p7s, err := cades.Sign(d[:], chain[0], chain[1:], signer, nil)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Root)
	if _, err := cades.Verify(p7s, d[:], roots, time.Now()); err != nil {
		t.Fatal(err)
	}
	other := sha256.Sum256([]byte("other"))
	sad, err := c.Authorize(context.Background(), "ana", "4321", [][]byte{d[:]})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SignHash(context.Background(), "ana", sad, [][]byte{other[:]}); err == nil {
		t.Fatal("the stand-in signed a hash it did not authorize")
	}
}
