// Package cades writes and checks detached CMS signatures (RFC 5652) in the
// CAdES baseline profile (ETSI EN 319 122-1): B-B has the content-type,
// message-digest and signing-certificate-v2 signed attributes and no
// signing time; B-T adds an RFC 3161 signature timestamp over the
// signature value as an unsigned attribute. SHA-256 throughout; ECDSA and
// RSA (PKCS #1 v1.5) keys through crypto.Signer, so the key may be on a
// token. PAdES (internal/pdf) embeds the same structure.
package cades

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/digitorus/timestamp"
)

// Object identifiers.
var (
	OIDData                 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDContentType          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDMessageDigest        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDSigningTime          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	OIDSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	OIDSignatureTimeStamp   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	OIDSHA256               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	OIDECDSAWithSHA256      = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	OIDSHA256WithRSA        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	OIDTSTInfo              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
)

// Timestamper returns an RFC 3161 TimeStampToken (DER ContentInfo) over a
// SHA-256 digest: a local TSA, or a client of a remote one.
type Timestamper interface {
	Timestamp(digest []byte) ([]byte, error)
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue // [0] EXPLICIT, built by hand
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"optional,explicit,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue // SET OF AlgorithmIdentifier
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      asn1.RawValue // SET OF SignerInfo
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type signerInfo struct {
	Version            int
	SID                issuerAndSerial
	DigestAlgorithm    algorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm algorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue // SET OF
}

// essCertIDv2 omits hashAlgorithm: SHA-256 is its default.
type essCertIDv2 struct {
	CertHash     []byte
	IssuerSerial issuerSerial
}

type issuerSerial struct {
	Issuer asn1.RawValue // GeneralNames
	Serial *big.Int
}

type signingCertificateV2 struct {
	Certs []essCertIDv2
}

// set is the DER SET OF the elements (each a full DER encoding), sorted.
func set(elems ...[]byte) asn1.RawValue {
	s := append([][]byte(nil), elems...)
	sort.Slice(s, func(i, j int) bool { return bytes.Compare(s[i], s[j]) < 0 })
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: bytes.Join(s, nil)}
}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func attr(oid asn1.ObjectIdentifier, value []byte) []byte {
	return mustMarshal(attribute{Type: oid, Values: set(value)})
}

// signingCertV2 is the signing-certificate-v2 attribute value for cert.
func signingCertV2(cert *x509.Certificate) []byte {
	h := sha256.Sum256(cert.Raw)
	dirName := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: cert.RawIssuer}
	names := mustMarshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: mustMarshal(dirName)})
	return mustMarshal(signingCertificateV2{Certs: []essCertIDv2{{CertHash: h[:], IssuerSerial: issuerSerial{Issuer: asn1.RawValue{FullBytes: names}, Serial: cert.SerialNumber}}}})
}

// SignOptions tune Sign.
type SignOptions struct {
	// SigningTime adds the signingTime attribute (CAdES allows it; PAdES
	// baseline forbids it). Zero: none.
	SigningTime time.Time
}

// Sign returns a detached CAdES-B-B signature (DER ContentInfo) over the
// SHA-256 digest of the content, by cert's key, with chain (the issuers)
// embedded after cert.
func Sign(digest []byte, cert *x509.Certificate, chain []*x509.Certificate, key crypto.Signer, opts *SignOptions) ([]byte, error) {
	if len(digest) != sha256.Size {
		return nil, errors.New("cades: a SHA-256 digest is required")
	}
	var extra [][]byte
	if opts != nil && !opts.SigningTime.IsZero() {
		extra = append(extra, attr(OIDSigningTime, mustMarshal(opts.SigningTime.UTC())))
	}
	return sign(OIDData, digest, nil, cert, append([]*x509.Certificate{cert}, chain...), key, extra)
}

// SignEncapsulated returns a SignedData (DER ContentInfo) that carries
// content, of type contentType, signed by cert's key with the signed
// attributes of Sign (content type, message digest, signing certificate
// v2) and the certificates embed (none, or cert and its issuers): an RFC
// 3161 TimeStampToken when content is a TSTInfo (RFC 5816 names the TSA's
// certificate with ESSCertIDv2).
func SignEncapsulated(contentType asn1.ObjectIdentifier, content []byte, cert *x509.Certificate, embed []*x509.Certificate, key crypto.Signer) ([]byte, error) {
	digest := sha256.Sum256(content)
	return sign(contentType, digest[:], content, cert, embed, key, nil)
}

