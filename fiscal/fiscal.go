package fiscal

import (
	"context"
	"time"
)

// Role is what a user may do.
type Role string

// The roles of the contract.
const (
	RoleTaxpayer   Role = "taxpayer"
	RoleOfficer    Role = "officer"
	RoleSigner     Role = "signer"
	RoleAccountant Role = "accountant"
	RoleAdmin      Role = "admin"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleTaxpayer, RoleOfficer, RoleSigner, RoleAccountant, RoleAdmin:
		return true
	}
	return false
}

// IsStaff reports whether r is a role of the department's staff.
func (r Role) IsStaff() bool { return r.Valid() && r != RoleTaxpayer }

// Municipality is a tenant: one local administration (UAT) with its slug.
type Municipality struct {
	ID   int64  `json:"id" db:"id"`
	Slug string `json:"slug" db:"slug"`
	Name string `json:"name" db:"name"`
	// Rank is the locality rank 0-V of Legea 351/2001 (I for Timișoara).
	Rank   string `json:"rank" db:"rank"`
	County string `json:"county" db:"county"`
	// Settings holds municipality-specific settings as a JSON object.
	Settings string `json:"-" db:"settings"`
}

// MunicipalityService reads and creates tenants.
type MunicipalityService interface {
	// MunicipalityBySlug returns ENOTFOUND for an unknown slug.
	MunicipalityBySlug(ctx context.Context, slug string) (*Municipality, error)
	// CreateMunicipality returns ECONFLICT when the slug exists.
	CreateMunicipality(ctx context.Context, m *Municipality) error
}

