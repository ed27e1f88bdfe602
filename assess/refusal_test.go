package assess

import (
	"testing"

	"github.com/shopspring/decimal"

	"fiscald/calc"
	"fiscald/calc/calendar"
	"fiscald/calc/params"
)

// TestRefusalReasonByKey: objects refused for the same missing parameter
// share one reason naming the key (trucks of any mass in one band family).
func TestRefusalReasonByKey(t *testing.T) {
	e := &calc.Engine{Params: params.Default(), Calendar: calendar.MustNew(nil)}
	reasons := map[string]int{}
	for _, o := range []calc.Object{
		{Kind: "vehicle", Category: "truck", Axles: 2, MaxMassKg: 13500},
		{Kind: "vehicle", Category: "truck", Axles: 2, MaxMassKg: 17250},
		{Kind: "land", Location: "intravilan", Zone: "A", UseCategory: "constructions", AreaM2: ptrDec("500")},
	} {
		_, err := e.Annual("timisoara", 2026, o)
		if err == nil {
			t.Fatalf("%+v computed", o)
		}
		reasons[refusalReason(err)]++
	}
	if len(reasons) != 2 || reasons["parameter vehicle.truck.axles2.* not configured for 2026"] != 2 ||
		reasons["parameter land.intravilan.constructions.rank1.zone_a not configured for 2026 (the council chooses it within 6878-17194, Codul fiscal art. 465 alin. (2))"] != 1 {
		t.Errorf("reasons %v", reasons)
	}
}

func ptrDec(s string) *decimal.Decimal { d := decimal.RequireFromString(s); return &d }
