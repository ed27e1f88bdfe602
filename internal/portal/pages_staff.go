package portal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/internal/web"
)

// The staff's side: the officer's queue (riskiest first, filters), the
// signer's queue, the case page with the actions the role allows, and the
// cash desk.

var (
	officerOnly = access{roles: []fiscal.Role{fiscal.RoleOfficer}}
	signerOnly  = access{roles: []fiscal.Role{fiscal.RoleSigner}}
	queueAccess = access{roles: []fiscal.Role{fiscal.RoleOfficer, fiscal.RoleSigner, fiscal.RoleAdmin}}
)

func (p *Portal) staffPages() []page {
	return []page{
		{Method: "GET", Path: "/staff/queue", Access: queueAccess, Nav: "nav.queue", NavOrder: 20, Handler: p.queue},
		{Method: "GET", Path: "/staff/sign", Access: signerOnly, Nav: "nav.sign", NavOrder: 21, Handler: p.signQueue},
		{Method: "POST", Path: "/cases/:id/review", Access: officerOnly, Handler: p.review},
		{Method: "POST", Path: "/cases/:id/sign", Access: signerOnly, Handler: p.sign},
		{Method: "POST", Path: "/cases/:id/comment", Access: staffOnly, Handler: p.comment},
	}
}

func (p *Portal) cashPages() []page {
	return []page{
		{Method: "GET", Path: "/staff/cash", Access: officerOnly, Nav: "nav.cash", NavOrder: 22, Handler: p.cashForm},
		{Method: "POST", Path: "/staff/cash", Access: officerOnly, Handler: p.cash},
		{Method: "GET", Path: "/payments/:id", Access: access{}, Handler: p.paymentPage},
		{Method: "GET", Path: "/payments/:id/receipt.pdf", Access: access{}, Handler: p.receipt},
	}
}

type queueData struct {
	Items    []*fiscal.Case
	Total    int
	Officers []option
	Statuses []option
	States   []option
	Types    []option
	Signer   bool
}

// opts builds select options with labels from the catalog (prefix+value).
func opts(v *view, prefix, selected string, values ...string) []option {
	out := []option{{Value: "", Label: v.T("queue.any"), Selected: selected == ""}}
	for _, val := range values {
		out = append(out, option{Value: val, Label: v.T(prefix + val), Selected: val == selected})
	}
	return out
}

func (p *Portal) queue(c *fiber.Ctx, v *view) error {
	return p.renderQueue(c, v, false)
}

func (p *Portal) signQueue(c *fiber.Ctx, v *view) error {
	return p.renderQueue(c, v, true)
}

func (p *Portal) renderQueue(c *fiber.Ctx, v *view, signer bool) error {
	v.Form = map[string]string{}
	for _, n := range []string{"status", "sla_state", "assignee", "type"} {
		v.Form[n] = strings.TrimSpace(strings.Clone(c.Query(n)))
	}
	f := fiscal.CaseFilter{Status: v.Form["status"], SLAState: v.Form["sla_state"], Type: v.Form["type"], Limit: 200}
	if signer {
		f.Status = string(fiscal.StatusReviewed)
	}
	switch a := v.Form["assignee"]; a {
	case "":
	case "me":
		id := v.Actor.UserID
		f.AssigneeID = &id
	case "none":
		zero := int64(0)
		f.AssigneeID = &zero
	default:
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			v.Errors = map[string]string{"assignee": fieldMessage(v.Lang, fiscal.FieldError{Field: "assignee", Message: "must be one of"})}
		} else {
			f.AssigneeID = &id
		}
	}
	d := queueData{Signer: signer}
	var err error
	if v.Errors == nil {
		d.Items, d.Total, err = p.deps.Cases.Cases(c.UserContext(), f)
		if err != nil {
			fe, ok := formErrors(v.Lang, err)
			if !ok {
				return err
			}
			v.Errors = fe
			c.Status(fiber.StatusUnprocessableEntity)
		}
	} else {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	d.Statuses = opts(v, "status.", v.Form["status"], "open", "submitted", "awaiting_taxpayer", "reviewed", "approved", "rejected", "all")
	d.States = opts(v, "sla.", v.Form["sla_state"], fiscal.SLABreached, fiscal.SLAAtRisk, fiscal.SLAOnTrack, fiscal.SLAPaused)
	var types []string
	for _, t := range fiscal.CaseTypes() {
		types = append(types, t.Name)
	}
	d.Types = opts(v, "casetype.", v.Form["type"], types...)
	d.Officers = []option{{Value: "", Label: v.T("queue.any"), Selected: v.Form["assignee"] == ""},
		{Value: "me", Label: v.T("queue.me"), Selected: v.Form["assignee"] == "me"},
		{Value: "none", Label: v.T("queue.none"), Selected: v.Form["assignee"] == "none"}}
	if p.deps.Staff != nil {
		users, err := p.deps.Staff.StaffUsers(c.UserContext())
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.Role == fiscal.RoleOfficer {
				id := strconv.FormatInt(u.ID, 10)
				label := u.Username
				if u.FullName != "" {
					label = u.FullName + " (" + u.Username + ")"
				}
				d.Officers = append(d.Officers, option{Value: id, Label: label, Selected: v.Form["assignee"] == id})
			}
		}
	}
	name := "queue"
	if signer {
		name = "signqueue"
	}
	p.publishedLabels(c, v)
	return p.render(c, v, name, d)
}

