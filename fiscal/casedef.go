package fiscal

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"fiscald/internal/civil"
)

// A request type as data (contract: "Request types as data"): a
// municipality publishes a CaseDefinition; each publication of a type is a
// new version. CheckDefinition refuses a definition that cannot complete;
// ParseForm checks a case's data against the form; Route replays the acts
// taken on a case to find its open steps or its outcome. All pure.

// CaseDefinition is a published request type.
type CaseDefinition struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	TitleEN string `json:"title_en"`
	// Authorization marks a type whose silence is consent (OUG 27/2003):
	// only such a type may carry a "deem" escalation.
	Authorization bool `json:"authorization,omitempty"`
	// Effect names the behaviour the type runs (RegisterCaseType): its
	// form, documents, automatic checks and what approval does, such as
	// entering a vehicle. Empty: the definition's own form, no effect
	// beyond the decision. The service ships a definition of each effect
	// (ShippedDefinition); a municipality's later versions of a shipped
	// type keep its effect.
	Effect         string          `json:"effect,omitempty"`
	SLAWorkingDays int             `json:"sla_working_days"`
	Form           DefForm         `json:"form"`
	Documents      []DocumentKind  `json:"documents"`
	Steps          []DefStep       `json:"steps"`
	Escalations    []DefEscalation `json:"escalations,omitempty"`
}

// DefForm is the taxpayer's form of a definition.
type DefForm struct {
	Fields []DefField `json:"fields"`
}

// The kinds of a form field.
const (
	KindString  = "string"
	KindText    = "text"
	KindDate    = "date"
	KindInt     = "int"
	KindDecimal = "decimal"
	KindEnum    = "enum"
	KindCNP     = "cnp"
	KindCUI     = "cui"
	KindIBAN    = "iban"
	KindVIN     = "vin"
)

var fieldKinds = []string{KindString, KindText, KindDate, KindInt, KindDecimal, KindEnum, KindCNP, KindCUI, KindIBAN, KindVIN}

// DefField is one field of a definition's form.
type DefField struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Label    string   `json:"label,omitempty"`
	LabelEN  string   `json:"label_en,omitempty"`
	Required bool     `json:"required,omitempty"`
	MaxLen   int      `json:"max_len,omitempty"`
	Options  []string `json:"options,omitempty"`
	// Min and Max bound an int or a decimal.
	Min *Dec `json:"min,omitempty"`
	Max *Dec `json:"max,omitempty"`
	// RequiredIf makes the field required when another field has a value.
	RequiredIf *FieldCondition `json:"required_if,omitempty"`
}

// FieldCondition is "field equals value" (compared as text).
type FieldCondition struct {
	Field  string `json:"field"`
	Equals string `json:"equals"`
}

// Step decisions of a definition and the route's terminals.
const (
	TerminalApproved = "approved"
	TerminalRejected = "rejected"
	QuorumAll        = "all"
	QuorumNOfM       = "n_of_m"
)

var stepDecisions = []string{DecisionApprove, DecisionReject, DecisionRequestInfo}

// DefStep is a step of the route: a desk (Roles) or parallel branches
// (Parallel) completed by a quorum. Next maps a decision to the step it
// leads to or a terminal ("approved", "rejected"); by default approve leads
// to the next step in the list (approval after the last), reject ends
// rejected, request_info waits for the taxpayer and returns to the step.
type DefStep struct {
	Name           string            `json:"name"`
	Roles          []Role            `json:"roles,omitempty"`
	Decisions      []string          `json:"decisions,omitempty"`
	Parallel       []DefStep         `json:"parallel,omitempty"`
	Quorum         string            `json:"quorum,omitempty"`
	N              int               `json:"n,omitempty"`
	DistinctFrom   []string          `json:"distinct_from,omitempty"`
	Substitutable  *bool             `json:"substitutable,omitempty"`
	Next           map[string]string `json:"next,omitempty"`
	SLAWorkingDays int               `json:"sla_working_days,omitempty"`
	// Status is the case's status while this (top-level) step is open:
	// submitted (the default) or reviewed (a case prepared for signature,
	// in the signers' queue).
	Status CaseStatus `json:"status,omitempty"`
}

