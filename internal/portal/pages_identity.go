package portal

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/web"
)

// Enrollment codes at the desk (officers, admins) and the admin's page of
// one staff account (disable, enable, role, password), over
// fiscal.IdentityService like the API.

var enrollAccess = access{roles: []fiscal.Role{fiscal.RoleOfficer, fiscal.RoleAdmin}}

func (p *Portal) identityPages() []page {
	if p.deps.Identity == nil {
		return nil
	}
	ps := []page{
		// /enroll is anonymous: its one-time id is claimed without a user
		// (formonce.go, anonOnce).
		{Method: "GET", Path: "/enroll", Access: anonymousOnly, Handler: p.selfEnrollForm},
		{Method: "POST", Path: "/enroll", Access: anonymousOnly, Handler: p.selfEnroll},
		{Method: "GET", Path: "/staff/enroll", Access: enrollAccess, Nav: "nav.enroll", NavOrder: 23, Handler: p.enrollPage},
		{Method: "POST", Path: "/staff/enroll", Access: enrollAccess, Handler: p.issueCode},
	}
	if p.deps.Staff != nil {
		ps = append(ps,
			page{Method: "GET", Path: "/admin/users/:id", Access: adminOnly, Handler: p.userPage},
			page{Method: "POST", Path: "/admin/users/:id/disable", Access: adminOnly, Handler: p.userAction(fiscal.ChangeDisable)},
			page{Method: "POST", Path: "/admin/users/:id/enable", Access: adminOnly, Handler: p.userAction(fiscal.ChangeEnable)},
			page{Method: "POST", Path: "/admin/users/:id/role", Access: adminOnly, Handler: p.userAction(fiscal.ChangeRole)},
			page{Method: "POST", Path: "/admin/users/:id/password", Access: adminOnly, Handler: p.userAction(fiscal.ChangePassword)})
	}
	return ps
}

type enrollData struct {
	Query    string
	Results  []*fiscal.Taxpayer
	Taxpayer *fiscal.Taxpayer
	// Code is the code just issued: shown on this answer only.
	Code    *fiscal.EnrollmentCode
	Problem string
}

func (p *Portal) enrollLookup(c *fiber.Ctx, v *view, d *enrollData, taxpayer string) error {
	ctx := c.UserContext()
	if d.Query != "" {
		res, _, err := p.deps.Taxpayers.FindTaxpayers(ctx, fiscal.TaxpayerFilter{Q: d.Query, Limit: 20})
		if err != nil {
			return err
		}
		d.Results = res
	}
	if id, err := strconv.ParseInt(taxpayer, 10, 64); err == nil && id > 0 {
		tp, err := p.deps.Taxpayers.Taxpayer(ctx, id)
		if err != nil {
			return err
		}
		d.Taxpayer = tp
	}
	return nil
}

func (p *Portal) enrollPage(c *fiber.Ctx, v *view) error {
	d := enrollData{Query: strings.TrimSpace(c.Query("q"))}
	if err := p.enrollLookup(c, v, &d, c.Query("taxpayer")); err != nil {
		return err
	}
	return p.render(c, v, "enroll", d)
}

func (p *Portal) issueCode(c *fiber.Ctx, v *view) error {
	d := enrollData{}
	tid := c.FormValue("taxpayer_id")
	if err := p.enrollLookup(c, v, &d, tid); err != nil {
		return err
	}
	if d.Taxpayer == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "taxpayer not found")
	}
	// The code is shown on the first answer only (it is kept hashed): a
	// sending of the same form again issues no second code, and leads to
	// the taxpayer's enrollment page saying so (a new code, issued there,
	// replaces the first).
	var code *fiscal.EnrollmentCode
	sentTwice := formOutcome{To: "/staff/enroll?taxpayer=" + strconv.FormatInt(d.Taxpayer.ID, 10), Flash: "enroll.sent_twice"}
	out, again, err := p.once(c, v, onceForm{settled: &sentTwice}, func(ctx context.Context) (formOutcome, error) {
		var err error
		code, err = p.deps.Identity.IssueEnrollmentCode(ctx, d.Taxpayer.ID)
		return sentTwice, err
	})
	if again && err == nil {
		return p.answer(c, out)
	}
	if fiscal.ErrorCode(err) == fiscal.ECONFLICT && !sentBefore(err) {
		d.Problem = v.T("enroll.hasaccount")
		return p.render(c.Status(fiber.StatusConflict), v, "enroll", d)
	}
	if err != nil {
		return err
	}
	d.Code = code
	c.Set(fiber.HeaderCacheControl, "no-store")
	return p.render(c, v, "enroll", d)
}

type userData struct {
	User *fiscal.User
	Self bool
}

func (p *Portal) userPage(c *fiber.Ctx, v *view) error {
	return p.renderUser(c, v, fiber.StatusOK)
}

