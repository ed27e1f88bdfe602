package documents

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/blob"
	"fiscald/internal/civil"
	"fiscald/internal/money"
	"fiscald/internal/pdf"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixedNow is the clock of every test document.
var fixedNow = time.Date(2026, 5, 8, 9, 30, 0, 0, time.UTC)

func producer(t testing.TB) *Producer {
	t.Helper()
	s, err := pdf.EnsureDemoPKI(t.TempDir(), "Municipiul Timișoara", fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	b, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &Producer{Signer: s, Blobs: b, PublicURL: "https://fiscal.primariatm.ro/"}
}

func base(docType, number string) *fiscal.DocumentContent {
	today := fiscal.LocalDate(fixedNow)
	return &fiscal.DocumentContent{
		Type: docType, Number: number, IssuedAt: fixedNow, IssuedOn: today,
		VerificationCode: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
		Municipality: fiscal.DocumentIssuer{Name: "Municipiul Timișoara", Department: "Direcția Fiscală",
			Address: "Bulevardul Constantin Diaconovici Loga nr. 1, 300030 Timișoara, județul Timiș"},
		Holder:     fiscal.DocumentHolder{Name: "Ștefănescu Țărână Ioana", Kind: fiscal.Individual, Ident: "CNP: 2850615350041", Address: "Str. Învățătorului nr. 7, Timișoara"},
		SignerName: "Dan Mureșan", SignerRole: "Șef serviciu, Direcția Fiscală",
		CaseNumber: "TM-2026-000042",
	}
}

var car = fiscal.Vehicle{ID: 7, VIN: "WVWZZZ1JZXW000001", Plate: "TM-01-ȘȚĂ", Category: "car", EngineCC: 1598, EmissionClass: "euro6",
	Propulsion: "combustion", AcquiredOn: civil.New(2026, 4, 20), TaxedFromYear: 2027}

// samples are one document of each type.
func samples() map[string]*fiscal.DocumentContent {
	out := map[string]*fiscal.DocumentContent{}

	c := base(fiscal.DocFiscalClearance, "CAF-2026-000001")
	until := c.IssuedOn.AddDays(fiscal.ClearanceValidityDays)
	c.ValidUntil = &until
	c.Clearance = &fiscal.ClearanceContent{AsOf: c.IssuedOn, Purpose: "vânzarea autoturismului", Groups: []fiscal.ClearanceGroup{
		{TaxType: "building", Kind: fiscal.DebtPrincipal, BudgetCode: "07.02.01.01", Principal: money.Lei(258), LateFees: money.Lei(6), Total: money.Lei(264),
			Lines: []fiscal.ClearanceLine{{Year: 2026, Installment: 1, DueDate: civil.New(2026, 3, 31), Principal: money.Lei(258), LateFees: money.Lei(6)}}},
		{TaxType: "vehicle", Kind: fiscal.DebtPrincipal, BudgetCode: "16.02.02.01", Principal: money.Lei(198), LateFees: money.Lei(4), Total: money.Lei(202),
			Lines: []fiscal.ClearanceLine{
				{Year: 2025, Installment: 2, DueDate: civil.New(2025, 9, 30), Principal: money.Lei(99), LateFees: money.Lei(2)},
				{Year: 2026, Installment: 1, DueDate: civil.New(2026, 3, 31), Principal: money.Lei(99), LateFees: money.Lei(2)}}},
		{TaxType: "other", Kind: fiscal.DebtFine, BudgetCode: "35.02.01.02", Principal: money.Lei(1450), Total: money.Lei(1450),
			Lines: []fiscal.ClearanceLine{{Year: 2026, DueDate: civil.New(2026, 4, 15), Principal: money.Lei(1450)}}},
	}, Total: money.Lei(1916)}
	out["clearance"] = c

	n := base(fiscal.DocFiscalClearance, "CAF-2026-000002")
	n.ValidUntil = &until
	n.CaseNumber = ""
	n.Clearance = &fiscal.ClearanceContent{AsOf: n.IssuedOn}
	out["clearance-none"] = n

	r := base(fiscal.DocVehicleRegistration, "DIF-2026-000001")
	r.Vehicle = &fiscal.VehicleContent{Vehicle: car}
	out["vehicle-registration"] = r

	d := base(fiscal.DocVehicleDeregistration, "DSF-2026-000001")
	disposed := civil.New(2026, 5, 4)
	d.Vehicle = &fiscal.VehicleContent{Vehicle: car, DisposedOn: &disposed, Reason: "vânzare", LastTaxedYear: 2026, DebtsCancelled: 2}
	out["vehicle-deregistration"] = d

	t := base(fiscal.DocTaxDecision, "DI-2026-000001")
	t.Decision = &fiscal.DecisionContent{TaxType: "vehicle", Year: 2027, BudgetCode: "16.02.02.01", Annual: money.Lei(198), Bonus: money.Lei(20), Vehicle: &car,
		Lines: []calc.Line{
			{Label: "Grupe de 200 cm³: 1598 cm³ → 8 grupe", LegalBasis: "Codul fiscal art. 470 alin. (2)"},
			{Label: "Cota pentru autoturisme ≤ 1600 cm³, Euro 6: 16,50 lei/grupă → 8 × 16,50", LegalBasis: "Codul fiscal art. 470 alin. (2)", Amount: money.Lei(132)},
			{Label: "Majorare prin hotărârea consiliului local: +50%", LegalBasis: "Codul fiscal art. 489", Amount: money.Lei(198)},
		},
		Installments: []calc.Installment{{DueDate: civil.New(2027, 3, 31), Amount: money.Lei(99)}, {DueDate: civil.New(2027, 9, 30), Amount: money.Lei(99)}}}
	out["tax-decision"] = t

	rc := base(fiscal.DocReceipt, "CASA-2026-000017")
	paidOn := civil.New(2026, 5, 8)
	num := "CASA-2026-000017"
	rc.Receipt = &fiscal.Receipt{Municipality: "Municipiul Timișoara", TaxpayerName: "Ștefănescu Țărână Ioana", TaxpayerIdent: "CNP 2850615350041",
		Payment: &fiscal.Payment{ID: 17, Method: fiscal.MethodCash, Amount: money.Lei(200), PaidOn: &paidOn, ReceiptNumber: &num},
		Lines: []fiscal.ReceiptLine{
			{Debt: fiscal.Debt{Kind: fiscal.DebtPrincipal, TaxType: "vehicle", Year: 2026, Installment: 1, DueDate: civil.New(2026, 3, 31), BudgetCode: "16.02.02.01"}, Amount: money.Lei(99)},
			{Debt: fiscal.Debt{Kind: fiscal.DebtLateFee, TaxType: "vehicle", Year: 2026, Installment: 1, DueDate: civil.New(2026, 5, 8), BudgetCode: "16.02.02.01"}, Amount: money.Lei(2)},
			{Debt: fiscal.Debt{Kind: fiscal.DebtPrincipal, TaxType: "vehicle", Year: 2026, Installment: 2, DueDate: civil.New(2026, 9, 30), BudgetCode: "16.02.02.01"}, Amount: money.Lei(99)},
		}}
	out["receipt"] = rc
	return out
}

func tool(t testing.TB, name string, pdf []byte, args ...string) (string, int) {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found (%v): apt-get install -y poppler-utils", name, err)
	}
	file := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		if a == "{}" {
			args[i] = file
		}
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestDocumentsText renders, signs and extracts each document type and
// compares its text with the golden file; the diacritics and the figures
// must be there.
func TestDocumentsText(t *testing.T) {
	p := producer(t)
	for name, c := range samples() {
		t.Run(name, func(t *testing.T) {
			signed, err := p.Signed(c)
			if err != nil {
				t.Fatal(err)
			}
			text, code := tool(t, "pdftotext", signed, "-layout", "-enc", "UTF-8", "{}", "-")
			if code != 0 {
				t.Fatalf("pdftotext: %s", text)
			}
			text = regexp.MustCompile(`[ \t]+\n`).ReplaceAllString(text, "\n")
			if flat := strings.Join(strings.Fields(text), ""); !strings.Contains(flat, "https://fiscal.primariatm.ro/verify/ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") {
				t.Error("text lacks the verification URL")
			}
			for _, want := range []string{"ș", "ț", "Ș", "Ț", "ă", "î", "â", "Municipiul Timișoara", c.Number, "08.05.2026", "Ștefănescu Țărână Ioana"} {
				if !strings.Contains(text, want) {
					t.Errorf("text lacks %q", want)
				}
			}
			if strings.ContainsAny(text, "şţŞŢ") {
				t.Error("text has s/t with cedilla")
			}
			golden := filepath.Join("testdata", name+".golden.txt")
			if *update {
				if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./documents -update)", err)
			}
			if string(want) != text {
				t.Errorf("text differs from %s (go test ./documents -update rewrites it):\n%s", golden, text)
			}
		})
	}
}

