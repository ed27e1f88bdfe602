package web_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

func flatData(acquired, cadastral string, coOwners ...map[string]any) map[string]any {
	d := map[string]any{"address": "Str. Eroilor 5, ap. 3, Timișoara", "cadastral_number": cadastral, "use": "residential",
		"construction_type": "A", "utilities": true, "usable_area_m2": "55", "zone": "A", "year_built": 2010,
		"acquired_on": acquired, "acquisition_document": "sale_contract"}
	if len(coOwners) > 0 {
		d["co_owners"] = coOwners
	}
	return d
}

// declare files a declaration, uploads its documents, has the officer
// review it and the signer approve it (two different people); it returns
// the case's final answer.
func (e *env) declare(tpID int64, token, caseType string, data map[string]any, docs ...string) resp {
	e.t.Helper()
	r := e.do("POST", "/api/v1/cases", token, map[string]any{"type": caseType, "taxpayer_id": tpID, "data": data})
	if r.Status != 201 {
		e.t.Fatalf("%s intake: %d %s", caseType, r.Status, r.Raw)
	}
	id := num(r.Body["id"])
	for _, k := range docs {
		if r := e.upload(id, token, k, k+".pdf", append(append([]byte{}, pdfDoc...), fmt.Sprint(k, id)...)); r.Status != 201 {
			e.t.Fatalf("upload %s: %d %s", k, r.Status, r.Raw)
		}
	}
	if r := e.do("POST", casePath(id, "/review"), e.tokens["officer"], map[string]any{"decision": "approve"}); r.Status != 200 {
		e.t.Fatalf("%s review: %d %s", caseType, r.Status, r.Raw)
	}
	return e.do("POST", casePath(id, "/sign"), e.tokens["signer"], map[string]any{"decision": "approve"})
}

// debtsOf sums a taxpayer's principal debts of a tax type and year on their
// statement, with the budget codes seen.
func (e *env) debtsOf(tpID int64, token, taxType string, year int) (string, []string) {
	e.t.Helper()
	st := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/statement", tpID), token, nil)
	if st.Status != 200 {
		e.t.Fatalf("statement: %d %s", st.Status, st.Raw)
	}
	var sum int64
	codes := map[string]bool{}
	for _, d := range st.Body["debts"].([]any) {
		m := d.(map[string]any)
		if m["tax_type"] != taxType || num(m["year"]) != int64(year) {
			continue
		}
		var lei, bani int64
		fmt.Sscanf(m["principal"].(string), "%d.%d", &lei, &bani)
		sum += lei*100 + bani
		codes[m["budget_code"].(string)] = true
	}
	var cs []string
	for c := range codes {
		cs = append(cs, c)
	}
	return fmt.Sprintf("%d.%02d", sum/100, sum%100), cs
}

