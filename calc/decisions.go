package calc

import (
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
