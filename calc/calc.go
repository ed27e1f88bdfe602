// Package calc is the pure tax engine for Romanian local taxes (Codul fiscal,
// Title IX; Codul de procedură fiscală for late fees): vehicle, building and land
// tax, instalments, the early-payment bonus, late-payment surcharges, vehicle
// ownership periods and recomputation under new parameters.
//
// Every figure comes from a params.Set (dated data per municipality); every
// date rule from a calendar.Calendar. The package does no I/O, reads no clock
// and imports nothing of the module but small value packages. Amounts are
// exact decimals during computation and money.Bani in results; they are
// rounded to whole lei only by RoundLei.
package calc

import (
	"fmt"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"fiscald/calc/calendar"
	"fiscald/calc/params"
	"fiscald/internal/civil"
	"fiscald/internal/money"
)

// Tax types, as used in results and budget-code keys.
const (
	TaxVehicle  = "vehicle"
	TaxBuilding = "building"
	TaxLand     = "land"
)

// Owner kinds.
const (
	OwnerIndividual = "individual"
	OwnerCompany    = "company"
)

// Engine computes taxes from a parameter set and a working-day calendar. It
// is safe for concurrent use. It caches each municipality's parameters
// resolved per tax year, so Params and Calendar must not change once it is in
// use (build a new Engine instead), and it must not be copied.
type Engine struct {
	Params   *params.Set
	Calendar *calendar.Calendar

	years sync.Map // yearKey -> *yearData
}

// QuoteInput is the request of a tax quote (contract: POST /api/v1/tax/quote).
type QuoteInput struct {
	Municipality string      `json:"municipality" validate:"required"`
	Year         int         `json:"year" validate:"required,gte=2000,lte=2100"`
	PaidOn       *civil.Date `json:"paid_on,omitempty"`
	Object       Object      `json:"object" validate:"required"`
}

// Object is the taxed object of a quote, flat as in the contract's JSON; Kind
// says which fields apply. Vehicle, Building and Land give typed views.
type Object struct {
	Kind      string `json:"kind" validate:"required,oneof=vehicle building land"`
	OwnerKind string `json:"owner_kind,omitempty" validate:"omitempty,oneof=individual company"` // default individual

	// Vehicle (art. 470).
	Category      string `json:"category,omitempty" validate:"omitempty,oneof=car motorcycle bus light_goods tractor registered truck trailer boat"`
	EngineCC      int    `json:"engine_cc,omitempty" validate:"gte=0,lte=100000"`
	EmissionClass string `json:"emission_class,omitempty" validate:"omitempty,oneof=non_euro euro0 euro1 euro2 euro3 euro4 euro5 euro6"`
	Propulsion    string `json:"propulsion,omitempty" validate:"omitempty,oneof=combustion hybrid electric"`
	CO2GKm        *int   `json:"co2_g_km,omitempty" validate:"omitempty,gte=0,lte=2000"`
	Axles         int    `json:"axles,omitempty" validate:"gte=0,lte=20"`
	MaxMassKg     int    `json:"max_mass_kg,omitempty" validate:"gte=0,lte=200000"`
	AirSuspension bool   `json:"air_suspension,omitempty"`
	Sidecar       bool   `json:"sidecar,omitempty"`
	Disability    string `json:"disability,omitempty" validate:"omitempty,oneof=severe accentuated"`
	BoatType      string `json:"boat_type,omitempty"`

	// Building (art. 457-460).
	Use              string           `json:"use,omitempty" validate:"omitempty,oneof=residential non_residential mixed"`
	ConstructionType string           `json:"construction_type,omitempty" validate:"omitempty,oneof=A B C D"`
	BasementOrAttic  string           `json:"basement_or_attic,omitempty" validate:"omitempty,oneof=dwelling other"` // types E (dwelling) and F (other) of art. 457 alin. (2)
	Utilities        *bool            `json:"utilities,omitempty"`
	BuiltAreaM2      *decimal.Decimal `json:"built_area_m2,omitempty"`
	UsableAreaM2     *decimal.Decimal `json:"usable_area_m2,omitempty"`
	Zone             string           `json:"zone,omitempty" validate:"omitempty,oneof=A B C D"`
	YearBuilt        int              `json:"year_built,omitempty" validate:"gte=0,lte=2100"`
	TaxableValue     *decimal.Decimal `json:"taxable_value,omitempty"`
	Parts            []BuildingPart   `json:"parts,omitempty" validate:"dive"`

	// Land (art. 465).
	Location    string           `json:"location,omitempty" validate:"omitempty,oneof=intravilan extravilan"`
	UseCategory string           `json:"use_category,omitempty"`
	AreaM2      *decimal.Decimal `json:"area_m2,omitempty"`
}

