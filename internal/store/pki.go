package store

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/trust"
)

// certVault is the vault when it certifies its keys (CAdES steps), else nil.
func (db *DB) certVault() fiscal.CertVault {
	if cv, ok := db.keys.(fiscal.CertVault); ok && cv.Certifies() {
		return cv
	}
	return nil
}

// fits says k is the kind of key the vault makes now: with a CA, certified.
func (k *signingKey) fits(cv fiscal.CertVault) bool {
	return cv == nil || (k.Algorithm == fiscal.AlgCAdES && k.Certificate != "")
}

// afterCommit runs f once tx committed, holding nothing (not the
// municipality's shared rows on PostgreSQL, not the write mutex on SQLite).
func (tx *Tx) afterCommit(f func(context.Context)) { tx.after = append(tx.after, f) }

// supersedeKey retires an Ed25519 key for a certified one. Its steps keep
// verifying with it (VerifyCase reads retired keys too).
func (tx *Tx) supersedeKey(ctx context.Context, municipalityID int64, k *signingKey) error {
	if _, err := tx.Exec(ctx, `UPDATE signing_keys SET revoked_at = ?, revocation_reason = 'superseded' WHERE id = ? AND revoked_at IS NULL`,
		tx.Now, k.ID); err != nil {
		return translate(err, "signing key")
	}
	return tx.Audit(ctx, municipalityID, "signing_key.supersede", "signing_key", k.ID, nil, map[string]any{"algorithm": k.Algorithm})
}

// refuseRevoked is EFORBIDDEN when the user's certificate was revoked: a
// revoked member of staff signs no more steps.
func (tx *Tx) refuseRevoked(ctx context.Context, municipalityID int64, userID *int64) error {
	if userID == nil {
		return nil
	}
	var n int
	if err := tx.Get(ctx, &n, `SELECT COUNT(*) FROM signing_keys WHERE municipality_id = ? AND user_id = ? AND revocation_reason = ?`,
		municipalityID, *userID, keyRevoked); err != nil {
		return translate(err, "signing key")
	}
	if n > 0 {
		return fiscal.Errorf(fiscal.EFORBIDDEN, "your signing certificate was revoked: you can no longer sign steps")
	}
	return nil
}

// keySubject names a certificate's holder: the member of staff (full name,
// else username) with the municipality, or the municipality (its seal).
func (tx *Tx) keySubject(ctx context.Context, municipalityID int64, userID *int64) (string, error) {
	var muni string
	if err := tx.Get(ctx, &muni, `SELECT name FROM municipalities WHERE id = ?`, municipalityID); err != nil {
		return "", translate(err, "municipality")
	}
	muni = OrganisationName(muni)
	if userID == nil {
		return muni, nil
	}
	var u struct {
		Username string `db:"username"`
		FullName string `db:"full_name"`
	}
	if err := tx.Get(ctx, &u, `SELECT username, full_name FROM users WHERE id = ? AND municipality_id = ?`, *userID, municipalityID); err != nil {
		return "", translate(err, "user")
	}
	name := strings.TrimSpace(u.FullName)
	if name == "" {
		name = u.Username
	}
	return name + ", " + muni, nil
}

// stepStamp is a step signed in a transaction, to be timestamped after
// its commit.
type stepStamp struct {
	caseID int64
	seq    int
	cms    string
}

// stampAfterCommit has the step's CAdES-B-B signature cms timestamped once
// tx has committed, with the other steps tx signed (one statement for all:
// an intake group signs up to maxIntakeGroup).
func (tx *Tx) stampAfterCommit(caseID int64, seq int, cms string) {
	if len(tx.stamps) == 0 {
		tx.afterCommit(func(ctx context.Context) { tx.db.timestampSteps(ctx, tx.stamps) })
	}
	tx.stamps = append(tx.stamps, stepStamp{caseID, seq, cms})
}

