package fiscal

import (
	"time"
	_ "time/tzdata" // Europe/Bucharest on machines without a zoneinfo database

	"fiscald/calc/calendar"
	"fiscald/internal/civil"
)

var bucharest = func() *time.Location {
	l, err := time.LoadLocation("Europe/Bucharest")
	if err != nil {
		panic("fiscal: Europe/Bucharest: " + err.Error())
	}
	return l
}()

// SLA states (contract: sla.state).
const (
	SLAOnTrack  = "on_track"
	SLAAtRisk   = "at_risk"
	SLABreached = "breached"
	SLAPaused   = "paused"
)

// SLAAtRiskDays is the number of working days left at or below which a case
// is at risk.
const SLAAtRiskDays = 1

// SLA is a case's service-level position (contract: sla).
type SLA struct {
	DueOn           civil.Date `json:"due_on"`
	WorkingDaysLeft int        `json:"working_days_left"`
	State           string     `json:"state"`
}

// Pause is a period the case waited for the taxpayer: from the day the
// information was requested to the day the taxpayer answered (To nil while
// still waiting).
type Pause struct {
	From civil.Date  `json:"from"`
	To   *civil.Date `json:"to"`
}

// SLAExplanation shows officers how a due date was computed.
type SLAExplanation struct {
	SubmittedOn       civil.Date         `json:"submitted_on"`
	WorkingDays       int                `json:"working_days"`
	Pauses            []Pause            `json:"pauses"`
	PausedWorkingDays int                `json:"paused_working_days"`
	DueOn             civil.Date         `json:"due_on"`
	Skipped           []calendar.Skipped `json:"skipped"`
	Rule              string             `json:"rule"`
}

// ComputeSLA places a case against its target: the due date is `days`
// working days after the day of submission (counting from the next day,
// skipping weekends, legal holidays and bridge days), moved by the working
// days spent waiting for the taxpayer. A pause from day P to day R costs the
// working days in (P, R]; an open pause runs until today. The position is
// taken on today, or on the day of the decision for a closed case (closedOn).
func ComputeSLA(cal *calendar.Calendar, submittedOn civil.Date, days int, pauses []Pause, today civil.Date, closedOn *civil.Date) (SLA, SLAExplanation) {
	paused, open := 0, false
	for _, p := range pauses {
		to := today
		if p.To != nil {
			to = *p.To
		} else {
			open = true
		}
		if to.After(p.From) {
			paused += cal.WorkingDaysBetween(p.From, to)
		}
	}
	due, skipped := cal.AddWorkingDays(submittedOn, days+paused)
	ref := today
	if closedOn != nil {
		ref = *closedOn
	}
	s := SLA{DueOn: due, WorkingDaysLeft: cal.WorkingDaysBetween(ref, due)}
	switch {
	case open && closedOn == nil:
		s.State = SLAPaused
	case ref.After(due):
		s.State = SLABreached
	case closedOn != nil:
		s.State = SLAOnTrack
	case s.WorkingDaysLeft <= SLAAtRiskDays:
		s.State = SLAAtRisk
	default:
		s.State = SLAOnTrack
	}
	if pauses == nil {
		pauses = []Pause{}
	}
	if skipped == nil {
		skipped = []calendar.Skipped{}
	}
	return s, SLAExplanation{SubmittedOn: submittedOn, WorkingDays: days, Pauses: pauses, PausedWorkingDays: paused, DueOn: due, Skipped: skipped,
		Rule: "due = submission day + working days + working days paused, counted from the next day, skipping weekends, legal holidays (Codul muncii art. 139) and bridge days"}
}

// SLARank orders cases for the queue: breached first, then at risk, on
// track, paused.
func SLARank(state string) int {
	switch state {
	case SLABreached:
		return 0
	case SLAAtRisk:
		return 1
	case SLAOnTrack:
		return 2
	}
	return 3
}

// SLAActions decides what the SLA monitor does for an open case in
// position s: escalate it to the signers once, when it turned at risk or
// breached and was not escalated yet; record its breach once, when it is
// breached and was not recorded yet.
func SLAActions(s SLA, escalated, breached bool) (escalate, breach bool) {
	escalate = !escalated && (s.State == SLAAtRisk || s.State == SLABreached)
	breach = !breached && s.State == SLABreached
	return escalate, breach
}

// EndPauses ends the open pause of a case (the taxpayer answered) on today
// and returns the new list; ended pauses are kept as they were.
func EndPauses(pauses []Pause, today civil.Date) []Pause {
	out := append([]Pause(nil), pauses...)
	for i := range out {
		if out[i].To == nil {
			t := today
			out[i].To = &t
		}
	}
	return out
}

// StepDue is the due date of a step with its own term of days working days
// that opened on opened: counted like a case's (ComputeSLA), moved by the
// working days the case waited for the taxpayer since the step opened (a
// request_info on the step itself), never by the pauses before it.
func StepDue(cal *calendar.Calendar, opened civil.Date, days int, pauses []Pause, today civil.Date) civil.Date {
	var since []Pause
	for _, p := range pauses {
		if !p.From.Before(opened) {
			since = append(since, p)
		}
	}
	s, _ := ComputeSLA(cal, opened, days, since, today, nil)
	return s.DueOn
}
