package pdf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"fiscald/internal/trust"
)

// Files written by EnsureDemoPKI in its directory.
const (
	DemoCACertFile     = "demo-ca.crt"
	DemoCAKeyFile      = "demo-ca.key"
	DemoSignerCertFile = "demo-signer.crt"
	DemoSignerKeyFile  = "demo-signer.key"
)

const (
	demoCAValidity     = 10 * 365 * 24 * time.Hour
	demoSignerValidity = 2 * 365 * 24 * time.Hour
)

// EnsureDemoPKI returns a Signer whose certificate is issued by a self-made
// root CA, both kept as PEM files in dir (created with mode 0700; keys are
// written with mode 0600). The first call generates an ECDSA P-256 root CA
// and signing certificate for municipalityName; later calls reload them. A
// signing certificate that has expired by now, or was not issued by the CA
// in dir, is replaced by a new one from the same CA.
//
// The signing certificate carries KeyUsage DigitalSignature and
// ContentCommitment and ExtKeyUsage EmailProtection, which poppler's
// verifier (pdfsig) requires. Verifiers trust it only once the demo CA
// (DemoCACertFile) is imported as a trusted root. It is for development and
// demonstrations; production uses LoadSigner with a qualified certificate.
//
// Concurrent first calls from several processes on the same dir are not
// coordinated.
func EnsureDemoPKI(dir, municipalityName string, now time.Time) (*Signer, error) {
	if municipalityName == "" {
		return nil, errors.New("demo PKI: municipality name is required")
	}
	if now.IsZero() {
		return nil, errors.New("demo PKI: now is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo PKI: %w", err)
	}
	path := func(name string) string { return filepath.Join(dir, name) }

	caCert, caKey, err := trust.LoadPair(path(DemoCACertFile), path(DemoCAKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		caCert, caKey, err = newDemoCA(municipalityName, now)
		if err == nil {
			err = trust.WritePair(path(DemoCACertFile), path(DemoCAKeyFile), caCert, caKey)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("demo PKI CA: %w", err)
	}

	leaf, key, err := trust.LoadPair(path(DemoSignerCertFile), path(DemoSignerKeyFile))
	if err == nil && (now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) || leaf.CheckSignatureFrom(caCert) != nil) {
		err = fs.ErrNotExist // reissue
	}
	if errors.Is(err, fs.ErrNotExist) {
		leaf, key, err = newDemoSigner(municipalityName, now, caCert, caKey)
		if err == nil {
			err = trust.WritePair(path(DemoSignerCertFile), path(DemoSignerKeyFile), leaf, key)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("demo PKI signer: %w", err)
	}
	return NewSigner(leaf, key, caCert)
}

func newDemoCA(municipality string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Country:      []string{"RO"},
			Organization: []string{municipality},
			CommonName:   municipality + " - CA demonstrativ",
		},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(demoCAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func newDemoSigner(municipality string, now time.Time, ca *x509.Certificate, caKey crypto.Signer) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	notAfter := now.Add(demoSignerValidity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Country:      []string{"RO"},
			Organization: []string{municipality},
			CommonName:   municipality + " - semnare documente, demonstrativ",
		},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}
