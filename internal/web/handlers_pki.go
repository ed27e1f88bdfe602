package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// pkiRoutes publish what others need to verify the municipality's
// signatures without fiscald (contract: "Signatures that others can
// verify").
func (s *Server) pkiRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/pki/ca.pem", Summary: "The certificate chain (issuing CA, root) the municipality's documents and its staff's steps are signed under (PEM; public)", Tag: "pki",
			Access: Public, Handler: s.caPEM},
		{Method: "GET", Path: "/api/v1/cases/:id/steps/:n/content", Summary: "The exact bytes step n of a case signed (its canonical JSON); who may see the case may read it", Tag: "cases",
			Access: AnyUser, Handler: s.stepContent},
		{Method: "GET", Path: "/api/v1/cases/:id/steps/:n/signature.p7s", Summary: "Step n's detached CAdES signature (DER CMS, with the signer's certificate and an RFC 3161 signature timestamp): openssl cms -verify -binary -inform DER -content content -in signature.p7s -CAfile ca.pem. 404 for a step signed before certificates (Ed25519: see /verify)", Tag: "cases",
			Access: AnyUser, Handler: s.stepSignature},
	}
}

func (s *Server) caPEM(c *fiber.Ctx) error {
	if s.deps.PKI == nil || s.deps.PKI.CAChain() == nil {
		return fiscal.Errorf(fiscal.EUNAVAILABLE, "no certificate authority is configured")
	}
	c.Set(fiber.HeaderContentType, "application/x-pem-file")
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.Send(s.deps.PKI.CAChain())
}

func (s *Server) stepEvidence(c *fiber.Ctx) (*fiscal.StepEvidence, int, error) {
	if s.deps.PKI == nil {
		return nil, 0, fiscal.Errorf(fiscal.EUNAVAILABLE, "step signatures are not configured")
	}
	id, err := pathID(c, "id")
	if err != nil {
		return nil, 0, err
	}
	n, err := strconv.Atoi(c.Params("n"))
	if err != nil || n <= 0 {
		return nil, 0, fiscal.Errorf(fiscal.ENOTFOUND, "step not found")
	}
	ev, err := s.deps.PKI.StepEvidence(c.UserContext(), id, n)
	return ev, n, err
}

func (s *Server) stepContent(c *fiber.Ctx) error {
	ev, n, err := s.stepEvidence(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	SetDownloadHeaders(c, "step-"+strconv.Itoa(n)+"-content.json")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(ev.Content)
}

func (s *Server) stepSignature(c *fiber.Ctx) error {
	ev, n, err := s.stepEvidence(c)
	if err != nil {
		return err
	}
	if ev.Signature == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "step %d was signed before certificates (Ed25519): GET /api/v1/cases/{id}/verify checks it", n)
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	SetDownloadHeaders(c, "step-"+strconv.Itoa(n)+".p7s")
	c.Set(fiber.HeaderContentType, "application/pkcs7-signature")
	return c.Send(ev.Signature)
}
