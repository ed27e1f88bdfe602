package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"fiscald/calc"
	"fiscald/calc/calendar"
	"fiscald/fiscal"
	"fiscald/internal/civil"
)

// deadlineResponse is the answer of GET /api/v1/calendar/deadline.
type deadlineResponse struct {
	From        civil.Date         `json:"from"`
	WorkingDays int                `json:"working_days"`
	DueOn       civil.Date         `json:"due_on"`
	Skipped     []calendar.Skipped `json:"skipped"`
}

func (s *Server) taxRoutes() []route {
	return []route{
		{Method: "POST", Path: quotePath, Summary: "Quote a local tax: annual amount, instalments, bonus and the settlement on a payment day",
			Tag: "tax", Access: Public, Body: calc.QuoteInput{}, Response: calc.Result{}, Handler: s.quote},
		{Method: "GET", Path: "/api/v1/calendar/deadline", Summary: "The deadline N working days after a date (?from=YYYY-MM-DD&working_days=N), with the days skipped",
			Tag: "tax", Access: Public, Response: deadlineResponse{}, Handler: s.deadline},
	}
}

// quote answers the contract's tax quote. The body's municipality slug
// chooses the municipality and its engine (with the administrators' overrides).
func (s *Server) quote(c *fiber.Ctx) error {
	if err := s.publicLimit(c, "quote"); err != nil {
		return err
	}
	var in calc.QuoteInput
	if err := decodeQuote(c, &in); err != nil {
		return err
	}
	m, err := s.municipality(c, in.Municipality)
	if err != nil {
		return unknownMunicipality(err, "municipality")
	}
	e, err := s.deps.Tax.TaxEngine(c.UserContext(), m.ID)
	if err != nil {
		return err
	}
	r, err := e.Quote(in)
	if err != nil {
		return fiscal.FromCalc(err, e)
	}
	return sendQuote(c, &r)
}

// unknownMunicipality names the field (or header) that chose an unknown municipality.
func unknownMunicipality(err error, field string) error {
	if fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
		return &fiscal.Error{Code: fiscal.ENOTFOUND, Message: "unknown municipality", Err: err,
			Fields: []fiscal.FieldError{{Field: field, Message: "no such municipality"}}}
	}
	return err
}

// maxDeadlineDays bounds working_days of the deadline calculator.
const maxDeadlineDays = 365

func (s *Server) deadline(c *fiber.Ctx) error {
	if err := s.publicLimit(c, "quote"); err != nil {
		return err
	}
	var fields []fiscal.FieldError
	from, err := civil.Parse(c.Query("from"))
	if err != nil {
		fields = append(fields, fiscal.FieldError{Field: "from", Message: "must be a date YYYY-MM-DD"})
	} else if from.Year < 1900 || from.Year > 2099 {
		fields = append(fields, fiscal.FieldError{Field: "from", Message: "must be in the years 1900-2099"})
	}
	n, err := strconv.Atoi(c.Query("working_days"))
	if err != nil || n < 0 || n > maxDeadlineDays {
		fields = append(fields, fiscal.FieldError{Field: "working_days", Message: "must be a whole number from 0 to " + strconv.Itoa(maxDeadlineDays)})
	}
	if len(fields) > 0 {
		return fiscal.Invalid(fields...)
	}
	m, err := s.municipality(c, "")
	if err != nil {
		return unknownMunicipality(err, "municipality")
	}
	e, err := s.deps.Tax.TaxEngine(c.UserContext(), m.ID)
	if err != nil {
		return err
	}
	due, skipped := e.Calendar.AddWorkingDays(from, n)
	if skipped == nil {
		skipped = []calendar.Skipped{}
	}
	return c.JSON(deadlineResponse{From: from, WorkingDays: n, DueOn: due, Skipped: skipped})
}
