package portal

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// Paying by card: the page lists what is due and, on "Pay", creates the
// payment through the payments service (a Stripe PaymentIntent) and renders
// Stripe's Payment Element with the intent's client secret. The page never
// says the payment succeeded: Stripe's webhook settles it, and the payment
// page (/payments/{id}) shows the state the ledger has.
//
// Content-Security-Policy: the card page alone allows Stripe's script and
// frames (stripeCSP); every other page keeps default-src 'self'.

// stripeCSP is the policy of the card page: Stripe.js from js.stripe.com,
// its iframes, and its API calls (Stripe's documented CSP directives).
const stripeCSP = "default-src 'self'; img-src 'self' data: https://*.stripe.com; style-src 'self'; " +
	"script-src 'self' https://js.stripe.com; frame-src https://js.stripe.com https://hooks.stripe.com; " +
	"connect-src 'self' https://api.stripe.com; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (p *Portal) payPages() []page {
	return []page{
		{Method: "GET", Path: "/account/pay", Access: taxpayerOnly, Handler: p.payForm},
		{Method: "POST", Path: "/account/pay", Access: taxpayerOnly, Handler: p.pay},
	}
}

type payData struct {
	Statement *fiscal.Statement
	// Configured is false when the server has no Stripe keys: the page says
	// so and shows no card form.
	Configured bool
	// Set once the payment is created: the Payment Element's inputs.
	Payment        *fiscal.Payment
	PublishableKey string
	ReturnURL      string
}

func (p *Portal) cardConfigured() bool {
	return p.cfg.CardPayments && p.cfg.StripePublishableKey != ""
}

func (p *Portal) payForm(c *fiber.Ctx, v *view) error {
	if v.Actor.TaxpayerID == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no taxpayer record")
	}
	st, err := p.deps.Payments.Statement(c.UserContext(), *v.Actor.TaxpayerID, fiscal.LocalDate(p.deps.Clock.Now()))
	if err != nil {
		return err
	}
	return p.render(c, v, "pay", payData{Statement: st, Configured: p.cardConfigured()})
}

func (p *Portal) pay(c *fiber.Ctx, v *view) error {
	if v.Actor.TaxpayerID == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no taxpayer record")
	}
	ctx := c.UserContext()
	st, err := p.deps.Payments.Statement(ctx, *v.Actor.TaxpayerID, fiscal.LocalDate(p.deps.Clock.Now()))
	if err != nil {
		return err
	}
	d := payData{Statement: st, Configured: p.cardConfigured()}
	if !d.Configured {
		return p.render(c.Status(fiber.StatusServiceUnavailable), v, "pay", d)
	}
	// The payment, with its client secret, is kept with the form's id when
	// the PaymentIntent is attached (AttachPaymentIntent): a sending of the
	// same form again draws the card page of the same payment. A claim
	// whose call to Stripe had no known outcome is continued, as the API's
	// Resumable route does, under the same Stripe idempotency key.
	started := func(result any) (formOutcome, error) {
		pay, ok := result.(*fiscal.Payment)
		if !ok {
			return formOutcome{}, fmt.Errorf("portal: a card payment's reply is a payment, not %T", result)
		}
		return formOutcome{Payment: pay}, nil
	}
	out, _, err := p.once(c, v, onceForm{kept: started, resumable: true}, func(ctx context.Context) (formOutcome, error) {
		pay, err := p.deps.Payments.CreateCardPayment(ctx, &fiscal.CardPaymentInput{TaxpayerID: *v.Actor.TaxpayerID, All: true})
		if err != nil {
			return formOutcome{}, err
		}
		return started(pay)
	})
	pay := out.Payment
	if err == nil && pay == nil {
		err = fiscal.Internal(fmt.Errorf("no payment in the form's answer"), "card payment")
	}
	switch fiscal.ErrorCode(err) {
	case "":
	case fiscal.EUNAVAILABLE:
		d.Configured = false
		return p.render(c.Status(fiber.StatusServiceUnavailable), v, "pay", d)
	case fiscal.EINVALID:
		v.Errors = map[string]string{"pay": v.T("pay.nothing")}
		return p.render(c.Status(fiber.StatusUnprocessableEntity), v, "pay", d)
	case fiscal.EUPSTREAM:
		v.Errors = map[string]string{"pay": v.T("pay.upstream")}
		return p.render(c.Status(fiber.StatusBadGateway), v, "pay", d)
	default:
		return err
	}
	d.Payment, d.PublishableKey = pay, p.cfg.StripePublishableKey
	d.ReturnURL = c.BaseURL() + "/payments/" + strconv.FormatInt(pay.ID, 10)
	c.Set("Content-Security-Policy", stripeCSP)
	v.Title = v.T("pay.card.title")
	v.Scripts = append(v.Scripts, "https://js.stripe.com/v3/", assets.url("pay.js"))
	return p.render(c, v, "pay", d)
}