// DefEscalation is what happens when a step stays open too long.
type DefEscalation struct {
	Step             string `json:"step"`
	AfterWorkingDays int    `json:"after_working_days"`
	Action           string `json:"action"` // notify, reassign, deem
	ToRole           Role   `json:"to_role,omitempty"`
	Decision         string `json:"decision,omitempty"` // the deemed decision
	WarnWorkingDays  int    `json:"warn_working_days,omitempty"`
}

// IsSubstitutable reports whether a substitute may take the step (default yes).
func (s *DefStep) IsSubstitutable() bool { return s.Substitutable == nil || *s.Substitutable }

// decisions returns the step's decisions with the default.
func (s *DefStep) decisions() []string {
	if len(s.Decisions) == 0 {
		return []string{DecisionApprove, DecisionReject}
	}
	return s.Decisions
}

var (
	defNameRe  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	defTypeRe  = regexp.MustCompile(`^[a-z][a-z0-9_]{2,63}$`)
	knownRoles = []Role{RoleOfficer, RoleSigner, RoleAccountant, RoleAdmin}
)

// ParseDefinition decodes a definition strictly (unknown fields refused)
// and checks it (CheckDefinition).
func ParseDefinition(raw json.RawMessage) (*CaseDefinition, error) {
	var d CaseDefinition
	if fe := strictDecode(raw, &d); fe != nil {
		return nil, Invalid(fe...)
	}
	if err := CheckDefinition(&d); err != nil {
		return nil, err
	}
	return &d, nil
}

// CheckDefinition refuses a definition that is malformed or cannot
// complete: an unknown role, a step nobody can take, a step no route
// reaches, a loop without exit, no terminal decision reachable, a
// distinct_from naming an unknown step, a bad quorum, an escalation that
// does not fit. The error names the field (steps[2].distinct_from[0]).
func CheckDefinition(d *CaseDefinition) error {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if !defTypeRe.MatchString(d.Type) {
		bad("type", "must be 3-64 lower-case letters, digits or _ starting with a letter")
	} else if t, shipped := CaseTypeByName(d.Type); shipped && d.Effect != t.Effect {
		bad("effect", "a version of the shipped type %s keeps its effect: %q", d.Type, t.Effect)
	}
	if d.Effect != "" {
		if _, ok := CaseTypeByName(d.Effect); !ok {
			bad("effect", "is not an effect of the service (one of: %s)", strings.Join(effectNames(), ", "))
		}
		if len(d.Form.Fields) > 0 {
			bad("form.fields", "a type with an effect takes the effect's form: leave the fields out")
		}
		if len(d.Documents) > 0 {
			bad("documents", "a type with an effect takes the effect's documents: leave them out")
		}
	}
	if strings.TrimSpace(d.Title) == "" || len(d.Title) > 200 {
		bad("title", "is required (at most 200 characters)")
	}
	if strings.TrimSpace(d.TitleEN) == "" || len(d.TitleEN) > 200 {
		bad("title_en", "is required (at most 200 characters)")
	}
	if d.SLAWorkingDays < 1 || d.SLAWorkingDays > 365 {
		bad("sla_working_days", "must be between 1 and 365")
	}
	checkForm(d, bad)
	seenDoc := map[string]bool{}
	for i, doc := range d.Documents {
		p := fmt.Sprintf("documents[%d]", i)
		if !defNameRe.MatchString(doc.Kind) {
			bad(p+".kind", "must be lower-case letters, digits or _")
		} else if seenDoc[doc.Kind] {
			bad(p+".kind", "is listed twice")
		}
		seenDoc[doc.Kind] = true
		if strings.TrimSpace(doc.Title) == "" {
			bad(p+".title", "is required")
		}
	}
	if len(errs) == 0 {
		checkSteps(d, bad)
	}
	if len(errs) > 0 {
		return Invalid(errs...)
	}
	return nil
}