// timestampSteps makes steps' CAdES-B-B signatures B-T. It runs after the
// commit, so the TSA's round trips hold no lock; the update only replaces
// the signatures it timestamped. A step that fails stays B-B and the first
// read of its signature (StepSignature) adds the timestamp.
func (db *DB) timestampSteps(ctx context.Context, steps []stepStamp) {
	cv := db.certVault()
	if cv == nil {
		return
	}
	// A migration of open cases signs a step per case: a statement per
	// maxRowsPerStatement steps keeps each under the engines' limits.
	for len(steps) > maxRowsPerStatement {
		db.timestampSteps(ctx, steps[:maxRowsPerStatement])
		steps = steps[maxRowsPerStatement:]
	}
	var set, where []string
	var setArgs, whereArgs []any
	for _, st := range steps {
		p7s, err := base64.StdEncoding.DecodeString(st.cms)
		if err != nil {
			continue
		}
		bt, err := cv.TimestampCAdES(p7s)
		if err != nil {
			db.timestampFailed.Add(1)
			continue
		}
		set = append(set, "WHEN case_id = ? AND seq = ? THEN ?")
		setArgs = append(setArgs, st.caseID, st.seq, base64.StdEncoding.EncodeToString(bt))
		where = append(where, "(case_id = ? AND seq = ? AND cms = ?)")
		whereArgs = append(whereArgs, st.caseID, st.seq, st.cms)
	}
	if len(set) == 0 {
		return
	}
	// Only the signatures still as signed: another process may have
	// stamped one first (a read of it).
	q := `UPDATE case_steps SET cms = CASE ` + strings.Join(set, " ") + ` ELSE cms END WHERE ` + strings.Join(where, " OR ")
	if _, err := db.db.ExecContext(ctx, db.db.Rebind(q), append(setArgs, whereArgs...)...); err != nil {
		db.timestampFailed.Add(int64(len(set)))
	}
}

// saveTimestamp replaces a step's signature cms by its timestamped form bt,
// unless another process stamped it first.
func (db *DB) saveTimestamp(ctx context.Context, caseID int64, seq int, cms string, bt []byte) {
	if _, err := db.db.ExecContext(ctx, db.db.Rebind(`UPDATE case_steps SET cms = ? WHERE case_id = ? AND seq = ? AND cms = ?`),
		base64.StdEncoding.EncodeToString(bt), caseID, seq, cms); err != nil {
		db.timestampFailed.Add(1)
	}
}

// StepEvidence returns step seq of a case the actor may see (the taxpayer
// who owns it, the municipality's staff): its signed content and its
// CAdES signature, timestamped now if it was not yet.
func (db *DB) StepEvidence(ctx context.Context, caseID int64, seq int) (*fiscal.StepEvidence, error) {
	var st fiscal.CaseStep
	var cms string
	err := db.readTx(ctx, func(tx *Tx) error {
		if _, err := tx.loadCase(ctx, caseID); err != nil {
			return err
		}
		var row struct {
			fiscal.CaseStep
			CMS string `db:"cms"`
		}
		if err := tx.Get(ctx, &row, `SELECT `+stepCols+`, cms FROM case_steps WHERE case_id = ? AND seq = ?`, caseID, seq); err != nil {
			return translate(err, "case step")
		}
		st, cms = row.CaseStep, row.CMS
		return nil
	})
	if err != nil {
		return nil, err
	}
	ev := &fiscal.StepEvidence{Content: fiscal.StepContent(st.PrevDigest, st.State, &st)}
	if cms == "" {
		return ev, nil
	}
	if ev.Signature, err = base64.StdEncoding.DecodeString(cms); err != nil {
		return nil, fiscal.Internal(err, "step signature")
	}
	if cv := db.certVault(); cv != nil {
		if bt, err := cv.TimestampCAdES(ev.Signature); err == nil && len(bt) != len(ev.Signature) {
			// One call to the TSA; what is served is what is stored (another
			// reader may have stamped the step first).
			db.saveTimestamp(ctx, caseID, seq, cms, bt)
			ev.Signature = bt
			var stored string
			if err := db.get(ctx, &stored, `SELECT cms FROM case_steps WHERE case_id = ? AND seq = ?`, caseID, seq); err == nil {
				if b, err := base64.StdEncoding.DecodeString(stored); err == nil && len(b) > 0 {
					ev.Signature = b
				}
			}
		}
	}
	return ev, nil
}

// CAChain is the PEM chain steps and documents are signed under (nil when
// the vault has no CA).
func (db *DB) CAChain() []byte {
	if cv := db.certVault(); cv != nil {
		return cv.CAChain()
	}
	return nil
}

// RevokeSigningCertificate revokes a member of staff's signing key and
// certificate (admin): OCSP and the CRL report it revoked from now, the
// user signs no further steps, and the steps signed before still verify.
// ENOTFOUND when the user has no active key.
func (db *DB) RevokeSigningCertificate(ctx context.Context, userID int64) error {
	return db.InTx(ctx, func(tx *Tx) error {
		a, err := fiscal.RequireActor(ctx)
		if err != nil {
			return err
		}
		if a.Role != fiscal.RoleAdmin && !a.System {
			return fiscal.Errorf(fiscal.EFORBIDDEN, "only an administrator revokes signing certificates")
		}
		n, err := tx.RevokeSigningKeys(ctx, a.MunicipalityID, userID, keyRevoked)
		if err == nil && n == 0 {
			err = fiscal.Errorf(fiscal.ENOTFOUND, "the user has no active signing key")
		}
		return err
	})
}

