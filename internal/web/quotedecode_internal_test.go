package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"fiscald/calc"
)

// stdDecodeQuote is decodeJSON's reading of a quote body (encoding/json).
func stdDecodeQuote(body []byte) (calc.QuoteInput, error) {
	var in calc.QuoteInput
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return in, err
	}
	if dec.More() {
		return in, errors.New("trailing data")
	}
	return in, nil
}

// checkQuoteReader fails when readQuote accepts body and encoding/json
// refuses it or decodes another value; it reports whether readQuote accepted.
func checkQuoteReader(t *testing.T, body []byte) bool {
	t.Helper()
	var fast calc.QuoteInput
	if !readQuote(body, &fast) {
		return false
	}
	std, err := stdDecodeQuote(body)
	if err != nil {
		t.Fatalf("readQuote accepted what encoding/json refuses (%v):\n%s", err, body)
	}
	if !reflect.DeepEqual(fast, std) {
		t.Fatalf("readQuote and encoding/json differ on\n%s\nreadQuote:     %+v\nencoding/json: %+v", body, fast, std)
	}
	return true
}

// quoteField is a name and its values: the first clean ones (readQuote
// must take them), then others (either may refuse them).
type quoteField struct {
	name   string
	clean  int
	values []string
}

var quoteTop = []quoteField{
	{"municipality", 2, []string{`"timisoara"`, `"cluj-napoca"`, `"Timișoara"`, `"a\"b"`, `"\u0074imisoara"`, `null`, `12`, `""`}},
	{"year", 2, []string{`2026`, `-1`, `2026.0`, `2e3`, `"2026"`, `02026`, `-0`, `0`, `99999999999999999999`, `null`, `true`, `2026x`}},
	{"paid_on", 2, []string{`"2026-05-10"`, `"2025-12-31"`, `"2026-02-30"`, `null`, `"x"`, `20260510`, `"2026-5-10"`}},
}

var quoteObject = []quoteField{
	{"kind", 3, []string{`"vehicle"`, `"building"`, `"land"`, `"Vehicle"`, `null`, `1`}},
	{"owner_kind", 2, []string{`"individual"`, `"company"`, `null`, `"x\ny"`}},
	{"category", 2, []string{`"car"`, `"truck"`, `[]`, `{}`}},
	{"engine_cc", 3, []string{`1598`, `0`, `-3`, `1598.5`, `1.5e3`, `"1598"`, `1598 1`, `016`}},
	{"emission_class", 1, []string{`"euro6"`, `"euro\u0036"`}},
	{"propulsion", 1, []string{`"hybrid"`, `false`}},
	{"co2_g_km", 2, []string{`120`, `0`, `null`, `12.0`, `"120"`}},
	{"axles", 1, []string{`3`, `3.`, `-`}},
	{"max_mass_kg", 1, []string{`40000`, `4e4`}},
	{"air_suspension", 2, []string{`true`, `false`, `1`, `"true"`, `null`, `truex`}},
	{"sidecar", 1, []string{`false`, `fals`}},
	{"disability", 1, []string{`"severe"`, `"sev\u00e8re"`}},
	{"boat_type", 1, []string{`"yacht"`, `"yacht ⛵"`}},
	{"use", 2, []string{`"residential"`, `"mixed"`, `0`}},
	{"construction_type", 1, []string{`"A"`, `"\u0041"`}},
	{"utilities", 2, []string{`true`, `false`, `null`, `0`}},
	{"built_area_m2", 4, []string{`120.5`, `"120.50"`, `0`, `-1.25`, `1e2`, `"1e2"`, `"abc"`, `120.`, `.5`, `01.5`, `null`, `"12,5"`, `1E400`}},
	{"usable_area_m2", 2, []string{`"98"`, `98`, `"9 8"`}},
	{"zone", 1, []string{`"B"`, `"B\t"`}},
	{"year_built", 1, []string{`1975`, `1975e0`}},
	{"taxable_value", 2, []string{`"250000.00"`, `250000`, `"-"`, `""`}},
	{"parts", 0, []string{`[{"use":"residential","built_area_m2":"50"}]`, `[]`, `null`}},
	{"location", 1, []string{`"intravilan"`, `"intra"`}},
	{"use_category", 1, []string{`"arable"`, `"ar\\able"`}},
	{"area_m2", 2, []string{`"1000"`, `1000.25`, `1000e-2`}},
}

var quoteSpaces = []string{"", " ", "\n\t", "\r\n  "}

// quoteBody builds a random body; clean says readQuote must take it.
func quoteBody(rng *rand.Rand) (body string, clean bool) {
	clean = true
	sp := func() string {
		return quoteSpaces[rng.IntN(len(quoteSpaces))]
	}
	members := func(fields []quoteField, extra string) string {
		var parts []string
		for _, f := range fields {
			if rng.IntN(3) == 0 {
				continue
			}
			i := rng.IntN(len(f.values))
			if rng.IntN(12) > 0 && f.clean > 0 {
				i = rng.IntN(f.clean)
			}
			if i >= f.clean {
				clean = false
			}
			name := f.name
			switch rng.IntN(300) {
			case 0:
				name = strings.ToUpper(name[:1]) + name[1:]
				clean = false
			case 1:
				parts = append(parts, sp()+`"`+name+`"`+sp()+":"+sp()+f.values[0]+sp())
				clean = false
			case 2:
				name += "_x"
				clean = false
			}
			parts = append(parts, sp()+`"`+name+`"`+sp()+":"+sp()+f.values[i]+sp())
		}
		if extra != "" {
			parts = append(parts, sp()+extra+sp())
		}
		rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		return "{" + strings.Join(parts, ",") + "}"
	}
	object := ""
	if rng.IntN(20) > 0 {
		object = `"object":` + sp() + members(quoteObject, "")
	}
	body = sp() + members(quoteTop, object) + sp()
	switch rng.IntN(30) {
	case 0:
		body += " x"
		clean = false
	case 1:
		body += "{}"
		clean = false
	case 2:
		body = body[:rng.IntN(len(body))]
		clean = false
	}
	return body, clean
}

// TestQuoteReaderAgreesWithEncodingJSON checks readQuote against
// encoding/json on random bodies: what it takes decodes to the same value,
// and it takes every body of the common shape.
func TestQuoteReaderAgreesWithEncodingJSON(t *testing.T) {
	if !checkQuoteReader(t, []byte(`{"municipality":"timisoara","year":2026,"paid_on":"2026-05-10","object":{"kind":"vehicle","category":"car","engine_cc":1598,"emission_class":"euro6","propulsion":"combustion"}}`)) {
		t.Fatal("readQuote refused the contract's example")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var accepted, refused int
	for range 50000 {
		body, clean := quoteBody(rng)
		if checkQuoteReader(t, []byte(body)) {
			accepted++
		} else {
			if clean {
				t.Fatalf("readQuote refused a body of the common shape:\n%s", body)
			}
			refused++
		}
	}
	t.Logf("%d accepted, %d left to encoding/json", accepted, refused)
	if accepted < 5000 || refused < 5000 {
		t.Fatalf("the cases are lopsided: %d accepted, %d refused", accepted, refused)
	}
}

// FuzzQuoteReader: whatever readQuote takes, encoding/json decodes alike.
func FuzzQuoteReader(f *testing.F) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 50 {
		body, _ := quoteBody(rng)
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkQuoteReader(t, body)
	})
}