func checkForm(d *CaseDefinition, bad func(string, string, ...any)) {
	if len(d.Form.Fields) > 100 {
		bad("form.fields", "at most 100 fields")
	}
	names := map[string]bool{}
	for _, f := range d.Form.Fields {
		names[f.Name] = true
	}
	seen := map[string]bool{}
	for i, f := range d.Form.Fields {
		p := fmt.Sprintf("form.fields[%d]", i)
		if !defNameRe.MatchString(f.Name) {
			bad(p+".name", "must be lower-case letters, digits or _ starting with a letter")
		} else if seen[f.Name] {
			bad(p+".name", "is used by another field")
		}
		seen[f.Name] = true
		if !slices.Contains(fieldKinds, f.Kind) {
			bad(p+".kind", "must be one of: %s", strings.Join(fieldKinds, ", "))
			continue
		}
		if f.MaxLen < 0 || f.MaxLen > 10000 || (f.MaxLen != 0 && f.Kind != KindString && f.Kind != KindText) {
			bad(p+".max_len", "is for string and text fields, at most 10000")
		}
		numeric := f.Kind == KindInt || f.Kind == KindDecimal
		if (f.Min != nil || f.Max != nil) && !numeric {
			bad(p+".min", "min and max are for int and decimal fields")
		}
		if f.Kind == KindInt {
			if f.Min != nil && !f.Min.IsInteger() {
				bad(p+".min", "must be a whole number")
			}
			if f.Max != nil && !f.Max.IsInteger() {
				bad(p+".max", "must be a whole number")
			}
		}
		if f.Min != nil && f.Max != nil && f.Min.Cmp(*f.Max) > 0 {
			bad(p+".max", "is below min")
		}
		if f.Kind == KindEnum {
			if len(f.Options) == 0 {
				bad(p+".options", "an enum needs options")
			}
			for j, o := range f.Options {
				if strings.TrimSpace(o) == "" || slices.Index(f.Options, o) != j {
					bad(fmt.Sprintf("%s.options[%d]", p, j), "is empty or repeated")
				}
			}
		} else if len(f.Options) > 0 {
			bad(p+".options", "options are for enum fields")
		}
		if f.RequiredIf != nil && (f.RequiredIf.Field == f.Name || !names[f.RequiredIf.Field]) {
			bad(p+".required_if.field", "must name another field of the form")
		}
	}
}

// stepRef is a takeable step: a desk at the top level or a branch
// ("opinions.urbanism").
type stepRef struct {
	top, branch int // branch -1 for a desk
	step        *DefStep
}

// takeable lists every step a person takes, by full name.
func (d *CaseDefinition) takeable() map[string]stepRef {
	out := map[string]stepRef{}
	for i := range d.Steps {
		s := &d.Steps[i]
		if len(s.Parallel) == 0 {
			out[s.Name] = stepRef{i, -1, s}
			continue
		}
		for j := range s.Parallel {
			out[s.Name+"."+s.Parallel[j].Name] = stepRef{i, j, &s.Parallel[j]}
		}
	}
	return out
}

// stepIndex returns the index of a top-level step by name.
func (d *CaseDefinition) stepIndex(name string) int {
	for i := range d.Steps {
		if d.Steps[i].Name == name {
			return i
		}
	}
	return -1
}

// target is where a top-level step's decision leads: a step index, or -1
// approved, -2 rejected, -3 back to the same step (request_info).
func (d *CaseDefinition) target(i int, decision string) int {
	s := &d.Steps[i]
	if t, ok := s.Next[decision]; ok {
		switch t {
		case TerminalApproved:
			return -1
		case TerminalRejected:
			return -2
		}
		return d.stepIndex(t)
	}
	switch decision {
	case DecisionApprove:
		if i+1 < len(d.Steps) {
			return i + 1
		}
		return -1
	case DecisionReject:
		return -2
	}
	return -3
}

