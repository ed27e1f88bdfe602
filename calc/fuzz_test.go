package calc

import (
	"encoding/json"
	"testing"

	"fiscald/internal/civil"
)

// FuzzQuote: any JSON input is either refused or quoted, never a panic; a
// successful quote's lines add up to the annual tax.
func FuzzQuote(f *testing.F) {
	e := testEngine(f)
	for _, s := range []string{
		`{"municipality":"timisoara","year":2026,"paid_on":"2026-05-10","object":{"kind":"vehicle","category":"car","engine_cc":1598,"emission_class":"euro6","propulsion":"combustion"}}`,
		`{"municipality":"timisoara","year":2026,"object":{"kind":"building","use":"residential","construction_type":"A","utilities":true,"usable_area_m2":"55.00","zone":"A","year_built":1970}}`,
		`{"municipality":"timisoara","year":2026,"object":{"kind":"vehicle","category":"truck","axles":3,"max_mass_kg":22000}}`,
		`{"municipality":"timisoara","year":2026,"object":{"kind":"land","location":"extravilan","use_category":"arable","area_m2":"1e900"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in QuoteInput
		if json.Unmarshal(data, &in) != nil {
			return
		}
		r, err := e.Quote(in)
		if err != nil {
			return
		}
		var sum int64
		for _, l := range r.Lines {
			sum += int64(l.Amount)
		}
		if sum != int64(r.AnnualTax) || r.AnnualTax < 0 {
			t.Fatalf("lines %d, annual %d", sum, r.AnnualTax)
		}
	})
}

func BenchmarkVehicleQuote(b *testing.B) {
	e := testEngine(b)
	in := QuoteInput{Municipality: "timisoara", Year: 2026, Object: Object{Kind: "vehicle", Category: "car", EngineCC: 1598, EmissionClass: "euro6", Propulsion: "combustion"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Quote(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVehicleQuoteSettlement(b *testing.B) {
	e := testEngine(b)
	in := QuoteInput{Municipality: "timisoara", Year: 2026, Object: Object{Kind: "vehicle", Category: "car", EngineCC: 1598, EmissionClass: "euro6", Propulsion: "combustion"}}
	paid := civil.MustParse("2026-05-10")
	in.PaidOn = &paid
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Quote(in); err != nil {
			b.Fatal(err)
		}
	}
}