// TestBuildingCoOwnershipEndToEnd is issue 18's journey: a flat bought in
// 2025 by two co-owners (60% / 40%) is declared, reviewed by an officer and
// approved by a signer; both have it in their record with their share and
// owe their share of the 2026 tax (each rounded by the law's rule), each
// with a tax decision. Refusals (shares above 100%, a future date, a
// missing document) change nothing; a disposal needs the debts paid.
func TestBuildingCoOwnershipEndToEnd(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		mihaiID, mihai := e.taxpayer("mihai", "1850315350012")
		ioanaID, ioana := e.taxpayer("ioana", "2900101350016")
		officer := e.tokens["officer"]
		state := func() string {
			return fmt.Sprint(count(t, db, `SELECT COUNT(*) FROM buildings`), "/", count(t, db, `SELECT COUNT(*) FROM assessments`), "/",
				count(t, db, `SELECT COUNT(*) FROM debts`), "/", count(t, db, `SELECT COUNT(*) FROM cases`))
		}
		before := state()

		// Refused at filing (422 naming the field), nothing changes.
		mihai40 := map[string]any{"cnp": "1850315350012", "name": "Mihai Ionescu", "share": "0.4"}
		for _, c := range []struct {
			data  map[string]any
			field string
		}{
			{flatData("2027-01-05", "CAD-400100", mihai40), "data.acquired_on"},
			{flatData("2025-06-10", "CAD-400100", map[string]any{"cnp": "1850315350012", "name": "Mihai", "share": "1.2"}), "data.co_owners[0].share"},
			{flatData("2025-06-10", "CAD-400100", map[string]any{"cnp": "1850315350012", "name": "Mihai", "share": "1"}), "data.co_owners"},
			{flatData("2025-06-10", "", mihai40), "data.cadastral_number"},
			{flatData("2025-06-10", "CAD-400100", map[string]any{"cnp": "1850315350013", "name": "Mihai", "share": "0.4"}), "data.co_owners[0].cnp"},
		} {
			r := e.do("POST", "/api/v1/cases", ana, map[string]any{"type": "building_acquisition", "taxpayer_id": anaID, "data": c.data})
			if r.Status != 422 || !strings.Contains(strings.Join(fieldNames(r), ","), c.field) {
				t.Fatalf("want 422 on %s: %d %s", c.field, r.Status, r.Raw)
			}
		}
		// A missing document: the officer cannot approve; nothing is entered.
		r := e.do("POST", "/api/v1/cases", ana, map[string]any{"type": "building_acquisition", "taxpayer_id": anaID, "data": flatData("2025-06-10", "CAD-400100", mihai40)})
		if r.Status != 201 || fmt.Sprint(r.Body["missing_documents"]) != "[acquisition_document owner_id cadastral_extract]" {
			t.Fatalf("intake: %d %s", r.Status, r.Raw)
		}
		incomplete := num(r.Body["id"])
		e.upload(incomplete, ana, "acquisition_document", "c.pdf", pdfDoc)
		if r := e.do("POST", casePath(incomplete, "/review"), officer, map[string]any{"decision": "approve"}); r.Status != 409 {
			t.Fatalf("approve without the owner's ID and cadastral extract: %d %s", r.Status, r.Raw)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM buildings`); n != 0 {
			t.Fatalf("a refused declaration entered %d buildings", n)
		}
		if r := e.do("POST", casePath(incomplete, "/review"), officer, map[string]any{"decision": "reject", "comment": "Declarație dublă."}); r.Status != 200 {
			t.Fatalf("reject: %d %s", r.Status, r.Raw)
		}
		if after := state(); after == before {
			t.Fatalf("the intake should count as a case")
		}

		// The flat: Ana 60% (the rest), Mihai 40%.
		r = e.declare(anaID, ana, "building_acquisition", flatData("2025-06-10", "CAD-400100", mihai40), "acquisition_document", "owner_id", "cadastral_extract")
		if r.Status != 200 || r.Body["status"] != "approved" {
			t.Fatalf("sign: %d %s", r.Status, r.Raw)
		}

		// Both records, with shares and co-owners; who may read them.
		list := func(tpID int64, token, kind string) []map[string]any {
			t.Helper()
			r := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/%s", tpID, kind), token, nil)
			if r.Status != 200 {
				t.Fatalf("%s of %d: %d %s", kind, tpID, r.Status, r.Raw)
			}
			var out []map[string]any
			for _, it := range r.Body["items"].([]any) {
				out = append(out, it.(map[string]any))
			}
			return out
		}
		ab := list(anaID, ana, "buildings")
		if len(ab) != 1 || ab[0]["share"] != "0.6000" || ab[0]["cadastral_number"] != "CAD-400100" || num(ab[0]["taxed_from_year"]) != 2026 ||
			ab[0]["acquired_on"] != "2025-06-10" || ab[0]["disposed_on"] != nil || ab[0]["construction_type"] != "A" || ab[0]["usable_area_m2"] != "55" {
			t.Fatalf("ana's buildings: %v", ab)
		}
		co := ab[0]["co_owners"].([]any)
		if len(co) != 1 || num(co[0].(map[string]any)["taxpayer_id"]) != mihaiID || co[0].(map[string]any)["share"] != "0.4000" {
			t.Fatalf("ana's co-owners: %v", co)
		}
		mb := list(mihaiID, mihai, "buildings")
		if len(mb) != 1 || mb[0]["share"] != "0.4000" || num(mb[0]["co_owners"].([]any)[0].(map[string]any)["taxpayer_id"]) != anaID {
			t.Fatalf("mihai's buildings: %v", mb)
		}
		if got := list(mihaiID, officer, "buildings"); len(got) != 1 {
			t.Fatalf("officer's view: %v", got)
		}
		if oa := e.do("GET", "/api/v1/openapi.json", "", nil); oa.Status != 200 || !strings.Contains(string(oa.Raw), "/api/v1/taxpayers/{id}/buildings") ||
			!strings.Contains(string(oa.Raw), "an owner's part of a building or plot") {
			t.Fatalf("openapi: %d", oa.Status)
		}
		for _, kind := range []string{"buildings", "lands"} {
			if r := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/%s", anaID, kind), ioana, nil); r.Status != 404 {
				t.Fatalf("another taxpayer reads ana's %s: %d %s", kind, r.Status, r.Raw)
			}
			if r := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/%s", anaID, kind), "", nil); r.Status != 401 {
				t.Fatalf("anonymous %s: %d", kind, r.Status)
			}
		}

		// The 2026 tax: 55 m² × 1.4 × 2,677 × 2.50 × 0.1% = 515.32 lei for
		// the flat; 60% = 309.19 → 309 lei, 40% = 206.13 → 206 lei.
		if sum, codes := e.debtsOf(anaID, ana, "building", 2026); sum != "309.00" || fmt.Sprint(codes) != "[07.02.01.01]" {
			t.Fatalf("ana owes %s %v", sum, codes)
		}
		if sum, codes := e.debtsOf(mihaiID, mihai, "building", 2026); sum != "206.00" || fmt.Sprint(codes) != "[07.02.01.01]" {
			t.Fatalf("mihai owes %s %v", sum, codes)
		}
		for _, o := range []struct {
			id           int64
			token, other string
			share, tax   string
		}{{anaID, ana, mihai, "60.00%", "309.00"}, {mihaiID, mihai, ana, "40.00%", "206.00"}} {
			if n := count(t, db, `SELECT COUNT(*) FROM documents WHERE type = 'tax_decision' AND taxpayer_id = ?`, o.id); n != 1 {
				t.Fatalf("taxpayer %d has %d tax decisions", o.id, n)
			}
			doc := count(t, db, `SELECT id FROM documents WHERE type = 'tax_decision' AND taxpayer_id = ?`, o.id)
			pdf := e.do("GET", fmt.Sprintf("/api/v1/documents/%d.pdf", doc), o.token, nil)
			if pdf.Status != 200 {
				t.Fatalf("decision of %d: %d", o.id, pdf.Status)
			}
			text := flatText(t, pdf.Raw)
			for _, want := range []string{"CAD-400100", "cota-parte " + o.share, "Cota-parte a proprietarului: " + o.share, "în sumă de " + o.tax + " lei", "07.02.01.01"} {
				if !strings.Contains(text, want) {
					t.Errorf("decision of %d lacks %q: %s", o.id, want, text)
				}
			}
			if r := e.do("GET", fmt.Sprintf("/api/v1/documents/%d.pdf", doc), o.other, nil); r.Status != 404 && r.Status != 403 {
				t.Fatalf("the co-owner reads the other's decision: %d", r.Status)
			}
		}

		// Ioana declares half of the same cadastral number: 150% is refused
		// with a clear message, at filing.
		r = e.do("POST", "/api/v1/cases", ioana, map[string]any{"type": "building_acquisition", "taxpayer_id": ioanaID,
			"data": map[string]any{"address": "Str. Eroilor 5", "cadastral_number": "CAD-400100", "use": "residential", "construction_type": "A",
				"utilities": true, "usable_area_m2": "55", "zone": "A", "share": "0.5", "acquired_on": "2026-02-01", "acquisition_document": "sale_contract"}})
		if r.Status != 422 || !strings.Contains(fmt.Sprint(r.Body), "cannot exceed 100%") || !strings.Contains(fmt.Sprint(r.Body), "100.00% is held already") {
			t.Fatalf("shares above 100%%: %d %s", r.Status, r.Raw)
		}

		// Mihai sells his 40% on 1 May 2026: his 2026 debts must be paid first.
		mihaiBuilding := num(mb[0]["id"])
		dispose := map[string]any{"building_id": mihaiBuilding, "disposed_on": "2026-05-01", "reason": "sale"}
		if r := e.do("POST", "/api/v1/cases", mihai, map[string]any{"type": "building_disposal", "taxpayer_id": mihaiID,
			"data": map[string]any{"building_id": num(ab[0]["id"]), "disposed_on": "2026-05-01", "reason": "sale"}}); r.Status != 422 || fieldNames(r)[0] != "data.building_id" {
			t.Fatalf("disposing of another's building: %d %s", r.Status, r.Raw)
		}
		r = e.declare(mihaiID, mihai, "building_disposal", dispose, "disposal_document")
		if r.Status != 409 || !strings.Contains(string(r.Raw), "must be paid") {
			t.Fatalf("disposal with unpaid debts: %d %s", r.Status, r.Raw)
		}
		if got := list(mihaiID, mihai, "buildings"); got[0]["disposed_on"] != nil {
			t.Fatalf("a refused disposal ended the building: %v", got)
		}
		if r := e.do("POST", "/api/v1/payments/cash", officer, map[string]any{"taxpayer_id": mihaiID, "amount": "300.00"}); r.Status != 201 {
			t.Fatalf("cash: %d %s", r.Status, r.Raw)
		}
		// The accountants' reports split them by budget code: Ana's unpaid
		// share is in the arrears under 07.02.01.01, Mihai's payment in the
		// collections under the same code.
		arrears := e.do("GET", "/api/v1/reports/arrears?as_of=2026-10-15&format=csv", e.tokens["accountant"], nil)
		if arrears.Status != 200 || !strings.Contains(string(arrears.Raw), "07.02.01.01") || !strings.Contains(string(arrears.Raw), "309") {
			t.Fatalf("arrears: %d %.600s", arrears.Status, arrears.Raw)
		}
		coll := e.do("GET", "/api/v1/reports/collections?from=2026-01-01&to=2026-12-31&group=budget_code&format=csv", e.tokens["accountant"], nil)
		if coll.Status != 200 || !strings.Contains(string(coll.Raw), "07.02.01.01") {
			t.Fatalf("collections: %d %.600s", coll.Status, coll.Raw)
		}
		r = e.declare(mihaiID, mihai, "building_disposal", dispose, "disposal_document")
		if r.Status != 200 || r.Body["status"] != "approved" {
			t.Fatalf("disposal: %d %s", r.Status, r.Raw)
		}
		if got := list(mihaiID, mihai, "buildings"); got[0]["disposed_on"] != "2026-05-01" {
			t.Fatalf("after the disposal: %v", got)
		}
		if got := list(anaID, ana, "buildings"); len(got[0]["co_owners"].([]any)) != 0 {
			t.Fatalf("ana's co-owners after mihai's disposal: %v", got[0]["co_owners"])
		}
	})
}

// TestLandDeclarationEachCategory declares a plot of each use category
// (intravilan, and extravilan arable) and checks each owner's 2026 tax and
// budget code against the law's figures (Timișoara, rank I, zone B).
func TestLandDeclarationEachCategory(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		admin := e.tokens["admin"]
		for key, v := range map[string]string{"land.intravilan.constructions.rank1.zone_b": "5199", "land.extravilan.arable": "112"} {
			r := e.do("POST", "/api/v1/admin/parameters", admin, map[string]any{"key": key, "effective_from": "2026-01-01", "value": v,
				"legal_basis": "Codul fiscal art. 465", "decision": map[string]any{"number": "100/2025", "date": "2025-12-10"}})
			if r.Status != 201 {
				t.Fatalf("parameter %s: %d %s", key, r.Status, r.Raw)
			}
		}
		// 5,000 m² = 0.5 ha × lei/ha of zone B × rank coefficient 5.00
		// (alin. (4)-(5)); with buildings: 0.5 × 5,199; extravilan: 0.5 ×
		// 112 × 2.40 (art. 457 alin. (6), rank I zone B).
		want := map[string]string{"constructions": "2600.00", "arable": "140.00", "pasture": "128.00", "hayfield": "128.00", "vineyard": "235.00",
			"orchard": "305.00", "forest": "140.00", "water": "90.00", "roads": "0.00", "unproductive": "0.00", "beach": "90.00"}
		for i, cat := range []string{"constructions", "arable", "pasture", "hayfield", "vineyard", "orchard", "forest", "water", "roads", "unproductive", "beach", "extravilan"} {
			tpID, tok := e.taxpayer(fmt.Sprintf("owner%d", i), cnps[i])
			data := map[string]any{"address": "Calea Aradului km 3", "cadastral_number": fmt.Sprintf("CAD-T%d", i), "location": "intravilan", "zone": "B",
				"use_category": cat, "area_m2": "5000", "acquired_on": "2025-03-01", "acquisition_document": "sale_contract"}
			wantSum, wantCode := want[cat], "07.02.02.01"
			if cat == "extravilan" {
				data["location"], data["use_category"], wantSum, wantCode = "extravilan", "arable", "134.00", "07.02.02.03"
			}
			r := e.declare(tpID, tok, "land_acquisition", data, "acquisition_document", "owner_id")
			if r.Status != 200 || r.Body["status"] != "approved" {
				t.Fatalf("%s: %d %s", cat, r.Status, r.Raw)
			}
			sum, codes := e.debtsOf(tpID, tok, "land", 2026)
			if sum != wantSum || (wantSum != "0.00" && fmt.Sprint(codes) != "["+wantCode+"]") {
				t.Errorf("%s: owes %s %v, want %s %s", cat, sum, codes, wantSum, wantCode)
			}
			lands := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/lands", tpID), tok, nil)
			items := lands.Body["items"].([]any)
			if lands.Status != 200 || len(items) != 1 || items[0].(map[string]any)["share"] != "1.0000" || items[0].(map[string]any)["area_m2"] != "5000" {
				t.Fatalf("%s lands: %d %s", cat, lands.Status, lands.Raw)
			}
			if i == 1 {
				// A land disposal: nothing owed unpaid → refused until paid.
				landID := num(items[0].(map[string]any)["id"])
				d := e.declare(tpID, tok, "land_disposal", map[string]any{"land_id": landID, "disposed_on": "2026-04-01", "reason": "sale"}, "disposal_document")
				if d.Status != 409 {
					t.Fatalf("land disposal with debts: %d %s", d.Status, d.Raw)
				}
			}
		}
	})
}

// cnps are valid CNPs for the land owners.
var cnps = []string{"1800101350018", "1800102350010", "1800103350013", "1800104350016", "1800105350019", "1800106350011",
	"1800107350014", "1800108350017", "1800109350011", "1800110350010", "1800111350013", "1800112350016"}

// TestPropertySharesRace: two declarations of 60% of one cadastral number,
// each accepted at filing (nothing is held yet), are signed at the same
// time by two signers: one passes, the other is 409 and enters nothing.
func TestPropertySharesRace(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		if _, err := db.CreateStaff(context.Background(), e.muni.ID, "signer2", "password-signer", fiscal.RoleSigner, "Signer Two"); err != nil {
			t.Fatal(err)
		}
		signers := []string{e.tokens["signer"], e.login("signer2", "password-signer")}
		var ids []int64
		for i, cnp := range []string{"2850615350041", "1850315350012"} {
			tpID, tok := e.taxpayer(fmt.Sprint("owner", i), cnp)
			data := flatData("2025-06-10", "CAD-RACE")
			data["share"] = "0.6"
			r := e.do("POST", "/api/v1/cases", tok, map[string]any{"type": "building_acquisition", "taxpayer_id": tpID, "data": data})
			if r.Status != 201 {
				t.Fatalf("intake %d: %d %s", i, r.Status, r.Raw)
			}
			id := num(r.Body["id"])
			for _, k := range []string{"acquisition_document", "owner_id", "cadastral_extract"} {
				if r := e.upload(id, tok, k, k+".pdf", append(append([]byte{}, pdfDoc...), fmt.Sprint(k, id)...)); r.Status != 201 {
					t.Fatalf("upload: %d %s", r.Status, r.Raw)
				}
			}
			if r := e.do("POST", casePath(id, "/review"), e.tokens["officer"], map[string]any{"decision": "approve"}); r.Status != 200 {
				t.Fatalf("review: %d %s", r.Status, r.Raw)
			}
			ids = append(ids, id)
		}
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				statuses[i] = e.do("POST", casePath(ids[i], "/sign"), signers[i], map[string]any{"decision": "approve"}).Status
			}(i)
		}
		wg.Wait()
		if statuses[0]+statuses[1] != 200+409 {
			t.Fatalf("concurrent approvals: %v", statuses)
		}
		if n := count(t, db, `SELECT COALESCE(SUM(share_parts), 0) FROM buildings WHERE cadastral_number = 'CAD-RACE'`); n != 6000 {
			t.Fatalf("shares held: %d parts", n)
		}
	})
}

// holdings enters a building and a plot for the taxpayer (sole owner) and
// returns their ids.
func (e *env) holdings(tpID int64) (building, land int64) {
	e.t.Helper()
	ctx := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test", MunicipalityID: e.muni.ID})
	yes := true
	area, plot := decimal.RequireFromString("55"), decimal.RequireFromString("1000")
	err := e.db.InTx(ctx, func(tx *store.Tx) error {
		b := fiscal.Holding{TaxpayerID: tpID, Address: "Str. Eroilor 5", CadastralNumber: fmt.Sprint("CAD-B", tpID), Share: fiscal.WholeShare,
			AcquiredOn: civil.New(2025, 6, 10), TaxedFromYear: 2026,
			Object: calc.Object{Kind: "building", Use: "residential", ConstructionType: "A", Utilities: &yes, UsableAreaM2: &area, Zone: "A"}}
		if err := tx.InsertHolding(ctx, e.muni.ID, "building", &b, 0); err != nil {
			return err
		}
		l := fiscal.Holding{TaxpayerID: tpID, Address: "Calea Aradului", Share: fiscal.WholeShare, AcquiredOn: civil.New(2025, 6, 10), TaxedFromYear: 2026,
			Object: calc.Object{Kind: "land", Location: "intravilan", Zone: "B", UseCategory: "arable", AreaM2: &plot}}
		if err := tx.InsertHolding(ctx, e.muni.ID, "land", &l, 0); err != nil {
			return err
		}
		building, land = b.ID, l.ID
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return building, land
}

// TestPropertyCorrections: an officer corrects a co-owned building's data:
// both co-owners' records change, versions move on, the audit log keeps
// before and after; a stale version is 409, invalid data 422 naming the
// field, a taxpayer 403; nothing changes on a refusal.
func TestPropertyCorrections(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		mihaiID, mihai := e.taxpayer("mihai", "1850315350012")
		r := e.declare(anaID, ana, "building_acquisition", flatData("2025-06-10", "CAD-400100",
			map[string]any{"cnp": "1850315350012", "name": "Mihai Ionescu", "share": "0.4"}), "acquisition_document", "owner_id", "cadastral_extract")
		if r.Status != 200 {
			t.Fatalf("declaration: %d %s", r.Status, r.Raw)
		}
		ab := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/buildings", anaID), ana, nil).Body["items"].([]any)[0].(map[string]any)
		path := fmt.Sprintf("/api/v1/buildings/%d", num(ab["id"]))
		fix := map[string]any{"version": 1, "reason": "Suprafața din extrasul CF este 62 m².", "address": "Str. Eroilor 5, ap. 3, Timișoara",
			"use": "residential", "construction_type": "A", "utilities": true, "usable_area_m2": "62", "zone": "A", "year_built": 2010}
		audits := func() int64 { return count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'building.correct'`) }
		if r := e.do("PUT", path, ana, fix); r.Status != 403 {
			t.Fatalf("taxpayer corrects: %d %s", r.Status, r.Raw)
		}
		bad := map[string]any{}
		for k, v := range fix {
			bad[k] = v
		}
		bad["construction_type"] = ""
		if r := e.do("PUT", path, e.tokens["officer"], bad); r.Status != 422 || !strings.Contains(strings.Join(fieldNames(r), ","), "construction_type") {
			t.Fatalf("invalid correction: %d %s", r.Status, r.Raw)
		}
		if r := e.do("PUT", "/api/v1/buildings/999999", e.tokens["officer"], fix); r.Status != 404 {
			t.Fatalf("unknown building: %d", r.Status)
		}
		if audits() != 0 {
			t.Fatal("a refused correction was audited")
		}
		r = e.do("PUT", path, e.tokens["officer"], fix)
		if r.Status != 200 || r.Body["usable_area_m2"] != "62" || r.Body["share"] != "0.6000" {
			t.Fatalf("correction: %d %s", r.Status, r.Raw)
		}
		if r := e.do("PUT", path, e.tokens["admin"], fix); r.Status != 409 {
			t.Fatalf("stale version: %d %s", r.Status, r.Raw)
		}
		mb := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/buildings", mihaiID), mihai, nil).Body["items"].([]any)[0].(map[string]any)
		if mb["usable_area_m2"] != "62" || mb["address"] != "Str. Eroilor 5, ap. 3, Timișoara" {
			t.Fatalf("the co-owner's record: %v", mb)
		}
		if audits() != 1 || count(t, db, `SELECT COUNT(*) FROM buildings WHERE version = 2`) != 2 {
			t.Fatalf("audit %d, versions moved on %d", audits(), count(t, db, `SELECT COUNT(*) FROM buildings WHERE version = 2`))
		}
	})
}
