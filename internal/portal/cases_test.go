package portal_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/payments/stripe/stripetest"
)

// Test documents: the smallest files the content check accepts.
var (
	pdfDoc = []byte("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
	pngDoc = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
)

// postMultipart submits a multipart form with files (input name → content).
func (c *client) postMultipart(path string, fields url.Values, files map[string][]byte) page {
	c.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	for name, b := range files {
		fw, _ := w.CreateFormFile(name, strings.TrimPrefix(name, "doc.")+".bin")
		fw.Write(b)
	}
	w.Close()
	req, _ := http.NewRequest("POST", c.s.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

// inFebruary is a clock before the first deadline of 2026 (the bonus is
// still available).
var inFebruary = time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)

func golfForm(tok string) url.Values {
	return url.Values{"_csrf": {tok}, "data.vin": {"WVWZZZAUZHP123456"}, "data.plate": {"TM 12 ABC"}, "data.category": {"car"},
		"data.propulsion": {"combustion"}, "data.engine_cc": {"1598"}, "data.emission_class": {"euro6"},
		"data.acquired_on": {"2025-03-10"}, "data.acquisition_document": {"sale_contract"}}
}

var caseURL = regexp.MustCompile(`^/cases/(\d+)$`)

func TestDeclareReviewSignPay(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		clock.Set(inFebruary)
		s := startSite(t, db, clock)
		ana := s.client()
		ana.register("ana", "2850615350041", "Ana Popescu")

		// Field errors from the server's validation, in Romanian: a bad VIN,
		// a missing document, a file that is not a PDF/JPEG/PNG.
		tok := ana.csrf("/declare/vehicle")
		f := golfForm(tok)
		f.Set("data.vin", "WVWZZZAUZHP12345O")
		p := ana.postMultipart("/declare/vehicle", f, map[string][]byte{"doc.acquisition_document": pdfDoc, "doc.vehicle_identity_card": []byte("just text")})
		if p.Status != 422 {
			t.Fatalf("invalid declaration: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{
			"f-data-vin":                  "VIN-ul nu conține literele I, O sau Q.",
			"f-doc-owner-id":              "Atașați acest document.",
			"f-doc-vehicle-identity-card": "Fișierul nu este PDF, JPEG sau PNG",
		})
		if !strings.Contains(p.Body, `value="TM 12 ABC"`) {
			t.Error("the form does not keep the values typed")
		}
		// The same in English.
		ana.get("/declare/vehicle?lang=en")
		f.Set("_csrf", ana.csrf("/declare/vehicle"))
		p = ana.postMultipart("/declare/vehicle", f, nil)
		checkFieldErrors(t, p.Body, map[string]string{"f-data-vin": "A VIN does not contain the letters I, O or Q.", "f-doc-owner-id": "Attach this document."})
		ana.get("/declare/vehicle?lang=ro")

		// A valid declaration with its three documents.
		p = ana.postMultipart("/declare/vehicle", golfForm(ana.csrf("/declare/vehicle")),
			map[string][]byte{"doc.acquisition_document": pdfDoc, "doc.vehicle_identity_card": pngDoc, "doc.owner_id": pdfDoc})
		m := caseURL.FindStringSubmatch(p.Location)
		if p.Status != 303 || m == nil {
			t.Fatalf("declaration: %d %q %s", p.Status, p.Location, p.Body)
		}
		casePath := p.Location
		p = ana.get(casePath)
		for _, want := range []string{"Cererea a fost înregistrată.", `id="case-status">Depusă`, "Termen de răspuns", "zile lucrătoare rămase", "Impozitul se datorează începând cu anul 2026.", "198,00 lei"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("case page lacks %q", want)
			}
		}
		if strings.Contains(p.Body, `id="docs-missing"`) {
			t.Error("documents shown as missing")
		}

		// Who may not open it: anonymous → sign in; another taxpayer → 404.
		if p := s.client().get(casePath); p.Status != 303 || !strings.HasPrefix(p.Location, "/login") {
			t.Fatalf("anonymous case page: %d %s", p.Status, p.Location)
		}
		bob := s.client()
		bob.register("bob", "1850315350012", "Bob Ionescu")
		if p := bob.get(casePath); p.Status != 404 {
			t.Fatalf("another taxpayer's case: %d", p.Status)
		}
		if p := bob.get(casePath + "/documents/1"); p.Status != 404 {
			t.Fatalf("another taxpayer's document: %d", p.Status)
		}
		if p := ana.get("/staff/queue"); p.Status != 403 {
			t.Fatalf("taxpayer on the queue: %d", p.Status)
		}

		// The officer: queue, case page, request for information.
		ioana := s.client()
		ioana.login("ioana", staffPassword("ioana"))
		q := ioana.get("/staff/queue")
		if q.Status != 200 || !strings.Contains(q.Body, `href="`+casePath+`"`) {
			t.Fatalf("queue: %d", q.Status)
		}
		if p := ioana.get("/staff/queue?sla_state=breached"); strings.Contains(p.Body, `href="`+casePath+`"`) {
			t.Error("the sla_state filter does not filter")
		}
		if p := ioana.get("/staff/queue?status=bogus"); p.Status != 422 {
			t.Errorf("bad status filter: %d", p.Status)
		}
		sc := ioana.get(casePath)
		for _, want := range []string{"Verificări automate", "VIN valid", "Codul fiscal art. 470", "Ana Popescu", `id="review-form"`, "/documents/"} {
			if !strings.Contains(sc.Body, want) {
				t.Errorf("staff case page lacks %q", want)
			}
		}
		if p := ioana.get(casePath + "/documents/1"); p.Status != 200 || !strings.HasPrefix(p.Body, "%PDF") {
			t.Fatalf("officer download: %d", p.Status)
		} else if cd := p.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="`) || !strings.HasSuffix(cd, `-1.pdf"`) || p.Header.Get("X-Content-Type-Options") != "nosniff" {
			// An uploaded PDF is saved, never opened in the staff's browser.
			t.Errorf("officer download served as %q, nosniff %q", cd, p.Header.Get("X-Content-Type-Options"))
		}
		tok = ioana.csrf(casePath)
		p = ioana.post(casePath+"/review", url.Values{"_csrf": {tok}, "decision": {"request_info"}})
		if p.Status != 422 {
			t.Fatalf("request_info without a reason: %d", p.Status)
		}
		checkTextareaError(t, p.Body, "f-comment", "Scrieți motivul: contribuabilul îl citește.")
		p = ioana.post(casePath+"/review", url.Values{"_csrf": {tok}, "decision": {"request_info"}, "comment": {"Fotografia contractului nu se citește."}})
		if p.Status != 303 {
			t.Fatalf("request_info: %d %s", p.Status, p.Body)
		}

		// The taxpayer answers with a clearer photo; the clock resumes.
		p = ana.get(casePath)
		if !strings.Contains(p.Body, `id="respond-form"`) || !strings.Contains(p.Body, "Fotografia contractului nu se citește.") {
			t.Fatal("the taxpayer sees no request for information")
		}
		tok = ana.csrf(casePath)
		p = ana.postMultipart(casePath+"/respond", url.Values{"_csrf": {tok}, "comment": {"Am atașat o fotografie mai clară."}, "kind": {"acquisition_document"}},
			map[string][]byte{"file": pngDoc})
		if p.Status != 303 {
			t.Fatalf("respond: %d %s", p.Status, p.Body)
		}
		if p := ana.get(casePath); !strings.Contains(p.Body, `id="case-status">Depusă`) {
			t.Fatal("after the answer the case is not submitted again")
		}

		// Review approve; the signer's queue; a rejection without a reason; approval.
		p = ioana.post(casePath+"/review", url.Values{"_csrf": {ioana.csrf(casePath)}, "decision": {"approve"}})
		if p.Status != 303 {
			t.Fatalf("approve: %d %s", p.Status, p.Body)
		}
		if p := ioana.post(casePath+"/sign", url.Values{"_csrf": {ioana.csrf(casePath)}, "decision": {"approve"}}); p.Status != 403 {
			t.Fatalf("officer signing: %d", p.Status)
		}
		dan := s.client()
		dan.login("dan", staffPassword("dan"))
		if p := dan.get("/staff/sign"); !strings.Contains(p.Body, `href="`+casePath+`"`) {
			t.Fatal("the case is not in the signer's queue")
		}
		tok = dan.csrf(casePath)
		p = dan.post(casePath+"/sign", url.Values{"_csrf": {tok}, "decision": {"reject"}})
		if p.Status != 422 {
			t.Fatalf("reject without a reason: %d", p.Status)
		}
		p = dan.post(casePath+"/sign?lang=en", url.Values{"_csrf": {tok}, "decision": {"approve"}})
		if p.Status != 303 {
			t.Fatalf("sign: %d %s", p.Status, p.Body)
		}

		// The taxpayer sees the vehicle, the debt and the bonus until 31 March.
		acc := ana.get("/account")
		for _, want := range []string{"Aprobată", "TM12ABC", "Impozit pe mijloacele de transport", "31 martie 2026", "198,00 lei",
			"Bonificație (Impozit pe mijloacele de transport, 2026): dacă plătiți integral până la 31 martie 2026, primiți 20,00 lei (plătiți 178,00 lei)."} {
			if !strings.Contains(acc.Body, want) {
				t.Errorf("account lacks %q", want)
			}
		}
		if !strings.Contains(acc.Body, "<td>TM12ABC</td>") {
			t.Error("the debts do not name the vehicle by its plate")
		}
		if !strings.Contains(acc.Body, `<strong id="total-due">198,00 lei</strong>`) {
			t.Errorf("total due: %s", regexp.MustCompile(`id="total-due">[^<]*`).FindString(acc.Body))
		}
		// The decision and the proof of registration, on the case page.
		cp := ana.get(casePath)
		links := regexp.MustCompile(`href="(/documents/\d+\.pdf)" class="doc-link" data-type="([a-z_]+)"`).FindAllStringSubmatch(cp.Body, -1)
		types := map[string]string{}
		for _, l := range links {
			types[l[2]] = l[1]
		}
		decision := types["tax_decision"]
		if decision == "" || types["vehicle_registration"] == "" {
			t.Fatalf("case documents: %v", links)
		}
		if p := ana.get(decision); p.Status != 200 || !strings.HasPrefix(p.Body, "%PDF") || p.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("decision download: %d %s", p.Status, p.Header.Get("Content-Type"))
		}
		if p := bob.get(decision); p.Status != 404 {
			t.Fatalf("another taxpayer's decision: %d", p.Status)
		}
		if p := s.client().get(decision); p.Status != 303 {
			t.Fatalf("anonymous decision: %d", p.Status)
		}
		// The QR's page: authentic, the holder's name masked.
		code := regexp.MustCompile(`<span class="mono">([A-Z0-9-]+)</span>`).FindStringSubmatch(cp.Body)
		if code == nil {
			t.Fatal("no verification code on the case page")
		}
		vp := s.client().get("/verify/" + code[1])
		if vp.Status != 200 || !strings.Contains(vp.Body, "Document autentic și valabil.") || strings.Contains(vp.Body, "Ana Popescu") {
			t.Fatalf("verify page: %d", vp.Status)
		}
		if p := s.client().get("/verify/AAAA-BBBB-CCCC"); p.Status != 404 || !strings.Contains(p.Body, "Niciun document nu are acest cod") {
			t.Fatalf("unknown code: %d", p.Status)
		}
		// A clearance certificate (it lists what is owed): issued at once.
		p = ana.post("/account/certificate", url.Values{"_csrf": {ana.csrf("/account")}, "purpose": {"vânzare"}})
		if p.Status != 303 || p.Location != "/account#h-documents" {
			t.Fatalf("certificate: %d %s", p.Status, p.Location)
		}
		if acc := ana.get("/account"); !strings.Contains(acc.Body, `data-type="fiscal_clearance"`) || !strings.Contains(acc.Body, "Certificatul a fost emis") {
			t.Fatal("the certificate is not in the account's documents")
		}
		// Card payments not configured: a clear message, no card form.
		p = ana.get("/account/pay")
		if !strings.Contains(p.Body, `id="card-not-configured"`) || strings.Contains(p.Body, "payment-element") {
			t.Fatal("pay page without Stripe")
		}

		// In May the first instalment is late: late fees as of today.
		clock.Set(time.Date(2026, 5, 8, 9, 0, 0, 0, time.UTC))
		ana, ioana, bob = s.client(), s.client(), s.client() // the sessions of February have expired
		ana.login("ana", "parola-lunga-1")
		bob.login("bob", "parola-lunga-1")
		ioana.login("ioana", staffPassword("ioana"))
		acc = ana.get("/account?lang=en")
		if acc.Status != 200 {
			t.Fatalf("account in May: %d", acc.Status)
		}
		if strings.Contains(acc.Body, "Bonus (") || strings.Contains(acc.Body, `id="total-due">198.00 lei`) {
			t.Error("in May: still a bonus, or no late fees")
		}

		// The cash desk: the officer records 100 lei; the receipt.
		p = ioana.get("/staff/cash?q=Popescu")
		tpLink := regexp.MustCompile(`href="(/staff/cash\?taxpayer=\d+)"`).FindStringSubmatch(p.Body)
		if tpLink == nil {
			t.Fatalf("cash search: %s", p.Body)
		}
		path := strings.ReplaceAll(tpLink[1], "&amp;", "&")
		tok = ioana.csrf(path)
		tpID := strings.TrimPrefix(path, "/staff/cash?taxpayer=")
		p = ioana.post("/staff/cash", url.Values{"_csrf": {tok}, "taxpayer_id": {tpID}, "amount": {"abc"}})
		if p.Status != 422 {
			t.Fatalf("bad amount: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-amount": "Introduceți un număr."})
		// Above the municipality's bound (1,000,000 lei by default): 422 naming it.
		p = ioana.post("/staff/cash", url.Values{"_csrf": {tok}, "taxpayer_id": {tpID}, "amount": {"1000000,01"}})
		if p.Status != 422 {
			t.Fatalf("amount above the bound: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-amount": "Introduceți cel mult 1000000.00 lei (limita stabilită de primărie)."})
		p = ioana.post("/staff/cash", url.Values{"_csrf": {tok}, "taxpayer_id": {tpID}, "amount": {"100,00"}})
		if p.Status != 303 || !strings.HasPrefix(p.Location, "/payments/") {
			t.Fatalf("cash: %d %s", p.Status, p.Body)
		}
		payPath := p.Location
		p = ioana.get(payPath)
		if !strings.Contains(p.Body, "CASA-2026-") || !strings.Contains(p.Body, `id="receipt-link"`) {
			t.Fatal("payment page lacks the receipt")
		}
		if p := ana.get(payPath + "/receipt.pdf"); p.Status != 200 || !strings.HasPrefix(p.Body, "%PDF") {
			t.Fatalf("taxpayer receipt: %d", p.Status)
		}
		if p := bob.get(payPath + "/receipt.pdf"); p.Status != 404 {
			t.Fatalf("another taxpayer's receipt: %d", p.Status)
		}
		if acc := ana.get("/account"); !strings.Contains(acc.Body, payPath+"/receipt.pdf") {
			t.Fatal("the account lists no receipt")
		}
	})
}

func checkTextareaError(t *testing.T, body, id, msg string) {
	t.Helper()
	re := regexp.MustCompile(`<p class="error" id="` + id + `-error">.*?</span>([^<]*)</p>`)
	if m := re.FindStringSubmatch(body); m == nil || !strings.Contains(m[1], msg) {
		t.Errorf("%s: want %q, got %v", id, msg, m)
	}
}

func TestCardPaymentPage(t *testing.T) {
	base := stripetest.Start(t)
	clock := fiscal.NewTestClock(inFebruary)
	db := storetest.MustOpen(t, "sqlite", clock)
	s := startSiteStripe(t, db, clock, base)
	ana := s.client()
	ana.register("ana", "2850615350041", "Ana Popescu")
	// A debt to pay: a vehicle registered through the workflow.
	approveGolf(t, s)
	p := ana.get("/account/pay")
	if p.Status != 200 || !strings.Contains(p.Body, `id="pay-form"`) {
		t.Fatalf("pay page: %d", p.Status)
	}
	p = ana.post("/account/pay", url.Values{"_csrf": {ana.csrf("/account/pay")}})
	if p.Status != 200 {
		t.Fatalf("pay: %d %s", p.Status, p.Body)
	}
	for _, want := range []string{`data-secret="pi_`, `data-pk="pk_test_portal"`, `<script src="https://js.stripe.com/v3/" defer>`, `/static/pay.js?v=`, `id="card-amount">178,00 lei`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("card page lacks %q", want)
		}
	}
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' https://js.stripe.com") || !strings.Contains(csp, "frame-src https://js.stripe.com") {
		t.Errorf("card page CSP: %q", csp)
	}
	// Only that page: the account keeps default-src 'self' alone.
	if csp := ana.get("/account").Header.Get("Content-Security-Policy"); strings.Contains(csp, "stripe") {
		t.Errorf("account CSP: %q", csp)
	}
	// The payment stays pending until Stripe's webhook: the page says so.
	pp := regexp.MustCompile(`href="(/payments/\d+)"`).FindStringSubmatch(p.Body)
	if pp == nil {
		t.Fatal("no link to the payment")
	}
	if p := ana.get(pp[1]); !strings.Contains(p.Body, `id="payment-status">În curs`) {
		t.Fatal("a card payment shown as anything but pending before the webhook")
	}
}

