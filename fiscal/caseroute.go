package fiscal

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"fiscald/internal/civil"
)

// RouteAct is one act taken on a case of a published type: the step by its
// full name ("review", "opinions.urbanism"), the decision and who took it.
type RouteAct struct {
	Step     string
	Decision string
	ActorID  int64
}

// OpenStep is a step a case waits for: its full name, the roles that may
// take it and the index of the act after which it opened (-1: at filing).
type OpenStep struct {
	Step           string   `json:"step"`
	Roles          []Role   `json:"roles"`
	Decisions      []string `json:"decisions"`
	OpenedAfter    int      `json:"-"`
	SLAWorkingDays int      `json:"-"`
	// DueOn is set by the store from the working-day calendar.
	DueOn *civil.Date `json:"due_on,omitempty"`
}

// Route is where a case of a published type stands: an outcome
// (approved/rejected) or the open steps of its current top-level step.
type Route struct {
	Outcome     CaseStatus
	Current     int
	openedAfter int
	branches    map[int]string
	taken       map[string][]int64
	acts        int
}

// NewRoute is the route of a case just filed: at the first step.
func (d *CaseDefinition) NewRoute() *Route {
	return &Route{openedAfter: -1, branches: map[int]string{}, taken: map[string][]int64{}}
}

// Replay rebuilds the route from the acts taken so far (in order).
func (d *CaseDefinition) Replay(acts []RouteAct) (*Route, error) {
	return d.ReplayFrom("", nil, acts)
}

// ReplayFrom rebuilds the route of a case moved to this version at the
// top-level step start (empty: the first step): the acts before the move
// (prior) count only for distinct_from, the acts since move the route.
func (d *CaseDefinition) ReplayFrom(start string, prior, acts []RouteAct) (*Route, error) {
	r := d.NewRoute()
	if start != "" {
		if r.Current = d.stepIndex(start); r.Current < 0 {
			return nil, Errorf(EINTERNAL, "the case was moved to an unknown step %s", start)
		}
	}
	for _, a := range prior {
		r.taken[a.Step] = append(r.taken[a.Step], a.ActorID)
	}
	for _, a := range acts {
		if err := d.apply(r, a); err != nil {
			return nil, Internal(err, "the case's steps do not follow its definition")
		}
	}
	return r, nil
}

// Open lists the steps open now (none once decided).
func (d *CaseDefinition) Open(r *Route) []OpenStep {
	if r.Outcome != "" || r.Current < 0 || r.Current >= len(d.Steps) {
		return []OpenStep{}
	}
	s := &d.Steps[r.Current]
	sla := s.SLAWorkingDays
	if len(s.Parallel) == 0 {
		return []OpenStep{{Step: s.Name, Roles: s.Roles, Decisions: s.decisions(), OpenedAfter: r.openedAfter, SLAWorkingDays: sla}}
	}
	out := []OpenStep{}
	for j := range s.Parallel {
		if _, done := r.branches[j]; !done {
			b := &s.Parallel[j]
			bs := b.SLAWorkingDays
			if bs == 0 {
				bs = sla
			}
			out = append(out, OpenStep{Step: s.Name + "." + b.Name, Roles: b.Roles, Decisions: b.decisions(), OpenedAfter: r.openedAfter, SLAWorkingDays: bs})
		}
	}
	return out
}

// Step returns a takeable step by its full name.
func (d *CaseDefinition) Step(name string) (*DefStep, bool) {
	ref, ok := d.takeable()[name]
	return ref.step, ok
}

// TopStep returns a top-level step (a desk or a parallel group) by name.
func (d *CaseDefinition) TopStep(name string) (*DefStep, bool) {
	if i := d.stepIndex(name); i >= 0 {
		return &d.Steps[i], true
	}
	return nil, false
}

// distinctList is what a step must be distinct from: its own list and,
// for a branch, its group's.
func (d *CaseDefinition) distinctList(name string) []string {
	ref, ok := d.takeable()[name]
	if !ok {
		return nil
	}
	out := append([]string(nil), ref.step.DistinctFrom...)
	if ref.branch >= 0 {
		out = append(out, d.Steps[ref.top].DistinctFrom...)
	}
	return out
}

func matchesStep(entry, name string) bool {
	return entry == name || strings.HasPrefix(name, entry+".")
}

// Separated reports whether distinct_from forbids one person taking both
// steps (either step may name the other, or the other's group).
func (d *CaseDefinition) Separated(x, y string) bool {
	for _, e := range d.distinctList(x) {
		if matchesStep(e, y) {
			return true
		}
	}
	for _, e := range d.distinctList(y) {
		if matchesStep(e, x) {
			return true
		}
	}
	return false
}

// Take checks an act by a person of role on the route and applies it: an
// unknown step or decision is EINVALID, a role the step does not name is
// EFORBIDDEN, a step not open now or one the person may not take after a
// step distinct_from separates is ECONFLICT. A request_info leaves the
// step open (the caller pauses the case).
func (d *CaseDefinition) Take(r *Route, a RouteAct, role Role) error {
	ref, ok := d.takeable()[a.Step]
	if !ok {
		names := make([]string, 0)
		for n := range d.takeable() {
			names = append(names, n)
		}
		slices.Sort(names)
		return InvalidField("step", "is not a step of this request type (one of: "+strings.Join(names, ", ")+")")
	}
	if !slices.Contains(ref.step.Roles, role) {
		return Errorf(EFORBIDDEN, "your role (%s) may not take the step %s", role, a.Step)
	}
	if !slices.Contains(ref.step.decisions(), a.Decision) {
		return InvalidField("decision", "must be one of: "+strings.Join(ref.step.decisions(), ", "))
	}
	if r.Outcome != "" {
		return Errorf(ECONFLICT, "the case is %s", r.Outcome)
	}
	open := false
	names := []string{}
	for _, o := range d.Open(r) {
		open = open || o.Step == a.Step
		names = append(names, o.Step)
	}
	if !open {
		return Errorf(ECONFLICT, "the step %s is not open now (open: %s)", a.Step, strings.Join(names, ", "))
	}
	for other, actors := range r.taken {
		// The system (actor 0: a straight-through review, a deemed
		// decision) is not a person: four eyes are about people.
		if a.ActorID != 0 && slices.Contains(actors, a.ActorID) && d.Separated(a.Step, other) {
			return &Error{Code: ECONFLICT, Err: ErrFourEyes,
				Message: fmt.Sprintf("four eyes: you took the step %s of this case; %s must be taken by someone else", other, a.Step)}
		}
	}
	return d.apply(r, a)
}

