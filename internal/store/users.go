package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/auth"
	"fiscald/internal/civil"
)

// SessionTTL is how long a bearer token lives.
const SessionTTL = 12 * time.Hour

const userColumns = `id, municipality_id, username, role, taxpayer_id, email, full_name, assurance, disabled, created_at`

// Register creates a taxpayer and its user in one transaction, which claims
// the form's one-time id first when ctx carries one (formclaims.go).
func (db *DB) Register(ctx context.Context, municipalityID int64, r *fiscal.Registration) (*fiscal.User, *fiscal.Taxpayer, error) {
	if fields := r.Validate(); len(fields) > 0 {
		return nil, nil, fiscal.Invalid(fields...)
	}
	hash, err := auth.HashPassword(r.Password)
	if err != nil {
		return nil, nil, fiscal.Internal(err, "hash password")
	}
	var u *fiscal.User
	var tp *fiscal.Taxpayer
	err = db.InTx(ctx, func(tx *Tx) error {
		if err := tx.claimAnonymousForm(ctx, municipalityID); err != nil {
			return err
		}
		var taken int
		if err := tx.Get(ctx, &taken, `SELECT COUNT(*) FROM users WHERE municipality_id = ? AND lower(username) = ?`, municipalityID, foldUsername(r.Username)); err != nil {
			return translate(err, "user")
		}
		if taken > 0 {
			return &fiscal.Error{Code: fiscal.ECONFLICT, Message: "username is taken", Fields: []fiscal.FieldError{{Field: "username", Message: "already taken"}}}
		}
		if r.Taxpayer.Email == "" {
			r.Taxpayer.Email = r.Email
		}
		tp, err = insertTaxpayer(ctx, tx, municipalityID, &r.Taxpayer, "taxpayer.")
		if e := (*fiscal.Error)(nil); errors.As(err, &e) && e.Code == fiscal.ECONFLICT && len(e.Fields) == 1 {
			// The CNP or CUI is on file: say how its holder opens an account.
			return fiscal.AlreadyRegistered(e.Fields[0].Field, e)
		}
		if err != nil {
			return err
		}
		u = &fiscal.User{MunicipalityID: municipalityID, Username: r.Username, Role: fiscal.RoleTaxpayer, TaxpayerID: &tp.ID, Email: r.Email, FullName: tp.Name, CreatedAt: tx.Now}
		// The account created its record: it sees it (AssuranceSelf).
		u.ID, err = tx.Insert(ctx, `INSERT INTO users (municipality_id, username, password_hash, role, taxpayer_id, email, full_name, created_at, assurance) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			municipalityID, u.Username, hash, u.Role, u.TaxpayerID, u.Email, u.FullName, tx.Now, fiscal.AssuranceSelf)
		if err != nil {
			return translate(err, "user "+u.Username)
		}
		return tx.Audit(ctx, municipalityID, "user.register", "user", u.ID, nil, u)
	})
	if err != nil {
		return nil, nil, err
	}
	return u, tp, nil
}

// CreateStaff creates a staff account (from the command line or by an admin).
func (db *DB) CreateStaff(ctx context.Context, municipalityID int64, username, password string, role fiscal.Role, fullName string) (*fiscal.User, error) {
	if !role.IsStaff() {
		return nil, fiscal.InvalidField("role", "must be one of officer, signer, accountant, admin")
	}
	if len(username) < 3 || len(username) > 64 {
		return nil, fiscal.InvalidField("username", "must have 3 to 64 characters")
	}
	for i := 0; i < len(username); i++ {
		if username[i] <= ' ' || username[i] > '~' {
			return nil, fiscal.InvalidField("username", "contains characters that are not allowed")
		}
	}
	if err := fiscal.CheckPassword(password, username); err != nil {
		return nil, err
	}
	if a := fiscal.ActorFrom(ctx); a != nil && !a.Has(fiscal.RoleAdmin) {
		return nil, fiscal.Errorf(fiscal.EFORBIDDEN, "only an admin creates staff accounts")
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, fiscal.Internal(err, "hash password")
	}
	u := &fiscal.User{MunicipalityID: municipalityID, Username: username, Role: role, FullName: fullName, Assurance: fiscal.AssurancePassword}
	err = db.InTx(ctx, func(tx *Tx) error {
		u.CreatedAt = tx.Now
		u.ID, err = tx.Insert(ctx, `INSERT INTO users (municipality_id, username, password_hash, role, full_name, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			municipalityID, username, hash, role, fullName, tx.Now)
		if err != nil {
			return translate(err, "user "+username)
		}
		return tx.Audit(ctx, municipalityID, "user.create", "user", u.ID, nil, u)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// foldUsername is the form usernames are compared in: lower case, as the
// unique index users_username_folded (migration 0015) folds them. Usernames
// are printable ASCII, which SQLite's and PostgreSQL's lower() and Go fold
// alike.
func foldUsername(u string) string { return strings.ToLower(u) }

// Login checks the credentials and opens a session; the username is compared
// case-insensitively (foldUsername). An unknown user and a
// wrong password give the same error after the same work.
func (db *DB) Login(ctx context.Context, municipalityID int64, username, password string) (*fiscal.Session, error) {
	var row struct {
		fiscal.User
		PasswordHash string  `db:"password_hash"`
		OIDCSubject  *string `db:"oidc_subject"`
	}
	err := db.db.GetContext(ctx, &row, db.db.Rebind(`SELECT `+userColumns+`, password_hash, oidc_subject FROM users WHERE municipality_id = ? AND lower(username) = ?`), municipalityID, foldUsername(username))
	bad := fiscal.Errorf(fiscal.EUNAUTHORIZED, "wrong username or password")
	if err != nil {
		if e := translate(err, "user"); fiscal.ErrorCode(e) != fiscal.ENOTFOUND {
			return nil, e
		}
		auth.BurnTime(password)
		return nil, bad
	}
	if row.OIDCSubject != nil {
		// An account that came from the identity provider has no password
		// (its hash is unusable anyway): the same answer after the same work.
		auth.BurnTime(password)
		return nil, bad
	}
	ok, err := auth.CheckPassword(row.PasswordHash, password)
	if err != nil || !ok || row.Disabled {
		return nil, bad
	}
	token, err := auth.NewToken()
	if err != nil {
		return nil, fiscal.Internal(err, "token")
	}
	s := &fiscal.Session{Token: token, User: &row.User}
	err = db.InTx(ctx, func(tx *Tx) error {
		s.ExpiresAt = tx.Now.Add(SessionTTL)
		_, err := tx.Exec(ctx, `INSERT INTO sessions (municipality_id, user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			municipalityID, row.ID, auth.HashToken(token), tx.Now, s.ExpiresAt)
		return translate(err, "session")
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// SignInThrottled writes the audit entry of a username and address pair
// throttled after repeated wrong passwords (fiscal.SignInAudit); the entity
// is the username tried, which may name no account.
func (db *DB) SignInThrottled(ctx context.Context, municipalityID int64, t fiscal.SignInThrottle) error {
	return db.InTx(ctx, func(tx *Tx) error {
		return tx.Audit(ctx, municipalityID, "user.signin_throttled", "user", t.Username, nil, t)
	})
}

// Authenticate returns the actor of a bearer token. A token read in the last
// 30 seconds is answered from memory (sessionCache) after one look at its
// session and user by primary key (revalidate): a session revoked, a user
// disabled or given another role by any instance is refused (or re-read) on
// the very next request, here as everywhere.
func (db *DB) Authenticate(ctx context.Context, token string) (*fiscal.Actor, error) {
	hash := auth.HashToken(token)
	now := db.clock.Now()
	if a, sid, ok := db.sessions.get(hash, now); ok {
		var live int
		var err error
		if a.Representation == 0 {
			err = db.get(ctx, &live, revalidateQuery, sid, false, a.Role, a.Assurance)
		} else {
			err = db.get(ctx, &live, revalidateActingQuery, sid, false, a.Role, a.Assurance, a.Representation, fiscal.LocalDate(now))
		}
		if err != nil {
			return nil, translate(err, "session")
		}
		if live == 1 {
			return a, nil
		}
		db.sessions.drop(hash) // read again below: refused, or the new role
	}
	var row struct {
		SessionID      int64      `db:"id"`
		UserID         int64      `db:"user_id"`
		Username       string     `db:"username"`
		MunicipalityID int64      `db:"municipality_id"`
		Role           string     `db:"role"`
		TaxpayerID     *int64     `db:"taxpayer_id"`
		ExpiresAt      time.Time  `db:"expires_at"`
		RevokedAt      *time.Time `db:"revoked_at"`
		Disabled       bool       `db:"disabled"`
		Assurance      string     `db:"assurance"`
		// The link the session acts through, if any (representation.go).
		RepresentationID *int64      `db:"representation_id"`
		RepUser          *int64      `db:"rep_user"`
		RepTaxpayer      *int64      `db:"rep_taxpayer"`
		RepRevoked       *time.Time  `db:"rep_revoked"`
		RepValidUntil    *civil.Date `db:"rep_valid_until"`
	}
	err := db.db.GetContext(ctx, &row, db.db.Rebind(`SELECT s.id, s.user_id, u.username, s.municipality_id, u.role, u.taxpayer_id, s.expires_at, s.revoked_at, u.disabled, u.assurance,
		s.representation_id, r.user_id AS rep_user, r.taxpayer_id AS rep_taxpayer, r.revoked_at AS rep_revoked, r.valid_until AS rep_valid_until
		FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN representations r ON r.id = s.representation_id WHERE s.token_hash = ?`), hash)
	if err != nil {
		if e := translate(err, "session"); fiscal.ErrorCode(e) != fiscal.ENOTFOUND {
			return nil, e
		}
		return nil, fiscal.Errorf(fiscal.EUNAUTHORIZED, "invalid or expired token")
	}
	if row.RevokedAt != nil || !now.Before(row.ExpiresAt) || row.Disabled {
		return nil, fiscal.Errorf(fiscal.EUNAUTHORIZED, "invalid or expired token")
	}
	a := &fiscal.Actor{UserID: row.UserID, Username: row.Username, MunicipalityID: row.MunicipalityID, Role: fiscal.Role(row.Role), TaxpayerID: row.TaxpayerID,
		Assurance: fiscal.Assurance(row.Assurance)}
	if row.RepresentationID != nil {
		// Acting for a company: only through a link of this account in force
		// today, and only while the account is a verified person's.
		if row.RepUser == nil || *row.RepUser != row.UserID || a.Role != fiscal.RoleTaxpayer || a.Assurance != fiscal.AssuranceVerified ||
			!fiscal.ActiveOn(row.RepRevoked != nil, row.RepValidUntil, fiscal.LocalDate(now)) {
			// Not cached: read afresh until the person chooses again.
			a.RepresentationEnded = true
			return a, nil
		}
		a.Self, a.TaxpayerID, a.Representation = row.TaxpayerID, row.RepTaxpayer, *row.RepresentationID
	}
	db.sessions.put(hash, row.SessionID, a, now, row.ExpiresAt)
	return a, nil
}

// revalidateQuery is 1 while a cached session is still good: not revoked,
// its user enabled and still of the cached role and assurance (two
// primary-key look-ups).
const revalidateQuery = `SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id
	WHERE s.id = ? AND s.revoked_at IS NULL AND u.disabled = ? AND u.role = ? AND u.assurance = ? AND s.representation_id IS NULL`

// revalidateActingQuery is revalidateQuery for a session acting for a
// company: the session still acts through the same link, which is in force
// today (not revoked, not expired), so a revocation by any instance is
// honoured on the next request.
const revalidateActingQuery = `SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id JOIN representations r ON r.id = s.representation_id
	WHERE s.id = ? AND s.revoked_at IS NULL AND u.disabled = ? AND u.role = ? AND u.assurance = ? AND s.representation_id = ?
	AND r.revoked_at IS NULL AND (r.valid_until IS NULL OR r.valid_until >= ?)`

// Logout revokes the token; revoking an unknown token is not an error.
func (db *DB) Logout(ctx context.Context, token string) error {
	hash := auth.HashToken(token)
	db.sessions.drop(hash)
	// Dropped again after the commit: a request authenticated meanwhile may
	// have cached the session before it was revoked.
	defer db.sessions.drop(hash)
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL`, tx.Now, hash)
		return translate(err, "session")
	})
}

// UserByID returns a user of the actor's municipality; a taxpayer may read
// only their own account.
func (db *DB) UserByID(ctx context.Context, id int64) (*fiscal.User, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsStaff() && a.UserID != id {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "user not found")
	}
	var u fiscal.User
	err = db.db.GetContext(ctx, &u, db.db.Rebind(`SELECT `+userColumns+` FROM users WHERE id = ? AND municipality_id = ?`), id, a.MunicipalityID)
	if err != nil {
		return nil, translate(err, "user")
	}
	return &u, nil
}

// StaffUsers lists the staff accounts of the actor's municipality by
// username (fiscal.StaffDirectory).
func (db *DB) StaffUsers(ctx context.Context) ([]*fiscal.User, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsStaff() {
		return nil, fiscal.Errorf(fiscal.EFORBIDDEN, "staff only")
	}
	out := []*fiscal.User{}
	err = db.db.SelectContext(ctx, &out, db.db.Rebind(`SELECT `+userColumns+` FROM users WHERE municipality_id = ? AND role <> ? ORDER BY username`),
		a.MunicipalityID, fiscal.RoleTaxpayer)
	return out, translate(err, "users")
}

// UserByUsername returns the account of the actor's municipality with this
// username (case-insensitive), for the system and staff: the demo's
// seeding acts as its named accounts (internal/demo). ENOTFOUND when there
// is none.
func (db *DB) UserByUsername(ctx context.Context, username string) (*fiscal.User, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.IsStaff() {
		return nil, fiscal.Errorf(fiscal.EFORBIDDEN, "staff only")
	}
	var u fiscal.User
	err = db.reads().GetContext(ctx, &u, db.db.Rebind(`SELECT `+userColumns+` FROM users WHERE municipality_id = ? AND lower(username) = ?`),
		a.MunicipalityID, foldUsername(username))
	if err != nil {
		return nil, translate(err, "user")
	}
	return &u, nil
}

// HasTaxpayerAccount reports whether the taxpayer has an enabled account.
func (db *DB) HasTaxpayerAccount(ctx context.Context, taxpayerID int64) (bool, error) {
	var n int
	err := db.db.GetContext(ctx, &n, db.db.Rebind(`SELECT COUNT(*) FROM users WHERE taxpayer_id = ? AND disabled = ?`), taxpayerID, false)
	return n > 0, translate(err, "user")
}
