package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/auth"
)

// Signing in with the identity provider (ROeID; fiscal.IdentityStore): a
// sign-in begun and kept for any instance to finish (BeginOIDCLogin),
// claimed once by its callback (ClaimOIDCLogin), and the verified person's
// session (SignInVerified: their account, else one linked to the
// registry's taxpayer with their CNP, else a new taxpayer and account).

// unusablePassword is the password hash of an account that came from the
// identity provider: no argon2id hash, so no password ever matches it (and
// Login refuses such accounts before looking).
const unusablePassword = "!oidc"

// BeginOIDCLogin keeps a sign-in begun at the provider for ttl (its state's
// hash, nonce and PKCE verifier), so that any instance can finish it, and
// sweeps the expired ones.
func (db *DB) BeginOIDCLogin(ctx context.Context, municipalityID int64, l *fiscal.OIDCLogin, ttl time.Duration) error {
	if len(l.StateHash) != 64 || l.Nonce == "" || l.Verifier == "" {
		return fiscal.Errorf(fiscal.EINVALID, "incomplete sign-in")
	}
	return db.InTx(ctx, func(tx *Tx) error {
		l.CreatedAt, l.ExpiresAt = tx.Now, tx.Now.Add(ttl)
		if _, err := tx.Exec(ctx, `DELETE FROM oidc_logins WHERE expires_at < ?`, tx.Now); err != nil {
			return translate(err, "sign-in")
		}
		_, err := tx.Exec(ctx, `INSERT INTO oidc_logins (state_hash, municipality_id, nonce, verifier, next, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			l.StateHash, municipalityID, l.Nonce, l.Verifier, l.Next, l.CreatedAt, l.ExpiresAt)
		return translate(err, "sign-in")
	})
}

// ClaimOIDCLogin deletes the sign-in of the state's hash and returns it:
// one statement, so of two callbacks with one state (a replay, two
// instances) one gets it and the other ENOTFOUND. An expired one is deleted
// and not returned.
func (db *DB) ClaimOIDCLogin(ctx context.Context, municipalityID int64, stateHash string) (*fiscal.OIDCLogin, error) {
	var l fiscal.OIDCLogin
	var now time.Time
	err := db.InTx(ctx, func(tx *Tx) error {
		now = tx.Now
		return tx.Get(ctx, &l, `DELETE FROM oidc_logins WHERE state_hash = ? AND municipality_id = ?
			RETURNING state_hash, nonce, verifier, next, created_at, expires_at`, stateHash, municipalityID)
	})
	if err != nil {
		return nil, translate(err, "sign-in")
	}
	if !now.Before(l.ExpiresAt) {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "sign-in not found")
	}
	return &l, nil
}

// SignInVerified opens a session for a person the identity provider
// verified, in one transaction: the account of the provider's person
// (issuer, subject), else a new account linked to the registry's taxpayer
// with the CNP, else a new taxpayer and account. The record's name and
// address and the account's name follow the provider's claims at every
// sign-in. Linking a record to a verified person takes the record from the
// password accounts that created it ('self' becomes 'password'): whoever
// registered that CNP first keeps their requests, not the record.
func (db *DB) SignInVerified(ctx context.Context, municipalityID int64, id *fiscal.VerifiedIdentity) (*fiscal.Session, error) {
	if id.Issuer == "" || id.Subject == "" {
		return nil, fiscal.Errorf(fiscal.EUNAUTHORIZED, "no subject")
	}
	if reason := fiscal.CheckCNP(id.CNP); reason != "" {
		return nil, fiscal.InvalidField("cnp", reason)
	}
	token, err := auth.NewToken()
	if err != nil {
		return nil, fiscal.Internal(err, "token")
	}
	var s *fiscal.Session
	err = db.InTx(ctx, func(tx *Tx) error {
		var u struct {
			fiscal.User
			Disabled bool `db:"disabled"`
		}
		err := tx.Get(ctx, &u, `SELECT `+userColumns+`, disabled FROM users WHERE municipality_id = ? AND oidc_issuer = ? AND oidc_subject = ?`,
			municipalityID, id.Issuer, id.Subject)
		found := err == nil
		if err != nil && fiscal.ErrorCode(translate(err, "user")) != fiscal.ENOTFOUND {
			return translate(err, "user")
		}
		var tp fiscal.Taxpayer
		err = tx.Get(ctx, &tp, `SELECT `+taxpayerColumns+` FROM taxpayers WHERE municipality_id = ? AND cnp = ?`, municipalityID, id.CNP)
		tpFound := err == nil
		if err != nil && fiscal.ErrorCode(translate(err, "taxpayer")) != fiscal.ENOTFOUND {
			return translate(err, "taxpayer")
		}
		name, address := strings.TrimSpace(id.Name()), strings.TrimSpace(id.Address)
		switch {
		case found && u.Disabled:
			return &fiscal.Error{Code: fiscal.EUNAUTHORIZED, Message: "this account is disabled",
				Fields: []fiscal.FieldError{{Field: "account", Message: "disabled"}}}
		case found && (!tpFound || u.TaxpayerID == nil || *u.TaxpayerID != tp.ID):
			// The provider's person now carries another CNP than the one
			// their account was linked by: a person for an officer.
			return fiscal.Errorf(fiscal.ECONFLICT, "the identity provider's CNP for this person differs from the one of their account")
		case !tpFound:
			if len([]rune(name)) < 2 {
				return fiscal.InvalidField("nume", "the identity provider gave no name")
			}
			if len([]rune(address)) < 3 {
				address = "—" // the registry requires one; the officer completes it
			}
			in := &fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: id.CNP, Name: name, Address: address, Email: id.Email}
			t, err := insertTaxpayer(ctx, tx, municipalityID, in, "")
			if err != nil {
				return err
			}
			tp = *t
		default:
			// Claims refreshed: the provider's name and address are the
			// person's current ones.
			if (name != "" && name != tp.Name) || (len([]rune(address)) >= 3 && address != tp.Address) {
				before := tp
				if name != "" {
					tp.Name = name
				}
				if len([]rune(address)) >= 3 {
					tp.Address = address
				}
				tp.UpdatedAt, tp.Version = tx.Now, tp.Version+1
				if _, err := tx.Exec(ctx, `UPDATE taxpayers SET name = ?, address = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
					tp.Name, tp.Address, tx.Now, tp.ID); err != nil {
					return translate(err, "taxpayer")
				}
				if err := tx.Audit(ctx, municipalityID, "taxpayer.oidc_claims", "taxpayer", tp.ID, before, tp); err != nil {
					return err
				}
			}
		}
		if !found {
			u.User = fiscal.User{MunicipalityID: municipalityID, Username: oidcUsername(id), Role: fiscal.RoleTaxpayer, TaxpayerID: &tp.ID,
				Email: id.Email, FullName: tp.Name, CreatedAt: tx.Now}
			u.ID, err = tx.Insert(ctx, `INSERT INTO users (municipality_id, username, password_hash, role, taxpayer_id, email, full_name, created_at,
				assurance, oidc_issuer, oidc_subject, oidc_claims_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				municipalityID, u.Username, unusablePassword, u.Role, u.TaxpayerID, u.Email, u.FullName, tx.Now,
				fiscal.AssuranceVerified, id.Issuer, id.Subject, tx.Now)
			if err != nil {
				return translate(err, "user")
			}
			if err := tx.Audit(ctx, municipalityID, "user.oidc_link", "user", u.ID, nil, map[string]any{
				"taxpayer_id": tp.ID, "issuer": id.Issuer, "subject": id.Subject, "new_taxpayer": !tpFound}); err != nil {
				return err
			}
			res, err := tx.Exec(ctx, `UPDATE users SET assurance = ? WHERE municipality_id = ? AND taxpayer_id = ? AND assurance = ? AND oidc_subject IS NULL`,
				fiscal.AssurancePassword, municipalityID, tp.ID, fiscal.AssuranceSelf)
			if err != nil {
				return translate(err, "user")
			}
			if n, _ := res.RowsAffected(); n > 0 {
				if err := tx.Audit(ctx, municipalityID, "user.assurance_lowered", "taxpayer", tp.ID, nil, map[string]any{"accounts": n}); err != nil {
					return err
				}
			}
		} else if _, err := tx.Exec(ctx, `UPDATE users SET full_name = ?, email = CASE WHEN ? = '' THEN email ELSE ? END, oidc_claims_at = ? WHERE id = ?`,
			tp.Name, id.Email, id.Email, tx.Now, u.ID); err != nil {
			return translate(err, "user")
		}
		u.FullName = tp.Name
		s = &fiscal.Session{Token: token, User: &u.User, ExpiresAt: tx.Now.Add(SessionTTL)}
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (municipality_id, user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			municipalityID, u.ID, auth.HashToken(token), tx.Now, s.ExpiresAt); err != nil {
			return translate(err, "session")
		}
		return tx.Audit(ctx, municipalityID, "user.oidc_signin", "user", u.ID, nil, map[string]any{"issuer": id.Issuer, "subject": id.Subject})
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// oidcUsername is the username of an account made for the provider's
// person: printable, stable for the person, and never a password login
// (Login refuses accounts with a subject).
func oidcUsername(id *fiscal.VerifiedIdentity) string {
	h := sha256.Sum256([]byte(id.Issuer + "\x00" + id.Subject))
	return "roeid-" + hex.EncodeToString(h[:8])
}
