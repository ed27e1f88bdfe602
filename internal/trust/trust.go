// Package trust is the municipality's local trust services for the demo and
// the tests: a root CA and an issuing CA, X.509 certificates for staff (their
// steps) and for the municipality's seal (its documents), an RFC 3161 time-
// stamping authority, an OCSP responder and a CRL. Everything is callable
// directly and also served over HTTP (Handler), e.g. on loopback.
//
// The authority keeps no revocation state of its own: whether a certificate
// is revoked is read from a Status (the store's signing_keys table), so
// several instances answer alike. In production a qualified trust service
// provider replaces it; the formats are the same.
package trust

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"fiscald/internal/cades"
)

// Status says whether certificates the authority issued are revoked. The
// store implements it over its signing keys.
type Status interface {
	// RevokedAt is when the certificate with serial was revoked (nil: good).
	RevokedAt(ctx context.Context, serial *big.Int) (*time.Time, error)
	// Revoked lists every revoked certificate (for the CRL).
	Revoked(ctx context.Context) ([]Revocation, error)
}

// Revocation is one entry of the CRL.
type Revocation struct {
	Serial *big.Int
	At     time.Time
}

// Kind is what a certificate is for.
type Kind int

const (
	// Person is a member of staff: signs the steps of cases.
	Person Kind = iota
	// Seal is the municipality's electronic seal: signs issued documents.
	Seal
)

// Files kept in the authority's directory (keys 0600).
const (
	RootCertFile    = "root-ca.crt"
	RootKeyFile     = "root-ca.key"
	IssuingCertFile = "issuing-ca.crt"
	IssuingKeyFile  = "issuing-ca.key"
	TSACertFile     = "tsa.crt"
	TSAKeyFile      = "tsa.key"
)

// Validity of what the authority issues.
const (
	RootValidity    = 20 * 365 * 24 * time.Hour
	IssuingValidity = 10 * 365 * 24 * time.Hour
	LeafValidity    = 3 * 365 * 24 * time.Hour
	// CRLValidity is how long a CRL (and an OCSP response) is current.
	CRLValidity = 24 * time.Hour
)

var (
	oidExtKeyUsage    = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidKPTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	// oidTSAPolicy is the demo TSA's policy (a private arc of the demo).
	oidTSAPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1, 1}
)

// Authority is the demo PKI. It is safe for concurrent use.
type Authority struct {
	Root, Issuing, TSA          *x509.Certificate
	rootKey, issuingKey, tsaKey crypto.Signer
	// BaseURL is where Handler is reachable (e.g. "http://127.0.0.1:8080/api/v1/pki");
	// when set, certificates name its /ocsp and /crl.
	BaseURL string
	status  Status
}

