package fiscal

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"fiscald/calc"
	"fiscald/internal/civil"
)

// CaseStatus is where a case stands in the workflow.
type CaseStatus string

// The statuses of the workflow: submitted → (officer review) → reviewed →
// (signer) → approved or rejected; awaiting_taxpayer while the officer has
// asked for information (the SLA clock is paused).
const (
	StatusSubmitted        CaseStatus = "submitted"
	StatusAwaitingTaxpayer CaseStatus = "awaiting_taxpayer"
	StatusReviewed         CaseStatus = "reviewed"
	StatusApproved         CaseStatus = "approved"
	StatusRejected         CaseStatus = "rejected"
)

// Open reports whether the case still waits for a decision.
func (s CaseStatus) Open() bool { return s != StatusApproved && s != StatusRejected }

// Step actions (what a signed step did) and decisions.
const (
	ActionSubmit  = "submit"
	ActionReview  = "review"
	ActionRespond = "respond"
	ActionSign    = "sign"
	// ActionAct is an act on a step of a definition's route not named
	// review or sign (StepAction).
	ActionAct = "act"

	DecisionApprove     = "approve"
	DecisionReject      = "reject"
	DecisionRequestInfo = "request_info"
)

// CheckRespond checks a response to a request for information: the
// taxpayer (or an officer at the desk for them) answers a case that waits
// for it. A role that may not answer is EFORBIDDEN, a case that does not
// wait ECONFLICT. Every other move of a case is its definition's route
// (CaseDefinition.Take, StatusAt).
func CheckRespond(from CaseStatus, role Role) error {
	if role != RoleTaxpayer && role != RoleOfficer {
		return Errorf(EFORBIDDEN, "your role (%s) may not respond for a case", role)
	}
	if from != StatusAwaitingTaxpayer {
		return Errorf(ECONFLICT, "a case that is %s cannot take a response", from)
	}
	return nil
}

// Case is a request to the department with its workflow state.
type Case struct {
	ID              int64           `json:"id"`
	Number          string          `json:"number"`
	Type            string          `json:"type"`
	TaxpayerID      int64           `json:"taxpayer_id"`
	Status          CaseStatus      `json:"status"`
	SubmittedAt     time.Time       `json:"submitted_at"`
	SLA             SLA             `json:"sla"`
	Data            json.RawMessage `json:"data,omitempty"`
	AssigneeID      *int64          `json:"assignee_id,omitempty"`
	DecisionReason  string          `json:"decision_reason,omitempty"`
	DecidedAt       *time.Time      `json:"decided_at,omitempty"`
	StraightThrough bool            `json:"straight_through,omitempty"`
	// MissingDocuments lists the kinds of required documents not yet attached.
	MissingDocuments []string `json:"missing_documents"`
	// Revision counts the case's changes; a decision may name it (409 when
	// the case changed meanwhile).
	Version int64 `json:"revision"`
	// Step is the step an open case waits at (a parallel group by its
	// name) and StepDueOn its due date: the step's own term when its
	// definition gives one, else the case's (the queue shows both).
	Step      string      `json:"step,omitempty"`
	StepDueOn *civil.Date `json:"step_due_on,omitempty"`
}

// CaseDetail is a case with its documents, signed steps, timeline, automatic
// checks and, for staff, how its due date was computed.
type CaseDetail struct {
	Case
	Attachments []*Attachment      `json:"attachments"`
	Steps       []*CaseStep        `json:"steps"`
	Timeline    []*CaseEvent       `json:"timeline"`
	Checks      []Check            `json:"checks,omitempty"`
	Preview     *AssessmentPreview `json:"assessment_preview,omitempty"`
	DueDate     *SLAExplanation    `json:"due_date_computation,omitempty"`
	Result      json.RawMessage    `json:"result,omitempty"`
	// DefinitionVersion and OpenSteps are set for a case of a published
	// type: the version of its definition it runs on (the contract's
	// "version") and the steps it waits for.
	DefinitionVersion *int64     `json:"version,omitempty"`
	OpenSteps         []OpenStep `json:"open_steps,omitempty"`
}

// Attachment is a document linked to a case; its content is kept by SHA-256.
type Attachment struct {
	ID          int64     `json:"id" db:"id"`
	CaseID      int64     `json:"case_id" db:"case_id"`
	Kind        string    `json:"kind" db:"kind"`
	SHA256      string    `json:"sha256" db:"sha256"`
	Size        int64     `json:"size" db:"size"`
	ContentType string    `json:"content_type" db:"content_type"`
	Filename    string    `json:"filename,omitempty" db:"filename"`
	CreatedAt   time.Time `json:"created_at" db:"created_at"`
}

