package pdf

import (
	"testing"
	"time"
)

// BenchmarkRenderAndSign renders and signs the one-page sample certificate.
func BenchmarkRenderAndSign(b *testing.B) {
	s, err := EnsureDemoPKI(b.TempDir(), "Municipiul Timișoara", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	doc := sampleCertificate()
	info := SignInfo{Name: "Direcția Fiscală", Reason: "Certificat de atestare fiscală", Location: "Timișoara", Time: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		pdf, err := Render(doc)
		if err != nil {
			b.Fatal(err)
		}
		signed, err := s.Sign(pdf, info)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(signed)))
	}
}

// BenchmarkRender renders the one-page sample certificate.
func BenchmarkRender(b *testing.B) {
	doc := sampleCertificate()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderAndSignPAdES renders the sample certificate and signs it
// PAdES B-LT: the CAdES signature, a timestamp from the in-process demo
// TSA, then the DSS with the chain, an OCSP response per certificate and
// the CRLs (what issuing a certificate costs; the target is under 30 ms).
func BenchmarkRenderAndSignPAdES(b *testing.B) {
	f := newPAdESFixture(b, time.Now())
	doc := sampleCertificate()
	info := SignInfo{Name: "Direcția Fiscală", Reason: "Certificat de atestare fiscală", Location: "Timișoara", Time: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		pdf, err := Render(doc)
		if err != nil {
			b.Fatal(err)
		}
		signed, err := f.pades.Sign(pdf, info)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(signed)))
	}
}
