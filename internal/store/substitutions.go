package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fiscald/calc/calendar"
	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// Substitutions of absent staff: recording one (AddSubstitution, admin;
// an absence already started moves the cases at once), the sweep that
// moves the absent person's open cases on its first day (SweepAbsences),
// and the substitutions in force a member of staff acts through
// (linksInForce, substitutions).
//
// Absences (issue 17): when a substitution's first day arrives, the absent
// person's open cases (cases.assignee_id) go to the substitute, or back to
// the queue when the step they wait at is the absent person's and not
// substitutable (the rules: fiscal.AbsenceReassignment). The substitution
// row is the claim: UPDATE ... SET reassigned_at WHERE reassigned_at IS
// NULL, in the transaction that moves the cases, so each substitution moves
// cases once whatever the number of instances sweeping (on PostgreSQL the
// second instance's UPDATE waits for the first's commit and then matches
// nothing; on SQLite the writer lock serialises them). Each case moved gets
// a timeline line and an audit entry; the substitute gets one notice
// listing them, the admin who recorded the absence one listing those
// returned to the queue. Nothing moves back when the absence ends.
//
// A substitute who is away too passes the cases on: they go to the first
// present person along the chain of substitutions in force for the case's
// type, or to the queue when the chain loops (fiscal.SubstituteChain). A
// member of staff acts for an absent person through a direct substitution
// or a chain of them in force today (fiscal.Covered; tx.substitutions).

// SweepAbsences moves the cases of the absences that started on or before
// now's day and were not yet handled: one indexed query when none is due
// (substitutions_due), then one transaction per substitution.
func (db *DB) SweepAbsences(ctx context.Context, now time.Time) (*fiscal.AbsenceReport, error) {
	today := fiscal.LocalDate(now)
	var due []struct {
		ID             int64 `db:"id"`
		MunicipalityID int64 `db:"municipality_id"`
	}
	if err := db.selectx(ctx, &due, `SELECT id, municipality_id FROM substitutions WHERE reassigned_at IS NULL AND from_on <= ? ORDER BY from_on, id`, today); err != nil {
		return nil, translate(err, "substitutions")
	}
	rep := &fiscal.AbsenceReport{}
	for _, s := range due {
		sys := fiscal.WithActor(ctx, &fiscal.Actor{System: true, Username: "system", MunicipalityID: s.MunicipalityID})
		cal, err := db.calendar(sys, s.MunicipalityID)
		if err != nil {
			return rep, err
		}
		var res *absenceMoves
		err = db.InTx(sys, func(tx *Tx) error {
			var err error
			res, err = tx.reassignAbsence(sys, s.ID, cal, today)
			return err
		})
		if err != nil {
			return rep, err
		}
		if res != nil {
			rep.Substitutions++
			rep.Reassigned += len(res.reassigned)
			rep.Queued += len(res.queued)
		}
	}
	return rep, nil
}

// absenceMoves is what one substitution's reassignment did.
type absenceMoves struct {
	at                 time.Time
	reassigned, queued []int64
}

type substitutionRow struct {
	ID             int64      `db:"id"`
	MunicipalityID int64      `db:"municipality_id"`
	UserID         int64      `db:"user_id"`
	SubstituteID   int64      `db:"substitute_id"`
	From           civil.Date `db:"from_on"`
	To             civil.Date `db:"to_on"`
	CaseType       string     `db:"case_type"`
	Mode           string     `db:"mode"`
	CreatedBy      *int64     `db:"created_by"`
	Absent         string     `db:"absent"`
	AbsentRole     string     `db:"absent_role"`
	Substitute     string     `db:"substitute"`
	SubstituteRole string     `db:"substitute_role"`
	SubstituteMail string     `db:"substitute_email"`
	SubstituteOff  bool       `db:"substitute_disabled"`
}

