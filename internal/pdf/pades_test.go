package pdf

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fiscald/internal/trust"
)

type padesFixture struct {
	ca    *trust.Authority
	dir   string
	pades *PAdES
	roots *x509.CertPool
}

func newPAdESFixture(t testing.TB, now time.Time) *padesFixture {
	t.Helper()
	dir := t.TempDir()
	ca, err := trust.Ensure(dir, "Municipiul Timișoara", now)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert, err := ca.Issue(trust.Seal, pkix.Name{CommonName: "Municipiul Timișoara - sigiliu electronic"}, key.Public(), now)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Root)
	clock := func() time.Time { return now }
	return &padesFixture{ca: ca, dir: dir, roots: roots, pades: &PAdES{Cert: cert, Key: key, Chain: ca.Chain(),
		TSA: trust.Clocked{A: ca, Now: clock}, Validation: ca.Validation(context.Background(), clock), Extra: []*x509.Certificate{ca.TSA}}}
}

func (f *padesFixture) sign(t testing.TB, level PAdESLevel) []byte {
	t.Helper()
	raw, err := Render(sampleCertificate())
	if err != nil {
		t.Fatal(err)
	}
	p := *f.pades
	if level == PAdESBT {
		p.Validation = nil
	}
	p.LTA = level == PAdESBLTA
	out, err := p.Sign(raw, SignInfo{Name: "Direcția Fiscală", Reason: "Certificat de atestare fiscală nr. 1", Location: "Timișoara", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// nssTrusting is an NSS database trusting the demo root (for pdfsig).
func (f *padesFixture) nssTrusting(t *testing.T) string {
	t.Helper()
	certutil, err := exec.LookPath("certutil")
	if err != nil {
		t.Fatalf("certutil not found (%v): apt-get install -y libnss3-tools", err)
	}
	nss := "sql:" + t.TempDir()
	for _, args := range [][]string{
		{"-N", "-d", nss, "--empty-password"},
		{"-A", "-d", nss, "-n", "fiscald-root", "-t", "CT,C,C", "-i", filepath.Join(f.dir, trust.RootCertFile)},
	} {
		if out, err := exec.Command(certutil, args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	return nss
}

// appendUpdate adds an incremental update after signing that replaces the
// document's /Info (a change a signature must not survive).
func appendUpdate(t *testing.T, pdf []byte) []byte {
	t.Helper()
	f, err := parsePDF(pdf)
	if err != nil {
		t.Fatal(err)
	}
	u := newPDFUpdate(f)
	u.objs[f.info] = []byte("<< /Title (altered after signing) >>")
	return u.write()
}

// flipSigned flips one byte of the page content (inside the signed range).
func flipSigned(pdf []byte) []byte {
	out := bytes.Clone(pdf)
	i := bytes.Index(out, []byte("stream\n")) + len("stream\n") + 40
	out[i] ^= 0x01
	return out
}

// TestPAdESProfile: the in-repo checker finds B-T, then B-LT, and fails on
// a flipped byte and on an update appended after signing.
func TestPAdESProfile(t *testing.T) {
	f := newPAdESFixture(t, time.Now())
	bt := f.sign(t, PAdESBT)
	rep, err := CheckPAdES(bt, f.roots)
	if err != nil || rep.Level != PAdESBT || rep.Timestamp.IsZero() {
		t.Fatalf("B-T: %+v %v", rep, err)
	}
	blt := f.sign(t, PAdESBLT)
	rep, err = CheckPAdES(blt, f.roots)
	if err != nil || rep.Level != PAdESBLT || !strings.Contains(rep.Signer.Subject.CommonName, "sigiliu") {
		t.Fatalf("B-LT: %+v %v", rep, err)
	}
	if bytes.Contains(blt, []byte("/adbe.pkcs7.detached")) || !bytes.Contains(blt, []byte("/Type /DSS")) {
		t.Fatal("not the PAdES structure")
	}
	for name, doc := range map[string][]byte{
		"flipped B-LT": flipSigned(blt), "flipped B-T": flipSigned(bt),
		"update after B-LT": appendUpdate(t, blt), "update after B-T": appendUpdate(t, bt),
		"bytes after B-T": append(bytes.Clone(bt), "% trailing\n"...),
	} {
		if rep, err := CheckPAdES(doc, f.roots); !errors.Is(err, ErrPAdES) {
			t.Errorf("%s: the checker accepted it: %+v %v", name, rep, err)
		}
	}
	other := newPAdESFixture(t, time.Now())
	if _, err := CheckPAdES(blt, other.roots); err == nil {
		t.Error("verified under another root")
	}
	// A DSS without the revocation data of the chain is not B-LT.
	noRevocation, err := AddDSS(bt, [][]byte{f.pades.Cert.Raw, f.ca.Issuing.Raw, f.ca.TSA.Raw}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckPAdES(noRevocation, f.roots); err == nil {
		t.Error("a DSS without revocation data passed as B-LT")
	}
}

// TestPAdESVerifiedByPdfsig: poppler's pdfsig reports the B-T and B-LT
// documents' signature valid, of type ETSI.CAdES.detached and trusted once
// the demo root is imported; a flipped byte makes it invalid, and an
// update after signing leaves it not covering the document.
func TestPAdESVerifiedByPdfsig(t *testing.T) {
	f := newPAdESFixture(t, time.Now())
	nss := f.nssTrusting(t)
	bt, blt := f.sign(t, PAdESBT), f.sign(t, PAdESBLT)
	for name, doc := range map[string][]byte{"B-T": bt, "B-LT": blt} {
		out, _ := poppler(t, "pdfsig", doc, "-nssdir", nss, "{}")
		for _, want := range []string{sigValid, "Signature Type: ETSI.CAdES.detached", "Certificate Validation: Certificate is Trusted.", "sigiliu electronic"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: pdfsig output lacks %q:\n%s", name, want, out)
			}
		}
		if name == "B-T" && !strings.Contains(out, sigWholeFile) {
			t.Errorf("B-T: not the whole file:\n%s", out)
		}
	}
	for name, doc := range map[string][]byte{"flipped B-T": flipSigned(bt), "flipped B-LT": flipSigned(blt)} {
		if out, _ := poppler(t, "pdfsig", doc, "-nssdir", nss, "{}"); strings.Contains(out, sigValid) {
			t.Errorf("%s: pdfsig says valid:\n%s", name, out)
		}
	}
	if out, _ := poppler(t, "pdfsig", appendUpdate(t, bt), "-nssdir", nss, "{}"); strings.Contains(out, sigWholeFile) {
		t.Errorf("an update after signing: pdfsig says the whole file is signed:\n%s", out)
	}
}

// TestPAdESTimestampVerifiedByOpenSSL: the signature timestamp inside the
// PDF verifies with openssl ts against the published chain.
func TestPAdESTimestampVerifiedByOpenSSL(t *testing.T) {
	f := newPAdESFixture(t, time.Now())
	blt := f.sign(t, PAdESBLT)
	cms, err := signatureContents(blt)
	if err != nil {
		t.Fatal(err)
	}
	tok, sv := timestampOf(t, cms)
	dir := t.TempDir()
	for n, b := range map[string][]byte{"ca.pem": f.ca.ChainPEM(), "tok": tok, "sv": sv} {
		os.WriteFile(filepath.Join(dir, n), b, 0o600)
	}
	cmd := exec.Command("openssl", "ts", "-verify", "-token_in", "-in", "tok", "-data", "sv", "-CAfile", "ca.pem")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
}

// TestPAdESLTA: a document timestamp over the B-LT document makes it
// B-LTA; a flipped byte anywhere in the DSS or the signed part, or an
// update after it, fails; pdfsig still validates the signature.
func TestPAdESLTA(t *testing.T) {
	f := newPAdESFixture(t, time.Now())
	lta := f.sign(t, PAdESBLTA)
	rep, err := CheckPAdES(lta, f.roots)
	if err != nil || rep.Level != PAdESBLTA || rep.ArchiveTimestamp.IsZero() {
		t.Fatalf("B-LTA: %+v %v", rep, err)
	}
	dss := bytes.Index(lta, []byte("/Type /DSS"))
	inDSS := bytes.Clone(lta)
	inDSS[bytes.LastIndex(lta[:dss], []byte("stream\n"))+20] ^= 1 // inside a DSS stream
	for name, doc := range map[string][]byte{"flipped signed part": flipSigned(lta), "flipped DSS": inDSS, "update after": appendUpdate(t, lta)} {
		if rep, err := CheckPAdES(doc, f.roots); !errors.Is(err, ErrPAdES) {
			t.Errorf("%s: accepted: %+v %v", name, rep, err)
		}
	}
	nss := f.nssTrusting(t)
	out, _ := poppler(t, "pdfsig", lta, "-nssdir", nss, "{}")
	if !strings.Contains(out, "Signature #1") || !strings.Contains(out, sigValid) || !strings.Contains(out, "ETSI.CAdES.detached") {
		t.Errorf("pdfsig:\n%s", out)
	}
}
