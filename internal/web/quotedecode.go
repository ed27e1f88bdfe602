package web

import (
	"github.com/shopspring/decimal"

	"fiscald/calc"
	"fiscald/internal/civil"
)

// quoteReader reads the common shape of a quote's body (the contract's
// fields with their JSON types, plain ASCII strings, integers, dates and
// decimals) into a calc.QuoteInput without encoding/json's reflection. It
// takes nothing on trust: anything else (an unknown or repeated name, a
// name in other letter case, null, an escape, a non-ASCII byte, a fraction
// for an integer, building parts, trailing data, a malformed value) makes
// it give up, and the body is decoded again by encoding/json, which keeps
// every answer and error message as before. FuzzQuoteReader and
// TestQuoteReaderAgreesWithEncodingJSON check that what it accepts,
// encoding/json decodes to the same value.
type quoteReader struct {
	b []byte
	i int
}

// readQuote decodes body into in (which must be zero) and reports whether
// it could; when it could not, in is left partly filled.
func readQuote(body []byte, in *calc.QuoteInput) bool {
	r := quoteReader{b: body}
	var seen uint32
	ok := r.object(func(name []byte) bool {
		var bit uint32
		var ok bool
		switch string(name) {
		case "municipality":
			bit = 1
			in.Municipality, ok = r.str()
		case "year":
			bit = 2
			in.Year, ok = r.int()
		case "paid_on":
			bit = 4
			var d civil.Date
			if raw, isStr := r.rawString(); isStr && d.UnmarshalJSON(raw) == nil {
				in.PaidOn, ok = &d, true
			}
		case "object":
			bit = 8
			ok = r.objectFields(&in.Object)
		}
		if bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		return ok
	})
	if !ok {
		return false
	}
	r.ws()
	return r.i == len(r.b)
}

// objectFields reads the taxed object.
func (r *quoteReader) objectFields(o *calc.Object) bool {
	var seen uint32
	return r.object(func(name []byte) bool {
		var bit uint32
		var ok bool
		switch string(name) {
		case "kind":
			bit = 1 << 0
			o.Kind, ok = r.str()
		case "owner_kind":
			bit = 1 << 1
			o.OwnerKind, ok = r.str()
		case "category":
			bit = 1 << 2
			o.Category, ok = r.str()
		case "engine_cc":
			bit = 1 << 3
			o.EngineCC, ok = r.int()
		case "emission_class":
			bit = 1 << 4
			o.EmissionClass, ok = r.str()
		case "propulsion":
			bit = 1 << 5
			o.Propulsion, ok = r.str()
		case "co2_g_km":
			bit = 1 << 6
			var n int
			if n, ok = r.int(); ok {
				o.CO2GKm = &n
			}
		case "axles":
			bit = 1 << 7
			o.Axles, ok = r.int()
		case "max_mass_kg":
			bit = 1 << 8
			o.MaxMassKg, ok = r.int()
		case "air_suspension":
			bit = 1 << 9
			o.AirSuspension, ok = r.bool()
		case "sidecar":
			bit = 1 << 10
			o.Sidecar, ok = r.bool()
		case "disability":
			bit = 1 << 11
			o.Disability, ok = r.str()
		case "boat_type":
			bit = 1 << 12
			o.BoatType, ok = r.str()
		case "use":
			bit = 1 << 13
			o.Use, ok = r.str()
		case "construction_type":
			bit = 1 << 14
			o.ConstructionType, ok = r.str()
		case "utilities":
			bit = 1 << 15
			var v bool
			if v, ok = r.bool(); ok {
				o.Utilities = &v
			}
		case "built_area_m2":
			bit = 1 << 16
			o.BuiltAreaM2, ok = r.decimal()
		case "usable_area_m2":
			bit = 1 << 17
			o.UsableAreaM2, ok = r.decimal()
		case "zone":
			bit = 1 << 18
			o.Zone, ok = r.str()
		case "year_built":
			bit = 1 << 19
			o.YearBuilt, ok = r.int()
		case "taxable_value":
			bit = 1 << 20
			o.TaxableValue, ok = r.decimal()
		case "location":
			bit = 1 << 21
			o.Location, ok = r.str()
		case "use_category":
			bit = 1 << 22
			o.UseCategory, ok = r.str()
		case "area_m2":
			bit = 1 << 23
			o.AreaM2, ok = r.decimal()
		}
		// "parts" and any other name: encoding/json.
		if bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		return ok
	})
}

