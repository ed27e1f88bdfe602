// Package documents turns the content of an issued document
// (fiscal.DocumentContent, gathered by the store inside the issuing
// transaction) into the signed PDF a municipality hands out: it lays out the
// fiscal clearance certificate, the proofs of a vehicle's entry in and
// removal from the fiscal record, the tax decision and the payment receipt
// (through internal/pdf), signs it with the municipality's certificate and
// stores it by SHA-256 in the blob store. Producer implements
// fiscal.DocumentProducer.
package documents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/internal/pdf"
	"fiscald/payments"
)

// MaxSize bounds a stored document (a one-page certificate is ~40 KB).
const MaxSize = 20 << 20

// Producer renders, signs and stores documents.
type Producer struct {
	// Signer is the municipality's document certificate (pdf.LoadSigner in
	// production, pdf.EnsureDemoPKI for the demo).
	Signer *pdf.Signer
	// PAdES, when set, signs instead of Signer: PAdES B-LT with the
	// municipality's seal, a signature timestamp and the DSS.
	PAdES *pdf.PAdES
	// Blobs stores the signed PDFs.
	Blobs fiscal.BlobStore
	// PublicURL is the service's public base URL (FISCAL_PUBLIC_URL): the QR
	// code holds PublicURL + "/verify/" + code.
	PublicURL string
}

// VerifyURL is the public verification address of a code.
func (p *Producer) VerifyURL(code string) string {
	return strings.TrimRight(p.PublicURL, "/") + "/verify/" + code
}

// Produce lays c out, signs it and stores the PDF.
func (p *Producer) Produce(ctx context.Context, c *fiscal.DocumentContent) (string, int64, error) {
	signed, err := p.Signed(c)
	if err != nil {
		return "", 0, err
	}
	return p.Blobs.Put(ctx, bytes.NewReader(signed), MaxSize)
}

// Signed returns the signed PDF of c without storing it.
func (p *Producer) Signed(c *fiscal.DocumentContent) ([]byte, error) {
	if (p.Signer == nil && p.PAdES == nil) || p.Blobs == nil {
		return nil, errors.New("documents: signer and blob store are required")
	}
	doc, err := Compose(c, p.VerifyURL(c.VerificationCode))
	if err != nil {
		return nil, err
	}
	raw, err := pdf.Render(doc)
	if err != nil {
		return nil, fiscal.Internal(err, "render document")
	}
	info := pdf.SignInfo{
		Name:     c.Municipality.Name + " - " + c.Municipality.Department,
		Reason:   doc.Title + " nr. " + c.Number,
		Location: c.Municipality.Name,
		Time:     c.IssuedAt,
	}
	var signed []byte
	if p.PAdES != nil {
		signed, err = p.PAdES.Sign(raw, info)
	} else {
		signed, err = p.Signer.Sign(raw, info)
	}
	if err != nil {
		return nil, fiscal.Internal(err, "sign document")
	}
	return signed, nil
}

// bucharest is the zone of the documents' dates.
var bucharest = func() *time.Location {
	l, err := time.LoadLocation("Europe/Bucharest")
	if err != nil {
		return time.FixedZone("EET", 2*3600)
	}
	return l
}()

func day(d civil.Date) time.Time { return d.In(bucharest) }

func date(d civil.Date) string { return day(d).Format("02.01.2006") }

// Compose lays c out as a pdf.Document with verifyURL in its QR code.
func Compose(c *fiscal.DocumentContent, verifyURL string) (pdf.Document, error) {
	var doc pdf.Document
	switch {
	case c.Type == fiscal.DocReceipt && c.Receipt != nil:
		d, err := payments.ReceiptDocument(c.Receipt)
		if err != nil {
			return d, err
		}
		doc = d
		doc.Municipality = issuer(c)
		doc.Body = append(doc.Body, pdf.Section{Blocks: []pdf.Block{pdf.Paragraph(
			"Chitanța este semnată electronic de " + c.Municipality.Name + "; autenticitatea se verifică la adresa de mai jos.")}})
	case c.Type == fiscal.DocFiscalClearance && c.Clearance != nil:
		doc = clearance(c)
	case (c.Type == fiscal.DocVehicleRegistration || c.Type == fiscal.DocVehicleDeregistration) && c.Vehicle != nil:
		doc = vehicle(c)
	case c.Type == fiscal.DocTaxDecision && c.Decision != nil:
		doc = decision(c)
	default:
		return doc, fmt.Errorf("documents: no content for a %q document", c.Type)
	}
	doc.Municipality = issuer(c)
	doc.Number = c.Number
	doc.IssuedOn = day(c.IssuedOn)
	if c.ValidUntil != nil {
		doc.ValidUntil = day(*c.ValidUntil)
	}
	doc.GeneratedAt = c.IssuedAt
	if c.SignerName != "" || c.SignerRole != "" {
		doc.SignerName, doc.SignerRole = c.SignerName, c.SignerRole
	}
	doc.VerifyURL = verifyURL
	return doc, nil
}