// reassignAbsence claims a substitution whose first day has come and moves
// the absent person's open cases; nil when another transaction claimed it.
func (tx *Tx) reassignAbsence(ctx context.Context, id int64, cal *calendar.Calendar, today civil.Date) (*absenceMoves, error) {
	res, err := tx.Exec(ctx, `UPDATE substitutions SET reassigned_at = ? WHERE id = ? AND reassigned_at IS NULL AND from_on <= ?`, tx.Now, id, today)
	if err != nil {
		return nil, translate(err, "substitution")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, nil
	}
	var s substitutionRow
	if err := tx.Get(ctx, &s, `SELECT s.id, s.municipality_id, s.user_id, s.substitute_id, s.from_on, s.to_on, s.case_type, s.mode, s.created_by,
		a.username AS absent, a.role AS absent_role, b.username AS substitute, b.role AS substitute_role, b.email AS substitute_email, b.disabled AS substitute_disabled
		FROM substitutions s JOIN users a ON a.id = s.user_id JOIN users b ON b.id = s.substitute_id WHERE s.id = ?`, id); err != nil {
		return nil, translate(err, "substitution")
	}
	out := &absenceMoves{at: tx.Now, reassigned: []int64{}, queued: []int64{}}
	state := fiscal.AbsenceOn(cal, today, s.From, s.To)
	if state == fiscal.AbsenceDue {
		if err := tx.moveAbsentCases(ctx, &s, cal, today, out); err != nil {
			return nil, err
		}
	}
	return out, tx.Audit(ctx, s.MunicipalityID, "substitution.reassign", "substitution", s.ID, nil, map[string]any{
		"user_id": s.UserID, "substitute_id": s.SubstituteID, "from": s.From, "to": s.To,
		"lapsed": state != fiscal.AbsenceDue, "reassigned": out.reassigned, "queued": out.queued})
}

