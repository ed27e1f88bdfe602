package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"fiscald/calc"
	"fiscald/calc/params"
	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// Dated tax parameters (tax_parameters, admin): the entries the engine of
// the municipality uses, each with its source (Parameters), and one entry
// added (AddParameter), checked against the engine and the law's range
// (checkParameter) and written with its audit entry (insertParameter, also
// used by a council decision's entry and a draft's adoption). The engine
// built from them is taxrules.go's.

// paramRow is one row of tax_parameters.
type paramRow struct {
	ID             int64      `db:"id"`
	MunicipalityID *int64     `db:"municipality_id"`
	Key            string     `db:"param_key"`
	EffectiveFrom  civil.Date `db:"effective_from"`
	Value          string     `db:"value"`
	LegalBasis     string     `db:"legal_basis"`
	Note           string     `db:"note"`
	CreatedAt      time.Time  `db:"created_at"`
}

type paramID struct {
	key      string
	national bool
	from     civil.Date
}

// Parameters lists the entries the engine of the actor's municipality uses
// (admin only), each marked with its source.
func (db *DB) Parameters(ctx context.Context, f fiscal.ParameterFilter) ([]fiscal.ParameterEntry, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	e, err := db.TaxEngine(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	var rows []paramRow
	if err := db.db.SelectContext(ctx, &rows, db.db.Rebind(`SELECT id, municipality_id, param_key, effective_from, value, legal_basis, note, created_at
		FROM tax_parameters WHERE municipality_id IS NULL OR municipality_id = ?`), a.MunicipalityID); err != nil {
		return nil, translate(err, "tax parameters")
	}
	fromDB := make(map[paramID]paramRow, len(rows))
	for _, r := range rows {
		fromDB[paramID{r.Key, r.MunicipalityID == nil, r.EffectiveFrom}] = r
	}
	embedded := map[paramID]bool{}
	for _, d := range defaultEntries() {
		embedded[paramID{d.Key, d.Municipality == "", d.EffectiveFrom}] = true
	}
	var jan1 civil.Date
	if f.Year > 0 {
		jan1 = civil.New(f.Year, time.January, 1)
	}
	out := []fiscal.ParameterEntry{}
	for _, p := range e.Params.Entries() {
		if !strings.HasPrefix(p.Key, f.KeyPrefix) {
			continue
		}
		if f.Year > 0 && p.EffectiveFrom.Year != f.Year {
			// Outside the year, keep only the entry in force on 1 January.
			in, ok := e.Params.Lookup(p.Key, p.Municipality, jan1)
			if !ok || in.Municipality != p.Municipality || in.EffectiveFrom != p.EffectiveFrom {
				continue
			}
		}
		id := paramID{p.Key, p.Municipality == "", p.EffectiveFrom}
		pe := fiscal.ParameterEntry{Key: p.Key, National: p.Municipality == "", EffectiveFrom: p.EffectiveFrom, Value: p.Value,
			LegalBasis: p.LegalBasis, Note: p.Note, Source: fiscal.SourceEmbedded, Decision: toCouncilDecision(p.Decision)}
		if r, ok := fromDB[id]; ok {
			at := r.CreatedAt
			pe.Source, pe.ReplacesEmbedded, pe.CreatedAt = fiscal.SourceDatabase, embedded[id], &at
		}
		out = append(out, pe)
	}
	return out, nil
}

// AddParameter enters a dated parameter (admin only) in one transaction with
// its audit entry, then drops the cached engines it affects.
func (db *DB) AddParameter(ctx context.Context, in *fiscal.ParameterInput) (*fiscal.ParameterEntry, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	e, err := db.TaxEngine(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	slug, err := db.municipalitySlug(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	entry, err := checkParameter(e, slug, in, "")
	if err != nil {
		return nil, err
	}
	var out *fiscal.ParameterEntry
	err = db.InTx(ctx, func(tx *Tx) error {
		out, err = insertParameter(ctx, tx, a, entry, in.National, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	if in.National {
		db.invalidateAllTaxEngines()
	} else {
		db.InvalidateTaxEngine(a.MunicipalityID)
	}
	return out, nil
}

// checkParameter validates an administrator's entry against the engine e of
// the actor's municipality (slug muni): a key the engine reads, a plain decimal, a real
// date, a municipality's value with its council decision, a range bound only
// nationally, a value inside the law's range (calc.CheckRange). Field errors
// are named prefix+field ("values[2].value").
func checkParameter(e *calc.Engine, muni string, in *fiscal.ParameterInput, prefix string) (params.Entry, error) {
	in.Key, in.Value = strings.TrimSpace(in.Key), strings.TrimSpace(in.Value)
	if !calc.KnownParam(in.Key) {
		return params.Entry{}, fiscal.InvalidField(prefix+"key", "is not a parameter the tax engine reads (see GET /api/v1/admin/parameter-coverage for the names)")
	}
	entry := params.Entry{Key: in.Key, EffectiveFrom: in.EffectiveFrom, Value: in.Value, LegalBasis: strings.TrimSpace(in.LegalBasis), Note: in.Note}
	if !in.National {
		if in.Decision != nil {
			entry.Decision = &params.Decision{Number: strings.TrimSpace(in.Decision.Number), Date: in.Decision.Date}
		}
		if entry.LegalBasis == "" {
			entry.LegalBasis = calc.ParamBasis(entry.Key)
		}
	}
	value, field, msg := params.CheckEntry(entry)
	if field != "" {
		return params.Entry{}, fiscal.InvalidField(prefix+field, msg)
	}
	if !in.National && in.Decision == nil {
		return params.Entry{}, fiscal.InvalidField(prefix+"decision", "a municipality's value needs the council decision that adopted it: {\"number\", \"date\"}")
	}
	if _, isRange := calc.RangedKey(in.Key); isRange && !in.National {
		return params.Entry{}, fiscal.InvalidField(prefix+"national", "a range of the law is national: enter it with national true")
	}
	// A value the law bounds by a range must lie inside the range in force
	// on its effective date.
	if err := calc.CheckRange(e.Params, muni, entry.Key, entry.EffectiveFrom, value); err != nil {
		var ie calc.InputErrors
		if errors.As(err, &ie) {
			return params.Entry{}, fiscal.InvalidField(prefix+ie[0].Field, ie[0].Message)
		}
		return params.Entry{}, err
	}
	return entry, nil
}

// insertParameter writes one checked entry with its audit entry in tx;
// ECONFLICT naming prefix+"effective_from" when the key and date exist.
func insertParameter(ctx context.Context, tx *Tx, a *fiscal.Actor, entry params.Entry, national bool, prefix string) (*fiscal.ParameterEntry, error) {
	var muni *int64
	if !national {
		muni = &a.MunicipalityID
	}
	out := &fiscal.ParameterEntry{Key: entry.Key, National: national, EffectiveFrom: entry.EffectiveFrom, Value: entry.Value,
		LegalBasis: entry.LegalBasis, Note: entry.Note, Source: fiscal.SourceDatabase}
	var decNumber, decDate any
	if entry.Decision != nil {
		out.Decision = &fiscal.CouncilDecision{Number: entry.Decision.Number, Date: entry.Decision.Date}
		decNumber, decDate = entry.Decision.Number, entry.Decision.Date
	}
	for _, d := range defaultEntries() {
		if d.Key == entry.Key && d.EffectiveFrom == entry.EffectiveFrom && (d.Municipality == "") == national {
			out.ReplacesEmbedded = true
		}
	}
	var n int
	if err := tx.Get(ctx, &n, `SELECT COUNT(*) FROM tax_parameters WHERE COALESCE(municipality_id, 0) = ? AND param_key = ? AND effective_from = ?`,
		derefOr0(muni), entry.Key, entry.EffectiveFrom); err != nil {
		return nil, translate(err, "tax parameters")
	}
	if n > 0 {
		return nil, &fiscal.Error{Code: fiscal.ECONFLICT, Message: "an entry for " + entry.Key + " effective " + entry.EffectiveFrom.String() + " already exists; enter a new effective date",
			Fields: []fiscal.FieldError{{Field: prefix + "effective_from", Message: "an entry with this key and date exists"}}}
	}
	id, err := tx.Insert(ctx, `INSERT INTO tax_parameters (municipality_id, param_key, effective_from, value, legal_basis, note, created_at, created_by, decision_number, decision_date)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, muni, entry.Key, entry.EffectiveFrom, entry.Value, entry.LegalBasis, entry.Note, tx.Now, actorUser(a), decNumber, decDate)
	if err != nil {
		return nil, translate(err, "tax parameter "+entry.Key)
	}
	at := tx.Now
	out.CreatedAt = &at
	return out, tx.Audit(ctx, a.MunicipalityID, "tax_parameter.create", "tax_parameter", id, nil, out)
}

// actorUser is the user id recorded as created_by: NULL for the system
// actor of the command line.
func actorUser(a *fiscal.Actor) any {
	if a.UserID == 0 {
		return nil
	}
	return a.UserID
}

// toCouncilDecision converts the engine's decision to the domain's (nil stays nil).
func toCouncilDecision(d *params.Decision) *fiscal.CouncilDecision {
	if d == nil {
		return nil
	}
	return &fiscal.CouncilDecision{Number: d.Number, Date: d.Date}
}

func derefOr0(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
