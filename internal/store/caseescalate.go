package store

import (
	"context"
	"fmt"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// SweepEscalations runs the escalations of the published types: for each
// definition with escalations and each rule, one transaction claims, in one
// statement, the open cases waiting at the rule's step since its cutoff or
// before (case_escalations; ON CONFLICT DO NOTHING makes each escalation
// happen once across instances), and acts on the claimed rows in a few
// set-based statements: a timeline line each, one notice to each assignee
// naming how many of their cases (notify, warn), the step given to the first active user of to_role
// (reassign), and one audit entry for the rule's batch. A deemed decision
// (deem, types flagged authorization) is then taken on each claimed case
// as a decision of the system (Act with the system actor), never a person's.
func (db *DB) SweepEscalations(ctx context.Context, now time.Time) (*fiscal.EscalationReport, error) {
	var defs []struct {
		MunicipalityID int64 `db:"municipality_id"`
		defRow
	}
	if err := db.selectx(ctx, &defs, `SELECT municipality_id, type, version, body, published_at FROM case_definitions ORDER BY municipality_id, type, version`); err != nil {
		return nil, translate(err, "case definitions")
	}
	// Only the versions some open case runs on (read from the cases_route index).
	var live []struct {
		MunicipalityID int64  `db:"municipality_id"`
		Type           string `db:"type"`
		Version        int64  `db:"definition_version"`
	}
	if err := db.selectx(ctx, &live, `SELECT DISTINCT municipality_id, type, definition_version FROM cases WHERE definition_version IS NOT NULL AND status IN ('submitted', 'reviewed')`); err != nil {
		return nil, translate(err, "cases")
	}
	open := make(map[string]bool, len(live))
	for _, l := range live {
		open[defKey(l.MunicipalityID, l.Type, l.Version)] = true
	}
	rep := &fiscal.EscalationReport{}
	today := fiscal.LocalDate(now)
	var batch []sweepItem
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := db.sweepBatch(ctx, batch, rep)
		batch = batch[:0]
		return err
	}
	for i := range defs {
		if !open[defKey(defs[i].MunicipalityID, defs[i].Type, defs[i].Version)] {
			continue
		}
		p, err := db.parseDef(defs[i].MunicipalityID, &defs[i].defRow)
		if err != nil {
			return nil, err
		}
		if len(p.def.Escalations) == 0 {
			continue
		}
		cal, err := db.calendar(ctx, defs[i].MunicipalityID)
		if err != nil {
			return nil, err
		}
		if len(batch) > 0 && (batch[0].municipalityID != defs[i].MunicipalityID || len(batch) >= sweepBatchDefs) {
			if err := flush(); err != nil {
				return rep, err
			}
		}
		batch = append(batch, sweepItem{defs[i].MunicipalityID, p, p.def.EscalationRules(cal, today)})
	}
	return rep, flush()
}

// sweepBatchDefs is how many definitions of a municipality one sweep
// transaction covers: fewer commits (each costs a WAL flush on PostgreSQL)
// against a shorter hold of the municipality's writer.
const sweepBatchDefs = 25

type sweepItem struct {
	municipalityID int64
	p              *publishedDef
	rules          []fiscal.EscalationRule
}

