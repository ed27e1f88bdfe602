package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

type taxpayerList struct {
	Items []*fiscal.Taxpayer `json:"items"`
	Total int                `json:"total"`
}

type accessLog struct {
	Items []fiscal.AccessLogEntry `json:"items"`
}

type vehicleList struct {
	Items []*fiscal.Vehicle `json:"items"`
}

func (s *Server) taxpayerRoutes() []route {
	return []route{
		{Method: "POST", Path: "/api/v1/taxpayers", Summary: "Enter a taxpayer in the registry", Tag: "taxpayers",
			Access: Roles(fiscal.RoleOfficer, fiscal.RoleAdmin), Body: fiscal.TaxpayerInput{}, Response: fiscal.Taxpayer{}, Created: true, Handler: s.createTaxpayer},
		{Method: "GET", Path: "/api/v1/taxpayers", Summary: "Search the registry by name, CNP or CUI (?q=)", Tag: "taxpayers",
			Access: Roles(staff...), Response: taxpayerList{}, Handler: s.findTaxpayers},
		{Method: "GET", Path: "/api/v1/taxpayers/:id", Summary: "A taxpayer (staff, or the taxpayer themself)", Tag: "taxpayers",
			Access: AnyUser, Response: fiscal.Taxpayer{}, Handler: s.getTaxpayer},
		{Method: "GET", Path: "/api/v1/taxpayers/:id/vehicles", Summary: "A taxpayer's vehicles in the fiscal record", Tag: "taxpayers",
			Access: AnyUser, Response: vehicleList{}, Handler: s.taxpayerVehicles},
		{Method: "GET", Path: "/api/v1/taxpayers/:id/access-log", Summary: "Who viewed this taxpayer's record (admin or the taxpayer)", Tag: "privacy",
			Access: AnyUser, Response: accessLog{}, Handler: s.accessLog},
		{Method: "GET", Path: "/api/v1/taxpayers/:id/export", Summary: "Everything held about this taxpayer, for a GDPR request (admin or the taxpayer)", Tag: "privacy",
			Access: AnyUser, Handler: s.exportTaxpayer},
	}
}

// pathID reads a positive integer path parameter; anything else is 404.
func pathID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fiscal.Errorf(fiscal.ENOTFOUND, "not found")
	}
	return id, nil
}

func (s *Server) createTaxpayer(c *fiber.Ctx) error {
	var in fiscal.TaxpayerInput
	if err := decode(c, &in); err != nil {
		return err
	}
	tp, err := s.deps.Taxpayers.CreateTaxpayer(c.UserContext(), &in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(tp)
}

func (s *Server) findTaxpayers(c *fiber.Ctx) error {
	limit, _ := strconv.Atoi(c.Query("limit", "50"))
	offset, _ := strconv.Atoi(c.Query("offset", "0"))
	if offset < 0 {
		offset = 0
	}
	list, total, err := s.deps.Taxpayers.FindTaxpayers(c.UserContext(), fiscal.TaxpayerFilter{Q: c.Query("q"), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	if list == nil {
		list = []*fiscal.Taxpayer{}
	}
	return c.JSON(taxpayerList{Items: list, Total: total})
}

func (s *Server) getTaxpayer(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	tp, err := s.deps.Taxpayers.Taxpayer(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(tp)
}

func (s *Server) taxpayerVehicles(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	list, err := s.deps.Vehicles.TaxpayerVehicles(c.UserContext(), id)
	if err != nil {
		return err
	}
	if list == nil {
		list = []*fiscal.Vehicle{}
	}
	return c.JSON(vehicleList{Items: list})
}

func (s *Server) accessLog(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	list, err := s.deps.Privacy.AccessLog(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(accessLog{Items: list})
}

func (s *Server) exportTaxpayer(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	data, err := s.deps.Privacy.ExportTaxpayer(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="taxpayer-`+c.Params("id")+`.json"`)
	return c.JSON(fiber.Map{"taxpayer_id": id, "exported_at": s.deps.Clock.Now(), "data": data})
}
