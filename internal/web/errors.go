package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// statusOf is the one table from domain error codes to HTTP statuses.
var statusOf = map[string]int{
	fiscal.EINVALID:      fiber.StatusUnprocessableEntity,
	fiscal.EMALFORMED:    fiber.StatusBadRequest,
	fiscal.EUNAUTHORIZED: fiber.StatusUnauthorized,
	fiscal.EFORBIDDEN:    fiber.StatusForbidden,
	fiscal.ENOTFOUND:     fiber.StatusNotFound,
	fiscal.ECONFLICT:     fiber.StatusConflict,
	fiscal.ETOOLARGE:     fiber.StatusRequestEntityTooLarge,
	fiscal.ERATELIMIT:    fiber.StatusTooManyRequests,
	fiscal.EUNAVAILABLE:  fiber.StatusServiceUnavailable,
	fiscal.EUPSTREAM:     fiber.StatusBadGateway,
	fiscal.EINTERNAL:     fiber.StatusInternalServerError,
}

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail"`
	Instance  string              `json:"instance,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
	Errors    []fiscal.FieldError `json:"errors,omitempty"`
}

// errorHandler writes every error as problem+json: domain errors by their
// code, fiber's own errors (404 route, 405, 413 body too large) by their
// status. Internal errors are logged with the request id and shown as
// "internal error".
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	p := Problem{Instance: c.Path(), RequestID: requestID(c)}
	var fe *fiber.Error
	var de *fiscal.Error
	switch {
	case errors.As(err, &de):
		p.Status = statusOf[de.Code]
		if p.Status == 0 {
			p.Status = fiber.StatusInternalServerError
		}
		p.Detail = fiscal.ErrorMessage(err)
		p.Errors = de.Fields
		if len(c.Response().Header.Peek(fiber.HeaderRetryAfter)) == 0 { // unless the use case said how long
			switch de.Code {
			case fiscal.ERATELIMIT:
				c.Set(fiber.HeaderRetryAfter, "60")
			case fiscal.EUNAVAILABLE:
				c.Set(fiber.HeaderRetryAfter, "2")
			}
		}
	case errors.As(err, &fe):
		p.Status = fe.Code
		p.Detail = fe.Message
		if fe.Code == fiber.StatusRequestEntityTooLarge {
			p.Detail = "the request body is too large"
		}
	default:
		p.Status = fiber.StatusInternalServerError
	}
	if p.Status >= 500 && p.Status != fiber.StatusServiceUnavailable && p.Status != fiber.StatusBadGateway {
		s.log.Error("request failed", "request_id", p.RequestID, "method", c.Method(), "path", c.Path(), "err", err.Error())
		p.Detail = "internal error"
	} else if p.Status >= 500 {
		s.log.Warn("dependency unavailable", "request_id", p.RequestID, "path", c.Path(), "err", err.Error())
	}
	p.Title = http.StatusText(p.Status)
	p.Type = "about:blank"
	if de != nil {
		p.Type = "https://fiscald.ro/problems/" + strings.ReplaceAll(de.Code, "_", "-")
	}
	body, _ := json.Marshal(p)
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Status(p.Status).Send(body)
}

func logAttrs(c *fiber.Ctx) []any {
	return []any{slog.String("request_id", requestID(c))}
}
