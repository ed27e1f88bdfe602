package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"fiscald/calc/calendar"
	"fiscald/fiscal"
)

// Taking a step of a case (Act; cases.go's Review and Sign take theirs
// through it): the route replayed from the case's signed acts (routeHistory;
// fiscal.CaseDefinition's Replay and Take), a substitute taking the absent
// person's role, the required documents checked on approval, the type's
// effect run when the decision approves (apply, casesteps.go), then the
// signed step, the timeline line, the notification and the audit entry, in
// one transaction. openSteps lists the steps a case waits for with their due
// dates.

// stepRow is an act recorded on a case (a signed step of action act,
// review or sign).
type stepRow struct {
	Seq        int       `db:"seq"`
	Action     string    `db:"action"`
	Step       string    `db:"step"`
	Decision   string    `db:"decision"`
	ActorID    *int64    `db:"actor_id"`
	OnBehalfOf *int64    `db:"on_behalf_of_id"`
	At         time.Time `db:"at"`
}

// routeHistory is what moved a case's route: the acts since its last move
// to another version (rows, acts) from the step it moved to (start), and
// the acts before (prior, which count for distinct_from only).
type routeHistory struct {
	start   string
	movedAt *time.Time
	prior   []fiscal.RouteAct
	acts    []fiscal.RouteAct
	rows    []stepRow
}

// routeHistory reads the acts taken on a case, in order.
func (tx *Tx) routeHistory(ctx context.Context, caseID int64) (*routeHistory, error) {
	var rows []stepRow
	if err := tx.Select(ctx, &rows, `SELECT seq, action, step, decision, actor_id, on_behalf_of_id, at FROM case_steps WHERE case_id = ? AND action IN (?, ?, ?, ?) ORDER BY seq`,
		caseID, fiscal.ActionAct, fiscal.ActionReview, fiscal.ActionSign, actionMigrate); err != nil {
		return nil, translate(err, "case steps")
	}
	return historyOf(rows), nil
}

// loadSteps reads every step of c once for a use case that takes one (Act):
// its route history, the chain's last link and the steps of the detail it
// answers all come from this read (c.steps, c.hist).
func (tx *Tx) loadSteps(ctx context.Context, c *caseRow) error {
	steps := []*fiscal.CaseStep{}
	if err := tx.Select(ctx, &steps, `SELECT `+stepCols+` FROM case_steps WHERE case_id = ? ORDER BY seq`, c.ID); err != nil {
		return translate(err, "case steps")
	}
	var rows []stepRow
	for _, st := range steps {
		switch st.Action {
		case fiscal.ActionAct, fiscal.ActionReview, fiscal.ActionSign, actionMigrate:
			rows = append(rows, stepRow{Seq: st.Seq, Action: st.Action, Step: st.Step, Decision: st.Decision, ActorID: st.ActorID, OnBehalfOf: st.OnBehalfOfID, At: st.At})
		}
	}
	c.steps, c.hist = steps, historyOf(rows)
	return nil
}

// historyOf is the route history of a case's acts (rows in order).
func historyOf(rows []stepRow) *routeHistory {
	h := &routeHistory{}
	for _, r := range rows {
		if r.Action == actionMigrate {
			at := r.At
			h.prior = append(h.prior, h.acts...)
			h.start, h.movedAt, h.acts, h.rows = r.Step, &at, nil, nil
			continue
		}
		a := fiscal.RouteAct{Step: r.Step, Decision: r.Decision}
		if a.Step == "" { // a review or signature recorded before the shipped definitions named their steps
			a.Step = r.Action
		}
		if r.ActorID != nil {
			a.ActorID = *r.ActorID
		}
		h.acts, h.rows = append(h.acts, a), append(h.rows, r)
	}
	return h
}

// took appends the act a use case just recorded as step st, so that the
// history stays that of the case (the detail it answers reads it).
func (h *routeHistory) took(a fiscal.RouteAct, st *fiscal.CaseStep, at time.Time) {
	row := stepRow{Seq: st.Seq, Action: st.Action, Step: a.Step, Decision: a.Decision, OnBehalfOf: st.OnBehalfOfID, At: at}
	if a.ActorID != 0 {
		id := a.ActorID
		row.ActorID = &id
	}
	h.acts, h.rows = append(h.acts, a), append(h.rows, row)
}

func (h *routeHistory) replay(d *fiscal.CaseDefinition) (*fiscal.Route, error) {
	return d.ReplayFrom(h.start, h.prior, h.acts)
}

