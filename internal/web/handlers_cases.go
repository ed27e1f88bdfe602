package web

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

type caseList struct {
	Items []*fiscal.Case `json:"items"`
	Total int            `json:"total"`
}

// caseTypeList lists the built-in types (fiscal.CaseType) and then the
// municipality's published ones (fiscal.CaseTypeVersion, with "version").
type caseTypeList struct {
	Items []any `json:"items"`
}

type assignRequest struct {
	OfficerID int64 `json:"officer_id" validate:"required,gt=0"`
}

type commentRequest struct {
	Body     string `json:"body" validate:"required,max=4000"`
	Internal bool   `json:"internal"`
}

type straightThroughRequest struct {
	Enabled bool `json:"enabled"`
}

// attachmentForm documents the multipart upload in OpenAPI.
type attachmentForm struct {
	File string `json:"file" validate:"required"`
	Kind string `json:"kind" validate:"required"`
}

func (s *Server) caseRoutes() []route {
	tp, off := fiscal.RoleTaxpayer, fiscal.RoleOfficer
	return []route{
		{Method: "GET", Path: "/api/v1/case-types", Summary: "The case types, their forms and required documents", Tag: "cases",
			Access: Public, Response: caseTypeList{}, Handler: s.caseTypes},
		{Method: "PUT", Path: "/api/v1/case-types/:type/straight-through", Summary: "Turn straight-through processing on or off for a case type", Tag: "cases",
			Access: Roles(fiscal.RoleAdmin), Body: straightThroughRequest{}, Handler: s.setStraightThrough},
		{Method: "POST", Path: "/api/v1/cases", Summary: "File a case (a taxpayer for themself, an officer on their behalf)", Tag: "cases",
			Access: Roles(tp, off), Body: fiscal.NewCase{}, Response: fiscal.Case{}, Created: true, Idempotent: true, Handler: s.createCase},
		{Method: "GET", Path: "/api/v1/cases", Summary: "The queue, riskiest first (?status=&sla_state=&assignee=&type=); a taxpayer sees their own cases", Tag: "cases",
			Access: AnyUser, Response: caseList{}, Handler: s.listCases},
		{Method: "GET", Path: "/api/v1/cases/:id", Summary: "A case with its SLA, documents, signed steps and timeline", Tag: "cases",
			Access: AnyUser, Response: fiscal.CaseDetail{}, Handler: s.getCase},
		{Method: "POST", Path: "/api/v1/cases/:id/attachments", Summary: "Upload a document (multipart: file, kind); PDF, JPEG or PNG by content, at most 10 MiB", Tag: "cases",
			Access: Roles(tp, off), Body: attachmentForm{}, Response: fiscal.Attachment{}, Created: true, Handler: s.uploadAttachment},
		{Method: "GET", Path: "/api/v1/cases/:id/attachments/:aid", Summary: "Download a document of a case", Tag: "cases",
			Access: AnyUser, Handler: s.downloadAttachment},
		{Method: "POST", Path: "/api/v1/cases/:id/review", Summary: "The officer's review: approve, reject or request_info", Tag: "cases",
			Access: Roles(off), Body: fiscal.Decision{}, Response: fiscal.CaseDetail{}, Handler: s.reviewCase},
		{Method: "POST", Path: "/api/v1/cases/:id/respond", Summary: "The taxpayer's answer to a request for information", Tag: "cases",
			Access: Roles(tp, off), Body: fiscal.Response{}, Response: fiscal.CaseDetail{}, Handler: s.respondCase},
		{Method: "POST", Path: "/api/v1/cases/:id/sign", Summary: "The signer's decision: approve (applies the case) or reject", Tag: "cases",
			Access: Roles(fiscal.RoleSigner), Body: fiscal.Decision{}, Response: fiscal.CaseDetail{}, Handler: s.signCase},
		{Method: "POST", Path: "/api/v1/cases/:id/assign", Summary: "Assign a case to an officer", Tag: "cases",
			Access: Roles(off, fiscal.RoleSigner, fiscal.RoleAdmin), Body: assignRequest{}, Response: fiscal.CaseDetail{}, Handler: s.assignCase},
		{Method: "POST", Path: "/api/v1/cases/:id/comments", Summary: "Comment on a case (staff may mark it internal)", Tag: "cases",
			Access: AnyUser, Body: commentRequest{}, Created: true, Handler: s.commentCase},
		{Method: "GET", Path: "/api/v1/cases/:id/verify", Summary: "Re-check the signed steps of a case", Tag: "cases",
			Access: AnyUser, Response: fiscal.Verification{}, Handler: s.verifyCase},
	}
}

func (s *Server) caseTypes(c *fiber.Ctx) error {
	out := caseTypeList{Items: []any{}}
	published, err := s.publishedCaseTypes(c)
	if err != nil {
		return err
	}
	if published == nil { // no request types service: the shipped types
		for _, t := range fiscal.CaseTypes() {
			out.Items = append(out.Items, t)
		}
	}
	for _, t := range published {
		out.Items = append(out.Items, t)
	}
	return c.JSON(out)
}

