package store

import (
	"context"
	"fmt"
	"io"

	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// Receipts of settled payments: the gapless numbering per municipality,
// series (cash or card) and year, taken in the settling transaction
// (nextReceiptNumber, numberReceipt), what a receipt prints (ReceiptData)
// and its signed PDF, issued through the documents pipeline on its first
// request (ReceiptPDF).

// Receipt series: one gapless counter per municipality, series and year.
const (
	seriesCash = "CASA"
	seriesCard = "CARD"
)

// nextReceiptNumber takes the next number of a series inside tx: the counter
// row is updated in the paying transaction, so a rollback returns the number
// and concurrent cashiers queue on the row lock (no gaps, no repeats).
func nextReceiptNumber(ctx context.Context, tx *Tx, muni int64, series string, year int) (int64, error) {
	var n int64
	err := tx.Get(ctx, &n, `INSERT INTO receipt_counters (municipality_id, series, year, next_number) VALUES (?, ?, ?, 2)
		ON CONFLICT (municipality_id, series, year) DO UPDATE SET next_number = receipt_counters.next_number + 1 RETURNING next_number - 1`, muni, series, year)
	return n, translate(err, "receipt counter")
}

// ReceiptNumber formats the receipt number, e.g. "CASA-2026-000042".
func (p *paymentRow) receiptNumber() *string {
	if p.ReceiptNumber == nil || p.ReceiptSeries == nil || p.ReceiptYear == nil {
		return nil
	}
	s := fmt.Sprintf("%s-%d-%06d", *p.ReceiptSeries, *p.ReceiptYear, *p.ReceiptNumber)
	return &s
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

// ReceiptPDF returns a payment's signed receipt, issuing it through the
// documents pipeline on its first request (numbered by the receipt series
// the settlement allocated). It prints the payment as it was when first
// issued.
func (db *DB) ReceiptPDF(ctx context.Context, paymentID int64) (*fiscal.Document, io.ReadCloser, error) {
	r, err := db.ReceiptData(ctx, paymentID)
	if err != nil {
		return nil, nil, err
	}
	find := func() (*fiscal.Document, error) {
		return db.visibleDocument(ctx, `payment_id = ? AND type = 'receipt'`, paymentID)
	}
	d, err := find()
	if fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
		if db.docs == nil {
			return nil, nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "documents are not configured")
		}
		err = db.InTx(ctx, func(tx *Tx) error {
			var muni int64
			if err := tx.Get(ctx, &muni, `SELECT municipality_id FROM payments WHERE id = ?`, paymentID); err != nil {
				return translate(err, "payment")
			}
			pid := paymentID
			d, err = db.issue(ctx, tx, muni, r.Payment.TaxpayerID, &fiscal.DocumentContent{Type: fiscal.DocReceipt, Number: *r.Payment.ReceiptNumber,
				IssuedOn: *r.Payment.PaidOn, Receipt: r}, docLinks{paymentID: &pid})
			return err
		})
		if isUniqueViolation(err) || fiscal.ErrorCode(err) == fiscal.ECONFLICT {
			d, err = find() // issued by a concurrent request
		}
	}
	if err != nil {
		return nil, nil, err
	}
	return db.openDocument(ctx, d)
}
