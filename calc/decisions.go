package calc

import (
	"strings"
	"time"

	"fiscald/internal/civil"
)

// CouncilDecisions returns the dates of the council decisions whose values
// apply to the municipality on 1 January of the year, keyed as a line's legal
// basis cites them (params.Decision.Cite: "HCL 123/2026"), so an explanation
// can name each decision with its date. Embedded local values without a known
// decision have none.
func (e *Engine) CouncilDecisions(municipality string, year int) map[string]civil.Date {
	on := civil.New(year, time.January, 1)
	out := map[string]civil.Date{}
	for _, key := range e.Params.Keys("") {
		en, ok := e.Params.Lookup(key, municipality, on)
		if !ok || en.Municipality == "" || en.Decision == nil {
			continue
		}
		out[en.Decision.Cite()] = en.Decision.Date
	}
	return out
}

// NameDecisions returns a line's legal basis with each council decision it
// cites ("…; HCL 123/2026", as cite writes it) followed by its date in
// format's words ("…; HCL 123/2026 din 15.12.2026"); a decision dates does
// not know is left as it is.
func NameDecisions(basis string, dates map[string]civil.Date, format func(civil.Date) string) string {
	if len(dates) == 0 || !strings.Contains(basis, "HCL ") {
		return basis
	}
	parts := strings.Split(basis, "; ")
	for i, part := range parts {
		if d, ok := dates[part]; ok {
			parts[i] = part + " din " + format(d)
		}
	}
	return strings.Join(parts, "; ")
}