// groupDecisions are the outcomes of a step: its decisions, or approve and
// reject for parallel branches.
func (s *DefStep) groupDecisions() []string {
	if len(s.Parallel) > 0 {
		return []string{DecisionApprove, DecisionReject}
	}
	return s.decisions()
}

func checkRoles(p string, roles []Role, bad func(string, string, ...any)) {
	if len(roles) == 0 {
		bad(p+".roles", "nobody can take this step: it names no role")
	}
	for k, r := range roles {
		if !slices.Contains(knownRoles, r) {
			bad(fmt.Sprintf("%s.roles[%d]", p, k), "unknown role %q (one of: officer, signer, accountant, admin)", r)
		}
	}
}

func checkSteps(d *CaseDefinition, bad func(string, string, ...any)) {
	if len(d.Steps) == 0 {
		bad("steps", "a definition needs at least one step")
		return
	}
	if len(d.Steps) > 50 {
		bad("steps", "at most 50 steps")
		return
	}
	seen := map[string]bool{}
	for i := range d.Steps {
		s := &d.Steps[i]
		p := fmt.Sprintf("steps[%d]", i)
		if !defNameRe.MatchString(s.Name) || s.Name == TerminalApproved || s.Name == TerminalRejected {
			bad(p+".name", "must be lower-case letters, digits or _ (not approved or rejected)")
		} else if seen[s.Name] {
			bad(p+".name", "is used by another step")
		}
		seen[s.Name] = true
		if s.Status != "" && s.Status != StatusSubmitted && s.Status != StatusReviewed {
			bad(p+".status", "must be submitted or reviewed (the case's status while the step is open)")
		}
		if len(s.Parallel) > 0 {
			if len(s.Roles) > 0 || len(s.Decisions) > 0 {
				bad(p+".parallel", "a step has either roles and decisions or parallel branches")
			}
			if len(s.Parallel) > 20 {
				bad(p+".parallel", "at most 20 branches")
			}
			branchSeen := map[string]bool{}
			for j := range s.Parallel {
				b := &s.Parallel[j]
				bp := fmt.Sprintf("%s.parallel[%d]", p, j)
				if !defNameRe.MatchString(b.Name) {
					bad(bp+".name", "must be lower-case letters, digits or _")
				} else if branchSeen[b.Name] {
					bad(bp+".name", "is used by another branch")
				}
				branchSeen[b.Name] = true
				checkRoles(bp, b.Roles, bad)
				for k, dec := range b.Decisions {
					if dec != DecisionApprove && dec != DecisionReject {
						bad(fmt.Sprintf("%s.decisions[%d]", bp, k), "a branch decides approve or reject")
					}
				}
				if len(b.Parallel) > 0 || len(b.Next) > 0 || b.Quorum != "" || b.Status != "" {
					bad(bp, "a branch is a desk: roles, decisions, distinct_from, substitutable")
				}
			}
			switch s.Quorum {
			case "", QuorumAll:
				if s.N != 0 {
					bad(p+".n", "n is for the quorum n_of_m")
				}
			case QuorumNOfM:
				if s.N < 1 || s.N > len(s.Parallel) {
					bad(p+".n", "bad quorum: n must be between 1 and the %d branches", len(s.Parallel))
				}
			default:
				bad(p+".quorum", "bad quorum: must be all or n_of_m")
			}
		} else {
			if s.Quorum != "" || s.N != 0 {
				bad(p+".quorum", "bad quorum: a quorum is for parallel branches")
			}
			checkRoles(p, s.Roles, bad)
			decs := s.decisions()
			final := false
			for k, dec := range decs {
				if !slices.Contains(stepDecisions, dec) || slices.Index(decs, dec) != k {
					bad(fmt.Sprintf("%s.decisions[%d]", p, k), "must be approve, reject or request_info, each once")
				}
				final = final || dec != DecisionRequestInfo
			}
			if !final {
				bad(p+".decisions", "the step can never complete: it needs approve or reject")
			}
		}
		if s.SLAWorkingDays < 0 || s.SLAWorkingDays > 365 {
			bad(p+".sla_working_days", "must be between 0 and 365")
		}
	}
	takeable := d.takeable()
	hasStep := func(name string) bool {
		if _, ok := takeable[name]; ok {
			return true
		}
		return d.stepIndex(name) >= 0
	}
	for i := range d.Steps {
		s := &d.Steps[i]
		p := fmt.Sprintf("steps[%d]", i)
		checkDistinct := func(p, self string, list []string) {
			for k, o := range list {
				if !hasStep(o) {
					bad(fmt.Sprintf("%s.distinct_from[%d]", p, k), "names an unknown step %q", o)
				} else if o == self {
					bad(fmt.Sprintf("%s.distinct_from[%d]", p, k), "names the step itself")
				}
			}
		}
		checkDistinct(p, s.Name, s.DistinctFrom)
		for j := range s.Parallel {
			checkDistinct(fmt.Sprintf("%s.parallel[%d]", p, j), s.Name+"."+s.Parallel[j].Name, s.Parallel[j].DistinctFrom)
		}
		keys := make([]string, 0, len(s.Next))
		for k := range s.Next {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, dec := range keys {
			t := s.Next[dec]
			if !slices.Contains(s.groupDecisions(), dec) || dec == DecisionRequestInfo {
				bad(p+".next."+dec, "is not a decision of the step that moves the case (request_info always returns to the step)")
			}
			if t != TerminalApproved && t != TerminalRejected && d.stepIndex(t) < 0 {
				bad(p+".next."+dec, "names an unknown step %q (or approved, rejected)", t)
			}
		}
	}
	for i, e := range d.Escalations {
		p := fmt.Sprintf("escalations[%d]", i)
		ref, ok := takeable[e.Step]
		if !ok && d.stepIndex(e.Step) < 0 {
			bad(p+".step", "names an unknown step %q", e.Step)
		}
		if e.AfterWorkingDays < 1 || e.AfterWorkingDays > 365 {
			bad(p+".after_working_days", "must be between 1 and 365")
		}
		switch e.Action {
		case "notify":
		case "reassign":
			if !slices.Contains(knownRoles, e.ToRole) {
				bad(p+".to_role", "reassign needs a staff role to give the step to")
			}
		case "deem":
			if !d.Authorization {
				bad(p+".action", "a deemed decision is only for types flagged authorization (OUG 27/2003)")
			} else if !ok || !slices.Contains(ref.step.decisions(), e.Decision) || e.Decision == DecisionRequestInfo {
				bad(p+".decision", "deem needs a decision (approve or reject) of the step")
			}
			if e.WarnWorkingDays < 0 || e.WarnWorkingDays >= e.AfterWorkingDays && e.AfterWorkingDays > 0 {
				bad(p+".warn_working_days", "must be before the deemed decision")
			}
		default:
			bad(p+".action", "must be notify, reassign or deem")
		}
	}
	checkGraph(d, bad)
}

// checkGraph checks the route as a graph of top-level steps: every step
// reachable from the first, and from each a terminal decision reachable
// (a cycle from which none is reachable is a loop without exit).
func checkGraph(d *CaseDefinition, bad func(string, string, ...any)) {
	n := len(d.Steps)
	edges := make([][]int, n)
	for i := range d.Steps {
		for _, dec := range d.Steps[i].groupDecisions() {
			if dec == DecisionRequestInfo {
				continue
			}
			edges[i] = append(edges[i], d.target(i, dec))
		}
	}
	reach := make([]bool, n)
	var visit func(int)
	visit = func(i int) {
		if i < 0 || reach[i] {
			return
		}
		reach[i] = true
		for _, t := range edges[i] {
			visit(t)
		}
	}
	visit(0)
	// ends[i]: a terminal is reachable from i (fixpoint).
	ends, approves := make([]bool, n), make([]bool, n)
	for changed := true; changed; {
		changed = false
		for i := 0; i < n; i++ {
			for _, t := range edges[i] {
				e := t == -1 || t == -2 || (t >= 0 && ends[t])
				a := t == -1 || (t >= 0 && approves[t])
				if e && !ends[i] {
					ends[i], changed = true, true
				}
				if a && !approves[i] {
					approves[i], changed = true, true
				}
			}
		}
	}
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("steps[%d]", i)
		switch {
		case !reach[i]:
			bad(p, "step %q is unreachable: no route from the first step leads to it", d.Steps[i].Name)
		case !ends[i] && inCycle(edges, i):
			bad(p, "step %q is in a loop without exit: no decision leads out to approved or rejected", d.Steps[i].Name)
		case !ends[i]:
			bad(p, "no terminal decision is reachable from step %q", d.Steps[i].Name)
		}
	}
	if !approves[0] {
		bad("steps", "no route leads to approval")
	}
}

