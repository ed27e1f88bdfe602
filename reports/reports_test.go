package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/reports"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// table is an export read back: the title block, the header, the rows and
// the TOTAL row, as text.
type table struct {
	meta   map[string]string
	header []string
	rows   [][]string
	total  []string
}

func (tb *table) col(name string) int {
	for i, h := range tb.header {
		if h == name {
			return i
		}
	}
	panic("no column " + name)
}

// sum adds up a money column of the rows whose column where equals is.
func (tb *table) sum(t testing.TB, name string, where ...string) money.Bani {
	t.Helper()
	c := tb.col(name)
	var s money.Bani
	for _, r := range tb.rows {
		if len(where) == 2 && r[tb.col(where[0])] != where[1] {
			continue
		}
		v, err := money.Parse(r[c])
		if err != nil {
			t.Fatalf("%s %q: %v", name, r[c], err)
		}
		s += v
	}
	return s
}

func (tb *table) totalOf(t testing.TB, name string) money.Bani {
	t.Helper()
	v, err := money.Parse(tb.total[tb.col(name)])
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func parseRecords(t testing.TB, recs [][]string) *table {
	t.Helper()
	tb := &table{meta: map[string]string{}}
	i := 0
	for ; i < len(recs) && len(recs[i]) > 0 && recs[i][0] != ""; i++ {
		tb.meta[recs[i][0]] = recs[i][1]
	}
	i++ // blank line
	tb.header = recs[i]
	for _, r := range recs[i+1:] {
		if r[0] == "TOTAL" {
			tb.total = r
			continue
		}
		if tb.total != nil {
			t.Fatalf("a row after TOTAL: %v", r)
		}
		tb.rows = append(tb.rows, r)
	}
	if tb.total == nil {
		t.Fatal("no TOTAL row")
	}
	return tb
}

func readCSV(t testing.TB, b []byte) *table {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\uFEFF")) {
		t.Fatal("CSV without a BOM")
	}
	r := csv.NewReader(bytes.NewReader(b[3:]))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// encoding/csv drops blank lines: put the one after the title block back.
	out := [][]string{}
	for i, rec := range recs {
		out = append(out, rec)
		if i == 3 {
			out = append(out, []string{""})
		}
	}
	return parseRecords(t, out)
}

// readXLSX reads a workbook back with excelize, as a spreadsheet would
// show it (formatted values).
func readXLSX(t testing.TB, b []byte) *table {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the XLSX does not open: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("Raport", excelize.Options{RawCellValue: false})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		for j, v := range rows[i] {
			rows[i][j] = strings.ReplaceAll(v, ",", "") // #,##0.00 thousands separators
		}
		if len(rows[i]) == 0 {
			rows[i] = []string{""}
		}
	}
	return parseRecords(t, rows)
}

func export(t testing.TB, ctx context.Context, db *store.DB, clock fiscal.Clock, req reports.Request) []byte {
	t.Helper()
	var buf bytes.Buffer
	ex := &reports.Exporter{Source: db, Clock: clock}
	if _, err := ex.Export(ctx, req, &buf); err != nil {
		t.Fatalf("%s %s: %v", req.Name, req.Format, err)
	}
	return buf.Bytes()
}

