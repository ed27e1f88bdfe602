package web

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// Verification limits per address: every lookup counts against
// verifyPerMinute; unknown codes also count against verifyMissesPerHour, and
// an address over it is refused even for real codes until the hour passes.
// With 160-bit codes, guessing is hopeless anyway; the limits keep the
// endpoint from being a cheap oracle or a load generator.
const (
	verifyPerMinute     = 30
	verifyMissesPerHour = 20
)

func (s *Server) documentRoutes() []route {
	return []route{
		{Method: "POST", Path: "/api/v1/certificates", Summary: "Request a fiscal clearance certificate (certificat de atestare fiscală) for a taxpayer: 201 with the signed document when issued at once; 202 with case_id when a fiscal_certificate case was opened instead (a card payment is pending settlement)", Tag: "documents",
			Access: AnyUser, Body: fiscal.CertificateRequest{}, Response: fiscal.CertificateResult{}, Created: true, Idempotent: true, Reply: certificateReply, Handler: s.requestCertificate},
		{Method: "GET", Path: "/api/v1/documents/:id.pdf", Summary: "An issued document's signed PDF (its holder and the municipality's staff)", Tag: "documents",
			Access: AnyUser, Handler: s.documentPDF},
		{Method: "GET", Path: "/api/v1/taxpayers/:id/documents", Summary: "A taxpayer's issued documents, newest first", Tag: "documents",
			Access: AnyUser, Response: documentList{}, Handler: s.taxpayerDocuments},
		{Method: "GET", Path: "/api/v1/verify/:code", Summary: "Verify a document by the code of its QR: authenticity, type, number, dates, the holder's masked name and the SHA-256 of the PDF as issued (public, rate-limited per address)", Tag: "documents",
			Access: Public, Response: fiscal.DocumentVerification{}, Handler: s.verifyDocument},
	}
}

type documentList struct {
	Items []*fiscal.Document `json:"items"`
}

func (s *Server) documents() (fiscal.DocumentService, error) {
	if s.deps.Documents == nil {
		return nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "documents are not available")
	}
	return s.deps.Documents, nil
}

// certificateReply is the kept answer to a certificate request: 201 with the
// certificate issued, 202 with the case opened instead.
func certificateReply(v any) (*fiscal.StoredResponse, error) {
	status := fiber.StatusAccepted
	if r, ok := v.(*fiscal.CertificateResult); ok && r.Status == fiscal.CertificateIssued {
		status = fiber.StatusCreated
	}
	return JSONReply(status)(v)
}

func (s *Server) requestCertificate(c *fiber.Ctx) error {
	ds, err := s.documents()
	if err != nil {
		return err
	}
	var req fiscal.CertificateRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	res, err := ds.RequestCertificate(c.UserContext(), &req)
	if err != nil {
		return err
	}
	if res.Status == fiscal.CertificateIssued {
		c.Location(res.PDFURL)
		return c.Status(fiber.StatusCreated).JSON(res)
	}
	c.Location("/api/v1/cases/" + strconv.FormatInt(res.CaseID, 10))
	return c.Status(fiber.StatusAccepted).JSON(res)
}

func (s *Server) documentPDF(c *fiber.Ctx) error {
	ds, err := s.documents()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, rc, err := ds.DocumentPDF(c.UserContext(), id)
	if err != nil {
		return err
	}
	return sendPDF(c, d, rc)
}

// sendPDF writes a stored document: private, never cached by proxies, its
// SHA-256 as the ETag.
func sendPDF(c *fiber.Ctx, d *fiscal.Document, rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fiscal.Internal(err, "read document")
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+d.Number+`.pdf"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set(fiber.HeaderETag, `"`+d.SHA256+`"`)
	return c.Send(b)
}

func (s *Server) taxpayerDocuments(c *fiber.Ctx) error {
	ds, err := s.documents()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	items, err := ds.TaxpayerDocuments(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(documentList{Items: items})
}

func (s *Server) verifyDocument(c *fiber.Ctx) error {
	v, err := s.VerifyDocument(c.UserContext(), s.ClientIP(c), c.Params("code"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(v)
}

// VerifyDocument looks a verification code up for the address ip under the
// verification rate limits; the portal's /verify page calls it too, so both
// doors share one budget per address.
func (s *Server) VerifyDocument(ctx context.Context, ip, code string) (*fiscal.DocumentVerification, error) {
	ds, err := s.documents()
	if err != nil {
		return nil, err
	}
	if err := s.limit(ctx, "verify:"+ip, verifyPerMinute, time.Minute); err != nil {
		return nil, err
	}
	if over, err := s.over(ctx, "verify-miss:"+ip, verifyMissesPerHour, time.Hour); err != nil {
		return nil, err
	} else if over {
		s.metrics.rateLimited.Add(1)
		return nil, fiscal.Errorf(fiscal.ERATELIMIT, "too many unknown codes from this address; try again later")
	}
	v, err := ds.VerifyDocument(ctx, code)
	if fiscal.ErrorCode(err) == fiscal.ENOTFOUND {
		if _, cerr := s.shared.CountAttempt(ctx, "verify-miss:"+ip, time.Hour); cerr != nil {
			return nil, cerr
		}
	}
	return v, err
}
