package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"fiscald/calc/calendar"
	"fiscald/fiscal"
)

// Request types as data: every case runs on a definition, the shipped one
// of a built-in type (fiscal.ShippedDefinition, version 1, in code) or a
// version a municipality published (case_definitions, migration 0022). The
// store files cases under the version current at filing
// (cases.definition_version) and runs their routes: every act is a signed
// case step (action review or sign for the steps of those names, else
// "act"; the step's full name in step) in one transaction with its
// timeline line, notification and audit entry. The route's rules are pure
// (fiscal.CaseDefinition: Take, Replay, Open, StatusAt).

// publishedDef is one version of a published type; versions never change
// once published, so every instance may keep them in memory (db.defs).
type publishedDef struct {
	def         *fiscal.CaseDefinition
	ct          *fiscal.CaseType
	version     int64
	publishedAt time.Time
}

type defRow struct {
	Type        string    `db:"type"`
	Version     int64     `db:"version"`
	Body        string    `db:"body"`
	PublishedAt time.Time `db:"published_at"`
}

func defKey(municipalityID int64, typ string, version int64) string {
	return fmt.Sprintf("%d/%s/%d", municipalityID, typ, version)
}

// parseDef reads a stored definition (checked when it was published).
func (db *DB) parseDef(municipalityID int64, r *defRow) (*publishedDef, error) {
	if p, ok := db.defs.Load(defKey(municipalityID, r.Type, r.Version)); ok {
		return p.(*publishedDef), nil
	}
	var d fiscal.CaseDefinition
	if err := json.Unmarshal([]byte(r.Body), &d); err != nil {
		return nil, fiscal.Internal(err, "the stored definition of "+r.Type)
	}
	p := &publishedDef{def: &d, ct: d.CaseType(), version: r.Version, publishedAt: r.PublishedAt}
	db.defs.Store(defKey(municipalityID, r.Type, r.Version), p)
	return p, nil
}

// shippedDefs are the definitions the service ships (one per effect, the
// same in every municipality), as version fiscal.ShippedVersion.
var shippedDefs sync.Map // type → *publishedDef

// shippedDef returns the shipped definition of a type, or nil.
func shippedDef(typ string) *publishedDef {
	if p, ok := shippedDefs.Load(typ); ok {
		return p.(*publishedDef)
	}
	d, ok := fiscal.ShippedDefinition(typ)
	if !ok {
		return nil
	}
	p, _ := shippedDefs.LoadOrStore(typ, &publishedDef{def: d, ct: d.CaseType(), version: fiscal.ShippedVersion})
	return p.(*publishedDef)
}

// knownDef is a version of a type found without the database: the shipped
// definition (version 1 of a shipped type), or a publication this process
// has read before (versions never change); nil otherwise.
func (db *DB) knownDef(municipalityID int64, typ string, version int64) *publishedDef {
	if version == fiscal.ShippedVersion {
		if p := shippedDef(typ); p != nil {
			return p
		}
	}
	if p, ok := db.defs.Load(defKey(municipalityID, typ, version)); ok {
		return p.(*publishedDef)
	}
	return nil
}

// definition returns a version of a type: the shipped definition for a
// shipped type's first version, else the municipality's publication.
func (tx *Tx) definition(ctx context.Context, municipalityID int64, typ string, version int64) (*publishedDef, error) {
	if p := tx.db.knownDef(municipalityID, typ, version); p != nil {
		return p, nil
	}
	var r defRow
	if err := tx.Get(ctx, &r, `SELECT type, version, body, published_at FROM case_definitions WHERE municipality_id = ? AND type = ? AND version = ?`,
		municipalityID, typ, version); err != nil {
		return nil, translate(err, "case definition")
	}
	return tx.db.parseDef(municipalityID, &r)
}

// definitionAt returns a version of a type outside a transaction.
func (db *DB) definitionAt(ctx context.Context, municipalityID int64, typ string, version int64) (*publishedDef, error) {
	if p := db.knownDef(municipalityID, typ, version); p != nil {
		return p, nil
	}
	var r defRow
	if err := db.get(ctx, &r, `SELECT type, version, body, published_at FROM case_definitions WHERE municipality_id = ? AND type = ? AND version = ?`,
		municipalityID, typ, version); err != nil {
		return nil, translate(err, "case definition")
	}
	return db.parseDef(municipalityID, &r)
}

