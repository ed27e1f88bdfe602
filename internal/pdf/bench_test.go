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
