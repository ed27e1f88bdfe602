package portal

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/web"
)

func (p *Portal) publicPages() []page {
	return []page{
		{Method: "GET", Path: "/", Access: public, Nav: "nav.home", NavOrder: 0, Handler: p.home},
	}
}

func (p *Portal) accountPages() []page {
	if p.deps.Users == nil {
		return nil
	}
	// Sign-in and sign-out carry no one-time id (formonce.go): sending the
	// sign-in twice opens one more session of the same person, a second
	// sign-out finds no session left to end (it is sent to the sign-in
	// page). Registration carries one, claimed without a user (anonOnce).
	return []page{
		{Method: "GET", Path: "/login", Access: anonymousOnly, Nav: "nav.login", NavOrder: 90, Handler: p.loginForm},
		{Method: "POST", Path: "/login", Access: anonymousOnly, Handler: p.login},
		{Method: "GET", Path: "/register", Access: anonymousOnly, Nav: "nav.register", NavOrder: 91, Handler: p.registerForm},
		{Method: "POST", Path: "/register", Access: anonymousOnly, Handler: p.register},
		{Method: "POST", Path: "/logout", Access: access{}, Handler: p.logout},
		{Method: "GET", Path: "/account", Access: taxpayerOnly, Nav: "nav.account", NavOrder: 10, Handler: p.account},
		{Method: "GET", Path: "/staff", Access: staffOnly, Nav: "nav.staff", NavOrder: 10, Handler: p.staff},
	}
}

func (p *Portal) home(c *fiber.Ctx, v *view) error {
	return p.render(c, v, "home", nil)
}

// formValues copies the named form fields (fiber reuses its buffers).
func formValues(c *fiber.Ctx, names ...string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = strings.TrimSpace(strings.Clone(c.FormValue(n)))
	}
	return m
}

type loginData struct {
	Failed bool
	Next   string
	// OIDC offers the national identity provider's button.
	OIDC bool
}

func (p *Portal) loginForm(c *fiber.Ctx, v *view) error {
	return p.render(c, v, "login", loginData{Next: safeNext(c.Query("next")), OIDC: p.oidcEnabled()})
}

func (p *Portal) login(c *fiber.Ctx, v *view) error {
	v.Form = formValues(c, "username", "next")
	password := strings.Clone(c.FormValue("password"))
	data := loginData{Next: safeNext(v.Form["next"]), OIDC: p.oidcEnabled()}
	v.Errors = map[string]string{}
	if v.Form["username"] == "" {
		v.Errors["username"] = v.T("err.required")
	}
	if password == "" {
		v.Errors["password"] = v.T("err.required")
	}
	if len(v.Errors) > 0 {
		return p.render(c.Status(fiber.StatusUnprocessableEntity), v, "login", data)
	}
	// The API's sign-in with its limits and counters: the portal is not a
	// second door for guessing passwords.
	sess, err := p.api.SignIn(c, v.Muni, v.Form["username"], password)
	if fiscal.ErrorCode(err) == fiscal.EUNAUTHORIZED {
		data.Failed = true
		return p.render(c.Status(fiber.StatusUnauthorized), v, "login", data)
	}
	if err != nil {
		return err
	}
	p.startSession(c, sess)
	dest := data.Next
	if dest == "" {
		dest = "/account"
		if sess.User.Role.IsStaff() {
			dest = "/staff"
		}
	}
	return c.Redirect(dest, fiber.StatusSeeOther)
}

func (p *Portal) logout(c *fiber.Ctx, v *view) error {
	if err := p.deps.Users.Logout(c.UserContext(), v.sessionToken); err != nil && fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
		return err
	}
	p.clearCookie(c, sessionCookie)
	return c.Redirect("/", fiber.StatusSeeOther)
}

// registerFields are the inputs of the registration form, named by the
// API's JSON paths so that its field errors land on them.
var registerFields = []string{"username", "email", "taxpayer.kind", "taxpayer.name", "taxpayer.cnp", "taxpayer.cui", "taxpayer.address", "taxpayer.phone"}

func (p *Portal) registerForm(c *fiber.Ctx, v *view) error {
	v.Form = map[string]string{"taxpayer.kind": "individual"}
	if c.Query("kind") == "company" {
		v.Form["taxpayer.kind"] = "company"
	}
	return p.render(c, v, "register", nil)
}

