package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/auth"
	"fiscald/internal/civil"
	"fiscald/payments"
)

// Enrollment codes (fiscal.IdentityService): an officer issues a one-time
// code for a taxpayer on file; the taxpayer opens a verified account with it.
// Only the SHA-256 of the normalised code is stored.

// claimAttempt counts one attempt for key in the fixed window of period
// that holds tx.Now, in the database (every instance counts into the same
// row), and reports whether it is within max. A new window's first attempt
// also deletes windows older than two days.
func (tx *Tx) claimAttempt(ctx context.Context, key string, period time.Duration, max int) (bool, error) {
	var n int
	err := tx.Get(ctx, &n, `INSERT INTO attempt_counters (counter_key, window_start, attempts) VALUES (?, ?, 1)
		ON CONFLICT (counter_key, window_start) DO UPDATE SET attempts = attempt_counters.attempts + 1 RETURNING attempts`,
		key, tx.Now.Truncate(period))
	if err != nil {
		return false, translate(err, "attempt counter")
	}
	if n == 1 {
		if _, err := tx.Exec(ctx, `DELETE FROM attempt_counters WHERE window_start < ?`, tx.Now.Add(-48*time.Hour)); err != nil {
			return false, translate(err, "attempt counters")
		}
	}
	return n <= max, nil
}

// taxpayerByIdentity returns the id of the taxpayer with the CNP (or, when
// it is empty, the CUI) in the municipality; nil when there is none.
func (db *DB) taxpayerByIdentity(ctx context.Context, municipalityID int64, cnp, cui string) (*int64, error) {
	var id int64
	var err error
	if cnp != "" {
		err = db.get(ctx, &id, `SELECT id FROM taxpayers WHERE municipality_id = ? AND cnp = ?`, municipalityID, cnp)
	} else {
		err = db.get(ctx, &id, `SELECT id FROM taxpayers WHERE municipality_id = ? AND cui = ?`, municipalityID, fiscal.NormalizeCUI(cui))
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(err, "taxpayer")
	}
	return &id, nil
}

// enrollmentCodeDays is the municipality's code lifetime.
func (tx *Tx) enrollmentCodeDays(ctx context.Context, municipalityID int64) (int, error) {
	m, err := tx.muni(ctx, municipalityID)
	if err != nil {
		return 0, err
	}
	return fiscal.EnrollmentCodeDays(m.Settings), nil
}

