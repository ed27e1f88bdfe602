package portal

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/web"
)

// Thin pages over the documents service: the holder's documents on the
// account page (see account), downloads, the fiscal clearance request and
// the public verification page the QR code of every document opens.

func (p *Portal) documentPages() []page {
	return []page{
		{Method: "GET", Path: "/documents/:id.pdf", Access: access{}, Handler: p.documentPDF},
		{Method: "POST", Path: "/account/certificate", Access: taxpayerOnly, Handler: p.requestCertificate},
		{Method: "GET", Path: "/verify", Access: public, Handler: p.verifyForm},
		{Method: "GET", Path: "/verify/:code", Access: public, Handler: p.verify},
	}
}

// sendDocument writes a stored PDF (private, not cached).
func sendDocument(c *fiber.Ctx, d *fiscal.Document, rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fiscal.Internal(err, "read document")
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+d.Number+`.pdf"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(b)
}

func (p *Portal) documentPDF(c *fiber.Ctx, v *view) error {
	id, err := pathInt(c, "id")
	if err != nil {
		return err
	}
	d, rc, err := p.deps.Documents.DocumentPDF(c.UserContext(), id)
	if err != nil {
		return err
	}
	return sendDocument(c, d, rc)
}

// requestCertificate asks for a fiscal clearance certificate: issued at
// once when nothing is due, else a case is opened.
func (p *Portal) requestCertificate(c *fiber.Ctx, v *view) error {
	if v.Actor.TaxpayerID == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no taxpayer record")
	}
	in := fiscal.CertificateRequest{Type: fiscal.DocFiscalClearance, TaxpayerID: *v.Actor.TaxpayerID, Purpose: strings.TrimSpace(strings.Clone(c.FormValue("purpose")))}
	if err := web.Validate(&in); err != nil {
		return err
	}
	// Where the answer leads is kept with the certificate (or the case it
	// opens), in its transaction.
	issued := func(result any) (formOutcome, error) {
		res, ok := result.(*fiscal.CertificateResult)
		if !ok {
			return formOutcome{}, fmt.Errorf("portal: a certificate's reply is a certificate result, not %T", result)
		}
		if res.Status == fiscal.CertificateIssued {
			return formOutcome{To: "/account#h-documents", Flash: "certificate.issued"}, nil
		}
		return formOutcome{To: "/cases/" + strconv.FormatInt(res.CaseID, 10), Flash: "certificate.case"}, nil
	}
	out, _, err := p.once(c, v, onceForm{kept: issued}, func(ctx context.Context) (formOutcome, error) {
		res, err := p.deps.Documents.RequestCertificate(ctx, &in)
		if err != nil {
			return formOutcome{}, err
		}
		return issued(res)
	})
	if err != nil {
		return err
	}
	return p.answer(c, out)
}

type verifyData struct {
	Code   string
	Result *fiscal.DocumentVerification
	// Unknown: no document has this code.
	Unknown bool
}

func (p *Portal) verifyForm(c *fiber.Ctx, v *view) error {
	if code := strings.TrimSpace(c.Query("code")); code != "" {
		return c.Redirect("/verify/"+url.PathEscape(code), fiber.StatusSeeOther)
	}
	return p.render(c, v, "verify", verifyData{})
}

// verify is the page of the QR code: authentic or not, type, number, dates
// and the holder's masked name; never the debts or the full name. It shares
// the API's rate limits per address (web.Server.VerifyDocument).
func (p *Portal) verify(c *fiber.Ctx, v *view) error {
	code := strings.Clone(c.Params("code"))
	d := verifyData{Code: code}
	res, err := p.api.VerifyDocument(c.UserContext(), p.api.ClientIP(c), code)
	switch fiscal.ErrorCode(err) {
	case "":
		d.Result = res
	case fiscal.ENOTFOUND:
		d.Unknown = true
		c.Status(fiber.StatusNotFound)
	default:
		return err
	}
	c.Set("Referrer-Policy", "no-referrer")
	return p.render(c, v, "verify", d)
}
