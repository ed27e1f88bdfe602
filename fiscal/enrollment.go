package fiscal

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"fiscald/internal/civil"
)

// EnrollmentCodeAlphabet is Crockford's base 32: no I, L, O or U, so a
// printed code cannot be misread; NormalizeEnrollmentCode maps the look-alikes.
const EnrollmentCodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// EnrollmentCodeLen is the number of characters of a code: 16 of base 32,
// 80 random bits, printed in four groups of four ("7KQ2-M9XD-...").
const EnrollmentCodeLen = 16

// DefaultEnrollmentCodeDays is how long a code stays valid when the
// municipality's settings name no "enrollment_code_days".
const DefaultEnrollmentCodeDays = 90

// The enrollment's attempt limits, counted in the database so that every
// instance counts into the same rows: per client address and per taxpayer
// (the CNP or CUI typed), whatever the outcome.
const (
	EnrollAttemptsPerAddress  = 20
	EnrollAddressWindow       = time.Hour
	EnrollAttemptsPerTaxpayer = 5
	EnrollTaxpayerWindow      = 24 * time.Hour
)

// EnrollmentCode is a one-time code as issued: shown (or printed) once,
// stored only as a hash.
type EnrollmentCode struct {
	Code       string     `json:"code"`
	ExpiresOn  civil.Date `json:"expires_on"`
	TaxpayerID int64      `json:"-"`
}

// IssuedCode is a code issued by the bulk run for the printer.
type IssuedCode struct {
	TaxpayerID int64
	Name       string
	Address    string
	Code       string
	ExpiresOn  civil.Date
}

// Enrollment is a taxpayer's request to open an account with a code.
type Enrollment struct {
	Code     string `json:"code" validate:"required,max=40"`
	CNP      string `json:"cnp,omitempty" validate:"required_without=CUI,excluded_with=CUI,max=13"`
	CUI      string `json:"cui,omitempty" validate:"required_without=CNP,max=12"`
	Username string `json:"username" validate:"required,min=3,max=64,printascii,excludesall= "`
	Password string `json:"password" validate:"required,min=10,max=256"`
	Email    string `json:"email" validate:"required,email,max=200"`
}

// Validate applies the rules struct tags cannot express: the CNP's or CUI's
// check digit, the code's alphabet and length, the password rule. It
// normalises the code and the CUI.
func (e *Enrollment) Validate() error {
	var fields []FieldError
	if e.CNP != "" {
		if r := CheckCNP(e.CNP); r != "" {
			fields = append(fields, FieldError{Field: "cnp", Message: "invalid CNP: " + r})
		}
	} else {
		if r := CheckCUI(e.CUI); r != "" {
			fields = append(fields, FieldError{Field: "cui", Message: "invalid CUI: " + r})
		}
		e.CUI = NormalizeCUI(e.CUI)
	}
	if c, ok := NormalizeEnrollmentCode(e.Code); ok {
		e.Code = c
	} else {
		fields = append(fields, FieldError{Field: "code", Message: "must be the 16 letters and digits of the code you received"})
	}
	fields = append(fields, fieldsOf(CheckPassword(e.Password, e.Username, e.Email, e.CNP, e.CUI))...)
	if len(fields) > 0 {
		return Invalid(fields...)
	}
	return nil
}

