package calc

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"fiscald/calc/params"
	"fiscald/internal/civil"
)

// Draft rules of art. 491: how a line of next year's draft was obtained.
const (
	RuleIndexed   = "indexed"   // × (1 + inflation), art. 491 alin. (1)
	RuleExcluded  = "excluded"  // an amount the law excluded from indexation for the year: kept
	RuleEuroRate  = "euro_rate" // trucks and road trains: × new euro rate / previous, art. 491 alin. (2)
	RuleUnchanged = "unchanged" // a council choice that is not an amount (percent, rate): kept
)

// Keys of the indexation data.
const (
	// ExcludedKey (text) lists, separated by "|", the articles whose amounts
	// the law excluded from indexation for the year of its effective date.
	ExcludedKey = "indexation.excluded"
	// EurRonKey is the euro exchange rate (lei per euro) of the first working
	// day of October the year's truck amounts were computed with.
	EurRonKey = "indexation.eur_ron"
)

// DraftLine is one value of next year's draft.
type DraftLine struct {
	Key        string `json:"key"`
	FromValue  string `json:"from_value"`
	ToValue    string `json:"to_value"`
	Rule       string `json:"rule"`
	LegalBasis string `json:"legal_basis"`
	Note       string `json:"note,omitempty"`
}

// DraftInput is what the draft of art. 491 needs.
type DraftInput struct {
	FromYear, ToYear int
	// InflationPct is the inflation rate the Ministry of Finance published,
	// in percent ("5.6").
	InflationPct decimal.Decimal
	// EurRon is the euro rate of the first working day of October of
	// FromYear, or nil when not given.
	EurRon *decimal.Decimal
}

// yearBound reports whether key is an amount in lei that art. 491 indexes
// each year, so that only an entry effective in the tax year itself applies
// (see lookup.indexed).
func yearBound(key string) bool {
	switch {
	case strings.HasPrefix(key, "vehicle.engine.row"), key == "vehicle.electric.annual", key == "vehicle.tractor.per_group",
		strings.HasSuffix(key, ".per_group") && strings.HasPrefix(key, "vehicle.registered."), key == "vehicle.registered.no_cc.annual",
		strings.HasPrefix(key, "vehicle.truck."), strings.HasPrefix(key, "vehicle.trailer."), strings.HasPrefix(key, "vehicle.boat."),
		strings.HasPrefix(key, "building.value_m2."), strings.HasPrefix(key, "land.extravilan."):
		return true
	case strings.HasPrefix(key, "land.intravilan."):
		return !strings.HasPrefix(key, "land.intravilan.coef.") && key != "land.intravilan.as_constructions_max_m2"
	}
	return false
}

// councilChoice reports whether key is a choice the council adopts each year
// that is not an amount (surcharges, bonuses, building rates, the hybrid
// reduction): a draft carries the municipality's own value unchanged.
func councilChoice(key string) bool {
	return strings.HasSuffix(key, ".surcharge_pct") || strings.HasSuffix(key, ".bonus_pct") || strings.HasSuffix(key, ".rate_pct") ||
		key == "vehicle.hybrid.low_co2.reduction_pct"
}

