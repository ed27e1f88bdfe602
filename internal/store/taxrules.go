package store

import (
	"context"
	"sync"
	"time"

	"fiscald/calc"
	"fiscald/calc/calendar"
	"fiscald/calc/params"
	"fiscald/internal/civil"
)

// The tax engine of a municipality (fiscal.TaxRules): the embedded
// parameters with the administrators' entries and the bridge days, built
// once and kept per process for a minute (TaxEngine; InvalidateTaxEngine
// after a change), and with its slug (engineFor).

// engineTTL bounds how long one process keeps a municipality's engine, so
// that parameters or bridge days entered through another process are seen
// within a minute; changes through this process invalidate at once.
const engineTTL = time.Minute

type engineCache struct {
	mu      sync.Mutex
	engines map[int64]cachedEngine
}

type cachedEngine struct {
	engine *calc.Engine
	at     time.Time
}

var defaultEntries = sync.OnceValue(params.Defaults)

// TaxEngine returns the tax engine in force for a municipality: the embedded
// parameters (calc/params/data) with the administrators' entries from
// tax_parameters on top (an entry with the same municipality, key and
// effective date replaces the embedded one), and the legal holidays with the
// municipality's bridge days from calendar_days.
func (db *DB) TaxEngine(ctx context.Context, municipalityID int64) (*calc.Engine, error) {
	now := time.Now()
	db.engines.mu.Lock()
	c, ok := db.engines.engines[municipalityID]
	db.engines.mu.Unlock()
	if ok && now.Sub(c.at) < engineTTL {
		return c.engine, nil
	}
	e, err := db.loadEngine(ctx, municipalityID)
	if err != nil {
		return nil, err
	}
	db.engines.mu.Lock()
	if db.engines.engines == nil {
		db.engines.engines = map[int64]cachedEngine{}
	}
	db.engines.engines[municipalityID] = cachedEngine{engine: e, at: now}
	db.engines.mu.Unlock()
	return e, nil
}

// InvalidateTaxEngine drops the cached engine of a municipality (after a
// parameter or calendar change).
func (db *DB) InvalidateTaxEngine(municipalityID int64) {
	db.engines.mu.Lock()
	delete(db.engines.engines, municipalityID)
	db.engines.mu.Unlock()
}

// invalidateAllTaxEngines drops every cached engine (after a national parameter change).
func (db *DB) invalidateAllTaxEngines() {
	db.engines.mu.Lock()
	clear(db.engines.engines)
	db.engines.mu.Unlock()
}

func (db *DB) loadEngine(ctx context.Context, municipalityID int64) (*calc.Engine, error) {
	var slug string
	if err := db.db.GetContext(ctx, &slug, db.db.Rebind(`SELECT slug FROM municipalities WHERE id = ?`), municipalityID); err != nil {
		return nil, translate(err, "municipality")
	}
	var rows []struct {
		MunicipalityID *int64      `db:"municipality_id"`
		Key            string      `db:"param_key"`
		EffectiveFrom  civil.Date  `db:"effective_from"`
		Value          string      `db:"value"`
		LegalBasis     string      `db:"legal_basis"`
		Note           string      `db:"note"`
		DecisionNo     *string     `db:"decision_number"`
		DecisionDate   *civil.Date `db:"decision_date"`
	}
	err := db.db.SelectContext(ctx, &rows, db.db.Rebind(`SELECT municipality_id, param_key, effective_from, value, legal_basis, note, decision_number, decision_date
		FROM tax_parameters WHERE municipality_id IS NULL OR municipality_id = ? ORDER BY id`), municipalityID)
	if err != nil {
		return nil, translate(err, "tax parameters")
	}
	type id struct {
		key, muni string
		from      civil.Date
	}
	override := map[id]params.Entry{}
	var order []id
	for _, r := range rows {
		e := params.Entry{Key: r.Key, EffectiveFrom: r.EffectiveFrom, Value: r.Value, LegalBasis: r.LegalBasis, Note: r.Note}
		if r.DecisionNo != nil && r.DecisionDate != nil {
			e.Decision = &params.Decision{Number: *r.DecisionNo, Date: *r.DecisionDate}
		}
		if r.MunicipalityID != nil {
			e.Municipality = slug
		}
		k := id{e.Key, e.Municipality, e.EffectiveFrom}
		if _, seen := override[k]; !seen {
			order = append(order, k)
		}
		override[k] = e
	}
	var entries []params.Entry
	for _, e := range defaultEntries() {
		// Another municipality's embedded entries do not concern this one.
		if e.Municipality != "" && e.Municipality != slug {
			continue
		}
		k := id{e.Key, e.Municipality, e.EffectiveFrom}
		if o, ok := override[k]; ok {
			e = o
			delete(override, k)
		}
		entries = append(entries, e)
	}
	for _, k := range order {
		if e, ok := override[k]; ok {
			entries = append(entries, e)
		}
	}
	set, err := params.NewSet(entries)
	if err != nil {
		return nil, translate(err, "tax parameters")
	}
	var days []calendar.DayOff
	err = db.db.SelectContext(ctx, &days, db.db.Rebind(`SELECT day AS date, reason FROM calendar_days WHERE municipality_id = ? ORDER BY day`), municipalityID)
	if err != nil {
		return nil, translate(err, "calendar")
	}
	cal, err := calendar.New(days)
	if err != nil {
		return nil, translate(err, "calendar")
	}
	return &calc.Engine{Params: set, Calendar: cal}, nil
}

// engineFor returns a municipality's engine and slug.
func (db *DB) engineFor(ctx context.Context, muni int64) (*calc.Engine, string, error) {
	e, err := db.TaxEngine(ctx, muni)
	if err != nil {
		return nil, "", err
	}
	slug, err := db.municipalitySlug(ctx, muni)
	return e, slug, err
}