// BuildingPart is one part of a mixed-use building, taxed at the rate of its
// own use (art. 457 alin. (9), art. 458 alin. (4)); individuals give an area,
// companies a taxable value.
type BuildingPart struct {
	Use          string           `json:"use" validate:"required,oneof=residential non_residential"`
	BuiltAreaM2  *decimal.Decimal `json:"built_area_m2,omitempty"`
	UsableAreaM2 *decimal.Decimal `json:"usable_area_m2,omitempty"`
	TaxableValue *decimal.Decimal `json:"taxable_value,omitempty"`
}

// Installment is one due date and amount.
type Installment struct {
	DueDate civil.Date `json:"due_date"`
	Amount  money.Bani `json:"amount"`
}

// Line is one component of the computation; the lines of a result add up to
// the annual tax.
type Line struct {
	Label      string     `json:"label"`
	LegalBasis string     `json:"legal_basis"`
	Amount     money.Bani `json:"amount"`
}

// Settlement is what paying the whole year on PaidOn costs.
type Settlement struct {
	PaidOn    civil.Date `json:"paid_on"`
	Principal money.Bani `json:"principal"`
	Bonus     money.Bani `json:"bonus"`
	LateFees  money.Bani `json:"late_fees"`
	Total     money.Bani `json:"total"`
}

// Result is the answer of a tax quote (contract: POST /api/v1/tax/quote).
type Result struct {
	Municipality      string        `json:"municipality"`
	Year              int           `json:"year"`
	TaxType           string        `json:"tax_type"`
	BudgetCode        string        `json:"budget_code"`
	AnnualTax         money.Bani    `json:"annual_tax"`
	Installments      []Installment `json:"installments"`
	EarlyPaymentBonus money.Bani    `json:"early_payment_bonus"`
	Settlement        *Settlement   `json:"settlement,omitempty"`
	Lines             []Line        `json:"lines"`
}

// Assessment is the annual tax of one object before payment terms.
type Assessment struct {
	TaxType    string
	BudgetCode string
	Annual     money.Bani
	Lines      []Line
}

// lookup resolves parameters for one municipality and tax year.
type lookup struct {
	set  *params.Set
	y    *yearData
	muni string
	year int
	on   civil.Date
}

func (e *Engine) lookup(muni string, year int) (*lookup, error) {
	if e.Params == nil || !e.Params.HasMunicipality(muni) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownMunicipality, muni)
	}
	return &lookup{set: e.Params, y: e.yearData(muni, year), muni: muni, year: year, on: civil.New(year, time.January, 1)}, nil
}

// budgetKeys avoids building the budget-code key on every quote.
var budgetKeys = map[[2]string]string{}

func init() {
	for _, t := range []string{TaxVehicle, TaxBuilding, TaxLand} {
		for _, o := range []string{OwnerIndividual, OwnerCompany} {
			budgetKeys[[2]string{t, o}] = "budget_code." + t + "." + o
		}
	}
}

func (l *lookup) missing(key, what string) error {
	e := &MissingParamError{Key: key, Municipality: l.muni, Date: l.on, What: what}
	if r, ok := l.set.RangeOf(key, l.muni, l.on); ok {
		e.Range = &r
	}
	return e
}

// dec returns the value of key in force on 1 January of the tax year.
func (l *lookup) dec(key, what string) (decimal.Decimal, error) {
	r, ok := l.y.vals[key]
	if !ok || r.text {
		return decimal.Decimal{}, l.missing(key, what)
	}
	return r.dec, nil
}

// indexed returns an amount in lei subject to the yearly indexation of art. 491:
// only an entry effective in the tax year itself applies, so last year's
// amount is never carried into a year whose indexed table is not configured.
func (l *lookup) indexed(key, what string) (decimal.Decimal, error) {
	r, ok := l.y.vals[key]
	if !ok || r.text || r.from.Year != l.year {
		return decimal.Decimal{}, l.missing(key, what)
	}
	return r.dec, nil
}

func (l *lookup) int(key, what string) (int, error) {
	v, err := l.dec(key, what)
	return int(v.IntPart()), err
}

