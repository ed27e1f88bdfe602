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

// Payments (payments.Store, under payments.Service): a card payment begun for
// the chosen debts or all of them (BeginCardPayment), the provider's
// reference attached to it (AttachPaymentIntent) or its refusal recorded
// (FailCardPayment); cash received at the desk (RecordCashPayment);
// Stripe's events applied once each (ApplyProviderEvent); a payment read
// with its allocations (Payment), a taxpayer's payments listed
// (TaxpayerPayments). settle allocates a succeeded payment
// (allocations.go), keeps the remainder as credit and numbers its receipt
// (receipts.go). The rules (allocation order, bonus, refund reversal) are
// the pure functions of package payments; here they run inside one
// transaction per use case.

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

func getPayment(ctx context.Context, q querier, where string, args ...any) (*paymentRow, error) {
	var p paymentRow
	err := q.GetContext(ctx, &p, q.Rebind(`SELECT `+paymentColumns+` FROM payments WHERE `+where), args...)
	if err != nil {
		return nil, translate(err, "payment")
	}
	return &p, nil
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

// TaxpayerPayments lists a taxpayer's payments, newest first, with their
// allocations (fiscal.PaymentLister).
func (db *DB) TaxpayerPayments(ctx context.Context, taxpayerID int64) ([]*fiscal.Payment, error) {
	tp, err := db.Taxpayer(ctx, taxpayerID)
	if err != nil {
		return nil, err
	}
	var rows []paymentRow
	if err := db.db.SelectContext(ctx, &rows, db.db.Rebind(`SELECT `+paymentColumns+` FROM payments WHERE municipality_id = ? AND taxpayer_id = ?
		ORDER BY created_at DESC, id DESC LIMIT 500`), tp.MunicipalityID, tp.ID); err != nil {
		return nil, translate(err, "payments")
	}
	out := make([]*fiscal.Payment, 0, len(rows))
	for i := range rows {
		v, err := paymentView(ctx, db.db, &rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