// sweepBatch runs the due rules of a few definitions of one municipality in
// one transaction (the deemed decisions after it, each in its own).
func (db *DB) sweepBatch(ctx context.Context, batch []sweepItem, rep *fiscal.EscalationReport) error {
	municipalityID := batch[0].municipalityID
	sys := fiscal.WithActor(ctx, &fiscal.Actor{System: true, Username: "system", MunicipalityID: municipalityID})
	claims := make([][][]int64, len(batch))
	err := db.InTx(sys, func(tx *Tx) error {
		for k, it := range batch {
			claims[k] = make([][]int64, len(it.rules))
			for i, rule := range it.rules {
				var err error
				if claims[k][i], err = tx.escalate(sys, municipalityID, it.p, rule); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for k, it := range batch {
		for i, rule := range it.rules {
			if err := db.escalated(sys, rule, claims[k][i], rep); err != nil {
				return err
			}
		}
	}
	return nil
}

// escalate claims the cases a rule is due for and does its set-based part.
func (tx *Tx) escalate(sys context.Context, municipalityID int64, p *publishedDef, rule fiscal.EscalationRule) ([]int64, error) {
	run := provisionalNumber()[1:]
	first := p.def.Steps[0].Name
	var claimed []int64
	err := func() error {
		if err := tx.Select(sys, &claimed, `INSERT INTO case_escalations (municipality_id, case_id, step, since, escalation, action, run, at)
			SELECT c.municipality_id, c.id, ?, COALESCE(c.route_step_since, c.submitted_on), ?, ?, ?, ?
			FROM cases c WHERE c.municipality_id = ? AND c.type = ? AND c.definition_version = ? AND c.status IN ('submitted', 'reviewed')
			AND COALESCE(c.route_step, ?) = ? AND COALESCE(c.route_step_since, c.submitted_on) <= ?
			ON CONFLICT DO NOTHING RETURNING case_id`,
			rule.Step, rule.Index, rule.Action, run, tx.Now, municipalityID, p.def.Type, p.version, first, rule.Top, rule.Cutoff); err != nil {
			return translate(err, "case escalations")
		}
		if len(claimed) == 0 {
			return nil
		}
		body := fmt.Sprintf("the step %s is open for %d working days: %s", rule.Step, rule.Esc.AfterWorkingDays, rule.Action)
		if rule.Action == "warn" {
			body = fmt.Sprintf("the step %s will be deemed %s in %d working days (OUG 27/2003)", rule.Step, rule.Esc.Decision, rule.Esc.WarnWorkingDays)
		}
		if rule.Action != "notify" {
			// A notice changes nothing in the case: its case_escalations row
			// is its record (shown to staff in the timeline, escalationEvents).
			if _, err := tx.Exec(sys, `INSERT INTO case_events (`+eventInsertCols+`)
				SELECT e.municipality_id, e.case_id, ?, NULL, 'system', 'escalation', ?, ? FROM case_escalations e WHERE e.run = ?`,
				tx.Now, body, rule.Action == "warn", run); err != nil {
				return translate(err, "case events")
			}
		}
		switch rule.Action {
		case "notify", "warn":
			// One notice per officer and rule, not one per case: a sweep
			// over thousands of cases sends each person one message.
			subject := "Termen depășit: " + p.def.Title
			if rule.Action == "warn" {
				subject = "Aprobare tacită iminentă: " + p.def.Title
			}
			if _, err := tx.Exec(sys, `INSERT INTO notifications (municipality_id, case_id, user_id, recipient, subject, body, created_at)
				SELECT MIN(c.municipality_id), MIN(c.id), u.id, MIN(u.email), ?, ? || ' (' || CAST(COUNT(*) AS TEXT) || ')', ? FROM case_escalations e JOIN cases c ON c.id = e.case_id
				JOIN users u ON u.id = c.assignee_id WHERE e.run = ? GROUP BY u.id`, subject, "Cererile tale: "+body, tx.Now, run); err != nil {
				return translate(err, "notifications")
			}
		case "reassign":
			if _, err := tx.Exec(sys, `UPDATE cases SET assignee_id = (SELECT MIN(u.id) FROM users u WHERE u.municipality_id = ? AND u.role = ? AND u.disabled = ?),
				updated_at = ?, version = version + 1 WHERE id IN (SELECT e.case_id FROM case_escalations e WHERE e.run = ?)`,
				municipalityID, string(rule.Esc.ToRole), false, tx.Now, run); err != nil {
				return translate(err, "cases")
			}
		}
		return tx.Audit(sys, municipalityID, "case.escalate", "case_definition", p.def.Type, nil, map[string]any{"type": p.def.Type,
			"version": p.version, "step": rule.Step, "action": rule.Action, "escalation": rule.Index, "cases": len(claimed), "run": run})
	}()
	return claimed, err
}

// escalated counts a rule's claimed cases and takes its deemed decisions.
func (db *DB) escalated(sys context.Context, rule fiscal.EscalationRule, claimed []int64, rep *fiscal.EscalationReport) error {
	switch rule.Action {
	case "notify":
		rep.Notified += len(claimed)
	case "warn":
		rep.Warned += len(claimed)
	case "reassign":
		rep.Reassigned += len(claimed)
	case "deem":
		for _, id := range claimed {
			_, err := db.Act(sys, id, &fiscal.ActInput{Step: rule.Step, Decision: rule.Esc.Decision,
				Comment: "deemed " + rule.Esc.Decision + ": no decision within the legal term (OUG 27/2003)"})
			switch fiscal.ErrorCode(err) {
			case "":
				rep.Deemed++
			case fiscal.ECONFLICT, fiscal.EFORBIDDEN, fiscal.EINVALID:
				// Decided, paused or moved on meanwhile: nothing to deem.
			default:
				return err
			}
		}
	}
	return nil
}

// routeMoved records the top-level step a case now waits at and the day it
// opened (for the escalation sweep).
func (tx *Tx) routeMoved(ctx context.Context, c *caseRow, step string, since civil.Date) error {
	_, err := tx.Exec(ctx, `UPDATE cases SET route_step = ?, route_step_since = ? WHERE id = ?`, step, since, c.ID)
	return translate(err, "case")
}

// escalationEvents are a case's notices of open steps as timeline lines
// (staff only).
func (tx *Tx) escalationEvents(ctx context.Context, caseID int64) ([]*fiscal.CaseEvent, error) {
	var rows []struct {
		At     time.Time `db:"at"`
		Step   string    `db:"step"`
		Action string    `db:"action"`
	}
	if err := tx.Select(ctx, &rows, `SELECT at, step, action FROM case_escalations WHERE case_id = ? AND action = 'notify'`, caseID); err != nil {
		return nil, translate(err, "case escalations")
	}
	out := make([]*fiscal.CaseEvent, len(rows))
	for i, r := range rows {
		out[i] = &fiscal.CaseEvent{At: r.At, Actor: "system", Kind: "escalation", Body: "the step " + r.Step + " is late: notice to its officer"}
	}
	return out, nil
}