func issuer(c *fiscal.DocumentContent) pdf.Municipality {
	return pdf.Municipality{Name: c.Municipality.Name, Department: c.Municipality.Department, Address: c.Municipality.Address}
}

func holder(h fiscal.DocumentHolder) []string {
	label := "Nume și prenume"
	if h.Kind == fiscal.Company {
		label = "Denumire"
	}
	out := []string{label + ": " + h.Name}
	if h.Ident != "" {
		out = append(out, h.Ident)
	}
	if h.Address != "" {
		label := "Domiciliul fiscal"
		if h.Kind == fiscal.Company {
			label = "Sediul"
		}
		out = append(out, label+": "+h.Address)
	}
	return out
}

// TaxNames are the Romanian names of the taxes on documents.
var TaxNames = map[string]string{
	"vehicle":  "Impozit pe mijloacele de transport",
	"building": "Impozit pe clădiri",
	"land":     "Impozit pe teren",
}

func taxName(taxType, kind string) string {
	if kind == fiscal.DebtFine {
		return "Amenzi"
	}
	if n, ok := TaxNames[taxType]; ok {
		return n
	}
	return taxType
}

func clearance(c *fiscal.DocumentContent) pdf.Document {
	cl := c.Clearance
	doc := pdf.Document{
		Title:      fiscal.DocumentTitles[fiscal.DocFiscalClearance],
		LegalBasis: "art. 158-159 din Legea nr. 207/2015 privind Codul de procedură fiscală; Codul fiscal, Titlul IX",
		Holder:     holder(c.Holder),
	}
	intro := fmt.Sprintf("Se atestă că, la data de %s, contribuabilul", date(cl.AsOf))
	if len(cl.Groups) == 0 {
		doc.Body = append(doc.Body, pdf.Section{
			Heading: "Obligații fiscale exigibile",
			Blocks: []pdf.Block{pdf.Paragraph(intro + " nu figurează cu obligații fiscale restante față de bugetul local al " +
				c.Municipality.Name + " (impozite, taxe, majorări de întârziere, amenzi).")},
		})
	} else {
		doc.Body = append(doc.Body, pdf.Section{
			Heading: "Obligații fiscale exigibile",
			Blocks: []pdf.Block{pdf.Paragraph(intro + " figurează în evidența fiscală cu următoarele obligații de plată exigibile " +
				"(scadente și neachitate, cu majorările de întârziere calculate până la această dată), pe impozite și coduri bugetare:")},
		})
		cols := []pdf.Column{
			{Header: "Anul", Width: 0.8, Align: pdf.AlignCenter},
			{Header: "Rata", Width: 0.7, Align: pdf.AlignCenter},
			{Header: "Scadența", Width: 1.4, Align: pdf.AlignCenter},
			{Header: "Debit restant (lei)", Width: 1.6, Align: pdf.AlignRight},
			{Header: "Majorări (lei)", Width: 1.5, Align: pdf.AlignRight},
			{Header: "Total (lei)", Width: 1.5, Align: pdf.AlignRight},
		}
		for _, g := range cl.Groups {
			t := pdf.Table{Columns: cols}
			for _, l := range g.Lines {
				rate := "-"
				if l.Installment > 0 {
					rate = fmt.Sprint(l.Installment)
				}
				t.Rows = append(t.Rows, []string{fmt.Sprint(l.Year), rate, date(l.DueDate), l.Principal.String(), l.LateFees.String(), (l.Principal + l.LateFees).String()})
			}
			t.Total = []string{"Total", "", "", g.Principal.String(), g.LateFees.String(), g.Total.String()}
			doc.Body = append(doc.Body, pdf.Section{
				Heading: fmt.Sprintf("%s — cod bugetar %s", taxName(g.TaxType, g.Kind), g.BudgetCode),
				Blocks:  []pdf.Block{t},
			})
		}
		doc.Body = append(doc.Body, pdf.Section{Blocks: []pdf.Block{pdf.Paragraph(
			fmt.Sprintf("Total obligații fiscale exigibile: %s lei.", cl.Total))}})
	}
	var notes []string
	if cl.Credit > 0 {
		notes = append(notes, fmt.Sprintf("Contribuabilul are în cont sume plătite în plus de %s lei, care pot fi compensate sau restituite la cerere.", cl.Credit))
	}
	notes = append(notes, fmt.Sprintf("Prezentul certificat este valabil %d de zile calendaristice de la data eliberării, până la %s inclusiv.",
		fiscal.ClearanceValidityDays, date(*c.ValidUntil)))
	if cl.Purpose != "" {
		notes = append(notes, "Certificatul s-a eliberat în vederea: "+cl.Purpose+".")
	}
	if c.CaseNumber != "" {
		notes = append(notes, "Eliberat la cererea nr. "+c.CaseNumber+".")
	}
	doc.Body = append(doc.Body, pdf.Section{Heading: "Mențiuni", Blocks: []pdf.Block{pdf.Paragraph(strings.Join(notes, "\n"))}})
	return doc
}

