package fiscal

import (
	"context"
	"errors"
	"time"

	"fiscald/calc"
	"fiscald/internal/civil"
)

// TaxRules gives the tax engine in force for a municipality (embedded
// parameters with the administrators' overrides, legal holidays with the
// municipality's bridge days) and lets administrators edit both. Every change
// is one transaction with its audit entry and drops the cached engine.
type TaxRules interface {
	// TaxEngine returns the engine of the municipality; ENOTFOUND for an
	// unknown municipality id.
	TaxEngine(ctx context.Context, municipalityID int64) (*calc.Engine, error)
	// Parameters lists the effective entries of the actor's municipality
	// (national and its own; embedded and from the database), filtered by key
	// prefix and, when year > 0, to the entries in force on 1 January of the
	// year or starting during it.
	Parameters(ctx context.Context, f ParameterFilter) ([]ParameterEntry, error)
	// AddParameter enters a dated parameter for the actor's municipality (or
	// nationally). EINVALID for an unknown key, a value that is not a plain
	// decimal, a bad date, a municipality's value without its council
	// decision, or a value outside the law's range; ECONFLICT when the
	// database already holds an entry with the same key and effective date.
	AddParameter(ctx context.Context, in *ParameterInput) (*ParameterEntry, error)
	// EnterDecision enters every value a council decision adopted for the
	// actor's municipality in one transaction: all or none. EINVALID naming
	// values[i].<field> for any bad value (as AddParameter), or a key
	// given twice; ECONFLICT naming values[i].key when one already exists.
	EnterDecision(ctx context.Context, in *DecisionInput) (*DecisionResult, error)
	// ParameterCoverage lists, for the actor's municipality and a tax year,
	// every parameter the engine would need for each object kind, split into
	// configured and missing.
	ParameterCoverage(ctx context.Context, year int) (*ParameterCoverage, error)
	// CreateParameterDraft drafts next year's values of the actor's
	// municipality from a year's by art. 491 (calc.Engine.Draft). EINVALID
	// naming to_year, inflation_pct, eur_ron, decision.* or from_year (a year
	// with nothing to draft from).
	CreateParameterDraft(ctx context.Context, in *ParameterDraftInput) (*ParameterDraft, error)
	// ParameterDraft returns a draft of the actor's municipality; ENOTFOUND
	// otherwise.
	ParameterDraft(ctx context.Context, id int64) (*ParameterDraft, error)
	// ParameterDrafts lists the drafts of the actor's municipality, the
	// latest to_year first, without their lines.
	ParameterDrafts(ctx context.Context) ([]ParameterDraft, error)
	// CorrectDraftLine sets a line's to_value before adoption. ENOTFOUND for
	// an unknown draft or key; ECONFLICT once adopted; EINVALID naming
	// to_value for a value that is not a decimal or is outside the law's
	// range (indexed alike for amounts).
	CorrectDraftLine(ctx context.Context, id int64, key, toValue string) (*calc.DraftLine, error)
	// AdoptParameterDraft enters every line as the municipality's value from
	// 1 January of to_year under the draft's decision, in one transaction
	// with its audit entries. ECONFLICT when already adopted or when a value
	// for a key and that date exists.
	AdoptParameterDraft(ctx context.Context, id int64) (*ParameterDraft, error)
	// BridgeDays lists the actor's municipality's extra days off (year > 0 filters).
	BridgeDays(ctx context.Context, year int) ([]BridgeDay, error)
	// AddBridgeDay adds a day off; EINVALID for a day that is already not a
	// working day, ECONFLICT when it exists. It returns the municipality whose
	// calendar changed.
	AddBridgeDay(ctx context.Context, in *BridgeDay) (municipalityID int64, err error)
	// DeleteBridgeDay removes a day off; ENOTFOUND when there is none. It
	// returns the municipality whose calendar changed.
	DeleteBridgeDay(ctx context.Context, day civil.Date) (municipalityID int64, err error)
}

// ParameterFilter selects parameter entries.
type ParameterFilter struct {
	KeyPrefix string
	Year      int
}

// Parameter sources.
const (
	SourceEmbedded = "embedded" // calc/params/data, shipped with the binary
	SourceDatabase = "database" // entered by an administrator
)

// ParameterEntry is one dated parameter as the engine sees it.
type ParameterEntry struct {
	Key           string     `json:"key"`
	National      bool       `json:"national"`
	EffectiveFrom civil.Date `json:"effective_from"`
	Value         string     `json:"value"`
	LegalBasis    string     `json:"legal_basis"`
	Note          string     `json:"note"`
	// Source is "embedded" or "database".
	Source string `json:"source"`
	// ReplacesEmbedded is true for a database entry with the key and date of
	// an embedded one.
	ReplacesEmbedded bool       `json:"replaces_embedded,omitempty"`
	CreatedAt        *time.Time `json:"created_at,omitempty"`
	// Decision is the council decision that adopted a municipality's value.
	Decision *CouncilDecision `json:"decision,omitempty"`
}

