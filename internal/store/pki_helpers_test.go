package store_test

import (
	"crypto/x509"
	"testing"

	"fiscald/internal/cades"
	"fiscald/internal/trust"

	"golang.org/x/crypto/ocsp"
)

func signerOf(t *testing.T, p7s []byte) *x509.Certificate {
	t.Helper()
	c, err := cades.SignerCertificate(p7s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ocspRevoked(t *testing.T, der []byte, ca *trust.Authority) bool {
	t.Helper()
	r, err := ocsp.ParseResponse(der, ca.Issuing)
	if err != nil {
		t.Fatal(err)
	}
	return r.Status == ocsp.Revoked
}