func inCycle(edges [][]int, start int) bool {
	seen := map[int]bool{}
	var walk func(int) bool
	walk = func(i int) bool {
		for _, t := range edges[i] {
			if t == start {
				return true
			}
			if t >= 0 && !seen[t] {
				seen[t] = true
				if walk(t) {
					return true
				}
			}
		}
		return false
	}
	return walk(start)
}

// FormError is a field error with its message in Romanian and English.
type FormError struct {
	Field string
	RO    string
	EN    string
}

// ParseForm checks a case's data against the form and returns its
// canonical JSON (strings trimmed, numbers normalised, dates as
// YYYY-MM-DD) or the errors per field, in Romanian and English.
func (d *CaseDefinition) ParseForm(raw json.RawMessage) (json.RawMessage, []FormError) {
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, []FormError{{"data", "trebuie să fie un obiect JSON cu câmpurile formularului", "must be a JSON object of the form's fields"}}
	}
	var errs []FormError
	fail := func(f, ro, en string) { errs = append(errs, FormError{"data." + f, ro, en}) }
	known := map[string]bool{}
	for _, f := range d.Form.Fields {
		known[f.Name] = true
	}
	for k := range m {
		if !known[k] {
			fail(k, "nu este un câmp al acestui formular", "is not a field of this form")
		}
	}
	text := func(v any) string {
		switch x := v.(type) {
		case string:
			return strings.TrimSpace(x)
		case json.Number:
			return x.String()
		case bool:
			return fmt.Sprint(x)
		}
		return ""
	}
	out := map[string]any{}
	for _, f := range d.Form.Fields {
		v, ok := m[f.Name]
		if s, isStr := v.(string); !ok || v == nil || (isStr && strings.TrimSpace(s) == "") {
			req := f.Required
			if c := f.RequiredIf; c != nil && text(m[c.Field]) == c.Equals {
				req = true
			}
			if req {
				fail(f.Name, "este obligatoriu", "is required")
			}
			continue
		}
		switch f.Kind {
		case KindString, KindText, KindEnum, KindCNP, KindCUI, KindIBAN, KindVIN, KindDate:
			s, isStr := v.(string)
			if !isStr {
				fail(f.Name, "trebuie să fie text", "must be a string")
				continue
			}
			s = strings.TrimSpace(s)
			if f.Kind != KindText && strings.ContainsAny(s, "\n\r") {
				fail(f.Name, "trebuie să fie pe un singur rând", "must be on one line")
				continue
			}
			if HasBidiControl(s) {
				fail(f.Name, "conține caractere de formatare nepermise", "contains formatting characters that are not allowed")
				continue
			}
			limit := f.MaxLen
			if limit == 0 {
				limit = map[bool]int{true: 10000, false: 1000}[f.Kind == KindText]
			}
			if n := len([]rune(s)); n > limit {
				fail(f.Name, fmt.Sprintf("poate avea cel mult %d caractere", limit), fmt.Sprintf("must have at most %d characters", limit))
				continue
			}
			switch f.Kind {
			case KindEnum:
				if !slices.Contains(f.Options, s) {
					fail(f.Name, "trebuie să fie una dintre: "+strings.Join(f.Options, ", "), "must be one of: "+strings.Join(f.Options, ", "))
					continue
				}
			case KindDate:
				dt, err := civil.Parse(s)
				if err != nil {
					fail(f.Name, "trebuie să fie o dată AAAA-LL-ZZ", "must be a date YYYY-MM-DD")
					continue
				}
				s = dt.String()
			case KindCNP:
				if why := CheckCNP(s); why != "" {
					fail(f.Name, "nu este un CNP valid", "is not a valid CNP: "+why)
					continue
				}
			case KindCUI:
				s = NormalizeCUI(s)
				if why := CheckCUI(s); why != "" {
					fail(f.Name, "nu este un CUI valid", "is not a valid CUI: "+why)
					continue
				}
			case KindIBAN:
				s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
				if why := CheckIBAN(s); why != "" {
					fail(f.Name, "nu este un IBAN valid", "is not a valid IBAN: "+why)
					continue
				}
			case KindVIN:
				s = strings.ToUpper(s)
				if why := CheckVIN(s); why != "" {
					fail(f.Name, "nu este un VIN valid", "is not a valid VIN: "+why)
					continue
				}
			}
			out[f.Name] = s
		case KindInt, KindDecimal:
			var (
				x   Dec
				err error
			)
			switch n := v.(type) {
			case json.Number:
				x, err = ParseDec(n.String())
			case string:
				if f.Kind == KindDecimal {
					x, err = ParseDec(n)
				} else {
					err = errDec
				}
			default:
				err = errDec
			}
			if err != nil || (f.Kind == KindInt && !x.IsInteger()) {
				if f.Kind == KindInt {
					fail(f.Name, "trebuie să fie un număr întreg", "must be a whole number")
				} else {
					fail(f.Name, "trebuie să fie un număr (de exemplu 12.50)", "must be a number (for example 12.50)")
				}
				continue
			}
			if f.Min != nil && x.Cmp(*f.Min) < 0 {
				fail(f.Name, "trebuie să fie cel puțin "+f.Min.String(), "must be at least "+f.Min.String())
				continue
			}
			if f.Max != nil && x.Cmp(*f.Max) > 0 {
				fail(f.Name, "trebuie să fie cel mult "+f.Max.String(), "must be at most "+f.Max.String())
				continue
			}
			if f.Kind == KindInt {
				out[f.Name] = x.Int64()
			} else {
				out[f.Name] = x.String()
			}
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return nil, errs
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, []FormError{{"data", "nu poate fi citit", "cannot be read"}}
	}
	return b, nil
}

