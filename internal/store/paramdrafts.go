package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"fiscald/calc"
	"fiscald/calc/params"
	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// Next year's parameter drafts (parameter_drafts, admin): a draft made by
// calc.Engine.Draft's rules (CreateParameterDraft), listed
// (ParameterDrafts) and read with its lines (ParameterDraft), a line
// corrected before adoption (CorrectDraftLine), and the draft adopted as
// the municipality's values from 1 January of its year
// (AdoptParameterDraft).

// draftRow is one row of parameter_drafts.
type draftRow struct {
	ID             int64      `db:"id"`
	MunicipalityID int64      `db:"municipality_id"`
	FromYear       int        `db:"from_year"`
	ToYear         int        `db:"to_year"`
	InflationPct   string     `db:"inflation_pct"`
	EurRon         string     `db:"eur_ron"`
	DecisionNumber string     `db:"decision_number"`
	DecisionDate   civil.Date `db:"decision_date"`
	Status         string     `db:"status"`
	Version        int64      `db:"version"`
	CreatedAt      time.Time  `db:"created_at"`
	AdoptedAt      *time.Time `db:"adopted_at"`
}

// draftLineRow is one row of parameter_draft_lines.
type draftLineRow struct {
	Key        string `db:"param_key"`
	FromValue  string `db:"from_value"`
	ToValue    string `db:"to_value"`
	Rule       string `db:"rule"`
	LegalBasis string `db:"legal_basis"`
	Note       string `db:"note"`
	Corrected  bool   `db:"corrected"`
}

func (r *draftLineRow) line() calc.DraftLine {
	return calc.DraftLine{Key: r.Key, FromValue: r.FromValue, ToValue: r.ToValue, Rule: r.Rule, LegalBasis: r.LegalBasis, Note: r.Note}
}

func (r *draftRow) draft(lines []draftLineRow) *fiscal.ParameterDraft {
	d := &fiscal.ParameterDraft{ID: r.ID, FromYear: r.FromYear, ToYear: r.ToYear, InflationPct: r.InflationPct, EurRon: r.EurRon,
		Decision: fiscal.CouncilDecision{Number: r.DecisionNumber, Date: r.DecisionDate}, Status: r.Status, CreatedAt: r.CreatedAt,
		AdoptedAt: r.AdoptedAt, Lines: make([]calc.DraftLine, len(lines))}
	for i := range lines {
		d.Lines[i] = lines[i].line()
	}
	return d
}

