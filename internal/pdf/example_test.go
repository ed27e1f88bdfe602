package pdf_test

import (
	"log"
	"time"

	"fiscald/internal/pdf"
)

// A fiscal certificate rendered and signed with the demo PKI.
func Example() {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	doc := pdf.Document{
		Municipality: pdf.Municipality{Name: "Municipiul Timișoara", Department: "Direcția Fiscală"},
		Title:        "Certificat de atestare fiscală",
		Number:       "CAF-2026-000123",
		IssuedOn:     now,
		ValidUntil:   now.AddDate(0, 0, 30),
		LegalBasis:   "art. 159 din Legea nr. 207/2015 privind Codul de procedură fiscală",
		Holder:       []string{"Popescu Ion, CNP 1800101350011"},
		Body: []pdf.Section{{
			Heading: "Obligații fiscale exigibile",
			Blocks: []pdf.Block{
				pdf.Table{
					Columns: []pdf.Column{{Header: "Obligația", Width: 4}, {Header: "Suma (lei)", Align: pdf.AlignRight}},
					Rows:    [][]string{{"Impozit pe mijloacele de transport, 2026", "198.00"}},
					Total:   []string{"Total", "198.00"},
				},
			},
		}},
		SignerName: "Ion Ionescu",
		SignerRole: "Director executiv",
		VerifyURL:  "https://fiscal.example.ro/verify/7Q2K-MX4P-9ZRD",
	}
	unsigned, err := pdf.Render(doc)
	if err != nil {
		log.Fatal(err)
	}
	signer, err := pdf.EnsureDemoPKI("/var/lib/fiscald/pki", "Municipiul Timișoara", now)
	if err != nil {
		log.Fatal(err)
	}
	signed, err := signer.Sign(unsigned, pdf.SignInfo{
		Name: "Direcția Fiscală", Reason: doc.Title + " nr. " + doc.Number, Location: "Timișoara", Time: now,
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = signed // store it, serve it, hash it for the verification page
}
