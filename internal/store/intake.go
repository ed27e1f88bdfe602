package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"fiscald/fiscal"
)

// intakeCtx is what an intake reads before its transaction: the taxpayer's
// address for the notification, the municipality, the officers for the
// round-robin and the signing key of the submit step (nil until its first use).
type intakeCtx struct {
	tp struct {
		ID     int64
		Email  string
		UserID *int64
	}
	muni     muniInfo
	officers []int64
	keyUID   int64
	key      *signingKey
	// published is the municipality's latest version of the type (0: it
	// published none).
	published int64
}

// intakeContext reads the intake's context in one statement (it was five:
// on PostgreSQL each round trip costs both processes more CPU than the
// statement's own work). A taxpayer of another municipality is not found.
func (db *DB) intakeContext(ctx context.Context, a *fiscal.Actor, taxpayerID int64, caseType string) (*intakeCtx, error) {
	ic := &intakeCtx{}
	if !a.System && a.Role.IsStaff() {
		ic.keyUID = a.UserID
	}
	var r struct {
		ID        int64          `db:"id"`
		Email     string         `db:"email"`
		UserID    *int64         `db:"user_id"`
		Slug      string         `db:"slug"`
		County    string         `db:"county"`
		Settings  string         `db:"settings"`
		Officers  string         `db:"officers"`
		Published sql.NullInt64  `db:"published"`
		KeyID     sql.NullInt64  `db:"key_id"`
		KeyUserID *int64         `db:"key_user_id"`
		Algorithm sql.NullString `db:"algorithm"`
		PublicKey sql.NullString `db:"public_key"`
		Sealed    sql.NullString `db:"sealed_private"`
		Cert      sql.NullString `db:"certificate"`
	}
	err := db.get(ctx, &r, `SELECT t.id, COALESCE(NULLIF(t.email, ''), (SELECT u.email FROM users u WHERE u.taxpayer_id = t.id ORDER BY u.id LIMIT 1), '') AS email,
		(SELECT u.id FROM users u WHERE u.taxpayer_id = t.id ORDER BY u.id LIMIT 1) AS user_id,
		m.slug, m.county, m.settings,
		`+db.jsonIDs(`FROM users o WHERE o.municipality_id = t.municipality_id AND o.role = 'officer' AND o.disabled = ?`)+` AS officers,
		(SELECT MAX(d.version) FROM case_definitions d WHERE d.municipality_id = t.municipality_id AND d.type = ?) AS published,
		k.id AS key_id, k.user_id AS key_user_id, k.algorithm, k.public_key, k.sealed_private, k.certificate
		FROM taxpayers t JOIN municipalities m ON m.id = t.municipality_id
		LEFT JOIN signing_keys k ON k.municipality_id = t.municipality_id AND COALESCE(k.user_id, 0) = ? AND k.revoked_at IS NULL
		WHERE t.id = ? AND t.municipality_id = ?`, false, caseType, ic.keyUID, taxpayerID, a.MunicipalityID)
	if err != nil {
		return nil, translate(err, "taxpayer")
	}
	ic.tp.ID, ic.tp.Email, ic.tp.UserID = r.ID, r.Email, r.UserID
	ic.muni = muniInfo{Slug: r.Slug, County: r.County, Settings: r.Settings}
	ic.published = r.Published.Int64
	if err := json.Unmarshal([]byte(r.Officers), &ic.officers); err != nil {
		return nil, fiscal.Internal(err, "officers")
	}
	slices.Sort(ic.officers) // the round-robin goes by id
	if r.KeyID.Valid {
		ic.key = &signingKey{ID: r.KeyID.Int64, UserID: r.KeyUserID, Algorithm: r.Algorithm.String,
			PublicKey: r.PublicKey.String, SealedPrivate: r.Sealed.String, Certificate: r.Cert.String}
	}
	return ic, nil
}

// jsonIDs is a scalar subquery giving the ids of the rows `from` selects
// (a FROM ... WHERE clause whose table has an id column) as a JSON array,
// in no particular order.
func (db *DB) jsonIDs(from string) string {
	if db.dialect == "postgres" {
		return "(SELECT COALESCE(json_agg(id), '[]')::text " + from + ")"
	}
	return "(SELECT json_group_array(id) " + from + ")"
}

// insertArgs are the arguments of the case's INSERT (number: a provisional one).
func (c *caseRow) insertArgs() []any {
	return []any{c.MunicipalityID, provisionalNumber(), c.Type, c.TaxpayerID, c.Data, c.Status, c.SubmittedAt, c.SubmittedOn, c.SLAWorkingDays,
		c.DueOn, c.Pauses, c.CreatedBy, c.Result, c.UpdatedAt, c.DefinitionVersion}
}