func TestClearanceFigures(t *testing.T) {
	s := samples()
	for name, wants := range map[string][]string{
		"clearance":      {"07.02.01.01", "16.02.02.01", "264.00", "202.00", "1450.00", "Total obligații fiscale exigibile: 1916.00 lei", "07.06.2026", "Amenzi"},
		"clearance-none": {"nu figurează cu obligații fiscale restante", "valabil 30 de zile"},
		"tax-decision":   {"198.00", "Grupe de 200 cm³", "31.03.2027", "99.00", "bonificație de 20.00 lei", "WVWZZZ1JZXW000001"},
	} {
		doc, err := Compose(s[name], "https://x/verify/y")
		if err != nil {
			t.Fatal(err)
		}
		raw, err := pdf.Render(doc)
		if err != nil {
			t.Fatal(err)
		}
		text, _ := tool(t, "pdftotext", raw, "-enc", "UTF-8", "{}", "-")
		text = strings.Join(strings.Fields(text), " ")
		for _, w := range wants {
			if !strings.Contains(text, w) {
				t.Errorf("%s: text lacks %q", name, w)
			}
		}
	}
}

// TestSignedDocumentVerifies: pdfsig accepts a freshly issued document and
// rejects it once one byte changed.
func TestSignedDocumentVerifies(t *testing.T) {
	p := producer(t)
	c := samples()["clearance"]
	sha, size, err := p.Produce(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := p.Blobs.Open(context.Background(), sha)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(rc)
	rc.Close()
	signed := buf.Bytes()
	if int64(len(signed)) != size {
		t.Fatalf("stored %d bytes, reported %d", len(signed), size)
	}
	out, _ := tool(t, "pdfsig", signed, "{}")
	for _, want := range []string{"Signature is Valid", "Total document signed", "adbe.pkcs7.detached"} {
		if !strings.Contains(out, want) {
			t.Errorf("pdfsig lacks %q:\n%s", want, out)
		}
	}
	// A byte of the page's compressed content, inside the signed range.
	i := bytes.Index(signed, []byte("stream\n"))
	if i < 0 {
		t.Fatal("no stream in the PDF")
	}
	bad := bytes.Clone(signed)
	bad[i+20] ^= 0x01
	out, _ = tool(t, "pdfsig", bad, "{}")
	if strings.Contains(out, "Signature is Valid") {
		t.Fatalf("pdfsig accepts a changed document:\n%s", out)
	}
}

func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{"Ana Popescu": "A** P******", "Ștefănescu Ioana-Maria": "Ș********* I****-M****", "SC Ăla SRL": "S* Ă** S**"} {
		if got := fiscal.MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}