// CreateParameterDraft drafts next year's values (admin only): the rules
// are calc.Engine.Draft's; the draft and its lines are written in one
// transaction with an audit entry.
func (db *DB) CreateParameterDraft(ctx context.Context, in *fiscal.ParameterDraftInput) (*fiscal.ParameterDraft, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var fields []fiscal.FieldError
	infl, err := decimal.NewFromString(strings.TrimSpace(in.InflationPct))
	if err != nil || strings.ContainsAny(in.InflationPct, "eE") {
		fields = append(fields, fiscal.FieldError{Field: "inflation_pct", Message: "must be a decimal percentage, e.g. \"5.6\""})
	}
	var eur *decimal.Decimal
	if s := strings.TrimSpace(in.EurRon); s != "" {
		v, err := decimal.NewFromString(s)
		if err != nil || strings.ContainsAny(s, "eE") {
			fields = append(fields, fiscal.FieldError{Field: "eur_ron", Message: "must be a decimal rate in lei per euro, e.g. \"5.0900\""})
		} else {
			eur = &v
		}
	}
	in.Decision.Number = strings.TrimSpace(in.Decision.Number)
	if in.Decision.Number == "" || len(in.Decision.Number) > 60 {
		fields = append(fields, fiscal.FieldError{Field: "decision.number", Message: "is required (at most 60 characters), e.g. \"123/2026\""})
	}
	if !in.Decision.Date.IsValid() {
		fields = append(fields, fiscal.FieldError{Field: "decision.date", Message: "must be a date YYYY-MM-DD"})
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
	lines, err := e.Draft(slug, calc.DraftInput{FromYear: in.FromYear, ToYear: in.ToYear, InflationPct: infl, EurRon: eur})
	if err != nil {
		return nil, fiscal.FromCalc(err, e)
	}
	out := &fiscal.ParameterDraft{FromYear: in.FromYear, ToYear: in.ToYear, InflationPct: infl.String(), Decision: in.Decision,
		Status: fiscal.DraftOpen, Lines: lines}
	if eur != nil {
		out.EurRon = eur.String()
	}
	err = db.InTx(ctx, func(tx *Tx) error {
		id, err := tx.Insert(ctx, `INSERT INTO parameter_drafts (municipality_id, from_year, to_year, inflation_pct, eur_ron, decision_number, decision_date, status, version, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`, a.MunicipalityID, in.FromYear, in.ToYear, out.InflationPct, out.EurRon,
			in.Decision.Number, in.Decision.Date, fiscal.DraftOpen, tx.Now, actorUser(a))
		if err != nil {
			return translate(err, "parameter draft")
		}
		for _, l := range lines {
			if _, err := tx.Exec(ctx, `INSERT INTO parameter_draft_lines (draft_id, param_key, from_value, to_value, rule, legal_basis, note, corrected)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, l.Key, l.FromValue, l.ToValue, l.Rule, l.LegalBasis, l.Note, false); err != nil {
				return translate(err, "parameter draft line "+l.Key)
			}
		}
		out.ID, out.CreatedAt = id, tx.Now
		return tx.Audit(ctx, a.MunicipalityID, "parameter_draft.create", "parameter_draft", id, nil,
			map[string]any{"from_year": in.FromYear, "to_year": in.ToYear, "inflation_pct": out.InflationPct, "eur_ron": out.EurRon,
				"decision": in.Decision, "lines": len(lines)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// loadDraft reads a draft of the municipality and its lines in tx.
func loadDraft(ctx context.Context, tx *Tx, municipalityID, id int64) (*draftRow, []draftLineRow, error) {
	var d draftRow
	if err := tx.Get(ctx, &d, `SELECT id, municipality_id, from_year, to_year, inflation_pct, eur_ron, decision_number, decision_date, status, version, created_at, adopted_at
		FROM parameter_drafts WHERE id = ? AND municipality_id = ?`, id, municipalityID); err != nil {
		return nil, nil, translate(err, "parameter draft")
	}
	var lines []draftLineRow
	if err := tx.Select(ctx, &lines, `SELECT param_key, from_value, to_value, rule, legal_basis, note, corrected
		FROM parameter_draft_lines WHERE draft_id = ? ORDER BY param_key`, id); err != nil {
		return nil, nil, translate(err, "parameter draft lines")
	}
	return &d, lines, nil
}

// ParameterDraft returns a draft of the actor's municipality (admin only).
func (db *DB) ParameterDraft(ctx context.Context, id int64) (*fiscal.ParameterDraft, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var out *fiscal.ParameterDraft
	err = db.InTx(ctx, func(tx *Tx) error {
		d, lines, err := loadDraft(ctx, tx, a.MunicipalityID, id)
		if err != nil {
			return err
		}
		out = d.draft(lines)
		return nil
	})
	return out, err
}

// CorrectDraftLine sets one line's to_value before adoption (admin only),
// checked against the law's range as calc.DraftRange gives it.
func (db *DB) CorrectDraftLine(ctx context.Context, id int64, key, toValue string) (*calc.DraftLine, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	toValue = strings.TrimSpace(toValue)
	if _, isRange := calc.RangedKey(key); isRange {
		return nil, fiscal.InvalidField("key", "a bound of the law's range follows the indexation of art. 491 and cannot be corrected")
	}
	v, field, msg := params.CheckEntry(params.Entry{Key: key, EffectiveFrom: civil.New(2000, time.January, 1), Value: toValue, LegalBasis: "-"})
	if field == "value" {
		return nil, fiscal.InvalidField("to_value", msg)
	}
	e, err := db.TaxEngine(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	slug, err := db.municipalitySlug(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	var out calc.DraftLine
	err = db.InTx(ctx, func(tx *Tx) error {
		d, lines, err := loadDraft(ctx, tx, a.MunicipalityID, id)
		if err != nil {
			return err
		}
		if d.Status != fiscal.DraftOpen {
			return fiscal.Errorf(fiscal.ECONFLICT, "the draft is %s: it can no longer change", d.Status)
		}
		var line *draftLineRow
		for i := range lines {
			if lines[i].Key == key {
				line = &lines[i]
			}
		}
		if line == nil {
			return &fiscal.Error{Code: fiscal.ENOTFOUND, Message: "the draft has no line " + key, Fields: []fiscal.FieldError{{Field: "key", Message: "no such line"}}}
		}
		infl, _ := decimal.NewFromString(d.InflationPct)
		if r, ok := calc.DraftRange(e.Params, slug, key, d.ToYear, infl); ok && !r.Contains(v) {
			return fiscal.InvalidField("to_value", v.String()+" is outside the range "+r.String()+" of "+r.LegalBasis+" for "+strconv.Itoa(d.ToYear))
		}
		before := line.line()
		note := line.Note
		if !line.Corrected {
			note = strings.TrimSpace(note + " (corrected by the administrator; drafted " + line.ToValue + ")")
		}
		res, err := tx.Exec(ctx, `UPDATE parameter_draft_lines SET to_value = ?, corrected = ?, note = ? WHERE draft_id = ? AND param_key = ?`, v.String(), true, note, id, key)
		if err != nil {
			return translate(err, "parameter draft line")
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fiscal.Errorf(fiscal.ECONFLICT, "the draft line changed meanwhile")
		}
		if _, err := tx.Exec(ctx, `UPDATE parameter_drafts SET version = version + 1 WHERE id = ? AND version = ?`, id, d.Version); err != nil {
			return translate(err, "parameter draft")
		}
		line.ToValue, line.Note, line.Corrected = v.String(), note, true
		out = line.line()
		return tx.Audit(ctx, a.MunicipalityID, "parameter_draft.correct", "parameter_draft", id, before, out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// AdoptParameterDraft enters every line of the draft as the municipality's
// value from 1 January of to_year under the draft's decision (admin only),
// in one transaction, all or none, and drops the cached engine.
func (db *DB) AdoptParameterDraft(ctx context.Context, id int64) (*fiscal.ParameterDraft, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var out *fiscal.ParameterDraft
	err = db.InTx(ctx, func(tx *Tx) error {
		d, lines, err := loadDraft(ctx, tx, a.MunicipalityID, id)
		if err != nil {
			return err
		}
		if d.Status != fiscal.DraftOpen {
			return fiscal.Errorf(fiscal.ECONFLICT, "the draft is already %s", d.Status)
		}
		res, err := tx.Exec(ctx, `UPDATE parameter_drafts SET status = ?, adopted_at = ?, version = version + 1 WHERE id = ? AND status = ? AND version = ?`,
			fiscal.DraftAdopted, tx.Now, id, fiscal.DraftOpen, d.Version)
		if err != nil {
			return translate(err, "parameter draft")
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &fiscal.Error{Code: fiscal.ECONFLICT, Message: "the draft changed meanwhile: reload it", Err: fiscal.ErrStale}
		}
		dec := &params.Decision{Number: d.DecisionNumber, Date: d.DecisionDate}
		from := civil.New(d.ToYear, time.January, 1)
		for _, l := range lines {
			entry := params.Entry{Key: l.Key, EffectiveFrom: from, Value: l.ToValue, LegalBasis: l.LegalBasis, Note: l.Note, Decision: dec}
			if _, field, msg := params.CheckEntry(entry); field != "" {
				return fiscal.InvalidField("lines."+l.Key+"."+field, msg)
			}
			if _, err := insertParameter(ctx, tx, a, entry, false, "lines."+l.Key+"."); err != nil {
				return err
			}
		}
		at := tx.Now
		d.Status, d.AdoptedAt = fiscal.DraftAdopted, &at
		out = d.draft(lines)
		return tx.Audit(ctx, a.MunicipalityID, "parameter_draft.adopt", "parameter_draft", id, nil,
			map[string]any{"to_year": d.ToYear, "decision": out.Decision, "lines": len(lines)})
	})
	if err != nil {
		return nil, err
	}
	db.InvalidateTaxEngine(a.MunicipalityID)
	return out, nil
}

// ParameterDrafts lists the drafts of the actor's municipality (admin only),
// the latest target year first, without their lines: the portal's list of
// next year's drafts. It reads in a read-only transaction.
func (db *DB) ParameterDrafts(ctx context.Context) ([]fiscal.ParameterDraft, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	var rows []draftRow
	err = db.readTx(ctx, func(tx *Tx) error {
		rows = rows[:0]
		return translate(tx.Select(ctx, &rows, `SELECT id, municipality_id, from_year, to_year, inflation_pct, eur_ron, decision_number, decision_date, status, version, created_at, adopted_at
			FROM parameter_drafts WHERE municipality_id = ? ORDER BY to_year DESC, id DESC`, a.MunicipalityID), "parameter drafts")
	})
	if err != nil {
		return nil, err
	}
	out := make([]fiscal.ParameterDraft, len(rows))
	for i := range rows {
		out[i] = *rows[i].draft(nil)
		out[i].Lines = nil
	}
	return out, nil
}
