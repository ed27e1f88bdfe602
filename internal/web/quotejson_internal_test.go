package web

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
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