// openSteps lists the steps a case waits for, with
// their due dates: a step with its own SLA is due that many working days
// after it opened, plus the working days the case waited for the taxpayer
// since (fiscal.StepDue); any other is due when the case is. Parallel
// branches opened with their group: each is due by its own SLA, else the
// group's, else the case's.
func (tx *Tx) openSteps(ctx context.Context, c *caseRow, cal *calendar.Calendar) ([]fiscal.OpenStep, error) {
	h := c.hist
	if h == nil {
		var err error
		if h, err = tx.routeHistory(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	r, err := h.replay(c.def.def)
	if err != nil {
		return nil, err
	}
	if !fiscal.CaseStatus(c.Status).Open() {
		return []fiscal.OpenStep{}, nil
	}
	open := c.def.def.Open(r)
	caseDue, _ := c.sla(cal, fiscal.LocalDate(tx.Now))
	for i := range open {
		due := caseDue.DueOn
		if open[i].SLAWorkingDays > 0 {
			from := c.SubmittedOn
			if k := open[i].OpenedAfter; k >= 0 && k < len(h.rows) {
				from = fiscal.LocalDate(h.rows[k].At)
			} else if h.movedAt != nil {
				from = fiscal.LocalDate(*h.movedAt)
			}
			due = fiscal.StepDue(cal, from, open[i].SLAWorkingDays, c.pauses(), fiscal.LocalDate(tx.Now))
		}
		open[i].DueOn = &due
	}
	return open, nil
}

// Act takes an open step of a case: every type runs on its definition
// (the shipped ones too, whose review and sign steps the contract's review
// and sign take). Roles come from the session only; a substitute takes the
// absent person's role for the steps that allow it. An approve needs the
// required documents; the decision that approves the case runs the
// type's effect (apply) in the same transaction.
func (db *DB) Act(ctx context.Context, id int64, in *fiscal.ActInput) (*fiscal.CaseDetail, error) {
	a, err := fiscal.RequireActor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.System && !a.Role.IsStaff() {
		return nil, fiscal.Errorf(fiscal.EFORBIDDEN, "only staff take the steps of a case")
	}
	comment := strings.TrimSpace(in.Comment)
	if !a.System && comment == "" && (in.Decision == fiscal.DecisionReject || in.Decision == fiscal.DecisionRequestInfo) {
		// The taxpayer reads why (a deemed decision is the law's, not a person's).
		return nil, fiscal.InvalidField("comment", "a rejection or a request for information must say why")
	}
	cal, err := db.calendar(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	var out *fiscal.CaseDetail
	err = db.InTx(ctx, func(tx *Tx) error {
		c, err := tx.loadCase(ctx, id)
		if err != nil {
			return err
		}
		if in.Version != 0 && in.Version != c.Version {
			return &fiscal.Error{Code: fiscal.ECONFLICT, Message: fmt.Sprintf("the case is at version %d, not %d; reload it", c.Version, in.Version), Err: fiscal.ErrStale}
		}
		d := c.def.def
		if err := tx.loadSteps(ctx, c); err != nil {
			return err
		}
		h := c.hist
		r, err := h.replay(d)
		if err != nil {
			return err
		}
		act := fiscal.RouteAct{Step: in.Step, Decision: in.Decision, ActorID: a.UserID}
		from := fiscal.CaseStatus(c.Status)
		role := a.Role
		if st, ok := d.Step(in.Step); ok && a.System && len(st.Roles) > 0 {
			role = st.Roles[0] // the system holds every role (a deemed decision, straight-through)
		}
		wasAt, wasMoves := d.CurrentStep(r), r.Moves()
		var onBehalf *activeSubstitution
		err = d.Take(r, act, role)
		if fiscal.ErrorCode(err) == fiscal.EFORBIDDEN && !a.System {
			// A substitute may take the step with the absent person's role.
			subs, serr := tx.substitutions(ctx, c.MunicipalityID, a.UserID, c.Type, fiscal.LocalDate(tx.Now))
			if serr != nil {
				return serr
			}
			st, _ := d.Step(in.Step)
			for i := range subs {
				s := &subs[i]
				if !roleIn(st.Roles, fiscal.Role(s.Role)) {
					continue
				}
				if !d.StepSubstitutable(in.Step) {
					return fiscal.Errorf(fiscal.EFORBIDDEN, "the step %s cannot be taken by a substitute", in.Step)
				}
				if err = d.Take(r, act, fiscal.Role(s.Role)); err == nil {
					role = fiscal.Role(s.Role)
					if s.Mode == "on_behalf" {
						onBehalf = s
					}
				}
				break
			}
		}
		if err != nil {
			return err
		}
		switch {
		case from == fiscal.StatusAwaitingTaxpayer:
			return fiscal.Errorf(fiscal.ECONFLICT, "the case waits for the taxpayer's answer")
		case !from.Open():
			return fiscal.Errorf(fiscal.ECONFLICT, "the case is %s", from)
		}
		// A deemed decision marks its claim done here (caseescalate.go).
		if err := tx.deemedDone(ctx, c.ID); err != nil {
			return err
		}
		atts, err := tx.attachments(ctx, c.ID)
		if err != nil {
			return err
		}
		today := fiscal.LocalDate(tx.Now)
		to := d.StatusAt(r)
		// The approval that ends the case needs the required documents, and
		// so does a person's approval at a desk (an officer does not pass on
		// an incomplete case); an opinion (a parallel branch) and the
		// system's decision on an intermediate step do not.
		desk := !strings.Contains(in.Step, ".")
		if in.Decision == fiscal.DecisionApprove && (to == fiscal.StatusApproved || (desk && !a.System)) {
			if err := c.caseType().CheckComplete(json.RawMessage(c.Data), kinds(atts)); err != nil {
				return err
			}
		}
		switch {
		case in.Decision == fiscal.DecisionRequestInfo:
			to = fiscal.StatusAwaitingTaxpayer
			c.Pauses = append(c.pauses(), fiscal.Pause{From: today})
		case r.Outcome != "":
			now := tx.Now
			c.DecidedAt, c.DecisionReason = &now, comment
		}
		before := map[string]any{"status": c.Status, "version": c.Version}
		c.Status = string(to)
		if at := d.CurrentStep(r); at != "" && (at != wasAt || r.Moves() != wasMoves) {
			c.moveTo = &routeMove{step: at, since: today} // written with the case's row
		}
		if to == fiscal.StatusApproved {
			// The type's effect, as the approving person (their key signs
			// the documents it issues).
			if err := db.apply(ctx, tx, c, today); err != nil {
				return err
			}
		}
		// The case's update, its signed step, its timeline line and the
		// notification are written together (writeCase: one statement on
		// PostgreSQL).
		update := tx.updateCaseStmt(c)
		c.Status = string(from)
		action := fiscal.StepAction(in.Step)
		st := &fiscal.CaseStep{Action: action, Step: in.Step, Decision: in.Decision, To: to, Comment: comment}
		if onBehalf != nil {
			uid := onBehalf.UserID
			st.OnBehalfOfID, st.OnBehalfOf = &uid, onBehalf.Username
		}
		// The act is recorded in the role it was taken with (a substitute's
		// borrowed role), signed with the actor's own key.
		actor := tx.Actor
		if actor != nil && !actor.System && role != actor.Role {
			cp := *actor
			cp.Role = role
			tx.Actor = &cp
		}
		signed, err := tx.stepStmt(ctx, c, atts, st)
		tx.Actor = actor
		if err != nil {
			return err
		}
		c.Status, c.atts = string(to), atts
		who := ""
		if onBehalf != nil {
			who = fmt.Sprintf(" (%s for %s)", a.Username, onBehalf.Username)
		}
		body := strings.TrimSpace(in.Decision + who + " " + comment)
		if action == fiscal.ActionAct {
			body = strings.TrimSpace(in.Step + " " + body)
		}
		writes := []stmt{signed, tx.eventStmt(c, action, body, true)}
		if to != from {
			writes = append(writes, tx.notifyStatusStmt(c, cal, comment))
		}
		if err := tx.writeCase(ctx, c, update, writes...); err != nil {
			return err
		}
		h.took(act, st, tx.Now)
		c.steps = append(c.steps, st)
		kind := "case." + action
		after := map[string]any{"status": c.Status, "version": c.Version, "step": in.Step, "decision": in.Decision, "comment": comment}
		if onBehalf != nil {
			after["on_behalf_of"] = onBehalf.UserID
		}
		if err := tx.Audit(ctx, c.MunicipalityID, kind, "case", c.ID, before, after); err != nil {
			return err
		}
		if r.Outcome != "" {
			tx.fault(FaultCaseSign) // the decision is written, not committed
		}
		out, err = db.detail(ctx, tx, c, cal)
		return err
	})
	return out, err
}

func roleIn(list []fiscal.Role, r fiscal.Role) bool {
	for _, x := range list {
		if x == r {
			return true
		}
	}
	return false
}