// moveAbsentCases moves each open case assigned to the absent person (of
// the substitution's type, if it names one) to the first present person
// along the chain of substitutes for the case's type (fiscal.SubstituteChain),
// or to the queue.
func (tx *Tx) moveAbsentCases(ctx context.Context, s *substitutionRow, cal *calendar.Calendar, today civil.Date, out *absenceMoves) error {
	lock := ""
	if tx.db.dialect == "postgres" {
		lock = " FOR UPDATE" // a decision on one of them finishes first
	}
	var ids []int64
	if err := tx.Select(ctx, &ids, `SELECT id FROM cases WHERE municipality_id = ? AND assignee_id = ? AND status NOT IN (?, ?)
		AND (? = '' OR type = ?) ORDER BY id`+lock,
		s.MunicipalityID, s.UserID, fiscal.StatusApproved, fiscal.StatusRejected, s.CaseType, s.CaseType); err != nil {
		return translate(err, "cases")
	}
	if len(ids) == 0 {
		return nil
	}
	links, err := tx.linksInForce(ctx, s.MunicipalityID, today)
	if err != nil {
		return err
	}
	first := fiscal.SubstitutionLink{ID: s.ID, Absent: s.UserID, Substitute: s.SubstituteID, From: s.From, To: s.To, Mode: s.Mode, CaseType: s.CaseType}
	type route struct {
		chain []fiscal.SubstitutionLink
		ok    bool
	}
	routes := map[string]route{}
	people := map[int64]*staffMember{
		s.UserID:       {ID: s.UserID, Username: s.Absent, Role: s.AbsentRole},
		s.SubstituteID: {ID: s.SubstituteID, Username: s.Substitute, Role: s.SubstituteRole, Email: s.SubstituteMail, Disabled: s.SubstituteOff},
	}
	person := func(id int64) (*staffMember, error) {
		if p, ok := people[id]; ok {
			return p, nil
		}
		var p staffMember
		if err := tx.Get(ctx, &p, `SELECT id, username, role, email, disabled FROM users WHERE id = ?`, id); err != nil {
			return nil, translate(err, "user")
		}
		people[id] = &p
		return &p, nil
	}
	// One notice to each person the cases went to, not one per case.
	type notice struct {
		to      *staffMember
		via     string
		numbers []string
		first   int64
	}
	var notices []*notice
	var queuedNumbers []string
	var firstQueued *int64
	span := fmt.Sprintf("%s – %s", s.From, s.To)
	for _, id := range ids {
		c, err := tx.loadCase(ctx, id)
		if err != nil {
			return err
		}
		r, seen := routes[c.Type]
		if !seen {
			r.chain, r.ok = fiscal.SubstituteChain(first, links, c.Type, today)
			routes[c.Type] = r
		}
		var names, via []string // the people along the chain; those absent in between
		for i, l := range r.chain {
			if i == 0 {
				names = append(names, s.Absent)
			}
			p, err := person(l.Substitute)
			if err != nil {
				return err
			}
			names = append(names, p.Username)
			if i < len(r.chain)-1 {
				via = append(via, p.Username)
			}
		}
		target, err := person(r.chain[len(r.chain)-1].Substitute)
		if err != nil {
			return err
		}
		var v fiscal.AbsenceVerdict
		if r.ok && !target.Disabled {
			open, err := tx.openSteps(ctx, c, cal)
			if err != nil {
				return err
			}
			v = fiscal.AbsenceReassignment(c.def.def, open, fiscal.Role(s.AbsentRole), fiscal.Role(target.Role))
		}
		var to *int64
		sub := target.Username // "cora (through bob, absent too)" at the end of a chain
		if len(via) > 0 {
			sub += fmt.Sprintf(" (through %s, absent too)", strings.Join(via, ", "))
		}
		kind, body := "substitute", fmt.Sprintf("reassigned to %s, substitute for %s (absent %s)", sub, s.Absent, span)
		switch {
		case !r.ok:
			kind, body = "substitute_queue", fmt.Sprintf("returned to the queue: %s is absent (%s) and no substitute present can be reached: %s",
				s.Absent, span, strings.Join(names, " → "))
		case target.Disabled:
			kind, body = "substitute_queue", fmt.Sprintf("returned to the queue: %s is absent (%s) and their substitute %s is disabled", s.Absent, span, sub)
		case v.Queue:
			kind, body = "substitute_queue", fmt.Sprintf("returned to the queue: %s is absent (%s) and their substitute %s may not take the step %s",
				s.Absent, span, sub, strings.Join(v.Kept, ", "))
		default:
			id := target.ID
			to = &id
		}
		res, err := tx.Exec(ctx, `UPDATE cases SET assignee_id = ?, updated_at = ?, version = version + 1 WHERE id = ? AND assignee_id = ?`,
			to, tx.Now, c.ID, s.UserID)
		if err != nil {
			return translate(err, "case")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // reassigned meanwhile by someone else
		}
		c.Version++
		if err := tx.event(ctx, c, kind, body, false); err != nil {
			return err
		}
		after := map[string]any{"assignee_id": to, "substitution_id": s.ID}
		if len(v.Kept) > 0 {
			after["kept_steps"] = v.Kept
		}
		if len(r.chain) > 1 {
			chain := []int64{s.UserID}
			for _, l := range r.chain {
				chain = append(chain, l.Substitute)
			}
			after["chain"] = chain
		}
		if err := tx.Audit(ctx, c.MunicipalityID, "case.reassign_absence", "case", c.ID, map[string]any{"assignee_id": s.UserID}, after); err != nil {
			return err
		}
		if to == nil {
			out.queued = append(out.queued, c.ID)
			queuedNumbers = append(queuedNumbers, c.Number)
			if firstQueued == nil {
				firstQueued = &c.ID
			}
			continue
		}
		out.reassigned = append(out.reassigned, c.ID)
		key := strings.Join(via, ", ")
		var n *notice
		for _, x := range notices {
			if x.to.ID == target.ID && x.via == key {
				n = x
			}
		}
		if n == nil {
			n = &notice{to: target, via: key, first: c.ID}
			notices = append(notices, n)
		}
		n.numbers = append(n.numbers, c.Number)
	}
	for _, n := range notices {
		subject := fmt.Sprintf("Cereri preluate de la %s (%d)", s.Absent, len(n.numbers))
		body := fmt.Sprintf("Sunteți înlocuitorul lui %s în perioada %s. V-au fost repartizate cererile: %s.\n"+
			"You are %s's substitute for %s. These cases are now yours: %s.",
			s.Absent, span, listNumbers(n.numbers), s.Absent, span, listNumbers(n.numbers))
		if n.via != "" {
			body = fmt.Sprintf("%s este absent în perioada %s, iar înlocuitorul (%s) lipsește și el. V-au fost repartizate cererile: %s.\n"+
				"%s is absent for %s and their substitute (%s) is away too. These cases are now yours: %s.",
				s.Absent, span, n.via, listNumbers(n.numbers), s.Absent, span, n.via, listNumbers(n.numbers))
		}
		if err := tx.staffNotice(ctx, s.MunicipalityID, n.first, n.to.ID, n.to.Email, subject, body); err != nil {
			return err
		}
	}
	// The admin who recorded the absence learns what nobody took.
	if len(queuedNumbers) > 0 && s.CreatedBy != nil {
		var mail string
		if err := tx.Get(ctx, &mail, `SELECT email FROM users WHERE id = ?`, *s.CreatedBy); err != nil {
			return translate(err, "user")
		}
		subject := fmt.Sprintf("Cereri revenite în coadă: absența lui %s (%d)", s.Absent, len(queuedNumbers))
		body := fmt.Sprintf("Nimeni dintre înlocuitorii lui %s (%s) nu poate prelua pașii acestor cereri; repartizați-le: %s.\n"+
			"None of %s's substitutes (%s) may take the steps of these cases; assign them: %s.",
			s.Absent, span, listNumbers(queuedNumbers), s.Absent, span, listNumbers(queuedNumbers))
		if err := tx.staffNotice(ctx, s.MunicipalityID, *firstQueued, *s.CreatedBy, mail, subject, body); err != nil {
			return err
		}
	}
	return nil
}

// staffMember is a member of staff a case may go to.
type staffMember struct {
	ID       int64  `db:"id"`
	Username string `db:"username"`
	Role     string `db:"role"`
	Email    string `db:"email"`
	Disabled bool   `db:"disabled"`
}