// currentDefinition returns the current version of a type: the
// municipality's latest publication, else the shipped definition; nil
// when there is neither.
func (db *DB) currentDefinition(ctx context.Context, municipalityID int64, typ string) (*publishedDef, error) {
	var r defRow
	err := db.get(ctx, &r, `SELECT type, version, body, published_at FROM case_definitions WHERE municipality_id = ? AND type = ? ORDER BY version DESC LIMIT 1`,
		municipalityID, typ)
	if err = translate(err, "case definition"); fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
		return shippedDef(typ), nil
	} else if err != nil {
		return nil, err
	}
	return db.parseDef(municipalityID, &r)
}

// PublishCaseType checks a definition and publishes it as its type's next
// version. Two publications of one type at once never get one version:
// the (municipality, type, version) key refuses the second, which takes
// the next number.
func (db *DB) PublishCaseType(ctx context.Context, body json.RawMessage, dryRun bool) (*fiscal.PublishedType, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	d, err := fiscal.ParseDefinition(body)
	if err != nil {
		return nil, err
	}
	canon, err := json.Marshal(d)
	if err != nil {
		return nil, fiscal.Internal(err, "definition")
	}
	out := &fiscal.PublishedType{Type: d.Type}
	if dryRun {
		plan := d.DryRun()
		out.DryRun, out.Route = true, &plan
		if cur, err := db.currentDefinition(ctx, a.MunicipalityID, d.Type); err != nil {
			return nil, err
		} else if cur != nil {
			out.Version = cur.version + 1
		} else {
			out.Version = 1
		}
		return out, nil
	}
	var by *int64
	if !a.System {
		id := a.UserID
		by = &id
	}
	for attempt := 0; ; attempt++ {
		err = db.InTx(ctx, func(tx *Tx) error {
			if tx.db.dialect == "postgres" {
				// Publications of one type queue here, on any instance, so
				// the next version below is theirs (SQLite's writer already
				// queues them); the unique key stays the guarantee.
				if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, fmt.Sprintf("case_type:%d:%s", a.MunicipalityID, d.Type)); err != nil {
					return translate(err, "case definitions")
				}
			}
			var v int64
			if err := tx.Get(ctx, &v, `SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM case_definitions WHERE municipality_id = ? AND type = ?`,
				a.MunicipalityID, d.Type); err != nil {
				return translate(err, "case definitions")
			}
			if shippedDef(d.Type) != nil {
				v = max(v, fiscal.ShippedVersion+1) // the shipped definition is version 1
			}
			id, err := tx.Insert(ctx, `INSERT INTO case_definitions (municipality_id, type, version, body, published_at, published_by) VALUES (?, ?, ?, ?, ?, ?)`,
				a.MunicipalityID, d.Type, v, string(canon), tx.Now, by)
			if isUniqueViolation(err) {
				return errVersionTaken
			}
			if err != nil {
				return translate(err, "case definition")
			}
			out.Version = v
			return tx.Audit(ctx, a.MunicipalityID, "case_type.publish", "case_definition", id, nil,
				map[string]any{"type": d.Type, "version": v, "definition": json.RawMessage(canon)})
		})
		if err != errVersionTaken || attempt >= 4 {
			break
		}
	}
	if err == errVersionTaken {
		return nil, fiscal.Errorf(fiscal.ECONFLICT, "the type %s is being published by someone else at the same time; try again", d.Type)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

var errVersionTaken = fiscal.Errorf(fiscal.ECONFLICT, "version taken")

// PublishedCaseTypes lists the current version of each type of the
// municipality: its publications and the shipped types it has not
// published a version of (their version 1), by type.
func (db *DB) PublishedCaseTypes(ctx context.Context, municipalityID int64) ([]*fiscal.CaseTypeVersion, error) {
	var rows []defRow
	if err := db.selectx(ctx, &rows, `SELECT d.type, d.version, d.body, d.published_at FROM case_definitions d WHERE d.municipality_id = ?
		AND d.version = (SELECT MAX(x.version) FROM case_definitions x WHERE x.municipality_id = d.municipality_id AND x.type = d.type) ORDER BY d.type`,
		municipalityID); err != nil {
		return nil, translate(err, "case definitions")
	}
	defs := make([]*publishedDef, 0, len(rows)+len(fiscal.CaseTypes()))
	published := map[string]bool{}
	for i := range rows {
		p, err := db.parseDef(municipalityID, &rows[i])
		if err != nil {
			return nil, err
		}
		defs, published[p.def.Type] = append(defs, p), true
	}
	for _, t := range fiscal.CaseTypes() {
		if !published[t.Name] {
			defs = append(defs, shippedDef(t.Name))
		}
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].def.Type < defs[j].def.Type })
	out := make([]*fiscal.CaseTypeVersion, 0, len(defs))
	for _, p := range defs {
		d := p.def
		// A type with an effect lists the effect's documents.
		docs := p.ct.Documents
		if docs == nil {
			docs = []fiscal.DocumentKind{}
		}
		form := d.Form
		if form.Fields == nil {
			form.Fields = []fiscal.DefField{} // a type with an effect: its fields (if simple) are in Fields
		}
		v := &fiscal.CaseTypeVersion{Type: d.Type, Title: d.Title, TitleEN: d.TitleEN, Effect: d.Effect, Version: p.version,
			SLAWorkingDays: d.SLAWorkingDays, Form: form, Fields: p.ct.Fields, Documents: docs, Steps: d.Steps}
		if !p.publishedAt.IsZero() {
			at := p.publishedAt.UTC()
			v.PublishedAt = &at
		}
		out = append(out, v)
	}
	return out, nil
}

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

