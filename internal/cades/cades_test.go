package cades_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fiscald/internal/cades"
	"fiscald/internal/trust"
)

func authority(t testing.TB) *trust.Authority {
	t.Helper()
	a, err := trust.Ensure(t.TempDir(), "Municipiul Test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func signed(t testing.TB, a *trust.Authority, content []byte) ([]byte, *x509.Certificate) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert, err := a.Issue(trust.Person, pkix.Name{CommonName: "Ana Popescu"}, key.Public(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256(content)
	bb, err := cades.Sign(d[:], cert, a.Chain(), key, nil)
	if err != nil {
		t.Fatal(err)
	}
	bt, err := cades.AddTimestamp(bb, trust.Clocked{A: a, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	return bt, cert
}

func roots(a *trust.Authority) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.Root)
	return p
}

// TestCAdESVerifiesInGo signs, timestamps and verifies; a changed content
// or a changed signature fails.
func TestCAdESVerifiesInGo(t *testing.T) {
	a := authority(t)
	content := []byte(`{"step":1}`)
	p7s, cert := signed(t, a, content)
	d := sha256.Sum256(content)
	info, err := cades.Verify(p7s, d[:], roots(a), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !info.Signer.Equal(cert) || info.Timestamp.IsZero() || !info.SigningTime.IsZero() {
		t.Fatalf("info: %+v", info)
	}
	bad := sha256.Sum256([]byte(`{"step":2}`))
	if _, err := cades.Verify(p7s, bad[:], roots(a), time.Now()); !errors.Is(err, cades.ErrInvalid) {
		t.Fatalf("tampered content: %v", err)
	}
	sv, _ := cades.SignatureValue(p7s)
	flipped := append([]byte(nil), p7s...)
	i := strings.Index(string(flipped), string(sv))
	flipped[i+len(sv)/2] ^= 1
	if _, err := cades.Verify(flipped, d[:], roots(a), time.Now()); err == nil {
		t.Fatal("a flipped signature verified")
	}
	other := authority(t)
	if _, err := cades.Verify(p7s, d[:], roots(other), time.Now()); err == nil {
		t.Fatal("verified under another root")
	}
}

// TestCAdESVerifiesWithOpenSSL is the contract's check: openssl cms
// -verify on the detached signature with the published CA, and openssl ts
// -verify on its signature timestamp; a tampered content fails.
func TestCAdESVerifiesWithOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl not found: %v", err)
	}
	a := authority(t)
	content := []byte(`{"prev":"","seq":1,"actor":"ana"}`)
	p7s, _ := signed(t, a, content)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := write("ca.pem", a.ChainPEM())
	sig := write("signature.p7s", p7s)
	good := write("content", content)
	tampered := write("tampered", append(content[:len(content)-1:len(content)-1], ' ', '}'))
	run := func(args ...string) (string, error) {
		out, err := exec.Command(openssl, args...).CombinedOutput()
		return string(out), err
	}
	if out, err := run("cms", "-verify", "-binary", "-inform", "DER", "-content", good, "-in", sig, "-CAfile", ca, "-out", os.DevNull); err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	if out, err := run("cms", "-verify", "-binary", "-inform", "DER", "-content", tampered, "-in", sig, "-CAfile", ca, "-out", os.DevNull); err == nil {
		t.Fatalf("openssl verified a tampered content:\n%s", out)
	}
	tok, err := cades.TimestampToken(p7s)
	if err != nil || tok == nil {
		t.Fatalf("no timestamp token: %v", err)
	}
	sv, _ := cades.SignatureValue(p7s)
	tokFile, svFile := write("token.tst", tok), write("sigvalue", sv)
	if out, err := run("ts", "-verify", "-token_in", "-in", tokFile, "-data", svFile, "-CAfile", ca); err != nil || !strings.Contains(out, "Verification: OK") {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
	if out, err := run("ts", "-verify", "-token_in", "-in", tokFile, "-data", good, "-CAfile", ca); err == nil {
		t.Fatalf("openssl ts verified the token over other data:\n%s", out)
	}
}