// CaseStep is one signed step of a case.
type CaseStep struct {
	Seq        int        `json:"seq" db:"seq"`
	Action     string     `json:"action" db:"action"`
	Decision   string     `json:"decision,omitempty" db:"decision"`
	From       CaseStatus `json:"from" db:"from_status"`
	To         CaseStatus `json:"to" db:"to_status"`
	ActorID    *int64     `json:"actor_id" db:"actor_id"`
	Actor      string     `json:"actor" db:"actor"`
	ActorRole  string     `json:"actor_role" db:"actor_role"`
	At         time.Time  `json:"at" db:"at"`
	Comment    string     `json:"comment,omitempty" db:"comment"`
	State      string     `json:"-" db:"state_json"`
	PrevDigest string     `json:"prev_digest" db:"prev_digest"`
	Digest     string     `json:"digest" db:"digest"`
	KeyID      int64      `json:"key_id" db:"key_id"`
	Signature  string     `json:"signature" db:"signature"`
	// Step is the step of the case's route the act took ("review",
	// "opinions.urbanism"); empty for a submission, a response, and the
	// review or signature of a case filed before every type was a definition.
	Step string `json:"step,omitempty" db:"step"`
	// OnBehalfOf names the absent person a substitute acted for.
	OnBehalfOfID *int64 `json:"on_behalf_of_id,omitempty" db:"on_behalf_of_id"`
	OnBehalfOf   string `json:"on_behalf_of,omitempty" db:"on_behalf_of"`
}

// CaseEvent is a line of a case's timeline.
type CaseEvent struct {
	At     time.Time `json:"at" db:"at"`
	Actor  string    `json:"actor" db:"actor"`
	Kind   string    `json:"kind" db:"kind"`
	Body   string    `json:"body,omitempty" db:"body"`
	Public bool      `json:"public" db:"public"`
}

// Check is one automatic check of a case (shown to officers; all must pass
// for straight-through processing).
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// AssessmentPreview is what approving a vehicle registration will record:
// the first taxed year and the tax of each year owed so far.
type AssessmentPreview struct {
	FirstTaxedYear int           `json:"first_taxed_year"`
	Years          []PreviewYear `json:"years"`
	NextYear       *PreviewYear  `json:"next_year,omitempty"`
	Error          string        `json:"error,omitempty"`
}

// PreviewYear is one year's computed tax.
type PreviewYear struct {
	Year         int                `json:"year"`
	Annual       string             `json:"annual_tax"`
	Installments []calc.Installment `json:"installments"`
	Lines        []calc.Line        `json:"lines,omitempty"`
	// Note says when the year's own rates are not configured yet and the
	// figure uses the latest configured year's.
	Note string `json:"note,omitempty"`
}

// Verification is the result of re-checking a case's signed steps.
type Verification struct {
	Valid            bool   `json:"valid"`
	Steps            int    `json:"steps"`
	FirstInvalidStep *int   `json:"first_invalid_step"`
	Reason           string `json:"reason,omitempty"`
}

// NewCase is the intake request (contract: POST /api/v1/cases). Attachments
// may reference documents the taxpayer already gave on an earlier case.
type NewCase struct {
	Type        string          `json:"type" validate:"required,max=64"`
	TaxpayerID  int64           `json:"taxpayer_id" validate:"required,gt=0"`
	Data        json.RawMessage `json:"data" validate:"required"`
	Attachments []AttachmentRef `json:"attachments,omitempty" validate:"max=20,dive"`
}

// AttachmentRef links a document already stored (by its SHA-256) to a new case.
type AttachmentRef struct {
	Kind   string `json:"kind" validate:"required,max=64"`
	SHA256 string `json:"sha256" validate:"required,len=64,hexadecimal"`
}

// Decision is an officer's review or a signer's decision.
type Decision struct {
	Decision string `json:"decision" validate:"required,oneof=approve reject request_info"`
	Comment  string `json:"comment" validate:"max=4000"`
	// Version, when given, must be the case's current revision (else 409).
	Version int64 `json:"revision,omitempty" validate:"gte=0"`
}

// Response is the taxpayer's answer to a request for information.
type Response struct {
	Comment string `json:"comment" validate:"required,max=4000"`
	Version int64  `json:"revision,omitempty" validate:"gte=0"`
}

// CaseFilter narrows the staff queue.
type CaseFilter struct {
	Status     string
	SLAState   string
	AssigneeID *int64
	Type       string
	Limit      int
	Offset     int
}

// Upload is an attachment's content as received.
type Upload struct {
	Kind     string
	Filename string
	Size     int64
	Content  io.Reader
}

// MaxAttachmentSize is the largest attachment accepted (10 MiB).
const MaxAttachmentSize = 10 << 20

