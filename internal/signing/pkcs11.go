//go:build pkcs11

package signing

import (
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/ThalesGroup/crypto11"
)

// PKCS11 keeps keys on a PKCS #11 token (an HSM, a smart card; SoftHSM2 in
// tests): they are generated on it sensitive and never extractable, and
// signing happens on it. A key's handle is its CKA_ID.
type PKCS11 struct {
	ctx *crypto11.Context
	mu  sync.Mutex
	// found caches the keys looked up (CKA_ID → signer).
	found map[string]crypto11.Signer
}

// NewPKCS11 opens the token labelled token of the module with pin.
func NewPKCS11(module, token, pin string) (*PKCS11, error) {
	if module == "" || token == "" || pin == "" {
		return nil, errors.New("signing: PKCS #11 needs the module, the token label and the PIN")
	}
	ctx, err := crypto11.Configure(&crypto11.Config{Path: module, TokenLabel: token, Pin: pin})
	if err != nil {
		return nil, fmt.Errorf("signing: PKCS #11 token %q: %w", token, err)
	}
	return &PKCS11{ctx: ctx, found: map[string]crypto11.Signer{}}, nil
}

// PKCS11FromEnv is the backend of FISCAL_PKCS11_MODULE, FISCAL_PKCS11_TOKEN
// and FISCAL_PKCS11_PIN, or nil (the file backend) when the module is unset.
func PKCS11FromEnv() (Backend, error) {
	m := os.Getenv("FISCAL_PKCS11_MODULE")
	if m == "" {
		return nil, nil
	}
	return NewPKCS11(m, os.Getenv("FISCAL_PKCS11_TOKEN"), os.Getenv("FISCAL_PKCS11_PIN"))
}

// Name is "pkcs11".
func (*PKCS11) Name() string { return "pkcs11" }

// Generate makes an ECDSA P-256 key pair on the token.
func (p *PKCS11) Generate(label string) ([]byte, crypto.Signer, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, nil, err
	}
	s, err := p.ctx.GenerateECDSAKeyPairWithLabel(id, []byte(label), elliptic.P256())
	if err != nil {
		return nil, nil, fmt.Errorf("signing: PKCS #11 generate: %w", err)
	}
	p.mu.Lock()
	p.found[string(id)] = s
	p.mu.Unlock()
	return id, s, nil
}

// Signer finds the key pair with CKA_ID handle on the token.
func (p *PKCS11) Signer(handle []byte) (crypto.Signer, error) {
	p.mu.Lock()
	s, ok := p.found[string(handle)]
	p.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := p.ctx.FindKeyPair(handle, nil)
	if err != nil {
		return nil, fmt.Errorf("signing: PKCS #11 find: %w", err)
	}
	if s == nil {
		return nil, errors.New("signing: the key is not on this token")
	}
	p.mu.Lock()
	p.found[string(handle)] = s
	p.mu.Unlock()
	return s, nil
}

// Close releases the token's sessions.
func (p *PKCS11) Close() error { return p.ctx.Close() }
