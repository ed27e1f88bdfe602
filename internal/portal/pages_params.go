package portal

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/shopspring/decimal"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/web"
)

// The administrator's pages for the law's parameters of a year: what is
// covered (GET /admin/parameters/coverage), the council's decisions with
// their values (/admin/council-decisions) and next year's draft by art. 491
// (/admin/parameter-drafts). They call the same fiscal.TaxRules use cases as
// the API's /api/v1/admin/parameter-coverage, /council-decisions and
// /parameter-drafts.

// decisionRows is the number of value rows of the council decision form.
const decisionRows = 6

func (p *Portal) paramPages() []page {
	if p.deps.Tax == nil {
		return nil
	}
	return []page{
		{Method: "GET", Path: "/admin/parameters/coverage", Access: adminOnly, Handler: p.coveragePage},
		{Method: "GET", Path: "/admin/council-decisions", Access: adminOnly, Handler: p.decisionsPage},
		{Method: "POST", Path: "/admin/council-decisions", Access: adminOnly, Handler: p.enterDecision},
		{Method: "GET", Path: "/admin/parameter-drafts", Access: adminOnly, Handler: p.draftsPage},
		{Method: "POST", Path: "/admin/parameter-drafts", Access: adminOnly, Handler: p.createDraft},
		{Method: "GET", Path: "/admin/parameter-drafts/:id", Access: adminOnly, Handler: p.draftPage},
		{Method: "POST", Path: "/admin/parameter-drafts/:id/lines", Access: adminOnly, Handler: p.correctDraftLine},
		{Method: "POST", Path: "/admin/parameter-drafts/:id/adopt", Access: adminOnly, Handler: p.adoptDraft},
	}
}

// renameFields moves the API's error names to the form's input names:
// decision.number → decision_number, values[2].value → values.2.value
// (rows maps the API's index to the form's row).
func renameFields(fe map[string]string, rows []int) map[string]string {
	out := make(map[string]string, len(fe))
	for k, m := range fe {
		switch {
		case k == "decision" || k == "decision.number":
			k = "decision_number"
		case k == "decision.date":
			k = "decision_date"
		case k == "values":
			k = "values.0.key"
		default:
			if s := valueField.FindStringSubmatch(k); s != nil {
				i, _ := strconv.Atoi(s[1])
				if i < len(rows) {
					i = rows[i]
				}
				k = "values." + strconv.Itoa(i) + "." + s[2]
			}
		}
		if _, dup := out[k]; !dup {
			out[k] = m
		}
	}
	return out
}

var valueField = regexp.MustCompile(`^values\[(\d+)\]\.(\w+)$`)

// Coverage.

type coverageRow struct {
	calc.Requirement
	// Status is "national", "council" or "missing".
	Status string
	// Enter links a missing key to the decision form.
	Enter string
}

type coverageGroup struct {
	Kind string
	Rows []coverageRow
}

type coverageData struct {
	Year                int
	Years               []option
	Groups              []coverageGroup
	Configured, Missing int
}

func (p *Portal) coveragePage(c *fiber.Ctx, v *view) error {
	year := p.adminYear(c)
	cov, err := p.deps.Tax.ParameterCoverage(c.UserContext(), year)
	if err != nil {
		return err
	}
	d := coverageData{Year: year, Years: yearOptions(p, year), Configured: len(cov.Configured), Missing: len(cov.Missing)}
	byKind := map[string]int{}
	add := func(r calc.Requirement) {
		row := coverageRow{Requirement: r, Status: "missing"}
		switch {
		case r.Configured && r.Entry != nil && r.Entry.Municipality != "":
			row.Status = "council"
		case r.Configured:
			row.Status = "national"
		case !strings.HasSuffix(r.Key, "*"):
			row.Enter = "/admin/council-decisions?year=" + strconv.Itoa(year) + "&key=" + r.Key
		default:
			row.Enter = "/admin/council-decisions?year=" + strconv.Itoa(year)
		}
		i, ok := byKind[r.Kind]
		if !ok {
			i = len(d.Groups)
			byKind[r.Kind] = i
			d.Groups = append(d.Groups, coverageGroup{Kind: r.Kind})
		}
		d.Groups[i].Rows = append(d.Groups[i].Rows, row)
	}
	// Missing first within each kind: that is what the administrator acts on.
	for _, r := range cov.Missing {
		add(r)
	}
	for _, r := range cov.Configured {
		add(r)
	}
	order := map[string]int{"general": 0, calc.TaxVehicle: 1, calc.TaxBuilding: 2, calc.TaxLand: 3}
	sort.SliceStable(d.Groups, func(i, j int) bool { return order[d.Groups[i].Kind] < order[d.Groups[j].Kind] })
	return p.render(c, v, "coverage", d)
}

