package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

func (s *Server) healthRoutes() []route {
	return []route{
		{Method: "GET", Path: "/healthz", Summary: "The process is up", Tag: "health", Access: Public, Handler: func(c *fiber.Ctx) error {
			return c.JSON(fiber.Map{"status": "ok"})
		}},
		{Method: "GET", Path: "/readyz", Summary: "The database answers", Tag: "health", Access: Public, Handler: s.readyz},
		// Metrics count failed sign-ins, payments and refunds per route: for
		// admins only here; a scraper uses MetricsHandler on a separate
		// loopback listener (FISCAL_METRICS_ADDR).
		{Method: "GET", Path: "/metrics", Summary: "Prometheus metrics (admin)", Tag: "health", Access: Roles(fiscal.RoleAdmin), Handler: s.metrics.handler},
		{Method: "GET", Path: "/api/v1/openapi.json", Summary: "This API as OpenAPI 3.1", Tag: "health", Access: Public, Handler: s.openapi},
	}
}

func (s *Server) readyz(c *fiber.Ctx) error {
	if s.draining.Load() {
		c.Set(fiber.HeaderRetryAfter, "1")
		return fiscal.Errorf(fiscal.EUNAVAILABLE, "shutting down")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if s.deps.Ready != nil {
		if err := s.deps.Ready(ctx); err != nil {
			return &fiscal.Error{Code: fiscal.EUNAVAILABLE, Message: "the database does not answer", Err: err}
		}
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// municipality resolves the tenant of an anonymous request: the
// X-Municipality header, the municipality query parameter, or the default.
func (s *Server) municipality(c *fiber.Ctx, slug string) (*fiscal.Municipality, error) {
	if slug == "" {
		slug = c.Get("X-Municipality", c.Query("municipality"))
	}
	if slug == "" {
		slug = s.cfg.DefaultMunicipality
	}
	// The header is not a query parameter (checkParams): check it here.
	if err := CheckText("municipality", slug, false); err != nil {
		return nil, err
	}
	s.muniMu.RLock()
	m := s.munis[slug]
	s.muniMu.RUnlock()
	if m != nil {
		return m, nil
	}
	m, err := s.deps.Municipalities.MunicipalityBySlug(c.UserContext(), slug)
	if err != nil {
		return nil, err
	}
	s.muniMu.Lock()
	s.munis[slug] = m
	s.muniMu.Unlock()
	return m, nil
}
