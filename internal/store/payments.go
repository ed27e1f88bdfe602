package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/payments"
)

// This file is the taxpayer account: the statement, card and cash payments
// with their allocations, refunds and Stripe events. The rules (allocation
// order, bonus, refund reversal) are the pure functions of package payments;
// here they run inside one transaction per use case.
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

// Receipt series: one gapless counter per municipality, series and year.
const (
	seriesCash = "CASA"
	seriesCard = "CARD"
)

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

// municipalitySlug returns a municipality's slug, cached in the DB (a slug
// never changes).
func (db *DB) municipalitySlug(ctx context.Context, muni int64) (string, error) {
	q := db.db
	if s, ok := db.slugs.Load(muni); ok {
		return s.(string), nil
	}
	var slug string
	err := q.GetContext(ctx, &slug, q.Rebind(`SELECT slug FROM municipalities WHERE id = ?`), muni)
	if err != nil {
		return "", translate(err, "municipality")
	}
	db.slugs.Store(muni, slug)
	return slug, nil
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

// plan is what a payment of a taxpayer may pay on a date: the debts in the
// allocation's terms, the late fees to materialise, the bonus groups.
type plan struct {
	debts  []ledgerDebt // the taxpayer's debts, with the fees to materialise (negative ids)
	alloc  []payments.Debt
	chosen []int64 // the chosen debts and their late fees; nil = all
	groups []payments.BonusGroup
}

func allocKind(kind string) payments.DebtKind {
	switch kind {
	case fiscal.DebtFine:
		return payments.KindFine
	case fiscal.DebtLateFee:
		return payments.KindLateFee
	}
	return payments.KindPrincipal // principal and adjustments
}

// makePlan reads the ledger inside tx and prepares a payment on date on. The
// late fees accrued up to on are added as debts with negative ids (−parent).
func makePlan(ctx context.Context, tx *Tx, e *calc.Engine, slug string, muni, taxpayer int64, chosen []int64, on civil.Date) (*plan, error) {
	debts, err := loadDebts(ctx, tx, muni, taxpayer, farFuture)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*ledgerDebt{}
	children := map[int64][]*ledgerDebt{}
	for i := range debts {
		d := &debts[i]
		byID[d.ID] = d
		if d.ParentID != nil {
			children[*d.ParentID] = append(children[*d.ParentID], d)
		}
	}
	history, err := feeChildren(ctx, tx, muni, taxpayer, children)
	if err != nil {
		return nil, err
	}
	pick := map[int64]bool{}
	for _, id := range chosen {
		d, ok := byID[id]
		if !ok || d.Kind == fiscal.DebtLateFee {
			return nil, fiscal.InvalidField("debt_ids", fmt.Sprintf("debt %d is not one of this taxpayer's debts", id))
		}
		pick[id] = true
	}
	p := &plan{}
	var fees []ledgerDebt
	for i := range debts {
		d := &debts[i]
		if len(chosen) > 0 && !pick[d.ID] {
			continue
		}
		f, err := accruedFee(e, slug, d, history(d.ID), on)
		if err != nil {
			return nil, err
		}
		if f > 0 {
			pid := d.ID
			fees = append(fees, ledgerDebt{ID: -d.ID, ParentID: &pid, Kind: fiscal.DebtLateFee, TaxType: d.TaxType, Year: d.Year, ObjectID: d.ObjectID,
				Installment: d.Installment, DueDate: on, Amount: f, BudgetCode: d.BudgetCode})
		}
	}
	p.debts = append(debts, fees...)
	for i := range p.debts {
		d := &p.debts[i]
		p.alloc = append(p.alloc, payments.Debt{ID: d.ID, Kind: allocKind(d.Kind), DueDate: d.DueDate.String(), Outstanding: d.outstanding()})
		if len(chosen) > 0 && (pick[d.ID] || (d.ParentID != nil && pick[*d.ParentID])) {
			p.chosen = append(p.chosen, d.ID)
		}
	}
	if len(chosen) > 0 && len(p.chosen) == 0 {
		p.chosen = []int64{0} // nothing eligible: allocate nothing
	}

	// Bonus groups: a tax type's year whose first deadline is not past and
	// which has had no bonus yet. Most of the year no deadline is ahead:
	// skip the queries then.
	ahead := false
	for i := range debts {
		if d := &debts[i]; d.Kind == fiscal.DebtPrincipal && d.AssessmentID != nil && !on.After(d.DueDate) {
			ahead = true
			break
		}
	}
	if !ahead {
		return p, nil
	}
	var bonusRows []struct {
		AssessmentID int64      `db:"id"`
		Bonus        money.Bani `db:"bonus_bani"`
	}
	// Only the current revision's bonus counts (a recomputation's revision
	// replaces the earlier one's).
	if err := tx.Select(ctx, &bonusRows, `SELECT a.id, a.bonus_bani FROM assessments a WHERE a.municipality_id = ? AND a.taxpayer_id = ? AND a.bonus_bani > 0
		AND NOT EXISTS (SELECT 1 FROM assessments n WHERE n.municipality_id = a.municipality_id AND n.tax_type = a.tax_type AND n.object_kind = a.object_kind
			AND n.object_id = a.object_id AND n.year = a.year AND n.revision > a.revision)`, muni, taxpayer); err != nil {
		return nil, translate(err, "assessments")
	}
	bonusOf := map[int64]money.Bani{}
	for _, r := range bonusRows {
		bonusOf[r.AssessmentID] = r.Bonus
	}
	var granted []int64
	if err := tx.Select(ctx, &granted, `SELECT DISTINCT debt_id FROM allocations WHERE municipality_id = ? AND taxpayer_id = ? AND source = 'bonus'`, muni, taxpayer); err != nil {
		return nil, translate(err, "allocations")
	}
	wasGranted := map[int64]bool{}
	for _, id := range granted {
		wasGranted[id] = true
	}
	var assessed []payments.AssessedDebt
	for i := range debts {
		d := &debts[i]
		if (d.Kind == fiscal.DebtPrincipal || d.Kind == fiscal.DebtAdjustment) && d.AssessmentID != nil {
			assessed = append(assessed, payments.AssessedDebt{ID: d.ID, TaxType: d.TaxType, Year: d.Year, AssessmentID: *d.AssessmentID,
				DueDate: d.DueDate, Outstanding: d.outstanding()})
		}
	}
	p.groups = payments.BonusGroups(assessed, bonusOf, wasGranted, on)
	return p, nil
}

// quote is what paying the plan's debts costs: their outstanding amounts and
// fees, minus any bonus earned by paying them all.
func (p *plan) quote() money.Bani {
	var total money.Bani
	inChosen := map[int64]bool{}
	for _, id := range p.chosen {
		inChosen[id] = true
	}
	for _, d := range p.alloc {
		if d.Outstanding > 0 && (p.chosen == nil || inChosen[d.ID]) {
			total += d.Outstanding
		}
	}
	s := payments.Settle(total, p.alloc, p.chosen, p.groups)
	var sum money.Bani
	for _, a := range s.Allocations {
		sum += a.Amount
	}
	return sum
}

// lockAccount serialises every use case that moves money on a taxpayer's
// account (an UPDATE takes the row lock on PostgreSQL; SQLite's immediate
// transaction holds the database's write lock already).
func lockAccount(ctx context.Context, tx *Tx, muni, taxpayer int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO taxpayer_accounts (municipality_id, taxpayer_id, version) VALUES (?, ?, 1)
		ON CONFLICT (municipality_id, taxpayer_id) DO UPDATE SET version = taxpayer_accounts.version + 1`, muni, taxpayer)
	return translate(err, "account")
}

// nextReceiptNumber takes the next number of a series inside tx: the counter
// row is updated in the paying transaction, so a rollback returns the number
// and concurrent cashiers queue on the row lock (no gaps, no repeats).
func nextReceiptNumber(ctx context.Context, tx *Tx, muni int64, series string, year int) (int64, error) {
	var n int64
	err := tx.Get(ctx, &n, `INSERT INTO receipt_counters (municipality_id, series, year, next_number) VALUES (?, ?, ?, 2)
		ON CONFLICT (municipality_id, series, year) DO UPDATE SET next_number = receipt_counters.next_number + 1 RETURNING next_number - 1`, muni, series, year)
	return n, translate(err, "receipt counter")
}

type paymentRow struct {
	ID                int64       `db:"id"`
	MunicipalityID    int64       `db:"municipality_id"`
	TaxpayerID        int64       `db:"taxpayer_id"`
	Method            string      `db:"method"`
	Provider          string      `db:"provider"`
	ProviderReference *string     `db:"provider_reference"`
	Status            string      `db:"status"`
	Amount            money.Bani  `db:"amount_bani"`
	Refunded          money.Bani  `db:"refunded_bani"`
	Currency          string      `db:"currency"`
	ChosenDebts       string      `db:"chosen_debts"`
	PaidOn            *civil.Date `db:"paid_on"`
	ReceiptSeries     *string     `db:"receipt_series"`
	ReceiptYear       *int        `db:"receipt_year"`
	ReceiptNumber     *int64      `db:"receipt_number"`
	FailureCode       string      `db:"failure_code"`
	FailureMessage    string      `db:"failure_message"`
	CreatedAt         time.Time   `db:"created_at"`
}

const paymentColumns = `id, municipality_id, taxpayer_id, method, provider, provider_reference, status, amount_bani, refunded_bani, currency, chosen_debts,
	paid_on, receipt_series, receipt_year, receipt_number, failure_code, failure_message, created_at`

// chosen is the debts the payment was made for (none: all). A value that
// does not read is an error, never "all": money goes only where it was sent.
func (p *paymentRow) chosen() ([]int64, error) {
	var ids []int64
	if p.ChosenDebts == "" {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(p.ChosenDebts), &ids); err != nil {
		return nil, fiscal.Internal(fmt.Errorf("payment %d: chosen debts %q: %w", p.ID, p.ChosenDebts, err), "payment")
	}
	return ids, nil
}

// ReceiptNumber formats the receipt number, e.g. "CASA-2026-000042".
func (p *paymentRow) receiptNumber() *string {
	if p.ReceiptNumber == nil || p.ReceiptSeries == nil || p.ReceiptYear == nil {
		return nil
	}
	s := fmt.Sprintf("%s-%d-%06d", *p.ReceiptSeries, *p.ReceiptYear, *p.ReceiptNumber)
	return &s
}

func getPayment(ctx context.Context, q querier, where string, args ...any) (*paymentRow, error) {
	var p paymentRow
	err := q.GetContext(ctx, &p, q.Rebind(`SELECT `+paymentColumns+` FROM payments WHERE `+where), args...)
	if err != nil {
		return nil, translate(err, "payment")
	}
	return &p, nil
}

// settle allocates a payment inside tx on date on: it materialises the late
// fees, applies the bonus the payment earns, allocates in the legal order,
// keeps the remainder as credit, numbers the receipt and marks the payment
// succeeded.
// allocateMoney applies amount of payment paymentID (fresh money, or the
// payment's credit being used) to the taxpayer's debts on date on: it
// materialises the late fees of the principals it touches, applies the
// bonus it earns and inserts the allocations in the legal order. The
// settlement's Credit is what is left over; the caller records it.
func allocateMoney(ctx context.Context, tx *Tx, e *calc.Engine, slug string, muni, taxpayer, paymentID int64, amount money.Bani, chosen []int64, on civil.Date) (payments.Settlement, error) {
	pl, err := makePlan(ctx, tx, e, slug, muni, taxpayer, chosen, on)
	if err != nil {
		return payments.Settlement{}, err
	}
	s := payments.Settle(amount, pl.alloc, pl.chosen, pl.groups)
	// Materialise the fee of every principal the payment touches (its
	// outstanding changes now, so the fee accrued on the old amount is
	// fixed) and every fee it pays.
	touched := map[int64]bool{}
	for _, a := range s.Allocations {
		touched[a.DebtID] = true
	}
	for _, a := range s.Bonus {
		touched[a.DebtID] = true
	}
	real := map[int64]int64{}
	for i := range pl.debts {
		d := &pl.debts[i]
		if d.ID >= 0 || !(touched[d.ID] || touched[*d.ParentID]) {
			continue
		}
		id, err := tx.Insert(ctx, `INSERT INTO debts (municipality_id, taxpayer_id, assessment_id, parent_debt_id, kind, tax_type, year, object_id, installment, due_date, amount_bani, budget_code, created_at)
			VALUES (?, ?, NULL, ?, 'late_fee', ?, ?, ?, ?, ?, ?, ?, ?)`,
			muni, taxpayer, *d.ParentID, d.TaxType, d.Year, d.ObjectID, d.Installment, d.DueDate, d.Amount, d.BudgetCode, tx.Now)
		if err != nil {
			return s, translate(err, "late fee")
		}
		real[d.ID] = id
	}
	var (
		values []string
		args   []any
	)
	add := func(source string, allocs []payments.Allocation) {
		for _, a := range allocs {
			id := a.DebtID
			if id < 0 {
				id = real[id]
			}
			values = append(values, "(?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, muni, taxpayer, paymentID, id, source, a.Amount, on, tx.Now)
		}
	}
	add("payment", s.Allocations)
	add("bonus", s.Bonus)
	if len(values) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO allocations (municipality_id, taxpayer_id, payment_id, debt_id, source, amount_bani, effective_on, created_at) VALUES `+
			strings.Join(values, ", "), args...); err != nil {
			return s, translate(err, "allocation")
		}
	}
	return s, nil
}