// staffCasePage is the case for staff: form data, documents, computed tax,
// the taxpayer's vehicles and debts, the checks and the allowed actions.
func (p *Portal) staffCasePage(c *fiber.Ctx, v *view, id int64) error {
	return p.renderStaffCase(c, v, id)
}

func (p *Portal) renderStaffCase(c *fiber.Ctx, v *view, id int64) error {
	ctx := c.UserContext()
	cd, err := p.deps.Cases.Case(ctx, id)
	if err != nil {
		return err
	}
	p.publishedLabels(c, v)
	d := caseView{Case: cd, Lines: caseDataLines(v, cd.Data), Missing: missingDocs(v, cd), DocKinds: docKinds(v, cd), CanComment: true}
	if err := p.loadDecisions(c, v, previewYears(cd)...); err != nil {
		return err
	}
	// The open steps the staff member may take: a shipped type's review and
	// sign with their own forms (as ever), any other step with the form of
	// its decisions.
	_, shipped := fiscal.CaseTypeByName(cd.Type)
	for _, o := range actsFor(v.Actor, cd) {
		switch {
		case shipped && o.Step == fiscal.StepReview:
			d.CanReview = true
		case shipped && o.Step == fiscal.StepSign:
			d.CanSign = true
		default:
			d.Acts = append(d.Acts, o)
		}
	}
	if d.Issued, err = p.caseIssued(c, cd); err != nil {
		return err
	}
	if d.Taxpayer, err = p.deps.Taxpayers.Taxpayer(ctx, cd.TaxpayerID); err != nil {
		return err
	}
	if p.deps.Vehicles != nil {
		if d.Vehicles, err = p.deps.Vehicles.TaxpayerVehicles(ctx, cd.TaxpayerID); err != nil {
			return err
		}
		v.Objects = map[int64]string{}
		for _, veh := range d.Vehicles {
			v.Objects[veh.ID] = veh.Plate
		}
	}
	if p.deps.Payments != nil {
		if d.Statement, err = p.deps.Payments.Statement(ctx, cd.TaxpayerID, fiscal.LocalDate(p.deps.Clock.Now())); err != nil {
			return err
		}
	}
	if d.Properties, err = p.properties(ctx, v, cd.TaxpayerID, d.Statement); err != nil {
		return err
	}
	if d.Properties != nil {
		d.Properties.Heading = "case.tp.properties"
	}
	v.Title = v.T("case.title", cd.Number)
	return p.render(c, v, "staffcase", d)
}

// decision reads a review or signature form.
func decisionForm(c *fiber.Ctx, v *view) fiscal.Decision {
	v.Form = formValues(c, "decision", "comment")
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	return fiscal.Decision{Decision: v.Form["decision"], Comment: v.Form["comment"], Version: version}
}