// CaseService is the workflow of cases.
type CaseService interface {
	// CreateCase is the intake. EINVALID for bad form data, ENOTFOUND for a
	// taxpayer the actor may not act for, EFORBIDDEN for roles that may not
	// file cases.
	CreateCase(ctx context.Context, in *NewCase) (*Case, error)
	// AddAttachment stores and links a document. EINVALID for a content type
	// other than PDF, JPEG, PNG or an unknown kind, ETOOLARGE over 10 MiB,
	// ECONFLICT when the case is decided.
	AddAttachment(ctx context.Context, caseID int64, up *Upload) (*Attachment, error)
	// AttachmentContent opens a document of a case visible to the actor.
	AttachmentContent(ctx context.Context, caseID, attachmentID int64) (*Attachment, io.ReadCloser, error)
	// Case returns a case visible to the actor (else ENOTFOUND).
	Case(ctx context.Context, id int64) (*CaseDetail, error)
	// Cases lists the queue, riskiest first.
	Cases(ctx context.Context, f CaseFilter) ([]*Case, int, error)
	// Review is the officer's decision. ECONFLICT for a case in another
	// state, a concurrent change or missing required documents.
	Review(ctx context.Context, id int64, d *Decision) (*CaseDetail, error)
	// Respond is the taxpayer's answer; the SLA clock resumes.
	Respond(ctx context.Context, id int64, r *Response) (*CaseDetail, error)
	// Sign is the signer's decision; approval applies the case in the same
	// transaction. ECONFLICT when the signer reviewed the case (four eyes).
	Sign(ctx context.Context, id int64, d *Decision) (*CaseDetail, error)
	// Assign gives the case to an officer (EINVALID when the user is not an
	// officer of the municipality).
	Assign(ctx context.Context, id, officerID int64) (*CaseDetail, error)
	// Comment adds a comment to the timeline; internal ones are hidden from
	// the taxpayer.
	Comment(ctx context.Context, id int64, body string, internal bool) error
	// VerifyCase re-checks the chain of signed steps.
	VerifyCase(ctx context.Context, id int64) (*Verification, error)
	// SetStraightThrough turns straight-through processing on or off for a
	// case type (admin).
	SetStraightThrough(ctx context.Context, caseType string, on bool) error
}

// KeyVault creates and uses the signing keys the service keeps for staff. A
// vault of qualified certificates (keys in a QSCD) implements it with an
// empty sealed private key and its own Sign.
type KeyVault interface {
	// NewKey creates a key: its algorithm, public key, optional PEM
	// certificate and the private key sealed for storage.
	NewKey() (alg string, public []byte, certificate string, sealed []byte, err error)
	// Sign signs a digest with a sealed private key.
	Sign(alg string, sealed, digest []byte) ([]byte, error)
}

// BlobStore keeps attachment contents by SHA-256.
type BlobStore interface {
	// Put stores the content and returns its SHA-256 (hex) and size; storing
	// the same content twice keeps one copy. ETOOLARGE past max bytes.
	Put(ctx context.Context, r io.Reader, max int64) (sha string, size int64, err error)
	// Open returns the content of a stored blob (ENOTFOUND when absent).
	Open(ctx context.Context, sha string) (io.ReadCloser, error)
}

// Notification is a message of the outbox.
type Notification struct {
	ID        int64  `db:"id"`
	Recipient string `db:"recipient"`
	Subject   string `db:"subject"`
	Body      string `db:"body"`
	// Attempts counts the claims of the message, this one included.
	Attempts int `db:"attempts"`
}

// Outbox hands queued notifications to senders after their transaction
// committed. Several senders (one per instance of the service) may drain
// one outbox: a sender claims messages for a lease before it sends them, so
// no two senders hold the same message at once, and a sender that died
// leaves its messages to the others when the lease ends.
type Outbox interface {
	// ClaimNotifications claims for owner, until now+lease, up to limit
	// messages that are due: not sent, with a recipient, claimed fewer than
	// maxAttempts times, neither under another sender's lease nor waiting
	// for a retry. Each claim counts as an attempt.
	ClaimNotifications(ctx context.Context, owner string, limit, maxAttempts int, lease time.Duration) ([]*Notification, error)
	// NotificationSent marks a message owner sent (after the mail server
	// took it).
	NotificationSent(ctx context.Context, id int64, owner string) error
	// NotificationFailed records a failed send of a message owner holds and
	// releases it: it is due again after retryAfter.
	NotificationFailed(ctx context.Context, id int64, owner string, sendErr error, retryAfter time.Duration) error
}

// SLAReport is what one run of the SLA monitor did.
type SLAReport struct {
	Checked   int `json:"checked"`
	Escalated int `json:"escalated"`
	Breached  int `json:"breached"`
}

// DocumentContentType recognises the content of an attachment by its first
// bytes: PDF, JPEG or PNG. It returns "" for anything else.
func DocumentContentType(head []byte) string {
	switch {
	case len(head) >= 5 && string(head[:5]) == "%PDF-":
		return "application/pdf"
	case len(head) >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		return "image/jpeg"
	case len(head) >= 8 && string(head[:8]) == "\x89PNG\r\n\x1a\n":
		return "image/png"
	}
	return ""
}

// LocalDate is the date of t in Romania (Europe/Bucharest), the date that
// counts for deadlines.
func LocalDate(t time.Time) civil.Date { return civil.Of(t.In(bucharest)) }
