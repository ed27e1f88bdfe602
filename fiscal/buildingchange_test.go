package fiscal

import (
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"

	"fiscald/calc"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// TestChangeBuilding: an extension of a co-owned building is planned for
// every current holding on its owner's share from 1 January after the
// change; a change of this year plans no assessment (next year's run taxes
// it); a change that leaves a building the engine cannot tax, or one before
// the acquisition, is refused; the form refuses what it must.
func TestChangeBuilding(t *testing.T) {
	tax := testTax(t)
	ty, _ := CaseTypeByName(CaseBuildingChange)
	today := civil.New(2026, 5, 8)
	yes := true
	area := decimal.RequireFromString("55")
	obj := calc.Object{Kind: calc.TaxBuilding, Use: "residential", ConstructionType: "A", Utilities: &yes, UsableAreaM2: &area, Zone: "A", YearBuilt: 2010}
	h1 := Holding{ID: 10, TaxpayerID: 1, CadastralNumber: "CAD-1", Share: 6000, AcquiredOn: civil.New(2025, 6, 10), TaxedFromYear: 2026, Object: obj, Version: 1}
	h2 := h1
	h2.ID, h2.TaxpayerID, h2.Share = 11, 2, 4000
	state := func() *PropertyState {
		return &PropertyState{Holding: &h1, CoHoldings: []Holding{h1, h2}, OwnerKinds: map[int64]string{1: "individual", 2: "individual"},
			Assessed: map[int64]map[int]money.Bani{1: {2026: money.Lei(309)}, 2: {2026: money.Lei(206)}}}
	}
	plan := func(raw string) (*ApprovalPlan, error) {
		data, err := ty.ParseData(json.RawMessage(raw), today)
		if err != nil {
			t.Fatalf("parse %s: %v", raw, err)
		}
		return ChangeBuilding(ApprovalInput{Type: ty, TaxpayerID: 1, Data: data, Today: today, Tax: tax, Property: state()})
	}
	p, err := plan(`{"building_id":10,"change":"extension","usable_area_m2":"80","effective_on":"2025-11-20","change_document":"proces_verbal_receptie"}`)
	if err != nil {
		t.Fatal(err)
	}
	ch := p.Property.Change
	if ch == nil || ch.FromYear != 2026 || len(ch.Holdings) != 2 || !p.Documents.Decisions || ch.After.UsableAreaM2.String() != "80" || ch.Before.UsableAreaM2.String() != "55" {
		t.Fatalf("plan: %+v", ch)
	}
	// 80 × 1.4 × 2,677 × 2.50 × 0.1% = 749.56; 60% → 450, 40% → 300.
	for i, want := range []money.Bani{money.Lei(450), money.Lei(300)} {
		as := ch.Holdings[i].Assessments
		if len(as) != 1 || as[0].Year != 2026 || as[0].ObjectID != ch.Holdings[i].Holding.ID || as[0].Assessment.Annual != want {
			t.Errorf("holding %d: %+v", i, as)
		}
	}
	// This year's change: taxed from 2027, nothing to assess now.
	p, err = plan(`{"building_id":10,"change":"change_of_use","use":"mixed","effective_on":"2026-03-01","change_document":"building_permit",
		"parts":[{"use":"residential","usable_area_m2":"30"},{"use":"non_residential","usable_area_m2":"25"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if ch := p.Property.Change; ch.FromYear != 2027 || len(ch.Holdings[0].Assessments) != 0 || ch.After.Use != "mixed" || len(ch.After.Parts) != 2 {
		t.Fatalf("this year's change: %+v", ch)
	}
	// Before the acquisition: refused.
	if _, err := plan(`{"building_id":10,"change":"extension","built_area_m2":"90","effective_on":"2024-11-20","change_document":"building_permit"}`); ErrorCode(err) != ECONFLICT {
		t.Fatalf("before the acquisition: %v", err)
	}
	// No longer held: refused.
	data, _ := ty.ParseData(json.RawMessage(`{"building_id":10,"change":"extension","built_area_m2":"90","effective_on":"2025-11-20","change_document":"building_permit"}`), today)
	if _, err := ChangeBuilding(ApprovalInput{Type: ty, TaxpayerID: 1, Data: data, Today: today, Tax: tax, Property: &PropertyState{}}); ErrorCode(err) != ECONFLICT {
		t.Fatalf("not held: %v", err)
	}
	// The form.
	for raw, field := range map[string]string{
		`{"building_id":10,"change":"extension","effective_on":"2025-11-20","change_document":"building_permit"}`:                                                   "data.built_area_m2",
		`{"building_id":10,"change":"extension","usable_area_m2":"-3","effective_on":"2025-11-20","change_document":"building_permit"}`:                             "data.usable_area_m2",
		`{"building_id":10,"change":"extension","usable_area_m2":"80","effective_on":"2026-05-09","change_document":"building_permit"}`:                             "data.effective_on",
		`{"building_id":10,"change":"demolition","effective_on":"2025-11-20","change_document":"building_permit"}`:                                                  "data.change",
		`{"building_id":10,"change":"change_of_use","use":"mixed","parts":[{"use":"residential"}],"effective_on":"2025-11-20","change_document":"building_permit"}`: "data.parts",
		`{"building_id":10,"change":"change_of_use","use":"residential","effective_on":"2025-11-20"}`:                                                               "data.change_document",
		`{"change":"change_of_use","use":"residential","effective_on":"2025-11-20","change_document":"building_permit"}`:                                            "data.building_id",
	} {
		_, err := ty.ParseData(json.RawMessage(raw), today)
		if ErrorCode(err) != EINVALID || !changeHasField(err, field) {
			t.Errorf("%s: want %s, got %v", raw, field, err)
		}
	}
	// The documents: the one named, and the cadastral extract.
	if got := ty.MissingDocuments(json.RawMessage(`{"change_document":"building_permit"}`), []string{"cadastral_extract"}); len(got) != 1 || got[0] != "building_permit" {
		t.Fatalf("missing: %v", got)
	}
}

func changeHasField(err error, field string) bool {
	e, ok := err.(*Error)
	if !ok {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