// issueCode revokes the taxpayer's active code and writes a new one; it
// returns the code (normalised) and its last valid day.
func (tx *Tx) issueCode(ctx context.Context, municipalityID, taxpayerID int64, days int) (string, civil.Date, int64, error) {
	code, err := auth.NewEnrollmentCode()
	if err != nil {
		return "", civil.Date{}, 0, fiscal.Internal(err, "enrollment code")
	}
	expires := payments.LocalDate(tx.Now).AddDays(days)
	if _, err := tx.Exec(ctx, `UPDATE enrollment_codes SET revoked_at = ? WHERE taxpayer_id = ? AND used_at IS NULL AND revoked_at IS NULL`, tx.Now, taxpayerID); err != nil {
		return "", civil.Date{}, 0, translate(err, "enrollment code")
	}
	var issuer *int64
	if a := tx.Actor; a != nil && !a.System {
		issuer = &a.UserID
	}
	id, err := tx.Insert(ctx, `INSERT INTO enrollment_codes (municipality_id, taxpayer_id, code_hash, expires_on, issued_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		municipalityID, taxpayerID, auth.HashToken(code), expires, issuer, tx.Now)
	if isUniqueViolation(err) {
		return "", civil.Date{}, 0, fiscal.Errorf(fiscal.ECONFLICT, "another code was issued for this taxpayer at the same time; try again")
	}
	if err != nil {
		return "", civil.Date{}, 0, translate(err, "enrollment code")
	}
	return code, expires, id, nil
}

// IssueEnrollmentCode issues a one-time code for a taxpayer on file
// (officer, admin), revoking the earlier one; audited without the code.
func (db *DB) IssueEnrollmentCode(ctx context.Context, taxpayerID int64) (*fiscal.EnrollmentCode, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleOfficer, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var out *fiscal.EnrollmentCode
	err = db.InTx(ctx, func(tx *Tx) error {
		var tp struct {
			ID       int64 `db:"id"`
			Accounts int   `db:"accounts"`
		}
		if err := tx.Get(ctx, &tp, `SELECT t.id, (SELECT COUNT(*) FROM users u WHERE u.taxpayer_id = t.id AND u.disabled = ?) AS accounts
			FROM taxpayers t WHERE t.id = ? AND t.municipality_id = ?`, false, taxpayerID, a.MunicipalityID); err != nil {
			return translate(err, "taxpayer")
		}
		if tp.Accounts > 0 {
			return fiscal.Errorf(fiscal.ECONFLICT, "this taxpayer already has an online account")
		}
		days, err := tx.enrollmentCodeDays(ctx, a.MunicipalityID)
		if err != nil {
			return err
		}
		code, expires, id, err := tx.issueCode(ctx, a.MunicipalityID, taxpayerID, days)
		if err != nil {
			return err
		}
		out = &fiscal.EnrollmentCode{Code: fiscal.FormatEnrollmentCode(code), ExpiresOn: expires, TaxpayerID: taxpayerID}
		return tx.Audit(ctx, a.MunicipalityID, "enrollment_code.issue", "taxpayer", taxpayerID, nil,
			map[string]any{"code_id": id, "expires_on": expires})
	})
	return out, err
}

// IssueEnrollmentCodes issues codes, in one transaction with one audit
// entry, for up to limit individuals of the municipality with no enabled
// account and an id above after, in id order (the bulk run for the printer,
// fiscald enroll-codes; system or admin). Each replaces the taxpayer's
// earlier active code.
func (db *DB) IssueEnrollmentCodes(ctx context.Context, municipalityID, after int64, limit int) ([]fiscal.IssuedCode, error) {
	if _, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin); err != nil {
		return nil, err
	}
	var out []fiscal.IssuedCode
	err := db.InTx(ctx, func(tx *Tx) error {
		out = nil
		var rows []struct {
			ID      int64  `db:"id"`
			Name    string `db:"name"`
			Address string `db:"address"`
		}
		if err := tx.Select(ctx, &rows, `SELECT t.id, t.name, t.address FROM taxpayers t
			WHERE t.municipality_id = ? AND t.id > ? AND t.kind = 'individual'
			AND NOT EXISTS (SELECT 1 FROM users u WHERE u.taxpayer_id = t.id AND u.disabled = ?)
			ORDER BY t.id LIMIT ?`, municipalityID, after, false, limit); err != nil {
			return translate(err, "taxpayers")
		}
		if len(rows) == 0 {
			return nil
		}
		days, err := tx.enrollmentCodeDays(ctx, municipalityID)
		if err != nil {
			return err
		}
		for _, r := range rows {
			code, expires, _, err := tx.issueCode(ctx, municipalityID, r.ID, days)
			if err != nil {
				return err
			}
			out = append(out, fiscal.IssuedCode{TaxpayerID: r.ID, Name: r.Name, Address: r.Address, Code: fiscal.FormatEnrollmentCode(code), ExpiresOn: expires})
		}
		return tx.Audit(ctx, municipalityID, "enrollment_code.issue_batch", "taxpayer", strconv.FormatInt(rows[0].ID, 10)+"-"+strconv.FormatInt(rows[len(rows)-1].ID, 10), nil,
			map[string]any{"codes": len(rows), "first_taxpayer_id": rows[0].ID, "last_taxpayer_id": rows[len(rows)-1].ID, "expires_on": out[0].ExpiresOn})
	})
	return out, err
}

// codeRow is an enrollment code as stored.
type codeRow struct {
	ID         int64      `db:"id"`
	TaxpayerID int64      `db:"taxpayer_id"`
	ExpiresOn  civil.Date `db:"expires_on"`
	Used       bool       `db:"used"`
}

// Enroll opens a verified account with a code (fiscal.IdentityService).
// The attempt is counted first, in its own transaction that commits
// whatever follows (the count must survive the refusal). A refused code
// changes nothing else. The form's one-time id, when ctx carries one, is
// claimed by the account's transaction, not by the count's (formclaims.go).
func (db *DB) Enroll(ctx context.Context, municipalityID int64, e *fiscal.Enrollment, address string) (*fiscal.User, *fiscal.Taxpayer, error) {
	tpID, err := db.taxpayerByIdentity(ctx, municipalityID, e.CNP, e.CUI)
	if err != nil {
		return nil, nil, err
	}
	within := true
	err = db.InTx(ctx, func(tx *Tx) error {
		ok, err := tx.claimAttempt(ctx, "enroll:addr:"+strconv.FormatInt(municipalityID, 10)+":"+address, fiscal.EnrollAddressWindow, fiscal.EnrollAttemptsPerAddress)
		if err != nil || !ok {
			within = false
			return err
		}
		if tpID != nil {
			ok, err = tx.claimAttempt(ctx, "enroll:taxpayer:"+strconv.FormatInt(*tpID, 10), fiscal.EnrollTaxpayerWindow, fiscal.EnrollAttemptsPerTaxpayer)
			within = ok
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if !within {
		return nil, nil, fiscal.Errorf(fiscal.ERATELIMIT, "too many enrollment attempts; try again later, or ask the tax department")
	}
	if err := e.Validate(); err != nil {
		return nil, nil, err
	}
	hash := auth.HashToken(e.Code)
	today := payments.LocalDate(db.clock.Now())
	var c codeRow
	err = db.get(ctx, &c, `SELECT id, taxpayer_id, expires_on, used_at IS NOT NULL OR revoked_at IS NOT NULL AS used FROM enrollment_codes WHERE code_hash = ? AND municipality_id = ?`,
		hash, municipalityID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (tpID == nil || c.TaxpayerID != *tpID || c.Used || c.ExpiresOn.Before(today))) {
		return nil, nil, fiscal.ErrEnrollmentCode()
	}
	if err != nil {
		return nil, nil, translate(err, "enrollment code")
	}
	pw, err := auth.HashPassword(e.Password)
	if err != nil {
		return nil, nil, fiscal.Internal(err, "hash password")
	}
	var u *fiscal.User
	var tp fiscal.Taxpayer
	err = db.InTx(ctx, func(tx *Tx) error {
		if err := tx.claimAnonymousForm(ctx, municipalityID); err != nil {
			return err
		}
		if err := tx.Get(ctx, &tp, `SELECT `+taxpayerColumns+` FROM taxpayers WHERE id = ? AND municipality_id = ?`, c.TaxpayerID, municipalityID); err != nil {
			return translate(err, "taxpayer")
		}
		var n int
		if err := tx.Get(ctx, &n, `SELECT COUNT(*) FROM users WHERE municipality_id = ? AND lower(username) = ?`, municipalityID, foldUsername(e.Username)); err != nil {
			return translate(err, "user")
		}
		if n > 0 {
			return &fiscal.Error{Code: fiscal.ECONFLICT, Message: "username is taken", Fields: []fiscal.FieldError{{Field: "username", Message: "already taken"}}}
		}
		if err := tx.Get(ctx, &n, `SELECT COUNT(*) FROM users WHERE taxpayer_id = ? AND disabled = ?`, tp.ID, false); err != nil {
			return translate(err, "user")
		}
		if n > 0 {
			return fiscal.Errorf(fiscal.ECONFLICT, "this taxpayer already has an online account; sign in, or ask the tax department")
		}
		u = &fiscal.User{MunicipalityID: municipalityID, Username: e.Username, Role: fiscal.RoleTaxpayer, TaxpayerID: &tp.ID, Email: e.Email,
			FullName: tp.Name, Assurance: fiscal.AssuranceVerified, CreatedAt: tx.Now}
		var err error
		u.ID, err = tx.Insert(ctx, `INSERT INTO users (municipality_id, username, password_hash, role, taxpayer_id, email, full_name, assurance, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			municipalityID, u.Username, pw, u.Role, u.TaxpayerID, u.Email, u.FullName, u.Assurance, tx.Now)
		if err != nil {
			return translate(err, "user "+u.Username)
		}
		// The code is consumed only here, guarded again: a concurrent
		// enrollment with the same code, or a new code issued meanwhile,
		// leaves this one without a row and undoes the account.
		res, err := tx.Exec(ctx, `UPDATE enrollment_codes SET used_at = ?, used_by = ? WHERE id = ? AND taxpayer_id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_on >= ?`,
			tx.Now, u.ID, c.ID, tp.ID, today)
		if err != nil {
			return translate(err, "enrollment code")
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fiscal.ErrEnrollmentCode()
		}
		return tx.Audit(ctx, municipalityID, "user.enroll", "user", u.ID, nil, map[string]any{"user": u, "taxpayer_id": tp.ID, "code_id": c.ID})
	})
	if err != nil {
		return nil, nil, err
	}
	return u, &tp, nil
}