func (s *Server) setStraightThrough(c *fiber.Ctx) error {
	var req straightThroughRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := s.deps.Cases.SetStraightThrough(c.UserContext(), strings.Clone(c.Params("type")), req.Enabled); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) createCase(c *fiber.Ctx) error {
	var in fiscal.NewCase
	if err := decode(c, &in); err != nil {
		return err
	}
	out, err := s.deps.Cases.CreateCase(c.UserContext(), &in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (s *Server) listCases(c *fiber.Ctx) error {
	f := fiscal.CaseFilter{Status: strings.Clone(c.Query("status")), SLAState: strings.Clone(c.Query("sla_state")), Type: strings.Clone(c.Query("type"))}
	f.Limit, _ = strconv.Atoi(c.Query("limit", "100"))
	f.Offset, _ = strconv.Atoi(c.Query("offset", "0"))
	switch a := c.Query("assignee"); a {
	case "":
	case "me":
		id := fiscal.ActorFrom(c.UserContext()).UserID
		f.AssigneeID = &id
	case "none":
		zero := int64(0)
		f.AssigneeID = &zero
	default:
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return fiscal.InvalidField("assignee", "must be a user id, me or none")
		}
		f.AssigneeID = &id
	}
	list, total, err := s.deps.Cases.Cases(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(caseList{Items: list, Total: total})
}

func (s *Server) getCase(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	out, err := s.deps.Cases.Case(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *Server) uploadAttachment(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		if !strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEMultipartForm) {
			return fiscal.Errorf(fiscal.EMALFORMED, "a multipart/form-data body with the fields file and kind is required")
		}
		return fiscal.InvalidField("file", "is required")
	}
	if fh.Size > fiscal.MaxAttachmentSize {
		return fiscal.Errorf(fiscal.ETOOLARGE, "an attachment may have at most 10 MiB")
	}
	kind := strings.Clone(c.FormValue("kind"))
	if kind == "" {
		return fiscal.InvalidField("kind", "is required")
	}
	f, err := fh.Open()
	if err != nil {
		return fiscal.Internal(err, "upload")
	}
	defer f.Close()
	att, err := s.deps.Cases.AddAttachment(c.UserContext(), id, &fiscal.Upload{Kind: kind, Filename: strings.Clone(fh.Filename), Size: fh.Size, Content: f})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(att)
}

func (s *Server) downloadAttachment(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	aid, err := pathID(c, "aid")
	if err != nil {
		return err
	}
	att, rc, err := s.deps.Cases.AttachmentContent(c.UserContext(), id, aid)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, att.ContentType)
	SetDownloadHeaders(c, att.Kind+"-"+strconv.FormatInt(att.ID, 10)+AttachmentExt(att.ContentType))
	return c.SendStream(rc, int(att.Size))
}

// SetDownloadHeaders makes a response an uploaded file to save, never a
// page: Content-Disposition attachment with name reduced to a safe ASCII
// file name (letters, digits, '.', '_', '-'), and nosniff. A PDF or image a
// taxpayer uploaded is not opened inline in the staff's browser (the
// portal's image previews still show: <img> ignores the disposition).
func SetDownloadHeaders(c *fiber.Ctx, name string) {
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, name)
	safe = strings.TrimLeft(safe, ".")
	if safe == "" {
		safe = "document"
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+safe+`"`)
	c.Set("X-Content-Type-Options", "nosniff")
}

// AttachmentExt is the file extension of an attachment's content type.
func AttachmentExt(contentType string) string {
	switch contentType {
	case "application/pdf":
		return ".pdf"
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	}
	return ""
}

func (s *Server) commentCase(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var r commentRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	if err := s.deps.Cases.Comment(c.UserContext(), id, r.Body, r.Internal); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusCreated)
}

func (s *Server) verifyCase(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	out, err := s.deps.Cases.VerifyCase(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// reviewCase, respondCase, signCase and assignCase are the case's
// decisions: the case named by :id, a JSON body, the case as it is after.
func (s *Server) reviewCase(c *fiber.Ctx) error {
	return onCase(c, func(ctx context.Context, id int64, d *fiscal.Decision) (*fiscal.CaseDetail, error) {
		return s.deps.Cases.Review(ctx, id, d)
	})
}

func (s *Server) respondCase(c *fiber.Ctx) error {
	return onCase(c, func(ctx context.Context, id int64, r *fiscal.Response) (*fiscal.CaseDetail, error) {
		return s.deps.Cases.Respond(ctx, id, r)
	})
}

func (s *Server) signCase(c *fiber.Ctx) error {
	return onCase(c, func(ctx context.Context, id int64, d *fiscal.Decision) (*fiscal.CaseDetail, error) {
		return s.deps.Cases.Sign(ctx, id, d)
	})
}

func (s *Server) assignCase(c *fiber.Ctx) error {
	return onCase(c, func(ctx context.Context, id int64, r *assignRequest) (*fiscal.CaseDetail, error) {
		return s.deps.Cases.Assign(ctx, id, r.OfficerID)
	})
}

// onCase reads the :id path parameter and a JSON body of type In, runs the
// use case and answers its result as JSON.
func onCase[In, Out any](c *fiber.Ctx, run func(ctx context.Context, id int64, in *In) (Out, error)) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in In
	if err := decode(c, &in); err != nil {
		return err
	}
	out, err := run(c.UserContext(), id, &in)
	if err != nil {
		return err
	}
	return c.JSON(out)
}
