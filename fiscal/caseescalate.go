package fiscal

import (
	"fiscald/calc/calendar"
	"fiscald/internal/civil"
)

// EscalationRule is one escalation of a definition as the sweep runs it:
// the top-level step it watches (a branch's group), the rule's index in
// the definition (warnings before a deemed decision: index + 1000) and
// the latest day the step may have opened for the rule to be due today.
type EscalationRule struct {
	Index  int
	Step   string // the step named (a branch: "opinions.urbanism")
	Top    string // the top-level step the case waits at
	Action string // notify, reassign, deem, or warn (before deem)
	Esc    DefEscalation
	Cutoff civil.Date
}

// OnBranch reports whether the rule names a branch of a parallel group: it
// is due only while that branch is open (not taken since the group opened),
// not merely while the group is.
func (r EscalationRule) OnBranch() bool { return r.Step != r.Top }

// WarnOffset numbers the warning before a deemed decision.
const WarnOffset = 1000

// EscalationCutoff is the latest day a step may have opened to be open
// for n working days today: the largest d with AddWorkingDays(d, n) <= today.
func EscalationCutoff(cal *calendar.Calendar, today civil.Date, n int) civil.Date {
	d := today.AddDays(-n)
	for {
		due, _ := cal.AddWorkingDays(d, n)
		if !due.After(today) {
			break
		}
		d = d.AddDays(-1)
	}
	for {
		due, _ := cal.AddWorkingDays(d.AddDays(1), n)
		if due.After(today) {
			return d
		}
		d = d.AddDays(1)
	}
}

// EscalationRules lists the definition's escalations due for steps opened
// on or before each rule's cutoff, today; a deem with warn_working_days
// adds its warning (a notify) warn days before.
func (d *CaseDefinition) EscalationRules(cal *calendar.Calendar, today civil.Date) []EscalationRule {
	var out []EscalationRule
	for i, e := range d.Escalations {
		top := e.Step
		if ref, ok := d.takeable()[e.Step]; ok {
			top = d.Steps[ref.top].Name
		}
		out = append(out, EscalationRule{Index: i, Step: e.Step, Top: top, Action: e.Action, Esc: e,
			Cutoff: EscalationCutoff(cal, today, e.AfterWorkingDays)})
		if e.Action == "deem" && e.WarnWorkingDays > 0 && e.AfterWorkingDays > e.WarnWorkingDays {
			out = append(out, EscalationRule{Index: i + WarnOffset, Step: e.Step, Top: top, Action: "warn", Esc: e,
				Cutoff: EscalationCutoff(cal, today, e.AfterWorkingDays-e.WarnWorkingDays)})
		}
	}
	return out
}

// EscalationReport is what one sweep of the published types' escalations did.
type EscalationReport struct {
	Notified   int `json:"notified"`
	Reassigned int `json:"reassigned"`
	Warned     int `json:"warned"`
	Deemed     int `json:"deemed"`
}
