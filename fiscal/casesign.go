package fiscal

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"sort"
	"time"
)

// Signature algorithms of case steps.
const (
	// AlgEd25519 is an Ed25519 key kept by the service (crypto/ed25519).
	AlgEd25519 = "ed25519"
	// AlgCAdES is a key with an X.509 certificate whose steps are detached
	// CAdES signatures (CMS) over StepContent, timestamped (B-T).
	AlgCAdES = "cades"
)

// CertVault is a KeyVault whose keys come with an X.509 certificate and
// sign steps as CAdES: the file backend or a PKCS #11 token holds the
// keys, the municipality's CA certifies them.
type CertVault interface {
	KeyVault
	// Certifies is false when the vault has no CA (it then makes Ed25519 keys).
	Certifies() bool
	// NewCertifiedKey creates a key on the backend and its certificate for
	// subject (a member of staff's name; the municipality's seal). handle
	// is what the backend finds the key by (stored as sealed_private).
	NewCertifiedKey(subject string, seal bool, now time.Time) (public []byte, certificatePEM, serial string, handle []byte, err error)
	// SignCAdES returns a detached CAdES-B-B signature (DER) over content
	// by the key with its certificate, and the signature value.
	SignCAdES(handle []byte, certificatePEM string, content []byte) (p7s, value []byte, err error)
	// TimestampCAdES adds the signature timestamp (B-T); unchanged when
	// it has one.
	TimestampCAdES(p7s []byte) ([]byte, error)
	// VerifyCAdES checks p7s over content with the CA and returns the
	// signer's certificate (DER) and the timestamp's time (zero for B-B).
	VerifyCAdES(p7s, content []byte, at time.Time) (certificate []byte, timestamped time.Time, err error)
	// CAChain is the CA's chain as PEM (GET /api/v1/pki/ca.pem).
	CAChain() []byte
}

// CaseState is the state of a case a step acted on: what the digest covers.
type CaseState struct {
	CaseID      int64           `json:"case_id"`
	Number      string          `json:"number"`
	Type        string          `json:"type"`
	TaxpayerID  int64           `json:"taxpayer_id"`
	Data        json.RawMessage `json:"data"`
	Status      CaseStatus      `json:"status"`
	Attachments []string        `json:"attachments"` // "kind:sha256", sorted
}

// AttachmentKeys returns the sorted "kind:sha256" list of attachments.
func AttachmentKeys(atts []*Attachment) []string {
	out := make([]string, 0, len(atts))
	for _, a := range atts {
		out = append(out, a.Kind+":"+a.SHA256)
	}
	sort.Strings(out)
	return out
}

// CanonicalState is the canonical JSON of a state: fixed field order, compact
// data (stored already normalised by its case type), sorted attachments.
func CanonicalState(s *CaseState) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

// StepDigest is SHA-256 over the canonical JSON of the previous step's
// digest, the state acted on and the step itself (action, decision, the
// statuses, the actor, the instant, the comment), hex-encoded.
func StepDigest(prev, state string, st *CaseStep) string {
	sum := sha256.Sum256(StepContent(prev, state, st))
	return hex.EncodeToString(sum[:])
}

// StepContent is the canonical JSON StepDigest hashes: the bytes a CAdES
// step signature signs (GET /api/v1/cases/{id}/steps/{n}/content).
func StepContent(prev, state string, st *CaseStep) []byte {
	actor := int64(0)
	if st.ActorID != nil {
		actor = *st.ActorID
	}
	doc := struct {
		Prev     string          `json:"prev"`
		State    json.RawMessage `json:"state"`
		Seq      int             `json:"seq"`
		Action   string          `json:"action"`
		Decision string          `json:"decision"`
		From     CaseStatus      `json:"from"`
		To       CaseStatus      `json:"to"`
		ActorID  int64           `json:"actor_id"`
		Actor    string          `json:"actor"`
		Role     string          `json:"role"`
		At       string          `json:"at"`
		Comment  string          `json:"comment"`
		// A published type's step and the person a substitute acted for
		// (absent from the built-in workflow's digests).
		Step       string `json:"step,omitempty"`
		OnBehalfOf int64  `json:"on_behalf_of,omitempty"`
	}{prev, json.RawMessage(state), st.Seq, st.Action, st.Decision, st.From, st.To, actor, st.Actor, st.ActorRole,
		st.At.UTC().Format(time.RFC3339Nano), st.Comment, st.Step, 0}
	if st.OnBehalfOfID != nil {
		doc.OnBehalfOf = *st.OnBehalfOfID
	}
	b, _ := json.Marshal(doc)
	return b
}

// VerifyStepSignature checks a step's signature over its digest with the
// signing key's public key. Other algorithms (a qualified certificate) add a
// case here.
func VerifyStepSignature(alg, publicKeyB64, digestHex, sigB64 string) bool {
	digest, err := hex.DecodeString(digestHex)
	if err != nil {
		return false
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return false
	}
	pub, err := base64.StdEncoding.DecodeString(publicKeyB64)
	if err != nil {
		return false
	}
	switch alg {
	case AlgEd25519:
		return len(pub) == ed25519.PublicKeySize && ed25519.Verify(ed25519.PublicKey(pub), digest, sig)
	}
	return false
}

// StepEvidence is a step as others verify it without fiscald: the exact
// bytes its signature signs and its detached CAdES signature (nil for a
// step signed with an Ed25519 key, before certificates).
type StepEvidence struct {
	Content   []byte
	Signature []byte
}

// PKIService publishes the signatures of steps and the CA they chain to.
type PKIService interface {
	// StepEvidence is step seq of a case the actor may see (else
	// ENOTFOUND), timestamped if it was not yet.
	StepEvidence(ctx context.Context, caseID int64, seq int) (*StepEvidence, error)
	// CAChain is the PEM chain (issuing CA, root); nil when none.
	CAChain() []byte
}
