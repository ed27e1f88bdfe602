package csc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"fiscald/internal/cades"
	"fiscald/internal/csc"
	"fiscald/internal/trust"
)

// StandInFor serves the CSC API over key, certified by a fresh demo CA.
func standIn(t *testing.T, key *ecdsa.PrivateKey) (*csc.Client, *trust.Authority) {
	t.Helper()
	ca, err := trust.Ensure(t.TempDir(), "Municipiul Test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(trust.Person, pkix.Name{CommonName: "Ana Popescu"}, key.Public(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := &csc.StandIn{Token: "tok", Now: time.Now, Credentials: map[string]*csc.Credential{
		"ana": {Key: key, Chain: append([]*x509.Certificate{cert}, ca.Chain()...), PIN: "1234"}}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &csc.Client{BaseURL: srv.URL, Token: "tok"}, ca
}

// TestCSCSignsThroughTheAPI: a step is signed CAdES through the CSC API
// (list, info, authorize with the hash, signHash) and verifies.
func TestCSCSignsThroughTheAPI(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c, ca := standIn(t, key)
	ctx := context.Background()
	ids, err := c.List(ctx)
	if err != nil || len(ids) != 1 || ids[0] != "ana" {
		t.Fatalf("list: %v %v", ids, err)
	}
	signer, chain, err := c.Signer(ctx, "ana", "1234")
	if err != nil {
		t.Fatal(err)
	}
	content := []byte(`{"seq":2}`)
	d := sha256.Sum256(content)
	p7s, err := cades.Sign(d[:], chain[0], chain[1:], signer, nil)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Root)
	if _, err := cades.Verify(p7s, d[:], roots, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// TestCSCStandInSignsOnlyWhatItAuthorized: a SAD signs the hashes it was
// given, once; another hash, a spent SAD, a wrong PIN or token fail.
func TestCSCStandInSignsOnlyWhatItAuthorized(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c, _ := standIn(t, key)
	ctx := context.Background()
	a, b := sha256.Sum256([]byte("authorized")), sha256.Sum256([]byte("not authorized"))
	sad, err := c.Authorize(ctx, "ana", "1234", [][]byte{a[:]})
	if err != nil {
		t.Fatal(err)
	}
	var e *csc.Error
	if _, err := c.SignHash(ctx, "ana", sad, [][]byte{b[:]}); !errors.As(err, &e) || e.Code != "invalid_request" {
		t.Fatalf("signed a hash it did not authorize: %v", err)
	}
	// That attempt spent the SAD: even the authorized hash needs a new one.
	if _, err := c.SignHash(ctx, "ana", sad, [][]byte{a[:]}); err == nil {
		t.Fatal("a spent SAD signed")
	}
	sad, err = c.Authorize(ctx, "ana", "1234", [][]byte{a[:]})
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := c.SignHash(ctx, "ana", sad, [][]byte{a[:]})
	if err != nil || !ecdsa.VerifyASN1(&key.PublicKey, a[:], sigs[0]) {
		t.Fatalf("the authorized hash: %v", err)
	}
	if _, err := c.SignHash(ctx, "ana", sad, [][]byte{a[:]}); err == nil {
		t.Fatal("a SAD signed twice")
	}
	if _, err := c.Authorize(ctx, "ana", "0000", [][]byte{a[:]}); !errors.As(err, &e) || e.Code != "invalid_pin" {
		t.Fatalf("wrong PIN: %v", err)
	}
	bad := *c
	bad.Token = "other"
	if _, err := bad.List(ctx); !errors.As(err, &e) || e.Status != 401 {
		t.Fatalf("wrong token: %v", err)
	}
}