// The columns of the intake's inserts (insertCase and the SQLite path).
const (
	caseInsertCols = `municipality_id, number, type, taxpayer_id, data, status, submitted_at, submitted_on, sla_working_days,
	due_on, pauses, created_by, result, updated_at, definition_version, version`
	attachmentInsertCols = `municipality_id, case_id, kind, sha256, size, content_type, filename, uploaded_by, created_at`
	eventInsertCols      = `municipality_id, case_id, at, actor_id, actor, kind, body, public`
)

const insertCaseValues = `INSERT INTO cases (` + caseInsertCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`

const insertAttachmentSQL = `INSERT INTO case_attachments (` + attachmentInsertCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

// attachmentArgs are the arguments of insertAttachmentSQL for att of c,
// uploaded by the user by (nil: the system).
func attachmentArgs(c *caseRow, att *fiscal.Attachment, by *int64) []any {
	return []any{c.MunicipalityID, c.ID, att.Kind, att.SHA256, att.Size, att.ContentType, att.Filename, by, att.CreatedAt}
}

func duplicateDocument(att *fiscal.Attachment) error {
	return fiscal.Errorf(fiscal.ECONFLICT, "the same document is referenced twice as %s", att.Kind)
}

// insertCase is the PostgreSQL intake's first statement: it inserts c
// (under a provisional number), its attachments and the "submitted"
// timeline line, and sets c.ID and the attachments' ids. The rows the whole
// municipality queues on are taken after it (nextCaseNumber).
//
// With claim (a request's Idempotency-Key not yet claimed) the same
// statement claims the key first, and writes the case only if it did: a key
// claimed by an earlier request (committed; a claim in flight is waited
// for) makes it write nothing and answer ErrIdempotencyInFlight without
// failing, so the transaction goes on with the other intakes of its group
// (no savepoint: one round trip an intake). It returns the claim's id.
func (tx *Tx) insertCase(ctx context.Context, c *caseRow, atts []*fiscal.Attachment, eventBody string, claim *fiscal.IdempotencyClaim) (int64, error) {
	var q strings.Builder
	args := make([]any, 0, 40)
	if claim != nil {
		// ON CONFLICT DO NOTHING: the key taken is an answer, not an error
		// that would abort the group's transaction.
		q.WriteString(`WITH k AS (` + claimInsert + ` ON CONFLICT DO NOTHING RETURNING id), c AS (INSERT INTO cases (` + caseInsertCols + `) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1 FROM k RETURNING id)`)
		args = append(args, claim.MunicipalityID, claim.UserID, claim.Key, claim.Route, claim.RequestHash, tx.Now)
	} else {
		q.WriteString("WITH c AS (" + insertCaseValues + " RETURNING id)")
	}
	args = append(args, c.insertArgs()...)
	for i, att := range atts {
		att.CreatedAt = tx.Now
		fmt.Fprintf(&q, ", a%d AS (INSERT INTO case_attachments ("+attachmentInsertCols+") SELECT ?, c.id, ?, ?, ?, ?, ?, ?, ? FROM c RETURNING id)", i)
		args = append(args, c.MunicipalityID, att.Kind, att.SHA256, att.Size, att.ContentType, att.Filename, c.CreatedBy, tx.Now)
	}
	actorID, actor := tx.eventActor()
	q.WriteString(`, e AS (INSERT INTO case_events (` + eventInsertCols + `) SELECT ?, c.id, ?, ?, ?, 'submitted', ?, ? FROM c)`)
	args = append(args, c.MunicipalityID, tx.Now, actorID, actor, eventBody, true)
	q.WriteString(` SELECT c.id`)
	if claim != nil {
		q.WriteString(", (SELECT id FROM k)")
	}
	for i := range atts {
		fmt.Fprintf(&q, ", (SELECT id FROM a%d)", i)
	}
	q.WriteString(" FROM c")
	var claimID int64
	dest := []any{&c.ID}
	if claim != nil {
		dest = append(dest, &claimID)
	}
	for _, att := range atts {
		dest = append(dest, &att.ID)
	}
	if err := tx.QueryRowxContext(ctx, tx.Rebind(q.String()), args...).Scan(dest...); err != nil {
		if claim != nil && errors.Is(err, sql.ErrNoRows) {
			return 0, fiscal.ErrIdempotencyInFlight // the key was claimed: nothing written
		}
		return 0, translate(err, "case")
	}
	for _, att := range atts {
		att.CaseID = c.ID
	}
	return claimID, nil
}

// checkDistinctDocuments refuses a document referenced twice under the same
// kind (the attachments' unique key), before anything is written.
func checkDistinctDocuments(atts []*fiscal.Attachment) error {
	seen := make(map[[2]string]bool, len(atts))
	for _, att := range atts {
		k := [2]string{att.Kind, att.SHA256}
		if seen[k] {
			return duplicateDocument(att)
		}
		seen[k] = true
	}
	return nil
}