// FormInvalid turns form errors into the domain's EINVALID error with the
// English messages, as every API error; the portal shows FormError.RO.
func FormInvalid(errs []FormError) *Error {
	fields := make([]FieldError, len(errs))
	for i, e := range errs {
		fields[i] = FieldError{Field: e.Field, Message: e.EN}
	}
	return Invalid(fields...)
}

// CaseType is the definition seen as a case type, for the intake, the
// attachments, the checks and the approval: its effect's behaviour under
// the definition's name, titles and SLA; without an effect, its form
// checked by ParseForm and its documents, with no automatic checks and no
// effect on approval.
func (d *CaseDefinition) CaseType() *CaseType {
	if e, ok := CaseTypeByName(d.Effect); ok && d.Effect != "" {
		t := *e // the effect's form, documents, checks and approval
		t.Name, t.Title, t.TitleEN, t.SLAWorkingDays = d.Type, d.Title, d.TitleEN, d.SLAWorkingDays
		return &t
	}
	return &CaseType{Name: d.Type, Title: d.Title, SLAWorkingDays: d.SLAWorkingDays, Documents: d.Documents,
		Parse: func(raw json.RawMessage, _ civil.Date) (json.RawMessage, []FieldError) {
			out, errs := d.ParseForm(raw)
			if len(errs) == 0 {
				return out, nil
			}
			fe := FormInvalid(errs).Fields
			for i := range fe { // ParseData prefixes "data."
				fe[i].Field = strings.TrimPrefix(fe[i].Field, "data.")
			}
			return nil, fe
		}}
}
