package pdf

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	pdfreader "github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/sign"
)

// SignInfo is what a signature says about itself. Parentheses and
// backslashes are removed from the strings: pdfsign writes them unescaped in
// some cases, and an unbalanced one breaks the file.
type SignInfo struct {
	// Name of the person or office signing.
	Name string
	// Reason, e.g. "Certificat de atestare fiscală nr. 123".
	Reason string
	// Location, e.g. "Timișoara".
	Location string
	// ContactInfo is optional.
	ContactInfo string
	// Time is the signing time written in the signature dictionary; required
	// (this package does not read the clock).
	Time time.Time
}

// Signer signs PDFs with one certificate and its private key. It is safe for
// concurrent use.
type Signer struct {
	cert  *x509.Certificate
	key   crypto.Signer
	chain []*x509.Certificate // cert, then its issuers
}

// ErrUnsupportedKey is returned for keys pdfsign cannot use safely: only
// ECDSA P-256 and P-384 and RSA-2048 are accepted (larger RSA keys produce a
// corrupt file).
var ErrUnsupportedKey = errors.New("unsupported signing key: use ECDSA P-256/P-384 or RSA-2048")

// NewSigner returns a Signer for cert and its private key. Issuers (the
// intermediate and root certificates) are embedded in each signature so a
// verifier can build the chain.
func NewSigner(cert *x509.Certificate, key crypto.Signer, issuers ...*x509.Certificate) (*Signer, error) {
	if cert == nil || key == nil {
		return nil, errors.New("pdf signer: certificate and key are required")
	}
	switch pub := key.Public().(type) {
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() && pub.Curve != elliptic.P384() {
			return nil, fmt.Errorf("%w (ECDSA %s)", ErrUnsupportedKey, pub.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		if pub.N.BitLen() != 2048 {
			return nil, fmt.Errorf("%w (RSA-%d)", ErrUnsupportedKey, pub.N.BitLen())
		}
	default:
		return nil, fmt.Errorf("%w (%T)", ErrUnsupportedKey, pub)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("pdf signer: private key does not match the certificate")
	}
	chain := append([]*x509.Certificate{cert}, issuers...)
	return &Signer{cert: cert, key: key, chain: chain}, nil
}

// Certificate returns the signing certificate.
func (s *Signer) Certificate() *x509.Certificate { return s.cert }

// Chain returns the signing certificate followed by its issuers.
func (s *Signer) Chain() []*x509.Certificate { return append([]*x509.Certificate(nil), s.chain...) }

// Sign returns pdf with a certification signature (adbe.pkcs7.detached,
// SHA-256) that covers the whole document and allows no later changes. The
// signature is added as an incremental update: the original bytes are kept.
func (s *Signer) Sign(pdf []byte, info SignInfo) ([]byte, error) {
	if info.Time.IsZero() {
		return nil, errors.New("pdf sign: signing time is required")
	}
	if info.Time.Before(s.cert.NotBefore) || info.Time.After(s.cert.NotAfter) {
		return nil, fmt.Errorf("pdf sign: certificate %q is not valid on %s (valid %s to %s)",
			s.cert.Subject.CommonName, info.Time.Format(time.RFC3339),
			s.cert.NotBefore.Format(time.DateOnly), s.cert.NotAfter.Format(time.DateOnly))
	}
	in := bytes.NewReader(pdf)
	rdr, err := pdfreader.NewReader(in, int64(len(pdf)))
	if err != nil {
		return nil, fmt.Errorf("pdf sign: read input: %w", err)
	}
	var out bytes.Buffer
	out.Grow(len(pdf) + 16<<10)
	err = sign.Sign(in, &out, rdr, int64(len(pdf)), sign.SignData{
		Signature: sign.SignDataSignature{
			Info: sign.SignDataSignatureInfo{
				Name:        cleanInfo(info.Name),
				Location:    cleanInfo(info.Location),
				Reason:      cleanInfo(info.Reason),
				ContactInfo: cleanInfo(info.ContactInfo),
				Date:        info.Time,
			},
			CertType:   sign.CertificationSignature,
			DocMDPPerm: sign.DoNotAllowAnyChangesPerms,
		},
		Signer:            s.key,
		DigestAlgorithm:   crypto.SHA256,
		Certificate:       s.cert,
		CertificateChains: [][]*x509.Certificate{s.chain},
	})
	if err != nil {
		return nil, fmt.Errorf("pdf sign: %w", err)
	}
	return out.Bytes(), nil
}

// cleanInfo makes s safe for pdfsign's string writer. pdfsign escapes
// parentheses only in ASCII strings; other strings go out as raw UTF-16BE
// bytes in a literal string, where a byte 0x28 "(", 0x29 ")", 0x5C "\" or a
// line break would end or change the string. So every rune that is, or
// encodes with, one of those bytes is dropped, as are runes outside the
// Basic Multilingual Plane. Romanian letters are all kept.
func cleanInfo(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r > 0xffff || (r >= 0xd800 && r <= 0xdfff) {
			return -1
		}
		for _, b := range [2]byte{byte(r >> 8), byte(r)} {
			switch b {
			case '(', ')', '\\', '\r', '\n':
				return -1
			}
		}
		return r
	}, s))
}

// LoadSigner reads a PEM certificate file (the signing certificate first,
// then any issuers) and a PEM private key file (PKCS #8, SEC 1 "EC PRIVATE
// KEY" or PKCS #1 "RSA PRIVATE KEY", unencrypted) and returns their Signer.
func LoadSigner(certPEMFile, keyPEMFile string) (*Signer, error) {
	certs, err := readCertificates(certPEMFile)
	if err != nil {
		return nil, err
	}
	key, err := readPrivateKey(keyPEMFile)
	if err != nil {
		return nil, err
	}
	return NewSigner(certs[0], key, certs[1:]...)
}

func readCertificates(file string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM CERTIFICATE block", file)
	}
	return certs, nil
}

func readPrivateKey(file string) (crypto.Signer, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("%s: no PEM private key block", file)
		}
		var key any
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s: %w (%T)", file, ErrUnsupportedKey, key)
		}
		return signer, nil
	}
}
