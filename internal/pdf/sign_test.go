package pdf

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	sigValid     = "Signature Validation: Signature is Valid."
	sigWholeFile = "Total document signed"
)

// signedSample renders the sample certificate and signs it with a fresh
// demo PKI.
func signedSample(t *testing.T) (signed []byte, s *Signer) {
	t.Helper()
	s, err := EnsureDemoPKI(t.TempDir(), "Municipiul Timișoara", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := Render(sampleCertificate())
	if err != nil {
		t.Fatal(err)
	}
	signed, err = s.Sign(pdf, SignInfo{
		Name:     "Direcția Fiscală (Municipiul Timișoara",
		Reason:   "Certificat de atestare fiscală nr. CAF-2026-000123)",
		Location: "Timișoara, România",
		Time:     time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(signed, pdf) {
		t.Fatal("signing changed the original bytes instead of appending an update")
	}
	return signed, s
}

func TestSignVerifiesWithPdfsig(t *testing.T) {
	signed, _ := signedSample(t)
	out, _ := poppler(t, "pdfsig", signed, "{}")
	for _, want := range []string{sigValid, sigWholeFile, "adbe.pkcs7.detached", "Municipiul Timișoara - semnare documente"} {
		if !strings.Contains(out, want) {
			t.Errorf("pdfsig output lacks %q:\n%s", want, out)
		}
	}
	// The signed file is still a readable document.
	if text := pdfText(t, signed); !strings.Contains(text, "Direcția Fiscală") {
		t.Error("signed PDF lost its text")
	}
}

func TestSignDetectsTampering(t *testing.T) {
	signed, _ := signedSample(t)

	t.Run("changed byte", func(t *testing.T) {
		// The creation date lies in the first signed byte range.
		i := bytes.Index(signed, []byte("/CreationDate (D:2026"))
		if i < 0 {
			t.Fatal("no creation date to change")
		}
		i += len("/CreationDate (D:202")
		bad := bytes.Clone(signed)
		bad[i] = '7'
		out, _ := poppler(t, "pdfsig", bad, "{}")
		if strings.Contains(out, sigValid) {
			t.Fatalf("pdfsig accepts a modified document:\n%s", out)
		}
		if !strings.Contains(out, "Signature Validation: Digest Mismatch.") {
			t.Fatalf("pdfsig does not report the digest mismatch:\n%s", out)
		}
	})
	t.Run("appended bytes", func(t *testing.T) {
		bad := append(bytes.Clone(signed), "\n% appended after signing\n"...)
		out, _ := poppler(t, "pdfsig", bad, "{}")
		if strings.Contains(out, sigWholeFile) {
			t.Fatalf("pdfsig says the whole document is signed after an append:\n%s", out)
		}
	})
}

func TestSignInfoCleaning(t *testing.T) {
	for in, want := range map[string]string{
		"Direcția (Fiscală":  "Direcția Fiscală",
		"a)b\\c":             "abc",
		" Șef serviciu\r\n ": "Șef serviciu",
		"Ĩ Ŝ č ḩ ș ț":        "ș ț", // each dropped rune has a 0x28, 0x29, 0x5C or 0x0D byte
		"emoji 🙂":            "emoji",
	} {
		if got := cleanInfo(in); got != want {
			t.Errorf("cleanInfo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSignRequiresTimeWithinValidity(t *testing.T) {
	s, err := EnsureDemoPKI(t.TempDir(), "Comuna Șag", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := Render(sampleCertificate())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(pdf, SignInfo{Name: "x"}); err == nil {
		t.Error("Sign without a time succeeded")
	}
	if _, err := s.Sign(pdf, SignInfo{Name: "x", Time: time.Now().AddDate(5, 0, 0)}); err == nil {
		t.Error("Sign after the certificate expired succeeded")
	}
}

func TestEnsureDemoPKI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s1, err := EnsureDemoPKI(dir, "Municipiul Timișoara", now)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{DemoCAKeyFile, DemoSignerKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	leaf := s1.Certificate()
	if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 || leaf.KeyUsage&x509.KeyUsageContentCommitment == 0 {
		t.Errorf("leaf key usage %b lacks DigitalSignature or ContentCommitment", leaf.KeyUsage)
	}
	if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageEmailProtection {
		t.Errorf("leaf ext key usage %v, want EmailProtection", leaf.ExtKeyUsage)
	}
	chain := s1.Chain()
	if len(chain) != 2 || !chain[1].IsCA {
		t.Fatalf("chain has %d certificates, want leaf and CA", len(chain))
	}
	roots := x509.NewCertPool()
	roots.AddCert(chain[1])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
		t.Errorf("leaf does not verify against the demo CA: %v", err)
	}

	// A second call reloads the same certificates.
	s2, err := EnsureDemoPKI(dir, "Municipiul Timișoara", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !s2.Certificate().Equal(leaf) || !s2.Chain()[1].Equal(chain[1]) {
		t.Error("second call did not reload the stored certificates")
	}

	// Once the signing certificate has expired, a new one comes from the same CA.
	later := leaf.NotAfter.Add(24 * time.Hour)
	s3, err := EnsureDemoPKI(dir, "Municipiul Timișoara", later)
	if err != nil {
		t.Fatal(err)
	}
	if s3.Certificate().Equal(leaf) || !s3.Chain()[1].Equal(chain[1]) {
		t.Error("expired signing certificate not reissued by the same CA")
	}

	// A lone key is not overwritten.
	if err := os.Remove(filepath.Join(dir, DemoSignerCertFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureDemoPKI(dir, "Municipiul Timișoara", now); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lone key: err = %v, want a refusal", err)
	}
}

func TestLoadSigner(t *testing.T) {
	dir := t.TempDir()
	if _, err := EnsureDemoPKI(dir, "Municipiul Timișoara", time.Now()); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSigner(filepath.Join(dir, DemoSignerCertFile), filepath.Join(dir, DemoSignerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.Certificate().Subject.Organization[0] != "Municipiul Timișoara" {
		t.Errorf("subject %v", s.Certificate().Subject)
	}
	// The CA's key does not match the signing certificate.
	if _, err := LoadSigner(filepath.Join(dir, DemoSignerCertFile), filepath.Join(dir, DemoCAKeyFile)); err == nil {
		t.Error("mismatched key accepted")
	}
	if _, err := LoadSigner(filepath.Join(dir, "missing.crt"), filepath.Join(dir, DemoSignerKeyFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestNewSignerKeyTypes(t *testing.T) {
	s, err := EnsureDemoPKI(t.TempDir(), "Municipiul Timișoara", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert := s.Certificate()
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if _, err := NewSigner(cert, p521); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("P-521: err = %v, want ErrUnsupportedKey", err)
	}
	rsa3072, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSigner(cert, rsa3072); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("RSA-3072: err = %v, want ErrUnsupportedKey", err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := NewSigner(cert, other); err == nil {
		t.Error("key of another certificate accepted")
	}
}

// TestConcurrentRenderAndSign runs under -race: a Signer and Render are used
// from several goroutines, as an HTTP server would.
func TestConcurrentRenderAndSign(t *testing.T) {
	s, err := EnsureDemoPKI(t.TempDir(), "Municipiul Timișoara", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want, err := Render(sampleCertificate())
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			pdf, err := Render(sampleCertificate())
			if err == nil && !bytes.Equal(pdf, want) {
				err = errors.New("concurrent render differs")
			}
			if err == nil {
				_, err = s.Sign(pdf, SignInfo{Name: "Direcția Fiscală", Time: time.Now()})
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