// sign is Sign and SignEncapsulated: content nil for a detached signature.
func sign(contentType asn1.ObjectIdentifier, digest, content []byte, cert *x509.Certificate, embed []*x509.Certificate, key crypto.Signer, extra [][]byte) ([]byte, error) {
	sigAlg, err := signatureAlgorithm(key.Public())
	if err != nil {
		return nil, err
	}
	attrs := append([][]byte{
		attr(OIDContentType, mustMarshal(contentType)),
		attr(OIDMessageDigest, mustMarshal(digest)),
		attr(OIDSigningCertificateV2, signingCertV2(cert)),
	}, extra...)
	signed := set(attrs...)
	signedDER := mustMarshal(signed) // what the signature covers: the SET, tag 0x31
	h := sha256.Sum256(signedDER)
	sig, err := key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("cades: sign: %w", err)
	}
	sha := algorithmIdentifier{Algorithm: OIDSHA256}
	si := signerInfo{
		Version:            1,
		SID:                issuerAndSerial{Issuer: asn1.RawValue{FullBytes: cert.RawIssuer}, Serial: cert.SerialNumber},
		DigestAlgorithm:    sha,
		SignedAttrs:        asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: signed.Bytes},
		SignatureAlgorithm: sigAlg,
		Signature:          sig,
	}
	sd := signedData{
		Version:          1,
		DigestAlgorithms: set(mustMarshal(sha)),
		EncapContentInfo: encapContentInfo{EContentType: contentType},
		SignerInfos:      set(mustMarshal(si)),
	}
	if len(embed) > 0 {
		var certs [][]byte
		for _, c := range embed {
			certs = append(certs, c.Raw)
		}
		sd.Certificates = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: bytes.Join(certs, nil)}
	}
	if content != nil {
		// RFC 5652 5.1: version 3 when the content is not id-data; the
		// eContent is [0] EXPLICIT OCTET STRING (a RawValue ignores
		// struct tags, so the wrapper is built here).
		sd.Version = 3
		octets := mustMarshal(content)
		sd.EncapContentInfo.EContent = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: octets}
	}
	return marshalContentInfo(sd)
}

func marshalContentInfo(sd signedData) ([]byte, error) {
	inner, err := asn1.Marshal(sd)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(contentInfo{ContentType: OIDSignedData, Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}})
}

func signatureAlgorithm(pub crypto.PublicKey) (algorithmIdentifier, error) {
	switch pub.(type) {
	case *ecdsa.PublicKey:
		return algorithmIdentifier{Algorithm: OIDECDSAWithSHA256}, nil
	case *rsa.PublicKey:
		return algorithmIdentifier{Algorithm: OIDSHA256WithRSA, Parameters: asn1.NullRawValue}, nil
	}
	return algorithmIdentifier{}, fmt.Errorf("cades: unsupported key %T (ECDSA or RSA)", pub)
}

// parsed is a signature taken apart.
type parsed struct {
	sd   signedData
	si   signerInfo
	attr map[string][]byte // signed attribute OID → first value (DER)
	un   map[string][]byte // unsigned attribute OID → first value (DER)
}

func parse(p7s []byte) (*parsed, error) { return parseSignedData(p7s, false) }

// parseSignedData takes a one-signer SignedData apart; attached allows
// encapsulated content (a timestamp token's TSTInfo).
func parseSignedData(p7s []byte, attached bool) (*parsed, error) {
	var ci contentInfo
	if rest, err := asn1.Unmarshal(p7s, &ci); err != nil || len(rest) != 0 {
		return nil, errors.New("cades: not a DER ContentInfo")
	}
	if !ci.ContentType.Equal(OIDSignedData) || ci.Content.Class != asn1.ClassContextSpecific || ci.Content.Tag != 0 {
		return nil, errors.New("cades: not SignedData")
	}
	p := &parsed{attr: map[string][]byte{}, un: map[string][]byte{}}
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &p.sd); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("cades: SignedData: %v", err)
	}
	if p.sd.EncapContentInfo.EContent.FullBytes != nil && !attached {
		return nil, errors.New("cades: the signature is not detached")
	}
	var sis []signerInfo
	rest := p.sd.SignerInfos.Bytes
	for len(rest) > 0 {
		var si signerInfo
		var err error
		if rest, err = asn1.Unmarshal(rest, &si); err != nil {
			return nil, fmt.Errorf("cades: SignerInfo: %v", err)
		}
		sis = append(sis, si)
	}
	if len(sis) != 1 {
		return nil, fmt.Errorf("cades: %d signers, want 1", len(sis))
	}
	p.si = sis[0]
	if err := attrs(p.si.SignedAttrs.Bytes, p.attr); err != nil {
		return nil, err
	}
	if err := attrs(p.si.UnsignedAttrs.Bytes, p.un); err != nil {
		return nil, err
	}
	return p, nil
}

