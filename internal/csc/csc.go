// Package csc is a client of the Cloud Signature Consortium API v2 (remote
// signing at a trust service provider: credentials/list, credentials/info,
// credentials/authorize with the hashes to sign, signatures/signHash) and a
// local stand-in server of the same API over any crypto.Signer (file keys,
// or a PKCS #11 token) for tests and the demo. The stand-in binds each
// authorization (SAD) to the exact hashes it was given: it signs nothing
// else.
package csc

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// OIDs of the hash and signature algorithms used here.
const (
	OIDSHA256          = "2.16.840.1.101.3.4.2.1"
	OIDECDSAWithSHA256 = "1.2.840.10045.4.3.2"
)

// Client calls a CSC API v2 service at BaseURL (ending before /csc/v2)
// with an OAuth 2.0 bearer token.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
}

// Error is an error answer of the service.
type Error struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("csc: %d %s: %s", e.Status, e.Code, e.Description)
}

func (c *Client) call(ctx context.Context, method string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/csc/v2/"+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	h := c.HTTP
	if h == nil {
		h = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := h.Do(req)
	if err != nil {
		return fmt.Errorf("csc: %s: %w", method, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		e := &Error{Status: res.StatusCode}
		_ = json.Unmarshal(b, e)
		return e
	}
	return json.Unmarshal(b, out)
}

// List is credentials/list: the user's credential IDs.
func (c *Client) List(ctx context.Context) ([]string, error) {
	var out struct {
		CredentialIDs []string `json:"credentialIDs"`
	}
	err := c.call(ctx, "credentials/list", map[string]any{}, &out)
	return out.CredentialIDs, err
}

// Info is credentials/info: the credential's certificate chain (signer first).
func (c *Client) Info(ctx context.Context, credentialID string) ([]*x509.Certificate, error) {
	var out struct {
		Cert struct {
			Status       string   `json:"status"`
			Certificates []string `json:"certificates"`
		} `json:"cert"`
	}
	if err := c.call(ctx, "credentials/info", map[string]any{"credentialID": credentialID, "certificates": "chain"}, &out); err != nil {
		return nil, err
	}
	var chain []*x509.Certificate
	for _, s := range out.Cert.Certificates {
		der, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("csc: certificate: %w", err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("csc: certificate: %w", err)
		}
		chain = append(chain, cert)
	}
	if len(chain) == 0 {
		return nil, errors.New("csc: the credential has no certificate")
	}
	return chain, nil
}

// Authorize is credentials/authorize for exactly these SHA-256 hashes:
// the SAD that signHash needs.
func (c *Client) Authorize(ctx context.Context, credentialID, pin string, hashes [][]byte) (string, error) {
	var out struct {
		SAD string `json:"SAD"`
	}
	err := c.call(ctx, "credentials/authorize", map[string]any{"credentialID": credentialID, "numSignatures": len(hashes),
		"hashes": b64s(hashes), "hashAlgorithmOID": OIDSHA256, "PIN": pin}, &out)
	return out.SAD, err
}

// SignHash is signatures/signHash: ECDSA with SHA-256 signatures (DER) of the hashes.
func (c *Client) SignHash(ctx context.Context, credentialID, sad string, hashes [][]byte) ([][]byte, error) {
	var out struct {
		Signatures []string `json:"signatures"`
	}
	if err := c.call(ctx, "signatures/signHash", map[string]any{"credentialID": credentialID, "SAD": sad, "hashes": b64s(hashes),
		"hashAlgorithmOID": OIDSHA256, "signAlgo": OIDECDSAWithSHA256}, &out); err != nil {
		return nil, err
	}
	if len(out.Signatures) != len(hashes) {
		return nil, fmt.Errorf("csc: %d signatures for %d hashes", len(out.Signatures), len(hashes))
	}
	sigs := make([][]byte, len(hashes))
	for i, s := range out.Signatures {
		var err error
		if sigs[i], err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, fmt.Errorf("csc: signature: %w", err)
		}
	}
	return sigs, nil
}

// Signer is a crypto.Signer whose key stays at the provider: each Sign
// authorizes that one hash, then has it signed.
func (c *Client) Signer(ctx context.Context, credentialID, pin string) (crypto.Signer, []*x509.Certificate, error) {
	chain, err := c.Info(ctx, credentialID)
	if err != nil {
		return nil, nil, err
	}
	return &remote{c: c, ctx: ctx, id: credentialID, pin: pin, pub: chain[0].PublicKey}, chain, nil
}

type remote struct {
	c   *Client
	ctx context.Context
	id  string
	pin string
	pub crypto.PublicKey
}

func (r *remote) Public() crypto.PublicKey { return r.pub }

func (r *remote) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts.HashFunc() != crypto.SHA256 {
		return nil, errors.New("csc: only SHA-256")
	}
	sad, err := r.c.Authorize(r.ctx, r.id, r.pin, [][]byte{digest})
	if err != nil {
		return nil, err
	}
	sigs, err := r.c.SignHash(r.ctx, r.id, sad, [][]byte{digest})
	if err != nil {
		return nil, err
	}
	return sigs[0], nil
}

func b64s(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = base64.StdEncoding.EncodeToString(b)
	}
	return out
}