// Council decisions.

type decisionGroup struct {
	Decision fiscal.CouncilDecision
	Entries  []fiscal.ParameterEntry
}

type decisionsData struct {
	Year      int
	Years     []option
	Decisions []decisionGroup
	Rows      []decisionRow
}

// decisionRow is a value row of the form: its index and its number (1-based).
type decisionRow struct{ I, N int }

func (p *Portal) decisionsPage(c *fiber.Ctx, v *view) error {
	year := p.adminYear(c)
	v.Form = map[string]string{"effective_from": civil.New(year, 1, 1).String()}
	if k := strings.TrimSpace(c.Query("key")); k != "" {
		v.Form["values.0.key"] = strings.Clone(k)
	}
	return p.renderDecisions(c, v, year, fiber.StatusOK)
}

func (p *Portal) renderDecisions(c *fiber.Ctx, v *view, year, status int) error {
	es, err := p.deps.Tax.Parameters(c.UserContext(), fiscal.ParameterFilter{Year: year})
	if err != nil {
		return err
	}
	d := decisionsData{Year: year, Years: yearOptions(p, year)}
	idx := map[fiscal.CouncilDecision]int{}
	for _, e := range es {
		if e.Decision == nil {
			continue
		}
		i, ok := idx[*e.Decision]
		if !ok {
			i = len(d.Decisions)
			idx[*e.Decision] = i
			d.Decisions = append(d.Decisions, decisionGroup{Decision: *e.Decision})
		}
		d.Decisions[i].Entries = append(d.Decisions[i].Entries, e)
	}
	sort.SliceStable(d.Decisions, func(i, j int) bool { return d.Decisions[j].Decision.Date.Before(d.Decisions[i].Decision.Date) })
	for i := 0; i < decisionRows; i++ {
		d.Rows = append(d.Rows, decisionRow{I: i, N: i + 1})
	}
	return p.render(c.Status(status), v, "decisions", d)
}

func (p *Portal) enterDecision(c *fiber.Ctx, v *view) error {
	names := []string{"decision_number", "decision_date", "effective_from"}
	for i := 0; i < decisionRows; i++ {
		names = append(names, "values."+strconv.Itoa(i)+".key", "values."+strconv.Itoa(i)+".value")
	}
	v.Form = formValues(c, names...)
	in := fiscal.DecisionInput{Decision: fiscal.CouncilDecision{Number: v.Form["decision_number"]}}
	var bad []fiscal.FieldError
	var err error
	if in.Decision.Date, err = civil.Parse(v.Form["decision_date"]); err != nil {
		bad = append(bad, fiscal.FieldError{Field: "decision.date", Message: "must be a date YYYY-MM-DD"})
	}
	if in.EffectiveFrom, err = civil.Parse(v.Form["effective_from"]); err != nil {
		bad = append(bad, fiscal.FieldError{Field: "effective_from", Message: "must be a date YYYY-MM-DD"})
	}
	// rows[i] is the form row of the API's values[i]: empty rows are skipped.
	var rows []int
	for i := 0; i < decisionRows; i++ {
		k, val := v.Form["values."+strconv.Itoa(i)+".key"], v.Form["values."+strconv.Itoa(i)+".value"]
		if k == "" && val == "" {
			continue
		}
		in.Values = append(in.Values, fiscal.DecisionValue{Key: k, Value: strings.ReplaceAll(val, ",", ".")})
		rows = append(rows, i)
	}
	if len(bad) > 0 {
		err = fiscal.Invalid(bad...)
	}
	year := civilYear(p)
	if in.EffectiveFrom.IsValid() {
		year = in.EffectiveFrom.Year
	}
	out := formOutcome{To: "/admin/council-decisions?year=" + strconv.Itoa(year), Flash: "decisions.added"}
	if err == nil {
		if err = web.Validate(&in); err == nil {
			out, err = p.onceTo(c, v, out, func(ctx context.Context) error {
				_, err := p.deps.Tax.EnterDecision(ctx, &in)
				return err
			})
		}
	}
	if err != nil {
		fe, ok := formErrors(v.Lang, withFields(err, bad))
		switch {
		case sentBefore(err):
			return err
		case ok:
			fe = renameFields(fe, rows)
			if fiscal.ErrorCode(err) == fiscal.ECONFLICT {
				for k := range fe {
					fe[k] = v.T("err.param_exists")
				}
			}
		case fiscal.ErrorCode(err) == fiscal.ECONFLICT:
			fe = map[string]string{"effective_from": v.T("err.param_exists")}
		case fiscal.ErrorCode(err) == fiscal.EINVALID:
			fe = map[string]string{"effective_from": fiscal.ErrorMessage(err)}
		default:
			return err
		}
		v.Errors = fe
		return p.renderDecisions(c, v, year, web.HTTPStatus(err))
	}
	return p.answer(c, out)
}