// decide runs a review or a signature and shows errors on the case page:
// field errors next to the fields, conflicts (four eyes, a concurrent
// change, missing documents) in the error summary.
func (p *Portal) decide(c *fiber.Ctx, v *view, act func(ctx context.Context, id int64, d *fiscal.Decision) error, allowed ...string) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	d := decisionForm(c, v)
	err = web.Validate(&d)
	if err == nil && !contains(allowed, d.Decision) {
		err = fiscal.InvalidField("decision", "must be one of: "+strings.Join(allowed, ", "))
	}
	if err == nil && d.Decision != fiscal.DecisionApprove && strings.TrimSpace(d.Comment) == "" {
		// The taxpayer reads the reason of a refusal or a request.
		err = fiscal.InvalidField("comment", "a rejection or a request for information must say why")
	}
	out := formOutcome{To: "/cases/" + strconv.FormatInt(id, 10), Flash: "case.decision.done"}
	if err == nil {
		out, err = p.onceTo(c, v, out, func(ctx context.Context) error { return act(ctx, id, &d) })
	}
	if err != nil {
		fe, ok := formErrors(v.Lang, err)
		switch {
		case sentBefore(err):
			return err
		case ok:
			v.Errors = fe
		case fiscal.ErrorCode(err) == fiscal.ECONFLICT:
			v.Errors = map[string]string{"decision": conflictMessage(v, err)}
		default:
			return err
		}
		return p.renderStaffCase(c.Status(web.HTTPStatus(err)), v, id)
	}
	return p.answer(c, out)
}

// conflictMessage translates the workflow's conflicts the staff can meet.
func conflictMessage(v *view, err error) string {
	msg := fiscal.ErrorMessage(err)
	switch {
	case errors.Is(err, fiscal.ErrFourEyes):
		return v.T("err.four_eyes")
	case errors.Is(err, fiscal.ErrStale):
		return v.T("err.concurrent")
	case errors.Is(err, fiscal.ErrDocumentsMissing):
		return v.T("err.docs_missing_decide") + " (" + msg + ")"
	}
	return v.T("err.conflict") + " (" + msg + ")"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *Portal) review(c *fiber.Ctx, v *view) error {
	return p.decide(c, v, func(ctx context.Context, id int64, d *fiscal.Decision) error {
		_, err := p.deps.Cases.Review(ctx, id, d)
		return err
	}, fiscal.DecisionApprove, fiscal.DecisionReject, fiscal.DecisionRequestInfo)
}

func (p *Portal) sign(c *fiber.Ctx, v *view) error {
	return p.decide(c, v, func(ctx context.Context, id int64, d *fiscal.Decision) error {
		_, err := p.deps.Cases.Sign(ctx, id, d)
		return err
	}, fiscal.DecisionApprove, fiscal.DecisionReject)
}

func (p *Portal) comment(c *fiber.Ctx, v *view) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	v.Form = formValues(c, "body", "internal")
	body := v.Form["body"]
	if body == "" {
		err = fiscal.InvalidField("body", "is required")
	} else if len([]rune(body)) > 4000 {
		err = fiscal.InvalidField("body", "must have at most 4000 characters")
	}
	out := formOutcome{To: "/cases/" + strconv.FormatInt(id, 10), Flash: "case.commented"}
	if err == nil {
		out, err = p.onceTo(c, v, out, func(ctx context.Context) error {
			return p.deps.Cases.Comment(ctx, id, body, v.Form["internal"] == "true")
		})
	}
	if err != nil {
		fe, ok := formErrors(v.Lang, err)
		if !ok {
			return err
		}
		v.Errors = fe
		return p.renderStaffCase(c.Status(web.HTTPStatus(err)), v, id)
	}
	return p.answer(c, out)
}

type cashData struct {
	Query     string
	Results   []*fiscal.Taxpayer
	Taxpayer  *fiscal.Taxpayer
	Statement *fiscal.Statement
}

// cashForm finds the taxpayer (?q=) and, once chosen (?taxpayer=), shows
// what they owe and the amount received.
func (p *Portal) cashForm(c *fiber.Ctx, v *view) error {
	d := cashData{Query: strings.TrimSpace(strings.Clone(c.Query("q")))}
	v.Form = map[string]string{"taxpayer_id": strings.Clone(c.Query("taxpayer"))}
	if err := p.cashLookup(c, v, &d); err != nil {
		return err
	}
	return p.render(c, v, "cash", d)
}

