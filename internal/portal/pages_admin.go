package portal

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/web"
)

// The administrator's pages: staff accounts, the dated tax parameters and
// the bridge days of the working-day calendar. They call the same services
// as the API (fiscal.UserService, fiscal.StaffDirectory, fiscal.TaxRules).

var adminOnly = access{roles: []fiscal.Role{fiscal.RoleAdmin}}

func (p *Portal) adminPages() []page {
	var ps []page
	if p.deps.Staff != nil {
		ps = append(ps,
			page{Method: "GET", Path: "/admin/users", Access: adminOnly, Nav: "nav.users", NavOrder: 30, Handler: p.users},
			page{Method: "POST", Path: "/admin/users", Access: adminOnly, Handler: p.createUser})
	}
	if p.deps.Tax != nil {
		ps = append(ps,
			page{Method: "GET", Path: "/admin/parameters", Access: adminOnly, Nav: "nav.parameters", NavOrder: 31, Handler: p.parameters},
			page{Method: "POST", Path: "/admin/parameters", Access: adminOnly, Handler: p.addParameter},
			page{Method: "GET", Path: "/admin/calendar", Access: adminOnly, Nav: "nav.calendar", NavOrder: 32, Handler: p.calendarPage},
			page{Method: "POST", Path: "/admin/calendar", Access: adminOnly, Handler: p.addBridgeDay},
			page{Method: "POST", Path: "/admin/calendar/remove", Access: adminOnly, Handler: p.removeBridgeDay})
	}
	return ps
}

// staffInput is the form of a new staff account; the same rules as the
// API's POST /api/v1/users.
type staffInput struct {
	Username string      `json:"username" validate:"required,min=3,max=64,printascii,excludesall= "`
	Password string      `json:"password" validate:"required,min=10,max=256"`
	Role     fiscal.Role `json:"role" validate:"required,oneof=officer signer accountant admin"`
	FullName string      `json:"full_name" validate:"required,max=200,nobidi"`
}

type usersData struct {
	Users []*fiscal.User
	// Manage links each account to its page (disable, role, password).
	Manage bool
}

func (p *Portal) users(c *fiber.Ctx, v *view) error {
	return p.renderUsers(c, v, fiber.StatusOK)
}

func (p *Portal) renderUsers(c *fiber.Ctx, v *view, status int) error {
	us, err := p.deps.Staff.StaffUsers(c.UserContext())
	if err != nil {
		return err
	}
	if v.Form == nil {
		v.Form = map[string]string{"role": "officer"}
	}
	return p.render(c.Status(status), v, "users", usersData{Users: us, Manage: p.deps.Identity != nil})
}

func (p *Portal) createUser(c *fiber.Ctx, v *view) error {
	v.Form = formValues(c, "username", "full_name", "role")
	in := staffInput{Username: v.Form["username"], FullName: v.Form["full_name"], Role: fiscal.Role(v.Form["role"]), Password: strings.Clone(c.FormValue("password"))}
	err := web.Validate(&in)
	out := formOutcome{To: "/admin/users", Flash: "users.added"}
	if err == nil {
		out, err = p.onceTo(c, v, out, func(ctx context.Context) error {
			_, err := p.deps.Users.CreateStaff(ctx, v.Muni.ID, in.Username, in.Password, in.Role, in.FullName)
			return err
		})
	}
	if err != nil {
		if sentBefore(err) {
			return err
		}
		fe, ok := formErrors(v.Lang, err)
		if fiscal.ErrorCode(err) == fiscal.ECONFLICT {
			fe, ok = map[string]string{"username": v.T("err.taken")}, true
		}
		if !ok {
			return err
		}
		v.Errors = fe
		return p.renderUsers(c, v, web.HTTPStatus(err))
	}
	return p.answer(c, out)
}

type paramsData struct {
	Year    int
	Years   []option
	Entries []fiscal.ParameterEntry
}

func (p *Portal) adminYear(c *fiber.Ctx) int {
	y, err := strconv.Atoi(c.Query("year"))
	if err != nil || y < 2000 || y > 2100 {
		return civilYear(p)
	}
	return y
}

func yearOptions(p *Portal, sel int) []option {
	now := civilYear(p)
	var out []option
	for y := now - 2; y <= now+1; y++ {
		out = append(out, option{Value: strconv.Itoa(y), Label: strconv.Itoa(y), Selected: y == sel})
	}
	return out
}

func (p *Portal) parameters(c *fiber.Ctx, v *view) error {
	return p.renderParameters(c, v, p.adminYear(c), fiber.StatusOK)
}

func (p *Portal) renderParameters(c *fiber.Ctx, v *view, year, status int) error {
	es, err := p.deps.Tax.Parameters(c.UserContext(), fiscal.ParameterFilter{KeyPrefix: strings.Clone(c.Query("key_prefix")), Year: year})
	if err != nil {
		return err
	}
	if v.Form == nil {
		v.Form = map[string]string{"effective_from": civil.New(year, 1, 1).String()}
	}
	return p.render(c.Status(status), v, "parameters", paramsData{Year: year, Years: yearOptions(p, year), Entries: es})
}