// approveGolf takes a registration of Ana's Golf through the workflow with
// the services (the browser and form tests do it through the pages).
func approveGolf(t testing.TB, s *site) {
	t.Helper()
	c := s.client()
	c.login("ioana", staffPassword("ioana"))
	ana := s.client()
	ana.login("ana", "parola-lunga-1")
	p := ana.postMultipart("/declare/vehicle", golfForm(ana.csrf("/declare/vehicle")),
		map[string][]byte{"doc.acquisition_document": pdfDoc, "doc.vehicle_identity_card": pngDoc, "doc.owner_id": pdfDoc})
	if p.Status != 303 {
		t.Fatalf("declare: %d", p.Status)
	}
	casePath := p.Location
	if p := c.post(casePath+"/review", url.Values{"_csrf": {c.csrf(casePath)}, "decision": {"approve"}}); p.Status != 303 {
		t.Fatalf("review: %d", p.Status)
	}
	d := s.client()
	d.login("dan", staffPassword("dan"))
	if p := d.post(casePath+"/sign", url.Values{"_csrf": {d.csrf(casePath)}, "decision": {"approve"}}); p.Status != 303 {
		t.Fatalf("sign: %d", p.Status)
	}
}

var formIDRe = regexp.MustCompile(`name="form_id" value="([0-9a-f]{32})"`)