// apply moves the route by an act already checked (Take) or recorded.
func (d *CaseDefinition) apply(r *Route, a RouteAct) error {
	defer func() { r.acts++ }()
	ref, ok := d.takeable()[a.Step]
	if !ok || r.Outcome != "" || ref.top != r.Current {
		return Errorf(ECONFLICT, "step %s is not open", a.Step)
	}
	r.taken[a.Step] = append(r.taken[a.Step], a.ActorID)
	if a.Decision == DecisionRequestInfo {
		return nil
	}
	if ref.branch < 0 {
		d.move(r, d.target(ref.top, a.Decision))
		return nil
	}
	if _, done := r.branches[ref.branch]; done {
		return Errorf(ECONFLICT, "step %s was taken", a.Step)
	}
	r.branches[ref.branch] = a.Decision
	s := &d.Steps[ref.top]
	m, need := len(s.Parallel), len(s.Parallel)
	if s.Quorum == QuorumNOfM {
		need = s.N
	}
	yes, no := 0, 0
	for _, dec := range r.branches {
		if dec == DecisionApprove {
			yes++
		} else {
			no++
		}
	}
	switch {
	case yes >= need:
		d.move(r, d.target(ref.top, DecisionApprove))
	case no > m-need:
		d.move(r, d.target(ref.top, DecisionReject))
	}
	return nil
}

func (d *CaseDefinition) move(r *Route, t int) {
	switch t {
	case -1:
		r.Outcome = StatusApproved
	case -2:
		r.Outcome = StatusRejected
	default:
		r.Current = t
	}
	r.branches, r.openedAfter = map[int]string{}, r.acts
}

// RoutePlan is a dry run: the steps a sample case would take if every step
// approved, until it ends.
type RoutePlan struct {
	Steps   []string   `json:"steps"`
	Outcome CaseStatus `json:"outcome"`
}

// DryRun walks the route approving every open step (bounded, since a
// checked definition ends) and lists the steps taken in order.
func (d *CaseDefinition) DryRun() RoutePlan {
	r := d.NewRoute()
	plan := RoutePlan{Steps: []string{}}
	for i := 0; i < 1000 && r.Outcome == ""; i++ {
		open := d.Open(r)
		if len(open) == 0 {
			break
		}
		st := open[0]
		plan.Steps = append(plan.Steps, st.Step)
		dec := DecisionApprove
		if s, _ := d.Step(st.Step); !slices.Contains(s.decisions(), DecisionApprove) {
			dec = DecisionReject
		}
		if d.apply(r, RouteAct{Step: st.Step, Decision: dec, ActorID: int64(i + 1)}) != nil {
			break
		}
	}
	plan.Outcome = r.Outcome
	return plan
}

// CheckStepMap checks the step map of a move from version from to version
// to: every top-level step of from is mapped, to a top-level step of to.
// The error names step_map.<step>.
func CheckStepMap(from, to *CaseDefinition, m map[string]string) error {
	var errs []FieldError
	for k, v := range m {
		if from.stepIndex(k) < 0 {
			errs = append(errs, FieldError{"step_map." + k, "is not a step of the version the cases leave (a parallel step is mapped by its name, not its branches)"})
		} else if to.stepIndex(v) < 0 {
			errs = append(errs, FieldError{"step_map." + k, "names " + strconv.Quote(v) + ", not a step of the new version"})
		}
	}
	for _, s := range from.Steps {
		if _, ok := m[s.Name]; !ok {
			errs = append(errs, FieldError{"step_map." + s.Name, "is not mapped: every step of the version the cases leave needs a step of the new one"})
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return Invalid(errs...)
	}
	return nil
}

// StatusAt is the case's status on route r: its outcome when it ended,
// else the status its open step names (submitted by default). A request
// for information is the caller's (awaiting_taxpayer).
func (d *CaseDefinition) StatusAt(r *Route) CaseStatus {
	if r.Outcome != "" {
		return r.Outcome
	}
	if r.Current >= 0 && r.Current < len(d.Steps) && d.Steps[r.Current].Status != "" {
		return d.Steps[r.Current].Status
	}
	return StatusSubmitted
}

// FirstStep is the step a case starts at when it is a single desk (not
// parallel branches): the one a straight-through decision takes.
func (d *CaseDefinition) FirstStep() (*DefStep, bool) {
	if len(d.Steps) == 0 || len(d.Steps[0].Parallel) > 0 {
		return nil, false
	}
	return &d.Steps[0], true
}

// Moves counts how often the route entered a step (for the store to notice
// that an act moved the case on).
func (r *Route) Moves() int { return r.openedAfter }

// CurrentStep is the top-level step a route waits at ("" once decided).
func (d *CaseDefinition) CurrentStep(r *Route) string {
	if r.Outcome != "" || r.Current < 0 || r.Current >= len(d.Steps) {
		return ""
	}
	return d.Steps[r.Current].Name
}
