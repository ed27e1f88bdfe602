package importer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"fiscald/assess"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/importer"
	"fiscald/internal/money"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/payments"
	"fiscald/payments/stripe"
)

// openFile opens a testdata file as an import file.
func openFile(t testing.TB, path string) fiscal.ImportFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	return fiscal.ImportFile{Name: filepath.Base(path), Data: f, Size: st.Size()}
}

func errorsOf(r *fiscal.ImportResult) []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, fmt.Sprintf("%d:%s", e.Line, e.Field))
	}
	return out
}

// TestImportSmallCity is the acceptance test: a small city
// (taxpayers, vehicles, balances) with errors seeded in known lines; the
// report names exactly those lines and fields, every good row is there,
// the carried-over debts show on the statement with late fees to today and
// are paid in the legal order, and a second import is all unchanged.
func TestImportSmallCity(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		clock.Set(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
		m := storetest.Municipality(t, db, "timisoara")
		admin, _ := storetest.Staff(t, db, m, "admin", fiscal.RoleAdmin)
		officer, _ := storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
		svc := &importer.Service{Store: db}
		want := map[string]struct {
			rows, good int64
			errs       []string
		}{
			"taxpayers": {9, 5, []string{"5:cnp", "6:email", "8:external_id", "10:"}},
			"vehicles":  {9, 4, []string{"5:owner_external_id", "6:vin", "7:vin", "8:category", "9:acquired_on"}},
			"buildings": {11, 4, []string{"4:share", "5:owner_external_id", "6:share", "7:owner_external_id", "8:use", "10:construction_type", "12:external_id"}},
			"lands":     {8, 3, []string{"4:share", "5:location", "6:area_m2", "8:share", "9:use_category"}},
			"balances":  {10, 5, []string{"5:owner_external_id", "6:principal", "7:installment", "8:object_external_id", "11:object_external_id"}},
		}
		// A dry run of each file reports the same and writes nothing.
		pending := map[string]map[string]string{}
		for _, kind := range importer.Kinds() {
			r, err := importer.Run(admin, db, kind, openFile(t, "testdata/city/"+kind+".csv"), true, importer.Options{MunicipalityID: m.ID, Pending: pending})
			if err != nil {
				t.Fatalf("dry run %s: %v", kind, err)
			}
			w := want[kind]
			if !r.DryRun || r.Rows != w.rows || r.Imported != w.good || r.Rejected != int64(len(w.errs)) || !reflect.DeepEqual(errorsOf(r), w.errs) {
				t.Fatalf("dry run %s: %+v, errors %v", kind, r, errorsOf(r))
			}
		}
		var n int
		if err := db.SQL().Get(&n, `SELECT COUNT(*) FROM taxpayers`); err != nil || n != 0 {
			t.Fatalf("the dry run wrote %d taxpayers (%v)", n, err)
		}
		for _, kind := range importer.Kinds() {
			r, err := svc.Import(admin, kind, openFile(t, "testdata/city/"+kind+".csv"), false)
			if err != nil {
				t.Fatalf("import %s: %v", kind, err)
			}
			w := want[kind]
			if r.DryRun || r.Rows != w.rows || r.Imported != w.good || r.Unchanged != 0 || r.Rejected != int64(len(w.errs)) || !reflect.DeepEqual(errorsOf(r), w.errs) {
				t.Fatalf("import %s: %+v, errors %v", kind, r, r.Errors)
			}
			var csv strings.Builder
			if err := svc.ImportErrors(admin, r.ID, &csv); err != nil || strings.Count(csv.String(), "\n") != len(w.errs)+1 || !strings.HasPrefix(csv.String(), "line,field,message\n") {
				t.Fatalf("errors.csv of %s: %v\n%s", kind, err, csv.String())
			}
			if kind == "taxpayers" && !strings.Contains(csv.String(), "5,cnp,invalid CNP") {
				t.Fatalf("errors.csv: %s", csv.String())
			}
		}
		for table, want := range map[string]int{"taxpayers": 5, "vehicles": 4, "buildings": 4, "lands": 3, "debts": 5} {
			if err := db.SQL().Get(&n, `SELECT COUNT(*) FROM `+table); err != nil || n != want {
				t.Fatalf("%s: %d rows, want %d (%v)", table, n, want, err)
			}
		}
		id := func(kind, ext string) int64 {
			var id int64
			if err := db.SQL().Get(&id, db.SQL().Rebind(`SELECT entity_id FROM import_keys WHERE kind = ? AND external_id = ?`), kind, ext); err != nil {
				t.Fatalf("%s %s: %v", kind, ext, err)
			}
			return id
		}
		tp, err := db.Taxpayer(officer, id("taxpayers", "TP007"))
		if err != nil || tp.Address != "Bd. Revoluției 3; ap. 4, Timișoara" || tp.Name != "Munteanu Ștefan" {
			t.Fatalf("TP007: %+v %v", tp, err)
		}
		co, _ := db.Taxpayer(officer, id("taxpayers", "TP003"))
		if co.CUI == nil || *co.CUI != "18547290" || co.Kind != fiscal.Company {
			t.Fatalf("TP003: %+v", co)
		}
		// The co-owned flat: each owner's holding with their share, the
		// co-owner, taxed from the year after the acquisition.
		bs, err := db.TaxpayerBuildings(officer, id("taxpayers", "TP002"))
		if err != nil || len(bs) != 1 || bs[0].Share != 4000 || bs[0].TaxedFromYear != 2026 || bs[0].CadastralNumber != "TM-400001-C1-U3" ||
			len(bs[0].CoOwners) != 1 || bs[0].CoOwners[0].TaxpayerID != id("taxpayers", "TP001") || bs[0].CoOwners[0].Share != 6000 ||
			bs[0].UsableAreaM2 == nil || bs[0].UsableAreaM2.String() != "55" || !bs[0].Utilities || bs[0].AcquiredOn.String() != "2025-06-10" {
			t.Fatalf("TP002's buildings: %+v %v", bs, err)
		}
		bs, _ = db.TaxpayerBuildings(officer, id("taxpayers", "TP001"))
		if len(bs) != 2 || bs[1].DisposedOn == nil || bs[1].DisposedOn.String() != "2020-05-05" || bs[1].BasementOrAttic != "dwelling" {
			t.Fatalf("TP001's buildings: %+v", bs)
		}
		ls, err := db.TaxpayerLands(officer, id("taxpayers", "TP003"))
		if err != nil || len(ls) != 1 || ls[0].UseCategory != "constructions" || ls[0].AreaM2.String() != "850.5" || ls[0].Share != fiscal.WholeShare {
			t.Fatalf("TP003's lands: %+v %v", ls, err)
		}
		tst, _ := payments.NewService(db, mustStripe(t), clock).Statement(officer, id("taxpayers", "TP007"), civil.Date{})
		if len(tst.Debts) != 1 || tst.Debts[0].TaxType != "building" || tst.Debts[0].ObjectID == nil || *tst.Debts[0].ObjectID != id("buildings", "B008") || tst.Debts[0].BudgetCode != "07.02.01.01" {
			t.Fatalf("statement of TP007 (a building's carried-over debt): %+v", tst)
		}
		vs, err := db.TaxpayerVehicles(officer, id("taxpayers", "TP002"))
		if err != nil || len(vs) != 1 || vs[0].Propulsion != "hybrid" || vs[0].AcquiredOn.String() != "2021-06-15" || vs[0].TaxedFromYear != 2022 {
			t.Fatalf("TP002's vehicles: %+v %v", vs, err)
		}

		// The statement: 300 due 31 March 2025 (21 started months to
		// 7 December 2026: 63 lei) and 199.50 due 30 September 2025 (15
		// months: 29.925 → 30 lei).
		pay := payments.NewService(db, mustStripe(t), clock)
		owner := id("taxpayers", "TP001")
		st, err := pay.Statement(officer, owner, civil.Date{})
		if err != nil {
			t.Fatal(err)
		}
		L := money.Lei
		if st.AsOf.String() != "2026-12-07" || len(st.Debts) != 2 || st.Debts[0].Outstanding != L(300) || st.Debts[0].LateFees != L(63) ||
			st.Debts[1].Outstanding != money.Bani(19950) || st.Debts[1].LateFees != L(30) || st.Debts[0].BudgetCode != "16.02.02.01" ||
			st.Debts[0].ObjectID == nil || *st.Debts[0].ObjectID != id("vehicles", "V001") || st.TotalDue != money.Bani(30000+19950+6300+3000) {
			t.Fatalf("statement of TP001: %+v", st)
		}
		cst, _ := pay.Statement(officer, id("taxpayers", "TP003"), civil.Date{})
		if len(cst.Debts) != 1 || cst.Debts[0].BudgetCode != "07.02.01.02" || cst.Debts[0].Outstanding != L(1200) {
			t.Fatalf("statement of TP003: %+v", cst)
		}
		// In the arrears report with the same late fees.
		var arrears []fiscal.ArrearsDebt
		if err := db.EachArrears(admin, civil.MustParse("2026-12-07"), func(d *fiscal.ArrearsDebt) error {
			arrears = append(arrears, *d)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(arrears) != 5 || arrears[0].TaxpayerID != owner || arrears[0].LateFees != L(63) || arrears[1].LateFees != L(30) {
			t.Fatalf("arrears: %+v", arrears)
		}
		// Paid like any debt: principal oldest first, then the late fees.
		p, err := pay.RecordCashPayment(officer, &fiscal.CashPaymentInput{TaxpayerID: owner, Amount: L(400)})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Allocations) != 2 || p.Allocations[0].Amount != L(300) || p.Allocations[1].Amount != money.Bani(10000) {
			t.Fatalf("cash payment: %+v", p)
		}

		// The same files again: every row unchanged (rejected rows are
		// rejected again), nothing written.
		for _, kind := range importer.Kinds() {
			r, err := svc.Import(admin, kind, openFile(t, "testdata/city/"+kind+".csv"), false)
			w := want[kind]
			if err != nil || r.Imported != 0 || r.Updated != 0 || r.Unchanged != w.good || r.Rejected != int64(len(w.errs)) {
				t.Fatalf("second import of %s: %+v %v", kind, r, err)
			}
		}
		// A changed row updates its record with an audit entry (before/after).
		changed := filepath.Join(t.TempDir(), "taxpayers.csv")
		b, _ := os.ReadFile("testdata/city/taxpayers.csv")
		if err := os.WriteFile(changed, []byte(strings.Replace(string(b), "Str. Alba Iulia 2", "Str. Alba Iulia 22", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := svc.Import(admin, "taxpayers", openFile(t, changed), false)
		if err != nil || r.Updated != 1 || r.Unchanged != 4 || r.Imported != 0 {
			t.Fatalf("changed import: %+v %v", r, err)
		}
		var audit struct {
			Before string `db:"before_json"`
			After  string `db:"after_json"`
		}
		if err := db.SQL().Get(&audit, `SELECT before_json, after_json FROM audit_log WHERE action = 'taxpayer.import_update'`); err != nil ||
			!strings.Contains(audit.Before, "Alba Iulia 2,") || !strings.Contains(audit.After, "Alba Iulia 22,") {
			t.Fatalf("audit of the update: %+v %v", audit, err)
		}
		if v, err := db.VerifyAuditChain(context.Background(), m.ID); err != nil || !v.Valid {
			t.Fatalf("audit chain: %+v %v", v, err)
		}
		// A balance paid on in fiscald is not changed by a later import.
		changed = filepath.Join(t.TempDir(), "balances.csv")
		b, _ = os.ReadFile("testdata/city/balances.csv")
		if err := os.WriteFile(changed, []byte(strings.Replace(string(b), `"300,00"`, "310", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		r, err = svc.Import(admin, "balances", openFile(t, changed), false)
		if err != nil || r.Updated != 0 || r.Rejected != 6 || r.Errors[0].Line != 2 || r.Errors[0].Field != "principal" {
			t.Fatalf("changed balance after a payment: %+v %v", r, err)
		}
		checkImportedHoldings(t, db, clock, admin, officer, m, id)
	})
}

func mustStripe(t *testing.T) *stripe.Client {
	c, err := stripe.New(stripe.Config{WebhookSecret: "whsec_test"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestImportDocsExamples: the example files of docs/import.md import whole.
func TestImportDocsExamples(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		admin, _ := storetest.Staff(t, db, m, "admin", fiscal.RoleAdmin)
		for _, kind := range importer.Kinds() {
			r, err := importer.Run(admin, db, kind, openFile(t, "../../docs/import/"+kind+".csv"), false, importer.Options{MunicipalityID: m.ID})
			if err != nil || r.Rejected != 0 || r.Imported == 0 || r.Imported != r.Rows {
				t.Fatalf("docs/import/%s.csv: %+v %v", kind, r, err)
			}
		}
	})
}

// checkImportedHoldings: the shares of a cadastral number stay within 100%
// against the database and the rows before (a changed share counted once),
// a changed holding is audited before/after, and the annual run taxes each
// co-owner of an imported flat on their share.
func checkImportedHoldings(t *testing.T, db *store.DB, clock *fiscal.TestClock, admin, officer context.Context, m *fiscal.Municipality, id func(kind, ext string) int64) {
	t.Helper()
	head := "external_id,owner_external_id,share,address,cadastral_number,use,construction_type,basement_or_attic,utilities,built_area_m2,usable_area_m2,zone,year_built,acquired_on,disposed_on\n"
	flat := `,"Str. Mărășești 1, ap. 3, Timișoara",TM-400001-C1-U3,residential,A,,da,,55,A,2010,2025-06-10,` + "\n"
	more := filepath.Join(t.TempDir(), "buildings.csv")
	if err := os.WriteFile(more, []byte(head+"B002,TP002,0.4"+flat+"B011,TP007,0.7"+flat+"B012,TP007,0.6"+flat), 0o600); err != nil {
		t.Fatal(err)
	}
	// The flat is held whole (60% + 40%): B011 and B012 are refused.
	r, err := importer.Run(admin, db, "buildings", openFile(t, more), false, importer.Options{MunicipalityID: m.ID})
	if err != nil || r.Unchanged != 1 || r.Imported != 0 || r.Rejected != 2 || len(r.Errors) != 2 || r.Errors[0].Field != "share" ||
		!strings.Contains(r.Errors[0].Message, "TM-400001-C1-U3") || r.Errors[1].Line != 4 {
		t.Fatalf("shares above 100%% against the database: %+v %v", r, err)
	}
	// A changed share (60% → 30%) makes room for 30% more in the same file.
	if err := os.WriteFile(more, []byte(head+"B001,TP001,0.3"+flat+"B012,TP007,0.3"+flat+"B013,TP004,0.0001"+flat), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err = importer.Run(admin, db, "buildings", openFile(t, more), false, importer.Options{MunicipalityID: m.ID})
	if err != nil || r.Updated != 1 || r.Imported != 1 || r.Rejected != 1 || r.Errors[0].Line != 4 || r.Errors[0].Field != "owner_external_id" {
		t.Fatalf("changed share: %+v %v", r, err)
	}
	var audit struct {
		Before string `db:"before_json"`
		After  string `db:"after_json"`
	}
	if err := db.SQL().Get(&audit, `SELECT before_json, after_json FROM audit_log WHERE action = 'building.import_update'`); err != nil ||
		!strings.Contains(audit.Before, `"share":"0.6000"`) || !strings.Contains(audit.After, `"share":"0.3000"`) {
		t.Fatalf("audit of the changed holding: %+v %v", audit, err)
	}
	// The annual run of 2026: 515.32 lei for the whole flat, so 30% →
	// 154.60 → 155, 40% → 206.13 → 206, 30% → 155.
	rep, err := assess.Run(admin, db, assess.Options{MunicipalityID: m.ID, Municipality: "timisoara", Year: 2026, BatchObjects: 2, Workers: 2})
	if err != nil { // (the test municipality's council has not chosen every rate: some other objects stay unassessed)
		t.Fatalf("annual run: %+v %v", rep, err)
	}
	var got []struct {
		TaxpayerID int64      `db:"taxpayer_id"`
		ObjectID   int64      `db:"object_id"`
		Annual     money.Bani `db:"annual_bani"`
	}
	if err := db.SQL().Select(&got, `SELECT taxpayer_id, object_id, annual_bani FROM assessments WHERE object_kind = 'building' ORDER BY object_id`); err != nil {
		t.Fatal(err)
	}
	want := map[int64]money.Bani{id("buildings", "B001"): money.Lei(155), id("buildings", "B002"): money.Lei(206), id("buildings", "B012"): money.Lei(155)}
	n := 0
	for _, g := range got {
		if w, ok := want[g.ObjectID]; ok {
			n++
			if g.Annual != w {
				t.Errorf("building %d of taxpayer %d: %s, want %s", g.ObjectID, g.TaxpayerID, g.Annual, w)
			}
		}
		if g.ObjectID == id("buildings", "B010") {
			t.Errorf("the disposed holding was assessed: %+v", g)
		}
	}
	if n != 3 {
		t.Fatalf("assessments of the flat: %+v", got)
	}
	st, err := payments.NewService(db, mustStripe(t), clock).Statement(officer, id("taxpayers", "TP002"), civil.Date{})
	if err != nil {
		t.Fatal(err)
	}
	var flatDue money.Bani
	for _, d := range st.Debts {
		if d.TaxType == "building" && d.ObjectID != nil && *d.ObjectID == id("buildings", "B002") && d.Year == 2026 {
			flatDue += d.Principal
		}
	}
	if flatDue != money.Lei(206) {
		t.Fatalf("TP002's 2026 debts on her 40%%: %s (%+v)", flatDue, st.Debts)
	}
}

// TestImportHoldingsResume: a buildings import stopped after its first
// batch resumes where it stopped and ends as an uninterrupted run would:
// the same counts and errors, the shares checked across batches (B003, in
// the second batch, is refused against the flat held whole in the first).
func TestImportHoldingsResume(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		admin, _ := storetest.Staff(t, db, m, "admin", fiscal.RoleAdmin)
		if _, err := importer.Run(admin, db, "taxpayers", openFile(t, "testdata/city/taxpayers.csv"), false, importer.Options{MunicipalityID: m.ID}); err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(admin)
		_, err := importer.Run(ctx, db, "buildings", openFile(t, "testdata/city/buildings.csv"), false, importer.Options{MunicipalityID: m.ID, BatchRows: 2,
			Progress: func(importer.Progress) { stop() }})
		if err == nil {
			t.Fatal("the stopped run finished")
		}
		var n int
		if err := db.SQL().Get(&n, `SELECT COUNT(*) FROM buildings`); err != nil || n != 2 {
			t.Fatalf("after the first batch: %d buildings (%v)", n, err)
		}
		r, err := importer.Run(admin, db, "buildings", openFile(t, "testdata/city/buildings.csv"), false, importer.Options{MunicipalityID: m.ID, BatchRows: 2})
		want := []string{"4:share", "5:owner_external_id", "6:share", "7:owner_external_id", "8:use", "10:construction_type", "12:external_id"}
		if err != nil || r.Rows != 11 || r.Imported != 4 || r.Unchanged != 0 || !reflect.DeepEqual(errorsOf(r), want) {
			t.Fatalf("resumed: %+v %v (errors %v)", r, err, errorsOf(r))
		}
		if err := db.SQL().Get(&n, `SELECT COUNT(*) FROM imports WHERE kind = 'buildings'`); err != nil || n != 1 {
			t.Fatalf("%d runs of the buildings file, want the one resumed (%v)", n, err)
		}
	})
}

// TestImportHoldingsDryRunAcrossBatches: a dry run in batches of two rows
// reports the same rows as the real run, including a share refused against
// a holding accepted by an earlier batch that the dry run did not write
// (line 4 against the flat held whole on line 2), and writes nothing.
func TestImportHoldingsDryRunAcrossBatches(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		admin, _ := storetest.Staff(t, db, m, "admin", fiscal.RoleAdmin)
		if _, err := importer.Run(admin, db, "taxpayers", openFile(t, "testdata/city/taxpayers.csv"), false, importer.Options{MunicipalityID: m.ID}); err != nil {
			t.Fatal(err)
		}
		dry, err := importer.Run(admin, db, "buildings", openFile(t, "testdata/city/buildings.csv"), true, importer.Options{MunicipalityID: m.ID, BatchRows: 2})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.SQL().Get(&n, `SELECT COUNT(*) FROM buildings`); err != nil || n != 0 {
			t.Fatalf("the dry run wrote %d buildings (%v)", n, err)
		}
		real, err := importer.Run(admin, db, "buildings", openFile(t, "testdata/city/buildings.csv"), false, importer.Options{MunicipalityID: m.ID, BatchRows: 2})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(errorsOf(dry), errorsOf(real)) || dry.Imported != real.Imported || !slices.Contains(errorsOf(dry), "4:share") {
			t.Fatalf("dry run %v (%d imported), real run %v (%d imported)", errorsOf(dry), dry.Imported, errorsOf(real), real.Imported)
		}
	})
}
