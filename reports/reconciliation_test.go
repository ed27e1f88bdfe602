package reports_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/internal/store/storetest"
	"fiscald/reports"
)

// reconStub is the reconciliation source of the report tests: the
// differences payments.Reconcile makes for one charge of each kind (Reconcile
// itself is tested in payments), behind the same role check.
type reconStub struct {
	diffs    []fiscal.ReconciliationDifference
	from, to civil.Date
}

func (s *reconStub) ReconciliationDifferences(ctx context.Context, from, to civil.Date) ([]fiscal.ReconciliationDifference, error) {
	if _, err := fiscal.RequireRole(ctx, fiscal.RoleAccountant, fiscal.RoleAdmin); err != nil {
		return nil, err
	}
	s.from, s.to = from, to
	return s.diffs, nil
}

func pid(id int64) *int64 { return &id }

var reconFixture = []fiscal.ReconciliationDifference{
	{Kind: fiscal.DiffAmount, PaymentIntentID: "pi_amount", PaymentID: pid(11), TransactionIDs: []string{"txn_a1"}, Ours: 19800, Theirs: 19000, Fee: 290, Detail: "charged 190.00 lei, paid 198.00 lei"},
	{Kind: fiscal.DiffFee, PaymentIntentID: "pi_ok", PaymentID: pid(12), TransactionIDs: []string{"txn_c1", "txn_r1"}, Ours: 50000, Theirs: 40000, Fee: 725, Detail: "fee kept by the processor"},
	{Kind: fiscal.DiffMissingOurs, PaymentIntentID: "pi_stray", TransactionIDs: []string{"txn_s1"}, Theirs: 12345, Fee: 179, Detail: "no succeeded payment here for this PaymentIntent"},
	{Kind: fiscal.DiffMissingProvider, PaymentIntentID: "pi_lost", PaymentID: pid(13), TransactionIDs: []string{}, Ours: 7500, Detail: "no charge at the processor for this payment"},
	{Kind: fiscal.DiffProviderOther, TransactionIDs: []string{"txn_adj"}, Theirs: -1500, Detail: "adjustment"},
	{Kind: fiscal.DiffRefund, PaymentIntentID: "pi_ok", PaymentID: pid(12), TransactionIDs: []string{"txn_r1"}, Ours: 5000, Theirs: 10000, Detail: "refunded 100.00 lei at the processor, 50.00 lei here"},
}

// TestReconciliationReport: the card reconciliation differences as CSV
// (golden), XLSX read back with the same figures, PDF; the TOTAL row sums
// the differences; the period reaches the source; access as the others.
func TestReconciliationReport(t *testing.T) {
	clock := fiscal.NewTestClock(storetest.Epoch)
	db := storetest.MustOpen(t, "sqlite", clock)
	f := newLedger(t, db, clock)
	src := &reconStub{diffs: reconFixture}
	from, to := civil.MustParse("2026-05-01"), civil.MustParse("2026-05-31")
	run := func(ctx context.Context, format reports.Format) ([]byte, error) {
		var buf bytes.Buffer
		ex := &reports.Exporter{Source: db, Reconciliation: src, Clock: clock}
		_, err := ex.Export(ctx, reports.Request{Name: reports.Reconciliation, Format: format, From: from, To: to}, &buf)
		return buf.Bytes(), err
	}
	csvb, err := run(f.accountant, reports.CSV)
	if err != nil {
		t.Fatal(err)
	}
	if src.from != from || src.to != to {
		t.Errorf("period passed %s – %s", src.from, src.to)
	}
	path := filepath.Join("testdata", "reconciliation.csv")
	if *update {
		if err := os.WriteFile(path, csvb, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(csvb, want) {
		t.Errorf("reconciliation differs from %s:\n%s", path, csvb)
	}
	xlsxb, err := run(f.admin, reports.XLSX)
	if err != nil {
		t.Fatal(err)
	}
	var ours, theirs, fee, diff money.Bani
	for _, d := range reconFixture {
		ours, theirs, fee = ours+d.Ours, theirs+d.Theirs, fee+d.Fee
		if d.Kind != fiscal.DiffFee {
			diff += d.Theirs - d.Ours
		}
	}
	c, x := readCSV(t, csvb), readXLSX(t, xlsxb)
	for _, tb := range []*table{c, x} {
		if tb.meta["Municipiu"] != "Municipiul Timișoara" || tb.meta["Perioada"] != "2026-05-01 – 2026-05-31" || tb.meta["Generat la"] != clock.Now().UTC().Format("2006-01-02 15:04:05")+" UTC" {
			t.Errorf("title block %v", tb.meta)
		}
		if len(tb.rows) != len(reconFixture) {
			t.Fatalf("%d rows, want %d", len(tb.rows), len(reconFixture))
		}
		for name, want := range map[string]money.Bani{"Suma noastră (lei)": ours, "Suma procesatorului (lei)": theirs, "Comision (lei)": fee, "Diferență (lei)": diff} {
			if got := tb.totalOf(t, name); got != want || tb.sum(t, name) != want {
				t.Errorf("%s: TOTAL %s, rows %s, want %s", name, got, tb.sum(t, name), want)
			}
		}
	}
	for i := range c.rows {
		for _, col := range []string{"Tip", "Plata", "PaymentIntent", "Tranzacții procesator", "Suma noastră (lei)", "Suma procesatorului (lei)", "Comision (lei)", "Diferență (lei)"} { // the XLSX reader drops commas: not Observații
			if c.rows[i][c.col(col)] != x.rows[i][x.col(col)] {
				t.Errorf("row %d %s: CSV %q, XLSX %q", i, col, c.rows[i][c.col(col)], x.rows[i][x.col(col)])
			}
		}
	}
	if b, err := run(f.accountant, reports.PDF); err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Errorf("PDF: %v", err)
	}
	for name, ctx := range map[string]context.Context{"officer": f.officer, "anonymous": context.Background()} {
		b, err := run(ctx, reports.CSV)
		want := fiscal.EFORBIDDEN
		if name == "anonymous" {
			want = fiscal.EUNAUTHORIZED
		}
		if fiscal.ErrorCode(err) != want || len(b) != 0 {
			t.Errorf("%s: %v (%d bytes), want %s", name, err, len(b), want)
		}
	}
	// Without a reconciliation source the report is unavailable, not empty.
	var buf bytes.Buffer
	_, err = (&reports.Exporter{Source: db, Clock: clock}).Export(f.accountant, reports.Request{Name: reports.Reconciliation, From: from, To: to}, &buf)
	if fiscal.ErrorCode(err) != fiscal.EUNAVAILABLE || buf.Len() != 0 {
		t.Errorf("no source: %v", err)
	}
}
