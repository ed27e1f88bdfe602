package pdf

import (
	"strconv"
	"time"

	"fiscald/internal/money"
)

// fixedDay is the clock of every test document.
var fixedDay = time.Date(2026, time.March, 2, 10, 30, 0, 0, time.UTC)

// sampleCertificate is a one-page certificat de atestare fiscală with debts.
func sampleCertificate() Document {
	debts := []struct {
		what, budget string
		amount       money.Bani
	}{
		{"Impozit pe clădiri — persoane fizice, 2026", "07.01.01", money.Lei(412) + 50},
		{"Impozit pe mijloacele de transport, 2026", "16.02.02", money.Lei(198)},
		{"Majorări de întârziere", "07.01.01", 1234},
		{"Amendă — circulație pe drumurile publice (Ș Ț ș ț)", "35.01.02", money.Lei(1450)},
	}
	var rows [][]string
	var total money.Bani
	for i, d := range debts {
		rows = append(rows, []string{itoa(i + 1), d.what, d.budget, d.amount.String()})
		total += d.amount
	}
	return Document{
		Municipality: Municipality{
			Name:       "Municipiul Timișoara",
			Department: "Direcția Fiscală",
			Address:    "Bulevardul Constantin Diaconovici Loga nr. 1, 300030 Timișoara, județul Timiș · CUI 14756536",
		},
		Title:      "Certificat de atestare fiscală",
		Number:     "CAF-2026-000123",
		IssuedOn:   fixedDay,
		ValidUntil: fixedDay.AddDate(0, 0, 30),
		LegalBasis: "art. 159 din Legea nr. 207/2015 privind Codul de procedură fiscală",
		Holder: []string{
			"Nume: Ștefănescu Țărână Ioana-Ăna",
			"CNP: 2850315350011",
			"Domiciliu: Str. Învățătorului nr. 7, Timișoara",
		},
		Body: []Section{
			{
				Heading: "Obligații fiscale exigibile",
				Blocks: []Block{
					Paragraph("Se atestă că, la data eliberării, contribuabilul figurează în evidențele fiscale ale Direcției Fiscale cu următoarele obligații de plată exigibile către bugetul local (ș ț Ș Ț ă â î):"),
					Table{
						Columns: []Column{
							{Header: "Nr.", Width: 0.5, Align: AlignCenter},
							{Header: "Obligația", Width: 5},
							{Header: "Cod bugetar", Width: 1.4, Align: AlignCenter},
							{Header: "Suma (lei)", Width: 1.5, Align: AlignRight},
						},
						Rows:  rows,
						Total: []string{"", "Total de plată", "", total.String()},
					},
				},
			},
			{
				Heading: "Mențiuni",
				Blocks: []Block{
					Paragraph("Prezentul certificat de atestare fiscală este valabil 30 de zile de la data eliberării și se eliberează la cererea titularului."),
				},
			},
		},
		SignerName: "Ec. Mărioara Îndrăgostită",
		SignerRole: "Director executiv, Direcția Fiscală",
		VerifyURL:  "https://fiscal.primariatm.ro/verify/7Q2K-MX4P-9ZRD",
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