// Draft computes next year's values of a municipality from this year's by
// art. 491: every amount in force in FromYear (national or the council's)
// indexed by the inflation rate, truck and road-train amounts by the euro
// rate, amounts the law excluded for ToYear kept, and the council's own
// percentages kept; each line with its rule and legal basis, sorted by key.
// Errors: InputErrors naming to_year, inflation_pct, eur_ron or from_year
// (a year with nothing to draft from), or ErrUnknownMunicipality.
func (e *Engine) Draft(municipality string, in DraftInput) ([]DraftLine, error) {
	var errs InputErrors
	if in.ToYear != in.FromYear+1 {
		errs.add("to_year", "must be the year after from_year")
	}
	if in.InflationPct.IsNegative() || in.InflationPct.GreaterThan(decimal.NewFromInt(100)) {
		errs.add("inflation_pct", "must be a percentage from 0 to 100")
	}
	if in.EurRon != nil && !in.EurRon.IsPositive() {
		errs.add("eur_ron", "must be a positive rate in lei per euro")
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	from, err := e.lookup(municipality, in.FromYear)
	if err != nil {
		return nil, err
	}
	toJan1 := civil.New(in.ToYear, time.January, 1)
	var excluded []string
	if en, ok := e.Params.Lookup(ExcludedKey, municipality, toJan1); ok && en.EffectiveFrom.Year == in.ToYear {
		for _, a := range strings.Split(en.Value, "|") {
			if a = strings.TrimSpace(a); a != "" {
				excluded = append(excluded, a)
			}
		}
	}
	factor := decimal.NewFromInt(1).Add(pct(in.InflationPct))
	var prevEur *decimal.Decimal
	if v, ok := from.y.vals[EurRonKey]; ok && !v.text {
		prevEur = &v.dec
	}
	var lines []DraftLine
	indexedAny := false
	// Keys of other locality ranks (the grids of art. 465 alin. (2)) do not
	// concern the municipality.
	otherRank := func(string) bool { return false }
	if rank, err := from.int("municipality.rank", ""); err == nil {
		own := fmt.Sprintf(".rank%d.", rank)
		otherRank = func(k string) bool { return strings.Contains(k, ".rank") && !strings.Contains(k, own) }
	}
	for _, key := range e.Params.Keys("") {
		r, ok := from.y.vals[key]
		if !ok || r.text || otherRank(key) {
			continue
		}
		en, _ := e.Params.Lookup(key, municipality, from.on)
		basis := ParamBasis(key)
		l := DraftLine{Key: key, FromValue: r.dec.String()}
		bounded, isRange := RangedKey(key)
		switch {
		case isRange && yearBound(bounded):
			// art. 491 alin. (1) indexes "limite minime și maxime" like
			// fixed amounts: the bounds of a council's lei value follow the
			// value's rule.
			if excludedBy(basis, excluded) {
				l.Rule, l.ToValue, l.LegalBasis = RuleExcluded, l.FromValue, basis+"; Codul fiscal art. 491 (excluded from indexation for "+fmt.Sprint(in.ToYear)+")"
			} else {
				l.Rule, l.LegalBasis = RuleIndexed, basis+"; Codul fiscal art. 491 alin. (1)"
				l.ToValue = indexRound(r.dec.Mul(factor)).String()
			}
		case isRange:
			continue // percentages: the law's bounds, not indexed
		case yearBound(key):
			if r.from.Year != in.FromYear {
				continue // not configured for the source year: nothing to index
			}
			indexedAny = true
			switch {
			case strings.HasPrefix(key, "vehicle.truck."):
				l.Rule, l.LegalBasis = RuleEuroRate, basis+"; Codul fiscal art. 491 alin. (2)"
				if in.EurRon == nil || prevEur == nil {
					l.ToValue = l.FromValue
					l.Note = fmt.Sprintf("the euro rate of %d or %d is not recorded (parameter %s, or eur_ron): correct this line", in.FromYear-1, in.FromYear, EurRonKey)
				} else {
					l.ToValue = indexRound(r.dec.Mul(*in.EurRon).Div(*prevEur)).String()
					l.Note = fmt.Sprintf("× %s / %s lei per euro", in.EurRon.String(), prevEur.String())
				}
			case excludedBy(basis, excluded):
				l.Rule, l.ToValue, l.LegalBasis = RuleExcluded, l.FromValue, basis+"; Codul fiscal art. 491 (excluded from indexation for "+fmt.Sprint(in.ToYear)+")"
			default:
				l.Rule, l.LegalBasis = RuleIndexed, basis+"; Codul fiscal art. 491 alin. (1)"
				l.ToValue = indexRound(r.dec.Mul(factor)).String()
				l.Note = "× " + factor.String() + " (inflation " + in.InflationPct.String() + "%)"
			}
		case councilChoice(key) && en.Municipality != "":
			l.Rule, l.ToValue, l.LegalBasis = RuleUnchanged, l.FromValue, basis
		default:
			continue
		}
		lines = append(lines, l)
	}
	if !indexedAny {
		return nil, InputErrors{{Field: "from_year", Message: fmt.Sprintf("no amounts are configured for %d to draft %d from", in.FromYear, in.ToYear)}}
	}
	if in.EurRon != nil {
		// Recorded for the new year, so next year's draft knows the rate its
		// truck amounts were computed with.
		l := DraftLine{Key: EurRonKey, ToValue: in.EurRon.String(), Rule: RuleEuroRate, LegalBasis: "Codul fiscal art. 491 alin. (2)",
			Note: "the euro rate of the first working day of October " + fmt.Sprint(in.FromYear)}
		if prevEur != nil {
			l.FromValue = prevEur.String()
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// indexRound rounds an indexed amount. Art. 491 (as local-taxes.md §1 states
// it) says how amounts are indexed, not how the result is rounded, and the
// domain reference is silent on it; the law's own tables carry amounts with
// decimals (art. 470 alin. (2): 31.2, 17.42 after indexation), so the amount
// is kept to the ban, the intermediate precision of local-taxes.md §4, a
// half ban rounding up (away from zero). What a taxpayer owes is rounded to
// the leu later, by RoundLei, on the computed tax.
func indexRound(d decimal.Decimal) decimal.Decimal { return d.Round(2) }

func excludedBy(basis string, articles []string) bool {
	for _, a := range articles {
		if basis == a || strings.HasPrefix(basis, a+" ") {
			return true
		}
	}
	return false
}

// DraftRange is the range a corrected line's value must respect: for an
// amount the range indexed by the same factor as the line (as the draft's
// range lines index it), for a council percentage the range in force in the
// new year. ok is false when the key has no range.
func DraftRange(s *params.Set, municipality, key string, toYear int, inflationPct decimal.Decimal) (params.Range, bool) {
	r, ok := s.RangeOf(key, municipality, civil.New(toYear, time.January, 1))
	if !ok || !yearBound(key) || r.From.Year == toYear {
		return r, ok
	}
	f := decimal.NewFromInt(1).Add(pct(inflationPct))
	r.Min, r.Max = indexRound(r.Min.Mul(f)), indexRound(r.Max.Mul(f))
	r.LegalBasis += "; Codul fiscal art. 491 alin. (1)"
	return r, true
}
