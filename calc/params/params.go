// Package params holds the dated tax parameters of the engine: every rate,
// amount, threshold and budget code of Codul fiscal Title IX as data, per
// municipality, with an effective date and its legal basis (OpenFisca style).
//
// The national tables and the demo municipality's council decision are
// embedded JSON files under data/ (one entry per line, editable by an
// administrator); the database layer can load the same Entry rows from a table
// and build the same Set with NewSet. A figure the sources leave unconfirmed is
// simply absent: the engine then reports which parameter is missing.
package params

import (
	"cmp"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"fiscald/internal/civil"
)

// TextPrefixes mark keys whose value is text rather than a decimal (budget
// classification codes, treasury accounts, the articles excluded from
// indexation).
var TextPrefixes = []string{"budget_code.", "treasury_account.", "indexation.excluded"}

// IsText reports whether key holds text rather than a decimal.
func IsText(key string) bool {
	for _, p := range TextPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// MunicipalityKey is the key of a municipality's rank (0-V, as 0-5). A
// municipality is known to the engine when it has an entry for this key.
const MunicipalityKey = "municipality.rank"

// Entry is one dated parameter value.
type Entry struct {
	// Key names the parameter, e.g. "vehicle.engine.row1.euro6".
	Key string `json:"key"`
	// Municipality is the slug of the municipality (UAT), or "" for the national default.
	Municipality string `json:"municipality"`
	// EffectiveFrom is the first day the value applies.
	EffectiveFrom civil.Date `json:"effective_from"`
	// Value is a decimal string ("16.5", "0.1"), or text for the keys IsText accepts.
	Value string `json:"value"`
	// LegalBasis cites the law or council decision the value comes from.
	LegalBasis string `json:"legal_basis"`
	// Note is free text for administrators (units, provenance, caveats).
	Note string `json:"note,omitempty"`
	// Decision is the council decision (HCL) that adopted a municipality's
	// own value; nil for the law's national values and for embedded local
	// values whose decision number is not known.
	Decision *Decision `json:"decision,omitempty"`
}

// Decision identifies a local council decision (hotărârea consiliului local).
type Decision struct {
	// Number is the decision's number as the council writes it, e.g. "123/2026".
	Number string `json:"number"`
	// Date is the day the council adopted it.
	Date civil.Date `json:"date"`
}

// Cite returns the decision as a quote line cites it: "HCL 123/2026".
func (d *Decision) Cite() string {
	if d == nil {
		return ""
	}
	return "HCL " + d.Number
}

// RangePrefix starts the keys of the law's ranges: range.<key>.min and
// range.<key>.max bound the value a council may adopt for <key>.
const RangePrefix = "range."

// RangeKeys returns the keys of the lower and upper bound of key's range.
func RangeKeys(key string) (lo, hi string) {
	return RangePrefix + key + ".min", RangePrefix + key + ".max"
}

// Range is the law's range for a council value, in force on a date.
type Range struct {
	Min        decimal.Decimal `json:"min"`
	Max        decimal.Decimal `json:"max"`
	From       civil.Date      `json:"from"` // effective date of the bound in force
	LegalBasis string          `json:"legal_basis"`
}

// String returns "min-max".
func (r Range) String() string { return r.Min.String() + "-" + r.Max.String() }

// Contains reports whether min <= v <= max.
func (r Range) Contains(v decimal.Decimal) bool {
	return !v.LessThan(r.Min) && !v.GreaterThan(r.Max)
}

// RangeOf returns the range of key in force on the date for the
// municipality, or false when the law gives key no range. A municipality's
// own bounds are the law's range indexed by its council (art. 491 indexes
// "limite minime și maxime" like fixed amounts), entered only by adopting a
// draft; otherwise the national bounds apply.
func (s *Set) RangeOf(key, municipality string, on civil.Date) (Range, bool) {
	lo, hi := RangeKeys(key)
	a, ok1 := s.find(lo, municipality, on)
	b, ok2 := s.find(hi, municipality, on)
	if !ok1 || !ok2 {
		return Range{}, false
	}
	from := a.EffectiveFrom
	if b.EffectiveFrom.After(from) {
		from = b.EffectiveFrom
	}
	return Range{Min: a.dec, Max: b.dec, From: from, LegalBasis: a.LegalBasis}, true
}

type scope struct{ key, municipality string }

type item struct {
	Entry
	dec decimal.Decimal
}

// Set is a validated, indexed collection of entries. It is immutable and safe
// for concurrent use.
type Set struct {
	byScope        map[scope][]item // sorted by EffectiveFrom, newest first
	keys           []string         // sorted, distinct
	municipalities map[string]bool
	entries        []Entry
}

// NewSet validates the entries and indexes them for Lookup. It reports every
// invalid entry: a malformed key or municipality slug, an invalid date, a
// value that is not a decimal, a missing legal basis, or a duplicate
// (key, municipality, effective_from).
func NewSet(entries []Entry) (*Set, error) {
	s := &Set{byScope: make(map[scope][]item), municipalities: map[string]bool{}}
	var errs []error
	seen := make(map[Entry]bool)
	keys := map[string]bool{}
	for i, e := range entries {
		where := fmt.Sprintf("entry %d (%s, %q, %s)", i, e.Key, e.Municipality, e.EffectiveFrom.String())
		d, field, msg := CheckEntry(e)
		if field != "" {
			errs = append(errs, fmt.Errorf("%s: %s", where, msg))
			continue
		}
		it := item{Entry: e, dec: d}
		id := Entry{Key: e.Key, Municipality: e.Municipality, EffectiveFrom: e.EffectiveFrom}
		if seen[id] {
			errs = append(errs, fmt.Errorf("%s: duplicate entry", where))
			continue
		}
		seen[id] = true
		sc := scope{e.Key, e.Municipality}
		s.byScope[sc] = append(s.byScope[sc], it)
		keys[e.Key] = true
		if e.Municipality != "" {
			s.municipalities[e.Municipality] = true
		}
		s.entries = append(s.entries, e)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, items := range s.byScope {
		slices.SortFunc(items, func(a, b item) int { return b.EffectiveFrom.Compare(a.EffectiveFrom) })
	}
	for k := range keys {
		s.keys = append(s.keys, k)
	}
	slices.Sort(s.keys)
	return s, nil
}

// CheckEntry validates one entry on its own: it returns the decimal value
// (zero for text keys), or the name of the first invalid field ("key",
// "municipality", "effective_from", "legal_basis", "value") with a message.
func CheckEntry(e Entry) (d decimal.Decimal, field, message string) {
	switch {
	case !validName(e.Key, true) || e.Key == "":
		return d, "key", "invalid key"
	case !validName(e.Municipality, false):
		return d, "municipality", "invalid municipality slug"
	case !e.EffectiveFrom.IsValid():
		return d, "effective_from", "invalid effective_from"
	case strings.TrimSpace(e.LegalBasis) == "":
		return d, "legal_basis", "missing legal_basis"
	case e.Decision != nil && (strings.TrimSpace(e.Decision.Number) == "" || len(e.Decision.Number) > 60):
		return d, "decision.number", "the decision needs its number (at most 60 characters)"
	case e.Decision != nil && !e.Decision.Date.IsValid():
		return d, "decision.date", "must be a date YYYY-MM-DD"
	}
	if IsText(e.Key) {
		if strings.TrimSpace(e.Value) == "" {
			return d, "value", "empty value"
		}
		return d, "", ""
	}
	d, err := decimal.NewFromString(e.Value)
	if err != nil || strings.ContainsAny(e.Value, "eE") || d.Exponent() < -10 || d.Abs().GreaterThan(decimal.New(1, 12)) {
		return decimal.Decimal{}, "value", fmt.Sprintf("value %q is not a plain decimal", e.Value)
	}
	return d, "", ""
}

// validName accepts lower-case ASCII letters, digits, '_' and '-', plus '.' in
// keys; a municipality may be empty (national).
func validName(s string, dots bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
		case c == '.' && dots && i > 0 && i < len(s)-1 && s[i-1] != '.':
		default:
			return false
		}
	}
	return len(s) <= 120
}

