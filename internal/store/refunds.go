package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/payments"
)

// Refunds of a payment (accountant): BeginRefund records one (a cash refund
// is effective at once, a card refund is requested from the provider),
// CompleteRefund makes a card refund effective once the provider accepted it,
// FailRefund marks it failed. applyRefund takes the money back from the
// payment's credit, then from its allocations in the reverse of the legal
// order (payments.Reverse), revoking the bonus; catchUpRefunds brings a
// payment up to the refunds the provider reports (charge.refunded, including
// refunds made outside fiscald).

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
