package documents

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	"fiscald/internal/blob"
	"fiscald/internal/pdf"
	"fiscald/internal/signing"
	"fiscald/internal/trust"
)

// TestIssuedDocumentsArePAdESBLT: with the seal kept by the vault's
// backend and certified by the demo CA, every document type comes out
// PAdES B-LT signed by the seal; the seal is made once and reloaded.
func TestIssuedDocumentsArePAdESBLT(t *testing.T) {
	dir := t.TempDir()
	ca, err := trust.Ensure(dir, "Municipiul Timișoara", fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return fixedNow }
	vault := signing.NewRandom()
	vault.UsePKI(ca, nil, now)
	cert, key, err := vault.EnsureSeal(dir, "Municipiul Timișoara", fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	again, _, err := vault.EnsureSeal(dir, "Municipiul Timișoara", fixedNow)
	if err != nil || !again.Equal(cert) {
		t.Fatalf("the seal was not reloaded: %v", err)
	}
	b, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := &Producer{Blobs: b, PublicURL: "https://fiscal.primariatm.ro/", PAdES: &pdf.PAdES{Cert: cert, Key: key, Chain: ca.Chain(),
		TSA: trust.Clocked{A: ca, Now: now}, Validation: ca.Validation(context.Background(), now), Extra: []*x509.Certificate{ca.TSA}}}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Root)
	for name, c := range samples() {
		signed, err := p.Signed(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rep, err := pdf.CheckPAdES(signed, roots)
		if err != nil || rep.Level != pdf.PAdESBLT || !rep.Signer.Equal(cert) {
			t.Fatalf("%s: %+v %v", name, rep, err)
		}
	}
}