func (l *lookup) text(key, what string) (string, error) {
	r, ok := l.y.vals[key]
	if !ok {
		return "", l.missing(key, what)
	}
	return r.str, nil
}

// pct turns a percentage into a fraction (exact: a decimal shift).
func pct(p decimal.Decimal) decimal.Decimal { return p.Shift(-2) }

// bani converts an amount already kept at 2 decimals (inputs are bounded by
// validation, so the coefficient fits in int64).
func bani(d decimal.Decimal) money.Bani { return money.Bani(d.Round(2).CoefficientInt64()) }

// finish rounds the sum of the lines to whole lei (RoundLei) and appends the
// rounding difference as a line when there is one.
func finish(lines []Line, total decimal.Decimal) (money.Bani, []Line) {
	return finishBani(lines, int64(bani(total)))
}

// finishBani is finish for a total already in bani.
func finishBani(lines []Line, total int64) (money.Bani, []Line) {
	rounded := roundLeiBani(total)
	if diff := rounded - total; diff != 0 {
		lines = append(lines, Line{roundingLabel, "HG 1/2016, norme, pct. 11", money.Bani(diff)})
	}
	return money.Bani(rounded), lines
}

// Annual computes the annual tax of one object for the municipality and year,
// with its budget code.
func (e *Engine) Annual(municipality string, year int, obj Object) (Assessment, error) {
	var errs InputErrors
	validateObject(&errs, year, obj)
	if err := errs.err(); err != nil {
		return Assessment{}, err
	}
	l, err := e.lookup(municipality, year)
	if err != nil {
		return Assessment{}, err
	}
	return e.annual(l, obj)
}

func (e *Engine) annual(l *lookup, obj Object) (Assessment, error) {
	owner := obj.OwnerKind
	if owner == "" {
		owner = OwnerIndividual
	}
	var (
		a   Assessment
		err error
	)
	a.TaxType = obj.Kind
	codeKey := budgetKeys[[2]string{obj.Kind, owner}]
	switch obj.Kind {
	case TaxVehicle:
		a.Annual, a.Lines, err = vehicleTax(l, obj.Vehicle())
	case TaxBuilding:
		a.Annual, a.Lines, err = buildingTax(l, obj.Building())
	case TaxLand:
		if obj.Location == "extravilan" {
			codeKey = "budget_code.land.extravilan"
		}
		a.Annual, a.Lines, err = landTax(l, obj.Land())
	}
	if err != nil {
		return Assessment{}, err
	}
	if a.BudgetCode, err = l.text(codeKey, "the budget classification code"); err != nil {
		return Assessment{}, err
	}
	return a, nil
}

// Quote computes the contract's tax quote: the annual tax, its instalments,
// the early-payment bonus and, when PaidOn is set, the settlement on that day.
// Errors: InputErrors for invalid fields, an error wrapping
// ErrUnknownMunicipality, or *MissingParamError naming the unconfigured rate.
func (e *Engine) Quote(in QuoteInput) (Result, error) {
	var errs InputErrors
	if in.Municipality == "" {
		errs.add("municipality", "is required")
	}
	if in.Year < 2000 || in.Year > 2100 {
		errs.add("year", "must be between 2000 and 2100")
	}
	if in.PaidOn != nil && !in.PaidOn.IsValid() {
		errs.add("paid_on", "must be a date YYYY-MM-DD")
	}
	validateObject(&errs, in.Year, in.Object)
	if err := errs.err(); err != nil {
		return Result{}, err
	}
	l, err := e.lookup(in.Municipality, in.Year)
	if err != nil {
		return Result{}, err
	}
	a, err := e.annual(l, in.Object)
	if err != nil {
		return Result{}, err
	}
	r := Result{Municipality: in.Municipality, Year: in.Year, TaxType: a.TaxType, BudgetCode: a.BudgetCode,
		AnnualTax: a.Annual, Lines: a.Lines}
	if r.Installments, err = e.installments(l, a.Annual); err != nil {
		return Result{}, err
	}
	if r.EarlyPaymentBonus, err = bonus(l, a.TaxType, a.Annual); err != nil {
		return Result{}, err
	}
	if in.PaidOn != nil {
		s, err := e.settlement(l, r.Installments, r.EarlyPaymentBonus, *in.PaidOn)
		if err != nil {
			return Result{}, err
		}
		r.Settlement = &s
	}
	return r, nil
}
