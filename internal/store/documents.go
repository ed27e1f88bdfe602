package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// This file is the issuing of documents (fiscal.DocumentService). A document
// is issued inside the transaction of the use case that decides it (the
// certificate request, the signer's approval of a case): the number comes
// from a counter row updated in that transaction, the content is read in it,
// and the DocumentProducer renders, signs and stores the PDF before the row
// is written. A rollback leaves at most an unreferenced blob (content-
// addressed, harmless) and uses no number.

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

// clearanceContent gathers a taxpayer's exigible debts on asOf: principal
// (and adjustments, fines) outstanding after its due date, with the late
// fees accrued to asOf, grouped by tax and budget code.
func (db *DB) clearanceContent(ctx context.Context, tx *Tx, municipalityID, taxpayerID int64, asOf civil.Date) (*fiscal.ClearanceContent, error) {
	e, err := db.TaxEngine(ctx, municipalityID)
	if err != nil {
		return nil, err
	}
	slug, err := db.municipalitySlug(ctx, municipalityID)
	if err != nil {
		return nil, err
	}
	debts, err := loadDebts(ctx, tx, municipalityID, taxpayerID, asOf)
	if err != nil {
		return nil, err
	}
	lines, err := accountLines(ctx, tx, e, slug, municipalityID, taxpayerID, asOf, debts)
	if err != nil {
		return nil, err
	}
	out := &fiscal.ClearanceContent{AsOf: asOf}
	groups := map[string]*fiscal.ClearanceGroup{}
	for _, l := range lines {
		line := fiscal.ClearanceLine{Year: l.Year, Installment: l.Installment, DueDate: l.DueDate}
		if l.DueDate.Before(asOf) {
			line.Principal = l.Outstanding
		}
		line.LateFees = l.LateFees
		if l.Kind == fiscal.DebtLateFee { // a fee not tied to a principal
			line.Principal, line.LateFees = 0, line.Principal+line.LateFees
		}
		if line.Principal == 0 && line.LateFees == 0 {
			continue
		}
		kind := fiscal.DebtPrincipal
		if l.Kind == fiscal.DebtFine {
			kind = fiscal.DebtFine
		}
		key := kind + "|" + l.TaxType + "|" + l.BudgetCode
		g := groups[key]
		if g == nil {
			g = &fiscal.ClearanceGroup{TaxType: l.TaxType, Kind: kind, BudgetCode: l.BudgetCode}
			groups[key] = g
		}
		g.Lines = append(g.Lines, line)
		g.Principal += line.Principal
		g.LateFees += line.LateFees
		g.Total += line.Principal + line.LateFees
		out.Total += line.Principal + line.LateFees
	}
	for _, g := range groups {
		out.Groups = append(out.Groups, *g)
	}
	sort.Slice(out.Groups, func(i, j int) bool {
		a, b := out.Groups[i], out.Groups[j]
		if a.Kind != b.Kind {
			return a.Kind == fiscal.DebtPrincipal
		}
		return a.BudgetCode < b.BudgetCode
	})
	out.Credit, err = sumBani(ctx, tx, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM credit_entries WHERE municipality_id = ? AND taxpayer_id = ? AND effective_on <= ?`,
		municipalityID, taxpayerID, asOf)
	return out, err
}

// issueClearance issues a fiscal clearance certificate in tx.
func (db *DB) issueClearance(ctx context.Context, tx *Tx, municipalityID, taxpayerID int64, purpose string, caseID *int64, caseNumber string) (*fiscal.Document, error) {
	today := fiscal.LocalDate(tx.Now)
	cl, err := db.clearanceContent(ctx, tx, municipalityID, taxpayerID, today)
	if err != nil {
		return nil, err
	}
	cl.Purpose = purpose
	until := today.AddDays(fiscal.ClearanceValidityDays)
	return db.issue(ctx, tx, municipalityID, taxpayerID, &fiscal.DocumentContent{Type: fiscal.DocFiscalClearance, IssuedOn: today, ValidUntil: &until,
		CaseNumber: caseNumber, Clearance: cl}, docLinks{caseID: caseID})
}

// pendingPayments counts a taxpayer's card payments not yet settled: while
// one is pending the account may still change, so a certificate needs a
// person to look at it.
func (db *DB) pendingPayments(ctx context.Context, municipalityID, taxpayerID int64) (int, error) {
	var n int
	err := db.get(ctx, &n, `SELECT COUNT(*) FROM payments WHERE municipality_id = ? AND taxpayer_id = ? AND status = 'pending'`, municipalityID, taxpayerID)
	return n, translate(err, "payments")
}

// RequestCertificate issues a fiscal clearance certificate at once, or opens
// a fiscal_certificate case when a card payment of the taxpayer is pending
// settlement.
func (db *DB) RequestCertificate(ctx context.Context, in *fiscal.CertificateRequest) (*fiscal.CertificateResult, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if in.Type != fiscal.DocFiscalClearance {
		return nil, fiscal.InvalidField("type", "must be one of: fiscal_clearance")
	}
	if !a.CanSeeTaxpayer(a.MunicipalityID, in.TaxpayerID) {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "taxpayer not found")
	}
	if !a.CanSeeRecord(a.MunicipalityID, in.TaxpayerID) {
		return nil, fiscal.ErrRecordNotVerified()
	}
	if db.docs == nil {
		return nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "documents are not configured")
	}
	var exists int
	if err := db.get(ctx, &exists, `SELECT COUNT(*) FROM taxpayers WHERE id = ? AND municipality_id = ?`, in.TaxpayerID, a.MunicipalityID); err != nil {
		return nil, translate(err, "taxpayer")
	}
	if exists == 0 {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "taxpayer not found")
	}
	purpose := strings.TrimSpace(in.Purpose)
	pending, err := db.pendingPayments(ctx, a.MunicipalityID, in.TaxpayerID)
	if err != nil {
		return nil, err
	}
	if pending > 0 {
		p := purpose
		if p == "" {
			p = "certificat de atestare fiscală"
		}
		data, err := json.Marshal(map[string]string{"purpose": p})
		if err != nil {
			return nil, fiscal.Internal(err, "certificate")
		}
		opened := func(c *fiscal.Case) *fiscal.CertificateResult {
			return &fiscal.CertificateResult{Status: fiscal.CertificateCaseOpened, CaseID: c.ID, CaseNumber: c.Number,
				Reason: "a card payment of the taxpayer is pending settlement: an officer will issue the certificate once it is settled"}
		}
		// The intake keeps this request's reply: the certificate's answer
		// for the case it opens.
		cctx := ctx
		claim := fiscal.IdempotencyClaimFrom(ctx)
		var inner *fiscal.IdempotencyClaim
		if claim != nil && claim.Reply != nil {
			cp := *claim
			inner = &cp
			inner.Reply = func(v any) (*fiscal.StoredResponse, error) {
				c, ok := v.(*fiscal.Case)
				if !ok {
					return nil, fmt.Errorf("certificate: the intake's reply is a case, not %T", v)
				}
				return claim.Reply(opened(c))
			}
			cctx = fiscal.WithIdempotencyClaim(ctx, inner)
		}
		c, err := db.CreateCase(cctx, &fiscal.NewCase{Type: fiscal.CaseFiscalCertificate, TaxpayerID: in.TaxpayerID, Data: data})
		if inner != nil {
			claim.ID, claim.Kept = inner.ID, inner.Kept
		}
		if err != nil {
			return nil, err
		}
		return opened(c), nil
	}
	var out *fiscal.CertificateResult
	err = db.InTx(ctx, func(tx *Tx) error {
		d, err := db.issueClearance(ctx, tx, a.MunicipalityID, in.TaxpayerID, purpose, nil, "")
		if err != nil {
			return err
		}
		out = &fiscal.CertificateResult{Status: fiscal.CertificateIssued, ID: d.ID, Number: d.Number, IssuedOn: &d.IssuedOn, ValidUntil: d.ValidUntil,
			VerificationCode: d.VerificationCode, PDFURL: d.PDFURL}
		return tx.keepReply(ctx, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
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

// caseDocuments issues the documents of an approved case in the signer's
// transaction, as its approval's plan says (fiscal.ApprovalDocuments): the
// fiscal clearance certificate; a vehicle's proof of registration or
// deregistration and the tax decisions of the assessments the approval
// recorded (ids). Without a producer it issues nothing.
func (db *DB) caseDocuments(ctx context.Context, tx *Tx, c *caseRow, plan fiscal.ApprovalDocuments, vehicleID int64, assessments []int64, cancelled int64, result map[string]any) error {
	if db.docs == nil || (plan.Clearance == nil && plan.VehicleProof == nil) {
		return nil
	}
	caseID := c.ID
	var ids []int64
	add := func(d *fiscal.Document, err error) error {
		if err != nil {
			return err
		}
		ids = append(ids, d.ID)
		return nil
	}
	if plan.Clearance != nil {
		if err := add(db.issueClearance(ctx, tx, c.MunicipalityID, c.TaxpayerID, *plan.Clearance, &caseID, c.Number)); err != nil {
			return err
		}
	}
	if plan.VehicleProof != nil {
		var row struct {
			fiscal.Vehicle
			Attributes string `db:"attributes"`
		}
		if err := tx.Get(ctx, &row, `SELECT `+vehicleColumns+`, attributes FROM vehicles WHERE id = ?`, vehicleID); err != nil {
			return translate(err, "vehicle")
		}
		veh := row.Vehicle
		vc := *plan.VehicleProof
		vc.Vehicle, vc.DebtsCancelled = veh, cancelled
		vid := vehicleID
		if err := add(db.issue(ctx, tx, c.MunicipalityID, c.TaxpayerID, &fiscal.DocumentContent{Type: plan.ProofType, CaseNumber: c.Number, Vehicle: &vc},
			docLinks{caseID: &caseID, vehicleID: &vid})); err != nil {
			return err
		}
		if plan.Decisions {
			for _, aid := range assessments {
				if err := add(db.issueDecision(ctx, tx, c, aid, &veh)); err != nil {
					return err
				}
			}
		}
	}
	result["document_ids"] = ids
	return nil
}

// issueDecision issues the tax decision of an assessment.
func (db *DB) issueDecision(ctx context.Context, tx *Tx, c *caseRow, assessmentID int64, veh *fiscal.Vehicle) (*fiscal.Document, error) {
	var a struct {
		TaxType    string     `db:"tax_type"`
		Year       int        `db:"year"`
		Annual     money.Bani `db:"annual_bani"`
		Bonus      money.Bani `db:"bonus_bani"`
		BudgetCode string     `db:"budget_code"`
		Lines      string     `db:"lines"`
	}
	if err := tx.Get(ctx, &a, `SELECT tax_type, year, annual_bani, bonus_bani, budget_code, lines FROM assessments WHERE id = ?`, assessmentID); err != nil {
		return nil, translate(err, "assessment")
	}
	dc := &fiscal.DecisionContent{AssessmentID: assessmentID, TaxType: a.TaxType, Year: a.Year, BudgetCode: a.BudgetCode, Annual: a.Annual, Bonus: a.Bonus, Vehicle: veh}
	if err := json.Unmarshal([]byte(a.Lines), &dc.Lines); err != nil {
		return nil, fiscal.Internal(err, "assessment lines")
	}
	// The decision names each council decision its lines cite with its date.
	e, err := db.TaxEngine(ctx, c.MunicipalityID)
	if err != nil {
		return nil, err
	}
	slug, err := db.municipalitySlug(ctx, c.MunicipalityID)
	if err != nil {
		return nil, err
	}
	dates := e.CouncilDecisions(slug, a.Year)
	for i := range dc.Lines {
		dc.Lines[i].LegalBasis = calc.NameDecisions(dc.Lines[i].LegalBasis, dates, func(d civil.Date) string {
			return fmt.Sprintf("%02d.%02d.%d", d.Day, int(d.Month), d.Year)
		})
	}
	if err := tx.Select(ctx, &dc.Installments, `SELECT due_date AS duedate, amount_bani AS amount FROM debts WHERE assessment_id = ? AND kind = 'principal' AND cancelled_at IS NULL ORDER BY installment`,
		assessmentID); err != nil {
		return nil, translate(err, "debts")
	}
	caseID, aid := c.ID, assessmentID
	return db.issue(ctx, tx, c.MunicipalityID, c.TaxpayerID, &fiscal.DocumentContent{Type: fiscal.DocTaxDecision, CaseNumber: c.Number, Decision: dc},
		docLinks{caseID: &caseID, assessmentID: &aid, vehicleID: &veh.ID})
}