// substitutionLinkRow is a substitution in force with its absent person.
type substitutionLinkRow struct {
	ID           int64      `db:"id"`
	UserID       int64      `db:"user_id"`
	SubstituteID int64      `db:"substitute_id"`
	From         civil.Date `db:"from_on"`
	To           civil.Date `db:"to_on"`
	Mode         string     `db:"mode"`
	CaseType     string     `db:"case_type"`
	Username     string     `db:"username"`
	Role         string     `db:"role"`
}

const substitutionLinkCols = `s.id, s.user_id, s.substitute_id, s.from_on, s.to_on, s.mode, s.case_type, u.username, u.role`

func (r *substitutionLinkRow) link() fiscal.SubstitutionLink {
	return fiscal.SubstitutionLink{ID: r.ID, Absent: r.UserID, Substitute: r.SubstituteID, From: r.From, To: r.To, Mode: r.Mode, CaseType: r.CaseType}
}

// linksInForce lists the municipality's substitutions in force on day
// (index substitutions_in_force); one whose absent person is disabled
// counts for nothing.
func (tx *Tx) linksInForce(ctx context.Context, municipalityID int64, day civil.Date) ([]fiscal.SubstitutionLink, error) {
	var rows []substitutionLinkRow
	if err := tx.Select(ctx, &rows, `SELECT `+substitutionLinkCols+` FROM substitutions s JOIN users u ON u.id = s.user_id
		WHERE s.municipality_id = ? AND s.to_on >= ? AND s.from_on <= ? AND u.disabled = ?`, municipalityID, day, day, false); err != nil {
		return nil, translate(err, "substitutions")
	}
	out := make([]fiscal.SubstitutionLink, len(rows))
	for i := range rows {
		out[i] = rows[i].link()
	}
	return out, nil
}

// activeSubstitution is someone the actor may act for today: the absent
// person's id, username and role, and the mode of their own substitution.
type activeSubstitution struct {
	UserID   int64
	Username string
	Role     string
	Mode     string
}

// substitutions lists whom the actor may act for today on a case of typ,
// nearest first (fiscal.Covered): the absent people of the substitutions in
// force naming the actor as substitute, then those of the substitutions
// naming them, and so on, each link in force today and covering typ. The
// links are read one distance at a time on the substitutes' index.
func (tx *Tx) substitutions(ctx context.Context, municipalityID, substituteID int64, typ string, today civil.Date) ([]activeSubstitution, error) {
	var links []fiscal.SubstitutionLink
	who := map[int64]substitutionLinkRow{}
	frontier := []int64{substituteID}
	for depth := 0; depth < fiscal.MaxSubstitutionChain && len(frontier) > 0; depth++ {
		var next []int64
		for _, id := range frontier {
			var rows []substitutionLinkRow
			if err := tx.Select(ctx, &rows, `SELECT `+substitutionLinkCols+` FROM substitutions s JOIN users u ON u.id = s.user_id
				WHERE s.municipality_id = ? AND s.substitute_id = ? AND s.to_on >= ? AND s.from_on <= ? AND (s.case_type = '' OR s.case_type = ?) AND u.disabled = ?`,
				municipalityID, id, today, today, typ, false); err != nil {
				return nil, translate(err, "substitutions")
			}
			for _, r := range rows {
				links = append(links, r.link())
				if _, ok := who[r.UserID]; !ok && r.UserID != substituteID {
					who[r.UserID] = r
					next = append(next, r.UserID)
				}
			}
		}
		frontier = next
	}
	covers := fiscal.Covered(substituteID, links, typ, today)
	out := make([]activeSubstitution, len(covers))
	for i, c := range covers {
		r := who[c.Absent]
		out[i] = activeSubstitution{UserID: c.Absent, Username: r.Username, Role: r.Role, Mode: c.Mode()}
	}
	return out, nil
}

// staffNotice queues a message to a member of staff about a case (outbox).
func (tx *Tx) staffNotice(ctx context.Context, municipalityID, caseID, userID int64, to, subject, body string) error {
	if to == "" {
		return nil // an account without an address: the timeline and the queue show the move
	}
	_, err := tx.Exec(ctx, `INSERT INTO notifications (municipality_id, case_id, user_id, recipient, subject, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		municipalityID, caseID, userID, to, subject, body, tx.Now)
	return translate(err, "notification")
}

// listNumbers names at most 50 cases in a notice.
func listNumbers(numbers []string) string {
	if len(numbers) <= 50 {
		return strings.Join(numbers, ", ")
	}
	return strings.Join(numbers[:50], ", ") + fmt.Sprintf(" … (+%d)", len(numbers)-50)
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