func (s *Set) find(key, municipality string, on civil.Date) (item, bool) {
	if municipality != "" {
		if it, ok := latest(s.byScope[scope{key, municipality}], on); ok {
			return it, true
		}
	}
	return latest(s.byScope[scope{key, ""}], on)
}

func latest(items []item, on civil.Date) (item, bool) {
	for _, it := range items {
		if !it.EffectiveFrom.After(on) {
			return it, true
		}
	}
	return item{}, false
}

// Lookup returns the entry for key that applies on the given date: the one
// with the latest effective_from on or before it, the municipality's own entry
// preferred over the national one ("").
func (s *Set) Lookup(key, municipality string, on civil.Date) (Entry, bool) {
	it, ok := s.find(key, municipality, on)
	return it.Entry, ok
}

// Decimal is Lookup returning the value as a decimal, with the entry it came
// from. It reports false for a missing entry and for text keys.
func (s *Set) Decimal(key, municipality string, on civil.Date) (decimal.Decimal, Entry, bool) {
	it, ok := s.find(key, municipality, on)
	if !ok || IsText(key) {
		return decimal.Decimal{}, Entry{}, false
	}
	return it.dec, it.Entry, true
}

// Keys returns the distinct keys starting with prefix, sorted.
func (s *Set) Keys(prefix string) []string {
	i, _ := slices.BinarySearch(s.keys, prefix)
	j := i
	for j < len(s.keys) && strings.HasPrefix(s.keys[j], prefix) {
		j++
	}
	return s.keys[i:j:j]
}

// HasMunicipality reports whether the set holds any entry for the municipality slug.
func (s *Set) HasMunicipality(slug string) bool { return s.municipalities[slug] }

// Municipalities returns the slugs of the municipalities with entries, sorted.
func (s *Set) Municipalities() []string {
	out := make([]string, 0, len(s.municipalities))
	for m := range s.municipalities {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}

// Entries returns a copy of the entries of the set, sorted by key,
// municipality and effective date.
func (s *Set) Entries() []Entry {
	out := slices.Clone(s.entries)
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.Municipality, b.Municipality),
			a.EffectiveFrom.Compare(b.EffectiveFrom))
	})
	return out
}

//go:embed data/*.json
var dataFS embed.FS

// Defaults returns the embedded entries: the national tables and the demo
// municipality's council decisions, in file order.
func Defaults() []Entry {
	var all []Entry
	files, _ := fs.Glob(dataFS, "data/*.json")
	for _, f := range files {
		b, err := dataFS.ReadFile(f)
		if err != nil {
			panic(err)
		}
		var doc struct {
			Entries []Entry `json:"entries"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			panic(fmt.Sprintf("params: embedded %s: %v", f, err))
		}
		all = append(all, doc.Entries...)
	}
	return all
}

// Default returns the Set built from Defaults; it panics if the embedded data
// is invalid (a test guards against that).
func Default() *Set {
	s, err := NewSet(Defaults())
	if err != nil {
		panic("params: embedded data: " + err.Error())
	}
	return s
}
