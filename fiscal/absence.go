package fiscal

import (
	"cmp"
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
//     signer's desk) moves: the file follows its officer's substitute.
//   - When the absence ends the cases stay with the substitute (nothing
//     moves back: the substitute may have started on them, and moving work
//     twice in a few days costs more than it saves; the head of service
//     reassigns by hand what should go back).
//
// Chains of substitutes: the substitute may be away too (A absent, B
// substitutes; B absent, C substitutes). The rules, on a day and for a case
// type:
//
//   - Someone is absent when a substitution in force that day (from_on ≤
//     day ≤ to_on) names them as the absent person and covers the type (its
//     case_type, or every type when empty); else they are present.
//   - Reassignment follows the chain (SubstituteChain): when A's absence
//     starts, each of A's open cases goes to the first present person along
//     A → B → C …, taking at each absent substitute their own substitution in
//     force for the case's type (the first recorded when they have several),
//     at most MaxSubstitutionChain links. A chain that comes back to someone
//     already on it (A → B → A) or is longer sends the case to the queue.
//     AbsenceReassignment then judges the case's steps with A's role and the
//     role of the person at the end of the chain.
//   - Acting for someone (Covered): a member of staff may take a step with
//     the role of an absent person P when a chain of substitutions, each in
//     force today and covering the case's type, leads from P to them
//     (P → … → them), at most MaxSubstitutionChain links; the nearest such P
//     whose role may take the step is the one they act for. The mode of the
//     first link (P's own substitution, the arrangement P's absence was
//     recorded with) decides: delegate, the act is theirs; on_behalf, it is
//     recorded as theirs for P ("C for A", not for the B in between). A
//     non-substitutable step refuses every substitute, direct or chained.

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

// AbsenceReassignment decides where a case on definition d whose steps
// open are open goes when its assignee, of role
// absent, is away and covered by a substitute of role substitute.
func AbsenceReassignment(d *CaseDefinition, open []OpenStep, absent, substitute Role) AbsenceVerdict {
	var v AbsenceVerdict
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

// SubstitutionLink is one recorded substitution: Absent is away from From
// to To (inclusive) and Substitute covers them, for CaseType ("": every
// type), in Mode (delegate or on_behalf). ID orders the links as recorded.
type SubstitutionLink struct {
	ID         int64
	Absent     int64
	Substitute int64
	From, To   civil.Date
	Mode       string
	CaseType   string
}

// InForce reports whether the link covers a case of typ on day.
func (l *SubstitutionLink) InForce(day civil.Date, typ string) bool {
	return !day.Before(l.From) && !day.After(l.To) && (l.CaseType == "" || l.CaseType == typ)
}

// MaxSubstitutionChain bounds a chain of substitutions (links).
const MaxSubstitutionChain = 5

// absenceOf returns the substitution in force that makes person absent on
// day for typ: the first recorded (lowest ID) of the links naming them.
func absenceOf(person int64, links []SubstitutionLink, typ string, day civil.Date) (SubstitutionLink, bool) {
	var out SubstitutionLink
	found := false
	for i := range links {
		l := &links[i]
		if l.Absent == person && l.InForce(day, typ) && (!found || l.ID < out.ID) {
			out, found = *l, true
		}
	}
	return out, found
}

// SubstituteChain is where a case of typ goes when the absence first starts
// on day: the links followed from first (included) while the substitute is
// absent too; the case goes to the last link's Substitute. ok is false when
// the chain comes back to someone already on it (its last link closes the
// loop) or needs more than MaxSubstitutionChain links: nobody present can
// be reached, the case returns to the queue.
func SubstituteChain(first SubstitutionLink, links []SubstitutionLink, typ string, day civil.Date) (chain []SubstitutionLink, ok bool) {
	chain = []SubstitutionLink{first}
	seen := map[int64]bool{first.Absent: true}
	for cur := first; ; {
		if seen[cur.Substitute] {
			return chain, false
		}
		seen[cur.Substitute] = true
		next, away := absenceOf(cur.Substitute, links, typ, day)
		if !away {
			return chain, true
		}
		if len(chain) == MaxSubstitutionChain {
			return chain, false
		}
		chain = append(chain, next)
		cur = next
	}
}

// Cover is an absent person a member of staff may act for: the links from
// Absent (Chain[0].Absent) to them (the last link's Substitute).
type Cover struct {
	Absent int64
	Chain  []SubstitutionLink
}

// Mode is the mode of the first link: the absent person's own substitution
// decides whether the act is the substitute's (delegate) or recorded for
// them (on_behalf).
func (c Cover) Mode() string { return c.Chain[0].Mode }

// Covered lists the absent people actor may act for on day on a case of
// typ, nearest first (direct substitutions, then through one absent
// substitute, …; at one distance in the order the links were recorded),
// each once, never actor, at most MaxSubstitutionChain links away.
func Covered(actor int64, links []SubstitutionLink, typ string, day civil.Date) []Cover {
	sorted := append([]SubstitutionLink(nil), links...)
	slices.SortFunc(sorted, func(a, b SubstitutionLink) int { return cmp.Compare(a.ID, b.ID) })
	type reach struct {
		person int64
		chain  []SubstitutionLink // from person to actor
	}
	seen := map[int64]bool{actor: true}
	frontier := []reach{{actor, nil}}
	var out []Cover
	for depth := 0; depth < MaxSubstitutionChain && len(frontier) > 0; depth++ {
		var next []reach
		for _, r := range frontier {
			for i := range sorted {
				l := &sorted[i]
				if l.Substitute != r.person || seen[l.Absent] || !l.InForce(day, typ) {
					continue
				}
				seen[l.Absent] = true
				chain := append([]SubstitutionLink{*l}, r.chain...)
				out = append(out, Cover{Absent: l.Absent, Chain: chain})
				next = append(next, reach{l.Absent, chain})
			}
		}
		frontier = next
	}
	return out
}