func (p *Portal) register(c *fiber.Ctx, v *view) error {
	v.Form = formValues(c, registerFields...)
	r := fiscal.Registration{
		Username: v.Form["username"],
		Password: strings.Clone(c.FormValue("password")),
		Email:    v.Form["email"],
		Taxpayer: fiscal.TaxpayerInput{Kind: fiscal.TaxpayerKind(v.Form["taxpayer.kind"]), Name: v.Form["taxpayer.name"],
			Address: v.Form["taxpayer.address"], Phone: v.Form["taxpayer.phone"]},
	}
	// The form shows both codes; only the one of the chosen kind is sent.
	switch r.Taxpayer.Kind {
	case fiscal.Individual:
		r.Taxpayer.CNP = v.Form["taxpayer.cnp"]
	case fiscal.Company:
		r.Taxpayer.CUI = v.Form["taxpayer.cui"]
	}
	if err := p.api.Limit(c.UserContext(), "register:"+p.api.ClientIP(c), 20, time.Hour); err != nil {
		return err
	}
	err := web.Validate(&r)
	if err != nil {
		// The API stops at the struct tags; a form shows every error at
		// once, so the identity checks (CNP/CUI check digits) run too.
		err = withFields(err, r.Validate())
	}
	again := false
	if err == nil {
		again, err = p.anonOnce(c, v, func(ctx context.Context) error {
			_, _, err := p.deps.Users.Register(ctx, v.Muni.ID, &r)
			return err
		})
	}
	if sentBefore(err) {
		return err
	}
	if err != nil {
		fields, ok := formErrors(v.Lang, err)
		if !ok {
			return err
		}
		v.Errors = fields
		return p.render(c.Status(web.HTTPStatus(err)), v, "register", nil)
	}
	return p.signedUp(c, v, again, r.Username, r.Password)
}

type accountData struct {
	Taxpayer  *fiscal.Taxpayer
	Vehicles  []*fiscal.Vehicle
	Statement *fiscal.Statement
	// Objects name the statement's objects (a vehicle's plate by id).
	Objects  map[int64]string
	Cases    []*fiscal.Case
	Payments []*fiscal.Payment
	// CanDeclare: the cases workflow is available.
	CanDeclare bool
	CanPay     bool
	// Documents are the taxpayer's issued documents (nil: no documents
	// service, no section).
	Documents  []*fiscal.Document
	CanCertify bool
	// Restricted: a password-only account linked to a record that existed
	// before it sees its requests, not the record (fiscal.Assurance).
	Restricted bool
	// Properties are the taxpayer's buildings and land (nil: no section).
	Properties *propertiesData
	// ActingFor are the taxpayers the person may act for (nil: no choice,
	// no selector; pages_representation.go).
	ActingFor []fiscal.ActingTaxpayer
}

func (p *Portal) account(c *fiber.Ctx, v *view) error {
	if v.Actor.TaxpayerID == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no taxpayer record")
	}
	ctx := c.UserContext()
	if !v.Actor.Assurance.SeesRecord() {
		d := accountData{Restricted: true, CanDeclare: p.deps.Cases != nil}
		if p.deps.Cases != nil {
			var err error
			if d.Cases, _, err = p.deps.Cases.Cases(ctx, fiscal.CaseFilter{Status: "all", Limit: 100}); err != nil {
				return err
			}
		}
		return p.render(c, v, "account", d)
	}
	tp, err := p.deps.Taxpayers.Taxpayer(ctx, *v.Actor.TaxpayerID)
	if err != nil {
		return err
	}
	d := accountData{Taxpayer: tp, Objects: map[int64]string{}, CanDeclare: p.deps.Cases != nil, CanPay: p.deps.Payments != nil}
	if d.ActingFor, err = p.actingFor(c, v); err != nil {
		return err
	}
	if p.deps.Vehicles != nil {
		if d.Vehicles, err = p.deps.Vehicles.TaxpayerVehicles(ctx, tp.ID); err != nil {
			return err
		}
		for _, veh := range d.Vehicles {
			d.Objects[veh.ID] = veh.Plate
		}
	}
	if p.deps.Payments != nil {
		if d.Statement, err = p.deps.Payments.Statement(ctx, tp.ID, fiscal.LocalDate(p.deps.Clock.Now())); err != nil {
			return err
		}
	}
	if d.Properties, err = p.properties(ctx, v, tp.ID, d.Statement); err != nil {
		return err
	}
	if p.deps.PaymentList != nil {
		if d.Payments, err = p.deps.PaymentList.TaxpayerPayments(ctx, tp.ID); err != nil {
			return err
		}
	}
	if p.deps.Documents != nil {
		d.CanCertify = true
		if d.Documents, err = p.deps.Documents.TaxpayerDocuments(ctx, tp.ID); err != nil {
			return err
		}
	}
	if p.deps.Cases != nil {
		if d.Cases, _, err = p.deps.Cases.Cases(ctx, fiscal.CaseFilter{Status: "all", Limit: 100}); err != nil {
			return err
		}
	}
	v.Objects = d.Objects
	p.publishedLabels(c, v)
	return p.render(c, v, "account", d)
}

type staffData struct {
	User  *fiscal.User
	Links []navItem
}

func (p *Portal) staff(c *fiber.Ctx, v *view) error {
	u, err := p.deps.Users.UserByID(c.UserContext(), v.Actor.UserID)
	if err != nil {
		return err
	}
	d := staffData{User: u}
	for _, n := range p.nav(v) {
		if n.Href != "/" && n.Href != "/staff" {
			d.Links = append(d.Links, n)
		}
	}
	return p.render(c, v, "staff", d)
}
