package portal

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/web"
)

// "Acționez pentru / Acting for": a person who represents companies (an
// approved representation request) chooses on /account whom the session
// acts for; the account page then shows that taxpayer's record, and every
// page acts for it (fiscal.RepresentationService.ActFor).

func (p *Portal) representationPages() []page {
	if p.deps.Representations == nil {
		return nil
	}
	ps := []page{
		{Method: "POST", Path: "/account/act-for", Access: taxpayerOnly, Handler: p.actFor},
	}
	if p.deps.Cases != nil {
		ps = append(ps,
			page{Method: "GET", Path: "/declare/representation", Access: taxpayerOnly, Handler: p.representationForm},
			page{Method: "POST", Path: "/declare/representation", Access: taxpayerOnly, Handler: p.declareRepresentation})
	}
	return ps
}

// representationFields are the request's inputs, named by the API's JSON
// paths so that its field errors land on them.
var representationFields = []string{"data.cui", "data.role", "data.valid_until"}

type representationFormData struct {
	declareData
	// Refused names why this account may not file (a catalog key); the
	// form is not shown.
	Refused string
}

func (p *Portal) representationData(c *fiber.Ctx, v *view) representationFormData {
	d := representationFormData{declareData: declareData{FormID: formID(c), Docs: docInputs(v, fiscal.CaseRepresentation, nil), MaxMiB: fiscal.MaxAttachmentSize >> 20}}
	if err := fiscal.CheckRepresentationFiler(v.Actor); err != nil {
		d.Refused = "represent.refused"
		if v.Actor.Representation != 0 {
			d.Refused = "represent.refused.acting"
		}
	}
	return d
}

// representationForm is the request to represent a company: a verified
// person, acting for themself, with the mandate.
func (p *Portal) representationForm(c *fiber.Ctx, v *view) error {
	v.Form = map[string]string{"data.role": fiscal.RepresentativeEmpowered}
	d := p.representationData(c, v)
	if d.Refused != "" {
		c.Status(fiber.StatusForbidden)
	}
	return p.render(c, v, "declare_representation", d)
}

