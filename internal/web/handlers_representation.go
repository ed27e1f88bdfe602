package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// Companies represented by persons (fiscal.RepresentationService): whom a
// signed-in person may act for, the session's choice, and the staff's
// list and revocation of links. The link itself is written by the
// approval of a "representation" case (POST /api/v1/cases).

type actForRequest struct {
	TaxpayerID int64 `json:"taxpayer_id" validate:"required,gt=0"`
}

func (s *Server) representationRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/me/taxpayers", Summary: "The taxpayers the signed-in person may act for: their own record and the companies they represent (an approved representation request)", Tag: "accounts",
			Access: Roles(fiscal.RoleTaxpayer), Response: []fiscal.ActingTaxpayer{}, Handler: s.actingTaxpayers},
		{Method: "POST", Path: "/api/v1/me/act-for", Summary: "Act for one of those taxpayers in this session (its statement, payments, cases and documents); 403 without a link in force", Tag: "accounts",
			Access: Roles(fiscal.RoleTaxpayer), Body: actForRequest{}, Response: fiscal.ActingTaxpayer{}, Handler: s.actFor},
		{Method: "GET", Path: "/api/v1/taxpayers/:id/representations", Summary: "The persons linked to a company, newest first", Tag: "accounts",
			Access: Roles(fiscal.RoleOfficer, fiscal.RoleSigner, fiscal.RoleAdmin), Response: []fiscal.Representation{}, Handler: s.taxpayerRepresentations},
		{Method: "POST", Path: "/api/v1/representations/:id/revoke", Summary: "Revoke a representation: sessions acting through it are refused from their next request", Tag: "accounts",
			Access: Roles(fiscal.RoleOfficer, fiscal.RoleAdmin), Body: fiscal.RevokeRepresentation{}, Response: fiscal.Representation{}, Handler: s.revokeRepresentation},
	}
}

// keepsEndedRepresentation lists the routes a session whose representation
// ended may still call: choosing again, seeing whom it may act for, itself
// and signing out. Every other route answers 403 (ErrRepresentationEnded).
var keepsEndedRepresentation = map[string]bool{
	"/api/v1/me": true, "/api/v1/me/taxpayers": true, "/api/v1/me/act-for": true, "/api/v1/auth/logout": true,
}

func (s *Server) representations() (fiscal.RepresentationService, error) {
	if s.deps.Representations == nil {
		return nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "representation is not configured")
	}
	return s.deps.Representations, nil
}

func (s *Server) actingTaxpayers(c *fiber.Ctx) error {
	svc, err := s.representations()
	if err != nil {
		return err
	}
	list, err := svc.ActingTaxpayers(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(list)
}

func (s *Server) actFor(c *fiber.Ctx) error {
	var r actForRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	svc, err := s.representations()
	if err != nil {
		return err
	}
	token, _ := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	got, err := svc.ActFor(c.UserContext(), token, r.TaxpayerID)
	if err != nil {
		return err
	}
	return c.JSON(got)
}

func (s *Server) taxpayerRepresentations(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	svc, err := s.representations()
	if err != nil {
		return err
	}
	list, err := svc.TaxpayerRepresentations(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(list)
}

func (s *Server) revokeRepresentation(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var r fiscal.RevokeRepresentation
	if err := decode(c, &r); err != nil {
		return err
	}
	svc, err := s.representations()
	if err != nil {
		return err
	}
	got, err := svc.RevokeRepresentation(c.UserContext(), id, &r)
	if err != nil {
		return err
	}
	return c.JSON(got)
}
