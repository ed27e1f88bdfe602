package csc

import (
	"crypto"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Credential is a key the stand-in signs with and its chain (signer first).
type Credential struct {
	Key   crypto.Signer
	Chain []*x509.Certificate
	PIN   string
}

// StandIn serves the CSC API v2 over its credentials for one bearer
// token. An authorization (SAD) lists the exact hashes it allows, is
// spent by the signHash that uses it and expires after five minutes. Its
// SADs live in process: a demo, not a multi-instance service.
type StandIn struct {
	Token       string
	Credentials map[string]*Credential
	Now         func() time.Time

	mu   sync.Mutex
	sads map[string]*sad
}

type sad struct {
	credential string
	hashes     map[string]bool
	until      time.Time
}

func (s *StandIn) fail(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// ServeHTTP answers POST /csc/v2/{credentials/list,credentials/info,
// credentials/authorize,signatures/signHash}.
func (s *StandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.fail(w, http.StatusMethodNotAllowed, "invalid_request", "POST only")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+s.Token)) != 1 {
		s.fail(w, http.StatusUnauthorized, "invalid_token", "bad bearer token")
		return
	}
	var in struct {
		CredentialID     string   `json:"credentialID"`
		NumSignatures    int      `json:"numSignatures"`
		Hashes           []string `json:"hashes"`
		HashAlgorithmOID string   `json:"hashAlgorithmOID"`
		SignAlgo         string   `json:"signAlgo"`
		PIN              string   `json:"PIN"`
		SAD              string   `json:"SAD"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		s.fail(w, http.StatusBadRequest, "invalid_request", "malformed JSON")
		return
	}
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	if r.URL.Path == "/csc/v2/credentials/list" {
		ids := []string{}
		for id := range s.Credentials {
			ids = append(ids, id)
		}
		reply(map[string]any{"credentialIDs": ids})
		return
	}
	cred := s.Credentials[in.CredentialID]
	if cred == nil {
		s.fail(w, http.StatusBadRequest, "invalid_request", "unknown credentialID")
		return
	}
	switch r.URL.Path {
	case "/csc/v2/credentials/info":
		certs := make([]string, len(cred.Chain))
		for i, c := range cred.Chain {
			certs[i] = base64.StdEncoding.EncodeToString(c.Raw)
		}
		reply(map[string]any{"key": map[string]any{"status": "enabled", "algo": []string{OIDECDSAWithSHA256}},
			"cert": map[string]any{"status": "valid", "certificates": certs}, "authMode": "explicit", "SCAL": "2", "multisign": 1})
	case "/csc/v2/credentials/authorize":
		if subtle.ConstantTimeCompare([]byte(in.PIN), []byte(cred.PIN)) != 1 {
			s.fail(w, http.StatusBadRequest, "invalid_pin", "wrong PIN")
			return
		}
		if in.HashAlgorithmOID != OIDSHA256 || len(in.Hashes) == 0 || in.NumSignatures != len(in.Hashes) {
			s.fail(w, http.StatusBadRequest, "invalid_request", "SHA-256 hashes, as many as numSignatures, are required")
			return
		}
		hs := map[string]bool{}
		for _, h := range in.Hashes {
			b, err := base64.StdEncoding.DecodeString(h)
			if err != nil || len(b) != 32 {
				s.fail(w, http.StatusBadRequest, "invalid_request", "a hash is not a base64 SHA-256")
				return
			}
			hs[string(b)] = true
		}
		tok := make([]byte, 24)
		rand.Read(tok)
		id := hex.EncodeToString(tok)
		s.mu.Lock()
		if s.sads == nil {
			s.sads = map[string]*sad{}
		}
		s.sads[id] = &sad{credential: in.CredentialID, hashes: hs, until: s.Now().Add(5 * time.Minute)}
		s.mu.Unlock()
		reply(map[string]any{"SAD": id, "expiresIn": 300})
	case "/csc/v2/signatures/signHash":
		s.mu.Lock()
		a := s.sads[in.SAD]
		delete(s.sads, in.SAD) // spent, whatever the outcome
		s.mu.Unlock()
		if a == nil || a.credential != in.CredentialID || s.Now().After(a.until) {
			s.fail(w, http.StatusBadRequest, "invalid_request", "invalid or expired SAD")
			return
		}
		if in.SignAlgo != OIDECDSAWithSHA256 || len(in.Hashes) == 0 {
			s.fail(w, http.StatusBadRequest, "invalid_request", "signAlgo must be ecdsa-with-SHA256")
			return
		}
		sigs := make([]string, len(in.Hashes))
		for i, h := range in.Hashes {
			b, err := base64.StdEncoding.DecodeString(h)
			if err != nil || !a.hashes[string(b)] {
				s.fail(w, http.StatusBadRequest, "invalid_request", "a hash was not authorized by this SAD")
				return
			}
			sig, err := cred.Key.Sign(rand.Reader, b, crypto.SHA256)
			if err != nil {
				s.fail(w, http.StatusInternalServerError, "server_error", "signing failed")
				return
			}
			sigs[i] = base64.StdEncoding.EncodeToString(sig)
		}
		reply(map[string]any{"signatures": sigs})
	default:
		s.fail(w, http.StatusNotFound, "invalid_request", "unknown method")
	}
}