// settle allocates the succeeded payment p and gives it its receipt
// number: at once, or, with numberAtCommit, at commit (the series' counter,
// which every settlement of the municipality takes, then held for the last
// statements only); the settlement's audit entry follows the number.
func settle(ctx context.Context, tx *Tx, e *calc.Engine, slug string, p *paymentRow, on civil.Date, numberAtCommit bool) error {
	chosen, err := p.chosen()
	if err != nil {
		return err
	}
	s, err := allocateMoney(ctx, tx, e, slug, p.MunicipalityID, p.TaxpayerID, p.ID, p.Amount, chosen, on)
	if err != nil {
		return err
	}
	tx.fault(FaultSettleAllocations)
	if s.Credit > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO credit_entries (municipality_id, taxpayer_id, payment_id, source, amount_bani, effective_on, created_at) VALUES (?, ?, ?, 'overpayment', ?, ?, ?)`,
			p.MunicipalityID, p.TaxpayerID, p.ID, s.Credit, on, tx.Now); err != nil {
			return translate(err, "credit")
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE payments SET status = 'succeeded', paid_on = ?, failure_code = '', failure_message = '', updated_at = ?, version = version + 1 WHERE id = ?`,
		on, tx.Now, p.ID); err != nil {
		return translate(err, "payment")
	}
	p.Status, p.PaidOn = fiscal.PaymentSucceeded, &on
	numbered := func(ctx context.Context) error {
		if err := numberReceipt(ctx, tx, p, on); err != nil {
			return err
		}
		if err := tx.Audit(ctx, p.MunicipalityID, "payment.settle", "payment", p.ID, nil, map[string]any{
			"taxpayer_id": p.TaxpayerID, "amount": p.Amount, "paid_on": on, "allocations": s.Allocations, "bonus": s.Bonus, "bonus_groups": s.Groups,
			"credit": s.Credit, "receipt": p.receiptNumber()}); err != nil {
			return err
		}
		tx.fault(FaultSettleCommit)
		return nil
	}
	if numberAtCommit {
		tx.atCommit = append(tx.atCommit, numbered)
		return nil
	}
	return numbered(ctx)
}

