package portal

import (
	"errors"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/web"
)

// access says who may open a page, like web.Access for the API.
type access struct {
	// public pages need no session.
	public bool
	// anonymousOnly pages (sign in, register) send a signed-in user home.
	anonymousOnly bool
	// roles, when not empty, are the only roles allowed; empty on a
	// non-public page means any signed-in user.
	roles []fiscal.Role
}

var (
	public        = access{public: true}
	anonymousOnly = access{public: true, anonymousOnly: true}
	taxpayerOnly  = access{roles: []fiscal.Role{fiscal.RoleTaxpayer}}
	staffOnly     = access{roles: []fiscal.Role{fiscal.RoleOfficer, fiscal.RoleSigner, fiscal.RoleAccountant, fiscal.RoleAdmin}}
)

// allows reports whether the actor (nil when anonymous) may open the page.
func (a access) allows(actor *fiscal.Actor) bool {
	if a.anonymousOnly {
		return actor == nil
	}
	if a.public {
		return true
	}
	if actor == nil {
		return false
	}
	return len(a.roles) == 0 || actor.Has(a.roles...)
}

// page is one entry of the page table.
type page struct {
	Method string // GET or POST (POSTs are CSRF-checked before the handler)
	Path   string // fiber syntax
	Access access
	// Nav, when set, is the message key of the page's entry in the header
	// navigation, shown to those the page allows; NavOrder sorts the entries.
	Nav      string
	NavOrder int
	Handler  func(c *fiber.Ctx, v *view) error
}

// allPages is the page table of the portal; each feature appends its own.
func (p *Portal) allPages() []page {
	var ps []page
	ps = append(ps, p.publicPages()...)
	ps = append(ps, p.accountPages()...)
	ps = append(ps, p.oidcPages()...)
	if p.deps.Tax != nil {
		ps = append(ps, p.calculatorPages()...)
	}
	if p.deps.Cases != nil {
		ps = append(ps, p.casePages()...)
		ps = append(ps, p.propertyPages()...)
		ps = append(ps, p.staffPages()...)
		if p.deps.RequestTypes != nil {
			ps = append(ps, p.requestPages()...)
		}
	}
	if p.deps.Payments != nil {
		ps = append(ps, p.payPages()...)
		ps = append(ps, p.cashPages()...)
	}
	if p.deps.Documents != nil {
		ps = append(ps, p.documentPages()...)
	}
	if p.deps.Reports != nil {
		ps = append(ps, p.reportPages()...)
	}
	ps = append(ps, p.adminPages()...)
	ps = append(ps, p.paramPages()...)
	ps = append(ps, p.importPages()...)
	ps = append(ps, p.identityPages()...)
	ps = append(ps, p.representationPages()...)
	return ps
}

// navItem is one link of the header navigation.
type navItem struct {
	Label   string
	Href    string
	Current bool
}

func (p *Portal) nav(v *view) []navItem {
	var items []navItem
	ps := slices.Clone(p.pages)
	slices.SortStableFunc(ps, func(a, b page) int { return a.NavOrder - b.NavOrder })
	for _, pg := range ps {
		if pg.Nav == "" || pg.Method != fiber.MethodGet || !pg.Access.allows(v.Actor) {
			continue
		}
		items = append(items, navItem{Label: v.T(pg.Nav), Href: pg.Path, Current: pg.Path == v.Path})
	}
	return items
}

// handler wraps a page: language, session, access, CSRF on POST, and errors
// rendered as HTML pages.
func (p *Portal) handler(pg page) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := p.newView(c, pg)
		if err != nil {
			return err
		}
		c.Set("Cache-Control", "no-store")
		c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		c.Set("X-Frame-Options", "DENY")
		c.Set("Referrer-Policy", "same-origin")
		if !pg.Access.allows(v.Actor) {
			switch {
			case pg.Access.anonymousOnly:
				return c.Redirect(p.homeOf(v.Actor), fiber.StatusSeeOther)
			case v.Actor == nil:
				return c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
			default:
				return p.renderError(c, v, fiscal.Errorf(fiscal.EFORBIDDEN, "forbidden"))
			}
		}
		if pg.Method == fiber.MethodPost && !p.checkCSRF(c, v) {
			return p.renderError(c, v, fiscal.Errorf(fiscal.EFORBIDDEN, "csrf"))
		}
		if err := checkFormText(c); err != nil {
			return p.renderError(c, v, err)
		}
		if err := pg.Handler(c, v); err != nil {
			return p.renderError(c, v, err)
		}
		return nil
	}
}

