package store

import (
	"context"
	"fmt"
	"strings"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/payments"
)

// A taxpayer's credit (fiscal.CreditService). Every credit entry names the
// payment whose money it is (an overpayment, a refund taking it back, a
// recomputation turning paid tax into credit), so the credit is used per
// payment: applying it allocates that payment's money to debts (allocations
// source 'payment', like the payment's own) and records the use as a
// negative credit entry (source 'applied'). The invariant Σ allocations +
// Σ credit = Σ payments − Σ refunds − Σ credit refunds keeps holding.

type creditBalance struct {
	PaymentID int64      `db:"payment_id"`
	Amount    money.Bani `db:"amount_bani"`
}

// creditByPayment returns the taxpayer's positive credit per payment, oldest
// payment first.
func creditByPayment(ctx context.Context, tx *Tx, muni, taxpayer int64) ([]creditBalance, error) {
	var out []creditBalance
	err := tx.Select(ctx, &out, `SELECT payment_id, CAST(SUM(amount_bani) AS BIGINT) AS amount_bani FROM credit_entries
		WHERE municipality_id = ? AND taxpayer_id = ? AND payment_id IS NOT NULL GROUP BY payment_id HAVING SUM(amount_bani) > 0 ORDER BY payment_id`, muni, taxpayer)
	return out, translate(err, "credit")
}

// applyCredit allocates the taxpayer's credit inside tx (the account is
// locked by the caller) and returns what it did.
func applyCredit(ctx context.Context, tx *Tx, e *calc.Engine, slug string, muni, taxpayer int64, on civil.Date) (*fiscal.CreditApplication, error) {
	bals, err := creditByPayment(ctx, tx, muni, taxpayer)
	if err != nil {
		return nil, err
	}
	app := &fiscal.CreditApplication{TaxpayerID: taxpayer, Allocations: []fiscal.PaymentAllocation{}}
	for _, b := range bals {
		s, err := allocateMoney(ctx, tx, e, slug, muni, taxpayer, b.PaymentID, b.Amount, nil, on)
		if err != nil {
			return nil, err
		}
		used := b.Amount - s.Credit
		app.Credit += s.Credit
		if used <= 0 {
			continue
		}
		app.Applied += used
		for _, a := range s.Allocations {
			app.Allocations = append(app.Allocations, fiscal.PaymentAllocation{DebtID: a.DebtID, Amount: a.Amount})
		}
		for _, a := range s.Bonus {
			app.Bonus += a.Amount
		}
		if _, err := tx.Exec(ctx, `INSERT INTO credit_entries (municipality_id, taxpayer_id, payment_id, source, amount_bani, effective_on, created_at) VALUES (?, ?, ?, 'applied', ?, ?, ?)`,
			muni, taxpayer, b.PaymentID, -used, on, tx.Now); err != nil {
			return nil, translate(err, "credit")
		}
	}
	if app.Applied > 0 {
		if err := tx.Audit(ctx, muni, "credit.apply", "taxpayer", taxpayer, nil, map[string]any{
			"applied": app.Applied, "bonus": app.Bonus, "allocations": app.Allocations, "credit_left": app.Credit, "on": on}); err != nil {
			return nil, err
		}
	}
	return app, nil
}

// ApplyCredit allocates a taxpayer's credit to their outstanding debts
// (staff, or the taxpayer themself).
func (db *DB) ApplyCredit(ctx context.Context, taxpayerID int64) (*fiscal.CreditApplication, error) {
	tp, err := db.Taxpayer(ctx, taxpayerID)
	if err != nil {
		return nil, err
	}
	e, slug, err := db.engineFor(ctx, tp.MunicipalityID)
	if err != nil {
		return nil, err
	}
	var app *fiscal.CreditApplication
	err = db.InTx(ctx, func(tx *Tx) error {
		if err := lockAccount(ctx, tx, tp.MunicipalityID, tp.ID); err != nil {
			return err
		}
		if app, err = applyCredit(ctx, tx, e, slug, tp.MunicipalityID, tp.ID, payments.LocalDate(tx.Now)); err != nil {
			return err
		}
		if app.Applied == 0 {
			if app.Credit == 0 {
				return fiscal.Errorf(fiscal.EINVALID, "the taxpayer has no credit to apply")
			}
			return fiscal.Errorf(fiscal.EINVALID, "nothing is due: the credit of %s lei stays on the account", app.Credit)
		}
		return tx.keepReply(ctx, app)
	})
	return app, err
}

// RefundCredit records a refund of credit as a pending bank transfer to the
// IBAN given (accountant), taking it from the payments' credit oldest first.
func (db *DB) RefundCredit(ctx context.Context, taxpayerID int64, in *fiscal.CreditRefundInput) (*fiscal.CreditRefund, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAccountant)
	if err != nil {
		return nil, err
	}
	tp, err := db.Taxpayer(ctx, taxpayerID)
	if err != nil {
		return nil, err
	}
	limits, err := db.amountLimits(ctx, tp.MunicipalityID)
	if err != nil {
		return nil, err
	}
	if err := fiscal.CheckAmountLimit("amount", in.Amount, limits.CreditRefund, "refund of credit"); err != nil {
		return nil, err
	}
	out := &fiscal.CreditRefund{TaxpayerID: tp.ID, Amount: in.Amount, Reason: strings.TrimSpace(in.Reason), IBAN: fiscal.NormalIBAN(in.IBAN), Status: fiscal.CreditRefundPending}
	err = db.InTx(ctx, func(tx *Tx) error {
		if err := lockAccount(ctx, tx, tp.MunicipalityID, tp.ID); err != nil {
			return err
		}
		bals, err := creditByPayment(ctx, tx, tp.MunicipalityID, tp.ID)
		if err != nil {
			return err
		}
		var total money.Bani
		for _, b := range bals {
			if total, err = money.Add(total, b.Amount); err != nil {
				return fiscal.Internal(err, "credit balance")
			}
		}
		if in.Amount > total {
			return fiscal.InvalidField("amount", fmt.Sprintf("at most %s lei of credit can be refunded", total))
		}
		out.CreatedAt = tx.Now
		out.ID, err = tx.Insert(ctx, `INSERT INTO credit_refunds (municipality_id, taxpayer_id, amount_bani, reason, iban, status, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			tp.MunicipalityID, tp.ID, in.Amount, out.Reason, out.IBAN, out.Status, a.UserID, tx.Now)
		if err != nil {
			return translate(err, "credit refund")
		}
		on := payments.LocalDate(tx.Now)
		left := in.Amount
		for _, b := range bals {
			t := min(left, b.Amount)
			if t <= 0 {
				break
			}
			if _, err := tx.Exec(ctx, `INSERT INTO credit_entries (municipality_id, taxpayer_id, payment_id, credit_refund_id, source, amount_bani, effective_on, created_at)
				VALUES (?, ?, ?, ?, 'credit_refund', ?, ?, ?)`, tp.MunicipalityID, tp.ID, b.PaymentID, out.ID, -t, on, tx.Now); err != nil {
				return translate(err, "credit")
			}
			left -= t
		}
		out.Credit = total - in.Amount
		if err := tx.Audit(ctx, tp.MunicipalityID, "credit.refund", "credit_refund", out.ID, nil, map[string]any{
			"taxpayer_id": tp.ID, "amount": in.Amount, "reason": out.Reason, "iban": out.IBAN, "status": out.Status}); err != nil {
			return err
		}
		return tx.keepReply(ctx, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

var _ fiscal.CreditService = (*DB)(nil)
