package store

import (
	"context"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// Card reconciliation: the processor's balance transactions stored once
// each (provider_transactions, unique by its id), and what the comparison
// with our payments reads.

// RecordProviderTransactions stores an import's transactions (those seen
// before are skipped) with its summary and audit entry (accountant, admin).
func (db *DB) RecordProviderTransactions(ctx context.Context, in *fiscal.ReconciliationImportInput, from, to *time.Time, txns []fiscal.ProviderTransaction) (*fiscal.ReconciliationImport, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAccountant, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	out := &fiscal.ReconciliationImport{PayoutID: in.PayoutID, From: in.From, To: in.To, Transactions: len(txns), ByType: map[string]int{}}
	err = db.InTx(ctx, func(tx *Tx) error {
		out.New = 0
		id, err := tx.Insert(ctx, `INSERT INTO reconciliation_imports (municipality_id, provider, payout_id, created_from, created_to, transactions, created_by, created_at) VALUES (?, 'stripe', ?, ?, ?, ?, ?, ?)`,
			a.MunicipalityID, in.PayoutID, from, to, len(txns), a.UserID, tx.Now)
		if err != nil {
			return translate(err, "reconciliation import")
		}
		out.ID = id
		for _, t := range txns {
			out.ByType[t.Type]++
			out.Gross += t.Amount
			out.Fees += t.Fee
			out.Net += t.Net
			r, err := tx.Exec(ctx, `INSERT INTO provider_transactions (municipality_id, provider, transaction_id, type, amount_bani, fee_bani, net_bani, currency, source, payment_intent_id,
				status, payout_id, created, import_id) VALUES (?, 'stripe', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				a.MunicipalityID, t.ID, t.Type, t.Amount, t.Fee, t.Net, t.Currency, t.Source, t.PaymentIntentID, t.Status, in.PayoutID, t.Created.UTC(), id)
			if err != nil {
				return translate(err, "provider transaction")
			}
			if n, _ := r.RowsAffected(); n > 0 {
				out.New++
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE reconciliation_imports SET new_transactions = ? WHERE id = ?`, out.New, id); err != nil {
			return translate(err, "reconciliation import")
		}
		return tx.Audit(ctx, a.MunicipalityID, "reconciliation.import", "reconciliation_import", id, nil, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReconciliationInputs reads what Reconcile compares for the local dates
// [from, to]: the card payments paid in the period and the transactions
// created in it (instants [start, end)), plus, on each side, the other
// side's PaymentIntents from outside the period (a payment on the period's
// last evening may be charged after midnight).
func (db *DB) ReconciliationInputs(ctx context.Context, from, to civil.Date, start, end time.Time) ([]fiscal.ReconciledPayment, []fiscal.ProviderTransaction, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAccountant, fiscal.RoleAdmin)
	if err != nil {
		return nil, nil, err
	}
	q := db.db
	var ours []fiscal.ReconciledPayment
	if err := q.SelectContext(ctx, &ours, q.Rebind(`SELECT p.id, COALESCE(p.provider_reference, '') AS provider_reference, p.status, p.amount_bani, p.refunded_bani, p.paid_on
		FROM payments p WHERE p.municipality_id = ? AND p.method = 'card' AND p.provider_reference IS NOT NULL AND (
			(p.paid_on >= ? AND p.paid_on <= ?) OR p.provider_reference IN (SELECT t.payment_intent_id FROM provider_transactions t
				WHERE t.municipality_id = ? AND t.created >= ? AND t.created < ? AND t.payment_intent_id <> ''))
		ORDER BY p.id`), a.MunicipalityID, from, to, a.MunicipalityID, start, end); err != nil {
		return nil, nil, translate(err, "payments")
	}
	var rows []struct {
		ID       string    `db:"transaction_id"`
		Type     string    `db:"type"`
		Amount   int64     `db:"amount_bani"`
		Fee      int64     `db:"fee_bani"`
		Net      int64     `db:"net_bani"`
		Currency string    `db:"currency"`
		Source   string    `db:"source"`
		PI       string    `db:"payment_intent_id"`
		Status   string    `db:"status"`
		Created  time.Time `db:"created"`
	}
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT t.transaction_id, t.type, t.amount_bani, t.fee_bani, t.net_bani, t.currency, t.source, t.payment_intent_id, t.status, t.created
		FROM provider_transactions t WHERE t.municipality_id = ? AND ((t.created >= ? AND t.created < ?) OR (t.payment_intent_id <> '' AND t.payment_intent_id IN (
			SELECT p.provider_reference FROM payments p WHERE p.municipality_id = ? AND p.method = 'card' AND p.paid_on >= ? AND p.paid_on <= ?)))
		ORDER BY t.created, t.id`), a.MunicipalityID, start, end, a.MunicipalityID, from, to); err != nil {
		return nil, nil, translate(err, "provider transactions")
	}
	theirs := make([]fiscal.ProviderTransaction, len(rows))
	for i, r := range rows {
		theirs[i] = fiscal.ProviderTransaction{ID: r.ID, Type: r.Type, Amount: money.Bani(r.Amount), Fee: money.Bani(r.Fee), Net: money.Bani(r.Net), Currency: r.Currency,
			Source: r.Source, PaymentIntentID: r.PI, Status: r.Status, Created: r.Created.UTC()}
	}
	return ours, theirs, nil
}