func (p *Portal) renderUser(c *fiber.Ctx, v *view, status int) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	u, err := p.deps.Users.UserByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	if !u.Role.IsStaff() {
		return fiscal.Errorf(fiscal.ENOTFOUND, "staff account not found")
	}
	if v.Form == nil {
		v.Form = map[string]string{}
	}
	if v.Form["role"] == "" {
		v.Form["role"] = string(u.Role)
	}
	return p.render(c.Status(status), v, "user", userData{User: u, Self: v.Actor.UserID == u.ID})
}

// userAction runs one of the admin's changes; a refusal is shown on the
// account's page next to the form it came from.
func (p *Portal) userAction(change fiscal.AccountChange) func(c *fiber.Ctx, v *view) error {
	return func(c *fiber.Ctx, v *view) error {
		id, err := pathInt(c, "id")
		if err != nil {
			return err
		}
		svc := p.deps.Identity
		out := formOutcome{To: "/admin/users/" + strconv.FormatInt(id, 10), Flash: "user.saved"}
		field := "status"
		switch change {
		case fiscal.ChangeDisable:
			out, err = p.onceTo(c, v, out, func(ctx context.Context) error { _, err := svc.DisableUser(ctx, id); return err })
		case fiscal.ChangeEnable:
			out, err = p.onceTo(c, v, out, func(ctx context.Context) error { _, err := svc.EnableUser(ctx, id); return err })
		case fiscal.ChangeRole:
			field = "role"
			v.Form = formValues(c, "role")
			in := struct {
				Role fiscal.Role `json:"role" validate:"required,oneof=officer signer accountant admin"`
			}{Role: fiscal.Role(v.Form["role"])}
			if err = web.Validate(&in); err == nil {
				out, err = p.onceTo(c, v, out, func(ctx context.Context) error { _, err := svc.SetRole(ctx, id, in.Role); return err })
			}
		case fiscal.ChangePassword:
			field = "password"
			in := struct {
				Password string `json:"password" validate:"required,min=10,max=256"`
			}{Password: strings.Clone(c.FormValue("password"))}
			if err = web.Validate(&in); err == nil {
				out, err = p.onceTo(c, v, out, func(ctx context.Context) error { _, err := svc.SetPassword(ctx, id, in.Password); return err })
			}
		}
		if sentBefore(err) {
			return err
		}
		if err != nil {
			fe, ok := formErrors(v.Lang, err)
			if fiscal.ErrorCode(err) == fiscal.ECONFLICT {
				fe, ok = map[string]string{field: v.T("user.err." + field)}, true
			}
			if !ok {
				return err
			}
			v.Errors = fe
			return p.renderUser(c, v, web.HTTPStatus(err))
		}
		return p.answer(c, out)
	}
}

// selfEnrollForm is the taxpayer's side: an account for a record on file,
// opened with the code the department issued (POST /api/v1/auth/enroll).
func (p *Portal) selfEnrollForm(c *fiber.Ctx, v *view) error {
	return p.render(c, v, "selfenroll", nil)
}

func (p *Portal) selfEnroll(c *fiber.Ctx, v *view) error {
	v.Form = formValues(c, "code", "cnp", "cui", "email", "username")
	e := fiscal.Enrollment{Code: v.Form["code"], CNP: v.Form["cnp"], CUI: v.Form["cui"], Email: v.Form["email"],
		Username: v.Form["username"], Password: strings.Clone(c.FormValue("password"))}
	if e.CNP != "" {
		e.CUI = "" // both typed: the CNP counts
	}
	err := web.Validate(&e)
	again := false
	if err == nil {
		// The use case counts the attempt (per address and taxpayer, in the
		// database) before it looks at the code, as the API does; a form
		// sent again after it opened the account is not counted.
		address := p.api.ClientIP(c)
		again, err = p.anonOnce(c, v, func(ctx context.Context) error {
			_, _, err := p.deps.Identity.Enroll(ctx, v.Muni.ID, &e, address)
			return err
		})
	}
	if sentBefore(err) {
		return err
	}
	if err != nil {
		fields, ok := formErrors(v.Lang, err)
		if fiscal.ErrorCode(err) == fiscal.ECONFLICT {
			fields, ok = map[string]string{"code": v.T("selfenroll.hasaccount")}, true
			if de, isDomain := err.(*fiscal.Error); isDomain && len(de.Fields) == 1 && de.Fields[0].Field == "username" {
				fields = map[string]string{"username": v.T("err.taken")}
			}
		}
		if !ok {
			return err
		}
		v.Errors = fields
		return p.render(c.Status(web.HTTPStatus(err)), v, "selfenroll", nil)
	}
	return p.signedUp(c, v, again, e.Username, e.Password)
}