// User is an account: a taxpayer or a member of staff.
type User struct {
	ID             int64  `json:"id" db:"id"`
	MunicipalityID int64  `json:"-" db:"municipality_id"`
	Username       string `json:"username" db:"username"`
	Role           Role   `json:"role" db:"role"`
	TaxpayerID     *int64 `json:"taxpayer_id" db:"taxpayer_id"`
	Email          string `json:"email,omitempty" db:"email"`
	FullName       string `json:"full_name,omitempty" db:"full_name"`
	// Assurance is how the holder was identified ("password" or "verified").
	Assurance Assurance `json:"assurance" db:"assurance"`
	// Disabled accounts cannot sign in and their sessions are ended.
	Disabled  bool      `json:"disabled" db:"disabled"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
}

// Registration is a taxpayer's self-registration.
type Registration struct {
	Username string        `json:"username" validate:"required,min=3,max=64,printascii,excludesall= "`
	Password string        `json:"password" validate:"required,min=10,max=256"`
	Email    string        `json:"email" validate:"required,email,max=200"`
	Taxpayer TaxpayerInput `json:"taxpayer" validate:"required"`
}

// Session is a bearer token handed out at login. Only its SHA-256 is stored.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      *User     `json:"user"`
}

// UserService manages accounts and sessions.
type UserService interface {
	// Register creates a taxpayer and its user in one transaction. EINVALID
	// for a bad CNP/CUI or field, ECONFLICT for a username or CNP/CUI taken.
	Register(ctx context.Context, municipalityID int64, r *Registration) (*User, *Taxpayer, error)
	// CreateStaff creates a staff account. ECONFLICT when the username
	// exists (compared case-folded); EINVALID naming "password" for a
	// password CheckPassword refuses.
	CreateStaff(ctx context.Context, municipalityID int64, username, password string, role Role, fullName string) (*User, error)
	// Login checks the credentials and opens a session; the username is
	// compared case-insensitively. EUNAUTHORIZED for an unknown user or a
	// wrong password alike.
	Login(ctx context.Context, municipalityID int64, username, password string) (*Session, error)
	// Authenticate returns the actor of a bearer token; EUNAUTHORIZED when
	// it is unknown, expired or revoked.
	Authenticate(ctx context.Context, token string) (*Actor, error)
	// Logout revokes the token.
	Logout(ctx context.Context, token string) error
	// UserByID returns ENOTFOUND when the user is not in the actor's municipality.
	UserByID(ctx context.Context, id int64) (*User, error)
}

// SignInThrottle is a pair of username and client address whose sign-ins
// are refused for a while after repeated wrong passwords.
type SignInThrottle struct {
	// Username is the name tried, case-folded (it may name no account).
	Username string `json:"username"`
	// Address is the client's address.
	Address string `json:"address"`
	// Failures is the count of wrong passwords of the pair so far.
	Failures int `json:"failures"`
	// Until is when the pair may try again.
	Until time.Time `json:"until"`
}

// SignInAudit records sign-in abuse in the audit log, where staff see
// password spraying and guessing.
type SignInAudit interface {
	// SignInThrottled writes the audit entry "user.signin_throttled".
	SignInThrottled(ctx context.Context, municipalityID int64, t SignInThrottle) error
}

// StaffDirectory lists the staff accounts of the actor's municipality.
type StaffDirectory interface {
	// StaffUsers lists staff accounts by username (staff only; EFORBIDDEN
	// for a taxpayer).
	StaffUsers(ctx context.Context) ([]*User, error)
}

// TaxpayerKind tells individuals from companies.
type TaxpayerKind string

// The kinds of taxpayer.
const (
	Individual TaxpayerKind = "individual"
	Company    TaxpayerKind = "company"
)

// Taxpayer is an entry of the fiscal registry.
type Taxpayer struct {
	ID             int64        `json:"id" db:"id"`
	MunicipalityID int64        `json:"-" db:"municipality_id"`
	Kind           TaxpayerKind `json:"kind" db:"kind"`
	CNP            *string      `json:"cnp,omitempty" db:"cnp"`
	CUI            *string      `json:"cui,omitempty" db:"cui"`
	Name           string       `json:"name" db:"name"`
	Address        string       `json:"address" db:"address"`
	Email          string       `json:"email,omitempty" db:"email"`
	Phone          string       `json:"phone,omitempty" db:"phone"`
	CreatedAt      time.Time    `json:"created_at" db:"created_at"`
	UpdatedAt      time.Time    `json:"updated_at" db:"updated_at"`
	Version        int64        `json:"version" db:"version"`
}

// TaxpayerInput is the data for a new taxpayer.
type TaxpayerInput struct {
	Kind    TaxpayerKind `json:"kind" validate:"required,oneof=individual company"`
	CNP     string       `json:"cnp,omitempty" validate:"required_if=Kind individual,excluded_if=Kind company"`
	CUI     string       `json:"cui,omitempty" validate:"required_if=Kind company,excluded_if=Kind individual"`
	Name    string       `json:"name" validate:"required,min=2,max=200,nobidi"`
	Address string       `json:"address" validate:"required,min=3,max=300"`
	Email   string       `json:"email,omitempty" validate:"omitempty,email,max=200"`
	Phone   string       `json:"phone,omitempty" validate:"omitempty,max=30"`
}

// Validate applies the identity rules after the struct tags passed; it
// returns the field errors (none when valid).
func (r *Registration) Validate() []FieldError {
	return append(fieldsOf(r.Taxpayer.Check("taxpayer.")), fieldsOf(r.CheckPassword())...)
}

// CheckPassword applies the password rule (CheckPassword) to the
// registration's password with its username, e-mail, CNP and CUI.
func (r *Registration) CheckPassword() error {
	return CheckPassword(r.Password, r.Username, r.Email, r.Taxpayer.CNP, r.Taxpayer.CUI)
}

// Validate returns the identity-rule errors of a taxpayer input.
func (in *TaxpayerInput) Validate() []FieldError { return fieldsOf(in.Check("")) }

// fieldsOf returns the field errors of an *Error (nil for nil).
func fieldsOf(err error) []FieldError {
	if e, ok := err.(*Error); ok {
		return e.Fields
	}
	return nil
}

// Check applies the identity rules (CNP and CUI check digits) that struct
// tags cannot express. Field names are prefixed with prefix (e.g. "taxpayer.").
func (in *TaxpayerInput) Check(prefix string) error {
	switch in.Kind {
	case Individual:
		if r := CheckCNP(in.CNP); r != "" {
			return InvalidField(prefix+"cnp", "invalid CNP: "+r)
		}
	case Company:
		if r := CheckCUI(in.CUI); r != "" {
			return InvalidField(prefix+"cui", "invalid CUI: "+r)
		}
		in.CUI = NormalizeCUI(in.CUI)
	default:
		return InvalidField(prefix+"kind", "must be individual or company")
	}
	return nil
}

// TaxpayerFilter narrows a registry search.
type TaxpayerFilter struct {
	Q      string
	Limit  int
	Offset int
}

// TaxpayerService is the fiscal registry.
type TaxpayerService interface {
	// CreateTaxpayer is for staff. EINVALID, ECONFLICT for a CNP/CUI taken.
	CreateTaxpayer(ctx context.Context, in *TaxpayerInput) (*Taxpayer, error)
	// Taxpayer returns ENOTFOUND when the taxpayer is not visible to the
	// actor: another municipality, or another taxpayer's record.
	Taxpayer(ctx context.Context, id int64) (*Taxpayer, error)
	// FindTaxpayers searches by name, CNP or CUI (staff only).
	FindTaxpayers(ctx context.Context, f TaxpayerFilter) ([]*Taxpayer, int, error)
}

// AuditEntry is one link of the append-only, hash-chained audit log.
type AuditEntry struct {
	ID             int64     `json:"id" db:"id"`
	MunicipalityID int64     `json:"-" db:"municipality_id"`
	At             time.Time `json:"at" db:"at"`
	ActorID        *int64    `json:"actor_id" db:"actor_id"`
	Actor          string    `json:"actor" db:"actor"`
	Action         string    `json:"action" db:"action"`
	Entity         string    `json:"entity" db:"entity"`
	EntityID       string    `json:"entity_id" db:"entity_id"`
	Before         string    `json:"before" db:"before_json"`
	After          string    `json:"after" db:"after_json"`
	PrevHash       string    `json:"prev_hash" db:"prev_hash"`
	Hash           string    `json:"hash" db:"hash"`
}

// AuditVerification is the result of re-checking the chain.
type AuditVerification struct {
	Valid             bool   `json:"valid"`
	Entries           int    `json:"entries"`
	FirstInvalidEntry *int64 `json:"first_invalid_entry"`
	Reason            string `json:"reason,omitempty"`
}

// AuditService reads and verifies the audit log.
type AuditService interface {
	// VerifyAudit re-hashes the chain of the actor's municipality and names
	// the first entry that does not match.
	VerifyAudit(ctx context.Context) (*AuditVerification, error)
}

// StoredResponse is the response kept for a request sent with an
// Idempotency-Key, replayed when the same request comes again.
type StoredResponse struct {
	Status      int
	ContentType string
	Body        []byte
}

// IdempotencyClaim is a request's Idempotency-Key, claimed by the first
// write transaction of its use case together with the use case's effect, so
// that a claimed key always means the effect happened. The use case keeps
// its reply (Reply of its result) in the transaction that completes it, so
// a retry gets the first response byte for byte, after a crash and on any
// instance. A claim that committed is never released.
type IdempotencyClaim struct {
	MunicipalityID, UserID  int64
	Key, Route, RequestHash string
	// ID is the claim's row once a transaction that inserted it
	// committed (or, Resumed, the earlier attempt's row).
	ID int64
	// Resumed says an earlier attempt claimed the key and left an
	// operation with a provider whose outcome is unknown: the use case
	// continues that operation (with the same provider idempotency key)
	// instead of starting another.
	Resumed bool
	// Reply renders the use case's result as the response to keep; nil
	// when the caller keeps no response (the portal's forms).
	Reply func(result any) (*StoredResponse, error)
	// Kept is the response the use case kept with its effect, set once
	// that transaction committed.
	Kept *StoredResponse
}

// ErrIdempotencyInFlight answers a key whose request is in progress, or
// whose claim has no reply and whose route cannot resume it (409).
var ErrIdempotencyInFlight = Errorf(ECONFLICT, "a request with this Idempotency-Key is in progress or was already carried out: look up the result instead of sending it again")

type idemKey struct{}

// WithIdempotencyClaim returns a context whose first write transaction
// claims c.
func WithIdempotencyClaim(ctx context.Context, c *IdempotencyClaim) context.Context {
	return context.WithValue(ctx, idemKey{}, c)
}

// IdempotencyClaimFrom returns the claim carried by ctx, or nil.
func IdempotencyClaimFrom(ctx context.Context) *IdempotencyClaim {
	c, _ := ctx.Value(idemKey{}).(*IdempotencyClaim)
	return c
}

// AnonymousFormClaim is the one-time id of an anonymous form (the portal's
// registration and enrollment: nobody is signed in, so there is no user to
// hold an IdempotencyClaim). The use case that opens the account claims it
// as the first statement of the transaction that creates the account, so
// the id is claimed exactly when the account exists; a sending of the same
// form that finds it claimed opens nothing (ErrFormSentBefore).
type AnonymousFormClaim struct {
	// Form names the form (its path); Key is its one-time id, random and
	// never trusted for anything but telling two sendings apart (the store
	// keeps its SHA-256).
	Form, Key string
	// Wait bounds how long the claim waits for a sending of the same form
	// whose transaction is still open (PostgreSQL); 0: as long as the
	// request may.
	Wait time.Duration
}

type anonFormKey struct{}

// WithAnonymousFormClaim returns a context whose account-creating use case
// (Register, Enroll) claims c.
func WithAnonymousFormClaim(ctx context.Context, c *AnonymousFormClaim) context.Context {
	return context.WithValue(ctx, anonFormKey{}, c)
}

// AnonymousFormClaimFrom returns the claim carried by ctx, or nil.
func AnonymousFormClaimFrom(ctx context.Context) *AnonymousFormClaim {
	c, _ := ctx.Value(anonFormKey{}).(*AnonymousFormClaim)
	return c
}

// ErrFormSentBefore answers an anonymous form whose id another sending
// claimed (committed), or is claiming still after the claim's Wait (409).
var ErrFormSentBefore = Errorf(ECONFLICT, "this form was already sent")

// IdempotencyStore keeps the responses of POSTs sent with an Idempotency-Key,
// and the claims of the anonymous forms.
type IdempotencyStore interface {
	// LookupIdempotencyKey returns the stored response to replay; or, when
	// the key was claimed and has no response yet (its operation with a
	// provider has no known outcome, or is in flight), the claim's id;
	// or nil and 0 when the key is new (the request runs with an
	// IdempotencyClaim). ECONFLICT when the key was used with another
	// request.
	LookupIdempotencyKey(ctx context.Context, municipalityID, userID int64, key, route, requestHash string) (*StoredResponse, int64, error)
	// FinishIdempotencyKey stores the response of a committed claim whose
	// use case kept none (an error answered after the claim committed).
	// A response already kept is never replaced.
	FinishIdempotencyKey(ctx context.Context, id int64, status int, contentType string, body []byte) error
	// AnonymousFormClaimed says whether a sending of the anonymous form
	// (an AnonymousFormClaim's Form and Key) committed its effect in the
	// municipality.
	AnonymousFormClaimed(ctx context.Context, municipalityID int64, form, key string) (bool, error)
}

// AccessLogEntry is one read of a taxpayer's record by staff.
type AccessLogEntry struct {
	At       time.Time `json:"at" db:"at"`
	Action   string    `json:"action" db:"action"`
	Username string    `json:"username" db:"username"`
	Role     Role      `json:"role" db:"role"`
}

// PrivacyService answers a taxpayer's data-protection requests.
type PrivacyService interface {
	// AccessLog lists who viewed the taxpayer's record (admin or the taxpayer).
	AccessLog(ctx context.Context, taxpayerID int64) ([]AccessLogEntry, error)
	// ExportTaxpayer returns everything held about the taxpayer (admin or the taxpayer).
	ExportTaxpayer(ctx context.Context, taxpayerID int64) (map[string][]map[string]any, error)
}

// WriteStats counts a process's database write transactions (SQLite's
// single writer): how many, how long they waited for the writer, how long
// they held it, and how much of that they waited for another process's
// write lock.
type WriteStats struct {
	Count                      int64
	Waited, Held, OtherProcess time.Duration
	// Retried counts the transactions run once more after the database
	// undid them to resolve a conflict (a deadlock, a serialization
	// failure, SQLite busy).
	Retried int64
	// The connection pool: connections open and in use, and the waits
	// for a free connection (count and total time).
	PoolOpen, PoolInUse int
	PoolWaits           int64
	PoolWaited          time.Duration
}
