package web_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestBuildingChangeEndToEnd: a flat held 60% / 40% is extended (55 → 80
// m² usable, acceptance report of 20 November 2025); the change is taxed
// from 1 January 2026, so both owners' 2026 tax is recomputed on their
// share: 80 × 1.4 × 2,677 × 2.50 × 0.1% = 749.56 lei, 60% = 449.74 → 450
// (309 already owed: an adjustment of 141), 40% = 299.82 → 300 (206 owed:
// 94 more), each with a tax decision, the before and after in the audit.
// A change of this year (to mixed use) changes the record now but is taxed
// from 2027: 2026 keeps the data it had. Refusals change nothing.
func TestBuildingChangeEndToEnd(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		mihaiID, mihai := e.taxpayer("mihai", "1850315350012")
		ioanaID, ioana := e.taxpayer("ioana", "2900101350016")
		mihai40 := map[string]any{"cnp": "1850315350012", "name": "Mihai Ionescu", "share": "0.4"}
		r := e.declare(anaID, ana, "building_acquisition", flatData("2025-06-10", "CAD-500100", mihai40), "acquisition_document", "owner_id", "cadastral_extract")
		if r.Status != 200 || r.Body["status"] != "approved" {
			t.Fatalf("acquisition: %d %s", r.Status, r.Raw)
		}
		anaB, mihaiB := count(t, db, `SELECT id FROM buildings WHERE taxpayer_id = ?`, anaID), count(t, db, `SELECT id FROM buildings WHERE taxpayer_id = ?`, mihaiID)
		if sum, _ := e.debtsOf(anaID, ana, "building", 2026); sum != "309.00" {
			t.Fatalf("ana owes %s before the change", sum)
		}
		state := func() string {
			return fmt.Sprint(count(t, db, `SELECT COUNT(*) FROM building_history`), "/", count(t, db, `SELECT COUNT(*) FROM assessments`), "/",
				count(t, db, `SELECT COUNT(*) FROM debts`), "/", count(t, db, `SELECT SUM(version) FROM buildings`))
		}
		before := state()
		extension := map[string]any{"building_id": mihaiB, "change": "extension", "usable_area_m2": "80", "effective_on": "2025-11-20",
			"change_document": "proces_verbal_receptie"}

		// Refused at filing, 422 naming the field.
		for _, c := range []struct {
			token string
			tp    int64
			data  map[string]any
			field string
		}{
			{mihai, mihaiID, map[string]any{"building_id": mihaiB, "change": "extension", "usable_area_m2": "80", "effective_on": "2027-01-05", "change_document": "building_permit"}, "data.effective_on"},
			{mihai, mihaiID, map[string]any{"building_id": mihaiB, "change": "extension", "effective_on": "2025-11-20", "change_document": "building_permit"}, "data.built_area_m2"},
			{mihai, mihaiID, map[string]any{"building_id": mihaiB, "change": "change_of_use", "use": "mixed", "effective_on": "2025-11-20", "change_document": "building_permit"}, "data.parts"},
			{mihai, mihaiID, map[string]any{"building_id": mihaiB, "change": "extension", "usable_area_m2": "80", "effective_on": "2025-11-20", "change_document": "invoice"}, "data.change_document"},
			{mihai, mihaiID, map[string]any{"building_id": mihaiB, "change": "extension", "usable_area_m2": "80", "effective_on": "2024-11-20", "change_document": "building_permit"}, "data.effective_on"},
			{ioana, ioanaID, map[string]any{"building_id": anaB, "change": "extension", "usable_area_m2": "80", "effective_on": "2025-11-20", "change_document": "building_permit"}, "data.building_id"},
		} {
			r := e.do("POST", "/api/v1/cases", c.token, map[string]any{"type": "building_change", "taxpayer_id": c.tp, "data": c.data})
			if r.Status != 422 || !strings.Contains(strings.Join(fieldNames(r), ","), c.field) {
				t.Fatalf("want 422 on %s: %d %s", c.field, r.Status, r.Raw)
			}
		}
		// Another taxpayer may not declare for Mihai; anonymous may not either.
		if r := e.do("POST", "/api/v1/cases", ioana, map[string]any{"type": "building_change", "taxpayer_id": mihaiID, "data": extension}); r.Status != 403 && r.Status != 404 {
			t.Fatalf("ioana files for mihai: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/v1/cases", "", map[string]any{"type": "building_change", "taxpayer_id": mihaiID, "data": extension}); r.Status != 401 {
			t.Fatalf("anonymous: %d", r.Status)
		}
		// A missing document: the permit or the acceptance report (the one
		// named) and the cadastral extract; the officer cannot approve.
		r = e.do("POST", "/api/v1/cases", mihai, map[string]any{"type": "building_change", "taxpayer_id": mihaiID, "data": extension})
		if r.Status != 201 || fmt.Sprint(r.Body["missing_documents"]) != "[proces_verbal_receptie cadastral_extract]" {
			t.Fatalf("intake: %d %s", r.Status, r.Raw)
		}
		incomplete := num(r.Body["id"])
		e.upload(incomplete, mihai, "cadastral_extract", "c.pdf", pdfDoc)
		if r := e.do("POST", casePath(incomplete, "/review"), e.tokens["officer"], map[string]any{"decision": "approve"}); r.Status != 409 {
			t.Fatalf("approve without the acceptance report: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(incomplete, "/review"), e.tokens["officer"], map[string]any{"decision": "reject", "comment": "Lipsește procesul-verbal."}); r.Status != 200 {
			t.Fatalf("reject: %d %s", r.Status, r.Raw)
		}
		if after := state(); after != before {
			t.Fatalf("refusals changed the record: %s → %s", before, after)
		}

		// The extension, declared by the co-owner Mihai, checked and approved.
		r = e.declare(mihaiID, mihai, "building_change", extension, "proces_verbal_receptie", "cadastral_extract")
		if r.Status != 200 || r.Body["status"] != "approved" {
			t.Fatalf("change: %d %s", r.Status, r.Raw)
		}
		for _, o := range []struct {
			id    int64
			token string
			sum   string
		}{{anaID, ana, "450.00"}, {mihaiID, mihai, "300.00"}} {
			if sum, codes := e.debtsOf(o.id, o.token, "building", 2026); sum != o.sum || fmt.Sprint(codes) != "[07.02.01.01]" {
				t.Fatalf("taxpayer %d owes %s %v after the extension, want %s", o.id, sum, codes, o.sum)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM documents WHERE type = 'tax_decision' AND taxpayer_id = ?`, o.id); n != 2 {
				t.Fatalf("taxpayer %d has %d tax decisions, want the acquisition's and the change's", o.id, n)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM debts WHERE kind = 'adjustment' AND year = 2026 AND amount_bani = 14100 AND taxpayer_id = ?`, anaID); n != 1 {
			t.Fatalf("ana's adjustment: %d", n)
		}
		for _, kw := range []string{`"usable_area_m2":"55"`, `"usable_area_m2":"80"`, `"effective_on":"2025-11-20"`} {
			if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'building.change' AND (before_json LIKE ? OR after_json LIKE ?)`, "%"+kw+"%", "%"+kw+"%"); n != 1 {
				t.Fatalf("audit of the change lacks %s (%d)", kw, n)
			}
		}
		ab := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/buildings", anaID), ana, nil)
		if ab.Status != 200 || ab.Body["items"].([]any)[0].(map[string]any)["usable_area_m2"] != "80" {
			t.Fatalf("ana's building after the extension: %d %s", ab.Status, ab.Raw)
		}

		// A change of use this year: the record changes now, taxed from 2027.
		today := fiscal.LocalDate(clock.Now())
		mixed := map[string]any{"building_id": anaB, "change": "change_of_use", "use": "mixed", "effective_on": today.String(), "change_document": "building_permit",
			"parts": []any{map[string]any{"use": "residential", "usable_area_m2": "50"}, map[string]any{"use": "non_residential", "usable_area_m2": "30"}}}
		r = e.declare(anaID, ana, "building_change", mixed, "building_permit", "cadastral_extract")
		if r.Status != 200 || r.Body["status"] != "approved" {
			t.Fatalf("change of use: %d %s", r.Status, r.Raw)
		}
		if sum, _ := e.debtsOf(anaID, ana, "building", 2026); sum != "450.00" {
			t.Fatalf("a change of %d changed its own year's tax: %s", today.Year, sum)
		}
		objs, err := db.AnnualObjects(context.Background(), e.muni.ID, "building", today.Year, 0, math.MaxInt64)
		if err != nil {
			t.Fatal(err)
		}
		next, err := db.AnnualObjects(context.Background(), e.muni.ID, "building", today.Year+1, 0, math.MaxInt64)
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != 2 || objs[0].Object.Use != "residential" || objs[1].Object.Use != "residential" || next[0].Object.Use != "mixed" || next[1].Object.Use != "mixed" ||
			objs[0].Object.UsableAreaM2.String() != "80" {
			t.Fatalf("the annual run's data: %d %+v / %+v", len(objs), objs[0].Object, next[0].Object)
		}
		// A recomputation of this year taxes the data it had (residential,
		// 80 m²): nothing moves. Taxed as mixed, it would.
		run, err := db.StartRecomputeRun(context.Background(), e.muni.ID, today.Year)
		if err != nil {
			t.Fatal(err)
		}
		res, err := db.RecomputeBatch(context.Background(), e.muni.ID, run.ID, 500)
		if err != nil || res.Objects != 2 || res.Up+res.Down+res.Failed != 0 {
			t.Fatalf("recompute of %d after a change taxed from %d: %+v %v", today.Year, today.Year+1, res, err)
		}
		// Mihai's building is Ana's too: the change went to both holdings.
		if n := count(t, db, `SELECT COUNT(*) FROM building_history WHERE until_year = ?`, today.Year); n != 2 {
			t.Fatalf("history rows of %d: %d", today.Year, n)
		}
	})
}

// TestCoOwnerRegisteredLater: an acquisition names a co-owner who is not in
// the registry; once approved their share stays reserved (another
// declaration cannot take it), and when they register, their holding is
// entered with the share the declaration gave, taxed from the same year,
// with their 2026 debt and tax decision, audited — in the registration's
// transaction.
func TestCoOwnerRegisteredLater(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		ioanaID, ioana := e.taxpayer("ioana", "2900101350016")
		radu := map[string]any{"cnp": "1800101350018", "name": "Radu Stan", "share": "0.4"}
		r := e.declare(anaID, ana, "building_acquisition", flatData("2025-06-10", "CAD-600100", radu), "acquisition_document", "owner_id", "cadastral_extract")
		if r.Status != 200 || r.Body["status"] != "approved" || !strings.Contains(string(r.Raw), "Radu Stan") {
			t.Fatalf("acquisition: %d %s", r.Status, r.Raw)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM buildings`); n != 1 {
			t.Fatalf("buildings before Radu registers: %d", n)
		}
		// Radu's 40% is reserved: Ioana cannot declare half of it.
		r = e.do("POST", "/api/v1/cases", ioana, map[string]any{"type": "building_acquisition", "taxpayer_id": ioanaID,
			"data": map[string]any{"address": "Str. Eroilor 5", "cadastral_number": "CAD-600100", "use": "residential", "construction_type": "A",
				"utilities": true, "usable_area_m2": "55", "zone": "A", "share": "0.5", "acquired_on": "2026-02-01", "acquisition_document": "sale_contract"}})
		if r.Status != 422 || !strings.Contains(string(r.Raw), "cannot exceed 100%") {
			t.Fatalf("the reserved share was taken: %d %s", r.Status, r.Raw)
		}

		// Before Radu registers, Ana declares an extension (55 → 80 m², taxed
		// from 2026): the reserved share follows the building as it is.
		anaB := count(t, db, `SELECT id FROM buildings WHERE taxpayer_id = ?`, anaID)
		r = e.declare(anaID, ana, "building_change", map[string]any{"building_id": anaB, "change": "extension", "usable_area_m2": "80",
			"effective_on": "2025-11-20", "change_document": "building_permit"}, "building_permit", "cadastral_extract")
		if r.Status != 200 || r.Body["status"] != "approved" {
			t.Fatalf("extension: %d %s", r.Status, r.Raw)
		}

		// Radu registers himself: his 40% is in his record with his debt
		// (80 × 1.4 × 2,677 × 2.50 × 0.1% = 749.56; 40% = 299.82 → 300).
		raduID, raduTok := e.taxpayer("radu", "1800101350018")
		bs := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/buildings", raduID), raduTok, nil)
		if bs.Status != 200 || len(bs.Body["items"].([]any)) != 1 {
			t.Fatalf("radu's buildings: %d %s", bs.Status, bs.Raw)
		}
		b := bs.Body["items"].([]any)[0].(map[string]any)
		co := b["co_owners"].([]any)
		if b["share"] != "0.4000" || num(b["taxed_from_year"]) != 2026 || b["cadastral_number"] != "CAD-600100" || len(co) != 1 || b["usable_area_m2"] != "80" ||
			num(co[0].(map[string]any)["taxpayer_id"]) != anaID {
			t.Fatalf("radu's building: %v", b)
		}
		if sum, codes := e.debtsOf(raduID, raduTok, "building", 2026); sum != "300.00" || fmt.Sprint(codes) != "[07.02.01.01]" {
			t.Fatalf("radu owes %s %v", sum, codes)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM documents WHERE type = 'tax_decision' AND taxpayer_id = ?`, raduID); n != 1 {
			t.Fatalf("radu's tax decisions: %d", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'building.enter_pending'`); n != 1 {
			t.Fatalf("audit of the late entry: %d", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM pending_holdings WHERE entered_at IS NULL`); n != 0 {
			t.Fatalf("pending after the registration: %d", n)
		}
		// Ana now sees Radu as her co-owner; Ioana still sees neither.
		ab := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/buildings", anaID), ana, nil)
		if co := ab.Body["items"].([]any)[0].(map[string]any)["co_owners"].([]any); len(co) != 1 || num(co[0].(map[string]any)["taxpayer_id"]) != raduID {
			t.Fatalf("ana's co-owners: %v", co)
		}
		if r := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/buildings", raduID), ioana, nil); r.Status != 404 {
			t.Fatalf("ioana reads radu's buildings: %d", r.Status)
		}

		// A plot half-owned with a company not in the registry, which an
		// officer enters later by its CUI: its half (5,000 m² of vineyard,
		// zone B: 235 lei; half 117.50 → 118) is entered in that transaction.
		officer := e.tokens["officer"]
		plot := map[string]any{"address": "Calea Aradului km 3", "cadastral_number": "CAD-T600", "location": "intravilan", "zone": "B",
			"use_category": "vineyard", "area_m2": "5000", "acquired_on": "2025-03-01", "acquisition_document": "sale_contract",
			"co_owners": []any{map[string]any{"cui": "18547290", "name": "Vie SRL", "share": "0.5"}}}
		if r := e.declare(anaID, ana, "land_acquisition", plot, "acquisition_document", "owner_id"); r.Status != 200 || r.Body["status"] != "approved" {
			t.Fatalf("land: %d %s", r.Status, r.Raw)
		}
		co2 := e.do("POST", "/api/v1/taxpayers", officer, map[string]any{"kind": "company", "cui": "18547290", "name": "Vie SRL", "address": "Str. Viilor 1"})
		if co2.Status != 201 {
			t.Fatalf("company: %d %s", co2.Status, co2.Raw)
		}
		vieID := num(co2.Body["id"])
		ls := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/lands", vieID), officer, nil)
		if ls.Status != 200 || len(ls.Body["items"].([]any)) != 1 || ls.Body["items"].([]any)[0].(map[string]any)["share"] != "0.5000" {
			t.Fatalf("the company's land: %d %s", ls.Status, ls.Raw)
		}
		if sum, _ := e.debtsOf(vieID, officer, "land", 2026); sum != "118.00" {
			t.Fatalf("the company owes %s", sum)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM audit_log WHERE action = 'land.enter_pending'`); n != 1 {
			t.Fatalf("audit of the company's late entry: %d", n)
		}
	})
}

// TestBuildingChangeRace: two co-owners' changes of one building (an
// extension and a change of use) approved at once by two signers: none is
// lost — each either applies on the data the other left, or is refused
// (409) and applies when signed again; the building ends with both.
func TestBuildingChangeRace(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		if _, err := db.CreateStaff(context.Background(), e.muni.ID, "signer2", "password-signer", fiscal.RoleSigner, "Signer Two"); err != nil {
			t.Fatal(err)
		}
		signers := []string{e.tokens["signer"], e.login("signer2", "password-signer")}
		if r := e.do("POST", "/api/v1/admin/parameters", e.tokens["admin"], map[string]any{"key": "building.individual.non_residential.rate_pct",
			"effective_from": "2026-01-01", "value": "0.5", "legal_basis": "Codul fiscal art. 458", "decision": map[string]any{"number": "100/2025", "date": "2025-12-10"}}); r.Status != 201 {
			t.Fatalf("parameter: %d %s", r.Status, r.Raw)
		}
		anaID, ana := e.taxpayer("ana", "2850615350041")
		mihaiID, mihai := e.taxpayer("mihai", "1850315350012")
		mihai40 := map[string]any{"cnp": "1850315350012", "name": "Mihai Ionescu", "share": "0.4"}
		if r := e.declare(anaID, ana, "building_acquisition", flatData("2025-06-10", "CAD-700100", mihai40), "acquisition_document", "owner_id", "cadastral_extract"); r.Status != 200 {
			t.Fatalf("acquisition: %d %s", r.Status, r.Raw)
		}
		anaB, mihaiB := count(t, db, `SELECT id FROM buildings WHERE taxpayer_id = ?`, anaID), count(t, db, `SELECT id FROM buildings WHERE taxpayer_id = ?`, mihaiID)
		changes := []struct {
			tp    int64
			token string
			data  map[string]any
		}{
			{anaID, ana, map[string]any{"building_id": anaB, "change": "extension", "usable_area_m2": "80", "effective_on": "2025-11-20", "change_document": "building_permit"}},
			{mihaiID, mihai, map[string]any{"building_id": mihaiB, "change": "change_of_use", "use": "mixed", "effective_on": "2025-12-01", "change_document": "building_permit",
				"parts": []any{map[string]any{"use": "residential", "usable_area_m2": "50"}, map[string]any{"use": "non_residential", "usable_area_m2": "30"}}}},
		}
		var ids []int64
		for _, c := range changes {
			r := e.do("POST", "/api/v1/cases", c.token, map[string]any{"type": "building_change", "taxpayer_id": c.tp, "data": c.data})
			if r.Status != 201 {
				t.Fatalf("intake: %d %s", r.Status, r.Raw)
			}
			id := num(r.Body["id"])
			for _, k := range []string{"building_permit", "cadastral_extract"} {
				if r := e.upload(id, c.token, k, k+".pdf", append(append([]byte{}, pdfDoc...), fmt.Sprint(k, id)...)); r.Status != 201 {
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
		for i, st := range statuses {
			switch st {
			case 200:
			case 409:
				if r := e.do("POST", casePath(ids[i], "/sign"), signers[i], map[string]any{"decision": "approve"}); r.Status != 200 {
					t.Fatalf("signed again: %d %s", r.Status, r.Raw)
				}
			default:
				t.Fatalf("concurrent approvals: %v", statuses)
			}
		}
		var attrs []string
		if err := db.SQL().Select(&attrs, `SELECT attributes FROM buildings WHERE cadastral_number = 'CAD-700100' ORDER BY id`); err != nil || len(attrs) != 2 {
			t.Fatalf("buildings: %v %v", attrs, err)
		}
		for _, a := range attrs {
			if !strings.Contains(a, `"usable_area_m2":"80"`) || !strings.Contains(a, `"use":"mixed"`) {
				t.Fatalf("a change was lost (%v): %s", statuses, a)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM building_history WHERE until_year = 2025 AND attributes LIKE '%"usable_area_m2":"55"%'`); n != 2 {
			t.Fatalf("the data of 2025 kept: %d rows", n)
		}
	})
}