// numberReceipt gives the settled payment p the next number of its series
// (cash or card) for the year of on.
func numberReceipt(ctx context.Context, tx *Tx, p *paymentRow, on civil.Date) error {
	series := seriesCard
	if p.Method == fiscal.MethodCash {
		series = seriesCash
	}
	n, err := nextReceiptNumber(ctx, tx, p.MunicipalityID, series, on.Year)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE payments SET receipt_series = ?, receipt_year = ?, receipt_number = ? WHERE id = ?`, series, on.Year, n, p.ID); err != nil {
		return translate(err, "payment")
	}
	p.ReceiptSeries, p.ReceiptYear, p.ReceiptNumber = &series, &on.Year, &n
	return nil
}

// engineFor returns a municipality's engine and slug.
func (db *DB) engineFor(ctx context.Context, muni int64) (*calc.Engine, string, error) {
	e, err := db.TaxEngine(ctx, muni)
	if err != nil {
		return nil, "", err
	}
	slug, err := db.municipalitySlug(ctx, muni)
	return e, slug, err
}

func chosenJSON(ids []int64) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// BeginCardPayment records a pending card payment of the chosen debts (or
// all), for the amount they cost today. EINVALID when nothing is due.
func (db *DB) BeginCardPayment(ctx context.Context, in *fiscal.CardPaymentInput) (*fiscal.Payment, error) {
	tp, err := db.Taxpayer(ctx, in.TaxpayerID)
	if err != nil {
		return nil, err
	}
	e, slug, err := db.engineFor(ctx, tp.MunicipalityID)
	if err != nil {
		return nil, err
	}
	var chosen []int64
	if !in.All {
		chosen = in.DebtIDs
	}
	var p *paymentRow
	err = db.InTx(ctx, func(tx *Tx) error {
		if c := fiscal.IdempotencyClaimFrom(ctx); c != nil && c.Resumed {
			// A retry of a request whose call to Stripe had no known
			// outcome: the same payment, never a second one.
			p, err = getPayment(ctx, tx, `claim_id = ? AND municipality_id = ?`, c.ID, tp.MunicipalityID)
			if fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
				return fiscal.ErrIdempotencyInFlight
			}
			return err
		}
		today := payments.LocalDate(tx.Now)
		var applied money.Bani
		if in.All {
			// Paying everything: the credit pays first, so the card is
			// charged the total due net of it (contract: total_due).
			if err := lockAccount(ctx, tx, tp.MunicipalityID, tp.ID); err != nil {
				return err
			}
			app, err := applyCredit(ctx, tx, e, slug, tp.MunicipalityID, tp.ID, today)
			if err != nil {
				return err
			}
			applied = app.Applied
		}
		pl, err := makePlan(ctx, tx, e, slug, tp.MunicipalityID, tp.ID, chosen, today)
		if err != nil {
			return err
		}
		amount := pl.quote()
		if amount <= 0 && applied > 0 {
			return fiscal.InvalidField("all", fmt.Sprintf("the taxpayer's credit covers everything due: apply it with POST /api/v1/taxpayers/%d/credit/apply", tp.ID))
		}
		if amount <= 0 {
			return fiscal.InvalidField("debt_ids", "nothing is due on these debts")
		}
		id, err := tx.Insert(ctx, `INSERT INTO payments (municipality_id, taxpayer_id, method, provider, status, amount_bani, currency, chosen_debts, created_by, created_at, updated_at, claim_id)
			VALUES (?, ?, 'card', 'stripe', 'pending', ?, 'RON', ?, ?, ?, ?, ?)`, tp.MunicipalityID, tp.ID, amount, chosenJSON(chosen), tx.Actor.UserID, tx.Now, tx.Now, nullID(tx.claimID(ctx)))
		if err != nil {
			return translate(err, "payment")
		}
		p = &paymentRow{ID: id, MunicipalityID: tp.MunicipalityID, TaxpayerID: tp.ID, Method: fiscal.MethodCard, Provider: fiscal.ProviderStripe,
			Status: fiscal.PaymentPending, Amount: amount, Currency: "RON", ChosenDebts: chosenJSON(chosen), CreatedAt: tx.Now}
		return tx.Audit(ctx, tp.MunicipalityID, "payment.create", "payment", id, nil, map[string]any{"taxpayer_id": tp.ID, "method": "card", "amount": amount, "debt_ids": chosen})
	})
	if err != nil {
		return nil, err
	}
	return p.view(), nil
}

func (p *paymentRow) view() *fiscal.Payment {
	chosen, _ := p.chosen() // shown as none when unreadable; settle refuses it
	v := &fiscal.Payment{ID: p.ID, MunicipalityID: p.MunicipalityID, TaxpayerID: p.TaxpayerID, Method: p.Method, Status: p.Status, Amount: p.Amount,
		Refunded: p.Refunded, Currency: strings.ToUpper(p.Currency), Provider: p.Provider, ProviderReference: p.ProviderReference, ChosenDebts: chosen,
		PaidOn: p.PaidOn, ReceiptNumber: p.receiptNumber(), FailureCode: p.FailureCode, FailureMessage: p.FailureMessage, CreatedAt: p.CreatedAt,
		Allocations: []fiscal.PaymentAllocation{}}
	if v.ReceiptNumber != nil {
		u := fmt.Sprintf("/api/v1/payments/%d/receipt.pdf", p.ID)
		v.ReceiptURL = &u
	}
	return v
}

// AttachPaymentIntent records the provider's reference of a pending payment
// (p.ProviderReference) and keeps p, with its client secret, as the reply to
// the request's Idempotency-Key. A reference recorded already (a retry, or
// the event that overtook this call) stays.
func (db *DB) AttachPaymentIntent(ctx context.Context, p *fiscal.Payment) error {
	if p.ProviderReference == nil {
		return fiscal.Internal(fmt.Errorf("payment %d: no PaymentIntent to attach", p.ID), "payment")
	}
	return db.InTx(ctx, func(tx *Tx) error {
		muni, err := tx.MunicipalityID()
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE payments SET provider_reference = ?, updated_at = ? WHERE id = ? AND municipality_id = ? AND provider_reference IS NULL`, *p.ProviderReference, tx.Now, p.ID, muni)
		if err != nil {
			return translate(err, "payment")
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if err := tx.Audit(ctx, muni, "payment.intent", "payment", p.ID, nil, map[string]any{"provider_reference": *p.ProviderReference}); err != nil {
				return err
			}
		}
		return tx.keepReply(ctx, p)
	})
}

