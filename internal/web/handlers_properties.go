package web

import (
	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// Buildings and land in the fiscal record (contract: "Buildings and land in
// the fiscal record"): staff of the municipality read any taxpayer's, a
// taxpayer only their own (another's is 404, as for vehicles).

type buildingList struct {
	Items []*fiscal.Building `json:"items"`
}

type landList struct {
	Items []*fiscal.Land `json:"items"`
}

func (s *Server) propertyRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/taxpayers/:id/buildings", Summary: "A taxpayer's buildings with their share and co-owners (staff, or the taxpayer themself)", Tag: "taxpayers",
			Access: AnyUser, Response: buildingList{}, Handler: s.taxpayerBuildings},
		{Method: "GET", Path: "/api/v1/taxpayers/:id/lands", Summary: "A taxpayer's land with their share and co-owners (staff, or the taxpayer themself)", Tag: "taxpayers",
			Access: AnyUser, Response: landList{}, Handler: s.taxpayerLands},
		{Method: "PUT", Path: "/api/v1/buildings/:id", Summary: "Correct a building's data (every current co-owner's record; audited, versioned)", Tag: "taxpayers",
			Access: Roles(fiscal.RoleOfficer, fiscal.RoleAdmin), Body: fiscal.BuildingCorrection{}, Response: fiscal.Building{}, Handler: s.correctBuilding},
		{Method: "PUT", Path: "/api/v1/lands/:id", Summary: "Correct a plot's data (every current co-owner's record; audited, versioned)", Tag: "taxpayers",
			Access: Roles(fiscal.RoleOfficer, fiscal.RoleAdmin), Body: fiscal.LandCorrection{}, Response: fiscal.Land{}, Handler: s.correctLand},
	}
}

func (s *Server) correctBuilding(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in fiscal.BuildingCorrection
	if err := decode(c, &in); err != nil {
		return err
	}
	ps, err := s.properties()
	if err != nil {
		return err
	}
	b, err := ps.CorrectBuilding(c.UserContext(), id, &in)
	if err != nil {
		return err
	}
	return c.JSON(b)
}

func (s *Server) correctLand(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in fiscal.LandCorrection
	if err := decode(c, &in); err != nil {
		return err
	}
	ps, err := s.properties()
	if err != nil {
		return err
	}
	l, err := ps.CorrectLand(c.UserContext(), id, &in)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (s *Server) properties() (fiscal.PropertyService, error) {
	if s.deps.Properties == nil {
		return nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "the buildings and land record is not available")
	}
	return s.deps.Properties, nil
}

func (s *Server) taxpayerBuildings(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ps, err := s.properties()
	if err != nil {
		return err
	}
	list, err := ps.TaxpayerBuildings(c.UserContext(), id)
	if err != nil {
		return err
	}
	if list == nil {
		list = []*fiscal.Building{}
	}
	return c.JSON(buildingList{Items: list})
}

func (s *Server) taxpayerLands(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ps, err := s.properties()
	if err != nil {
		return err
	}
	list, err := ps.TaxpayerLands(c.UserContext(), id)
	if err != nil {
		return err
	}
	if list == nil {
		list = []*fiscal.Land{}
	}
	return c.JSON(landList{Items: list})
}
