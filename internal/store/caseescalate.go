package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// Escalations of the published request types (SweepEscalations, in serve's
// SLA ticker and fiscald sla): claimed once per case and rule across
// instances (case_escalations), acted on in set-based statements (notify,
// warn, reassign), and deemed decisions taken as the system's acts, retried
// when their process died before acting (retryDeemed). routeMoved records a
// case's move along its route (cases.route_step, route_step_seq).

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
//
// A rule naming a branch of a parallel group ("opinions.police") claims only
// the cases where that branch is still open: the group is the step the case
// waits at and no act on the branch was signed since the group opened
// (cases.route_step_seq), as fiscal.CaseDefinition.Open says.
//
// A deemed decision is claimed not done (case_escalations.done_at NULL) and
// done in the transaction of its act (deemedDone), so a claim whose process
// died before the act (or whose act failed on a lost connection) stays
// pending: every sweep ends by taking the pending claims older than
// deemRetryAfter (retryDeemed), on whichever instance runs it; the claim's
// row is the lock, so two instances never both decide.
func (db *DB) SweepEscalations(ctx context.Context, now time.Time) (*fiscal.EscalationReport, error) {
	var defs []struct {
		MunicipalityID int64 `db:"municipality_id"`
		defRow
	}
	// Only the published versions some open case runs on (an index probe of
	// cases_route per version; the shipped definitions have no escalations).
	if err := db.selectx(ctx, &defs, `SELECT municipality_id, type, version, body, published_at FROM case_definitions d
		WHERE EXISTS (SELECT 1 FROM cases c WHERE c.municipality_id = d.municipality_id AND c.type = d.type AND c.definition_version = d.version
			AND c.status IN ('submitted', 'reviewed'))
		ORDER BY municipality_id, type, version`); err != nil {
		return nil, translate(err, "case definitions")
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
	if err := flush(); err != nil {
		return rep, err
	}
	return rep, db.retryDeemed(ctx, now, rep)
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
	claims := make([][][]escalationClaim, len(batch))
	deems := false
	err := db.InTx(sys, func(tx *Tx) error {
		for k, it := range batch {
			claims[k] = make([][]escalationClaim, len(it.rules))
			for i, rule := range it.rules {
				var err error
				if claims[k][i], err = tx.escalate(sys, municipalityID, it.p, rule); err != nil {
					return err
				}
				deems = deems || rule.Action == "deem" && len(claims[k][i]) > 0
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if deems {
		db.faultAt(FaultEscalationDeem)
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

// escalationClaim is a case_escalations row claimed by a sweep: its key.
type escalationClaim struct {
	CaseID int64      `db:"case_id"`
	Since  civil.Date `db:"since"`
}

// escalate claims the cases a rule is due for and does its set-based part.
// A rule on a branch claims only the cases where the branch is open: no act
// on it since the group opened (route_step_seq, the seq of the step that
// opened it). A deemed decision's claim is not done until its act.
func (tx *Tx) escalate(sys context.Context, municipalityID int64, p *publishedDef, rule fiscal.EscalationRule) ([]escalationClaim, error) {
	run := provisionalNumber()[1:]
	first := p.def.Steps[0].Name
	var claimed []escalationClaim
	err := func() error {
		var done *time.Time
		if rule.Action != "deem" {
			done = &tx.Now
		}
		branch, args := "", []any{rule.Step, rule.Index, rule.Action, run, tx.Now, done, municipalityID, p.def.Type, p.version, first, rule.Top, rule.Cutoff}
		if rule.OnBranch() {
			branch = ` AND NOT EXISTS (SELECT 1 FROM case_steps s WHERE s.case_id = c.id AND s.seq > COALESCE(c.route_step_seq, 0) AND s.action = ? AND s.step = ?)`
			args = append(args, fiscal.ActionAct, rule.Step)
		}
		if err := tx.Select(sys, &claimed, `INSERT INTO case_escalations (municipality_id, case_id, step, since, escalation, action, run, at, done_at)
			SELECT c.municipality_id, c.id, ?, COALESCE(c.route_step_since, c.submitted_on), ?, ?, ?, ?, ?
			FROM cases c WHERE c.municipality_id = ? AND c.type = ? AND c.definition_version = ? AND c.status IN ('submitted', 'reviewed')
			AND COALESCE(c.route_step, ?) = ? AND COALESCE(c.route_step_since, c.submitted_on) <= ?`+branch+`
			ON CONFLICT DO NOTHING RETURNING case_id, since`, args...); err != nil {
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
			// is its record (shown to staff in the timeline: detail).
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
				JOIN users u ON u.id = c.assignee_id WHERE e.run = ? AND u.email <> '' GROUP BY u.id`, subject, "Cererile tale: "+body, tx.Now, run); err != nil {
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
func (db *DB) escalated(sys context.Context, rule fiscal.EscalationRule, claimed []escalationClaim, rep *fiscal.EscalationReport) error {
	switch rule.Action {
	case "notify":
		rep.Notified += len(claimed)
	case "warn":
		rep.Warned += len(claimed)
	case "reassign":
		rep.Reassigned += len(claimed)
	case "deem":
		for _, cl := range claimed {
			took, err := db.deem(sys, &deemClaim{caseID: cl.CaseID, step: rule.Step, since: cl.Since, escalation: rule.Index}, rule.Esc.Decision)
			if err != nil {
				return err
			}
			if took {
				rep.Deemed++
			}
		}
	}
	return nil
}

// deemClaim is the key of a deemed decision's claim (case_escalations),
// carried to Act in the context of the system's act (deemedDone).
type deemClaim struct {
	caseID     int64
	step       string
	since      civil.Date
	escalation int
}

type deemClaimKey struct{}

// deem takes a claimed deemed decision as the system's act and reports
// whether this call took it. When the case was decided, paused or moved on
// meanwhile, or another instance took the decision, the act is refused and
// the claim is closed without one; when the case was changed at the same
// moment (a concurrent act: fiscal.ErrStale) the claim stays pending for
// the next sweep.
func (db *DB) deem(sys context.Context, cl *deemClaim, decision string) (bool, error) {
	_, err := db.Act(context.WithValue(sys, deemClaimKey{}, cl), cl.caseID, &fiscal.ActInput{Step: cl.step, Decision: decision,
		Comment: "deemed " + decision + ": no decision within the legal term (OUG 27/2003)"})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fiscal.ErrStale):
		return false, nil
	}
	switch fiscal.ErrorCode(err) {
	case fiscal.ECONFLICT, fiscal.EFORBIDDEN, fiscal.EINVALID, fiscal.ENOTFOUND:
		return false, db.closeDeemClaim(sys, cl)
	}
	return false, err
}

// closeDeemClaim marks a deemed decision's claim done without an act
// (nothing to deem; a no-op when another instance's act did it).
func (db *DB) closeDeemClaim(sys context.Context, cl *deemClaim) error {
	return db.InTx(sys, func(tx *Tx) error {
		_, err := tx.Exec(sys, `UPDATE case_escalations SET done_at = ? WHERE case_id = ? AND step = ? AND since = ? AND escalation = ? AND done_at IS NULL`,
			tx.Now, cl.caseID, cl.step, cl.since, cl.escalation)
		return translate(err, "case escalations")
	})
}

// deemedDone is Act's part in a deemed decision: called once the act is
// accepted and before anything is written, it marks the claim carried by
// the context done in the act's transaction (no claim: any other act,
// nothing to do). The claim must still be pending and the case still at the
// opening of the step it was claimed for (the same day opened); else the
// act is refused (ECONFLICT) and rolls back: another instance took the
// decision (on PostgreSQL its UPDATE holds the row until it commits, then
// this one matches nothing), or the case moved on and came back.
func (tx *Tx) deemedDone(ctx context.Context, caseID int64) error {
	cl, _ := ctx.Value(deemClaimKey{}).(*deemClaim)
	if cl == nil {
		return nil
	}
	if cl.caseID != caseID {
		return fiscal.Errorf(fiscal.EINTERNAL, "a deemed decision's claim on case %d carried to case %d", cl.caseID, caseID)
	}
	res, err := tx.Exec(ctx, `UPDATE case_escalations SET done_at = ? WHERE case_id = ? AND step = ? AND since = ? AND escalation = ? AND done_at IS NULL
		AND EXISTS (SELECT 1 FROM cases c WHERE c.id = case_escalations.case_id AND COALESCE(c.route_step_since, c.submitted_on) = case_escalations.since)`,
		tx.Now, cl.caseID, cl.step, cl.since, cl.escalation)
	if err != nil {
		return translate(err, "case escalations")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fiscal.Errorf(fiscal.ECONFLICT, "the deemed decision on the step %s was taken by another sweep or is no longer due", cl.step)
	}
	return nil
}

// deemRetryAfter is how old a pending claim of a deemed decision must be
// for a sweep to take it over: younger, it belongs to a sweep running now
// (on this instance or another) that is taking its acts. Only an
// optimisation: deemedDone keeps the decision single either way.
const deemRetryAfter = time.Minute

// retryDeemed takes the deemed decisions claimed and not done by an earlier
// sweep (its process died, or its act failed), each as the rule of the
// case's definition says; a claim whose rule the case no longer runs on is
// closed.
func (db *DB) retryDeemed(ctx context.Context, now time.Time, rep *fiscal.EscalationReport) error {
	var pending []struct {
		MunicipalityID int64      `db:"municipality_id"`
		CaseID         int64      `db:"case_id"`
		Step           string     `db:"step"`
		Since          civil.Date `db:"since"`
		Escalation     int        `db:"escalation"`
		Type           string     `db:"type"`
		Version        *int64     `db:"definition_version"`
	}
	if err := db.selectx(ctx, &pending, `SELECT e.municipality_id, e.case_id, e.step, e.since, e.escalation, c.type, c.definition_version
		FROM case_escalations e JOIN cases c ON c.id = e.case_id WHERE e.done_at IS NULL AND e.at <= ? ORDER BY e.at, e.case_id`,
		now.UTC().Add(-deemRetryAfter)); err != nil {
		return translate(err, "case escalations")
	}
	for _, p := range pending {
		sys := fiscal.WithActor(ctx, &fiscal.Actor{System: true, Username: "system", MunicipalityID: p.MunicipalityID})
		cl := &deemClaim{caseID: p.CaseID, step: p.Step, since: p.Since, escalation: p.Escalation}
		decision := ""
		if p.Version != nil {
			d, err := db.definitionAt(sys, p.MunicipalityID, p.Type, *p.Version)
			if err != nil {
				return err
			}
			if i := p.Escalation; i >= 0 && i < len(d.def.Escalations) && d.def.Escalations[i].Action == "deem" && d.def.Escalations[i].Step == p.Step {
				decision = d.def.Escalations[i].Decision
			}
		}
		if decision == "" {
			if err := db.closeDeemClaim(sys, cl); err != nil {
				return err
			}
			continue
		}
		took, err := db.deem(sys, cl, decision)
		if err != nil {
			return err
		}
		if took {
			rep.Deemed++
		}
	}
	return nil
}

// routeMoved records the top-level step a case now waits at, the day it
// opened and the seq of the signed step that opened it (for the escalation
// sweep: an act on a branch with a larger seq was taken in this opening of
// the group). It is called before that step is written (Act, MigrateCases):
// the step takes the next seq of the case.
func (tx *Tx) routeMoved(ctx context.Context, c *caseRow, step string, since civil.Date) error {
	_, err := tx.Exec(ctx, `UPDATE cases SET route_step = ?, route_step_since = ?,
		route_step_seq = (SELECT COALESCE(MAX(s.seq), 0) + 1 FROM case_steps s WHERE s.case_id = ?) WHERE id = ?`, step, since, c.ID, c.ID)
	return translate(err, "case")
}