// Ensure loads the authority kept in dir, creating it on first use for the
// organisation org. The root is valid from now. now is the caller's clock.
func Ensure(dir, org string, now time.Time) (*Authority, error) {
	if org == "" || now.IsZero() {
		return nil, errors.New("trust: organisation and now are required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	root, rootKey, err := LoadPair(p(RootCertFile), p(RootKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		root, rootKey, err = newCert(&x509.Certificate{
			Subject:               pkix.Name{Country: []string{"RO"}, Organization: []string{org}, CommonName: org + " - CA rădăcină demonstrativ"},
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              now.Add(RootValidity),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			BasicConstraintsValid: true, IsCA: true, MaxPathLen: 1,
		}, nil, nil)
		if err == nil {
			err = WritePair(p(RootCertFile), p(RootKeyFile), root, rootKey)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("trust: root CA: %w", err)
	}
	issuing, issuingKey, err := LoadPair(p(IssuingCertFile), p(IssuingKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		issuing, issuingKey, err = newCert(&x509.Certificate{
			Subject:               pkix.Name{Country: []string{"RO"}, Organization: []string{org}, CommonName: org + " - CA emitent demonstrativ"},
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              minTime(now.Add(IssuingValidity), root.NotAfter),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
			BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true,
		}, root, rootKey)
		if err == nil {
			err = WritePair(p(IssuingCertFile), p(IssuingKeyFile), issuing, issuingKey)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("trust: issuing CA: %w", err)
	}
	tsa, tsaKey, err := LoadPair(p(TSACertFile), p(TSAKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		// openssl ts -verify wants the timeStamping EKU critical; Go
		// writes ExtKeyUsage non-critical, so it goes as an extra extension.
		eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{oidKPTimeStamping})
		tsa, tsaKey, err = newCert(&x509.Certificate{
			Subject:         pkix.Name{Country: []string{"RO"}, Organization: []string{org}, CommonName: org + " - marcare temporală demonstrativă"},
			NotBefore:       now.Add(-time.Hour),
			NotAfter:        minTime(now.Add(IssuingValidity), issuing.NotAfter),
			KeyUsage:        x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
			ExtraExtensions: []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: eku}},
		}, issuing, issuingKey)
		if err == nil {
			err = WritePair(p(TSACertFile), p(TSAKeyFile), tsa, tsaKey)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("trust: TSA: %w", err)
	}
	return &Authority{Root: root, Issuing: issuing, TSA: tsa, rootKey: rootKey, issuingKey: issuingKey, tsaKey: tsaKey}, nil
}

// UseStatus sets where revocations are read (without it nothing is revoked).
func (a *Authority) UseStatus(s Status) { a.status = s }

// Chain is the issuing CA then the root: what a verifier needs besides a leaf.
func (a *Authority) Chain() []*x509.Certificate { return []*x509.Certificate{a.Issuing, a.Root} }

// ChainPEM is Chain as PEM (GET /api/v1/pki/ca.pem).
func (a *Authority) ChainPEM() []byte {
	var out []byte
	for _, c := range a.Chain() {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// Issue certifies pub for subject: a staff member (Person) or the seal.
func (a *Authority) Issue(kind Kind, subject pkix.Name, pub crypto.PublicKey, now time.Time) (*x509.Certificate, error) {
	if now.IsZero() {
		return nil, errors.New("trust: now is required")
	}
	if len(subject.Country) == 0 {
		subject.Country = []string{"RO"}
	}
	if len(subject.Organization) == 0 {
		subject.Organization = a.Issuing.Subject.Organization
	}
	t := &x509.Certificate{
		Subject:   subject,
		NotBefore: now.Add(-time.Minute),
		NotAfter:  minTime(now.Add(LeafValidity), a.Issuing.NotAfter),
		// pdfsig wants EmailProtection and non-repudiation on signers.
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		BasicConstraintsValid: true,
	}
	if a.BaseURL != "" {
		t.OCSPServer = []string{a.BaseURL + "/ocsp"}
		t.CRLDistributionPoints = []string{a.BaseURL + "/crl"}
		t.IssuingCertificateURL = []string{a.BaseURL + "/ca.pem"}
	}
	_ = kind // the same profile today; a seal names an organisation, a person a name
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	t.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, t, a.Issuing, pub, a.issuingKey)
	if err != nil {
		return nil, fmt.Errorf("trust: issue: %w", err)
	}
	return x509.ParseCertificate(der)
}

// Timestamp is the TSA: an RFC 3161 TimeStampToken (a CMS ContentInfo) over
// a SHA-256 digest at now, with the TSA certificate and its parents.
func (a *Authority) Timestamp(digest []byte, now time.Time) ([]byte, error) {
	if len(digest) != sha256.Size {
		return nil, errors.New("trust: timestamp: a SHA-256 digest is required")
	}
	return a.token(crypto.SHA256, digest, nil, nil, true, now)
}

// The TSA's RFC 3161 structures, encoded here: a token is a TSTInfo signed
// with internal/cades (the certificates are this authority's own, checked
// when it was loaded, so signing does not verify the chain again).
type messageImprint struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	HashedMessage []byte
}

type accuracy struct {
	Seconds int `asn1:"optional"`
}

type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint messageImprint
	SerialNumber   *big.Int
	GenTime        time.Time `asn1:"generalized"`
	Accuracy       accuracy  `asn1:"optional"`
	Nonce          *big.Int  `asn1:"optional"`
}

type pkiStatusInfo struct {
	Status int // 0 granted, 2 rejection
}

type timeStampResp struct {
	Status pkiStatusInfo
	Token  asn1.RawValue `asn1:"optional"`
}

// hashOIDs are the message imprints the TSA accepts.
var hashOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA1:   {1, 3, 14, 3, 2, 26},
	crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
	crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
	crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
}

// token is a TimeStampToken over digest (of hash) at now: the requester's
// nonce and policy when given, the certificates when certs is set.
func (a *Authority) token(hash crypto.Hash, digest []byte, nonce *big.Int, policy asn1.ObjectIdentifier, certs bool, now time.Time) ([]byte, error) {
	oid, ok := hashOIDs[hash]
	if !ok || len(digest) != hash.Size() {
		return nil, fmt.Errorf("trust: timestamp: unsupported message imprint (%v, %d bytes)", hash, len(digest))
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	if policy == nil {
		policy = oidTSAPolicy
	}
	info, err := asn1.Marshal(tstInfo{Version: 1, Policy: policy, MessageImprint: messageImprint{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oid}, HashedMessage: digest},
		SerialNumber: serial, GenTime: now.UTC().Truncate(time.Second), Accuracy: accuracy{Seconds: 1}, Nonce: nonce})
	if err != nil {
		return nil, fmt.Errorf("trust: timestamp: %w", err)
	}
	var embed []*x509.Certificate
	if certs {
		embed = append([]*x509.Certificate{a.TSA}, a.Chain()...)
	}
	tok, err := cades.SignEncapsulated(cades.OIDTSTInfo, info, a.TSA, embed, a.tsaKey)
	if err != nil {
		return nil, fmt.Errorf("trust: timestamp: %w", err)
	}
	return tok, nil
}

