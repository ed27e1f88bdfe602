package pdf

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestRenderText(t *testing.T) {
	pdf, err := Render(sampleCertificate())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("output does not start with %%PDF-: %q", pdf[:min(len(pdf), 16)])
	}
	text := pdfText(t, pdf)
	for _, want := range []string{
		"Direcția Fiscală",
		"Municipiul Timișoara",
		"certificat de atestare fiscală",
		"Certificat de atestare fiscală",
		"Nr. CAF-2026-000123 din 02.03.2026",
		"Valabil până la 01.04.2026",
		"ș ț Ș Ț ă â î",
		"Ștefănescu Țărână Ioana-Ăna",
		"Str. Învățătorului",
		"art. 159 din Legea nr. 207/2015",
		"412.50", "198.00", "12.34", "1450.00", "2072.84",
		"Director executiv, Direcția Fiscală",
		"https://fiscal.primariatm.ro/verify/7Q2K-MX4P-9ZRD",
		"pagina 1 din 1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("extracted text lacks %q", want)
		}
	}
	// Cedilla forms (ş ţ) are the wrong letters; none may come out.
	if strings.ContainsAny(text, "şţŞŢ") {
		t.Error("extracted text has s/t with cedilla instead of comma below")
	}

	golden := filepath.Join("testdata", "certificate.golden.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/pdf/ -update to create it)", err)
	}
	if text != string(want) {
		t.Errorf("extracted text differs from %s (rerun with -update if intended):\n%s", golden, lineDiff(string(want), text))
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	a, err := Render(sampleCertificate())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(sampleCertificate())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of the same document differ")
	}
	if !bytes.Contains(a, []byte("/CreationDate (D:20260302103000")) {
		t.Error("creation date is not the document's GeneratedAt/IssuedOn")
	}
}

func TestRenderPageBreaks(t *testing.T) {
	doc := sampleCertificate()
	tbl := doc.Body[0].Blocks[1].(Table)
	for i := 0; i < 120; i++ {
		tbl.Rows = append(tbl.Rows, []string{itoa(i + 5), "Impozit pe teren intravilan, an fiscal anterior — rând lung care trebuie să se rupă pe două linii în celulă", "07.02.02", "10.00"})
	}
	doc.Body[0].Blocks[1] = tbl
	pdf, err := Render(doc)
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, pdf)
	pages := strings.Count(text, "\f")
	if pages < 3 {
		t.Fatalf("got %d pages, want the long table to span at least 3", pages)
	}
	// The column headers repeat on every page the table reaches.
	if n := strings.Count(text, "Cod bugetar"); n < pages {
		t.Errorf("table header printed %d times on %d pages", n, pages)
	}
	if !strings.Contains(text, "din "+itoa(pages)) {
		t.Errorf("footer lacks the page count %d", pages)
	}
}

func TestRenderRejectsInvalid(t *testing.T) {
	cases := map[string]func(*Document){
		"no title":  func(d *Document) { d.Title = "" },
		"no number": func(d *Document) { d.Number = " " },
		"no date":   func(d *Document) { d.IssuedOn = time.Time{} },
		"short row": func(d *Document) {
			tbl := d.Body[0].Blocks[1].(Table)
			tbl.Rows = append(tbl.Rows, []string{"x"})
			d.Body[0].Blocks[1] = tbl
		},
		"short total": func(d *Document) {
			tbl := d.Body[0].Blocks[1].(Table)
			tbl.Total = []string{"Total"}
			d.Body[0].Blocks[1] = tbl
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			doc := sampleCertificate()
			mutate(&doc)
			_, err := Render(doc)
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("Render: %v, want ErrInvalidDocument", err)
			}
		})
	}
}

func TestRenderMinimal(t *testing.T) {
	doc := Document{
		Municipality: Municipality{Name: "Comuna Șag"},
		Title:        "Înștiințare",
		Number:       "1",
		IssuedOn:     fixedDay,
	}
	pdf, err := Render(doc)
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, pdf)
	for _, want := range []string{"Comuna Șag", "Înștiințare", "Nr. 1 din 02.03.2026"} {
		if !strings.Contains(text, want) {
			t.Errorf("extracted text lacks %q", want)
		}
	}
	if strings.Contains(text, "Verificare") || strings.Contains(text, "Valabil") {
		t.Error("optional parts printed though empty")
	}
}

// lineDiff lists the lines that differ between want and got.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + itoa(i+1) + ":\n  want " + wl + "\n  got  " + gl + "\n")
		}
	}
	return b.String()
}