// ws skips JSON whitespace.
func (r *quoteReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// object reads {"name": value, ...}, calling field with each name and the
// reader at its value (which field reads).
func (r *quoteReader) object(field func(name []byte) bool) bool {
	r.ws()
	if r.i >= len(r.b) || r.b[r.i] != '{' {
		return false
	}
	r.i++
	r.ws()
	if r.i < len(r.b) && r.b[r.i] == '}' {
		r.i++
		return true
	}
	for {
		r.ws()
		name, ok := r.rawString()
		if !ok {
			return false
		}
		r.ws()
		if r.i >= len(r.b) || r.b[r.i] != ':' {
			return false
		}
		r.i++
		r.ws()
		if !field(name[1 : len(name)-1]) {
			return false
		}
		r.ws()
		if r.i >= len(r.b) {
			return false
		}
		switch r.b[r.i] {
		case ',':
			r.i++
		case '}':
			r.i++
			return true
		default:
			return false
		}
	}
}

// rawString reads a string of printable ASCII without escapes and returns
// it with its quotes.
func (r *quoteReader) rawString() ([]byte, bool) {
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		return nil, false
	}
	for j := r.i + 1; j < len(r.b); j++ {
		switch c := r.b[j]; {
		case c == '"':
			s := r.b[r.i : j+1]
			r.i = j + 1
			return s, true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, false
		}
	}
	return nil, false
}

// str reads a string value.
func (r *quoteReader) str() (string, bool) {
	s, ok := r.rawString()
	if !ok {
		return "", false
	}
	return string(s[1 : len(s)-1]), true
}

// int reads an integer written without fraction or exponent, of at most 18
// digits (so it cannot overflow).
func (r *quoteReader) int() (int, bool) {
	j := r.i
	neg := j < len(r.b) && r.b[j] == '-'
	if neg {
		j++
	}
	start := j
	n := 0
	for j < len(r.b) && r.b[j] >= '0' && r.b[j] <= '9' {
		n = n*10 + int(r.b[j]-'0')
		j++
	}
	digits := j - start
	if digits == 0 || digits > 18 || digits > 1 && r.b[start] == '0' || !r.endsValue(j) {
		return 0, false
	}
	r.i = j
	if neg {
		n = -n
	}
	return n, true
}

// endsValue reports whether a number or literal may end before b[j].
func (r *quoteReader) endsValue(j int) bool {
	if j == len(r.b) {
		return true
	}
	switch r.b[j] {
	case ' ', '\t', '\n', '\r', ',', '}':
		return true
	}
	return false
}

// bool reads true or false.
func (r *quoteReader) bool() (bool, bool) {
	for _, lit := range [...]string{"true", "false"} {
		if j := r.i + len(lit); j <= len(r.b) && string(r.b[r.i:j]) == lit && r.endsValue(j) {
			r.i = j
			return lit == "true", true
		}
	}
	return false, false
}

// decimal reads a decimal written as a JSON number or a plain string,
// through decimal.Decimal's own UnmarshalJSON (as encoding/json calls it).
func (r *quoteReader) decimal() (*decimal.Decimal, bool) {
	var raw []byte
	if r.i < len(r.b) && r.b[r.i] == '"' {
		s, ok := r.rawString()
		if !ok {
			return nil, false
		}
		raw = s
	} else {
		j := r.i
		for j < len(r.b) && (r.b[j] >= '0' && r.b[j] <= '9' || r.b[j] == '-' || r.b[j] == '.') {
			j++
		}
		// A plain decimal literal only: -?(0|[1-9][0-9]*)(\.[0-9]+)?
		if !plainNumber(r.b[r.i:j]) || !r.endsValue(j) {
			return nil, false
		}
		raw = r.b[r.i:j]
		r.i = j
	}
	d := new(decimal.Decimal)
	if d.UnmarshalJSON(raw) != nil {
		return nil, false
	}
	return d, true
}

// plainNumber reports whether b is -?(0|[1-9][0-9]*)(\.[0-9]+)?.
func plainNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == start || i-start > 1 && b[start] == '0' {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		frac := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == frac {
			return false
		}
	}
	return i == len(b)
}