// Next year's drafts.

type draftsData struct {
	Drafts []fiscal.ParameterDraft
}

func (p *Portal) draftsPage(c *fiber.Ctx, v *view) error {
	y := civilYear(p)
	v.Form = map[string]string{"from_year": strconv.Itoa(y), "to_year": strconv.Itoa(y + 1)}
	return p.renderDrafts(c, v, fiber.StatusOK)
}

func (p *Portal) renderDrafts(c *fiber.Ctx, v *view, status int) error {
	ds, err := p.deps.Tax.ParameterDrafts(c.UserContext())
	if err != nil {
		return err
	}
	return p.render(c.Status(status), v, "drafts", draftsData{Drafts: ds})
}

func (p *Portal) createDraft(c *fiber.Ctx, v *view) error {
	v.Form = formValues(c, "from_year", "to_year", "inflation_pct", "eur_ron", "decision_number", "decision_date")
	in := fiscal.ParameterDraftInput{InflationPct: strings.ReplaceAll(v.Form["inflation_pct"], ",", "."),
		EurRon: strings.ReplaceAll(v.Form["eur_ron"], ",", "."), Decision: fiscal.CouncilDecision{Number: v.Form["decision_number"]}}
	var bad []fiscal.FieldError
	var err error
	for _, f := range []struct {
		name string
		to   *int
	}{{"from_year", &in.FromYear}, {"to_year", &in.ToYear}} {
		if *f.to, err = strconv.Atoi(v.Form[f.name]); err != nil {
			bad = append(bad, fiscal.FieldError{Field: f.name, Message: "must be a year from 2000 to 2100"})
		}
	}
	if in.Decision.Date, err = civil.Parse(v.Form["decision_date"]); err != nil {
		bad = append(bad, fiscal.FieldError{Field: "decision.date", Message: "must be a date YYYY-MM-DD"})
	}
	var out formOutcome
	if len(bad) > 0 {
		err = fiscal.Invalid(bad...)
	} else if err = web.Validate(&in); err == nil {
		// One transaction: a sending that finds it done without its
		// answer goes to the list of drafts.
		out, _, err = p.once(c, v, onceForm{settled: &formOutcome{To: "/admin/parameter-drafts", Flash: "drafts.created"}},
			func(ctx context.Context) (formOutcome, error) {
				d, err := p.deps.Tax.CreateParameterDraft(ctx, &in)
				if err != nil {
					return formOutcome{}, err
				}
				return formOutcome{To: "/admin/parameter-drafts/" + strconv.FormatInt(d.ID, 10), Flash: "drafts.created"}, nil
			})
	}
	if err != nil {
		fe, ok := formErrors(v.Lang, withFields(err, bad))
		if !ok {
			return err
		}
		v.Errors = renameFields(fe, nil)
		return p.renderDrafts(c, v, web.HTTPStatus(err))
	}
	return p.answer(c, out)
}

// draftLine is a line of the differences table.
type draftLine struct {
	calc.DraftLine
	// Diff and Pct are to − from and its percentage of from ("" when a
	// value is not a number or from is zero).
	Diff, Pct string
	Changed   bool
}