func (p *Portal) declareRepresentation(c *fiber.Ctx, v *view) error {
	if v.Actor.TaxpayerID == nil {
		return fiscal.Errorf(fiscal.ENOTFOUND, "no taxpayer record")
	}
	v.Form = formValues(c, representationFields...)
	if d := p.representationData(c, v); d.Refused != "" {
		return p.render(c.Status(fiber.StatusForbidden), v, "declare_representation", d)
	}
	m := map[string]any{"cui": v.Form["data.cui"], "role": v.Form["data.role"]}
	var bad []fiscal.FieldError
	if s := v.Form["data.valid_until"]; s != "" {
		if _, err := civil.Parse(s); err != nil {
			bad = append(bad, fiscal.FieldError{Field: "data.valid_until", Message: "must be today or later (YYYY-MM-DD)"})
		} else {
			m["valid_until"] = s
		}
	}
	data, _ := json.Marshal(m)
	cs, err := p.submitCase(c, v, fiscal.CaseRepresentation, data, bad)
	if err != nil {
		fe, ok := formErrors(v.Lang, err)
		if !ok {
			return err
		}
		v.Errors = fe
		d := p.representationData(c, v)
		if v.Form["data.role"] == fiscal.RepresentativeAdministrator {
			d.Docs = docInputs(v, fiscal.CaseRepresentation, []string{"registry_extract"})
		}
		return p.render(c.Status(web.HTTPStatus(err)), v, "declare_representation", d)
	}
	return c.Redirect("/cases/"+strconv.FormatInt(cs.ID, 10), fiber.StatusSeeOther)
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
	out, err := p.onceTo(c, v, formOutcome{To: "/account", Flash: "actfor.done"}, func(ctx context.Context) error {
		_, err := p.deps.Representations.ActFor(ctx, v.sessionToken, id)
		return err
	})
	if err != nil {
		if fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			return err
		}
		p.setFlash(c, "actfor.denied")
		return c.Redirect("/account", fiber.StatusSeeOther)
	}
	return p.answer(c, out)
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
		"actfor.h":                     "Acționez pentru",
		"actfor.hint":                  "Alegeți contribuabilul pentru care lucrați acum: dumneavoastră sau o firmă pe care o reprezentați (după aprobarea cererii de reprezentare).",
		"actfor.label":                 "Contribuabilul",
		"actfor.submit":                "Schimbă",
		"actfor.self":                  "eu",
		"actfor.rel.administrator":     "administrator",
		"actfor.rel.empowered":         "împuternicit",
		"actfor.until":                 "până la %s",
		"actfor.done":                  "De acum acționați pentru contribuabilul ales.",
		"actfor.denied":                "Nu puteți acționa pentru acest contribuabil: nu aveți o reprezentare aprobată și în vigoare.",
		"actfor.ended":                 "Reprezentarea firmei pentru care acționați a încetat (revocată sau expirată). Acționați din nou pentru dumneavoastră.",
		"err.represent_cui":            "Nicio firmă cu acest CUI nu este în evidența fiscală a municipiului: firma trebuie înregistrată întâi la Direcția Fiscală.",
		"err.represent_until":          "Data trebuie să fie azi sau mai târziu.",
		"declare_representation.title": "Cerere de reprezentare a unei firme",
		"represent.intro":              "Cereți să reprezentați o firmă (ca administrator sau împuternicit). După ce un funcționar verifică mandatul și cererea este aprobată, puteți acționa pentru firmă din contul dumneavoastră (plăți, cereri, documente). Fișiere PDF, JPEG sau PNG, cel mult %d MiB fiecare; câmpurile marcate cu * sunt obligatorii.",
		"represent.refused":            "Cererea de reprezentare o poate depune doar o persoană cu cont verificat (intrare cu ROeID sau cont deschis cu cod de înrolare de la Direcția Fiscală).",
		"represent.refused.acting":     "Acționați acum pentru o firmă: alegeți „eu” la „Acționez pentru” în contul dumneavoastră, apoi depuneți cererea.",
		"represent.link":               "Reprezint o firmă",
		"data.cui":                     "CUI-ul firmei",
		"data.cui.hint":                "Codul unic de înregistrare, cu sau fără RO. Firma trebuie să fie deja în evidența fiscală.",
		"data.role":                    "Calitatea",
		"data.valid_until":             "Mandatul este valabil până la (opțional)",
		"opt.administrator":            "Administrator",
		"opt.empowered":                "Împuternicit",
		"casetype.representation":      "Cerere de reprezentare a unei firme",
		"check.cui_valid":              "CUI valid",
		"check.company_in_registry":    "Firma este în evidența fiscală",
		"check.no_active_link":         "Persoana nu reprezintă deja firma",
		"check.filer_verified":         "Contul solicitantului este verificat (ROeID sau cod de înrolare)",
		"doc.mandate":                  "Împuternicirea sau actul de numire ca administrator",
		"doc.mandate.hint":             "Mandatul semnat de reprezentantul legal al firmei, cu termenul de valabilitate, dacă are.",
		"doc.registry_extract":         "Certificatul constatator de la Registrul Comerțului",
		"doc.registry_extract.hint":    "Pentru administratori: certificatul constatator care îi numește.",
	},
	EN: {
		"actfor.h":                     "Acting for",
		"actfor.hint":                  "Choose the taxpayer you are working for now: yourself or a company you represent (once the representation request was approved).",
		"actfor.label":                 "Taxpayer",
		"actfor.submit":                "Switch",
		"actfor.self":                  "me",
		"actfor.rel.administrator":     "administrator",
		"actfor.rel.empowered":         "empowered",
		"actfor.until":                 "until %s",
		"actfor.done":                  "You now act for the chosen taxpayer.",
		"actfor.denied":                "You cannot act for this taxpayer: you have no approved representation in force.",
		"actfor.ended":                 "The representation of the company you were acting for has ended (revoked or expired). You act for yourself again.",
		"err.represent_cui":            "No company with this CUI is in the municipality's fiscal record: the tax department must enter it first.",
		"err.represent_until":          "The date must be today or later.",
		"declare_representation.title": "Request to represent a company",
		"represent.intro":              "Ask to represent a company (as its administrator or empowered by a mandate). Once an officer has checked the mandate and the request is approved, you can act for the company from your account (payments, requests, documents). PDF, JPEG or PNG files, at most %d MiB each; fields marked * are required.",
		"represent.refused":            "A representation request can be filed only by a person with a verified account (signed in with ROeID, or an account opened with an enrollment code from the tax department).",
		"represent.refused.acting":     "You are acting for a company now: choose “me” under “Acting for” on your account, then file the request.",
		"represent.link":               "I represent a company",
		"data.cui":                     "The company's CUI",
		"data.cui.hint":                "The fiscal code, with or without RO. The company must already be in the fiscal record.",
		"data.role":                    "Capacity",
		"data.valid_until":             "The mandate is valid until (optional)",
		"opt.administrator":            "Administrator",
		"opt.empowered":                "Empowered",
		"casetype.representation":      "Request to represent a company",
		"check.cui_valid":              "Valid CUI",
		"check.company_in_registry":    "The company is in the fiscal record",
		"check.no_active_link":         "The person does not represent the company already",
		"check.filer_verified":         "The requester's account is verified (ROeID or an enrollment code)",
		"doc.mandate":                  "The mandate or the appointment as administrator",
		"doc.mandate.hint":             "The mandate signed by the company's legal representative, with its end date, if any.",
		"doc.registry_extract":         "Trade registry extract (certificat constatator)",
		"doc.registry_extract.hint":    "For administrators: the registry extract that names them.",
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
	fieldRules = append([]struct {
		re  *regexp.Regexp
		key string
	}{
		{regexp.MustCompile(`^no company with this CUI is in the municipality's registry`), "err.represent_cui"},
		{regexp.MustCompile(`^must be today or later`), "err.represent_until"},
	}, fieldRules...)
}
