package store

import (
	"context"
	"fmt"
	"strings"

	"fiscald/calc"
	"fiscald/calc/params"
	"fiscald/fiscal"
)

// A council decision's values entered at once, all or none (EnterDecision,
// admin), and the parameters the engine needs in a year, configured or
// missing (ParameterCoverage). Single entries are params.go's.

// EnterDecision enters every value a council decision adopted for the
// actor's municipality (admin only): each value is checked as AddParameter
// checks one, every invalid value is reported by its index, and the values
// are written in one transaction with their audit entries, all or none.
func (db *DB) EnterDecision(ctx context.Context, in *fiscal.DecisionInput) (*fiscal.DecisionResult, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	in.Decision.Number = strings.TrimSpace(in.Decision.Number)
	var fields []fiscal.FieldError
	if in.Decision.Number == "" || len(in.Decision.Number) > 60 {
		fields = append(fields, fiscal.FieldError{Field: "decision.number", Message: "is required (at most 60 characters), e.g. \"123/2026\""})
	}
	if !in.Decision.Date.IsValid() {
		fields = append(fields, fiscal.FieldError{Field: "decision.date", Message: "must be a date YYYY-MM-DD"})
	}
	if !in.EffectiveFrom.IsValid() {
		fields = append(fields, fiscal.FieldError{Field: "effective_from", Message: "must be a date YYYY-MM-DD"})
	}
	if len(in.Values) == 0 {
		fields = append(fields, fiscal.FieldError{Field: "values", Message: "at least one value is required"})
	}
	if len(fields) > 0 {
		return nil, fiscal.Invalid(fields...)
	}
	e, err := db.TaxEngine(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	slug, err := db.municipalitySlug(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	entries := make([]paramToInsert, 0, len(in.Values))
	seen := map[string]int{}
	for i, v := range in.Values {
		prefix := fmt.Sprintf("values[%d].", i)
		p := fiscal.ParameterInput{Key: v.Key, EffectiveFrom: in.EffectiveFrom, Value: v.Value, LegalBasis: v.LegalBasis, Note: v.Note, Decision: &in.Decision}
		entry, err := checkParameter(e, slug, &p, prefix)
		if err != nil {
			fe, ok := err.(*fiscal.Error)
			if !ok || fe.Code != fiscal.EINVALID {
				return nil, err
			}
			fields = append(fields, fe.Fields...)
			continue
		}
		if j, dup := seen[entry.Key]; dup {
			fields = append(fields, fiscal.FieldError{Field: prefix + "key", Message: fmt.Sprintf("is given twice (also values[%d])", j)})
			continue
		}
		seen[entry.Key] = i
		entries = append(entries, paramToInsert{entry: entry, prefix: prefix})
	}
	if len(fields) > 0 {
		return nil, fiscal.Invalid(fields...)
	}
	out := &fiscal.DecisionResult{Decision: in.Decision, EffectiveFrom: in.EffectiveFrom, Items: make([]fiscal.ParameterEntry, 0, len(entries))}
	err = db.InTx(ctx, func(tx *Tx) error {
		out.Items = out.Items[:0]
		for _, p := range entries {
			pe, err := insertParameter(ctx, tx, a, p.entry, false, p.prefix)
			if err != nil {
				return err
			}
			out.Items = append(out.Items, *pe)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	db.InvalidateTaxEngine(a.MunicipalityID)
	return out, nil
}

// ParameterCoverage lists every parameter the engine of the actor's
// municipality would need in the year (calc.Engine.Requirements), split into
// configured and missing (admin only).
func (db *DB) ParameterCoverage(ctx context.Context, year int) (*fiscal.ParameterCoverage, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	if year < 2000 || year > 2100 {
		return nil, fiscal.InvalidField("year", "must be a year from 2000 to 2100")
	}
	e, err := db.TaxEngine(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	slug, err := db.municipalitySlug(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	reqs, err := e.Requirements(slug, year)
	if err != nil {
		return nil, fiscal.FromCalc(err, e)
	}
	out := &fiscal.ParameterCoverage{Year: year, Configured: []calc.Requirement{}, Missing: []calc.Requirement{}}
	for _, r := range reqs {
		if r.Configured {
			out.Configured = append(out.Configured, r)
		} else {
			out.Missing = append(out.Missing, r)
		}
	}
	return out, nil
}

type paramToInsert struct {
	entry  params.Entry
	prefix string
}