// actionMigrate is the signed step that moved a case to another version.
const actionMigrate = "migrate"

// routeHistory reads the acts taken on a case, in order.
func (tx *Tx) routeHistory(ctx context.Context, caseID int64) (*routeHistory, error) {
	var rows []stepRow
	if err := tx.Select(ctx, &rows, `SELECT seq, action, step, decision, actor_id, on_behalf_of_id, at FROM case_steps WHERE case_id = ? AND action IN (?, ?, ?, ?) ORDER BY seq`,
		caseID, fiscal.ActionAct, fiscal.ActionReview, fiscal.ActionSign, actionMigrate); err != nil {
		return nil, translate(err, "case steps")
	}
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
	return h, nil
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
		h, err := tx.routeHistory(ctx, c.ID)
		if err != nil {
			return err
		}
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
		if err := tx.updateCase(ctx, c); err != nil {
			return err
		}
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
		err = tx.step(ctx, c, atts, st)
		tx.Actor = actor
		if err != nil {
			return err
		}
		h.took(act, st, tx.Now)
		c.Status, c.hist, c.atts = string(to), h, atts
		who := ""
		if onBehalf != nil {
			who = fmt.Sprintf(" (%s for %s)", a.Username, onBehalf.Username)
		}
		body := strings.TrimSpace(in.Decision + who + " " + comment)
		if action == fiscal.ActionAct {
			body = strings.TrimSpace(in.Step + " " + body)
		}
		if err := tx.event(ctx, c, action, body, true); err != nil {
			return err
		}
		if to != from {
			if err := tx.notifyStatus(ctx, c, cal, comment); err != nil {
				return err
			}
		}
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

// MigrateCases moves the open cases of a type from one version to another
// with an explicit map of steps: each open case's open step (a branch maps
// by its group) must be in the map and name a step of the new version.
// The moved case starts the mapped step afresh on the new version (the acts
// already signed stay in its chain; the route reads only the acts taken
// after the move, which is recorded as a signed step). One transaction,
// one audit entry per case.
func (db *DB) MigrateCases(ctx context.Context, typ string, in *fiscal.CaseMigration) (*fiscal.MigrationResult, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	if in.FromVersion == in.ToVersion {
		return nil, fiscal.InvalidField("to_version", "is the version the cases run on")
	}
	out := &fiscal.MigrationResult{Type: typ, FromVersion: in.FromVersion, ToVersion: in.ToVersion}
	err = db.InTx(ctx, func(tx *Tx) error {
		out.Moved = []int64{}
		from, err := tx.definition(ctx, a.MunicipalityID, typ, in.FromVersion)
		if fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
			return fiscal.InvalidField("from_version", "is not a published version of "+typ)
		} else if err != nil {
			return err
		}
		to, err := tx.definition(ctx, a.MunicipalityID, typ, in.ToVersion)
		if fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
			return fiscal.InvalidField("to_version", "is not a published version of "+typ)
		} else if err != nil {
			return err
		}
		if err := fiscal.CheckStepMap(from.def, to.def, in.StepMap); err != nil {
			return err
		}
		var ids []int64
		if err := tx.Select(ctx, &ids, `SELECT id FROM cases WHERE municipality_id = ? AND type = ? AND definition_version = ? AND status IN ('submitted', 'awaiting_taxpayer', 'reviewed') ORDER BY id`,
			a.MunicipalityID, typ, in.FromVersion); err != nil {
			return translate(err, "cases")
		}
		for _, id := range ids {
			c, err := tx.loadCase(ctx, id)
			if err != nil {
				return err
			}
			h, err := tx.routeHistory(ctx, c.ID)
			if err != nil {
				return err
			}
			r, err := h.replay(from.def)
			if err != nil {
				return err
			}
			at := from.def.CurrentStep(r)
			if at == "" {
				continue // decided meanwhile
			}
			target := in.StepMap[at]
			// The case's status is the mapped step's on the new version
			// (a case waiting for the taxpayer keeps waiting).
			status := fiscal.CaseStatus(c.Status)
			if status != fiscal.StatusAwaitingTaxpayer {
				moved, err := to.def.ReplayFrom(target, append(append([]fiscal.RouteAct(nil), h.prior...), h.acts...), nil)
				if err != nil {
					return err
				}
				status = to.def.StatusAt(moved)
			}
			before := map[string]any{"definition_version": in.FromVersion, "step": at, "version": c.Version, "status": c.Status}
			res, err := tx.Exec(ctx, `UPDATE cases SET definition_version = ?, status = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`,
				in.ToVersion, string(status), tx.Now, c.ID, c.Version)
			if err != nil {
				return translate(err, "case")
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fiscal.Errorf(fiscal.ECONFLICT, "the case %s was changed by someone else at the same time; try again", c.Number)
			}
			c.Version++
			if err := tx.routeMoved(ctx, c, target, fiscal.LocalDate(tx.Now)); err != nil {
				return err
			}
			atts, err := tx.attachments(ctx, c.ID)
			if err != nil {
				return err
			}
			comment := fmt.Sprintf("version %d → %d: %s → %s", in.FromVersion, in.ToVersion, at, target)
			if err := tx.step(ctx, c, atts, &fiscal.CaseStep{Action: actionMigrate, Step: target, To: status, Comment: comment}); err != nil {
				return err
			}
			c.Status = string(status)
			if err := tx.event(ctx, c, "migrated", comment, false); err != nil {
				return err
			}
			if err := tx.Audit(ctx, c.MunicipalityID, "case.migrate", "case", c.ID, before,
				map[string]any{"definition_version": in.ToVersion, "step": target, "version": c.Version, "status": c.Status}); err != nil {
				return err
			}
			out.Moved = append(out.Moved, c.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AddSubstitution records a substitution (admin): both people are active
// staff of the municipality, not the same person, and the range is in order.
// When the absence has already started, the absent person's open cases
// move in the same transaction (the answer lists them).
func (db *DB) AddSubstitution(ctx context.Context, in *fiscal.NewSubstitution) (*fiscal.Substitution, error) {
	a, err := fiscal.RequireRole(ctx, fiscal.RoleAdmin)
	if err != nil {
		return nil, err
	}
	if in.UserID == in.SubstituteID {
		return nil, fiscal.InvalidField("substitute_id", "must be another person")
	}
	if in.To.Before(in.From) {
		return nil, fiscal.InvalidField("to", "is before from")
	}
	cal, err := db.calendar(ctx, a.MunicipalityID)
	if err != nil {
		return nil, err
	}
	out := &fiscal.Substitution{NewSubstitution: *in}
	err = db.InTx(ctx, func(tx *Tx) error {
		for _, u := range []struct {
			field string
			id    int64
		}{{"user_id", in.UserID}, {"substitute_id", in.SubstituteID}} {
			var n int
			if err := tx.Get(ctx, &n, `SELECT COUNT(*) FROM users WHERE id = ? AND municipality_id = ? AND role <> 'taxpayer' AND disabled = ?`,
				u.id, a.MunicipalityID, false); err != nil {
				return translate(err, "users")
			}
			if n == 0 {
				return fiscal.InvalidField(u.field, "is not an active member of staff of the municipality")
			}
		}
		var by *int64
		if !a.System {
			id := a.UserID
			by = &id
		}
		id, err := tx.Insert(ctx, `INSERT INTO substitutions (municipality_id, user_id, substitute_id, from_on, to_on, mode, case_type, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.MunicipalityID, in.UserID, in.SubstituteID, in.From, in.To, in.Mode, in.CaseType, tx.Now, by)
		if err != nil {
			return translate(err, "substitution")
		}
		out.ID = id
		if err := tx.Audit(ctx, a.MunicipalityID, "substitution.create", "substitution", id, nil, in); err != nil {
			return err
		}
		// An absence that has started moves the absent person's open cases
		// in this transaction; a later one waits for the sweep on its first
		// day (SweepAbsences).
		today := fiscal.LocalDate(tx.Now)
		if in.From.After(today) {
			return nil
		}
		moves, err := tx.reassignAbsence(ctx, id, cal, today)
		if err != nil || moves == nil {
			return err
		}
		at := moves.at.UTC()
		out.ReassignedAt, out.Reassigned, out.Queued = &at, moves.reassigned, moves.queued
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
