package web

import (
	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// Enrollment codes and the life of staff accounts (fiscal.IdentityService).

type roleRequest struct {
	Role fiscal.Role `json:"role" validate:"required,oneof=officer signer accountant admin"`
}

type passwordRequest struct {
	Password string `json:"password" validate:"required,min=10,max=256"`
}

func (s *Server) identityRoutes() []route {
	admin := Roles(fiscal.RoleAdmin)
	return []route{
		{Method: "POST", Path: "/api/v1/taxpayers/:id/enrollment-codes", Summary: "Issue a one-time enrollment code for a taxpayer on file (shown once; revokes the earlier one)", Tag: "accounts",
			Access: Roles(fiscal.RoleOfficer, fiscal.RoleAdmin), Response: fiscal.EnrollmentCode{}, Created: true, Handler: s.issueEnrollmentCode},
		{Method: "POST", Path: "/api/v1/auth/enroll", Summary: "Open a verified account for a taxpayer on file with an enrollment code", Tag: "accounts", Access: Public,
			Body: fiscal.Enrollment{}, Response: registerResponse{}, Created: true, Handler: s.enroll},
		{Method: "POST", Path: "/api/v1/users/:id/disable", Summary: "Disable an account: its sessions end at once, its open cases return to the queue", Tag: "accounts", Access: admin,
			Response: fiscal.User{}, Handler: s.disableUser},
		{Method: "POST", Path: "/api/v1/users/:id/enable", Summary: "Enable an account again", Tag: "accounts", Access: admin,
			Response: fiscal.User{}, Handler: s.enableUser},
		{Method: "PUT", Path: "/api/v1/users/:id/role", Summary: "Change a staff account's role (its sessions end)", Tag: "accounts", Access: admin,
			Body: roleRequest{}, Response: fiscal.User{}, Handler: s.setRole},
		{Method: "POST", Path: "/api/v1/users/:id/password", Summary: "Set a staff account's password (its sessions end)", Tag: "accounts", Access: admin,
			Body: passwordRequest{}, Response: fiscal.User{}, Handler: s.setPassword},
	}
}

func (s *Server) identity() (fiscal.IdentityService, error) {
	if s.deps.Identity == nil {
		return nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "accounts are not configured")
	}
	return s.deps.Identity, nil
}

func (s *Server) issueEnrollmentCode(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	svc, err := s.identity()
	if err != nil {
		return err
	}
	code, err := svc.IssueEnrollmentCode(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(code)
}

func (s *Server) enroll(c *fiber.Ctx) error {
	var e fiscal.Enrollment
	if err := decode(c, &e); err != nil {
		return err
	}
	m, err := s.municipality(c, "")
	if err != nil {
		return err
	}
	svc, err := s.identity()
	if err != nil {
		return err
	}
	u, tp, err := svc.Enroll(c.UserContext(), m.ID, &e, s.ClientIP(c))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(registerResponse{User: u, Taxpayer: tp})
}

// accountAction runs one of the admin's changes on the user of the path.
func (s *Server) accountAction(c *fiber.Ctx, do func(svc fiscal.IdentityService, id int64) (*fiscal.User, error)) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	svc, err := s.identity()
	if err != nil {
		return err
	}
	u, err := do(svc, id)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *Server) disableUser(c *fiber.Ctx) error {
	return s.accountAction(c, func(svc fiscal.IdentityService, id int64) (*fiscal.User, error) {
		return svc.DisableUser(c.UserContext(), id)
	})
}

func (s *Server) enableUser(c *fiber.Ctx) error {
	return s.accountAction(c, func(svc fiscal.IdentityService, id int64) (*fiscal.User, error) {
		return svc.EnableUser(c.UserContext(), id)
	})
}

func (s *Server) setRole(c *fiber.Ctx) error {
	var r roleRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	return s.accountAction(c, func(svc fiscal.IdentityService, id int64) (*fiscal.User, error) {
		return svc.SetRole(c.UserContext(), id, r.Role)
	})
}

func (s *Server) setPassword(c *fiber.Ctx) error {
	var r passwordRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	return s.accountAction(c, func(svc fiscal.IdentityService, id int64) (*fiscal.User, error) {
		return svc.SetPassword(c.UserContext(), id, r.Password)
	})
}