// CouncilDecision is a local council decision (HCL): its number and date.
type CouncilDecision struct {
	Number string     `json:"number" validate:"required,max=60"`
	Date   civil.Date `json:"date" validate:"required"`
}

// DecisionInput is a council decision's values, entered in one go.
type DecisionInput struct {
	Decision      CouncilDecision `json:"decision" validate:"required"`
	EffectiveFrom civil.Date      `json:"effective_from" validate:"required"`
	Values        []DecisionValue `json:"values" validate:"required,min=1,max=1000,dive"`
}

// DecisionValue is one value of a council decision; LegalBasis defaults to
// the article that asks for the key.
type DecisionValue struct {
	Key        string `json:"key" validate:"required,max=120"`
	Value      string `json:"value" validate:"required,max=200"`
	LegalBasis string `json:"legal_basis" validate:"max=500"`
	Note       string `json:"note" validate:"max=1000"`
}

// DecisionResult is the answer of EnterDecision: the entries created.
type DecisionResult struct {
	Decision      CouncilDecision  `json:"decision"`
	EffectiveFrom civil.Date       `json:"effective_from"`
	Items         []ParameterEntry `json:"items"`
}

// ParameterDraftInput asks for next year's draft (contract: POST
// /api/v1/admin/parameter-drafts).
type ParameterDraftInput struct {
	FromYear     int             `json:"from_year" validate:"required,gte=2000,lte=2100"`
	ToYear       int             `json:"to_year" validate:"required,gte=2000,lte=2100"`
	InflationPct string          `json:"inflation_pct" validate:"required,max=20"`
	EurRon       string          `json:"eur_ron" validate:"max=20"`
	Decision     CouncilDecision `json:"decision" validate:"required"`
}

// Draft statuses.
const (
	DraftOpen    = "draft"
	DraftAdopted = "adopted"
)

// ParameterDraft is next year's values drafted from a year's, line by line.
type ParameterDraft struct {
	ID           int64            `json:"id"`
	FromYear     int              `json:"from_year"`
	ToYear       int              `json:"to_year"`
	InflationPct string           `json:"inflation_pct"`
	EurRon       string           `json:"eur_ron,omitempty"`
	Decision     CouncilDecision  `json:"decision"`
	Status       string           `json:"status"`
	CreatedAt    time.Time        `json:"created_at"`
	AdoptedAt    *time.Time       `json:"adopted_at,omitempty"`
	Lines        []calc.DraftLine `json:"lines"`
}

// DraftLineInput corrects a draft line.
type DraftLineInput struct {
	ToValue string `json:"to_value" validate:"required,max=200"`
}

// ParameterCoverage is what a municipality has configured for a tax year and
// what is missing, by the keys the engine reads (calc.Requirement).
type ParameterCoverage struct {
	Year       int                `json:"year"`
	Configured []calc.Requirement `json:"configured"`
	Missing    []calc.Requirement `json:"missing"`
}

// ParameterInput is an administrator's new parameter entry.
type ParameterInput struct {
	Key           string     `json:"key" validate:"required,max=120"`
	EffectiveFrom civil.Date `json:"effective_from" validate:"required"`
	Value         string     `json:"value" validate:"required,max=200"`
	// LegalBasis is required for a national value; a municipality's value
	// defaults to the article that asks for the key.
	LegalBasis string `json:"legal_basis" validate:"max=500"`
	Note       string `json:"note" validate:"max=1000"`
	// National enters the value for every municipality (municipality_id NULL).
	National bool `json:"national"`
	// Decision is the council decision that adopted a municipality's value
	// (required unless National).
	Decision *CouncilDecision `json:"decision,omitempty"`
}

// BridgeDay is an extra day off of a municipality (a Government bridge day).
type BridgeDay struct {
	Date   civil.Date `json:"date" validate:"required"`
	Reason string     `json:"reason" validate:"max=200"`
}

// FromCalc turns the tax engine's errors into domain errors: invalid fields
// are EINVALID naming each field; a missing parameter is EINVALID naming the
// input field that needs it (the engine's message says which rate); an
// unknown municipality is ENOTFOUND naming "municipality". Other errors pass
// through.
func FromCalc(err error, e *calc.Engine) error {
	var ie calc.InputErrors
	var me *calc.MissingParamError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		fields := make([]FieldError, len(ie))
		for i, f := range ie {
			fields[i] = FieldError{Field: f.Field, Message: f.Message}
		}
		return Invalid(fields...)
	case errors.As(err, &me):
		field := calc.MissingParamField(me, e.Params)
		return &Error{Code: EINVALID, Message: me.Error(), Fields: []FieldError{{Field: field, Message: me.Error()}}, Err: err}
	case errors.Is(err, calc.ErrUnknownMunicipality):
		return &Error{Code: ENOTFOUND, Message: "no tax parameters for this municipality",
			Fields: []FieldError{{Field: "municipality", Message: "unknown municipality"}}, Err: err}
	}
	return err
}