// NormalizeEnrollmentCode returns a code as stored (hashed): upper case,
// without spaces and dashes, O read as 0 and I, L as 1. ok is false when it
// is not EnrollmentCodeLen characters of EnrollmentCodeAlphabet.
func NormalizeEnrollmentCode(s string) (code string, ok bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch r {
		case ' ', '-', '\t':
			continue
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 127 || !strings.ContainsRune(EnrollmentCodeAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != EnrollmentCodeLen {
		return "", false
	}
	return b.String(), true
}

// FormatEnrollmentCode prints a normalised code in groups of four.
func FormatEnrollmentCode(code string) string {
	var parts []string
	for i := 0; i < len(code); i += 4 {
		parts = append(parts, code[i:min(i+4, len(code))])
	}
	return strings.Join(parts, "-")
}

// EnrollmentCodeDays reads settings "enrollment_code_days" (1 to 400),
// DefaultEnrollmentCodeDays otherwise.
func EnrollmentCodeDays(settings string) int {
	var s struct {
		Days int `json:"enrollment_code_days"`
	}
	if settings != "" && json.Unmarshal([]byte(settings), &s) == nil && s.Days >= 1 && s.Days <= 400 {
		return s.Days
	}
	return DefaultEnrollmentCodeDays
}

// ErrEnrollmentCode is the one answer to a code that is wrong, used,
// expired, revoked or issued for another taxpayer: the answer does not tell
// which, so it cannot be used to learn a code or a CNP.
func ErrEnrollmentCode() *Error {
	return &Error{Code: EINVALID, Message: "the enrollment code is not valid for this CNP/CUI (wrong, used or expired)",
		Fields: []FieldError{{Field: "code", Message: "is not valid for this CNP/CUI (wrong, used or expired)"}}}
}

// AlreadyRegistered is the conflict of a self-registration whose CNP or CUI
// is already in the registry; it says how the person opens an account for
// that record.
func AlreadyRegistered(field string, cause error) *Error {
	return &Error{Code: ECONFLICT,
		Message: "a taxpayer with this " + strings.ToUpper(strings.TrimPrefix(field, "taxpayer.")) + " is already in the registry: open your account with the enrollment code the tax department gives you (at the desk or on your annual notice) at POST /api/v1/auth/enroll, or sign in with the national identity login (ROeID)",
		Fields:  []FieldError{{Field: field, Message: "already registered; enroll with a code from the tax department or sign in with ROeID"}}, Err: cause}
}

// AccountChange is what an admin does to an account.
type AccountChange string

// The account changes.
const (
	ChangeDisable  AccountChange = "disable"
	ChangeEnable   AccountChange = "enable"
	ChangeRole     AccountChange = "role"
	ChangePassword AccountChange = "password"
)

// CheckAccountChange decides whether the admin actor may make the change
// to target: an admin never disables or demotes themself, the last enabled
// admin of a municipality stays one, roles are staff roles given to staff
// accounts only, and an admin never sets a taxpayer's password.
// enabledAdmins counts the municipality's enabled admins (target included).
func CheckAccountChange(actor *Actor, target *User, change AccountChange, role Role, enabledAdmins int) error {
	self := !actor.System && actor.UserID == target.ID
	lastAdmin := target.Role == RoleAdmin && !target.Disabled && enabledAdmins <= 1
	switch change {
	case ChangeDisable:
		if self {
			return Errorf(ECONFLICT, "an admin cannot disable their own account")
		}
		if lastAdmin {
			return Errorf(ECONFLICT, "this is the municipality's last enabled admin")
		}
	case ChangeRole:
		if !role.IsStaff() {
			return InvalidField("role", "must be one of officer, signer, accountant, admin")
		}
		if !target.Role.IsStaff() {
			return Errorf(ECONFLICT, "a taxpayer's account cannot be given a staff role; create a staff account")
		}
		if role != RoleAdmin && self {
			return Errorf(ECONFLICT, "an admin cannot remove their own admin role")
		}
		if role != RoleAdmin && lastAdmin {
			return Errorf(ECONFLICT, "this is the municipality's last enabled admin")
		}
	case ChangePassword:
		if !target.Role.IsStaff() {
			return Errorf(ECONFLICT, "a taxpayer sets their own password")
		}
	}
	return nil
}

// IdentityService is enrollment with codes and the life of staff accounts.
type IdentityService interface {
	// IssueEnrollmentCode issues a one-time code for a taxpayer of the
	// actor's municipality (officer, admin), revoking the taxpayer's earlier
	// active code. ENOTFOUND for an unknown taxpayer, ECONFLICT when the
	// taxpayer already has an enabled account.
	IssueEnrollmentCode(ctx context.Context, taxpayerID int64) (*EnrollmentCode, error)
	// Enroll opens a verified account for the taxpayer on file the code was
	// issued for. The attempt is counted first (per address and per
	// taxpayer; ERATELIMIT beyond); EINVALID naming "code" for a wrong,
	// used, expired or another taxpayer's code, which consumes nothing;
	// ECONFLICT for a username taken or a taxpayer that has an account.
	Enroll(ctx context.Context, municipalityID int64, e *Enrollment, address string) (*User, *Taxpayer, error)
	// DisableUser disables an account (admin), ends its sessions at once,
	// returns its open cases to the queue and revokes its signing key for
	// new steps. ECONFLICT for oneself or the last admin.
	DisableUser(ctx context.Context, id int64) (*User, error)
	// EnableUser enables an account again (admin).
	EnableUser(ctx context.Context, id int64) (*User, error)
	// SetRole changes a staff account's role (admin) and ends its sessions.
	SetRole(ctx context.Context, id int64, role Role) (*User, error)
	// SetPassword sets a staff account's password (admin; the password rule
	// applies, EINVALID naming "password") and ends its sessions.
	SetPassword(ctx context.Context, id int64, password string) (*User, error)
}