func attrs(b []byte, into map[string][]byte) error {
	for len(b) > 0 {
		var a attribute
		var err error
		if b, err = asn1.Unmarshal(b, &a); err != nil {
			return fmt.Errorf("cades: attribute: %v", err)
		}
		var v asn1.RawValue
		if _, err := asn1.Unmarshal(a.Values.Bytes, &v); err != nil {
			return fmt.Errorf("cades: attribute %v: %v", a.Type, err)
		}
		if _, dup := into[a.Type.String()]; dup {
			return fmt.Errorf("cades: attribute %v twice", a.Type)
		}
		into[a.Type.String()] = v.FullBytes
	}
	return nil
}

// SignatureValue is the signer's signature value (what a signature
// timestamp covers).
func SignatureValue(p7s []byte) ([]byte, error) {
	p, err := parse(p7s)
	if err != nil {
		return nil, err
	}
	return p.si.Signature, nil
}

// TimestampToken is the signature timestamp token of p7s (nil for B-B).
func TimestampToken(p7s []byte) ([]byte, error) {
	p, err := parse(p7s)
	if err != nil {
		return nil, err
	}
	return p.un[OIDSignatureTimeStamp.String()], nil
}

// AddTimestamp makes a B-B signature B-T: a timestamp over the SHA-256 of
// its signature value, as an unsigned attribute. A signature that already
// has one is returned unchanged.
func AddTimestamp(p7s []byte, tsa Timestamper) ([]byte, error) {
	p, err := parse(p7s)
	if err != nil {
		return nil, err
	}
	if p.un[OIDSignatureTimeStamp.String()] != nil {
		return p7s, nil
	}
	h := sha256.Sum256(p.si.Signature)
	token, err := tsa.Timestamp(h[:])
	if err != nil {
		return nil, fmt.Errorf("cades: timestamp: %w", err)
	}
	p.si.UnsignedAttrs = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true,
		Bytes: append(p.si.UnsignedAttrs.Bytes, attr(OIDSignatureTimeStamp, token)...)}
	p.sd.SignerInfos = set(mustMarshal(p.si))
	return marshalContentInfo(p.sd)
}

// ErrInvalid is wrapped by every verification failure.
var ErrInvalid = errors.New("invalid signature")

// Info is what Verify found.
type Info struct {
	Signer *x509.Certificate
	Chain  []*x509.Certificate // the embedded certificates, signer first
	// SigningTime is the signingTime attribute, zero when absent.
	SigningTime time.Time
	// Timestamp is the time of the signature timestamp (zero for B-B).
	Timestamp time.Time
	// TimestampToken is the token (DER), nil for B-B.
	TimestampToken []byte
}

// Verify checks a detached signature over content's SHA-256 digest: the
// message digest, the signing-certificate-v2 binding, the signature, and,
// when present, that the timestamp covers the signature value and is
// signed by a TSA chaining to roots. It also checks the signer's
// certificate chains to roots at the timestamp's time (else at at).
// Revocation is the caller's (it knows the revocation data).
func Verify(p7s, digest []byte, roots *x509.CertPool, at time.Time) (*Info, error) {
	p, err := parse(p7s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	bad := func(f string, a ...any) (*Info, error) {
		return nil, fmt.Errorf("%w: "+f, append([]any{ErrInvalid}, a...)...)
	}
	info := &Info{}
	rest := p.sd.Certificates.Bytes
	for len(rest) > 0 {
		var raw asn1.RawValue
		if rest, err = asn1.Unmarshal(rest, &raw); err != nil {
			return bad("certificates: %v", err)
		}
		c, err := x509.ParseCertificate(raw.FullBytes)
		if err != nil {
			return bad("certificate: %v", err)
		}
		info.Chain = append(info.Chain, c)
		if !bytes.Equal(c.RawIssuer, p.si.SID.Issuer.FullBytes) || c.SerialNumber.Cmp(p.si.SID.Serial) != 0 {
			continue
		}
		info.Signer = c
	}
	if info.Signer == nil {
		return bad("the signer's certificate is not embedded")
	}
	if !p.si.DigestAlgorithm.Algorithm.Equal(OIDSHA256) {
		return bad("digest algorithm %v (SHA-256 expected)", p.si.DigestAlgorithm.Algorithm)
	}
	var ct asn1.ObjectIdentifier
	if v := p.attr[OIDContentType.String()]; v == nil {
		return bad("no content-type attribute")
	} else if _, err := asn1.Unmarshal(v, &ct); err != nil || !ct.Equal(OIDData) {
		return bad("content-type is not data")
	}
	var md []byte
	if v := p.attr[OIDMessageDigest.String()]; v == nil {
		return bad("no message-digest attribute")
	} else if _, err := asn1.Unmarshal(v, &md); err != nil || !bytes.Equal(md, digest) {
		return bad("the content does not match the signed message digest")
	}
	if v := p.attr[OIDSigningCertificateV2.String()]; v == nil {
		return bad("no signing-certificate-v2 attribute")
	} else {
		var sc signingCertificateV2
		h := sha256.Sum256(info.Signer.Raw)
		if _, err := asn1.Unmarshal(v, &sc); err != nil || len(sc.Certs) == 0 || !bytes.Equal(sc.Certs[0].CertHash, h[:]) {
			return bad("signing-certificate-v2 does not name the signer's certificate")
		}
	}
	if v := p.attr[OIDSigningTime.String()]; v != nil {
		if _, err := asn1.Unmarshal(v, &info.SigningTime); err != nil {
			return bad("signingTime: %v", err)
		}
	}
	// The signature covers the attributes with the SET tag (RFC 5652 5.4).
	signed := mustMarshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: p.si.SignedAttrs.Bytes})
	if err := checkSig(info.Signer, p.si.SignatureAlgorithm.Algorithm, signed, p.si.Signature); err != nil {
		return bad("%v", err)
	}
	when := at
	if tok := p.un[OIDSignatureTimeStamp.String()]; tok != nil {
		ts, err := VerifyToken(tok, roots)
		if err != nil {
			return bad("signature timestamp: %v", err)
		}
		h := sha256.Sum256(p.si.Signature)
		if !bytes.Equal(ts.HashedMessage, h[:]) {
			return bad("the timestamp does not cover this signature")
		}
		info.Timestamp, info.TimestampToken, when = ts.Time, tok, ts.Time
	}
	inter := x509.NewCertPool()
	for _, c := range info.Chain {
		inter.AddCert(c)
	}
	if _, err := info.Signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: when,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return bad("the signer's certificate: %v", err)
	}
	return info, nil
}