// Names of the vehicle register's values on documents.
var (
	categoryNames = map[string]string{
		"car": "autoturism", "motorcycle": "motocicletă, tricicletă sau cvadriciclu", "bus": "autobuz, autocar sau microbuz",
		"light_goods": "alt vehicul cu masa totală de până la 12 t", "tractor": "tractor înmatriculat", "truck": "autovehicul de transport marfă de cel puțin 12 t",
		"trailer": "remorcă, semiremorcă sau rulotă", "boat": "mijloc de transport pe apă",
	}
	propulsionNames = map[string]string{"combustion": "motor cu ardere internă", "hybrid": "hibrid", "electric": "electric"}
)

func named(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}

func vehicleRows(v *fiscal.Vehicle) [][]string {
	rows := [][]string{
		{"Categoria", named(categoryNames, v.Category)},
		{"Număr de identificare (VIN)", v.VIN},
	}
	if v.Plate != "" {
		rows = append(rows, []string{"Număr de înmatriculare", v.Plate})
	}
	if v.EngineCC > 0 {
		rows = append(rows, []string{"Capacitate cilindrică", fmt.Sprintf("%d cm³", v.EngineCC)})
	}
	if v.EmissionClass != "" {
		rows = append(rows, []string{"Norma de poluare", strings.ToUpper(strings.Replace(v.EmissionClass, "euro", "Euro ", 1))})
	}
	if v.Propulsion != "" {
		rows = append(rows, []string{"Propulsie", named(propulsionNames, v.Propulsion)})
	}
	rows = append(rows, []string{"Data dobândirii", date(v.AcquiredOn)})
	return rows
}

func vehicle(c *fiscal.DocumentContent) pdf.Document {
	vc := c.Vehicle
	v := &vc.Vehicle
	doc := pdf.Document{
		Title:      fiscal.DocumentTitles[c.Type],
		LegalBasis: "art. 468-472 din Legea nr. 227/2015 privind Codul fiscal; HG nr. 1/2016 (formularele ITL-005 și ITL-016)",
		Holder:     holder(c.Holder),
	}
	table := pdf.Table{Columns: []pdf.Column{{Header: "Date despre mijlocul de transport", Width: 2}, {Header: "", Width: 3}}, Rows: vehicleRows(v)}
	var text []string
	if c.Type == fiscal.DocVehicleRegistration {
		text = append(text, fmt.Sprintf("Se atestă că mijlocul de transport descris mai jos a fost înregistrat în evidența fiscală a %s pe numele contribuabilului, "+
			"cu data dobândirii %s. Impozitul se datorează începând cu 1 ianuarie %d (art. 471 din Codul fiscal).",
			c.Municipality.Name, date(v.AcquiredOn), v.TaxedFromYear))
	} else {
		disposed := ""
		if vc.DisposedOn != nil {
			disposed = date(*vc.DisposedOn)
		}
		text = append(text, fmt.Sprintf("Se atestă că mijlocul de transport descris mai jos a fost scos din evidența fiscală a %s începând cu data de %s. "+
			"Impozitul nu se mai datorează începând cu 1 ianuarie %d.", c.Municipality.Name, disposed, vc.LastTaxedYear+1))
		if vc.Reason != "" {
			text = append(text, "Motivul: "+vc.Reason+".")
		}
		if vc.DebtsCancelled > 0 {
			text = append(text, fmt.Sprintf("Au fost anulate %d obligații de plată pentru anii următori.", vc.DebtsCancelled))
		}
	}
	doc.Body = []pdf.Section{{Blocks: []pdf.Block{pdf.Paragraph(strings.Join(text, "\n")), table}}}
	if c.CaseNumber != "" {
		doc.Body = append(doc.Body, pdf.Section{Heading: "Mențiuni", Blocks: []pdf.Block{pdf.Paragraph("Emisă în soluționarea cererii nr. " + c.CaseNumber + ".")}})
	}
	return doc
}

