package signing_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/signing"
	"fiscald/internal/trust"
)

// BenchmarkStepSignature is the signing a step does inside its
// transaction: Ed25519 over the digest (before issue 22), the CAdES-B-B
// signature over the content; and the timestamp (B-T) that follows the
// commit.
func BenchmarkStepSignature(b *testing.B) {
	content := []byte(`{"prev":"","state":{"case_id":1},"seq":2,"action":"review","actor":"officer1"}`)
	v := signing.NewRandom()
	b.Run("ed25519", func(b *testing.B) {
		alg, _, _, sealed, err := v.NewKey()
		if err != nil {
			b.Fatal(err)
		}
		d := sha256.Sum256(content)
		for b.Loop() {
			if _, err := v.Sign(alg, sealed, d[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	ca, err := trust.Ensure(b.TempDir(), "Municipiul Test", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	v.UsePKI(ca, nil, time.Now)
	_, cert, _, handle, err := v.NewCertifiedKey("Ana", false, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	var p7s []byte
	b.Run("cades-bb", func(b *testing.B) {
		for b.Loop() {
			if p7s, _, err = v.SignCAdES(handle, cert, content); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("timestamp", func(b *testing.B) {
		for b.Loop() {
			if _, err := v.TimestampCAdES(p7s); err != nil {
				b.Fatal(err)
			}
		}
	})
	_ = fiscal.AlgCAdES
}
