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
	if err := tx.Get(ctx, &s, `SELECT s.id, s.municipality_id, s.user_id, s.substitute_id, s.from_on, s.to_on, s.case_type, s.created_by,
		a.username AS absent, a.role AS absent_role, b.username AS substitute, b.role AS substitute_role, b.email AS substitute_email, b.disabled AS substitute_disabled
		FROM substitutions s JOIN users a ON a.id = s.user_id JOIN users b ON b.id = s.substitute_id WHERE s.id = ?`, id); err != nil {
		return nil, translate(err, "substitution")
	}
	out := &absenceMoves{at: tx.Now, reassigned: []int64{}, queued: []int64{}}
	state := fiscal.AbsenceOn(cal, today, s.From, s.To)
	if state == fiscal.AbsenceDue {
		if err := tx.moveAbsentCases(ctx, &s, cal, out); err != nil {
			return nil, err
		}
	}
	return out, tx.Audit(ctx, s.MunicipalityID, "substitution.reassign", "substitution", s.ID, nil, map[string]any{
		"user_id": s.UserID, "substitute_id": s.SubstituteID, "from": s.From, "to": s.To,
		"lapsed": state != fiscal.AbsenceDue, "reassigned": out.reassigned, "queued": out.queued})
}

// moveAbsentCases moves each open case assigned to the absent person (of
// the substitution's type, if it names one).
func (tx *Tx) moveAbsentCases(ctx context.Context, s *substitutionRow, cal *calendar.Calendar, out *absenceMoves) error {
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
	var movedNumbers, queuedNumbers []string
	var firstMoved, firstQueued *int64
	span := fmt.Sprintf("%s – %s", s.From, s.To)
	for _, id := range ids {
		c, err := tx.loadCase(ctx, id)
		if err != nil {
			return err
		}
		var v fiscal.AbsenceVerdict
		if c.def != nil {
			open, err := tx.openSteps(ctx, c, cal)
			if err != nil {
				return err
			}
			v = fiscal.AbsenceReassignment(c.def.def, open, fiscal.Role(s.AbsentRole), fiscal.Role(s.SubstituteRole))
		}
		var to *int64
		kind, body := "substitute", fmt.Sprintf("reassigned to %s, substitute for %s (absent %s)", s.Substitute, s.Absent, span)
		switch {
		case s.SubstituteOff:
			kind, body = "substitute_queue", fmt.Sprintf("returned to the queue: %s is absent (%s) and their substitute %s is disabled", s.Absent, span, s.Substitute)
		case v.Queue:
			kind, body = "substitute_queue", fmt.Sprintf("returned to the queue: %s is absent (%s) and their substitute %s may not take the step %s",
				s.Absent, span, s.Substitute, strings.Join(v.Kept, ", "))
		default:
			sub := s.SubstituteID
			to = &sub
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
		if err := tx.Audit(ctx, c.MunicipalityID, "case.reassign_absence", "case", c.ID, map[string]any{"assignee_id": s.UserID}, after); err != nil {
			return err
		}
		if to != nil {
			out.reassigned = append(out.reassigned, c.ID)
			movedNumbers = append(movedNumbers, c.Number)
			if firstMoved == nil {
				firstMoved = &c.ID
			}
		} else {
			out.queued = append(out.queued, c.ID)
			queuedNumbers = append(queuedNumbers, c.Number)
			if firstQueued == nil {
				firstQueued = &c.ID
			}
		}
	}
	// One notice to the substitute for all the cases, not one per case.
	if len(movedNumbers) > 0 {
		subject := fmt.Sprintf("Cereri preluate de la %s (%d)", s.Absent, len(movedNumbers))
		body := fmt.Sprintf("Sunteți înlocuitorul lui %s în perioada %s. V-au fost repartizate cererile: %s.\n"+
			"You are %s's substitute for %s. These cases are now yours: %s.",
			s.Absent, span, listNumbers(movedNumbers), s.Absent, span, listNumbers(movedNumbers))
		if err := tx.staffNotice(ctx, s.MunicipalityID, *firstMoved, s.SubstituteID, s.SubstituteMail, subject, body); err != nil {
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
		body := fmt.Sprintf("Înlocuitorul %s nu poate prelua pașii acestor cereri ale lui %s (%s); repartizați-le: %s.\n"+
			"The substitute %s may not take the steps of these cases of %s (%s); assign them: %s.",
			s.Substitute, s.Absent, span, listNumbers(queuedNumbers), s.Substitute, s.Absent, span, listNumbers(queuedNumbers))
		if err := tx.staffNotice(ctx, s.MunicipalityID, *firstQueued, *s.CreatedBy, mail, subject, body); err != nil {
			return err
		}
	}
	return nil
}

// staffNotice queues a message to a member of staff about a case (outbox).
func (tx *Tx) staffNotice(ctx context.Context, municipalityID, caseID, userID int64, to, subject, body string) error {
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