func decision(c *fiscal.DocumentContent) pdf.Document {
	d := c.Decision
	doc := pdf.Document{
		Title:      fiscal.DocumentTitles[fiscal.DocTaxDecision],
		LegalBasis: "art. 93-95 din Legea nr. 207/2015 privind Codul de procedură fiscală; art. 453-495 din Legea nr. 227/2015 privind Codul fiscal",
		Holder:     holder(c.Holder),
	}
	what := taxName(d.TaxType, "")
	intro := fmt.Sprintf("Prin prezenta decizie se stabilește %s datorat pentru anul %d", strings.ToLower(what[:1])+what[1:], d.Year)
	if d.Vehicle != nil {
		intro += fmt.Sprintf(", pentru mijlocul de transport cu VIN %s", d.Vehicle.VIN)
		if d.Vehicle.Plate != "" {
			intro += " (" + d.Vehicle.Plate + ")"
		}
	} else if d.Object != "" {
		intro += ", pentru " + d.Object
	}
	intro += fmt.Sprintf(", în sumă de %s lei, cod bugetar %s.", d.Annual, d.BudgetCode)
	calcTable := pdf.Table{Columns: []pdf.Column{{Header: "Explicație", Width: 4}, {Header: "Temei legal", Width: 2.6}, {Header: "Valoare", Width: 1.4, Align: pdf.AlignRight}}}
	for _, l := range d.Lines {
		amount := ""
		if l.Amount != 0 {
			amount = l.Amount.String()
		}
		calcTable.Rows = append(calcTable.Rows, []string{l.Label, l.LegalBasis, amount})
	}
	calcTable.Total = []string{"Impozit anual datorat (lei)", "", d.Annual.String()}
	inst := pdf.Table{Columns: []pdf.Column{{Header: "Rata", Width: 1, Align: pdf.AlignCenter}, {Header: "Termen de plată", Width: 2, Align: pdf.AlignCenter}, {Header: "Suma (lei)", Width: 2, Align: pdf.AlignRight}}}
	var sum money.Bani
	for i, in := range d.Installments {
		inst.Rows = append(inst.Rows, []string{fmt.Sprint(i + 1), date(in.DueDate), in.Amount.String()})
		sum += in.Amount
	}
	inst.Total = []string{"Total", "", sum.String()}
	doc.Body = []pdf.Section{
		{Blocks: []pdf.Block{pdf.Paragraph(intro)}},
		{Heading: "Modul de calcul", Blocks: []pdf.Block{calcTable}},
		{Heading: "Termene de plată", Blocks: []pdf.Block{inst}},
	}
	var notes []string
	if d.Bonus > 0 && len(d.Installments) > 0 {
		notes = append(notes, fmt.Sprintf("Pentru plata integrală a impozitului pe întregul an până la %s se acordă o bonificație de %s lei.",
			date(d.Installments[0].DueDate), d.Bonus))
	}
	notes = append(notes, "Pentru neplata la termen se datorează majorări de întârziere de 1% pentru fiecare lună sau fracțiune de lună (art. 183 din Codul de procedură fiscală).",
		"Împotriva prezentei decizii se poate formula contestație în termen de 45 de zile de la comunicare, la organul fiscal emitent (art. 268-270 din Codul de procedură fiscală).")
	if c.CaseNumber != "" {
		notes = append(notes, "Emisă în soluționarea cererii nr. "+c.CaseNumber+".")
	}
	doc.Body = append(doc.Body, pdf.Section{Heading: "Mențiuni", Blocks: []pdf.Block{pdf.Paragraph(strings.Join(notes, "\n"))}})
	return doc
}
