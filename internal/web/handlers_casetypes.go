package web

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// Request types as data (contract: "Request types as data"): publishing a
// definition, its dry run, acts on the steps of a published type's route,
// moving open cases to a newer version and substitutions.

func (s *Server) caseTypeRoutes() []route {
	adm := Roles(fiscal.RoleAdmin)
	return []route{
		{Method: "POST", Path: "/api/v1/admin/case-types", Summary: "Publish a request type of the municipality as its next version (?dry_run=true: check and plan only, 200)", Tag: "cases",
			Access: adm, Body: fiscal.CaseDefinition{}, Response: fiscal.PublishedType{}, Created: true, Handler: s.publishCaseType},
		{Method: "POST", Path: "/api/v1/admin/case-types/dry-run", Summary: "Check a request type and show the route a sample case would take, without publishing", Tag: "cases",
			Access: adm, Body: fiscal.CaseDefinition{}, Response: fiscal.PublishedType{}, Handler: s.dryRunCaseType},
		{Method: "POST", Path: "/api/v1/admin/case-types/:type/migrate", Summary: "Move the open cases of a type to another version with an explicit step map", Tag: "cases",
			Access: adm, Body: fiscal.CaseMigration{}, Response: fiscal.MigrationResult{}, Handler: s.migrateCaseType},
		{Method: "POST", Path: "/api/v1/admin/substitutions", Summary: "Let a substitute take an absent person's steps for a date range (delegate or on_behalf)", Tag: "cases",
			Access: adm, Body: fiscal.NewSubstitution{}, Response: fiscal.Substitution{}, Created: true, Handler: s.addSubstitution},
		{Method: "POST", Path: "/api/v1/cases/:id/act", Summary: "Take an open step of a published type's route (roles from the session; distinct_from enforced)", Tag: "cases",
			Access: Roles(staff...), Body: fiscal.ActInput{}, Response: fiscal.CaseDetail{}, Handler: s.actCase},
	}
}

func (s *Server) requestTypes() (fiscal.RequestTypeService, error) {
	if s.deps.RequestTypes == nil {
		return nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "published request types are not configured")
	}
	return s.deps.RequestTypes, nil
}

func (s *Server) publishCaseType(c *fiber.Ctx) error {
	return s.publish(c, c.Query("dry_run") == "true")
}

func (s *Server) dryRunCaseType(c *fiber.Ctx) error { return s.publish(c, true) }

func (s *Server) publish(c *fiber.Ctx, dryRun bool) error {
	rt, err := s.requestTypes()
	if err != nil {
		return err
	}
	var body json.RawMessage
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	out, err := rt.PublishCaseType(c.UserContext(), body, dryRun)
	if err != nil {
		return err
	}
	if dryRun {
		return c.JSON(out)
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (s *Server) migrateCaseType(c *fiber.Ctx) error {
	rt, err := s.requestTypes()
	if err != nil {
		return err
	}
	var in fiscal.CaseMigration
	if err := decode(c, &in); err != nil {
		return err
	}
	out, err := rt.MigrateCases(c.UserContext(), strings.Clone(c.Params("type")), &in)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *Server) addSubstitution(c *fiber.Ctx) error {
	rt, err := s.requestTypes()
	if err != nil {
		return err
	}
	var in fiscal.NewSubstitution
	if err := decode(c, &in); err != nil {
		return err
	}
	out, err := rt.AddSubstitution(c.UserContext(), &in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (s *Server) actCase(c *fiber.Ctx) error {
	rt, err := s.requestTypes()
	if err != nil {
		return err
	}
	return onCase(c, rt.Act)
}

// publishedCaseTypes lists the municipality's published types (the
// signed-in user's, or the anonymous request's) after the built-in ones.
func (s *Server) publishedCaseTypes(c *fiber.Ctx) ([]*fiscal.CaseTypeVersion, error) {
	if s.deps.RequestTypes == nil {
		return nil, nil
	}
	var mid int64
	if a := fiscal.ActorFrom(c.UserContext()); a != nil {
		mid = a.MunicipalityID
	} else {
		m, err := s.municipality(c, "")
		if err != nil {
			return nil, err
		}
		mid = m.ID
	}
	return s.deps.RequestTypes.PublishedCaseTypes(c.UserContext(), mid)
}
