package portal

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// "Acționez pentru / Acting for": a person who represents companies (an
// approved representation request) chooses on /account whom the session
// acts for; the account page then shows that taxpayer's record, and every
// page acts for it (fiscal.RepresentationService.ActFor).

func (p *Portal) representationPages() []page {
	if p.deps.Representations == nil {
		return nil
	}
	return []page{
		{Method: "POST", Path: "/account/act-for", Access: taxpayerOnly, Handler: p.actFor},
	}
}

// actingFor lists whom the person may act for; nil when there is no choice
// to make (no service, or only their own record).
func (p *Portal) actingFor(c *fiber.Ctx, v *view) ([]fiscal.ActingTaxpayer, error) {
	if p.deps.Representations == nil || v.Actor == nil || v.Actor.Role != fiscal.RoleTaxpayer {
		return nil, nil
	}
	list, err := p.deps.Representations.ActingTaxpayers(c.UserContext())
	if err != nil || len(list) < 2 {
		return nil, err
	}
	return list, nil
}

func (p *Portal) actFor(c *fiber.Ctx, v *view) error {
	id, err := strconv.ParseInt(c.FormValue("taxpayer_id"), 10, 64)
	if err != nil || id <= 0 {
		p.setFlash(c, "actfor.denied")
		return c.Redirect("/account", fiber.StatusSeeOther)
	}
	if _, err := p.deps.Representations.ActFor(c.UserContext(), v.sessionToken, id); err != nil {
		if fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			return err
		}
		p.setFlash(c, "actfor.denied")
		return c.Redirect("/account", fiber.StatusSeeOther)
	}
	p.setFlash(c, "actfor.done")
	return c.Redirect("/account", fiber.StatusSeeOther)
}

// endedRepresentation returns a session whose representation ended to the
// person's own record (the API answers 403 until then), with a notice.
func (p *Portal) endedRepresentation(c *fiber.Ctx, a *fiscal.Actor, token string) (*fiscal.Actor, error) {
	if !a.RepresentationEnded || a.TaxpayerID == nil || p.deps.Representations == nil {
		return a, nil
	}
	ctx := fiscal.WithActor(c.UserContext(), a)
	if _, err := p.deps.Representations.ActFor(ctx, token, *a.TaxpayerID); err != nil {
		return nil, err
	}
	c.Locals(flashNow, "actfor.ended") // shown on this very page (takeFlash)
	return p.deps.Users.Authenticate(c.UserContext(), token)
}

// flashNow is the fiber local of a notice for the page being rendered.
const flashNow = "portal.flash"

var representationMessages = map[string]map[string]string{
	RO: {
		"actfor.h":                  "Acționez pentru",
		"actfor.hint":               "Alegeți contribuabilul pentru care lucrați acum: dumneavoastră sau o firmă pe care o reprezentați (după aprobarea cererii de reprezentare).",
		"actfor.label":              "Contribuabilul",
		"actfor.submit":             "Schimbă",
		"actfor.self":               "eu",
		"actfor.rel.administrator":  "administrator",
		"actfor.rel.empowered":      "împuternicit",
		"actfor.until":              "până la %s",
		"actfor.done":               "De acum acționați pentru contribuabilul ales.",
		"actfor.denied":             "Nu puteți acționa pentru acest contribuabil: nu aveți o reprezentare aprobată și în vigoare.",
		"actfor.ended":              "Reprezentarea firmei pentru care acționați a încetat (revocată sau expirată). Acționați din nou pentru dumneavoastră.",
		"casetype.representation":   "Cerere de reprezentare a unei firme",
		"check.cui_valid":           "CUI valid",
		"check.company_in_registry": "Firma este în evidența fiscală",
		"check.no_active_link":      "Persoana nu reprezintă deja firma",
		"check.filer_verified":      "Contul solicitantului este verificat (ROeID sau cod de înrolare)",
		"doc.mandate":               "Împuternicirea sau actul de numire ca administrator",
		"doc.mandate.hint":          "Mandatul semnat de reprezentantul legal al firmei, cu termenul de valabilitate, dacă are.",
		"doc.registry_extract":      "Certificatul constatator de la Registrul Comerțului",
		"doc.registry_extract.hint": "Pentru administratori: certificatul constatator care îi numește.",
	},
	EN: {
		"actfor.h":                  "Acting for",
		"actfor.hint":               "Choose the taxpayer you are working for now: yourself or a company you represent (once the representation request was approved).",
		"actfor.label":              "Taxpayer",
		"actfor.submit":             "Switch",
		"actfor.self":               "me",
		"actfor.rel.administrator":  "administrator",
		"actfor.rel.empowered":      "empowered",
		"actfor.until":              "until %s",
		"actfor.done":               "You now act for the chosen taxpayer.",
		"actfor.denied":             "You cannot act for this taxpayer: you have no approved representation in force.",
		"actfor.ended":              "The representation of the company you were acting for has ended (revoked or expired). You act for yourself again.",
		"casetype.representation":   "Request to represent a company",
		"check.cui_valid":           "Valid CUI",
		"check.company_in_registry": "The company is in the fiscal record",
		"check.no_active_link":      "The person does not represent the company already",
		"check.filer_verified":      "The requester's account is verified (ROeID or an enrollment code)",
		"doc.mandate":               "The mandate or the appointment as administrator",
		"doc.mandate.hint":          "The mandate signed by the company's legal representative, with its end date, if any.",
		"doc.registry_extract":      "Trade registry extract (certificat constatator)",
		"doc.registry_extract.hint": "For administrators: the registry extract that names them.",
	},
}

func init() {
	for lang, m := range representationMessages {
		for k, v := range m {
			if _, dup := messages[lang][k]; dup {
				panic("portal: message key defined twice: " + k)
			}
			messages[lang][k] = v
		}
	}
}
