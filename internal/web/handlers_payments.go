package web

import (
	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/civil"
)

func (s *Server) paymentRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/taxpayers/:id/statement", Summary: "The taxpayer's account as of a date (?as_of=YYYY-MM-DD, default today): debts, late fees, credit, total due", Tag: "payments",
			Access: AnyUser, Response: fiscal.Statement{}, Handler: s.statement},
		{Method: "POST", Path: "/api/v1/payments", Summary: "Pay chosen debts (debt_ids) or everything due (all) by card: a Stripe PaymentIntent in RON", Tag: "payments",
			Access: AnyUser, Body: fiscal.CardPaymentInput{}, Response: fiscal.Payment{}, Created: true, Idempotent: true, Resumable: true, Handler: s.createCardPayment},
		{Method: "POST", Path: "/api/v1/webhooks/stripe", Summary: "Stripe events (Stripe-Signature verified); duplicates and out-of-order deliveries change nothing twice", Tag: "payments",
			Access: Public, Response: fiscal.WebhookResult{}, Handler: s.stripeWebhook},
		{Method: "POST", Path: "/api/v1/payments/cash", Summary: "Record a cash payment at the desk, allocated at once with the next receipt number", Tag: "payments",
			Access: Roles(fiscal.RoleOfficer), Body: fiscal.CashPaymentInput{}, Response: fiscal.Payment{}, Created: true, Idempotent: true, Handler: s.cashPayment},
		{Method: "GET", Path: "/api/v1/payments/:id", Summary: "A payment with its allocations and receipt", Tag: "payments",
			Access: AnyUser, Response: fiscal.Payment{}, Handler: s.getPayment},
		{Method: "GET", Path: "/api/v1/payments/:id/receipt.pdf", Summary: "The payment's receipt (chitanță) as PDF", Tag: "payments",
			Access: AnyUser, Handler: s.paymentReceipt},
		{Method: "POST", Path: "/api/v1/payments/:id/refunds", Summary: "Refund a payment in full or in part, with a reason (to the original card, or recorded for cash)", Tag: "payments",
			Access: Roles(fiscal.RoleAccountant), Body: fiscal.RefundInput{}, Response: fiscal.Refund{}, Created: true, Idempotent: true, Resumable: true, Handler: s.refundPayment},
	}
}

func (s *Server) payments() (fiscal.PaymentService, error) {
	if s.deps.Payments == nil {
		return nil, fiscal.Errorf(fiscal.EUNAVAILABLE, "payments are not available")
	}
	return s.deps.Payments, nil
}

func (s *Server) statement(c *fiber.Ctx) error {
	ps, err := s.payments()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var asOf civil.Date
	if q := c.Query("as_of"); q != "" {
		if asOf, err = civil.Parse(q); err != nil {
			return fiscal.InvalidField("as_of", "must be a date YYYY-MM-DD")
		}
	}
	st, err := ps.Statement(c.UserContext(), id, asOf)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (s *Server) createCardPayment(c *fiber.Ctx) error {
	ps, err := s.payments()
	if err != nil {
		return err
	}
	var in fiscal.CardPaymentInput
	if err := decode(c, &in); err != nil {
		return err
	}
	p, err := ps.CreateCardPayment(c.UserContext(), &in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

func (s *Server) stripeWebhook(c *fiber.Ctx) error {
	ps, err := s.payments()
	if err != nil {
		return err
	}
	// The signature covers the exact bytes: pass the body untouched (the
	// service does not keep it beyond the call).
	res, err := ps.HandleStripeWebhook(c.UserContext(), c.Body(), c.Get("Stripe-Signature"))
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (s *Server) cashPayment(c *fiber.Ctx) error {
	ps, err := s.payments()
	if err != nil {
		return err
	}
	var in fiscal.CashPaymentInput
	if err := decode(c, &in); err != nil {
		return err
	}
	p, err := ps.RecordCashPayment(c.UserContext(), &in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

func (s *Server) getPayment(c *fiber.Ctx) error {
	ps, err := s.payments()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	p, err := ps.Payment(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) paymentReceipt(c *fiber.Ctx) error {
	ps, err := s.payments()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if s.deps.Documents != nil {
		// The signed receipt, issued through the documents pipeline.
		d, rc, err := s.deps.Documents.ReceiptPDF(c.UserContext(), id)
		if err != nil {
			return err
		}
		return sendPDF(c, d, rc)
	}
	b, err := ps.Receipt(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="chitanta-`+c.Params("id")+`.pdf"`)
	return c.Send(b)
}

func (s *Server) refundPayment(c *fiber.Ctx) error {
	ps, err := s.payments()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in fiscal.RefundInput
	if err := decode(c, &in); err != nil {
		return err
	}
	r, err := ps.Refund(c.UserContext(), id, &in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}