func checkSig(c *x509.Certificate, alg asn1.ObjectIdentifier, signed, sig []byte) error {
	switch {
	case alg.Equal(OIDECDSAWithSHA256):
		return c.CheckSignature(x509.ECDSAWithSHA256, signed, sig)
	case alg.Equal(OIDSHA256WithRSA), alg.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}):
		return c.CheckSignature(x509.SHA256WithRSA, signed, sig)
	}
	return fmt.Errorf("signature algorithm %v", alg)
}

// VerifyToken checks an RFC 3161 token: its CMS signature, and that the
// TSA's certificate is for time-stamping and chains to roots at the time
// it states.
func VerifyToken(token []byte, roots *x509.CertPool) (*timestamp.Timestamp, error) {
	ts, err := timestamp.Parse(token) // verifies the token's own signature
	if err != nil {
		return nil, err
	}
	if len(ts.Certificates) == 0 {
		return nil, errors.New("the token does not embed the TSA's certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range ts.Certificates[1:] {
		inter.AddCert(c)
	}
	// The TSA's certificate is the token's signer (timestamp.Parse has
	// checked the signature with it), and it must be for time-stamping.
	p, err := parseSignedData(token, true)
	if err != nil {
		return nil, err
	}
	var tsa *x509.Certificate
	for _, c := range ts.Certificates {
		if bytes.Equal(c.RawIssuer, p.si.SID.Issuer.FullBytes) && c.SerialNumber.Cmp(p.si.SID.Serial) == 0 {
			tsa = c
		}
	}
	if tsa == nil {
		return nil, errors.New("the token does not embed its signer's certificate")
	}
	timeStamping := false
	for _, u := range tsa.ExtKeyUsage {
		timeStamping = timeStamping || u == x509.ExtKeyUsageTimeStamping
	}
	if !timeStamping {
		return nil, errors.New("the token's signer is not a time-stamping authority")
	}
	for _, c := range ts.Certificates {
		inter.AddCert(c)
	}
	if _, err := tsa.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: ts.Time,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		return nil, fmt.Errorf("the TSA's certificate: %w", err)
	}
	return ts, nil
}

// SignerCertificate is the signer's certificate embedded in p7s (not
// verified).
func SignerCertificate(p7s []byte) (*x509.Certificate, error) {
	p, err := parse(p7s)
	if err != nil {
		return nil, err
	}
	rest := p.sd.Certificates.Bytes
	for len(rest) > 0 {
		var raw asn1.RawValue
		if rest, err = asn1.Unmarshal(rest, &raw); err != nil {
			return nil, err
		}
		c, err := x509.ParseCertificate(raw.FullBytes)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(c.RawIssuer, p.si.SID.Issuer.FullBytes) && c.SerialNumber.Cmp(p.si.SID.Serial) == 0 {
			return c, nil
		}
	}
	return nil, errors.New("cades: the signer's certificate is not embedded")
}