// nullID is id, or NULL for 0.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// FailCardPayment marks a pending payment failed (the provider refused to
// open it).
func (db *DB) FailCardPayment(ctx context.Context, paymentID int64, code, message string) error {
	return db.InTx(ctx, func(tx *Tx) error {
		muni, err := tx.MunicipalityID()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE payments SET status = 'failed', failure_code = ?, failure_message = ?, updated_at = ? WHERE id = ? AND municipality_id = ? AND status = 'pending'`,
			code, message, tx.Now, paymentID, muni); err != nil {
			return translate(err, "payment")
		}
		return tx.Audit(ctx, muni, "payment.fail", "payment", paymentID, nil, map[string]any{"code": code, "message": message})
	})
}

// RecordCashPayment records and allocates money received at the desk, with
// the next number of the municipality's cash receipt series.
func (db *DB) RecordCashPayment(ctx context.Context, in *fiscal.CashPaymentInput) (*fiscal.Payment, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleOfficer)
	if err != nil {
		return nil, err
	}
	tp, err := db.Taxpayer(ctx, in.TaxpayerID)
	if err != nil {
		return nil, err
	}
	limits, err := db.amountLimits(ctx, tp.MunicipalityID)
	if err != nil {
		return nil, err
	}
	if err := fiscal.CheckAmountLimit("amount", in.Amount, limits.Cash, "cash payment"); err != nil {
		return nil, err
	}
	e, slug, err := db.engineFor(ctx, tp.MunicipalityID)
	if err != nil {
		return nil, err
	}
	var p *paymentRow
	var out *fiscal.Payment
	err = db.InTx(ctx, func(tx *Tx) error {
		if err := lockAccount(ctx, tx, tp.MunicipalityID, tp.ID); err != nil {
			return err
		}
		id, err := tx.Insert(ctx, `INSERT INTO payments (municipality_id, taxpayer_id, method, provider, status, amount_bani, currency, chosen_debts, created_by, created_at, updated_at)
			VALUES (?, ?, 'cash', 'cash', 'pending', ?, 'RON', ?, ?, ?, ?)`, tp.MunicipalityID, tp.ID, in.Amount, chosenJSON(in.DebtIDs), a.UserID, tx.Now, tx.Now)
		if err != nil {
			return translate(err, "payment")
		}
		p = &paymentRow{ID: id, MunicipalityID: tp.MunicipalityID, TaxpayerID: tp.ID, Method: fiscal.MethodCash, Provider: fiscal.ProviderCash,
			Status: fiscal.PaymentPending, Amount: in.Amount, Currency: "RON", ChosenDebts: chosenJSON(in.DebtIDs), CreatedAt: tx.Now}
		if err := tx.Audit(ctx, tp.MunicipalityID, "payment.create", "payment", id, nil, map[string]any{"taxpayer_id": tp.ID, "method": "cash", "amount": in.Amount}); err != nil {
			return err
		}
		if err := settle(ctx, tx, e, slug, p, payments.LocalDate(tx.Now), false); err != nil {
			return err
		}
		// The answer (with the receipt number) is read and kept with the
		// payment, for a retry with the same Idempotency-Key.
		if p, err = getPayment(ctx, tx, `id = ?`, id); err != nil {
			return err
		}
		if out, err = paymentView(ctx, tx, p); err != nil {
			return err
		}
		return tx.keepReply(ctx, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Payment returns a payment visible to the actor with its net allocations.
func (db *DB) Payment(ctx context.Context, id int64) (*fiscal.Payment, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	p, err := getPayment(ctx, db.db, `id = ? AND municipality_id = ?`, id, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	if !a.CanSeeTaxpayer(p.MunicipalityID, p.TaxpayerID) {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "payment not found")
	}
	if !a.CanSeeRecord(p.MunicipalityID, p.TaxpayerID) {
		return nil, fiscal.ErrRecordNotVerified()
	}
	return paymentView(ctx, db.db, p)
}

func paymentView(ctx context.Context, q querier, p *paymentRow) (*fiscal.Payment, error) {
	v := p.view()
	var allocs []fiscal.PaymentAllocation
	if err := q.SelectContext(ctx, &allocs, q.Rebind(`SELECT debt_id, CAST(SUM(amount_bani) AS BIGINT) AS amount_bani FROM allocations
		WHERE payment_id = ? AND source IN ('payment', 'refund') GROUP BY debt_id HAVING SUM(amount_bani) <> 0 ORDER BY MIN(id)`), p.ID); err != nil {
		return nil, translate(err, "allocations")
	}
	if allocs != nil {
		v.Allocations = allocs
	}
	var err error
	if v.Bonus, err = sumBani(ctx, q, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM allocations WHERE payment_id = ? AND source = 'bonus'`, p.ID); err != nil {
		return nil, err
	}
	if v.Credit, err = sumBani(ctx, q, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM credit_entries WHERE payment_id = ?`, p.ID); err != nil {
		return nil, err
	}
	return v, nil
}

// ApplyProviderEvent applies a verified Stripe event in one transaction:
// each event id once; payment_intent.succeeded settles a pending or failed
// payment; payment_failed marks a pending one failed; charge.refunded (which
// also proves the payment succeeded) settles it if needed and brings its
// refunds up to the charge's running refunded total. Events for payments
// already past that state change nothing, so repeated and out-of-order
// deliveries are harmless. ENOTFOUND for an unknown PaymentIntent, EINVALID
// for an amount or currency that does not match the payment; both change
// nothing (the event id is not recorded, so a corrected retry applies).
func (db *DB) ApplyProviderEvent(ctx context.Context, ev *fiscal.ProviderEvent) (*fiscal.WebhookResult, error) {
	if ev.PaymentIntentID == "" {
		return nil, fiscal.Errorf(fiscal.EMALFORMED, "the event names no payment intent")
	}
	p, err := getPayment(ctx, db.reads(), `provider = 'stripe' AND provider_reference = ?`, ev.PaymentIntentID)
	if fiscal.ErrorCode(err) == fiscal.ENOTFOUND && ev.PaymentID > 0 {
		// The event overtook the transaction that stores the reference.
		p, err = getPayment(ctx, db.db, `id = ? AND provider = 'stripe' AND provider_reference IS NULL`, ev.PaymentID)
	}
	if fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "no payment for PaymentIntent %s", ev.PaymentIntentID)
	}
	if err != nil {
		return nil, err
	}
	e, slug, err := db.engineFor(ctx, p.MunicipalityID)
	if err != nil {
		return nil, err
	}
	sys := &fiscal.Actor{System: true, Username: "stripe", MunicipalityID: p.MunicipalityID}
	res := &fiscal.WebhookResult{Received: true, PaymentID: &p.ID}
	err = db.InTx(fiscal.WithActor(ctx, sys), func(tx *Tx) error {
		if err := lockAccount(ctx, tx, p.MunicipalityID, p.TaxpayerID); err != nil {
			return err
		}
		p, err := getPayment(ctx, tx, `id = ?`, p.ID)
		if err != nil {
			return err
		}
		if !strings.EqualFold(ev.Currency, "ron") {
			return fiscal.InvalidField("currency", fmt.Sprintf("the event is in %q, the payment in RON", ev.Currency))
		}
		got := ev.Amount
		if ev.Type == fiscal.EventPaymentSucceeded && ev.AmountReceived != 0 {
			got = ev.AmountReceived
		}
		if got != p.Amount {
			return fiscal.InvalidField("amount", fmt.Sprintf("the event's amount %s does not match the payment's %s", got, p.Amount))
		}
		r, err := tx.Exec(ctx, `INSERT INTO stripe_events (municipality_id, event_id, event_type, payment_id, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			p.MunicipalityID, ev.ID, ev.Type, p.ID, tx.Now)
		if err != nil {
			return translate(err, "event")
		}
		if n, _ := r.RowsAffected(); n == 0 {
			res.Duplicate = true
			return nil
		}
		if p.ProviderReference == nil {
			if _, err := tx.Exec(ctx, `UPDATE payments SET provider_reference = ? WHERE id = ?`, ev.PaymentIntentID, p.ID); err != nil {
				return translate(err, "payment")
			}
		}
		on := payments.LocalDate(tx.Now)
		if !ev.Created.IsZero() && !ev.Created.After(tx.Now) {
			on = payments.LocalDate(ev.Created)
		}
		switch ev.Type {
		case fiscal.EventPaymentSucceeded:
			if p.Status == fiscal.PaymentPending || p.Status == fiscal.PaymentFailed {
				// Nothing follows in this transaction: numbered at commit.
				return settle(ctx, tx, e, slug, p, on, true)
			}
		case fiscal.EventPaymentFailed:
			if p.Status == fiscal.PaymentPending || p.Status == fiscal.PaymentFailed {
				if _, err := tx.Exec(ctx, `UPDATE payments SET status = 'failed', failure_code = ?, failure_message = ?, updated_at = ? WHERE id = ?`,
					ev.FailureCode, ev.FailureMessage, tx.Now, p.ID); err != nil {
					return translate(err, "payment")
				}
				return tx.Audit(ctx, p.MunicipalityID, "payment.fail", "payment", p.ID, nil, map[string]any{"event": ev.ID, "code": ev.FailureCode})
			}
		case fiscal.EventChargeRefunded:
			if p.Status == fiscal.PaymentPending || p.Status == fiscal.PaymentFailed {
				if err := settle(ctx, tx, e, slug, p, on, false); err != nil {
					return err
				}
			}
			return catchUpRefunds(ctx, tx, p, ev, on)
		default:
			res.Ignored = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// catchUpRefunds brings a payment's applied refunds up to the provider's
// running refunded total: first the refunds we requested (oldest first),
// then, for what is left, a refund made outside fiscald (e.g. in Stripe's
// dashboard). A total at or below what is applied changes nothing.
func catchUpRefunds(ctx context.Context, tx *Tx, p *paymentRow, ev *fiscal.ProviderEvent, on civil.Date) error {
	target := min(ev.RefundedAmount, p.Amount)
	applied := p.Refunded
	if target <= applied {
		return nil
	}
	var requested []struct {
		ID     int64      `db:"id"`
		Amount money.Bani `db:"amount_bani"`
	}
	if err := tx.Select(ctx, &requested, `SELECT id, amount_bani FROM refunds WHERE payment_id = ? AND status = 'requested' ORDER BY id`, p.ID); err != nil {
		return translate(err, "refunds")
	}
	for _, r := range requested {
		if applied+r.Amount > target {
			break
		}
		if err := applyRefund(ctx, tx, p, r.ID, r.Amount, on); err != nil {
			return err
		}
		applied += r.Amount
	}
	if rest := target - applied; rest > 0 {
		id, err := tx.Insert(ctx, `INSERT INTO refunds (municipality_id, payment_id, amount_bani, reason, status, external, created_at, updated_at) VALUES (?, ?, ?, ?, 'requested', TRUE, ?, ?)`,
			p.MunicipalityID, p.ID, rest, "refunded at the provider (event "+ev.ID+")", tx.Now, tx.Now)
		if err != nil {
			return translate(err, "refund")
		}
		return applyRefund(ctx, tx, p, id, rest, on)
	}
	return nil
}

// applyRefund makes a refund effective inside tx: it takes the amount back
// from the payment's credit, then from its allocations in the reverse of the
// legal order (payments.Reverse), revokes the bonus the payment earned when
// any debt is reopened, and marks the refund succeeded.
func applyRefund(ctx context.Context, tx *Tx, p *paymentRow, refundID int64, amount money.Bani, on civil.Date) error {
	var allocated []struct {
		DebtID  int64      `db:"debt_id"`
		Kind    string     `db:"kind"`
		DueDate civil.Date `db:"due_date"`
		Amount  money.Bani `db:"amount_bani"`
	}
	if err := tx.Select(ctx, &allocated, `SELECT a.debt_id, d.kind, d.due_date, CAST(SUM(a.amount_bani) AS BIGINT) AS amount_bani FROM allocations a JOIN debts d ON d.id = a.debt_id
		WHERE a.payment_id = ? AND a.source IN ('payment', 'refund') GROUP BY a.debt_id, d.kind, d.due_date`, p.ID); err != nil {
		return translate(err, "allocations")
	}
	credit, err := sumBani(ctx, tx, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM credit_entries WHERE payment_id = ?`, p.ID)
	if err != nil {
		return err
	}
	debts := make([]payments.Debt, len(allocated))
	for i, a := range allocated {
		debts[i] = payments.Debt{ID: a.DebtID, Kind: allocKind(a.Kind), DueDate: a.DueDate.String(), Outstanding: a.Amount}
	}
	back, fromCredit := payments.Reverse(amount, credit, debts)
	total := fromCredit
	for _, b := range back {
		total += b.Amount
		if _, err := tx.Exec(ctx, `INSERT INTO allocations (municipality_id, taxpayer_id, payment_id, refund_id, debt_id, source, amount_bani, effective_on, created_at) VALUES (?, ?, ?, ?, ?, 'refund', ?, ?, ?)`,
			p.MunicipalityID, p.TaxpayerID, p.ID, refundID, b.DebtID, -b.Amount, on, tx.Now); err != nil {
			return translate(err, "allocation")
		}
	}
	if total != amount {
		return fiscal.Internal(fmt.Errorf("refund %d of %s: only %s can be taken back", refundID, amount, total), "refund")
	}
	if fromCredit > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO credit_entries (municipality_id, taxpayer_id, payment_id, refund_id, source, amount_bani, effective_on, created_at) VALUES (?, ?, ?, ?, 'refund', ?, ?, ?)`,
			p.MunicipalityID, p.TaxpayerID, p.ID, refundID, -fromCredit, on, tx.Now); err != nil {
			return translate(err, "credit")
		}
	}
	if len(back) > 0 {
		// A reopened debt means the year is no longer paid by the deadline.
		if _, err := tx.Exec(ctx, `INSERT INTO allocations (municipality_id, taxpayer_id, payment_id, refund_id, debt_id, source, amount_bani, effective_on, created_at)
			SELECT municipality_id, taxpayer_id, payment_id, ?, debt_id, 'bonus', -SUM(amount_bani), ?, ? FROM allocations WHERE payment_id = ? AND source = 'bonus'
			GROUP BY municipality_id, taxpayer_id, payment_id, debt_id HAVING SUM(amount_bani) <> 0`, refundID, on, tx.Now, p.ID); err != nil {
			return translate(err, "bonus")
		}
	}
	tx.fault(FaultRefundApply)
	p.Refunded += amount
	status := fiscal.PaymentSucceeded
	if p.Refunded >= p.Amount {
		status = fiscal.PaymentRefunded
	}
	p.Status = status
	if _, err := tx.Exec(ctx, `UPDATE payments SET refunded_bani = ?, status = ?, updated_at = ?, version = version + 1 WHERE id = ?`, p.Refunded, status, tx.Now, p.ID); err != nil {
		return translate(err, "payment")
	}
	if _, err := tx.Exec(ctx, `UPDATE refunds SET status = 'succeeded', refunded_on = ?, updated_at = ? WHERE id = ?`, on, tx.Now, refundID); err != nil {
		return translate(err, "refund")
	}
	return tx.Audit(ctx, p.MunicipalityID, "refund.apply", "refund", refundID, nil, map[string]any{
		"payment_id": p.ID, "amount": amount, "from_credit": fromCredit, "reversed": back})
}

type refundRow struct {
	ID                int64      `db:"id"`
	MunicipalityID    int64      `db:"municipality_id"`
	PaymentID         int64      `db:"payment_id"`
	Amount            money.Bani `db:"amount_bani"`
	Reason            string     `db:"reason"`
	Status            string     `db:"status"`
	ProviderReference *string    `db:"provider_reference"`
	CreatedAt         time.Time  `db:"created_at"`
}

func (r *refundRow) view() *fiscal.Refund {
	return &fiscal.Refund{ID: r.ID, PaymentID: r.PaymentID, Amount: r.Amount, Reason: r.Reason, Status: r.Status, ProviderReference: r.ProviderReference, CreatedAt: r.CreatedAt}
}

func getRefund(ctx context.Context, q querier, id, muni int64) (*refundRow, error) {
	var r refundRow
	err := q.GetContext(ctx, &r, q.Rebind(`SELECT id, municipality_id, payment_id, amount_bani, reason, status, provider_reference, created_at FROM refunds WHERE id = ? AND municipality_id = ?`), id, muni)
	if err != nil {
		return nil, translate(err, "refund")
	}
	return &r, nil
}

// BeginRefund checks and records a refund (accountant). A cash payment's
// refund is effective at once; a card refund is 'requested' until the
// provider accepts it (CompleteRefund) or its charge.refunded event arrives.
// It returns the refund and the payment (for its provider reference).
func (db *DB) BeginRefund(ctx context.Context, paymentID int64, in *fiscal.RefundInput) (*fiscal.Refund, *fiscal.Payment, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAccountant)
	if err != nil {
		return nil, nil, err
	}
	limits, err := db.amountLimits(ctx, a.MunicipalityID)
	if err != nil {
		return nil, nil, err
	}
	if err := fiscal.CheckAmountLimit("amount", in.Amount, limits.Refund, "refund"); err != nil {
		return nil, nil, err
	}
	var out *fiscal.Refund
	var pv *fiscal.Payment
	err = db.InTx(ctx, func(tx *Tx) error {
		p, err := getPayment(ctx, tx, `id = ? AND municipality_id = ?`, paymentID, a.MunicipalityID)
		if err != nil {
			return err
		}
		if c := fiscal.IdempotencyClaimFrom(ctx); c != nil && c.Resumed {
			// A retry of a refund whose call to Stripe had no known
			// outcome: the same refund, never a second one.
			var id int64
			if err := tx.Get(ctx, &id, `SELECT id FROM refunds WHERE claim_id = ? AND municipality_id = ? AND payment_id = ?`, c.ID, a.MunicipalityID, p.ID); err != nil {
				if err = translate(err, "refund"); fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
					return fiscal.ErrIdempotencyInFlight
				}
				return err
			}
			r, err := getRefund(ctx, tx, id, a.MunicipalityID)
			if err != nil {
				return err
			}
			out, pv = r.view(), p.view()
			return nil
		}
		if err := lockAccount(ctx, tx, p.MunicipalityID, p.TaxpayerID); err != nil {
			return err
		}
		if p, err = getPayment(ctx, tx, `id = ?`, paymentID); err != nil {
			return err
		}
		if p.Status != fiscal.PaymentSucceeded && p.Status != fiscal.PaymentRefunded {
			return fiscal.Errorf(fiscal.ECONFLICT, "payment %d is %s: only a succeeded payment can be refunded", p.ID, p.Status)
		}
		pending, err := sumBani(ctx, tx, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM refunds WHERE payment_id = ? AND status = 'requested'`, p.ID)
		if err != nil {
			return err
		}
		refundable := p.Amount - p.Refunded - pending
		if in.Amount > refundable {
			return fiscal.InvalidField("amount", fmt.Sprintf("at most %s lei of this payment can be refunded", max(refundable, 0)))
		}
		status := "requested"
		id, err := tx.Insert(ctx, `INSERT INTO refunds (municipality_id, payment_id, amount_bani, reason, status, created_by, created_at, updated_at, claim_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.MunicipalityID, p.ID, in.Amount, strings.TrimSpace(in.Reason), status, a.UserID, tx.Now, tx.Now, nullID(tx.claimID(ctx)))
		if err != nil {
			return translate(err, "refund")
		}
		if err := tx.Audit(ctx, p.MunicipalityID, "refund.request", "refund", id, nil, map[string]any{"payment_id": p.ID, "amount": in.Amount, "reason": in.Reason}); err != nil {
			return err
		}
		if p.Method == fiscal.MethodCash {
			if err := applyRefund(ctx, tx, p, id, in.Amount, payments.LocalDate(tx.Now)); err != nil {
				return err
			}
		}
		r, err := getRefund(ctx, tx, id, p.MunicipalityID)
		if err != nil {
			return err
		}
		out, pv = r.view(), p.view()
		if p.Method == fiscal.MethodCash {
			return tx.keepReply(ctx, out) // complete: the reply is kept with it
		}
		return nil
	})
	return out, pv, err
}

// CompleteRefund makes a requested card refund effective once the provider
// accepted it (unless its charge.refunded event did so already).
func (db *DB) CompleteRefund(ctx context.Context, refundID int64, providerRef string) (*fiscal.Refund, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	var out *fiscal.Refund
	err = db.InTx(ctx, func(tx *Tx) error {
		r, err := getRefund(ctx, tx, refundID, a.MunicipalityID)
		if err != nil {
			return err
		}
		p, err := getPayment(ctx, tx, `id = ?`, r.PaymentID)
		if err != nil {
			return err
		}
		if err := lockAccount(ctx, tx, p.MunicipalityID, p.TaxpayerID); err != nil {
			return err
		}
		if p, err = getPayment(ctx, tx, `id = ?`, r.PaymentID); err != nil {
			return err
		}
		if r, err = getRefund(ctx, tx, refundID, a.MunicipalityID); err != nil {
			return err
		}
		if providerRef != "" {
			if _, err := tx.Exec(ctx, `UPDATE refunds SET provider_reference = ? WHERE id = ?`, providerRef, refundID); err != nil {
				return translate(err, "refund")
			}
		}
		if r.Status == "requested" {
			if err := applyRefund(ctx, tx, p, r.ID, r.Amount, payments.LocalDate(tx.Now)); err != nil {
				return err
			}
		}
		r, err = getRefund(ctx, tx, refundID, a.MunicipalityID)
		if err != nil {
			return err
		}
		out = r.view()
		return tx.keepReply(ctx, out)
	})
	return out, err
}

// FailRefund marks a requested refund failed (the provider refused it).
func (db *DB) FailRefund(ctx context.Context, refundID int64, message string) error {
	return db.InTx(ctx, func(tx *Tx) error {
		muni, err := tx.MunicipalityID()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE refunds SET status = 'failed', updated_at = ? WHERE id = ? AND municipality_id = ? AND status = 'requested'`, tx.Now, refundID, muni); err != nil {
			return translate(err, "refund")
		}
		return tx.Audit(ctx, muni, "refund.fail", "refund", refundID, nil, map[string]any{"message": message})
	})
}

// ReceiptData returns what a payment's receipt prints; ENOTFOUND when the
// payment is not visible or has no receipt (it did not succeed).
func (db *DB) ReceiptData(ctx context.Context, paymentID int64) (*fiscal.Receipt, error) {
	p, err := db.Payment(ctx, paymentID)
	if err != nil {
		return nil, err
	}
	if p.ReceiptNumber == nil {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "payment %d has no receipt: it has not succeeded", paymentID)
	}
	tp, err := db.Taxpayer(ctx, p.TaxpayerID)
	if err != nil {
		return nil, err
	}
	r := &fiscal.Receipt{Payment: p, TaxpayerName: tp.Name}
	switch {
	case tp.CNP != nil:
		r.TaxpayerIdent = "CNP " + *tp.CNP
	case tp.CUI != nil:
		r.TaxpayerIdent = "CUI " + *tp.CUI
	}
	if err := db.db.GetContext(ctx, &r.Municipality, db.db.Rebind(`SELECT name FROM municipalities WHERE id = ?`), tp.MunicipalityID); err != nil {
		return nil, translate(err, "municipality")
	}
	for _, a := range p.Allocations {
		var d fiscal.Debt
		if err := db.db.GetContext(ctx, &d, db.db.Rebind(`SELECT id, taxpayer_id, kind, tax_type, year, object_id, installment, due_date, amount_bani, 0 AS paid_bani, budget_code FROM debts WHERE id = ?`), a.DebtID); err != nil {
			return nil, translate(err, "debt")
		}
		r.Lines = append(r.Lines, fiscal.ReceiptLine{Debt: d, Amount: a.Amount})
	}
	return r, nil
}
