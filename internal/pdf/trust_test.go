package pdf

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoCATrustedByPdfsig imports the demo root CA into a fresh NSS
// database and checks that pdfsig then trusts the signing certificate: the
// chain EnsureDemoPKI builds is one poppler's verifier accepts.
func TestDemoCATrustedByPdfsig(t *testing.T) {
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		t.Fatalf("certutil not found (%v): apt-get install -y libnss3-tools", err)
	}
	pki := t.TempDir()
	s, err := EnsureDemoPKI(pki, "Municipiul Timișoara", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := Render(sampleCertificate())
	if err != nil {
		t.Fatal(err)
	}
	signed, err := s.Sign(pdf, SignInfo{Name: "Direcția Fiscală", Reason: "test", Location: "Timișoara", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}

	nss := "sql:" + t.TempDir()
	for _, args := range [][]string{
		{"-N", "-d", nss, "--empty-password"},
		{"-A", "-d", nss, "-n", "fiscald-demo-ca", "-t", "CT,C,C", "-i", filepath.Join(pki, DemoCACertFile)},
	} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	out, _ := poppler(t, "pdfsig", signed, "-nssdir", nss, "{}")
	for _, want := range []string{sigValid, sigWholeFile, "Certificate Validation: Certificate is Trusted."} {
		if !strings.Contains(out, want) {
			t.Errorf("pdfsig output lacks %q:\n%s", want, out)
		}
	}
}
