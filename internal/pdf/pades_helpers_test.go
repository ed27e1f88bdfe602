package pdf

import (
	"testing"

	"fiscald/internal/cades"
)

func timestampOf(t *testing.T, cms []byte) (token, signatureValue []byte) {
	t.Helper()
	tok, err := cades.TimestampToken(cms)
	if err != nil || tok == nil {
		t.Fatalf("no timestamp: %v", err)
	}
	sv, err := cades.SignatureValue(cms)
	if err != nil {
		t.Fatal(err)
	}
	return tok, sv
}
