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
// set-based statements: a timeline line each, a notice to the assignee
// (notify, warn), the step given to the first active user of to_role
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
	rep := &fiscal.EscalationReport{}
	today := fiscal.LocalDate(now)
	for i := range defs {
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
		for _, rule := range p.def.EscalationRules(cal, today) {
			if err := db.sweepRule(ctx, defs[i].MunicipalityID, p, rule, rep); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

func (db *DB) sweepRule(ctx context.Context, municipalityID int64, p *publishedDef, rule fiscal.EscalationRule, rep *fiscal.EscalationReport) error {
	sys := fiscal.WithActor(ctx, &fiscal.Actor{System: true, Username: "system", MunicipalityID: municipalityID})
	run := provisionalNumber()[1:]
	first := p.def.Steps[0].Name
	var claimed []int64
	err := db.InTx(sys, func(tx *Tx) error {
		claimed = nil
		if err := tx.Select(sys, &claimed, `INSERT INTO case_escalations (municipality_id, case_id, step, since, escalation, action, run, at)
			SELECT c.municipality_id, c.id, ?, COALESCE(c.route_step_since, c.submitted_on), ?, ?, ?, ?
			FROM cases c WHERE c.municipality_id = ? AND c.type = ? AND c.definition_version = ? AND c.status = 'submitted'
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
		if _, err := tx.Exec(sys, `INSERT INTO case_events (`+eventInsertCols+`)
			SELECT e.municipality_id, e.case_id, ?, NULL, 'system', 'escalation', ?, ? FROM case_escalations e WHERE e.run = ?`,
			tx.Now, body, rule.Action == "warn", run); err != nil {
			return translate(err, "case events")
		}
		switch rule.Action {
		case "notify", "warn":
			subject := "Termen depășit: " + p.def.Title
			if _, err := tx.Exec(sys, `INSERT INTO notifications (municipality_id, case_id, user_id, recipient, subject, body, created_at)
				SELECT c.municipality_id, c.id, u.id, u.email, ?, ?, ? FROM case_escalations e JOIN cases c ON c.id = e.case_id
				JOIN users u ON u.id = c.assignee_id WHERE e.run = ?`, subject, "Cererea "+body, tx.Now, run); err != nil {
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
	})
	if err != nil {
		return err
	}
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
