package signing

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/cades"
	"fiscald/internal/trust"
)

// UsePKI makes the vault a fiscal.CertVault: new keys are made on backend
// (nil: the file backend under the master key) and certified by ca; steps
// are signed as CAdES and timestamped by ca's TSA at now().
func (v *Vault) UsePKI(ca *trust.Authority, backend Backend, now func() time.Time) {
	if backend == nil {
		backend = &FileBackend{v: v}
	}
	v.ca, v.backend, v.now = ca, backend, now
	v.roots = x509.NewCertPool()
	v.roots.AddCert(ca.Root)
}

// FileBackend returns the vault's file backend.
func (v *Vault) FileBackend() *FileBackend { return &FileBackend{v: v} }

// Backend is the backend keys are made on (nil without UsePKI).
func (v *Vault) Backend() Backend { return v.backend }

// Certifies says UsePKI was called.
func (v *Vault) Certifies() bool { return v.ca != nil }

// NewCertifiedKey makes a key on the backend and has the CA certify it.
func (v *Vault) NewCertifiedKey(subject string, seal bool, now time.Time) (public []byte, certPEM, serial string, handle []byte, err error) {
	if v.ca == nil {
		return nil, "", "", nil, errors.New("signing: no CA")
	}
	handle, key, err := v.backend.Generate(subject)
	if err != nil {
		return nil, "", "", nil, fmt.Errorf("signing: generate on %s: %w", v.backend.Name(), err)
	}
	kind, name := trust.Person, pkix.Name{CommonName: subject}
	if seal {
		kind = trust.Seal
		name = pkix.Name{CommonName: subject + " - sigiliu electronic", Organization: []string{subject}}
	}
	cert, err := v.ca.Issue(kind, name, key.Public(), now)
	if err != nil {
		return nil, "", "", nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, "", "", nil, err
	}
	return pub, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})), cert.SerialNumber.Text(16), handle, nil
}

func parsePEM(certPEM string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(certPEM))
	if b == nil {
		return nil, errors.New("signing: the key's certificate is not PEM")
	}
	return x509.ParseCertificate(b.Bytes)
}

// SignCAdES signs content (B-B) with the key of handle.
func (v *Vault) SignCAdES(handle []byte, certPEM string, content []byte) (p7s, value []byte, err error) {
	if v.ca == nil {
		return nil, nil, errors.New("signing: no CA")
	}
	cert, err := parsePEM(certPEM)
	if err != nil {
		return nil, nil, err
	}
	key, err := v.backend.Signer(handle)
	if err != nil {
		return nil, nil, err
	}
	d := sha256.Sum256(content)
	if p7s, err = cades.Sign(d[:], cert, v.ca.Chain(), key, nil); err != nil {
		return nil, nil, err
	}
	value, err = cades.SignatureValue(p7s)
	return p7s, value, err
}

// TimestampCAdES adds the TSA's signature timestamp.
func (v *Vault) TimestampCAdES(p7s []byte) ([]byte, error) {
	if v.ca == nil {
		return nil, errors.New("signing: no CA")
	}
	return cades.AddTimestamp(p7s, trust.Clocked{A: v.ca, Now: v.now})
}

// VerifyCAdES checks a step's signature over content under the CA.
func (v *Vault) VerifyCAdES(p7s, content []byte, at time.Time) ([]byte, time.Time, error) {
	if v.ca == nil {
		return nil, time.Time{}, errors.New("signing: no CA")
	}
	d := sha256.Sum256(content)
	info, err := cades.Verify(p7s, d[:], v.roots, at)
	if err != nil {
		return nil, time.Time{}, err
	}
	return info.Signer.Raw, info.Timestamp, nil
}

// CAChain is the CA's chain (PEM).
func (v *Vault) CAChain() []byte {
	if v.ca == nil {
		return nil
	}
	return v.ca.ChainPEM()
}

var _ fiscal.CertVault = (*Vault)(nil)
