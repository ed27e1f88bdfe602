package store_test

import (
	"context"
	"crypto/x509"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/cades"
	"fiscald/internal/store"
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

// taxpayerTB is signedInTaxpayer for benchmarks.
func taxpayerTB(tb testing.TB, db *store.DB, m *fiscal.Municipality) (context.Context, *fiscal.Taxpayer) {
	tb.Helper()
	ctx := context.Background()
	_, tp, err := db.Register(ctx, m.ID, registration("ana", "2850615350041"))
	if err != nil {
		tb.Fatal(err)
	}
	sess, err := db.Login(ctx, m.ID, "ana", "o parolă lungă")
	if err != nil {
		tb.Fatal(err)
	}
	actor, err := db.Authenticate(ctx, sess.Token)
	if err != nil {
		tb.Fatal(err)
	}
	return fiscal.WithActor(ctx, actor), tp
}
