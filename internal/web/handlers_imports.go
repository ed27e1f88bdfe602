package web

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// importForm documents the multipart body of POST /api/v1/admin/imports.
type importForm struct {
	File   string `json:"file" validate:"required"` // the CSV or XLSX file (multipart file part)
	Kind   string `json:"kind" validate:"required,oneof=taxpayers vehicles buildings lands balances"`
	DryRun bool   `json:"dry_run"` // "true" checks and reports without writing
}

func (s *Server) importRoutes() []route {
	admin := Roles(fiscal.RoleAdmin)
	return []route{
		{Method: "POST", Path: "/api/v1/admin/imports", Summary: "Import a CSV or XLSX export of the old system (multipart file, kind, dry_run): every row checked, bad rows reported by line and field, the others upserted by external_id",
			Tag: "admin", Access: admin, Body: importForm{}, Response: fiscal.ImportResult{}, Created: true, Handler: s.createImport},
		{Method: "GET", Path: "/api/v1/admin/imports/:id", Summary: "An import's report (its first 1000 errors)",
			Tag: "admin", Access: admin, Response: fiscal.ImportResult{}, Handler: s.getImport},
		{Method: "GET", Path: "/api/v1/admin/imports/:id/errors.csv", Summary: "Every rejected row of an import as CSV (line, field, message)",
			Tag: "admin", Access: admin, Handler: s.importErrorsCSV},
	}
}

func (s *Server) imports() (fiscal.ImportService, error) {
	if s.deps.Imports == nil {
		return nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "imports are not available")
	}
	return s.deps.Imports, nil
}

func (s *Server) createImport(c *fiber.Ctx) error {
	svc, err := s.imports()
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		if !strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEMultipartForm) {
			return fiscal.Errorf(fiscal.EMALFORMED, "a multipart/form-data body with the fields file, kind and dry_run is required")
		}
		return fiscal.InvalidField("file", "is required")
	}
	kind := strings.Clone(c.FormValue("kind"))
	if kind == "" {
		return fiscal.InvalidField("kind", "is required")
	}
	if err := CheckText("kind", kind, false); err != nil {
		return err
	}
	dry := false
	if v := c.FormValue("dry_run"); v != "" {
		if dry, err = strconv.ParseBool(v); err != nil {
			return fiscal.InvalidField("dry_run", "must be true or false")
		}
	}
	f, err := fh.Open()
	if err != nil {
		return fiscal.Internal(err, "upload")
	}
	defer f.Close()
	res, err := svc.Import(c.UserContext(), kind, fiscal.ImportFile{Name: strings.Clone(fh.Filename), Data: f, Size: fh.Size}, dry)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(res)
}

func (s *Server) getImport(c *fiber.Ctx) error {
	svc, err := s.imports()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	res, err := svc.ImportReport(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (s *Server) importErrorsCSV(c *fiber.Ctx) error {
	svc, err := s.imports()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := svc.ImportErrors(c.UserContext(), id, &buf); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	SetDownloadHeaders(c, "import-"+strconv.FormatInt(id, 10)+"-errors.csv")
	return c.Send(buf.Bytes())
}