// checkFormText refuses, as the API does (web.CheckText), a query parameter
// holding a control character other than TAB, and a form field holding one
// other than TAB, LF and CR (textareas send CRLF): 422 naming the field,
// before any page reads the request.
func checkFormText(c *fiber.Ctx) error {
	var bad error
	check := func(multiline bool) func(k, v []byte) {
		return func(k, v []byte) {
			if bad == nil {
				if bad = web.CheckText(string(k), string(k), false); bad == nil {
					bad = web.CheckText(string(k), string(v), multiline)
				}
			}
		}
	}
	c.Request().URI().QueryArgs().VisitAll(check(false))
	if bad != nil || c.Method() != fiber.MethodPost {
		return bad
	}
	if strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEMultipartForm) {
		form, err := c.MultipartForm()
		if err != nil {
			return nil // the page reports the unreadable form
		}
		keys := make([]string, 0, len(form.Value))
		for k := range form.Value {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range form.Value[k] {
				check(true)([]byte(k), []byte(v))
			}
		}
		return bad
	}
	c.Request().PostArgs().VisitAll(check(true))
	return bad
}

// homeOf is where a user lands after signing in.
func (p *Portal) homeOf(a *fiscal.Actor) string {
	switch {
	case a == nil:
		return "/"
	case a.IsStaff():
		return "/staff"
	}
	return "/account"
}

// errorPage is the data of templates/error.html.
type errorPage struct {
	Status  int
	Message string
}

// renderError renders err as an HTML page with the API's status for it.
func (p *Portal) renderError(c *fiber.Ctx, v *view, err error) error {
	status := web.HTTPStatus(err)
	var msg string
	switch {
	case fiscal.ErrorMessage(err) == "csrf":
		msg = v.T("form.expired")
	case errors.Is(err, errFormBusy): // a form sent again (formonce.go)
		msg = v.T("form.busy")
	case errors.Is(err, errFormFailed):
		msg = v.T("form.failed")
	case status == fiber.StatusNotFound:
		msg = v.T("error.404")
	case status == fiber.StatusForbidden:
		msg = v.T("error.403")
	case status == fiber.StatusTooManyRequests:
		c.Set(fiber.HeaderRetryAfter, "60")
		msg = v.T("error.429")
	case status == fiber.StatusServiceUnavailable:
		msg = v.T("error.503")
	case status >= 500:
		rid, _ := c.Locals("request_id").(string)
		p.log.Error("portal page failed", "request_id", rid, "path", c.Path(), "err", err.Error())
		msg = v.T("error.500", rid)
	default:
		msg = fiscal.ErrorMessage(err)
	}
	v.Title = v.T("error.title")
	return p.render(c.Status(status), v, "error", errorPage{Status: status, Message: msg})
}

// safeNext returns next when it is a path of this portal to go to after
// signing in, or "" (the default page). Browsers drop tabs and line breaks
// from URLs and read a backslash as a slash, so "/\t/evil.example" and
// "/\\evil.example" lead to //evil.example, another site: next must parse
// with net/url as a path with its query alone (no scheme, host, user or
// fragment), start with one slash, and hold no backslash, whitespace or
// control character; its path must not either once percent-decoded.
func safeNext(next string) string {
	if len(next) > 2048 || !strings.HasPrefix(next, "/") || !plainPath(next) {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || u.Fragment != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || !plainPath(u.Path) {
		return ""
	}
	return next
}

// plainPath reports whether s holds no backslash, whitespace, control or
// invisible formatting character, and does not begin with two slashes.
func plainPath(s string) bool {
	if strings.HasPrefix(s, "//") || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// formErrors gathers the field errors of err, translated, keyed by field
// (the form inputs are named by the API's JSON paths); ok is false when err
// carries no field errors.
func formErrors(lang string, err error) (map[string]string, bool) {
	var de *fiscal.Error
	if !errors.As(err, &de) || len(de.Fields) == 0 {
		return nil, false
	}
	out := make(map[string]string, len(de.Fields))
	for _, f := range de.Fields {
		if _, seen := out[f.Field]; !seen {
			out[f.Field] = fieldMessage(lang, f)
		}
	}
	return out, true
}

// withFields adds field errors to an EINVALID error, skipping fields it
// names already.
func withFields(err error, more []fiscal.FieldError) error {
	var de *fiscal.Error
	if len(more) == 0 || !errors.As(err, &de) || de.Code != fiscal.EINVALID {
		return err
	}
	fields := slices.Clone(de.Fields)
	for _, f := range more {
		if !slices.ContainsFunc(fields, func(g fiscal.FieldError) bool { return g.Field == f.Field }) {
			fields = append(fields, f)
		}
	}
	return fiscal.Invalid(fields...)
}
