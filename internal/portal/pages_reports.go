package portal

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// The accountant's reports page: one form per export (period or date,
// grouping, format); the download streams through the API's exporter
// (web.Server.StreamReport), after the form's fields were checked here so
// that errors show next to them.

var reportAccess = access{roles: []fiscal.Role{fiscal.RoleAccountant, fiscal.RoleAdmin}}

// reportNames are the exports, in the page's order.
var reportNames = []string{"collections", "journal", "arrears", "bonuses", "sla"}

func (p *Portal) reportPages() []page {
	return []page{
		{Method: "GET", Path: "/staff/reports", Access: reportAccess, Nav: "nav.reports", NavOrder: 25, Handler: p.reportsPage},
		{Method: "GET", Path: "/staff/reports/:name", Access: reportAccess, Handler: p.downloadReport},
	}
}

type reportsData struct {
	Names []string
	// Failed is the report whose form has errors.
	Failed string
	Today  civil.Date
	First  civil.Date
}

func (p *Portal) reportsPage(c *fiber.Ctx, v *view) error {
	return p.renderReports(c, v, "", fiber.StatusOK)
}

func (p *Portal) renderReports(c *fiber.Ctx, v *view, failed string, status int) error {
	today := fiscal.LocalDate(p.deps.Clock.Now())
	if v.Form == nil {
		v.Form = map[string]string{}
	}
	return p.render(c.Status(status), v, "reports", reportsData{Names: reportNames, Failed: failed, Today: today, First: civil.New(today.Year, today.Month, 1)})
}

func (p *Portal) downloadReport(c *fiber.Ctx, v *view) error {
	name := strings.Clone(c.Params("name"))
	if !contains(reportNames, name) {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no such report")
	}
	v.Form = map[string]string{}
	req := fiscal.ReportRequest{Name: name, Format: strings.Clone(c.Query("format")), Group: strings.Clone(c.Query("group"))}
	var fields []fiscal.FieldError
	for _, q := range []struct {
		key string
		dst *civil.Date
	}{{"from", &req.From}, {"to", &req.To}, {"as_of", &req.AsOf}} {
		s := strings.TrimSpace(strings.Clone(c.Query(q.key)))
		v.Form[name+"."+q.key] = s
		if s == "" {
			continue
		}
		d, err := civil.Parse(s)
		if err != nil {
			fields = append(fields, fiscal.FieldError{Field: q.key, Message: "must be a date YYYY-MM-DD"})
		}
		*q.dst = d
	}
	v.Form[name+".format"], v.Form[name+".group"] = req.Format, req.Group
	var err error
	if len(fields) > 0 {
		err = fiscal.Invalid(fields...)
	} else {
		_, _, err = p.deps.Reports.ReportFile(&req)
	}
	if err != nil {
		fe, ok := formErrors(v.Lang, err)
		if !ok {
			return err
		}
		// The form's inputs are named <report>.<field>.
		v.Errors = map[string]string{}
		for k, msg := range fe {
			v.Errors[name+"."+k] = msg
		}
		return p.renderReports(c, v, name, fiber.StatusUnprocessableEntity)
	}
	return p.api.StreamReport(c, name)
}
