package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// Access says who may call a route. Every route states one; the
// authorization tests walk this table.
type Access struct {
	declared bool
	// Public routes need no token.
	Public bool
	// Roles, when not empty, are the only roles allowed; an empty list on a
	// non-public route means any signed-in user, and the use case then checks
	// ownership (a taxpayer reads only their own data).
	Roles []fiscal.Role
}

// Public is the access of routes anyone may call.
var Public = Access{declared: true, Public: true}

// AnyUser is the access of routes every signed-in user may call.
var AnyUser = Access{declared: true}

// Roles is the access of routes limited to the roles.
func Roles(r ...fiscal.Role) Access {
	if len(r) == 0 {
		panic("web: Roles() needs at least one role")
	}
	return Access{declared: true, Roles: r}
}

// staff is every role of the department.
var staff = []fiscal.Role{fiscal.RoleOfficer, fiscal.RoleSigner, fiscal.RoleAccountant, fiscal.RoleAdmin}

type route struct {
	Method  string
	Path    string // fiber syntax: /api/v1/taxpayers/:id
	Summary string
	Tag     string
	Access  Access
	// Body is a zero value of the JSON request body type (for OpenAPI).
	Body any
	// Response is a zero value of the JSON response type (for OpenAPI).
	Response any
	// Created routes answer 201.
	Created bool
	// Idempotent routes honour the Idempotency-Key header.
	Idempotent bool
	// Resumable idempotent routes continue, on a retry with the same key,
	// an operation with a provider whose outcome the first attempt did not
	// learn (under the provider idempotency key it started with); a retry
	// on the others answers 409 until the first attempt's reply is kept.
	Resumable bool
	// Reply renders the use case's result as the kept response; nil:
	// JSON with 201 for Created routes, 200 otherwise.
	Reply   func(result any) (*fiscal.StoredResponse, error)
	Handler fiber.Handler
}

// allRoutes is the route table of the whole API.
func (s *Server) allRoutes() []route {
	var rs []route
	rs = append(rs, s.healthRoutes()...)
	rs = append(rs, s.accountRoutes()...)
	rs = append(rs, s.identityRoutes()...)
	rs = append(rs, s.representationRoutes()...)
	rs = append(rs, s.taxpayerRoutes()...)
	rs = append(rs, s.propertyRoutes()...)
	rs = append(rs, s.caseRoutes()...)
	rs = append(rs, s.pkiRoutes()...)
	rs = append(rs, s.caseTypeRoutes()...)
	rs = append(rs, s.taxRoutes()...)
	rs = append(rs, s.adminTaxRoutes()...)
	rs = append(rs, s.paymentRoutes()...)
	rs = append(rs, s.reconRoutes()...)
	rs = append(rs, s.documentRoutes()...)
	rs = append(rs, s.reportRoutes()...)
	rs = append(rs, s.importRoutes()...)
	return rs
}

func (s *Server) mount(r route) {
	if !r.Access.declared {
		// A route must say who may call it: Public, AnyUser or Roles(...).
		panic("web: route " + r.Method + " " + r.Path + " declares no access rule")
	}
	handlers := []fiber.Handler{}
	if !r.Access.Public {
		handlers = append(handlers, s.authenticate(r.Access))
	}
	handlers = append(handlers, checkParams)
	if r.Idempotent {
		reply := r.Reply
		if reply == nil {
			status := fiber.StatusOK
			if r.Created {
				status = fiber.StatusCreated
			}
			reply = JSONReply(status)
		}
		handlers = append(handlers, s.idempotent(r.Method+" "+r.Path, r.Resumable, reply))
	}
	handlers = append(handlers, r.Handler)
	s.app.Add(r.Method, r.Path, handlers...)
}

// authenticate resolves the bearer token into the actor and checks the route's roles.
func (s *Server) authenticate(acc Access) fiber.Handler {
	return func(c *fiber.Ctx) error {
		h := c.Get(fiber.HeaderAuthorization)
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || token == "" {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="fiscald"`)
			return fiscal.Errorf(fiscal.EUNAUTHORIZED, "a bearer token is required")
		}
		actor, err := s.deps.Users.Authenticate(c.UserContext(), token)
		if err != nil {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="fiscald", error="invalid_token"`)
			return err
		}
		if len(acc.Roles) > 0 && !actor.Has(acc.Roles...) {
			return fiscal.Errorf(fiscal.EFORBIDDEN, "your role (%s) may not do this", actor.Role)
		}
		if actor.RepresentationEnded && !keepsEndedRepresentation[c.Route().Path] {
			return fiscal.ErrRepresentationEnded()
		}
		c.SetUserContext(fiscal.WithActor(c.UserContext(), actor))
		return c.Next()
	}
}

// JSONReply renders a use case's result as JSON with status: what the
// handler sends and what a retry with the same Idempotency-Key replays.
func JSONReply(status int) func(any) (*fiscal.StoredResponse, error) {
	return func(v any) (*fiscal.StoredResponse, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return &fiscal.StoredResponse{Status: status, ContentType: fiber.MIMEApplicationJSON, Body: b}, nil
	}
}