func (p *Portal) cashLookup(c *fiber.Ctx, v *view, d *cashData) error {
	ctx := c.UserContext()
	if d.Query != "" {
		res, _, err := p.deps.Taxpayers.FindTaxpayers(ctx, fiscal.TaxpayerFilter{Q: d.Query, Limit: 20})
		if err != nil {
			return err
		}
		d.Results = res
	}
	if id, err := strconv.ParseInt(v.Form["taxpayer_id"], 10, 64); err == nil && id > 0 {
		tp, err := p.deps.Taxpayers.Taxpayer(ctx, id)
		if err != nil {
			return err
		}
		d.Taxpayer = tp
		if d.Statement, err = p.deps.Payments.Statement(ctx, id, fiscal.LocalDate(p.deps.Clock.Now())); err != nil {
			return err
		}
	}
	return nil
}

func (p *Portal) cash(c *fiber.Ctx, v *view) error {
	v.Form = formValues(c, "taxpayer_id", "amount")
	id, _ := strconv.ParseInt(v.Form["taxpayer_id"], 10, 64)
	in := fiscal.CashPaymentInput{TaxpayerID: id}
	var err error
	amount, perr := money.Parse(strings.ReplaceAll(v.Form["amount"], ",", "."))
	switch {
	case v.Form["amount"] == "":
		err = fiscal.InvalidField("amount", "is required")
	case errors.Is(perr, money.ErrTooLarge):
		err = fiscal.InvalidField("amount", "must be at most "+money.Max.String()+" lei (the ledger's limit)")
	case perr != nil:
		err = fiscal.InvalidField("amount", "must be a number")
	default:
		in.Amount = amount
		if err = web.Validate(&in); err == nil {
			if fe := in.Validate(); len(fe) > 0 {
				err = fiscal.Invalid(fe...)
			}
		}
	}
	var out formOutcome
	if err == nil {
		// The receipt's page is kept with the payment, in its transaction.
		paid := func(result any) (formOutcome, error) {
			pay, ok := result.(*fiscal.Payment)
			if !ok {
				return formOutcome{}, fmt.Errorf("portal: a cash payment's reply is a payment, not %T", result)
			}
			return formOutcome{To: "/payments/" + strconv.FormatInt(pay.ID, 10), Flash: "cash.recorded"}, nil
		}
		out, _, err = p.once(c, v, onceForm{kept: paid}, func(ctx context.Context) (formOutcome, error) {
			pay, err := p.deps.Payments.RecordCashPayment(ctx, &in)
			if err != nil {
				return formOutcome{}, err
			}
			return paid(pay)
		})
	}
	if err != nil {
		fe, ok := formErrors(v.Lang, err)
		if !ok {
			return err
		}
		v.Errors = fe
		d := cashData{}
		if lerr := p.cashLookup(c, v, &d); lerr != nil {
			return lerr
		}
		return p.render(c.Status(web.HTTPStatus(err)), v, "cash", d)
	}
	return p.answer(c, out)
}

type paymentData struct {
	Payment  *fiscal.Payment
	Taxpayer *fiscal.Taxpayer
	Debts    map[int64]fiscal.Debt
}

// paymentPage shows a payment: its status (a card payment stays pending
// until Stripe's webhook settles it), what it paid and its receipt.
func (p *Portal) paymentPage(c *fiber.Ctx, v *view) error {
	if p.deps.Payments == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no such page")
	}
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	pay, err := p.deps.Payments.Payment(ctx, id)
	if err != nil {
		return err
	}
	d := paymentData{Payment: pay, Debts: map[int64]fiscal.Debt{}}
	if d.Taxpayer, err = p.deps.Taxpayers.Taxpayer(ctx, pay.TaxpayerID); err != nil {
		return err
	}
	st, err := p.deps.Payments.Statement(ctx, pay.TaxpayerID, civil.New(9999, 12, 31))
	if err != nil {
		return err
	}
	for _, db := range st.Debts {
		d.Debts[db.ID] = db
	}
	return p.render(c, v, "payment", d)
}

// receipt sends a payment's receipt PDF (the holder or staff).
func (p *Portal) receipt(c *fiber.Ctx, v *view) error {
	if p.deps.Payments == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no such page")
	}
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	if p.deps.Documents != nil {
		// The signed receipt, issued through the documents pipeline.
		d, rc, err := p.deps.Documents.ReceiptPDF(c.UserContext(), id)
		if err != nil {
			return err
		}
		return sendDocument(c, d, rc)
	}
	pdf, err := p.deps.Payments.Receipt(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="chitanta-`+strconv.FormatInt(id, 10)+`.pdf"`)
	return c.Send(pdf)
}
