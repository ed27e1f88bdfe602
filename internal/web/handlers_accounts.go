package web

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

type loginRequest struct {
	Username string `json:"username" validate:"required,max=64"`
	Password string `json:"password" validate:"required,max=256"`
}

type registerResponse struct {
	User     *fiscal.User     `json:"user"`
	Taxpayer *fiscal.Taxpayer `json:"taxpayer"`
}

type staffRequest struct {
	Username string      `json:"username" validate:"required,min=3,max=64,printascii,excludesall= "`
	Password string      `json:"password" validate:"required,min=10,max=256"`
	Role     fiscal.Role `json:"role" validate:"required,oneof=officer signer accountant admin"`
	FullName string      `json:"full_name" validate:"required,max=200,nobidi"`
}

func (s *Server) accountRoutes() []route {
	return []route{
		{Method: "POST", Path: "/api/v1/auth/register", Summary: "Taxpayer self-registration", Tag: "accounts", Access: Public,
			Body: fiscal.Registration{}, Response: registerResponse{}, Created: true, Handler: s.register},
		{Method: "POST", Path: "/api/v1/auth/login", Summary: "Sign in and get a bearer token", Tag: "accounts", Access: Public,
			Body: loginRequest{}, Response: fiscal.Session{}, Handler: s.login},
		{Method: "POST", Path: "/api/v1/auth/logout", Summary: "Revoke the bearer token", Tag: "accounts", Access: AnyUser, Handler: s.logout},
		{Method: "GET", Path: "/api/v1/me", Summary: "The signed-in user", Tag: "accounts", Access: AnyUser, Response: fiscal.User{}, Handler: s.me},
		{Method: "POST", Path: "/api/v1/users", Summary: "Create a staff account", Tag: "accounts", Access: Roles(fiscal.RoleAdmin),
			Body: staffRequest{}, Response: fiscal.User{}, Created: true, Handler: s.createStaff},
		{Method: "GET", Path: "/api/v1/audit/verify", Summary: "Verify the audit chain", Tag: "audit", Access: Roles(fiscal.RoleAdmin, fiscal.RoleAccountant),
			Response: fiscal.AuditVerification{}, Handler: s.verifyAudit},
	}
}

func (s *Server) register(c *fiber.Ctx) error {
	if err := s.limit(c.UserContext(), "register:"+s.ClientIP(c), 20, time.Hour); err != nil {
		return err
	}
	var r fiscal.Registration
	if err := decode(c, &r); err != nil {
		return err
	}
	m, err := s.municipality(c, "")
	if err != nil {
		return err
	}
	u, tp, err := s.deps.Users.Register(c.UserContext(), m.ID, &r)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(registerResponse{User: u, Taxpayer: tp})
}

func (s *Server) login(c *fiber.Ctx) error {
	var r loginRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	m, err := s.municipality(c, "")
	if err != nil {
		return err
	}
	sess, err := s.SignIn(c, m, r.Username, r.Password)
	if err != nil {
		return err
	}
	return c.JSON(sess)
}

func (s *Server) logout(c *fiber.Ctx) error {
	token, _ := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if err := s.deps.Users.Logout(c.UserContext(), token); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) me(c *fiber.Ctx) error {
	a := fiscal.ActorFrom(c.UserContext())
	u, err := s.deps.Users.UserByID(c.UserContext(), a.UserID)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *Server) createStaff(c *fiber.Ctx) error {
	var r staffRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	a := fiscal.ActorFrom(c.UserContext())
	u, err := s.deps.Users.CreateStaff(c.UserContext(), a.MunicipalityID, r.Username, r.Password, r.Role, r.FullName)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}

func (s *Server) verifyAudit(c *fiber.Ctx) error {
	v, err := s.deps.Audit.VerifyAudit(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(v)
}