// idempotent replays the stored response of a repeated Idempotency-Key with
// the same body, and refuses the same key with another body (409). The use
// case keeps its reply in the transaction that completes it (the claim's
// Reply), and the first answer is that kept reply, so a retry gets the same
// bytes after a crash and on any instance. A claim that committed is never
// released: after a server error, a resumable route continues the first
// attempt's operation, the others answer 409. Only the resumable routes look
// the key up before they start; the others claim it with their effect and
// look it up only when they claimed nothing (a retry), so a new key costs
// one statement, the claim.
func (s *Server) idempotent(name string, resumable bool, reply func(any) (*fiscal.StoredResponse, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key := c.Get("Idempotency-Key")
		if key == "" {
			return c.Next()
		}
		if len(key) > 200 {
			return fiscal.InvalidField("Idempotency-Key", "must have at most 200 characters")
		}
		if err := CheckText("Idempotency-Key", key, false); err != nil {
			return err
		}
		actor := fiscal.ActorFrom(c.UserContext())
		sum := sha256.Sum256(c.Body())
		claim := &fiscal.IdempotencyClaim{MunicipalityID: actor.MunicipalityID, UserID: actor.UserID,
			Key: key, Route: name + " " + c.Path(), RequestHash: hex.EncodeToString(sum[:]), Reply: reply}
		if resumable {
			// A card payment or refund whose provider call may have
			// happened: the route must know before it starts whether it
			// continues a claimed attempt (under the same provider key).
			replay, claimed, err := s.deps.Idempotency.LookupIdempotencyKey(c.UserContext(), claim.MunicipalityID, claim.UserID, claim.Key, claim.Route, claim.RequestHash)
			if err != nil {
				return err
			}
			if replay != nil {
				return sendReplay(c, replay)
			}
			if claimed != 0 {
				claim.ID, claim.Resumed = claimed, true
			}
		}
		// The use case's first write transaction claims the key together
		// with its effect (no transaction of its own).
		ctx := c.UserContext()
		c.SetUserContext(fiscal.WithIdempotencyClaim(ctx, claim))
		err := c.Next()
		c.SetUserContext(ctx)
		if err != nil {
			// Let the error handler write the response so it can be stored.
			if herr := s.errorHandler(c, err); herr != nil {
				return herr
			}
		}
		if !resumable && claim.ID == 0 && claim.Kept == nil && c.Response().StatusCode() < 500 {
			// This request claimed nothing. The key is looked up only now
			// (a new key, the usual case, costs no look-up): a retry's
			// transaction met the first request's claim and was undone
			// (ErrIdempotencyInFlight, after waiting for the first to
			// commit), or the use case failed or answered before writing
			// — a retry of a done review meets a moved-on case. The first
			// request's kept reply is the answer whatever this one said.
			// Not after a server error: a commit whose durability barrier
			// failed (commit.go) has its claim in the table, and must not
			// be answered as done by its own request (a retry may).
			replay, claimed, lerr := s.deps.Idempotency.LookupIdempotencyKey(ctx, claim.MunicipalityID, claim.UserID, claim.Key, claim.Route, claim.RequestHash)
			switch {
			case lerr != nil:
				return s.errorHandler(c, lerr)
			case replay != nil:
				return sendReplay(c, replay)
			case claimed != 0:
				return s.errorHandler(c, fiscal.ErrIdempotencyInFlight)
			}
			return nil // a new key whose use case wrote nothing: its own answer
		}
		if k := claim.Kept; k != nil && err == nil {
			// The answer is the reply kept with the effect, byte for byte.
			c.Set(fiber.HeaderContentType, k.ContentType)
			c.Status(k.Status).Send(k.Body)
			return nil
		}
		status := c.Response().StatusCode()
		if claim.ID == 0 || claim.Kept != nil || status >= 500 {
			// Nothing was written (a retry runs again); or the reply is
			// kept; or a server error after the claim: the claim stays
			// (a resumable route continues it, the others answer 409).
			return nil
		}
		// An error answered after an earlier transaction of the request
		// committed the claim (a refund the provider refused): keep it.
		body := append([]byte(nil), c.Response().Body()...)
		return s.deps.Idempotency.FinishIdempotencyKey(context.WithoutCancel(ctx), claim.ID, status, string(c.Response().Header.ContentType()), body)
	}
}

// sendReplay answers with a response kept under an Idempotency-Key.
func sendReplay(c *fiber.Ctx, r *fiscal.StoredResponse) error {
	c.Response().Header.Del(fiber.HeaderRetryAfter) // of this attempt's own error, if any
	c.Set("Idempotent-Replayed", "true")
	c.Set(fiber.HeaderContentType, r.ContentType)
	return c.Status(r.Status).Send(r.Body)
}

// RouteInfo describes one route of the table, for the authorization tests.
type RouteInfo struct {
	Method, Path string
	Access       Access
}

// RouteTable lists every route with its access rule.
func (s *Server) RouteTable() []RouteInfo {
	out := make([]RouteInfo, len(s.routes))
	for i, r := range s.routes {
		out[i] = RouteInfo{Method: r.Method, Path: r.Path, Access: r.Access}
	}
	return out
}
