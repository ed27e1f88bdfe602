package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// Documents (fiscal.DocumentService): the pipeline every issued document
// goes through (issue: the series' number, the verification code, the PDF
// produced, signed and stored, the row and its audit entry) and the reads:
// a document's PDF for its holder or the staff (DocumentPDF), a taxpayer's
// documents (TaxpayerDocuments), the public check of a verification code
// (VerifyDocument). What is issued is elsewhere: the certificate in
// certificates.go, an approved case's documents and the tax decisions in
// casedocuments.go, receipts in receipts.go.
//
// A document is issued inside the transaction of the use case that decides
// it (the certificate request, the signer's approval of a case): the number
// comes from a counter row updated in that transaction, the content is read
// in it, and the DocumentProducer renders, signs and stores the PDF before
// the row is written. A rollback leaves at most an unreferenced blob
// (content-addressed, harmless) and uses no number.

// UseDocuments gives the store the producer of documents' PDFs; without it
// certificate requests answer 503 and approvals issue no documents.
func (db *DB) UseDocuments(p fiscal.DocumentProducer) { db.docs = p }

// docPrefixes are the number prefixes of the document series.
var docPrefixes = map[string]string{
	fiscal.DocFiscalClearance:       "CAF",
	fiscal.DocVehicleRegistration:   "DIF",
	fiscal.DocVehicleDeregistration: "DSF",
	fiscal.DocTaxDecision:           "DI",
}

// codeEncoding writes verification codes: base32 without padding, 160
// random bits in 32 characters (A-Z, 2-7), easy to read and type.
var codeEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// codeBytes is the verification code's entropy in bytes (160 bits).
const codeBytes = 20

