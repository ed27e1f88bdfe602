package web

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
)

type parameterList struct {
	Items []fiscal.ParameterEntry `json:"items"`
}

type bridgeDayList struct {
	Items []fiscal.BridgeDay `json:"items"`
}

func (s *Server) adminTaxRoutes() []route {
	admin := Roles(fiscal.RoleAdmin)
	return []route{
		{Method: "GET", Path: "/api/v1/admin/parameters", Summary: "The tax parameters in force (?key_prefix=&year=), embedded and entered, with their source",
			Tag: "admin", Access: admin, Response: parameterList{}, Handler: s.listParameters},
		{Method: "POST", Path: "/api/v1/admin/parameters", Summary: "Enter a dated tax parameter (409 when the key and date exist: enter a new effective date)",
			Tag: "admin", Access: admin, Body: fiscal.ParameterInput{}, Response: fiscal.ParameterEntry{}, Created: true, Handler: s.addParameter},
		{Method: "POST", Path: "/api/v1/admin/council-decisions", Summary: "Enter every value a council decision adopted, in one go (all or none; 422 naming values[i].field)",
			Tag: "admin", Access: admin, Body: fiscal.DecisionInput{}, Response: fiscal.DecisionResult{}, Created: true, Handler: s.enterDecision},
		{Method: "GET", Path: "/api/v1/admin/parameter-coverage", Summary: "Every parameter the engine needs for a year (?year=), configured and missing, with the law's ranges",
			Tag: "admin", Access: admin, Response: fiscal.ParameterCoverage{}, Handler: s.parameterCoverage},
		{Method: "POST", Path: "/api/v1/admin/parameter-drafts", Summary: "Draft next year's parameters from a year's by art. 491 (inflation index, euro rate, exclusions), each line with its rule and legal basis",
			Tag: "admin", Access: admin, Body: fiscal.ParameterDraftInput{}, Response: fiscal.ParameterDraft{}, Created: true, Handler: s.createDraft},
		{Method: "GET", Path: "/api/v1/admin/parameter-drafts/:id", Summary: "A parameter draft with its lines",
			Tag: "admin", Access: admin, Response: fiscal.ParameterDraft{}, Handler: s.getDraft},
		{Method: "PATCH", Path: "/api/v1/admin/parameter-drafts/:id/lines/:key", Summary: "Correct a draft line's to_value before adoption (inside the law's range)",
			Tag: "admin", Access: admin, Body: fiscal.DraftLineInput{}, Response: calc.DraftLine{}, Handler: s.correctDraftLine},
		{Method: "POST", Path: "/api/v1/admin/parameter-drafts/:id/adopt", Summary: "Adopt a draft under its council decision: its values take effect on 1 January of to_year",
			Tag: "admin", Access: admin, Response: fiscal.ParameterDraft{}, Handler: s.adoptDraft},
		{Method: "GET", Path: "/api/v1/admin/calendar/days", Summary: "The municipality's bridge days (?year=)",
			Tag: "admin", Access: admin, Response: bridgeDayList{}, Handler: s.listBridgeDays},
		{Method: "POST", Path: "/api/v1/admin/calendar/days", Summary: "Add a bridge day (deadlines move)",
			Tag: "admin", Access: admin, Body: fiscal.BridgeDay{}, Response: fiscal.BridgeDay{}, Created: true, Handler: s.addBridgeDay},
		{Method: "DELETE", Path: "/api/v1/admin/calendar/days/:date", Summary: "Remove a bridge day (YYYY-MM-DD)",
			Tag: "admin", Access: admin, Handler: s.deleteBridgeDay},
	}
}

// queryYear reads an optional ?year= (0 when absent).
func queryYear(c *fiber.Ctx) (int, error) {
	y := c.Query("year")
	if y == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(y)
	if err != nil || n < 2000 || n > 2100 {
		return 0, fiscal.InvalidField("year", "must be a year from 2000 to 2100")
	}
	return n, nil
}

func (s *Server) listParameters(c *fiber.Ctx) error {
	year, err := queryYear(c)
	if err != nil {
		return err
	}
	items, err := s.deps.Tax.Parameters(c.UserContext(), fiscal.ParameterFilter{KeyPrefix: c.Query("key_prefix"), Year: year})
	if err != nil {
		return err
	}
	return c.JSON(parameterList{Items: items})
}

func (s *Server) addParameter(c *fiber.Ctx) error {
	var in fiscal.ParameterInput
	if err := decode(c, &in); err != nil {
		return err
	}
	p, err := s.deps.Tax.AddParameter(c.UserContext(), &in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

func (s *Server) enterDecision(c *fiber.Ctx) error {
	var in fiscal.DecisionInput
	if err := decode(c, &in); err != nil {
		return err
	}
	r, err := s.deps.Tax.EnterDecision(c.UserContext(), &in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

func (s *Server) parameterCoverage(c *fiber.Ctx) error {
	year, err := queryYear(c)
	if err != nil {
		return err
	}
	if year == 0 {
		return fiscal.InvalidField("year", "is required")
	}
	r, err := s.deps.Tax.ParameterCoverage(c.UserContext(), year)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) createDraft(c *fiber.Ctx) error {
	var in fiscal.ParameterDraftInput
	if err := decode(c, &in); err != nil {
		return err
	}
	d, err := s.deps.Tax.CreateParameterDraft(c.UserContext(), &in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

func (s *Server) getDraft(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.deps.Tax.ParameterDraft(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) correctDraftLine(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in fiscal.DraftLineInput
	if err := decode(c, &in); err != nil {
		return err
	}
	l, err := s.deps.Tax.CorrectDraftLine(c.UserContext(), id, strings.Clone(c.Params("key")), in.ToValue)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (s *Server) adoptDraft(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.deps.Tax.AdoptParameterDraft(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (s *Server) listBridgeDays(c *fiber.Ctx) error {
	year, err := queryYear(c)
	if err != nil {
		return err
	}
	items, err := s.deps.Tax.BridgeDays(c.UserContext(), year)
	if err != nil {
		return err
	}
	return c.JSON(bridgeDayList{Items: items})
}

func (s *Server) addBridgeDay(c *fiber.Ctx) error {
	var in fiscal.BridgeDay
	if err := decode(c, &in); err != nil {
		return err
	}
	if _, err := s.deps.Tax.AddBridgeDay(c.UserContext(), &in); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(in)
}

func (s *Server) deleteBridgeDay(c *fiber.Ctx) error {
	d, err := civil.Parse(c.Params("date"))
	if err != nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no day off on %q", c.Params("date"))
	}
	if _, err := s.deps.Tax.DeleteBridgeDay(c.UserContext(), d); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
