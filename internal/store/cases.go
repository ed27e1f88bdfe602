package store

import (
	"context"
	"crypto/rand"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"fiscald/calc/calendar"
	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// UseCaseDeps gives the store what the case workflow needs besides the
// database: the vault of signing keys and the attachment store.
func (db *DB) UseCaseDeps(keys fiscal.KeyVault, blobs fiscal.BlobStore) {
	db.keys, db.blobs = keys, blobs
}

// caseRow is a row of cases.
type caseRow struct {
	ID              int64      `db:"id"`
	MunicipalityID  int64      `db:"municipality_id"`
	Number          string     `db:"number"`
	Type            string     `db:"type"`
	TaxpayerID      int64      `db:"taxpayer_id"`
	Data            string     `db:"data"`
	Status          string     `db:"status"`
	SubmittedAt     time.Time  `db:"submitted_at"`
	SubmittedOn     civil.Date `db:"submitted_on"`
	SLAWorkingDays  int        `db:"sla_working_days"`
	DueOn           civil.Date `db:"due_on"`
	Pauses          pauseList  `db:"pauses"`
	AssigneeID      *int64     `db:"assignee_id"`
	CreatedBy       *int64     `db:"created_by"`
	DecidedAt       *time.Time `db:"decided_at"`
	DecisionReason  string     `db:"decision_reason"`
	EscalatedAt     *time.Time `db:"escalated_at"`
	BreachedAt      *time.Time `db:"breached_at"`
	StraightThrough bool       `db:"straight_through"`
	Result          string     `db:"result"`
	UpdatedAt       time.Time  `db:"updated_at"`
	Version         int64      `db:"version"`
	// DefinitionVersion is the version of the type's definition the case
	// runs on (nil only for a case filed before migration 0029: the shipped
	// version 1); def is that definition, set by
	// loadCase (casedefs.go).
	DefinitionVersion *int64 `db:"definition_version"`
	def               *publishedDef
	// hist is the route history a use case read and kept up to date with
	// the step it wrote, and atts the attachments it read (and did not
	// change), so the detail it answers need not read them again.
	hist *routeHistory
	atts []*fiscal.Attachment
	// steps, when read (loadSteps), are the case's steps, kept up to date
	// with the step the use case wrote.
	steps []*fiscal.CaseStep
	// moveTo, when set, is the step the case's route entered: updateCase
	// records it (route_step, route_step_since, route_step_seq) in the
	// same statement.
	moveTo *routeMove
}

// routeMove is the step a case's route entered and the day it opened.
type routeMove struct {
	step  string
	since civil.Date
}

const caseCols = `id, municipality_id, number, type, taxpayer_id, data, status, submitted_at, submitted_on, sla_working_days, due_on, pauses,
	assignee_id, created_by, decided_at, decision_reason, escalated_at, breached_at, straight_through, result, updated_at, version, definition_version`

func (c *caseRow) pauses() []fiscal.Pause { return append([]fiscal.Pause(nil), c.Pauses...) }

// pauseList is a case's pauses (requests for information) as stored: JSON.
// A value that does not read fails the case's read, so a lost pause can
// never shorten the clock into a false breach.
type pauseList []fiscal.Pause

// Scan implements sql.Scanner.
func (p *pauseList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		*p = nil
		return nil
	default:
		return fmt.Errorf("store: pauses: unexpected %T", src)
	}
	var out []fiscal.Pause
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("store: the case's pauses %q do not read: %w", b, err)
	}
	*p = out
	return nil
}

// Value implements driver.Valuer.
func (p pauseList) Value() (driver.Value, error) {
	if p == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]fiscal.Pause(p))
	return string(b), err
}

// sla places the case against its target on today.
func (c *caseRow) sla(cal *calendar.Calendar, today civil.Date) (fiscal.SLA, fiscal.SLAExplanation) {
	var closed *civil.Date
	if c.DecidedAt != nil {
		d := fiscal.LocalDate(*c.DecidedAt)
		closed = &d
	}
	return fiscal.ComputeSLA(cal, c.SubmittedOn, c.SLAWorkingDays, c.pauses(), today, closed)
}

// definitionVersion is the version of the type's definition the case runs
// on; a case filed before every type was a definition (NULL, which
// migration 0029 sets) runs on the shipped one.
func (c *caseRow) definitionVersion() int64 {
	if c.DefinitionVersion != nil {
		return *c.DefinitionVersion
	}
	return fiscal.ShippedVersion
}

func (c *caseRow) caseType() *fiscal.CaseType {
	if c.def != nil {
		return c.def.ct
	}
	if p := shippedDef(c.Type); p != nil { // a row read without loadCase
		return p.ct
	}
	return nil
}

// toCase converts a row to the domain type.
func (c *caseRow) toCase(cal *calendar.Calendar, today civil.Date, atts []*fiscal.Attachment) *fiscal.Case {
	s, _ := c.sla(cal, today)
	out := &fiscal.Case{ID: c.ID, Number: c.Number, Type: c.Type, TaxpayerID: c.TaxpayerID, Status: fiscal.CaseStatus(c.Status),
		SubmittedAt: c.SubmittedAt.UTC(), SLA: s, Data: json.RawMessage(c.Data), AssigneeID: c.AssigneeID, DecisionReason: c.DecisionReason,
		DecidedAt: c.DecidedAt, StraightThrough: c.StraightThrough, Version: c.Version, MissingDocuments: []string{}}
	if t := c.caseType(); t != nil && fiscal.CaseStatus(c.Status).Open() {
		out.MissingDocuments = t.MissingDocuments(json.RawMessage(c.Data), kinds(atts))
	}
	return out
}

func kinds(atts []*fiscal.Attachment) []string {
	out := make([]string, len(atts))
	for i, a := range atts {
		out[i] = a.Kind
	}
	return out
}