func (p *Portal) addParameter(c *fiber.Ctx, v *view) error {
	v.Form = formValues(c, "key", "effective_from", "value", "legal_basis", "note", "national", "decision_number", "decision_date")
	in := fiscal.ParameterInput{Key: v.Form["key"], Value: strings.ReplaceAll(v.Form["value"], ",", "."), LegalBasis: v.Form["legal_basis"],
		Note: v.Form["note"], National: v.Form["national"] == "true"}
	var err error
	if s := v.Form["effective_from"]; s != "" {
		in.EffectiveFrom, err = civil.Parse(s)
		if err != nil {
			err = fiscal.InvalidField("effective_from", "must be a date YYYY-MM-DD")
		}
	}
	// A municipality's value carries the council decision that adopted it.
	if n, d := strings.TrimSpace(v.Form["decision_number"]), v.Form["decision_date"]; err == nil && (n != "" || d != "") {
		in.Decision = &fiscal.CouncilDecision{Number: n}
		if in.Decision.Date, err = civil.Parse(d); err != nil {
			err = fiscal.InvalidField("decision_date", "must be a date YYYY-MM-DD")
		}
	}
	if err == nil {
		err = web.Validate(&in)
	}
	year := civilYear(p)
	if in.EffectiveFrom.IsValid() {
		year = in.EffectiveFrom.Year
	}
	out := formOutcome{To: "/admin/parameters?year=" + strconv.Itoa(year), Flash: "params.added"}
	if err == nil {
		out, err = p.onceTo(c, v, out, func(ctx context.Context) error {
			_, err := p.deps.Tax.AddParameter(ctx, &in)
			return err
		})
	}
	if err != nil {
		if sentBefore(err) {
			return err
		}
		fe, ok := formErrors(v.Lang, err)
		// The API names the decision's fields decision, decision.number, decision.date.
		for from, to := range map[string]string{"decision": "decision_number", "decision.number": "decision_number", "decision.date": "decision_date"} {
			if m, has := fe[from]; has {
				fe[to] = m
				delete(fe, from)
			}
		}
		switch {
		case fiscal.ErrorCode(err) == fiscal.ECONFLICT:
			fe = map[string]string{"effective_from": v.T("err.param_exists")}
		case !ok && fiscal.ErrorCode(err) == fiscal.EINVALID:
			fe = map[string]string{"effective_from": fiscal.ErrorMessage(err)}
		case !ok:
			return err
		}
		v.Errors = fe
		return p.renderParameters(c, v, year, web.HTTPStatus(err))
	}
	return p.answer(c, out)
}

type calendarData struct {
	Year  int
	Years []option
	Days  []fiscal.BridgeDay
}

func (p *Portal) calendarPage(c *fiber.Ctx, v *view) error {
	return p.renderCalendar(c, v, p.adminYear(c), fiber.StatusOK)
}

func (p *Portal) renderCalendar(c *fiber.Ctx, v *view, year, status int) error {
	days, err := p.deps.Tax.BridgeDays(c.UserContext(), year)
	if err != nil {
		return err
	}
	return p.render(c.Status(status), v, "calendar", calendarData{Year: year, Years: yearOptions(p, year), Days: days})
}

func (p *Portal) addBridgeDay(c *fiber.Ctx, v *view) error {
	v.Form = formValues(c, "date", "reason")
	var in fiscal.BridgeDay
	var err error
	if v.Form["date"] == "" {
		err = fiscal.InvalidField("date", "is required")
	} else if in.Date, err = civil.Parse(v.Form["date"]); err != nil {
		err = fiscal.InvalidField("date", "must be a date YYYY-MM-DD")
	}
	in.Reason = v.Form["reason"]
	if err == nil {
		err = web.Validate(&in)
	}
	year := civilYear(p)
	if in.Date.IsValid() {
		year = in.Date.Year
	}
	out := formOutcome{To: "/admin/calendar?year=" + strconv.Itoa(year), Flash: "calendar.added"}
	if err == nil {
		out, err = p.onceTo(c, v, out, func(ctx context.Context) error {
			_, err := p.deps.Tax.AddBridgeDay(ctx, &in)
			return err
		})
	}
	if err != nil {
		if sentBefore(err) {
			return err
		}
		fe, ok := formErrors(v.Lang, err)
		switch {
		case fiscal.ErrorCode(err) == fiscal.ECONFLICT:
			fe = map[string]string{"date": v.T("err.day_exists")}
		case !ok && fiscal.ErrorCode(err) == fiscal.EINVALID:
			fe = map[string]string{"date": fiscal.ErrorMessage(err)}
		case !ok:
			return err
		}
		v.Errors = fe
		return p.renderCalendar(c, v, year, web.HTTPStatus(err))
	}
	return p.answer(c, out)
}

func (p *Portal) removeBridgeDay(c *fiber.Ctx, v *view) error {
	d, err := civil.Parse(strings.Clone(c.FormValue("date")))
	if err != nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no such day")
	}
	out, err := p.onceTo(c, v, formOutcome{To: "/admin/calendar?year=" + strconv.Itoa(d.Year), Flash: "calendar.removed"},
		func(ctx context.Context) error {
			_, err := p.deps.Tax.DeleteBridgeDay(ctx, d)
			return err
		})
	if err != nil {
		return err
	}
	return p.answer(c, out)
}
