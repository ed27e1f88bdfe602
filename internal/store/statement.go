package store

import (
	"cmp"
	"context"
	"slices"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// The taxpayer's account as the statement reads it (Statement,
// fiscal.Statement): the ledger's debts with what was paid on them up to a
// date (loadDebts), each with its late fees, materialised and accrued
// (accountLines, accruedFee), the credit, and the early-payment bonuses
// still on offer (bonusOffers). The clearance certificate (certificates.go)
// and a payment's plan (allocations.go) read the account through the same
// helpers.
//
// Late fees are computed, not stored, until a payment is allocated: the
// settling transaction first materialises, for each overdue principal the
// payment may pay, the fee accrued up to the payment date as a debt of kind
// late_fee (parent_debt_id = the principal, due_date = the payment date), and
// then allocates over fines, principal and these fees in the legal order. The
// fee accrued on a principal as of a date D is the materialised fees plus
// LateFees(outstanding, due, D) − LateFees(outstanding, due, last), where last
// is the date of the latest materialised fee: the periods already charged on
// a larger outstanding are not charged again on the smaller one.

// farFuture stands for "no as-of limit" in ledger queries.
var farFuture = civil.New(9999, 12, 31)

type ledgerDebt struct {
	ID           int64      `db:"id"`
	AssessmentID *int64     `db:"assessment_id"`
	ParentID     *int64     `db:"parent_debt_id"`
	Kind         string     `db:"kind"`
	TaxType      string     `db:"tax_type"`
	Year         int        `db:"year"`
	ObjectID     *int64     `db:"object_id"`
	Installment  int        `db:"installment"`
	DueDate      civil.Date `db:"due_date"`
	Amount       money.Bani `db:"amount_bani"`
	BudgetCode   string     `db:"budget_code"`
	Paid         money.Bani `db:"paid_bani"`
}

func (d *ledgerDebt) outstanding() money.Bani { return d.Amount - d.Paid }

// loadDebts reads a taxpayer's debts with what was paid on them up to asOf
// (late fees materialised after asOf are left out).
func loadDebts(ctx context.Context, q querier, muni, taxpayer int64, asOf civil.Date) ([]ledgerDebt, error) {
	var out []ledgerDebt
	err := q.SelectContext(ctx, &out, q.Rebind(`SELECT d.id, d.assessment_id, d.parent_debt_id, d.kind, d.tax_type, d.year, d.object_id, d.installment, d.due_date, d.amount_bani, d.budget_code,
		(SELECT CAST(COALESCE(SUM(a.amount_bani), 0) AS BIGINT) FROM allocations a WHERE a.debt_id = d.id AND a.effective_on <= ?) AS paid_bani
		FROM debts d WHERE d.municipality_id = ? AND d.taxpayer_id = ? AND d.cancelled_at IS NULL AND (d.kind <> 'late_fee' OR d.due_date <= ?)
		ORDER BY d.due_date, d.id`), asOf, muni, taxpayer, asOf)
	return out, translate(err, "debts")
}

// feeChildren returns the late fees materialised on a debt and on the debts
// it replaced (a recomputation cancels a principal and inserts a smaller
// one): periods charged on the predecessor are not charged again.
func feeChildren(ctx context.Context, q querier, muni, taxpayer int64, children map[int64][]*ledgerDebt) (func(id int64) []*ledgerDebt, error) {
	var links []struct {
		ID       int64 `db:"id"`
		Replaces int64 `db:"replaces_debt_id"`
	}
	if err := q.SelectContext(ctx, &links, q.Rebind(`SELECT id, replaces_debt_id FROM debts
		WHERE municipality_id = ? AND taxpayer_id = ? AND replaces_debt_id IS NOT NULL`), muni, taxpayer); err != nil {
		return nil, translate(err, "debts")
	}
	replaces := make(map[int64]int64, len(links))
	for _, l := range links {
		replaces[l.ID] = l.Replaces
	}
	return func(id int64) []*ledgerDebt {
		out := children[id]
		for seen := 0; seen < 64; seen++ { // a chain of recomputations, bounded
			prev, ok := replaces[id]
			if !ok {
				break
			}
			out = append(out[:len(out):len(out)], children[prev]...)
			id = prev
		}
		return out
	}, nil
}

// accruedFee is the late fee accrued on a principal debt as of on and not
// yet materialised (see the file comment).
func accruedFee(e *calc.Engine, slug string, p *ledgerDebt, children []*ledgerDebt, on civil.Date) (money.Bani, error) {
	out := p.outstanding()
	if p.Kind != fiscal.DebtPrincipal || out <= 0 || !on.After(p.DueDate) {
		return 0, nil
	}
	var last *civil.Date
	for _, c := range children {
		if !c.DueDate.After(on) && (last == nil || c.DueDate.After(*last)) {
			d := c.DueDate
			last = &d
		}
	}
	f, err := e.LateFees(slug, out, p.DueDate, on)
	if err != nil {
		return 0, fiscal.Errorf(fiscal.EINVALID, "late fees: %v", err)
	}
	if last != nil {
		g, err := e.LateFees(slug, out, p.DueDate, *last)
		if err != nil {
			return 0, fiscal.Errorf(fiscal.EINVALID, "late fees: %v", err)
		}
		f -= g
	}
	return max(f, 0), nil
}

func sumBani(ctx context.Context, q querier, query string, args ...any) (money.Bani, error) {
	var v money.Bani
	err := q.GetContext(ctx, &v, q.Rebind(query), args...)
	return v, translate(err, "sum")
}

// ownOrVisibleTaxpayer is Taxpayer without the read when a taxpayer asks
// for their own record: their account names it (the session says which
// taxpayer and municipality), and taxpayers' reads are not access-logged.
// Only the id and the municipality are filled in that case.
func (db *DB) ownOrVisibleTaxpayer(ctx context.Context, taxpayerID int64) (*fiscal.Taxpayer, error) {
	if a := fiscal.ActorFrom(ctx); a != nil && !a.IsStaff() && a.TaxpayerID != nil && *a.TaxpayerID == taxpayerID {
		if !a.Assurance.SeesRecord() {
			return nil, fiscal.ErrRecordNotVerified()
		}
		return &fiscal.Taxpayer{ID: taxpayerID, MunicipalityID: a.MunicipalityID}, nil
	}
	return db.Taxpayer(ctx, taxpayerID)
}

// Statement returns the taxpayer's account as of asOf (see fiscal.Statement).
func (db *DB) Statement(ctx context.Context, taxpayerID int64, asOf civil.Date) (*fiscal.Statement, error) {
	tp, err := db.ownOrVisibleTaxpayer(ctx, taxpayerID)
	if err != nil {
		return nil, err
	}
	e, err := db.TaxEngine(ctx, tp.MunicipalityID)
	if err != nil {
		return nil, err
	}
	slug, err := db.municipalitySlug(ctx, tp.MunicipalityID)
	if err != nil {
		return nil, err
	}
	st := &fiscal.Statement{TaxpayerID: tp.ID, AsOf: asOf}
	err = db.inReadTx(ctx, func(q querier) error {
		// One read of the ledger serves the lines and the bonus offers.
		debts, err := loadDebts(ctx, q, tp.MunicipalityID, tp.ID, asOf)
		if err != nil {
			return err
		}
		if st.Debts, err = accountLines(ctx, q, e, slug, tp.MunicipalityID, tp.ID, asOf, debts); err != nil {
			return err
		}
		var total money.Bani
		for _, l := range st.Debts {
			if total, err = money.Sum(total, l.Outstanding, l.LateFees); err != nil {
				return fiscal.Internal(err, "statement total")
			}
		}
		st.Credit, err = sumBani(ctx, q, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM credit_entries WHERE municipality_id = ? AND taxpayer_id = ? AND effective_on <= ?`,
			tp.MunicipalityID, tp.ID, asOf)
		if err != nil {
			return err
		}
		st.TotalDue = max(total-st.Credit, 0)
		st.Bonuses, err = bonusOffers(ctx, q, tp.MunicipalityID, tp.ID, asOf, debts)
		return err
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// accountLines is a taxpayer's debts as of asOf as the statement shows
// them: each with its outstanding amount and its late fees (materialised and
// accrued), materialised fees folded into their principal. debts is
// loadDebts(…, asOf) of the same taxpayer; it is not changed.
func accountLines(ctx context.Context, q querier, e *calc.Engine, slug string, muni, taxpayer int64, asOf civil.Date, debts []ledgerDebt) ([]fiscal.Debt, error) {
	children := map[int64][]*ledgerDebt{}
	for i := range debts {
		if d := &debts[i]; d.ParentID != nil {
			children[*d.ParentID] = append(children[*d.ParentID], d)
		}
	}
	history, err := feeChildren(ctx, q, muni, taxpayer, children)
	if err != nil {
		return nil, err
	}
	// A late fee whose principal was cancelled (a recomputation replaced
	// it) is shown on its own line.
	shown := map[int64]bool{}
	for i := range debts {
		shown[debts[i].ID] = true
	}
	out := []fiscal.Debt{}
	for i := range debts {
		d := &debts[i]
		if d.Kind == fiscal.DebtLateFee && d.ParentID != nil && shown[*d.ParentID] {
			continue // shown in its principal's late_fees
		}
		line := fiscal.Debt{ID: d.ID, TaxpayerID: taxpayer, Kind: d.Kind, TaxType: d.TaxType, Year: d.Year, ObjectID: d.ObjectID,
			Installment: d.Installment, DueDate: d.DueDate, Principal: d.Amount, Paid: d.Paid, Outstanding: max(d.outstanding(), 0), BudgetCode: d.BudgetCode}
		for _, c := range children[d.ID] {
			line.LateFees += max(c.outstanding(), 0)
		}
		f, err := accruedFee(e, slug, d, history(d.ID), asOf)
		if err != nil {
			return nil, err
		}
		line.LateFees += f
		out = append(out, line)
	}
	return out, nil
}

// bonusOffers finds the bonuses still available on asOf: per tax type and
// year with a bonus on its assessments, none granted yet, the first
// instalment's due date not past, and something left to pay.
// debts is loadDebts(…, asOf) of the same taxpayer; q runs rebound queries.
func bonusOffers(ctx context.Context, q querier, muni, taxpayer int64, asOf civil.Date, debts []ledgerDebt) ([]fiscal.BonusOffer, error) {
	ahead := false
	for i := range debts {
		if d := &debts[i]; d.Kind == fiscal.DebtPrincipal && d.AssessmentID != nil && !asOf.After(d.DueDate) {
			ahead = true
			break
		}
	}
	if !ahead {
		return nil, nil
	}
	var bonusRows []struct {
		AssessmentID int64      `db:"id"`
		Bonus        money.Bani `db:"bonus_bani"`
	}
	if err := q.SelectContext(ctx, &bonusRows, q.Rebind(`SELECT id, bonus_bani FROM assessments WHERE municipality_id = ? AND taxpayer_id = ? AND bonus_bani > 0`), muni, taxpayer); err != nil {
		return nil, translate(err, "assessments")
	}
	bonusOf := map[int64]money.Bani{}
	for _, r := range bonusRows {
		bonusOf[r.AssessmentID] = r.Bonus
	}
	var granted []int64
	if err := q.SelectContext(ctx, &granted, q.Rebind(`SELECT DISTINCT debt_id FROM allocations WHERE municipality_id = ? AND taxpayer_id = ? AND source = 'bonus'`), muni, taxpayer); err != nil {
		return nil, translate(err, "allocations")
	}
	type key struct {
		tax  string
		year int
	}
	offers := map[key]*fiscal.BonusOffer{}
	var order []key
	seen := map[int64]bool{}
	blocked := map[key]bool{}
	for i := range debts {
		d := &debts[i]
		if d.Kind != fiscal.DebtPrincipal || d.AssessmentID == nil {
			continue
		}
		k := key{d.TaxType, d.Year}
		o := offers[k]
		if o == nil {
			o = &fiscal.BonusOffer{TaxType: d.TaxType, Year: d.Year, Until: d.DueDate}
			offers[k] = o
			order = append(order, k)
		}
		if d.DueDate.Before(o.Until) {
			o.Until = d.DueDate
		}
		if slices.Contains(granted, d.ID) {
			blocked[k] = true
		}
		o.PayInFull += max(d.outstanding(), 0)
		if !seen[*d.AssessmentID] {
			seen[*d.AssessmentID] = true
			o.Bonus += bonusOf[*d.AssessmentID]
		}
	}
	var out []fiscal.BonusOffer
	for _, k := range order {
		o := offers[k]
		if blocked[k] || o.Bonus <= 0 || asOf.After(o.Until) || o.PayInFull <= o.Bonus {
			continue
		}
		o.PayInFull -= o.Bonus
		out = append(out, *o)
	}
	slices.SortFunc(out, func(a, b fiscal.BonusOffer) int {
		return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.TaxType, b.TaxType))
	})
	return out, nil
}