// loadCase reads a case visible to the actor: staff of its municipality or
// the taxpayer it concerns; anything else is ENOTFOUND.
func (tx *Tx) loadCase(ctx context.Context, id int64) (*caseRow, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	var c caseRow
	if err := tx.Get(ctx, &c, `SELECT `+caseCols+` FROM cases WHERE id = ? AND municipality_id = ?`, id, a.MunicipalityID); err != nil {
		return nil, translate(err, "case")
	}
	if !a.CanSeeTaxpayer(c.MunicipalityID, c.TaxpayerID) {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "case not found")
	}
	if c.def, err = tx.definition(ctx, c.MunicipalityID, c.Type, c.definitionVersion()); err != nil {
		return nil, err
	}
	return &c, nil
}

func (tx *Tx) attachments(ctx context.Context, caseID int64) ([]*fiscal.Attachment, error) {
	var out []*fiscal.Attachment
	err := tx.Select(ctx, &out, `SELECT id, case_id, kind, sha256, size, content_type, filename, created_at FROM case_attachments WHERE case_id = ? ORDER BY id`, caseID)
	if out == nil {
		out = []*fiscal.Attachment{}
	}
	return out, translate(err, "attachments")
}

// countyCodes are the county codes of plates and case numbers.
var countyCodes = map[string]string{
	"alba": "AB", "arad": "AR", "argeș": "AG", "bacău": "BC", "bihor": "BH", "bistrița-năsăud": "BN", "botoșani": "BT", "brăila": "BR",
	"brașov": "BV", "bucurești": "B", "buzău": "BZ", "călărași": "CL", "caraș-severin": "CS", "cluj": "CJ", "constanța": "CT",
	"covasna": "CV", "dâmbovița": "DB", "dolj": "DJ", "galați": "GL", "giurgiu": "GR", "gorj": "GJ", "harghita": "HR", "hunedoara": "HD",
	"ialomița": "IL", "iași": "IS", "ilfov": "IF", "maramureș": "MM", "mehedinți": "MH", "mureș": "MS", "neamț": "NT", "olt": "OT",
	"prahova": "PH", "sălaj": "SJ", "satu mare": "SM", "sibiu": "SB", "suceava": "SV", "teleorman": "TR", "timiș": "TM", "tulcea": "TL",
	"vâlcea": "VL", "vaslui": "VS", "vrancea": "VN",
}

type muniInfo struct {
	Slug     string `db:"slug"`
	County   string `db:"county"`
	Settings string `db:"settings"`
}

func (m *muniInfo) settings() map[string]any {
	s := map[string]any{}
	_ = json.Unmarshal([]byte(m.Settings), &s)
	return s
}

// casePrefix is the municipality's case-number prefix: settings.case_prefix,
// else its county code, else the slug's first letters.
func (m *muniInfo) casePrefix() string {
	if p, ok := m.settings()["case_prefix"].(string); ok && p != "" {
		return p
	}
	if c, ok := countyCodes[strings.ToLower(strings.TrimSpace(m.County))]; ok {
		return c
	}
	return strings.ToUpper(m.Slug[:min(2, len(m.Slug))])
}

// straightThrough reports whether straight-through processing is on for a
// case type (settings.straight_through.<type>).
func (m *muniInfo) straightThrough(caseType string) bool {
	st, _ := m.settings()["straight_through"].(map[string]any)
	on, _ := st[caseType].(bool)
	return on
}

func (tx *Tx) muni(ctx context.Context, id int64) (*muniInfo, error) {
	var m muniInfo
	err := tx.Get(ctx, &m, `SELECT slug, county, settings FROM municipalities WHERE id = ?`, id)
	return &m, translate(err, "municipality")
}

// nextCaseNumbers allocates the next n numbers of the gapless series of
// the municipality and year, inside the intake transaction (one upsert: safe
// on both engines and across instances under concurrency); the counter row
// stays locked until commit, so a rolled-back intake uses no number. It
// returns the first number. The audit chain's head is not taken here: the
// intakes' entries are buffered (tx.Audit) and chained at commit like every
// other use case's, after the submit steps are signed, so no other writer
// of the municipality waits for an intake's signatures. On PostgreSQL the
// statement also turns synchronous commit off for the transaction, so the
// counter and the head are free once the commit is written (InTx waits for
// the WAL flush before it returns: commit.go).
func (tx *Tx) nextCaseNumbers(ctx context.Context, municipalityID int64, year, n int) (int64, error) {
	var r struct {
		N     int64  `db:"n"`
		Async string `db:"async"`
	}
	if tx.db.dialect != "postgres" {
		if err := tx.Get(ctx, &r.N, counterUpsert, municipalityID, year, n, n); err != nil {
			return 0, translate(err, "case number")
		}
		return r.N - int64(n) + 1, nil
	}
	err := tx.Get(ctx, &r, `WITH n AS (`+counterUpsert+`) SELECT n.last_number AS n, `+asyncCommitColumn+` AS async FROM n`, municipalityID, year, n, n)
	if err != nil {
		return 0, translate(err, "case number")
	}
	tx.asyncCommit = true
	return r.N - int64(n) + 1, nil
}

// counterUpsert takes the next number of a municipality's series for a
// year (arguments: municipality, year), locking the counter row until commit.
const counterUpsert = `INSERT INTO case_counters (municipality_id, year, last_number) VALUES (?, ?, ?)
	ON CONFLICT (municipality_id, year) DO UPDATE SET last_number = case_counters.last_number + ? RETURNING last_number`

// eventActor is who a timeline line names: the user, or "system".
func (tx *Tx) eventActor() (*int64, string) {
	if tx.Actor != nil && !tx.Actor.System {
		id := tx.Actor.UserID
		return &id, tx.Actor.Username
	}
	return nil, "system"
}

// event appends a line to a case's timeline.
func (tx *Tx) event(ctx context.Context, c *caseRow, kind, body string, public bool) error {
	e := tx.eventStmt(c, kind, body, public)
	_, err := tx.Exec(ctx, e.query, e.args...)
	return translate(err, "case event")
}

