package web

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"fiscald/calc"
	"fiscald/internal/civil"
)

// quoteStrings are the strings the filler picks from: the labels as they
// are, and every character encoding/json escapes.
var quoteStrings = []string{
	"", "timisoara", "vehicle", "21.02.02.01", "Mijloace de transport cu tracțiune mecanică, autoturism 1598 cm³",
	"art. 470 alin. (2) lit. a) din Legea 227/2015 (Codul fiscal) — Euro 6", "bonificație 10%",
	`say "hi"`, `back\slash`, "<script>", "a & b", "a > b", "line\nbreak", "tab\t", "\x01\x1f", "\u2028\u2029",
	"bad \xff utf-8", "half \xe2\x80", "emoji 😀", "\u007f del",
}

// fill sets every field of v (a pointer) from rng; it fails on a kind it
// does not know, so a new kind of field in calc.Result shows here.
func fill(t *testing.T, rng *rand.Rand, v reflect.Value) {
	t.Helper()
	if v.Type() == reflect.TypeFor[civil.Date]() {
		d := civil.New(2000+rng.IntN(100), time.Month(1+rng.IntN(12)), 1).AddDays(rng.IntN(31))
		v.Set(reflect.ValueOf(d))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(quoteStrings[rng.IntN(len(quoteStrings))])
	case reflect.Int, reflect.Int64:
		n := rng.Int64N(1 << 40)
		if rng.IntN(4) == 0 {
			n = -n
		}
		if rng.IntN(8) == 0 {
			n = []int64{0, 1, -1, 99, 100, -100, 1<<63 - 1, -1 << 63}[rng.IntN(8)]
		}
		v.SetInt(n)
	case reflect.Pointer:
		if rng.IntN(4) == 0 {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(t, rng, p.Elem())
		v.Set(p)
	case reflect.Slice:
		switch rng.IntN(6) {
		case 0:
			v.SetZero()
			return
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			return
		}
		n := 1 + rng.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(t, rng, s.Index(i))
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, rng, v.Field(i))
		}
	default:
		t.Fatalf("fill: a field of kind %s (%s): teach appendQuoteJSON and this test", v.Kind(), v.Type())
	}
}

// TestQuoteJSONMatchesEncodingJSON checks that the quote's encoder writes
// the bytes json.Marshal writes, on random results with every field set.
func TestQuoteJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		var r calc.Result
		fill(t, rng, reflect.ValueOf(&r).Elem())
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendQuoteJSON([]byte("prefix"), &r)
		if !ok || !bytes.Equal(got[len("prefix"):], want) {
			t.Fatalf("case %d (ok %v):\n got %s\nwant %s", i, ok, got[len("prefix"):], want)
		}
	}
}

// TestQuoteJSONRefusesInvalidDate leaves an invalid date to encoding/json
// (which refuses it), as before.
func TestQuoteJSONRefusesInvalidDate(t *testing.T) {
	for _, r := range []calc.Result{
		{Installments: []calc.Installment{{DueDate: civil.Date{Year: 2026, Month: 2, Day: 30}}}},
		{Settlement: &calc.Settlement{}},
	} {
		if _, err := json.Marshal(r); err == nil {
			t.Fatal("json.Marshal accepted an invalid date")
		}
		if _, ok := appendQuoteJSON(nil, &r); ok {
			t.Errorf("appendQuoteJSON accepted an invalid date in %+v", r)
		}
	}
}

// quoteTags lists the validate tags of t and the structs under it, field by
// field.
func quoteTags(t reflect.Type, prefix string, out *[]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t.PkgPath() != "fiscald/calc" {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		*out = append(*out, prefix+f.Name+" "+strconv.Quote(f.Tag.Get("validate")))
		quoteTags(f.Type, prefix+f.Name+".", out)
	}
}

