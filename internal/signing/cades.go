package signing

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	cert, err := v.certificate(certPEM)
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

// Files EnsureSeal keeps: the seal's certificate and its key's handle on
// the backend (the key itself stays in the backend: sealed under the
// master key for the file backend, on the token for PKCS #11).
const (
	SealCertFile   = "seal.crt"
	SealHandleFile = "seal.handle"
)

// EnsureSeal returns the municipality's electronic seal (the certificate
// and the key that sign issued documents), made on the backend and
// certified by the CA at first use and kept in dir. Concurrent first
// calls from several processes on the same dir are not coordinated.
func (v *Vault) EnsureSeal(dir, org string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	if v.ca == nil {
		return nil, nil, errors.New("signing: no CA")
	}
	certFile, handleFile := filepath.Join(dir, SealCertFile), filepath.Join(dir, SealHandleFile)
	certPEM, cerr := os.ReadFile(certFile)
	handle, herr := os.ReadFile(handleFile)
	if errors.Is(cerr, fs.ErrNotExist) && errors.Is(herr, fs.ErrNotExist) {
		_, pemText, _, h, err := v.NewCertifiedKey(org, true, now)
		if err != nil {
			return nil, nil, err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(handleFile, h, 0o600); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(certFile, []byte(pemText), 0o644); err != nil {
			return nil, nil, err
		}
		certPEM, handle, cerr, herr = []byte(pemText), h, nil, nil
	}
	if cerr != nil || herr != nil {
		return nil, nil, fmt.Errorf("signing: seal in %s: %v %v (both %s and %s, or neither)", dir, cerr, herr, SealCertFile, SealHandleFile)
	}
	cert, err := parsePEM(string(certPEM))
	if err != nil {
		return nil, nil, err
	}
	if cert.CheckSignatureFrom(v.ca.Issuing) != nil {
		return nil, nil, fmt.Errorf("signing: %s was not issued by this CA", certFile)
	}
	key, err := v.backend.Signer(handle)
	if err != nil {
		return nil, nil, fmt.Errorf("signing: the seal's key: %w", err)
	}
	return cert, key, nil
}

// certificate parses a key's certificate once (signing runs inside the
// step's transaction: no parse per step).
func (v *Vault) certificate(certPEM string) (*x509.Certificate, error) {
	v.mu.Lock()
	c, ok := v.certs[certPEM]
	v.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := parsePEM(certPEM)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	if v.certs == nil || len(v.certs) >= maxOpened {
		v.certs = map[string]*x509.Certificate{}
	}
	v.certs[certPEM] = c
	v.mu.Unlock()
	return c, nil
}
