package signing

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
)

// TestSignKeepsOpenedKeys: a key is opened once and kept; every signature,
// the first and the later ones, verifies with the key's public half; a
// sealed key altered by one byte, or opened under another master key, is
// refused (also after its good twin was opened and kept).
func TestSignKeepsOpenedKeys(t *testing.T) {
	v := NewRandom()
	alg, pub, _, sealed, err := v.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		d := sha256.Sum256([]byte{byte(i)})
		sig, err := v.Sign(alg, sealed, d[:])
		if err != nil {
			t.Fatal(err)
		}
		if !ed25519.Verify(pub, d[:], sig) {
			t.Fatalf("signature %d does not verify", i)
		}
	}
	if len(v.opened) != 1 {
		t.Fatalf("%d opened keys kept, want 1", len(v.opened))
	}
	bad := append([]byte(nil), sealed...)
	bad[len(bad)-1] ^= 1
	if _, err := v.Sign(alg, bad, make([]byte, 32)); err == nil {
		t.Fatal("an altered sealed key signed")
	}
	if _, err := NewRandom().Sign(alg, sealed, make([]byte, 32)); err == nil {
		t.Fatal("another master key opened the key")
	}
	if _, err := v.Sign("rsa", sealed, make([]byte, 32)); err == nil {
		t.Fatal("an unknown algorithm signed")
	}
}
