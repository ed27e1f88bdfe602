package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// The fiscal clearance certificate (RequestCertificate): issued at once in
// its own transaction, or, while a card payment of the taxpayer is pending
// settlement, a fiscal_certificate case opened for an officer instead. Its
// content is the taxpayer's exigible debts with their late fees, read from
// the account as the statement reads it (clearanceContent, statement.go);
// issueClearance also serves the approval of a certificate case
// (casedocuments.go).

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