func newVerificationCode() (string, error) {
	b := make([]byte, codeBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return codeEncoding.EncodeToString(b), nil
}

// validCode reports whether s has the shape of a verification code.
func validCode(s string) bool {
	if len(s) != codeEncoding.EncodedLen(codeBytes) {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}

const docCols = `id, municipality_id, type, number, taxpayer_id, issued_on, valid_until, issued_at, verification_code, sha256, size, case_id, payment_id, assessment_id, vehicle_id`

func docView(d *fiscal.Document) *fiscal.Document {
	d.Title = fiscal.DocumentTitles[d.Type]
	d.PDFURL = fmt.Sprintf("/api/v1/documents/%d.pdf", d.ID)
	return d
}

// docLinks are what an issued document is about.
type docLinks struct {
	caseID, paymentID, assessmentID, vehicleID *int64
}

// nextDocumentNumber allocates the next number of a document series inside
// the issuing transaction.
func (tx *Tx) nextDocumentNumber(ctx context.Context, municipalityID int64, docType string, year int) (string, error) {
	var n int64
	err := tx.Get(ctx, &n, `INSERT INTO document_counters (municipality_id, type, year, last_number) VALUES (?, ?, ?, 1)
		ON CONFLICT (municipality_id, type, year) DO UPDATE SET last_number = document_counters.last_number + 1 RETURNING last_number`,
		municipalityID, docType, year)
	if err != nil {
		return "", translate(err, "document number")
	}
	return fmt.Sprintf("%s-%d-%06d", docPrefixes[docType], year, n), nil
}

// docIssuer reads the municipality as documents print it: its name and the
// settings department (default "Direcția Fiscală") and address.
func (tx *Tx) docIssuer(ctx context.Context, municipalityID int64) (fiscal.DocumentIssuer, map[string]any, error) {
	var m struct {
		Name     string `db:"name"`
		Settings string `db:"settings"`
	}
	if err := tx.Get(ctx, &m, `SELECT name, settings FROM municipalities WHERE id = ?`, municipalityID); err != nil {
		return fiscal.DocumentIssuer{}, nil, translate(err, "municipality")
	}
	s := map[string]any{}
	_ = json.Unmarshal([]byte(m.Settings), &s)
	str := func(k, def string) string {
		if v, ok := s[k].(string); ok && v != "" {
			return v
		}
		return def
	}
	name := m.Name
	if !strings.Contains(strings.ToLower(name), "municipiul") && !strings.Contains(strings.ToLower(name), "primăria") {
		name = str("document_issuer", "Municipiul "+m.Name)
	}
	return fiscal.DocumentIssuer{Name: name, Department: str("department", "Direcția Fiscală"), Address: str("address", "")}, s, nil
}

// docHolder reads a taxpayer as documents print them.
func (tx *Tx) docHolder(ctx context.Context, municipalityID, taxpayerID int64) (fiscal.DocumentHolder, error) {
	var tp fiscal.Taxpayer
	if err := tx.Get(ctx, &tp, `SELECT `+taxpayerColumns+` FROM taxpayers WHERE id = ? AND municipality_id = ?`, taxpayerID, municipalityID); err != nil {
		return fiscal.DocumentHolder{}, translate(err, "taxpayer")
	}
	h := fiscal.DocumentHolder{Name: tp.Name, Kind: tp.Kind, Address: tp.Address}
	switch {
	case tp.CNP != nil:
		h.Ident = "CNP: " + *tp.CNP
	case tp.CUI != nil:
		h.Ident = "CUI: " + *tp.CUI
	}
	return h, nil
}

// docSigner is who the document names as signing: the signer approving the
// case, or for documents issued at once the office (settings
// document_signer_name / document_signer_role).
func (tx *Tx) docSigner(ctx context.Context, settings map[string]any, dept string) (name, role string) {
	if a := tx.Actor; a != nil && !a.System && a.Role == fiscal.RoleSigner {
		var full string
		_ = tx.Get(ctx, &full, `SELECT full_name FROM users WHERE id = ?`, a.UserID)
		if full == "" {
			full = a.Username
		}
		return full, "Șef serviciu, " + dept
	}
	name, _ = settings["document_signer_name"].(string)
	role, _ = settings["document_signer_role"].(string)
	if name == "" {
		name = dept
	}
	if role == "" {
		role = "Document emis automat și semnat electronic"
	}
	return name, role
}

// issue allocates the number (unless c.Number is set: receipts) and the
// verification code, has the PDF produced and stored, and records the
// document with its audit entry, all in tx. The caller fills the type and
// the body of c.
func (db *DB) issue(ctx context.Context, tx *Tx, municipalityID, taxpayerID int64, c *fiscal.DocumentContent, l docLinks) (*fiscal.Document, error) {
	if db.docs == nil {
		return nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "documents are not configured")
	}
	iss, settings, err := tx.docIssuer(ctx, municipalityID)
	if err != nil {
		return nil, err
	}
	h, err := tx.docHolder(ctx, municipalityID, taxpayerID)
	if err != nil {
		return nil, err
	}
	c.Municipality, c.Holder = iss, h
	c.SignerName, c.SignerRole = tx.docSigner(ctx, settings, iss.Department)
	c.IssuedAt = tx.Now
	if c.IssuedOn.IsZero() {
		c.IssuedOn = fiscal.LocalDate(tx.Now)
	}
	if c.Number == "" {
		if c.Number, err = tx.nextDocumentNumber(ctx, municipalityID, c.Type, c.IssuedOn.Year); err != nil {
			return nil, err
		}
	}
	if c.VerificationCode, err = newVerificationCode(); err != nil {
		return nil, fiscal.Internal(err, "verification code")
	}
	sha, size, err := db.docs.Produce(ctx, c)
	if err != nil {
		return nil, err
	}
	var issuedBy *int64
	if a := tx.Actor; a != nil && !a.System {
		id := a.UserID
		issuedBy = &id
	}
	d := &fiscal.Document{MunicipalityID: municipalityID, Type: c.Type, Number: c.Number, TaxpayerID: taxpayerID, IssuedOn: c.IssuedOn,
		ValidUntil: c.ValidUntil, IssuedAt: c.IssuedAt, VerificationCode: c.VerificationCode, SHA256: sha, Size: size,
		CaseID: l.caseID, PaymentID: l.paymentID, AssessmentID: l.assessmentID, VehicleID: l.vehicleID}
	d.ID, err = tx.Insert(ctx, `INSERT INTO documents (municipality_id, type, number, taxpayer_id, holder_masked, issued_on, valid_until, issued_at,
		verification_code, sha256, size, case_id, payment_id, assessment_id, vehicle_id, issued_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		municipalityID, d.Type, d.Number, taxpayerID, fiscal.MaskName(h.Name), d.IssuedOn, d.ValidUntil, d.IssuedAt,
		d.VerificationCode, sha, size, l.caseID, l.paymentID, l.assessmentID, l.vehicleID, issuedBy)
	if err != nil {
		return nil, translate(err, "document")
	}
	if err := tx.Audit(ctx, municipalityID, "document.issue", "document", d.ID, nil, map[string]any{
		"type": d.Type, "number": d.Number, "taxpayer_id": taxpayerID, "sha256": sha, "case_id": l.caseID, "payment_id": l.paymentID,
		"assessment_id": l.assessmentID, "vehicle_id": l.vehicleID}); err != nil {
		return nil, err
	}
	return docView(d), nil
}

// visibleDocument reads a document the actor may see (its holder, the staff
// of its municipality); anything else is ENOTFOUND.
func (db *DB) visibleDocument(ctx context.Context, where string, args ...any) (*fiscal.Document, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	var d fiscal.Document
	if err := db.get(ctx, &d, `SELECT `+docCols+` FROM documents WHERE municipality_id = ? AND `+where, append([]any{a.MunicipalityID}, args...)...); err != nil {
		return nil, translate(err, "document")
	}
	if !a.CanSeeTaxpayer(d.MunicipalityID, d.TaxpayerID) {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "document not found")
	}
	if !a.CanSeeRecord(d.MunicipalityID, d.TaxpayerID) {
		return nil, fiscal.ErrRecordNotVerified()
	}
	return docView(&d), nil
}

func (db *DB) openDocument(ctx context.Context, d *fiscal.Document) (*fiscal.Document, io.ReadCloser, error) {
	if db.blobs == nil {
		return nil, nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "document storage is not configured")
	}
	rc, err := db.blobs.Open(ctx, d.SHA256)
	if err != nil {
		return nil, nil, err
	}
	return d, rc, nil
}

// DocumentPDF opens a document's PDF for its holder or the municipality's staff.
func (db *DB) DocumentPDF(ctx context.Context, id int64) (*fiscal.Document, io.ReadCloser, error) {
	d, err := db.visibleDocument(ctx, `id = ?`, id)
	if err != nil {
		return nil, nil, err
	}
	return db.openDocument(ctx, d)
}

// TaxpayerDocuments lists a taxpayer's documents, newest first.
func (db *DB) TaxpayerDocuments(ctx context.Context, taxpayerID int64) ([]*fiscal.Document, error) {
	tp, err := db.Taxpayer(ctx, taxpayerID)
	if err != nil {
		return nil, err
	}
	out := []*fiscal.Document{}
	if err := db.selectx(ctx, &out, `SELECT `+docCols+` FROM documents WHERE municipality_id = ? AND taxpayer_id = ? ORDER BY issued_at DESC, id DESC`,
		tp.MunicipalityID, tp.ID); err != nil {
		return nil, translate(err, "documents")
	}
	for _, d := range out {
		docView(d)
	}
	return out, nil
}

// VerifyDocument answers whether a code belongs to an issued document, with
// only what a stranger may read.
func (db *DB) VerifyDocument(ctx context.Context, code string) (*fiscal.DocumentVerification, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if !validCode(code) {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "no document has this verification code")
	}
	var row struct {
		Type       string      `db:"type"`
		Number     string      `db:"number"`
		IssuedOn   civil.Date  `db:"issued_on"`
		ValidUntil *civil.Date `db:"valid_until"`
		Holder     string      `db:"holder_masked"`
		SHA256     string      `db:"sha256"`
		Revoked    *string     `db:"revoked"`
		Name       string      `db:"name"`
	}
	err := db.get(ctx, &row, `SELECT d.type, d.number, d.issued_on, d.valid_until, d.holder_masked, d.sha256, CAST(d.revoked_at AS TEXT) AS revoked, m.name
		FROM documents d JOIN municipalities m ON m.id = d.municipality_id WHERE d.verification_code = ?`, code)
	if err != nil {
		if fiscal.ErrorCode(translate(err, "")) == fiscal.ENOTFOUND {
			return nil, fiscal.Errorf(fiscal.ENOTFOUND, "no document has this verification code")
		}
		return nil, translate(err, "document")
	}
	v := &fiscal.DocumentVerification{Valid: true, Status: "valid", Type: row.Type, Title: fiscal.DocumentTitles[row.Type], Number: row.Number,
		IssuedOn: row.IssuedOn, ValidUntil: row.ValidUntil, Holder: row.Holder, SHA256: row.SHA256, Municipality: row.Name}
	switch {
	case row.Revoked != nil:
		v.Valid, v.Status = false, "revoked"
	case row.ValidUntil != nil && fiscal.LocalDate(db.clock.Now()).After(*row.ValidUntil):
		v.Valid, v.Status = false, "expired"
	}
	return v, nil
}