// TestDeclarationSentTwice: a declaration form sent twice (the back button,
// a double click, two sendings at once) files one case; every answer leads
// to it, and the page says the form had already been sent.
func TestDeclarationSentTwice(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		clock.Set(inFebruary)
		s := startSite(t, db, clock)
		ana := s.client()
		ana.register("ana", "2850615350041", "Ana Popescu")
		docs := map[string][]byte{"doc.acquisition_document": pdfDoc, "doc.vehicle_identity_card": pngDoc, "doc.owner_id": pdfDoc}
		form := func() url.Values {
			p := ana.get("/declare/vehicle")
			m := formIDRe.FindStringSubmatch(p.Body)
			if m == nil {
				t.Fatal("the declaration form has no form_id")
			}
			f := golfForm(ana.csrf("/declare/vehicle"))
			f.Set("form_id", m[1])
			return f
		}
		cases := func() int {
			var n int
			if err := db.SQL().Get(&n, `SELECT COUNT(*) FROM cases`); err != nil {
				t.Fatal(err)
			}
			return n
		}

		// One after the other.
		f := form()
		first := ana.postMultipart("/declare/vehicle", f, docs)
		if first.Status != 303 || caseURL.FindString(first.Location) == "" {
			t.Fatalf("declaration: %d %q", first.Status, first.Location)
		}
		again := ana.postMultipart("/declare/vehicle", f, docs)
		if again.Status != 303 || again.Location != first.Location {
			t.Fatalf("the same form again: %d %q, want 303 to %s", again.Status, again.Location, first.Location)
		}
		if p := ana.get(again.Location); !strings.Contains(p.Body, "Formularul fusese deja trimis") || strings.Contains(p.Body, `id="docs-missing"`) {
			t.Errorf("the case page after the second sending does not say so, or lacks documents")
		}
		if n := cases(); n != 1 {
			t.Fatalf("%d cases after sending one form twice", n)
		}
		var atts int
		if err := db.SQL().Get(&atts, `SELECT COUNT(*) FROM case_attachments`); err != nil || atts != 3 {
			t.Fatalf("%d attachments (%v), want 3", atts, err)
		}

		// Twice at once; a new form after that files a new case.
		f = form()
		locs := make([]string, 2)
		var wg sync.WaitGroup
		for i := range locs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				p := ana.postMultipart("/declare/vehicle", f, docs)
				if p.Status == 303 {
					locs[i] = p.Location
				} else {
					t.Logf("sending %d: %d %s", i, p.Status, p.Body[:min(len(p.Body), 3000)])
				}
			}(i)
		}
		wg.Wait()
		if locs[0] == "" || locs[0] != locs[1] || locs[0] == first.Location {
			t.Fatalf("two sendings at once led to %q and %q", locs[0], locs[1])
		}
		if n := cases(); n != 2 {
			t.Fatalf("%d cases after two forms, the second sent twice at once", n)
		}
	})
}