type draftData struct {
	Draft *fiscal.ParameterDraft
	Lines []draftLine
	Keys  []option
	Open  bool
}

func draftLines(d *fiscal.ParameterDraft) []draftLine {
	out := make([]draftLine, len(d.Lines))
	for i, l := range d.Lines {
		out[i] = draftLine{DraftLine: l, Changed: l.FromValue != l.ToValue}
		from, err1 := decimal.NewFromString(l.FromValue)
		to, err2 := decimal.NewFromString(l.ToValue)
		if err1 != nil || err2 != nil {
			continue
		}
		diff := to.Sub(from)
		out[i].Changed = !diff.IsZero()
		out[i].Diff = diff.String()
		if diff.IsPositive() {
			out[i].Diff = "+" + out[i].Diff
		}
		if !from.IsZero() {
			pct := diff.Mul(decimal.NewFromInt(100)).Div(from).Round(2)
			out[i].Pct = pct.StringFixed(2)
			if pct.IsPositive() {
				out[i].Pct = "+" + out[i].Pct
			}
		}
	}
	return out
}

func (p *Portal) draftPage(c *fiber.Ctx, v *view) error {
	return p.renderDraft(c, v, fiber.StatusOK)
}

func (p *Portal) renderDraft(c *fiber.Ctx, v *view, status int) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	d, err := p.deps.Tax.ParameterDraft(c.UserContext(), id)
	if err != nil {
		return err
	}
	data := draftData{Draft: d, Lines: draftLines(d), Open: d.Status == fiscal.DraftOpen}
	sel := v.Form["key"]
	data.Keys = append(data.Keys, option{Value: "", Label: v.T("opt.choose"), Selected: sel == ""})
	for _, l := range d.Lines {
		// A bound of the law's range follows its value and cannot be corrected.
		if _, isRange := calc.RangedKey(l.Key); isRange {
			continue
		}
		data.Keys = append(data.Keys, option{Value: l.Key, Label: l.Key, Selected: l.Key == sel})
	}
	return p.render(c.Status(status), v, "draft", data)
}

func (p *Portal) correctDraftLine(c *fiber.Ctx, v *view) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	v.Form = formValues(c, "key", "to_value")
	in := fiscal.DraftLineInput{ToValue: strings.ReplaceAll(v.Form["to_value"], ",", ".")}
	var bad []fiscal.FieldError
	if v.Form["key"] == "" {
		bad = append(bad, fiscal.FieldError{Field: "key", Message: "is required"})
	}
	out := formOutcome{To: "/admin/parameter-drafts/" + strconv.FormatInt(id, 10) + "#h-diff", Flash: "drafts.corrected"}
	if err = web.Validate(&in); err == nil && len(bad) > 0 {
		err = fiscal.Invalid(bad...)
	} else if err == nil {
		out, err = p.onceTo(c, v, out, func(ctx context.Context) error {
			_, err := p.deps.Tax.CorrectDraftLine(ctx, id, v.Form["key"], in.ToValue)
			return err
		})
	}
	if err != nil {
		fe, ok := formErrors(v.Lang, withFields(err, bad))
		switch {
		case sentBefore(err):
			return err
		case fiscal.ErrorCode(err) == fiscal.ECONFLICT:
			fe = map[string]string{"to_value": v.T("err.draft_closed")}
		case !ok:
			return err
		}
		v.Errors = fe
		return p.renderDraft(c, v, web.HTTPStatus(err))
	}
	return p.answer(c, out)
}

func (p *Portal) adoptDraft(c *fiber.Ctx, v *view) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	out, err := p.onceTo(c, v, formOutcome{To: "/admin/parameter-drafts/" + strconv.FormatInt(id, 10), Flash: "drafts.adopted"},
		func(ctx context.Context) error {
			_, err := p.deps.Tax.AdoptParameterDraft(ctx, id)
			return err
		})
	if err != nil {
		if sentBefore(err) || fiscal.ErrorCode(err) != fiscal.ECONFLICT && fiscal.ErrorCode(err) != fiscal.EINVALID {
			return err
		}
		v.Errors = map[string]string{"adopt": v.T("err.draft_adopt", fiscal.ErrorMessage(err))}
		return p.renderDraft(c, v, web.HTTPStatus(err))
	}
	return p.answer(c, out)
}
