package fiscal

import (
	"encoding/json"
	"strings"
	"testing"

	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// TestEnterProperty: the approval of a building acquisition enters the
// declarer (the rest of 100%) and each co-owner found, taxed from the year
// after the acquisition on their share; the ≤ 50 lei rule looks at each
// owner's sum of the tax type (what they owe already included); shares
// above 100% are refused; a co-owner not in the registry is listed.
func TestEnterProperty(t *testing.T) {
	tax := testTax(t)
	ty, _ := CaseTypeByName(CaseBuildingAcquisition)
	// A type D annex without utilities, 20 m², zone A, rank I: 20 × 201 ×
	// 2.50 × 0.1% = 10.05 → 10 lei for the whole.
	annex := json.RawMessage(`{"address":"Str. Eroilor 5","cadastral_number":"CAD-1","use":"residential","construction_type":"D",
		"utilities":false,"built_area_m2":"20","zone":"A","acquired_on":"2025-06-10","acquisition_document":"sale_contract",
		"co_owners":[{"cnp":"1850315350012","name":"Mihai","share":"0.5"},{"cnp":"2900101350016","name":"Ioana","share":"0.25"}]}`)
	data, err := ty.ParseData(annex, civil.New(2026, 5, 8))
	if err != nil {
		t.Fatal(err)
	}
	in := ApprovalInput{Type: ty, TaxpayerID: 1, Data: data, Today: civil.New(2026, 5, 8), Tax: tax,
		Property: &PropertyState{Registry: map[string]RegistryEntry{"1850315350012": {TaxpayerID: 2, Kind: "individual"}},
			Assessed: map[int64]map[int]money.Bani{2: {2026: money.Lei(100)}}}}
	p, err := EnterProperty(in)
	if err != nil {
		t.Fatal(err)
	}
	pp := p.Property
	if len(pp.Enter) != 2 || len(pp.NotFound) != 1 || pp.NotFound[0] != "Ioana" || !p.Documents.Decisions {
		t.Fatalf("plan: %+v", pp)
	}
	for i, want := range []struct {
		owner int64
		share Share
		inst  int
	}{{1, 2500, 1}, {2, 5000, 2}} { // 2.51 → 3 lei alone (whole, ≤ 50); 5.03 → 5 lei beside 100 lei (two halves)
		e := pp.Enter[i]
		if e.Holding.TaxpayerID != want.owner || e.Holding.Share != want.share || e.Holding.TaxedFromYear != 2026 || len(e.Assessments) != 1 {
			t.Fatalf("owner %d: %+v", i, e)
		}
		a := e.Assessments[0]
		if a.Year != 2026 || a.TaxpayerID != want.owner || len(a.Installments) != want.inst || a.Assessment.BudgetCode != "07.02.01.01" {
			t.Errorf("owner %d's assessment: %+v", i, a)
		}
	}
	if pp.Enter[0].Assessments[0].Assessment.Annual != money.Lei(3) || pp.Enter[1].Assessments[0].Assessment.Annual != money.Lei(5) {
		t.Errorf("shares of 10.05 lei: %s and %s", pp.Enter[0].Assessments[0].Assessment.Annual, pp.Enter[1].Assessments[0].Assessment.Annual)
	}
	// 30% held already + 100% declared: refused, naming the cadastral number.
	in.Property.SharesHeld = 3000
	if _, err := EnterProperty(in); ErrorCode(err) != ECONFLICT || !strings.Contains(err.Error(), "CAD-1") || !strings.Contains(err.Error(), "30.00% is held already") {
		t.Fatalf("above 100%%: %v", err)
	}
}

// TestPropertyForms: the acquisition's form refuses a future date, a bad
// CNP, shares that do not add up, an object the engine would refuse; a
// disposal needs its object and a date not in the future.
func TestPropertyForms(t *testing.T) {
	today := civil.New(2026, 5, 8)
	ty, _ := CaseTypeByName(CaseLandAcquisition)
	for body, field := range map[string]string{
		`"acquired_on":"2026-06-01"`: "data.acquired_on",
		`"acquired_on":"2025-06-01","co_owners":[{"cnp":"123","name":"X","share":"0.5"}]`:                         "data.co_owners[0].cnp",
		`"acquired_on":"2025-06-01","share":"0.7","co_owners":[{"cnp":"1850315350012","name":"X","share":"0.5"}]`: "data.share",
		`"acquired_on":"2025-06-01","use_category":"moon"`:                                                        "data.use_category",
	} {
		raw := `{"address":"A","cadastral_number":"C1","location":"intravilan","zone":"A","use_category":"arable","area_m2":"100","acquisition_document":"donation",` + body + `}`
		raw = strings.Replace(raw, `"use_category":"arable","area_m2":"100","acquisition_document":"donation","acquired_on":"2025-06-01","use_category":"moon"`,
			`"use_category":"moon","area_m2":"100","acquisition_document":"donation","acquired_on":"2025-06-01"`, 1)
		_, err := ty.ParseData(json.RawMessage(raw), today)
		if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), field) {
			var fe []string
			if e, ok := err.(*Error); ok {
				for _, f := range e.Fields {
					fe = append(fe, f.Field)
				}
			}
			t.Errorf("%s: want %s, got %v %v", body, field, err, fe)
		}
	}
	dt, _ := CaseTypeByName(CaseBuildingDisposal)
	if _, err := dt.ParseData(json.RawMessage(`{"building_id":3,"disposed_on":"2026-06-01","reason":"sale"}`), today); ErrorCode(err) != EINVALID {
		t.Errorf("future disposal: %v", err)
	}
	if _, err := dt.ParseData(json.RawMessage(`{"land_id":3,"disposed_on":"2026-05-01","reason":"sale"}`), today); ErrorCode(err) != EINVALID {
		t.Errorf("a land id on a building disposal: %v", err)
	}
	if _, err := dt.ParseData(json.RawMessage(`{"building_id":3,"disposed_on":"2026-05-01","reason":"sale"}`), today); err != nil {
		t.Errorf("valid disposal: %v", err)
	}
}
