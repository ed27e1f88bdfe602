package fiscal

import (
	"slices"

	"fiscald/calc/calendar"
	"fiscald/internal/civil"
)

// Absences (contract: POST /api/v1/admin/substitutions; issue 17). When a
// substitution's first day arrives, the absent person's open cases
// (cases.assignee_id: the officer in charge of the file, whatever step it
// waits at) go to the substitute, once: the store claims the substitution
// and moves the cases in one transaction. These are the rules it follows.
//
//   - A case moves to the substitute unless one of its open steps is the
//     absent person's (their role may take it), is not substitutable
//     ("substitutable": false, on the step or its parallel group) and the
//     substitute's own role may not take it either, while no other open step
//     is one the substitute may take. Such a case returns to the queue
//     (unassigned), flagged in its timeline: the substitute cannot act on it,
//     and leaving it with someone away lets its term run out unseen; the
//     queue (assignee=none) is where the head of service hands it to someone
//     who holds the role in their own right.
//   - A case waiting at steps neither person takes (an officer's file at the
//     signer's desk) or of a built-in type moves: the file follows its
//     officer's substitute.
//   - When the absence ends the cases stay with the substitute (nothing
//     moves back: the substitute may have started on them, and moving work
//     twice in a few days costs more than it saves; the head of service
//     reassigns by hand what should go back).

// AbsenceState is where a substitution stands on a day.
type AbsenceState int

const (
	// AbsencePending: the absence starts after today.
	AbsencePending AbsenceState = iota
	// AbsenceDue: the absence has started and a working day of it remains:
	// the absent person's cases move today.
	AbsenceDue
	// AbsenceLapsed: the absence is over, or no working day of it remains
	// (a weekend, a holiday): nobody works during it, nothing moves.
	AbsenceLapsed
)

// AbsenceOn says whether a substitution from..to moves cases today, on the
// municipality's working-day calendar.
func AbsenceOn(cal *calendar.Calendar, today, from, to civil.Date) AbsenceState {
	if today.Before(from) {
		return AbsencePending
	}
	for d := today; !d.After(to); d = d.AddDays(1) {
		if ok, _ := cal.IsWorkingDay(d); ok {
			return AbsenceDue
		}
	}
	return AbsenceLapsed
}

// AbsenceVerdict is where a case assigned to an absent person goes.
type AbsenceVerdict struct {
	// Queue: the case returns to the queue (unassigned) instead of going
	// to the substitute.
	Queue bool
	// Takeable are the open steps the substitute may take (as the absent
	// person or in their own right); Kept those of the absent person the
	// substitute may not take (not substitutable).
	Takeable []string
	Kept     []string
}

// AbsenceReassignment decides where a case of a published type (d; nil for
// a built-in type) whose open steps are open goes when its assignee, of role
// absent, is away and covered by a substitute of role substitute.
func AbsenceReassignment(d *CaseDefinition, open []OpenStep, absent, substitute Role) AbsenceVerdict {
	var v AbsenceVerdict
	if d == nil {
		return v
	}
	for _, o := range open {
		own := slices.Contains(o.Roles, substitute)
		theirs := slices.Contains(o.Roles, absent)
		switch {
		case own || theirs && d.StepSubstitutable(o.Step):
			v.Takeable = append(v.Takeable, o.Step)
		case theirs:
			v.Kept = append(v.Kept, o.Step)
		}
	}
	v.Queue = len(v.Kept) > 0 && len(v.Takeable) == 0
	return v
}

// StepSubstitutable reports whether a substitute may take the step of that
// full name: a branch is not when it or its parallel group says
// "substitutable": false.
func (d *CaseDefinition) StepSubstitutable(name string) bool {
	ref, ok := d.takeable()[name]
	if !ok {
		return true
	}
	if ref.branch >= 0 && !d.Steps[ref.top].IsSubstitutable() {
		return false
	}
	return ref.step.IsSubstitutable()
}