// Why a certificate was revoked (signing_keys.revocation_reason); OCSP and
// the CRL report both as revoked from revoked_at.
const (
	// keyRevoked: the holder may no longer sign (the administrator's
	// revocation); no new key is made for them.
	keyRevoked = "revoked"
	// keyHolderDisabled: the account was disabled; enabled again, the
	// holder gets a new key and certificate at their next step.
	keyHolderDisabled = "holder_disabled"
)

// RevokeSigningKeys revokes the user's active signing keys in tx for reason
// (keyRevoked, keyHolderDisabled), with an audit entry each, and returns
// how many.
func (tx *Tx) RevokeSigningKeys(ctx context.Context, municipalityID, userID int64, reason string) (int, error) {
	var ids []int64
	if err := tx.Select(ctx, &ids, `SELECT id FROM signing_keys WHERE municipality_id = ? AND user_id = ? AND revoked_at IS NULL`, municipalityID, userID); err != nil {
		return 0, translate(err, "signing key")
	}
	for _, id := range ids {
		if _, err := tx.Exec(ctx, `UPDATE signing_keys SET revoked_at = ?, revocation_reason = ? WHERE id = ?`, tx.Now, reason, id); err != nil {
			return 0, translate(err, "signing key")
		}
		if err := tx.Audit(ctx, municipalityID, "signing_key.revoke", "signing_key", id, nil, map[string]any{"user_id": userID, "reason": reason}); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// RevocationStatus is the store as the CA's revocation source (OCSP, CRL).
func (db *DB) RevocationStatus() trust.Status { return revocations{db} }

type revocations struct{ db *DB }

func (r revocations) RevokedAt(ctx context.Context, serial *big.Int) (*time.Time, error) {
	var at []time.Time
	err := r.db.db.SelectContext(ctx, &at, r.db.db.Rebind(`SELECT revoked_at FROM signing_keys WHERE cert_serial = ? AND revocation_reason IN (?, ?)`), serial.Text(16), keyRevoked, keyHolderDisabled)
	if err != nil || len(at) == 0 {
		return nil, translate(err, "signing key")
	}
	return &at[0], nil
}

func (r revocations) Revoked(ctx context.Context) ([]trust.Revocation, error) {
	var rows []struct {
		Serial string    `db:"cert_serial"`
		At     time.Time `db:"revoked_at"`
	}
	if err := r.db.db.SelectContext(ctx, &rows, r.db.db.Rebind(`SELECT cert_serial, revoked_at FROM signing_keys WHERE cert_serial <> '' AND revocation_reason IN (?, ?) ORDER BY id`), keyRevoked, keyHolderDisabled); err != nil {
		return nil, translate(err, "signing keys")
	}
	out := make([]trust.Revocation, 0, len(rows))
	for _, r := range rows {
		n, ok := new(big.Int).SetString(r.Serial, 16)
		if ok {
			out = append(out, trust.Revocation{Serial: n, At: r.At})
		}
	}
	return out, nil
}

// verifyCAdESStep checks a certified step's CAdES signature over its
// content with the CA, by the key's certificate, made (by its timestamp,
// else by the step's instant) before any revocation of that certificate.
// It returns why it fails, "" when it holds.
func (db *DB) verifyCAdESStep(st *fiscal.CaseStep, cms string, k *signingKey) string {
	cv := db.certVault()
	if cv == nil {
		return "its certificate's CA is not configured here"
	}
	p7s, err := base64.StdEncoding.DecodeString(cms)
	if err != nil || len(p7s) == 0 {
		return "its CAdES signature is missing"
	}
	cert, ts, err := cv.VerifyCAdES(p7s, fiscal.StepContent(st.PrevDigest, st.State, st), st.At)
	if err != nil {
		return "its signature does not verify"
	}
	if !sameCert(k.Certificate, cert) {
		return "it is not signed with the certificate of its key"
	}
	signed := st.At
	if !ts.IsZero() {
		signed = ts
	}
	if k.RevocationReason == "revoked" && k.RevokedAt != nil && !signed.Before(*k.RevokedAt) {
		return "it was signed after its certificate was revoked"
	}
	return ""
}

func sameCert(certPEM string, der []byte) bool {
	b, _ := pemDecode(certPEM)
	return b != nil && string(b) == string(der)
}

func pemDecode(s string) ([]byte, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, fiscal.Errorf(fiscal.EINTERNAL, "not PEM")
	}
	return b.Bytes, nil
}

// OrganisationName is a municipality's name as its certificates carry it:
// "Municipiul Timișoara" for "Timișoara", unchanged when it already names
// the unit (Municipiul, Orașul, Comuna).
func OrganisationName(name string) string {
	for _, p := range []string{"Municipiul ", "Orașul ", "Oraşul ", "Comuna "} {
		if strings.HasPrefix(name, p) {
			return name
		}
	}
	return "Municipiul " + name
}
