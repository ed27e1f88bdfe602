package importer_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"fiscald/fiscal"
	"fiscald/internal/importer"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

func memFile(name string, b []byte) fiscal.ImportFile {
	return fiscal.ImportFile{Name: name, Data: bytes.NewReader(b), Size: int64(len(b))}
}

// noStore fails the test if a file refused as a whole reaches the store.
type noStore struct{ fiscal.ImportStore }

const tpHeader = "external_id,kind,cnp,cui,name,address,email,phone\n"

// TestImportFileErrors: a file that cannot be imported as a whole gets a
// clear error naming the file, and nothing reaches the store.
func TestImportFileErrors(t *testing.T) {
	win1250 := append([]byte(tpHeader+"TP1,individual,1850315350012,,Popescu Ion,Str. "), 0xBA, 'i', 'b', 'i', 'u', ',', ',', '\n') // "ş" in Windows-1250
	for name, c := range map[string]struct {
		file  []byte
		kind  string
		max   int64
		code  string
		words string
	}{
		"windows-1250":                   {win1250, "taxpayers", 0, fiscal.EINVALID, "line 2 is not UTF-8"},
		"wrong header":                   {[]byte("id,kind,cnp,cui,name,address,email\n"), "taxpayers", 0, fiscal.EINVALID, `missing external_id, phone; unknown "id"`},
		"empty":                          {nil, "taxpayers", 0, fiscal.EINVALID, "empty"},
		"too large":                      {[]byte(tpHeader + strings.Repeat("x", 100)), "taxpayers", 64, fiscal.ETOOLARGE, "the limit is 64"},
		"unknown kind":                   {[]byte(tpHeader), "houses", 0, fiscal.EINVALID, "must be one of taxpayers, vehicles, buildings, lands, balances"},
		"buildings' header on taxpayers": {[]byte(tpHeader), "buildings", 0, fiscal.EINVALID, "wrong header for buildings (missing owner_external_id, share"},
		"xlsx formula":                   {xlsx(t, [][]any{{"external_id", "kind", "cnp", "cui", "name", "address", "email", "phone"}}, "E2", "=A1&B1"), "taxpayers", 0, fiscal.EINVALID, "cell E2 of sheet1.xml holds a formula"},
		"not a workbook":                 {append([]byte("PK\x03\x04"), make([]byte, 50)...), "taxpayers", 0, fiscal.EINVALID, "not a readable XLSX workbook"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := importer.Run(t.Context(), noStore{}, c.kind, memFile("f", c.file), false, importer.Options{MunicipalityID: 1, MaxBytes: c.max})
			if fiscal.ErrorCode(err) != c.code || !strings.Contains(err.Error(), c.words) {
				t.Fatalf("got %v, want %s with %q", err, c.code, c.words)
			}
		})
	}
}

// xlsx builds a workbook with rows, and a formula in cell when cell != "".
func xlsx(t testing.TB, rows [][]any, cell, formula string) []byte {
	f := excelize.NewFile()
	for i, r := range rows {
		ax, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", ax, &r); err != nil {
			t.Fatal(err)
		}
	}
	if cell != "" {
		if err := f.SetCellFormula("Sheet1", cell, formula); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestImportXLSXAndRowShapes: a workbook imports like its CSV (a date cell,
// a number cell); a CSV row with 40 columns or a stray quote is rejected
// with its line while the others are imported; a decimal comma is exact.
func TestImportXLSXAndRowShapes(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		admin, _ := storetest.Staff(t, db, m, "admin", fiscal.RoleAdmin)
		opts := importer.Options{MunicipalityID: m.ID}
		wb := xlsx(t, [][]any{
			{"external_id", "kind", "cnp", "cui", "name", "address", "email", "phone"},
			{"X1", "individual", "1850315350012", "", "Popescu Ion", "Str. Mărășești 1", "", ""},
			{"X2", "company", "", 18547290, "SC Exemplu SRL", "Calea Aradului 10", "", ""},
			{"X3", "company", "", 18547291, "SC Greșit SRL", "Calea Aradului 11", "", ""},
		}, "", "")
		r, err := importer.Run(admin, db, "taxpayers", memFile("t.xlsx", wb), false, opts)
		if err != nil || r.Rows != 3 || r.Imported != 2 || r.Rejected != 1 || r.Errors[0].Line != 4 || r.Errors[0].Field != "cui" {
			t.Fatalf("xlsx taxpayers: %+v %v", r, err)
		}
		csv := "external_id;owner_external_id;vin;plate;category;engine_cc;emission_class;propulsion;co2_g_km;max_mass_kg;axles;air_suspension;acquired_on;deregistered_on\n" +
			"V1;X1;WVWZZZ1JZXW000001;TM01ABC;car;1598;euro6;combustion;;;;;2019-05-10;\n" +
			"V2;X1" + strings.Repeat(";x", 38) + "\n" +
			"V3;X2;WVWZZZ1JZXW000003;TM03 \"A\"BC;car;1598;euro6;combustion;;;;;2019-05-10;\n" +
			"V4;X2;WVWZZZ1JZXW000004;TM04ABC;car;1598;euro6;combustion;;;;;2019-05-10;2024-12-31\n"
		r, err = importer.Run(admin, db, "vehicles", memFile("v.csv", []byte(csv)), false, opts)
		if err != nil || r.Rows != 4 || r.Imported != 2 || r.Rejected != 2 || errorsOf(r)[0] != "3:" || !strings.Contains(r.Errors[0].Message, "has 40 columns") ||
			errorsOf(r)[1] != "4:" {
			t.Fatalf("vehicles with bad rows: %+v %v", r, err)
		}
		bal := "owner_external_id,tax_type,year,installment,due_date,principal,paid,object_external_id,budget_code\n" +
			"X2,vehicle,2025,1,2025-03-31,\"1234,56\",\"0,06\",V4,\n"
		r, err = importer.Run(admin, db, "balances", memFile("b.csv", []byte(bal)), false, opts)
		if err != nil || r.Imported != 1 {
			t.Fatalf("balance: %+v %v", r, err)
		}
		var amount int64
		var code string
		if err := db.SQL().QueryRow(`SELECT amount_bani, budget_code FROM debts`).Scan(&amount, &code); err != nil || amount != 123450 || code != "16.02.02.02" {
			t.Fatalf("debt: %d %s %v", amount, code, err)
		}
	})
}

// TestImportForbidden: only an administrator imports.
func TestImportForbidden(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		officer, _ := storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
		svc := &importer.Service{Store: db}
		_, err := svc.Import(officer, "taxpayers", memFile("t.csv", []byte(tpHeader)), false)
		if fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("officer import: %v", err)
		}
		if _, err := db.StartImport(officer, m.ID, "taxpayers", "t.csv", "x", false, 0); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("officer StartImport: %v", err)
		}
	})
}