// timestampResponse is the DER TimeStampResp to an RFC 3161 request: the
// token granted, or a rejection of an imprint the TSA does not take.
func (a *Authority) timestampResponse(req *timestamp.Request, now time.Time) ([]byte, error) {
	if _, ok := hashOIDs[req.HashAlgorithm]; !ok || len(req.HashedMessage) != req.HashAlgorithm.Size() {
		return asn1.Marshal(timeStampResp{Status: pkiStatusInfo{Status: 2}})
	}
	tok, err := a.token(req.HashAlgorithm, req.HashedMessage, req.Nonce, req.TSAPolicyOID, req.Certificates, now)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(timeStampResp{Token: asn1.RawValue{FullBytes: tok}})
}

// OCSP is the DER OCSP response on cert at now, signed by the issuing CA.
func (a *Authority) OCSP(ctx context.Context, cert *x509.Certificate, now time.Time) ([]byte, error) {
	return a.ocspFor(ctx, cert.SerialNumber, now)
}

func (a *Authority) ocspFor(ctx context.Context, serial *big.Int, now time.Time) ([]byte, error) {
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: serial, ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(CRLValidity)}
	if a.status != nil {
		at, err := a.status.RevokedAt(ctx, serial)
		if err != nil {
			return nil, err
		}
		if at != nil {
			tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, *at, ocsp.Unspecified
		}
	}
	return ocsp.CreateResponse(a.Issuing, a.Issuing, tmpl, a.issuingKey)
}

// CRL is the DER CRL of the issuing CA at now.
func (a *Authority) CRL(ctx context.Context, now time.Time) ([]byte, error) {
	var entries []x509.RevocationListEntry
	if a.status != nil {
		rs, err := a.status.Revoked(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			entries = append(entries, x509.RevocationListEntry{SerialNumber: r.Serial, RevocationTime: r.At})
		}
	}
	return x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(now.Unix()),
		ThisUpdate:                now.Add(-time.Minute),
		NextUpdate:                now.Add(CRLValidity),
		RevokedCertificateEntries: entries,
	}, a.Issuing, a.issuingKey)
}

func newCert(t *x509.Certificate, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if t.SerialNumber, err = randomSerial(); err != nil {
		return nil, nil, err
	}
	if parent == nil {
		parent, parentKey = t, key
	}
	der, err := x509.CreateCertificate(rand.Reader, t, parent, key.Public(), parentKey)
	if err != nil {
		return nil, nil, err
	}
	c, err := x509.ParseCertificate(der)
	return c, key, err
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Clocked is the TSA with a clock: a cades.Timestamper.
type Clocked struct {
	A   *Authority
	Now func() time.Time
}

// Timestamp is the TSA's token over digest at c.Now().
func (c Clocked) Timestamp(digest []byte) ([]byte, error) { return c.A.Timestamp(digest, c.Now()) }

// RootCRL is the root's CRL at now: the issuing CA is not revoked.
func (a *Authority) RootCRL(now time.Time) ([]byte, error) {
	return x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:     big.NewInt(now.Unix()),
		ThisUpdate: now.Add(-time.Minute),
		NextUpdate: now.Add(CRLValidity),
	}, a.Root, a.rootKey)
}

// Validation is the revocation data of certs at now() for a PAdES DSS: an
// OCSP response for each certificate the issuing CA issued, and the
// issuing CA's and the root's CRLs.
func (a *Authority) Validation(ctx context.Context, clock func() time.Time) func(certs []*x509.Certificate) (ocsps, crls [][]byte, err error) {
	return func(certs []*x509.Certificate) (ocsps, crls [][]byte, err error) {
		now := clock()
		for _, c := range certs {
			// Issued by the issuing CA (by name: the OCSP response names
			// the serial, and the verifier checks the signatures).
			if !bytes.Equal(c.RawIssuer, a.Issuing.RawSubject) || c.Equal(a.Issuing) {
				continue
			}
			r, err := a.OCSP(ctx, c, now)
			if err != nil {
				return nil, nil, err
			}
			ocsps = append(ocsps, r)
		}
		issuing, err := a.CRL(ctx, now)
		if err != nil {
			return nil, nil, err
		}
		root, err := a.RootCRL(now)
		if err != nil {
			return nil, nil, err
		}
		return ocsps, [][]byte{issuing, root}, nil
	}
}