// eventStmt is the statement that appends a line to a case's timeline.
func (tx *Tx) eventStmt(c *caseRow, kind, body string, public bool) stmt {
	actorID, actor := tx.eventActor()
	return stmt{`INSERT INTO case_events (` + eventInsertCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		[]any{c.MunicipalityID, c.ID, tx.Now, actorID, actor, kind, body, public}}
}

// notifyTaxpayer queues a message to the taxpayer of the case (outbox; sent
// after commit). A taxpayer without an e-mail address gets none.
func (tx *Tx) notifyTaxpayer(ctx context.Context, c *caseRow, subject, body string) error {
	n := tx.notifyTaxpayerStmt(c, subject, body)
	_, err := tx.Exec(ctx, n.query, n.args...)
	return translate(err, "notification")
}

// notifyTaxpayerStmt is the statement that queues a message to the
// taxpayer of the case, at the taxpayer's address, else the address of the
// taxpayer's first account; a taxpayer with neither (a registry record
// without an account) gets none, and the timeline is their record. The
// address is read by the insert itself (no round trip of its own).
func (tx *Tx) notifyTaxpayerStmt(c *caseRow, subject, body string) stmt {
	return stmt{`INSERT INTO notifications (municipality_id, case_id, user_id, recipient, subject, body, created_at)
		SELECT ?, ?, a.uid, a.email, ?, ?, ? FROM (SELECT (SELECT u.id FROM users u WHERE u.taxpayer_id = t.id ORDER BY u.id LIMIT 1) AS uid,
			COALESCE(NULLIF(t.email, ''), (SELECT u.email FROM users u WHERE u.taxpayer_id = t.id ORDER BY u.id LIMIT 1), '') AS email
			FROM taxpayers t WHERE t.id = ?) a WHERE a.email <> ''`,
		[]any{c.MunicipalityID, c.ID, subject, body, tx.Now, c.TaxpayerID}}
}

func (tx *Tx) queueNotification(ctx context.Context, c *caseRow, userID *int64, to, subject, body string) error {
	if to == "" {
		return nil // nobody to send it to: nothing waits in the outbox forever
	}
	n := tx.notification(c, userID, to, subject, body)
	_, err := tx.Exec(ctx, n.query, n.args...)
	return translate(err, "notification")
}