// sumSQL is an independent sum over the ledger.
func sumSQL(t testing.TB, db *store.DB, query string, args ...any) money.Bani {
	t.Helper()
	var v money.Bani
	if err := db.SQL().Get(&v, db.SQL().Rebind(query), args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

var (
	yearFrom = civil.MustParse("2026-01-01")
	yearTo   = civil.MustParse("2026-12-31")
)

// TestCollectionsEqualLedger checks every collections grouping, in CSV and
// in XLSX read back, against sums computed from the ledger tables: received
// = Σ succeeded payments, refunds = Σ succeeded refunds, by method and by
// budget code (allocations joined to their debts), and by day.
func TestCollectionsEqualLedger(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		f := newLedger(t, db, clock)
		f.standard()
		paid := func(method string) money.Bani {
			return sumSQL(t, db, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM payments WHERE status IN ('succeeded', 'refunded') AND method = ?`, method)
		}
		refunded := func(method string) money.Bani {
			return sumSQL(t, db, `SELECT CAST(COALESCE(SUM(r.amount_bani), 0) AS BIGINT) FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.status = 'succeeded' AND p.method = ?`, method)
		}
		card, cash, refCard, refCash := paid("card"), paid("cash"), refunded("card"), refunded("cash")
		if card == 0 || cash == 0 || refCard == 0 || refCash == 0 {
			t.Fatalf("the fixture should have card, cash and both refunds: %s %s %s %s", card, cash, refCard, refCash)
		}
		for _, group := range []string{reports.ByBudgetCode, reports.ByDay, reports.ByMonth} {
			for _, format := range []reports.Format{reports.CSV, reports.XLSX} {
				t.Run(group+"/"+string(format), func(t *testing.T) {
					b := export(t, f.accountant, db, clock, reports.Request{Name: reports.Collections, Group: group, Format: format, From: yearFrom, To: yearTo})
					var tb *table
					if format == reports.CSV {
						tb = readCSV(t, b)
					} else {
						tb = readXLSX(t, b)
					}
					if tb.meta["Municipiu"] != "Municipiul Timișoara" || tb.meta["Perioada"] != "2026-01-01 – 2026-12-31" || tb.meta["Generat la"] != "2026-11-27 09:00:00 UTC" {
						t.Errorf("title block %v", tb.meta)
					}
					for name, want := range map[string]money.Bani{"Card (lei)": card, "Numerar (lei)": cash, "Total încasat (lei)": card + cash,
						"Restituiri card (lei)": refCard, "Restituiri numerar (lei)": refCash, "Net (lei)": card + cash - refCard - refCash} {
						if got := tb.totalOf(t, name); got != want {
							t.Errorf("TOTAL %s = %s, ledger %s", name, got, want)
						}
						if got := tb.sum(t, name); got != want {
							t.Errorf("Σ rows %s = %s, ledger %s", name, got, want)
						}
					}
					// By budget code: the money applied to each code's debts.
					var codes []string
					if err := db.SQL().Select(&codes, `SELECT DISTINCT budget_code FROM debts`); err != nil {
						t.Fatal(err)
					}
					for _, code := range codes {
						in := sumSQL(t, db, `SELECT CAST(COALESCE(SUM(a.amount_bani), 0) AS BIGINT) FROM allocations a JOIN debts d ON d.id = a.debt_id WHERE a.source = 'payment' AND d.budget_code = ?`, code)
						out := -sumSQL(t, db, `SELECT CAST(COALESCE(SUM(a.amount_bani), 0) AS BIGINT) FROM allocations a JOIN debts d ON d.id = a.debt_id WHERE a.source = 'refund' AND d.budget_code = ?`, code)
						if got := tb.sum(t, "Total încasat (lei)", "Cod bugetar", code); got != in {
							t.Errorf("%s received %s, ledger %s", code, got, in)
						}
						got := tb.sum(t, "Restituiri card (lei)", "Cod bugetar", code) + tb.sum(t, "Restituiri numerar (lei)", "Cod bugetar", code)
						if got != out {
							t.Errorf("%s refunds %s, ledger %s", code, got, out)
						}
					}
					credit := sumSQL(t, db, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM credit_entries`)
					if got := tb.sum(t, "Net (lei)", "Cod bugetar", reports.CreditCode); got != credit {
						t.Errorf("credit net %s, ledger %s", got, credit)
					}
					if group == reports.ByDay {
						var days []civil.Date
						if err := db.SQL().Select(&days, `SELECT DISTINCT paid_on FROM payments WHERE paid_on IS NOT NULL`); err != nil {
							t.Fatal(err)
						}
						for _, d := range days {
							want := sumSQL(t, db, `SELECT CAST(SUM(amount_bani) AS BIGINT) FROM payments WHERE paid_on = ?`, d)
							if got := tb.sum(t, "Total încasat (lei)", "Data", d.String()); got != want {
								t.Errorf("day %s received %s, ledger %s", d, got, want)
							}
						}
					}
				})
			}
		}
	})
}