// quoteTagsChecked are the tags validQuoteTags was written for.
const quoteTagsChecked = `Municipality "required"
Year "required,gte=2000,lte=2100"
PaidOn ""
Object "required"
Object.Kind "required,oneof=vehicle building land"
Object.OwnerKind "omitempty,oneof=individual company"
Object.Category "omitempty,oneof=car motorcycle bus light_goods tractor registered truck trailer boat"
Object.EngineCC "gte=0,lte=100000"
Object.EmissionClass "omitempty,oneof=non_euro euro0 euro1 euro2 euro3 euro4 euro5 euro6"
Object.Propulsion "omitempty,oneof=combustion hybrid electric"
Object.CO2GKm "omitempty,gte=0,lte=2000"
Object.Axles "gte=0,lte=20"
Object.MaxMassKg "gte=0,lte=200000"
Object.AirSuspension ""
Object.Sidecar ""
Object.Disability "omitempty,oneof=severe accentuated"
Object.BoatType ""
Object.Use "omitempty,oneof=residential non_residential mixed"
Object.ConstructionType "omitempty,oneof=A B C D"
Object.BasementOrAttic "omitempty,oneof=dwelling other"
Object.Utilities ""
Object.BuiltAreaM2 ""
Object.UsableAreaM2 ""
Object.Zone "omitempty,oneof=A B C D"
Object.YearBuilt "gte=0,lte=2100"
Object.TaxableValue ""
Object.Parts "dive"
Object.Parts.Use "required,oneof=residential non_residential"
Object.Parts.BuiltAreaM2 ""
Object.Parts.UsableAreaM2 ""
Object.Parts.TaxableValue ""
Object.Location "omitempty,oneof=intravilan extravilan"
Object.UseCategory ""
Object.AreaM2 ""`

// TestValidQuoteTagsAgreesWithValidator checks that the quote's fast check
// answers as validator/v10 does on random inputs near every tag's limits,
// and that the tags are still the ones it was written for.
func TestValidQuoteTagsAgreesWithValidator(t *testing.T) {
	var tags []string
	quoteTags(reflect.TypeFor[calc.QuoteInput](), "", &tags)
	if got := strings.Join(tags, "\n"); got != quoteTagsChecked {
		t.Fatalf("the validate tags of calc.QuoteInput changed: update validQuoteTags and quoteTagsChecked to\n%s", got)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	str := func(valid ...string) string {
		switch rng.IntN(8) {
		case 0:
			return ""
		case 1:
			return "bogus"
		case 2:
			return strings.ToUpper(valid[0])
		case 3: // near misses: "D" → "D_", "E"
			last := valid[len(valid)-1]
			return []string{last + "_", string(rune(last[0] + 1))}[rng.IntN(2)]
		}
		return valid[rng.IntN(len(valid))]
	}
	num := func(lo, hi int) int {
		switch rng.IntN(10) {
		case 0:
			return lo - 1
		case 1:
			return hi + 1
		case 2:
			return lo
		case 3:
			return hi
		case 4:
			return 0
		}
		return lo + rng.IntN(hi-lo+1)
	}
	var accepted, refused int
	for i := range 20000 {
		in := calc.QuoteInput{Municipality: str("timisoara"), Year: num(2000, 2100)}
		o := &in.Object
		o.Kind = str("vehicle", "building", "land")
		if rng.IntN(3) > 0 {
			o.OwnerKind = str("individual", "company")
			o.Category = str("car", "motorcycle", "bus", "light_goods", "tractor", "registered", "truck", "trailer", "boat")
			o.EmissionClass = str("non_euro", "euro0", "euro1", "euro2", "euro3", "euro4", "euro5", "euro6")
			o.Propulsion = str("combustion", "hybrid", "electric")
			o.Disability = str("severe", "accentuated")
			o.Use = str("residential", "non_residential", "mixed")
			o.ConstructionType = str("A", "B", "C", "D")
			o.BasementOrAttic = str("dwelling", "other")
			o.Zone = str("A", "B", "C", "D")
			o.Location = str("intravilan", "extravilan")
			o.BoatType, o.UseCategory = str("x"), str("y")
		}
		if rng.IntN(2) == 0 {
			o.EngineCC, o.Axles, o.MaxMassKg, o.YearBuilt = num(0, 100000), num(0, 20), num(0, 200000), num(0, 2100)
		}
		if rng.IntN(2) == 0 {
			co2 := num(0, 2000)
			o.CO2GKm = &co2
		}
		if rng.IntN(3) == 0 {
			o.Parts = make([]calc.BuildingPart, rng.IntN(3))
			for j := range o.Parts {
				o.Parts[j].Use = str("residential", "non_residential")
			}
		}
		want := validate.Struct(&in) == nil
		if got := validQuoteTags(&in); got != want {
			t.Fatalf("case %d: validQuoteTags %v, validator/v10 %v: %+v", i, got, want, in)
		}
		if want {
			accepted++
		} else {
			refused++
		}
	}
	if accepted < 1000 || refused < 1000 {
		t.Fatalf("the cases are lopsided: %d accepted, %d refused", accepted, refused)
	}
}
