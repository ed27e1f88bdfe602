package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
)

// Backend holds private keys and signs with them: the key never leaves it
// through this interface. A key is found again by its handle, which the
// store keeps in signing_keys.sealed_private.
type Backend interface {
	// Name is "file" or "pkcs11".
	Name() string
	// Generate creates an ECDSA P-256 key labelled label.
	Generate(label string) (handle []byte, signer crypto.Signer, err error)
	// Signer finds the key of handle.
	Signer(handle []byte) (crypto.Signer, error)
}

// FileBackend keeps ECDSA keys sealed (AES-256-GCM under the vault's master
// key) in their handles: development and the demo, where the database row
// holds the sealed key and the master key file opens it.
type FileBackend struct {
	v *Vault
	// opened caches opened keys (handle → key), at most maxOpened.
	mu     sync.Mutex
	opened map[string]crypto.Signer
}

const fileAAD = "ecdsa-p256-pkcs8"

// Name is "file".
func (*FileBackend) Name() string { return "file" }

// Generate makes a key and returns it sealed as its handle.
func (b *FileBackend) Generate(string) ([]byte, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	nonce := make([]byte, b.v.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	return b.v.aead.Seal(nonce, nonce, der, []byte(fileAAD)), key, nil
}

// Signer opens a sealed key.
func (b *FileBackend) Signer(handle []byte) (crypto.Signer, error) {
	b.mu.Lock()
	s, ok := b.opened[string(handle)]
	b.mu.Unlock()
	if ok {
		return s, nil
	}
	n := b.v.aead.NonceSize()
	if len(handle) < n {
		return nil, errors.New("signing: sealed key too short")
	}
	der, err := b.v.aead.Open(nil, handle[:n], handle[n:], []byte(fileAAD))
	if err != nil {
		return nil, errors.New("signing: the key cannot be opened with this master key")
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	s, ok = k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("signing: %T is not a signing key", k)
	}
	b.mu.Lock()
	if b.opened == nil || len(b.opened) >= maxOpened {
		b.opened = map[string]crypto.Signer{}
	}
	b.opened[string(handle)] = s
	b.mu.Unlock()
	return s, nil
}
