package fiscal

import (
	"context"
	"time"
)

// Assurance is how sure the department is that an account is the person of
// its taxpayer record (users.assurance, migration 0019).
type Assurance string

const (
	// AssurancePassword: a password-only account linked to a record that
	// existed before it. It files requests and reads them, not the record.
	AssurancePassword Assurance = "password"
	// AssuranceSelf: a self-registered account that created its record
	// itself (the record holds only what it declared): it sees that record.
	AssuranceSelf Assurance = "self"
	// AssuranceVerified: the national identity provider vouched for the
	// person (or, enrollment codes, the person proved a one-time code the
	// department gave them): the record, its debts, payments and documents.
	AssuranceVerified Assurance = "verified"
)

// SeesRecord reports whether the assurance lets an account read its
// taxpayer's fiscal record (debts, statement, payments, documents).
func (a Assurance) SeesRecord() bool { return a == AssuranceSelf || a == AssuranceVerified }

// CanSeeRecord reports whether the actor may read the fiscal record of the
// taxpayer: staff of the municipality, or the taxpayer themself with an
// assurance that SeesRecord. CanSeeTaxpayer (their requests) is wider.
func (a *Actor) CanSeeRecord(municipalityID, taxpayerID int64) bool {
	if !a.CanSeeTaxpayer(municipalityID, taxpayerID) {
		return false
	}
	return a.IsStaff() || a.Assurance.SeesRecord()
}

// ErrRecordNotVerified is the problem a password-only account gets for an
// existing record's debts, statement, payments or documents.
func ErrRecordNotVerified() error {
	return Errorf(EFORBIDDEN, "this account is not verified for the taxpayer's fiscal record: sign in with the national identity provider (ROeID) or enroll with a code from the tax department")
}

// VerifiedIdentity is a person as an OpenID Connect provider vouched for
// them in a verified ID token.
type VerifiedIdentity struct {
	// Issuer and Subject name the person at the provider (iss, sub).
	Issuer  string
	Subject string
	// CNP is the personal numeric code from the configured claim, checked.
	CNP string
	// FamilyName and GivenName (ROeID: nume, prenume) and Address.
	FamilyName string
	GivenName  string
	Address    string
	Email      string
}

// Name is "FamilyName GivenName", as the registry writes individuals.
func (v *VerifiedIdentity) Name() string {
	switch {
	case v.FamilyName == "":
		return v.GivenName
	case v.GivenName == "":
		return v.FamilyName
	}
	return v.FamilyName + " " + v.GivenName
}

// OIDCLogin is a sign-in begun at the provider, kept in the database until
// its callback claims it (once) or it expires.
type OIDCLogin struct {
	// StateHash is the SHA-256 (hex) of the state sent to the provider.
	StateHash string `db:"state_hash"`
	Nonce     string `db:"nonce"`
	// Verifier is the PKCE code verifier (S256).
	Verifier  string    `db:"verifier"`
	Next      string    `db:"next"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

// IdentityStore keeps sign-ins with an OpenID Connect provider and opens
// sessions for the people it verified.
type IdentityStore interface {
	// BeginOIDCLogin keeps a sign-in for ttl and sweeps expired ones.
	BeginOIDCLogin(ctx context.Context, municipalityID int64, l *OIDCLogin, ttl time.Duration) error
	// ClaimOIDCLogin deletes and returns the sign-in of the state's hash;
	// ENOTFOUND when there is none, it was claimed already or it expired.
	ClaimOIDCLogin(ctx context.Context, municipalityID int64, stateHash string) (*OIDCLogin, error)
	// SignInVerified finds the account of the provider's person (or the
	// taxpayer with the CNP, or creates both), refreshes the record's claims,
	// and opens a session, in one transaction.
	SignInVerified(ctx context.Context, municipalityID int64, id *VerifiedIdentity) (*Session, error)
}

// IdentityProvider is an OpenID Connect provider (internal/oidc).
type IdentityProvider interface {
	// AuthCodeURL is the provider's authorization URL for a sign-in.
	AuthCodeURL(ctx context.Context, state, nonce, verifier string) (string, error)
	// Identify exchanges the code (with the PKCE verifier), verifies the ID
	// token (issuer, audience, expiry, signature, nonce) and reads the
	// person. Its errors are EUNAUTHORIZED (a bad token or answer) or
	// EINVALID (a claim missing or wrong), with a message for the page.
	Identify(ctx context.Context, code, verifier, nonce string) (*VerifiedIdentity, error)
}