// TestJournalAndBonusesEqualLedger: the journal's lines add up to the money
// kept (payments − refunds), its line count is every allocation and credit
// entry, and the bonuses add up to the bonus allocations.
func TestJournalAndBonusesEqualLedger(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		f := newLedger(t, db, clock)
		f.standard()
		for _, format := range []reports.Format{reports.CSV, reports.XLSX} {
			j := export(t, f.accountant, db, clock, reports.Request{Name: reports.Journal, Format: format, From: yearFrom, To: yearTo})
			b := export(t, f.admin, db, clock, reports.Request{Name: reports.Bonuses, Format: format, From: yearFrom, To: yearTo})
			var jt, bt *table
			if format == reports.CSV {
				jt, bt = readCSV(t, j), readCSV(t, b)
			} else {
				jt, bt = readXLSX(t, j), readXLSX(t, b)
			}
			kept := sumSQL(t, db, `SELECT CAST(SUM(amount_bani) AS BIGINT) FROM payments WHERE status IN ('succeeded', 'refunded')`) -
				sumSQL(t, db, `SELECT CAST(SUM(amount_bani) AS BIGINT) FROM refunds WHERE status = 'succeeded'`)
			if got := jt.totalOf(t, "Suma (lei)"); got != kept || jt.sum(t, "Suma (lei)") != kept {
				t.Errorf("%s journal total %s, ledger %s", format, got, kept)
			}
			var n int
			if err := db.SQL().Get(&n, `SELECT (SELECT COUNT(*) FROM allocations WHERE source <> 'bonus') + (SELECT COUNT(*) FROM credit_entries)`); err != nil {
				t.Fatal(err)
			}
			if len(jt.rows) != n {
				t.Errorf("%s journal has %d lines, ledger %d", format, len(jt.rows), n)
			}
			bonus := sumSQL(t, db, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM allocations WHERE source = 'bonus'`)
			if bonus != money.Lei(20) {
				t.Errorf("the fixture's bonus is %s, want 20.00", bonus)
			}
			if got := bt.totalOf(t, "Bonificație (lei)"); got != bonus || bt.sum(t, "Bonificație (lei)") != bonus {
				t.Errorf("%s bonuses %s, ledger %s", format, got, bonus)
			}
		}
	})
}

// TestArrearsEqualStatements: the arrears of each taxpayer and tax equal
// what the taxpayer's statement as of the same date shows for debts due
// before it (outstanding and late fees, computed there debt by debt).
func TestArrearsEqualStatements(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		f := newLedger(t, db, clock)
		f.standard()
		for _, asOf := range []string{"2026-04-01", "2026-05-20", "2026-10-15", "2027-03-01"} {
			d := civil.MustParse(asOf)
			for _, format := range []reports.Format{reports.CSV, reports.XLSX} {
				b := export(t, f.accountant, db, clock, reports.Request{Name: reports.Arrears, Format: format, AsOf: d})
				var tb *table
				if format == reports.CSV {
					tb = readCSV(t, b)
				} else {
					tb = readXLSX(t, b)
				}
				var wantOut, wantFees money.Bani
				for _, tp := range f.taxpayers {
					st, err := db.Statement(f.accountant, tp.ID, d)
					if err != nil {
						t.Fatal(err)
					}
					var out, fees money.Bani
					for _, l := range st.Debts {
						if l.DueDate.Before(d) {
							out += l.Outstanding
							fees += l.LateFees
						}
					}
					ident := map[bool]string{true: deref(tp.CNP), false: deref(tp.CUI)}[tp.CNP != nil]
					if got := tb.sum(t, "Debit restant (lei)", "CNP/CUI", ident); got != out {
						t.Errorf("%s %s %s outstanding %s, statement %s", asOf, format, tp.Name, got, out)
					}
					if got := tb.sum(t, "Majorări de întârziere (lei)", "CNP/CUI", ident); got != fees {
						t.Errorf("%s %s %s late fees %s, statement %s", asOf, format, tp.Name, got, fees)
					}
					wantOut, wantFees = wantOut+out, wantFees+fees
				}
				if tb.totalOf(t, "Debit restant (lei)") != wantOut || tb.totalOf(t, "Majorări de întârziere (lei)") != wantFees || tb.totalOf(t, "Total de plată (lei)") != wantOut+wantFees {
					t.Errorf("%s %s totals %v, statements %s + %s", asOf, format, tb.total, wantOut, wantFees)
				}
				if asOf == "2026-10-15" && (wantOut == 0 || wantFees == 0) {
					t.Errorf("the fixture should have arrears with late fees on %s", asOf)
				}
			}
		}
	})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// TestGoldenCSV pins the CSV layout of each report (go test ./reports -run
// Golden -update rewrites the files after a deliberate change).
func TestGoldenCSV(t *testing.T) {
	clock := fiscal.NewTestClock(storetest.Epoch)
	db := storetest.MustOpen(t, "sqlite", clock)
	f := newLedger(t, db, clock)
	f.standard()
	for name, req := range map[string]reports.Request{
		"collections-budget_code": {Name: reports.Collections, Group: reports.ByBudgetCode, From: yearFrom, To: yearTo},
		"collections-day":         {Name: reports.Collections, Group: reports.ByDay, From: yearFrom, To: yearTo},
		"collections-month":       {Name: reports.Collections, Group: reports.ByMonth, From: yearFrom, To: yearTo},
		"journal":                 {Name: reports.Journal, From: yearFrom, To: yearTo},
		"arrears":                 {Name: reports.Arrears, AsOf: civil.MustParse("2026-10-15")},
		"bonuses":                 {Name: reports.Bonuses, From: yearFrom, To: yearTo},
	} {
		t.Run(name, func(t *testing.T) {
			req.Format = reports.CSV
			got := export(t, f.accountant, db, clock, req)
			path := filepath.Join("testdata", name+".csv")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s:\n%s", name, path, got)
			}
		})
	}
}

// TestAccess: only accountants and admins get reports.
func TestAccess(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		f := newLedger(t, db, clock)
		f.standard()
		tpID := f.taxpayers[0].ID
		signer, _ := storetest.Staff(t, db, f.muni, "dan", fiscal.RoleSigner)
		taxpayer := fiscal.WithActor(context.Background(), &fiscal.Actor{UserID: 99, MunicipalityID: f.muni.ID, Role: fiscal.RoleTaxpayer, TaxpayerID: &tpID, Assurance: fiscal.AssuranceSelf})
		for name, ctx := range map[string]context.Context{"officer": f.officer, "signer": signer, "taxpayer": taxpayer, "anonymous": context.Background()} {
			for _, r := range []string{reports.Collections, reports.Journal, reports.Arrears, reports.Bonuses} {
				var buf bytes.Buffer
				ex := &reports.Exporter{Source: db, Clock: clock}
				_, err := ex.Export(ctx, reports.Request{Name: r, From: yearFrom, To: yearTo, AsOf: yearTo}, &buf)
				want := fiscal.EFORBIDDEN
				if name == "anonymous" {
					want = fiscal.EUNAUTHORIZED
				}
				if fiscal.ErrorCode(err) != want || buf.Len() != 0 {
					t.Errorf("%s %s: %v (%d bytes), want %s and nothing written", name, r, err, buf.Len(), want)
				}
			}
		}
	})
}

// TestPDF: a PDF within the limit renders; a bigger one is refused with
// ETOOLARGE before anything is written, never truncated.
func TestPDF(t *testing.T) {
	clock := fiscal.NewTestClock(storetest.Epoch)
	db := storetest.MustOpen(t, "sqlite", clock)
	f := newLedger(t, db, clock)
	f.standard()
	for _, r := range []reports.Request{
		{Name: reports.Collections, Group: reports.ByBudgetCode, From: yearFrom, To: yearTo},
		{Name: reports.Collections, Group: reports.ByDay, From: yearFrom, To: yearTo},
		{Name: reports.Journal, From: yearFrom, To: yearTo},
		{Name: reports.Arrears, AsOf: civil.MustParse("2026-10-15")},
		{Name: reports.Bonuses, From: yearFrom, To: yearTo},
	} {
		r.Format = reports.PDF
		b := export(t, f.accountant, db, clock, r)
		if !bytes.HasPrefix(b, []byte("%PDF-")) {
			t.Errorf("%s: not a PDF", r.Name)
		}
	}
	var buf bytes.Buffer
	ex := &reports.Exporter{Source: db, Clock: clock, PDFMaxRows: 3}
	_, err := ex.Export(f.accountant, reports.Request{Name: reports.Journal, Format: reports.PDF, From: yearFrom, To: yearTo}, &buf)
	if fiscal.ErrorCode(err) != fiscal.ETOOLARGE || !strings.Contains(err.Error(), "csv") || buf.Len() != 0 {
		t.Fatalf("PDF over the limit: %v, %d bytes", err, buf.Len())
	}
}

// TestCancel: a cancelled context stops an export.
func TestCancel(t *testing.T) {
	clock := fiscal.NewTestClock(storetest.Epoch)
	db := storetest.MustOpen(t, "sqlite", clock)
	f := newLedger(t, db, clock)
	f.standard()
	ctx, cancel := context.WithCancel(f.accountant)
	cancel()
	ex := &reports.Exporter{Source: db, Clock: clock}
	_, err := ex.Export(ctx, reports.Request{Name: reports.Journal, From: yearFrom, To: yearTo}, &bytes.Buffer{})
	if err == nil || !(errors.Is(err, context.Canceled) || fiscal.ErrorCode(err) == fiscal.EUNAVAILABLE) {
		t.Fatalf("cancelled export: %v", err)
	}
}

// TestValidate: missing or bad parameters are 422 naming the field.
func TestValidate(t *testing.T) {
	for _, c := range []struct {
		req   reports.Request
		field string
	}{
		{reports.Request{Name: "nope"}, "report"},
		{reports.Request{Name: reports.Collections, To: yearTo}, "from"},
		{reports.Request{Name: reports.Collections, From: yearTo, To: yearFrom}, "to"},
		{reports.Request{Name: reports.Collections, From: yearFrom, To: yearTo, Group: "week"}, "group"},
		{reports.Request{Name: reports.Arrears}, "as_of"},
		{reports.Request{Name: reports.Bonuses, From: yearFrom, To: yearTo, Format: "ods"}, "format"},
	} {
		err := c.req.Validate()
		var fe *fiscal.Error
		if !errors.As(err, &fe) || fe.Code != fiscal.EINVALID || len(fe.Fields) == 0 || fe.Fields[0].Field != c.field {
			t.Errorf("%+v: %v, want EINVALID on %s", c.req, err, c.field)
		}
	}
}

// TestXLSXContinuesOnNewSheet: past a sheet's row limit the rows go on in
// "Raport (2)" under a repeated header; none is lost.
func TestXLSXContinuesOnNewSheet(t *testing.T) {
	clock := fiscal.NewTestClock(storetest.Epoch)
	db := storetest.MustOpen(t, "sqlite", clock)
	f := newLedger(t, db, clock)
	f.standard()
	defer reports.SetSheetRows(8)()
	b := export(t, f.accountant, db, clock, reports.Request{Name: reports.Journal, Format: reports.XLSX, From: yearFrom, To: yearTo})
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	sheets := x.GetSheetList()
	if len(sheets) < 2 || sheets[1] != "Raport (2)" {
		t.Fatalf("sheets %v", sheets)
	}
	lines := 0
	for i, s := range sheets {
		rows, err := x.GetRows(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > 8 {
			t.Errorf("%s has %d rows", s, len(rows))
		}
		start := 1 // the header
		if i == 0 {
			start = 6 // title block, blank, header
		}
		if i > 0 && rows[0][0] != "Data" {
			t.Errorf("%s starts with %v, want the header", s, rows[0])
		}
		for _, r := range rows[start:] {
			if len(r) > 0 && r[0] != "TOTAL" {
				lines++
			}
		}
	}
	var n int
	if err := db.SQL().Get(&n, `SELECT (SELECT COUNT(*) FROM allocations WHERE source <> 'bonus') + (SELECT COUNT(*) FROM credit_entries)`); err != nil {
		t.Fatal(err)
	}
	if lines != n {
		t.Errorf("%d lines over %d sheets, ledger %d", lines, len(sheets), n)
	}
}
