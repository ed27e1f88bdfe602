package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/civil"
)

type differenceList struct {
	From  civil.Date                        `json:"from"`
	To    civil.Date                        `json:"to"`
	Items []fiscal.ReconciliationDifference `json:"items"`
}

// reconRoutes: the retroactive recomputation (admin), the taxpayer's credit
// (apply, refund) and the card reconciliation (accountant, admin).
func (s *Server) reconRoutes() []route {
	money := Roles(fiscal.RoleAccountant, fiscal.RoleAdmin)
	return []route{
		{Method: "POST", Path: "/api/v1/admin/recompute", Summary: "Recompute a year's assessments under the parameters in force now (after a retroactive law): starts or resumes the year's run in the background and returns it; differences become adjustment debts or credit",
			Tag: "admin", Access: Roles(fiscal.RoleAdmin), Body: fiscal.RecomputeInput{}, Response: fiscal.RecomputeRun{}, Created: true, Handler: s.startRecompute},
		{Method: "GET", Path: "/api/v1/admin/recompute/:id", Summary: "A recomputation run: status, progress, objects up/down/unchanged, extra debt and credit by budget code",
			Tag: "admin", Access: Roles(fiscal.RoleAdmin), Response: fiscal.RecomputeRun{}, Handler: s.getRecompute},
		{Method: "POST", Path: "/api/v1/taxpayers/:id/credit/apply", Summary: "Apply the taxpayer's credit to their outstanding debts in the legal order (staff, or the taxpayer themself)",
			Tag: "payments", Access: AnyUser, Response: fiscal.CreditApplication{}, Idempotent: true, Handler: s.applyCredit},
		{Method: "POST", Path: "/api/v1/taxpayers/:id/credit/refund", Summary: "Refund credit on request by bank transfer to an IBAN (recorded as a pending transfer: there is no bank integration)",
			Tag: "payments", Access: Roles(fiscal.RoleAccountant), Body: fiscal.CreditRefundInput{}, Response: fiscal.CreditRefund{}, Created: true, Idempotent: true, Handler: s.refundCredit},
		{Method: "POST", Path: "/api/v1/reconciliation/imports", Summary: "Import Stripe's balance transactions of a payout (payout_id) or of the local dates [from, to]; each transaction is stored once",
			Tag: "reconciliation", Access: money, Body: fiscal.ReconciliationImportInput{}, Response: fiscal.ReconciliationImport{}, Created: true, Handler: s.importReconciliation},
		{Method: "GET", Path: "/api/v1/reconciliation/differences", Summary: "Differences between card payments and Stripe's transactions of ?from=&to= (missing on either side, amount and refund mismatches, fees)",
			Tag: "reconciliation", Access: money, Response: differenceList{}, Handler: s.reconciliationDifferences},
	}
}

func unavailable(what string) error {
	return fiscal.Errorf(fiscal.EUNAVAILABLE, "%s is not available", what)
}

func (s *Server) startRecompute(c *fiber.Ctx) error {
	if s.deps.Recompute == nil {
		return unavailable("recomputation")
	}
	var in fiscal.RecomputeInput
	if err := decode(c, &in); err != nil {
		return err
	}
	r, err := s.deps.Recompute.StartRecompute(c.UserContext(), &in)
	if err != nil {
		return err
	}
	c.Set("Location", "/api/v1/admin/recompute/"+strconv.FormatInt(r.ID, 10))
	return c.Status(fiber.StatusCreated).JSON(r)
}

func (s *Server) getRecompute(c *fiber.Ctx) error {
	if s.deps.Recompute == nil {
		return unavailable("recomputation")
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	r, err := s.deps.Recompute.RecomputeRun(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) applyCredit(c *fiber.Ctx) error {
	if s.deps.Credit == nil {
		return unavailable("credit")
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	a, err := s.deps.Credit.ApplyCredit(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) refundCredit(c *fiber.Ctx) error {
	if s.deps.Credit == nil {
		return unavailable("credit")
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in fiscal.CreditRefundInput
	if err := decode(c, &in); err != nil {
		return err
	}
	r, err := s.deps.Credit.RefundCredit(c.UserContext(), id, &in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

func (s *Server) importReconciliation(c *fiber.Ctx) error {
	if s.deps.Reconciliation == nil {
		return unavailable("reconciliation")
	}
	var in fiscal.ReconciliationImportInput
	if err := decode(c, &in); err != nil {
		return err
	}
	r, err := s.deps.Reconciliation.ImportReconciliation(c.UserContext(), &in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

func (s *Server) reconciliationDifferences(c *fiber.Ctx) error {
	if s.deps.Reconciliation == nil {
		return unavailable("reconciliation")
	}
	var out differenceList
	for _, q := range []struct {
		name string
		dst  *civil.Date
	}{{"from", &out.From}, {"to", &out.To}} {
		d, err := civil.Parse(c.Query(q.name))
		if err != nil {
			return fiscal.InvalidField(q.name, "required, a date YYYY-MM-DD")
		}
		*q.dst = d
	}
	items, err := s.deps.Reconciliation.ReconciliationDifferences(c.UserContext(), out.From, out.To)
	if err != nil {
		return err
	}
	out.Items = items
	return c.JSON(out)
}