// notification is the statement that queues a message about c.
func (tx *Tx) notification(c *caseRow, userID *int64, to, subject, body string) stmt {
	return stmt{`INSERT INTO notifications (municipality_id, case_id, user_id, recipient, subject, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		[]any{c.MunicipalityID, c.ID, userID, to, subject, body, tx.Now}}
}

var statusText = map[fiscal.CaseStatus]string{
	fiscal.StatusSubmitted:        "înregistrată",
	fiscal.StatusAwaitingTaxpayer: "așteaptă informații de la dumneavoastră",
	fiscal.StatusReviewed:         "verificată, în curs de semnare",
	fiscal.StatusApproved:         "aprobată",
	fiscal.StatusRejected:         "respinsă",
}

// notifyStatus tells the taxpayer the case changed state (with the reason
// when rejected or when information is requested).
func (tx *Tx) notifyStatus(ctx context.Context, c *caseRow, cal *calendar.Calendar, comment string) error {
	n := tx.notifyStatusStmt(c, cal, comment)
	_, err := tx.Exec(ctx, n.query, n.args...)
	return translate(err, "notification")
}

// notifyStatusStmt is notifyStatus's statement.
func (tx *Tx) notifyStatusStmt(c *caseRow, cal *calendar.Calendar, comment string) stmt {
	st := fiscal.CaseStatus(c.Status)
	subject := fmt.Sprintf("Cererea %s: %s", c.Number, statusText[st])
	body := fmt.Sprintf("Cererea dumneavoastră %s (%s) este %s.", c.Number, c.Type, statusText[st])
	switch st {
	case fiscal.StatusSubmitted:
		s, _ := c.sla(cal, fiscal.LocalDate(tx.Now))
		body += fmt.Sprintf("\nVeți primi răspunsul până la %s.", s.DueOn)
	case fiscal.StatusRejected:
		body += "\nMotivul: " + comment
	case fiscal.StatusAwaitingTaxpayer:
		body += "\nVă rugăm: " + comment + "\nTermenul de soluționare este suspendat până la răspunsul dumneavoastră."
	}
	return tx.notifyTaxpayerStmt(c, subject, body)
}

// CreateCase is the intake of a case.
func (db *DB) CreateCase(ctx context.Context, in *fiscal.NewCase) (*fiscal.Case, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleTaxpayer, fiscal.RoleOfficer)
	if err != nil {
		return nil, err
	}
	if a.Role == fiscal.RoleTaxpayer && (a.TaxpayerID == nil || *a.TaxpayerID != in.TaxpayerID) {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "taxpayer not found")
	}
	// The type's current definition: a shipped type's form and documents
	// are its effect's in every version, so it is read before the version
	// is known (intakeContext); a type the municipality published is read
	// now.
	p := shippedDef(in.Type)
	if p == nil {
		if p, err = db.currentDefinition(ctx, a.MunicipalityID, in.Type); err != nil {
			return nil, err
		}
		if p == nil {
			names := []string{}
			for _, t := range fiscal.CaseTypes() {
				names = append(names, t.Name)
			}
			return nil, fiscal.InvalidField("type", "must be one of: "+strings.Join(names, ", ")+" or a type the municipality published")
		}
	}
	t := p.ct
	data, err := t.ParseData(in.Data, fiscal.LocalDate(db.clock.Now()))
	if err != nil {
		return nil, err
	}
	for i, r := range in.Attachments {
		if !t.KnowsDocument(r.Kind) {
			return nil, fiscal.InvalidField(fmt.Sprintf("attachments[%d].kind", i), "is not a document of this case type")
		}
	}
	cal, err := db.calendar(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	// Reads first, outside the writing transaction: on SQLite they run beside
	// the single writer, on PostgreSQL they keep the locked part short.
	ic, err := db.intakeContext(ctx, a, in.TaxpayerID, in.Type)
	if err != nil {
		return nil, err
	}
	if ic.published > p.version { // the municipality's own version of a shipped type
		if p, err = db.definitionAt(ctx, a.MunicipalityID, in.Type, ic.published); err != nil {
			return nil, err
		}
		t = p.ct
	}
	tp, m, officers := ic.tp, ic.muni, ic.officers
	tpUser := tp.UserID
	if err := db.intakeChecks(ctx, a.MunicipalityID, in.TaxpayerID, t.Effect, data); err != nil {
		return nil, err
	}
	if err := db.representationIntake(ctx, a, in.TaxpayerID, t.Effect, data); err != nil {
		return nil, err
	}
	atts := make([]*fiscal.Attachment, 0, len(in.Attachments))
	for i, r := range in.Attachments {
		att, err := db.knownDocument(ctx, a.MunicipalityID, in.TaxpayerID, r, i)
		if err != nil {
			return nil, err
		}
		atts = append(atts, att)
	}
	j := &intakeJob{ctx: ctx, actor: a, caseType: t.Name, def: p, slaDays: t.SLAWorkingDays, taxpayerID: in.TaxpayerID, data: data, atts: atts,
		cal: cal, muni: m, officers: officers, tpEmail: tp.Email, tpUser: tpUser, keyUID: ic.keyUID, key: ic.key}
	if m.straightThrough(t.Name) {
		// Decided in the intake's own transaction: alone.
		return db.intakeAlone(j)
	}
	return db.submitIntake(j)
}

// provisionalNumber is a case's number between its insert and the number
// series (in the same transaction, so never seen by anyone else): unique,
// and unlike any real number.
func provisionalNumber() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "~" + hex.EncodeToString(b[:])
}

// intakeChecks are the checks of a type that need the database.
func (db *DB) intakeChecks(ctx context.Context, municipalityID, taxpayerID int64, caseType string, data json.RawMessage) error {
	if done, err := db.propertyIntakeChecks(ctx, municipalityID, taxpayerID, caseType, data); done {
		return err
	}
	if caseType != fiscal.CaseVehicleDeregistration {
		return nil
	}
	var d fiscal.VehicleDeregistration
	if err := json.Unmarshal(data, &d); err != nil {
		return fiscal.InvalidField("data", "does not read as a deregistration: "+err.Error())
	}
	var v struct {
		TaxpayerID     int64       `db:"taxpayer_id"`
		AcquiredOn     civil.Date  `db:"acquired_on"`
		DeregisteredOn *civil.Date `db:"deregistered_on"`
	}
	err := db.db.GetContext(ctx, &v, db.db.Rebind(`SELECT taxpayer_id, acquired_on, deregistered_on FROM vehicles WHERE id = ? AND municipality_id = ?`), d.VehicleID, municipalityID)
	if err = translate(err, "vehicle"); err != nil && fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
		return err // the database failed: not the taxpayer's mistake
	}
	if err != nil || v.TaxpayerID != taxpayerID {
		return fiscal.InvalidField("data.vehicle_id", "is not a vehicle of this taxpayer")
	}
	if v.DeregisteredOn != nil {
		return fiscal.InvalidField("data.vehicle_id", "the vehicle was already removed from the register")
	}
	if d.DisposedOn.Before(v.AcquiredOn) {
		return fiscal.InvalidField("data.disposed_on", "is before the vehicle was acquired ("+v.AcquiredOn.String()+")")
	}
	return nil
}

// knownDocument finds a document the taxpayer already gave on an earlier
// case (by its SHA-256), to link it to a new case.
func (db *DB) knownDocument(ctx context.Context, municipalityID, taxpayerID int64, r fiscal.AttachmentRef, i int) (*fiscal.Attachment, error) {
	att := &fiscal.Attachment{Kind: r.Kind, SHA256: strings.ToLower(r.SHA256)}
	err := db.get(ctx, att, `SELECT a.size, a.content_type, a.filename FROM case_attachments a JOIN cases c ON c.id = a.case_id
		WHERE a.municipality_id = ? AND a.sha256 = ? AND c.taxpayer_id = ? ORDER BY a.id LIMIT 1`, municipalityID, att.SHA256, taxpayerID)
	if err = translate(err, "document"); err != nil && fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
		return nil, err // the database failed: not the taxpayer's mistake
	}
	if err != nil {
		return nil, fiscal.InvalidField(fmt.Sprintf("attachments[%d].sha256", i), "is not a document this taxpayer gave before; upload it")
	}
	return att, nil
}

func (tx *Tx) insertAttachment(ctx context.Context, c *caseRow, att *fiscal.Attachment) (*fiscal.Attachment, error) {
	var by *int64
	if tx.Actor != nil && !tx.Actor.System {
		id := tx.Actor.UserID
		by = &id
	}
	att.CaseID, att.CreatedAt = c.ID, tx.Now
	var err error
	att.ID, err = tx.Insert(ctx, insertAttachmentSQL, attachmentArgs(c, att, by)...)
	if isUniqueViolation(err) {
		return nil, fiscal.Errorf(fiscal.ECONFLICT, "this document is already attached to the case as %s", att.Kind)
	}
	if err != nil {
		return nil, translate(err, "attachment")
	}
	if err := tx.event(ctx, c, "attachment_added", att.Kind, true); err != nil {
		return nil, err
	}
	return att, tx.Audit(ctx, c.MunicipalityID, "case.attach", "case", c.ID, nil, att)
}

// AddAttachment checks the upload's content, stores it by SHA-256 and links
// it to the case.
func (db *DB) AddAttachment(ctx context.Context, caseID int64, up *fiscal.Upload) (*fiscal.Attachment, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleTaxpayer, fiscal.RoleOfficer)
	if err != nil {
		return nil, err
	}
	if db.blobs == nil {
		return nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "attachment storage is not configured")
	}
	// Visibility and state first, so nothing is stored for a case the actor
	// may not touch. This read takes no Idempotency-Key claim: the claim
	// belongs to the transaction that adds the document.
	var c *caseRow
	if err := db.InTx(fiscal.WithIdempotencyClaim(ctx, nil), func(tx *Tx) error { c, err = tx.loadCase(ctx, caseID); return err }); err != nil {
		return nil, err
	}
	t := c.caseType()
	if t == nil || !t.KnowsDocument(up.Kind) {
		var ks []string
		if t != nil {
			for _, d := range t.Documents {
				ks = append(ks, d.Kind)
			}
		}
		return nil, fiscal.InvalidField("kind", "must be one of: "+strings.Join(ks, ", "))
	}
	if st := fiscal.CaseStatus(c.Status); st != fiscal.StatusSubmitted && st != fiscal.StatusAwaitingTaxpayer {
		return nil, fiscal.Errorf(fiscal.ECONFLICT, "documents can be added only while the case is submitted or awaiting the taxpayer (it is %s)", st)
	}
	if up.Size > fiscal.MaxAttachmentSize {
		return nil, fiscal.Errorf(fiscal.ETOOLARGE, "an attachment may have at most 10 MiB")
	}
	head := make([]byte, 512)
	n, _ := readFull(up.Content, head)
	head = head[:n]
	ct := fiscal.DocumentContentType(head)
	if ct == "" {
		return nil, fiscal.InvalidField("file", "must be a PDF, JPEG or PNG document (checked by its content)")
	}
	sha, size, err := db.blobs.Put(ctx, multiReader(head, up.Content), fiscal.MaxAttachmentSize)
	if err != nil {
		return nil, err
	}
	cal, err := db.calendar(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	var att *fiscal.Attachment
	err = db.InTx(ctx, func(tx *Tx) error {
		c, err := tx.loadCase(ctx, caseID)
		if err != nil {
			return err
		}
		if st := fiscal.CaseStatus(c.Status); st != fiscal.StatusSubmitted && st != fiscal.StatusAwaitingTaxpayer {
			return fiscal.Errorf(fiscal.ECONFLICT, "documents can be added only while the case is submitted or awaiting the taxpayer (it is %s)", st)
		}
		name := fiscal.CleanFilename(up.Filename)
		att, err = tx.insertAttachment(ctx, c, &fiscal.Attachment{Kind: up.Kind, SHA256: sha, Size: size, ContentType: ct, Filename: name})
		if err != nil {
			return err
		}
		m, err := tx.muni(ctx, c.MunicipalityID)
		if err != nil {
			return err
		}
		if fiscal.StraightThroughEligible(c.caseType(), fiscal.CaseStatus(c.Status), m.straightThrough(c.Type)) {
			atts, err := tx.attachments(ctx, c.ID)
			if err != nil {
				return err
			}
			return db.tryStraightThrough(ctx, tx, c, atts, cal)
		}
		return nil
	})
	return att, err
}

// Case returns a case with its documents, steps and timeline.
func (db *DB) Case(ctx context.Context, id int64) (*fiscal.CaseDetail, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	cal, err := db.calendar(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	var out *fiscal.CaseDetail
	err = db.readTx(ctx, func(tx *Tx) error {
		c, err := tx.loadCase(ctx, id)
		if err != nil {
			return err
		}
		out, err = db.detail(ctx, tx, c, cal)
		return err
	})
	return out, err
}

func (db *DB) detail(ctx context.Context, tx *Tx, c *caseRow, cal *calendar.Calendar) (*fiscal.CaseDetail, error) {
	a := tx.Actor
	atts, err := c.atts, error(nil)
	if atts == nil {
		if atts, err = tx.attachments(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	today := fiscal.LocalDate(tx.Now)
	d := &fiscal.CaseDetail{Case: *c.toCase(cal, today, atts), Attachments: atts, Steps: []*fiscal.CaseStep{}, Timeline: []*fiscal.CaseEvent{}}
	if c.steps != nil {
		d.Steps = c.steps
	} else if err := tx.Select(ctx, &d.Steps, `SELECT `+stepCols+` FROM case_steps WHERE case_id = ? ORDER BY seq`, c.ID); err != nil {
		return nil, translate(err, "case steps")
	}
	// Staff also see the notices of late steps (case_escalations), merged
	// by time after the events of the same instant.
	q, args := `SELECT at, actor, kind, body, public FROM case_events WHERE case_id = ? AND public = ? ORDER BY id`, []any{c.ID, true}
	if a.IsStaff() {
		q, args = `SELECT at, actor, kind, body, public FROM (SELECT at, actor, kind, body, public, 0 AS src, id AS k FROM case_events WHERE case_id = ?
			UNION ALL SELECT at, 'system', 'escalation', 'the step ' || step || ' is late: notice to its officer', FALSE, 1, escalation FROM case_escalations WHERE case_id = ? AND action = 'notify') timeline
			ORDER BY at, src, k`, []any{c.ID, c.ID}
	}
	if err := tx.Select(ctx, &d.Timeline, q, args...); err != nil {
		return nil, translate(err, "case events")
	}
	if c.Result != "" && c.Result != "{}" {
		d.Result = json.RawMessage(c.Result)
	}
	if c.def != nil {
		v := c.def.version
		d.DefinitionVersion = &v
		if d.OpenSteps, err = tx.openSteps(ctx, c, cal); err != nil {
			return nil, err
		}
	}
	if a.IsStaff() {
		_, expl := c.sla(cal, today)
		d.DueDate = &expl
		if d.Checks, d.Preview, err = db.checks(ctx, tx, c, atts); err != nil {
			return nil, err
		}
	} else {
		// A taxpayer sees the tax the approval would record (a
		// registration's preview), not the checks.
		f, err := c.caseType().CheckFacts(json.RawMessage(c.Data))
		if err != nil {
			return nil, err
		}
		if f.Preview {
			if _, d.Preview, err = db.checks(ctx, tx, c, atts); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

// queueRow is a case as the queue reads it: with the step it waits at.
type queueRow struct {
	caseRow
	RouteStep      *string     `db:"route_step"`
	RouteStepSince *civil.Date `db:"route_step_since"`
}

// queueStep sets the step an open case waits at and its due date, from the
// row's route columns and its definition (cached: versions never change).
func (db *DB) queueStep(ctx context.Context, cal *calendar.Calendar, today civil.Date, r *queueRow, c *fiscal.Case) error {
	if !c.Status.Open() {
		return nil
	}
	p, err := db.definitionAt(ctx, r.MunicipalityID, r.Type, r.definitionVersion())
	if err != nil {
		return err
	}
	d := p.def
	if len(d.Steps) == 0 {
		return nil
	}
	name, since := d.Steps[0].Name, r.SubmittedOn
	if r.RouteStep != nil && *r.RouteStep != "" {
		name = *r.RouteStep
	}
	if r.RouteStepSince != nil {
		since = *r.RouteStepSince
	}
	due := c.SLA.DueOn
	if st, ok := d.TopStep(name); ok && st.SLAWorkingDays > 0 {
		due = fiscal.StepDue(cal, since, st.SLAWorkingDays, r.pauses(), today)
	}
	c.Step, c.StepDueOn = name, &due
	return nil
}

// Cases is the queue: open cases (or those of ?status), riskiest first:
// breached, at risk, on track, paused; then by due date.
func (db *DB) Cases(ctx context.Context, f fiscal.CaseFilter) ([]*fiscal.Case, int, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, 0, err
	}
	cal, err := db.calendar(ctx, a.MunicipalityID)
	if err != nil {
		return nil, 0, err
	}
	where := ` WHERE municipality_id = ?`
	args := []any{a.MunicipalityID}
	if !a.IsStaff() {
		if a.TaxpayerID == nil {
			return []*fiscal.Case{}, 0, nil
		}
		where += ` AND taxpayer_id = ?`
		args = append(args, *a.TaxpayerID)
	}
	switch f.Status {
	case "":
		if a.IsStaff() {
			where += ` AND status IN ('submitted', 'awaiting_taxpayer', 'reviewed')`
		}
	case "all":
	case "open":
		where += ` AND status IN ('submitted', 'awaiting_taxpayer', 'reviewed')`
	case string(fiscal.StatusSubmitted), string(fiscal.StatusAwaitingTaxpayer), string(fiscal.StatusReviewed), string(fiscal.StatusApproved), string(fiscal.StatusRejected):
		where += ` AND status = ?`
		args = append(args, f.Status)
	default:
		return nil, 0, fiscal.InvalidField("status", "must be one of: submitted, awaiting_taxpayer, reviewed, approved, rejected, open, all")
	}
	switch f.SLAState {
	case "", fiscal.SLAOnTrack, fiscal.SLAAtRisk, fiscal.SLABreached, fiscal.SLAPaused:
	default:
		return nil, 0, fiscal.InvalidField("sla_state", "must be one of: on_track, at_risk, breached, paused")
	}
	if f.AssigneeID != nil {
		if *f.AssigneeID == 0 {
			where += ` AND assignee_id IS NULL`
		} else {
			where += ` AND assignee_id = ?`
			args = append(args, *f.AssigneeID)
		}
	}
	if f.Type != "" {
		where += ` AND type = ?`
		args = append(args, f.Type)
	}
	var rows []*queueRow
	if err := db.db.SelectContext(ctx, &rows, db.db.Rebind(`SELECT `+caseCols+`, route_step, route_step_since FROM cases`+where+` ORDER BY due_on, id LIMIT 10000`), args...); err != nil {
		return nil, 0, translate(err, "cases")
	}
	today := fiscal.LocalDate(db.clock.Now())
	list := make([]*fiscal.Case, 0, len(rows))
	for _, r := range rows {
		c := r.toCase(cal, today, nil)
		c.Data, c.MissingDocuments = nil, nil
		if err := db.queueStep(ctx, cal, today, r, c); err != nil {
			return nil, 0, err
		}
		if f.SLAState == "" || c.SLA.State == f.SLAState {
			list = append(list, c)
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		ri, rj := fiscal.SLARank(list[i].SLA.State), fiscal.SLARank(list[j].SLA.State)
		if ri != rj {
			return ri < rj
		}
		if list[i].SLA.DueOn != list[j].SLA.DueOn {
			return list[i].SLA.DueOn.Before(list[j].SLA.DueOn)
		}
		return list[i].ID < list[j].ID
	})
	total := len(list)
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	lo := min(max(f.Offset, 0), total)
	hi := min(lo+f.Limit, total)
	return list[lo:hi], total, nil
}

// updateCase writes the changed workflow columns, guarded by the version the
// use case read: a concurrent change makes it ECONFLICT.
func (tx *Tx) updateCase(ctx context.Context, c *caseRow) error {
	return tx.writeCase(ctx, c, tx.updateCaseStmt(c))
}

// errCaseChanged answers a write that met a case another transaction
// changed since it was read.
func errCaseChanged() error {
	return &fiscal.Error{Code: fiscal.ECONFLICT, Message: "the case was changed by someone else at the same time; reload it", Err: fiscal.ErrStale}
}

// updateCaseStmt is the update of c's row as it is now, if it is still at
// its version (writeCase runs it).
func (tx *Tx) updateCaseStmt(c *caseRow) stmt {
	q, args := `UPDATE cases SET status = ?, due_on = ?, pauses = ?, assignee_id = ?, decided_at = ?, decision_reason = ?,
		straight_through = ?, result = ?, updated_at = ?, version = version + 1`,
		[]any{c.Status, c.DueOn, c.Pauses, c.AssigneeID, c.DecidedAt, c.DecisionReason, c.StraightThrough, c.Result, tx.Now}
	if m := c.moveTo; m != nil {
		// As routeMoved: the step that moves the route is written after
		// the update (or in the same statement, which sees the steps as
		// they were), and takes the next seq.
		q += `, route_step = ?, route_step_since = ?, route_step_seq = (SELECT COALESCE(MAX(s.seq), 0) + 1 FROM case_steps s WHERE s.case_id = ?)`
		args = append(args, m.step, m.since, c.ID)
		c.moveTo = nil
	}
	return stmt{q + ` WHERE id = ? AND version = ?`, append(args, c.ID, c.Version)}
}

// writeCase runs the update of c's row (updateCaseStmt) and then the
// statements that go with it (a step, a timeline line, a notification): on
// PostgreSQL as one statement. A case another transaction changed since it
// was read (its version moved, or its next step was taken) is ErrStale,
// and the transaction is undone.
func (tx *Tx) writeCase(ctx context.Context, c *caseRow, update stmt, more ...stmt) error {
	stale := errCaseChanged()
	if tx.db.dialect == "postgres" && len(more) > 0 {
		q, args := withClauses(append([]stmt{{update.query + " RETURNING id", update.args}}, more...))
		var n int
		if err := tx.Get(ctx, &n, q+" SELECT COUNT(*) FROM w0", args...); err != nil {
			if isUniqueViolation(err) {
				return stale // the step's seq, taken meanwhile
			}
			return translate(err, "case")
		}
		if n == 0 {
			return stale // the other statements ran: the caller's transaction is undone
		}
		c.Version++
		return nil
	}
	res, err := tx.Exec(ctx, update.query, update.args...)
	if err != nil {
		return translate(err, "case")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return stale
	}
	c.Version++
	for _, s := range more {
		if _, err := tx.Exec(ctx, s.query, s.args...); err != nil {
			if isUniqueViolation(err) {
				return stale
			}
			return translate(err, "case")
		}
	}
	return nil
}

// Review is the officer's decision: the act on the case's review step
// (every shipped definition starts with it; a municipality's type may name
// its steps otherwise and take them with Act).
func (db *DB) Review(ctx context.Context, id int64, d *fiscal.Decision) (*fiscal.CaseDetail, error) {
	if err := fiscal.CheckDecision(fiscal.ActionReview, d); err != nil {
		return nil, err
	}
	return db.Act(ctx, id, &fiscal.ActInput{Step: fiscal.StepReview, Decision: d.Decision, Comment: d.Comment, Version: d.Version})
}

// Sign is the signer's decision: the act on the case's sign step, which
// the shipped definitions keep from the reviewer (distinct_from, four
// eyes); approval runs the type's effect in the same transaction.
func (db *DB) Sign(ctx context.Context, id int64, d *fiscal.Decision) (*fiscal.CaseDetail, error) {
	if err := fiscal.CheckDecision(fiscal.ActionSign, d); err != nil {
		return nil, err
	}
	return db.Act(ctx, id, &fiscal.ActInput{Step: fiscal.StepSign, Decision: d.Decision, Comment: d.Comment, Version: d.Version})
}

// Respond is the taxpayer's answer to a request for information: the pause
// ends today, the due date moves by the working days paused and the case
// is back at the step that asked (its status). Straight-through processing
// may then decide it.
func (db *DB) Respond(ctx context.Context, id int64, in *fiscal.Response) (*fiscal.CaseDetail, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	// The role check comes before any read, so a wrong role learns nothing.
	if err := fiscal.CheckRespond(fiscal.StatusAwaitingTaxpayer, a.Role); err != nil {
		return nil, err
	}
	cal, err := db.calendar(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	comment := strings.TrimSpace(in.Comment)
	var out *fiscal.CaseDetail
	err = db.InTx(ctx, func(tx *Tx) error {
		c, err := tx.loadCase(ctx, id)
		if err != nil {
			return err
		}
		from := fiscal.CaseStatus(c.Status)
		if err := fiscal.CheckRespond(from, a.Role); err != nil {
			return err
		}
		if in.Version != 0 && in.Version != c.Version {
			return &fiscal.Error{Code: fiscal.ECONFLICT, Message: fmt.Sprintf("the case is at version %d, not %d; reload it", c.Version, in.Version), Err: fiscal.ErrStale}
		}
		h, err := tx.routeHistory(ctx, c.ID)
		if err != nil {
			return err
		}
		r, err := h.replay(c.def.def)
		if err != nil {
			return err
		}
		c.hist = h // a response is no act of the route: still the case's history
		to := c.def.def.StatusAt(r)
		atts, err := tx.attachments(ctx, c.ID)
		if err != nil {
			return err
		}
		before := map[string]any{"status": c.Status, "version": c.Version}
		today := fiscal.LocalDate(tx.Now)
		c.Pauses = fiscal.EndPauses(c.pauses(), today)
		s, _ := c.sla(cal, today)
		c.Status, c.DueOn = string(to), s.DueOn
		if err := tx.updateCase(ctx, c); err != nil {
			return err
		}
		c.Status = string(from) // the step records from → to
		if err := tx.step(ctx, c, atts, &fiscal.CaseStep{Action: fiscal.ActionRespond, To: to, Comment: comment}); err != nil {
			return err
		}
		c.Status = string(to)
		if err := tx.event(ctx, c, fiscal.ActionRespond, comment, true); err != nil {
			return err
		}
		if err := tx.notifyStatus(ctx, c, cal, comment); err != nil {
			return err
		}
		if err := tx.Audit(ctx, c.MunicipalityID, "case."+fiscal.ActionRespond, "case", c.ID, before, map[string]any{"status": c.Status, "version": c.Version,
			"comment": comment}); err != nil {
			return err
		}
		m, err := tx.muni(ctx, c.MunicipalityID)
		if err != nil {
			return err
		}
		if fiscal.StraightThroughEligible(c.caseType(), fiscal.CaseStatus(c.Status), m.straightThrough(c.Type)) {
			if err := db.tryStraightThrough(ctx, tx, c, atts, cal); err != nil {
				return err
			}
		}
		out, err = db.detail(ctx, tx, c, cal)
		return err
	})
	return out, err
}

// Assign gives a case to an officer.
func (db *DB) Assign(ctx context.Context, id, officerID int64) (*fiscal.CaseDetail, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleOfficer, fiscal.RoleSigner, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	cal, err := db.calendar(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	var out *fiscal.CaseDetail
	err = db.InTx(ctx, func(tx *Tx) error {
		c, err := tx.loadCase(ctx, id)
		if err != nil {
			return err
		}
		if !fiscal.CaseStatus(c.Status).Open() {
			return fiscal.Errorf(fiscal.ECONFLICT, "the case is %s", c.Status)
		}
		var username string
		if err := tx.Get(ctx, &username, `SELECT username FROM users WHERE id = ? AND municipality_id = ? AND role = 'officer' AND disabled = ?`,
			officerID, a.MunicipalityID, false); err != nil {
			return fiscal.InvalidField("officer_id", "is not an active officer of the municipality")
		}
		before := c.AssigneeID
		c.AssigneeID = &officerID
		if err := tx.updateCase(ctx, c); err != nil {
			return err
		}
		if err := tx.event(ctx, c, "assigned", username, false); err != nil {
			return err
		}
		if err := tx.Audit(ctx, c.MunicipalityID, "case.assign", "case", c.ID, map[string]any{"assignee_id": before}, map[string]any{"assignee_id": officerID}); err != nil {
			return err
		}
		out, err = db.detail(ctx, tx, c, cal)
		return err
	})
	return out, err
}

// Comment adds a comment to the timeline; internal comments (staff only)
// are hidden from the taxpayer.
func (db *DB) Comment(ctx context.Context, id int64, body string, internal bool) error {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return err
	}
	if internal && !a.IsStaff() {
		return fiscal.InvalidField("internal", "only staff write internal comments")
	}
	body = strings.TrimSpace(body)
	if body == "" {
		return fiscal.InvalidField("body", "is required")
	}
	return db.InTx(ctx, func(tx *Tx) error {
		c, err := tx.loadCase(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.event(ctx, c, "comment", body, !internal); err != nil {
			return err
		}
		if !internal && a.IsStaff() {
			if err := tx.notifyTaxpayer(ctx, c, "Cererea "+c.Number+": un mesaj nou", body); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, c.MunicipalityID, "case.comment", "case", c.ID, nil, map[string]any{"internal": internal, "body": body})
	})
}

// SetStraightThrough turns straight-through processing on or off for a case
// type in the actor's municipality (admin).
func (db *DB) SetStraightThrough(ctx context.Context, caseType string, on bool) error {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return err
	}
	if err := fiscal.CheckStraightThroughType(caseType); err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *Tx) error {
		m, err := tx.muni(ctx, a.MunicipalityID)
		if err != nil {
			return err
		}
		s := m.settings()
		before, _ := json.Marshal(s)
		st, _ := s["straight_through"].(map[string]any)
		if st == nil {
			st = map[string]any{}
		}
		st[caseType] = on
		s["straight_through"] = st
		after, _ := json.Marshal(s)
		if _, err := tx.Exec(ctx, `UPDATE municipalities SET settings = ? WHERE id = ?`, string(after), a.MunicipalityID); err != nil {
			return translate(err, "municipality")
		}
		return tx.Audit(ctx, a.MunicipalityID, "settings.straight_through", "municipality", a.MunicipalityID, json.RawMessage(before), json.RawMessage(after))
	})
}

// RecomputeOpenCaseDeadlines recomputes the due dates of a municipality's
// open cases under the calendar as tx sees it. Call it in the transaction
// that adds, changes or removes a bridge day (then InvalidateTaxEngine after
// commit). It returns how many due dates moved.
func (tx *Tx) RecomputeOpenCaseDeadlines(ctx context.Context, municipalityID int64) (int, error) {
	cal, err := tx.calendarInTx(ctx, municipalityID)
	if err != nil {
		return 0, err
	}
	var rows []*caseRow
	if err := tx.Select(ctx, &rows, `SELECT `+caseCols+` FROM cases WHERE municipality_id = ? AND status IN ('submitted', 'awaiting_taxpayer', 'reviewed')`, municipalityID); err != nil {
		return 0, translate(err, "cases")
	}
	today := fiscal.LocalDate(tx.Now)
	moved := 0
	for _, c := range rows {
		s, _ := c.sla(cal, today)
		if s.DueOn == c.DueOn {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET due_on = ?, updated_at = ?, version = version + 1 WHERE id = ?`, s.DueOn, tx.Now, c.ID); err != nil {
			return 0, translate(err, "case")
		}
		if err := tx.event(ctx, c, "due_date_changed", c.DueOn.String()+" → "+s.DueOn.String()+" (calendar changed)", true); err != nil {
			return 0, err
		}
		if err := tx.Audit(ctx, municipalityID, "case.due_date", "case", c.ID, map[string]any{"due_on": c.DueOn}, map[string]any{"due_on": s.DueOn}); err != nil {
			return 0, err
		}
		moved++
	}
	return moved, nil
}

// RecomputeOpenCaseDeadlines is the transaction around Tx's method, for a
// calendar change made elsewhere (the command line); it refreshes the
// cached calendar first.
func (db *DB) RecomputeOpenCaseDeadlines(ctx context.Context, municipalityID int64) (int, error) {
	db.InvalidateTaxEngine(municipalityID)
	var n int
	err := db.InTx(ctx, func(tx *Tx) error {
		var err error
		n, err = tx.RecomputeOpenCaseDeadlines(ctx, municipalityID)
		return err
	})
	return n, err
}
