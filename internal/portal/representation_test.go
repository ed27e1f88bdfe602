package portal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"fiscald/fiscal"
)

// signedIn returns a context acting as the account, through the store's own
// sign-in and authentication.
func (s *site) signedIn(username, password string) context.Context {
	s.t.Helper()
	sess, err := s.db.Login(context.Background(), s.muni.ID, username, password)
	if err != nil {
		s.t.Fatal(err)
	}
	a, err := s.db.Authenticate(context.Background(), sess.Token)
	if err != nil {
		s.t.Fatal(err)
	}
	return fiscal.WithActor(context.Background(), a)
}

// approvedRepresentation files the account's representation request with
// data and its documents, reviewed by the officer ioana and approved by the
// signer dan.
func (s *site) approvedRepresentation(username, password, data string) int64 {
	t := s.t
	t.Helper()
	ion := s.signedIn(username, password)
	me := fiscal.ActorFrom(ion)
	cs, err := s.db.CreateCase(ion, &fiscal.NewCase{Type: fiscal.CaseRepresentation, TaxpayerID: *me.TaxpayerID, Data: json.RawMessage(data)})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"mandate", "registry_extract"} {
		doc := []byte("%PDF-1.4\n" + k + "\n%%EOF\n")
		if _, err := s.db.AddAttachment(ion, cs.ID, &fiscal.Upload{Kind: k, Filename: k + ".pdf", Size: int64(len(doc)), Content: bytes.NewReader(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	off := s.client()
	off.login("ioana", staffPassword("ioana"))
	if p := off.get(fmt.Sprintf("/cases/%d", cs.ID)); p.Status != 200 || !strings.Contains(p.Body, "Cerere de reprezentare a unei firme") ||
		!strings.Contains(p.Body, "Firma este în evidența fiscală") || !strings.Contains(p.Body, "Împuternicirea sau actul de numire") {
		t.Fatalf("staff case page: %d\n%s", p.Status, p.Body)
	}
	if _, err := s.db.Review(s.signedIn("ioana", staffPassword("ioana")), cs.ID, &fiscal.Decision{Decision: fiscal.DecisionApprove}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Sign(s.signedIn("dan", staffPassword("dan")), cs.ID, &fiscal.Decision{Decision: fiscal.DecisionApprove}); err != nil {
		t.Fatal(err)
	}
	return cs.ID
}

// TestActingForPage: a verified person whose representation request was
// approved sees "Acționez pentru" on /account (a labelled select, RO and
// EN), chooses the company and sees the company's record; a choice of a
// company without a link is refused with a notice; once an officer revokes
// the link, the next page returns the session to the person with a notice.
// A person without links sees no selector.
func TestActingForPage(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		sys := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test", MunicipalityID: s.muni.ID})
		company, err := s.db.CreateTaxpayer(sys, &fiscal.TaxpayerInput{Kind: fiscal.Company, CUI: "18547290", Name: "Construct Vest SRL", Address: "Calea Aradului 10"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := s.db.CreateTaxpayer(sys, &fiscal.TaxpayerInput{Kind: fiscal.Company, CUI: "14399840", Name: "Altă Firmă SRL", Address: "Str. Paris 2"})
		if err != nil {
			t.Fatal(err)
		}
		c := s.client()
		c.register("ion", "1780305460017", "Ion Stan")
		if _, err := s.db.SQL().Exec(`UPDATE users SET assurance = 'verified' WHERE username = 'ion'`); err != nil {
			t.Fatal(err)
		}
		if p := c.get("/account"); p.Status != 200 || strings.Contains(p.Body, `id="actfor-select"`) {
			t.Fatalf("account without links: %d, selector shown: %v", p.Status, strings.Contains(p.Body, "actfor-select"))
		}

		s.approvedRepresentation("ion", "parola-lunga-1", `{"cui":"RO18547290","role":"administrator"}`)

		p := c.get("/account")
		if p.Status != 200 || !strings.Contains(p.Body, `<label for="actfor-select">Contribuabilul</label>`) || !strings.Contains(p.Body, "Acționez pentru") ||
			!strings.Contains(p.Body, "Construct Vest SRL (18547290) – administrator") {
			t.Fatalf("selector: %d\n%s", p.Status, p.Body)
		}
		if p := c.get("/account?lang=en"); !strings.Contains(p.Body, "Acting for") || !strings.Contains(p.Body, `<label for="actfor-select">Taxpayer</label>`) {
			t.Fatal("selector in English")
		}
		tok := c.csrf("/account?lang=ro")
		if p := c.post("/account/act-for", url.Values{"_csrf": {tok}, "taxpayer_id": {strconv.FormatInt(other.ID, 10)}}); p.Status != 303 {
			t.Fatalf("act for a company without a link: %d", p.Status)
		}
		if p := c.get("/account"); !strings.Contains(p.Body, "nu aveți o reprezentare aprobată") || !strings.Contains(p.Body, "Ion Stan") {
			t.Fatalf("refusal notice: %s", p.Body)
		}
		if p := c.post("/account/act-for", url.Values{"_csrf": {"wrong"}, "taxpayer_id": {strconv.FormatInt(company.ID, 10)}}); p.Status != 403 {
			t.Fatalf("act for without a CSRF token: %d", p.Status)
		}
		if p := c.post("/account/act-for", url.Values{"_csrf": {tok}, "taxpayer_id": {strconv.FormatInt(company.ID, 10)}}); p.Status != 303 || p.Location != "/account" {
			t.Fatalf("act for: %d", p.Status)
		}
		p = c.get("/account")
		if !strings.Contains(p.Body, "<dd>18547290</dd>") || !strings.Contains(p.Body, "De acum acționați") {
			t.Fatalf("the company's record: %s", p.Body)
		}

		var link int64
		if err := s.db.SQL().Get(&link, `SELECT id FROM representations`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.RevokeRepresentation(s.signedIn("ioana", staffPassword("ioana")), link, &fiscal.RevokeRepresentation{Reason: "mandat retras"}); err != nil {
			t.Fatal(err)
		}
		p = c.get("/account")
		if p.Status != 200 || !strings.Contains(p.Body, "Reprezentarea firmei pentru care acționați a încetat") || strings.Contains(p.Body, "<dd>18547290</dd>") ||
			strings.Contains(p.Body, `id="actfor-select"`) {
			t.Fatalf("after revocation: %d\n%s", p.Status, p.Body)
		}
	})
}

// TestRepresentationForm: /declare/representation files the request with
// the mandate (a verified person); an unknown CUI and a missing mandate are
// named next to their fields (RO and EN); a password-only account gets the
// form's refusal (403), in both the GET and the POST, and files nothing.
func TestRepresentationForm(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		sys := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "test", MunicipalityID: s.muni.ID})
		if _, err := s.db.CreateTaxpayer(sys, &fiscal.TaxpayerInput{Kind: fiscal.Company, CUI: "18547290", Name: "Construct Vest SRL", Address: "Calea Aradului 10"}); err != nil {
			t.Fatal(err)
		}
		c, pw := s.client(), s.client()
		c.register("ion", "1780305460017", "Ion Stan")
		pw.register("ana", "2850615350041", "Ana Popescu")
		if _, err := s.db.SQL().Exec(`UPDATE users SET assurance = 'verified' WHERE username = 'ion'`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.SQL().Exec(`UPDATE users SET assurance = 'password' WHERE username = 'ana'`); err != nil {
			t.Fatal(err)
		}
		if p := c.get("/account"); !strings.Contains(p.Body, `href="/declare/representation"`) {
			t.Fatal("no link to the request on /account")
		}
		p := pw.get("/declare/representation")
		if p.Status != 403 || !strings.Contains(p.Body, `id="represent-refused"`) || strings.Contains(p.Body, `id="represent-form"`) {
			t.Fatalf("password-only account: %d", p.Status)
		}
		tokPW := pw.csrf("/account")
		if p := pw.postMultipart("/declare/representation", url.Values{"_csrf": {tokPW}, "data.cui": {"18547290"}, "data.role": {"empowered"}},
			map[string][]byte{"doc.mandate": pdfDoc}); p.Status != 403 {
			t.Fatalf("password-only account filing: %d", p.Status)
		}

		p = c.get("/declare/representation")
		if p.Status != 200 || !strings.Contains(p.Body, `<label for="f-data-cui">CUI-ul firmei`) || !strings.Contains(p.Body, `<option value="administrator">Administrator</option>`) {
			t.Fatalf("form: %d\n%s", p.Status, p.Body)
		}
		tok := c.csrf("/declare/representation")
		p = c.postMultipart("/declare/representation", url.Values{"_csrf": {tok}, "data.cui": {"RO14399840"}, "data.role": {"empowered"}}, nil)
		if p.Status != 422 {
			t.Fatalf("bad request: %d", p.Status)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-doc-mandate": ""})
		p = c.postMultipart("/declare/representation", url.Values{"_csrf": {tok}, "data.cui": {"RO14399840"}, "data.role": {"empowered"}},
			map[string][]byte{"doc.mandate": pdfDoc})
		if p.Status != 422 {
			t.Fatalf("company not on file: %d\n%s", p.Status, p.Body)
		}
		checkFieldErrors(t, p.Body, map[string]string{"f-data-cui": "Nicio firmă cu acest CUI nu este în evidența fiscală"})
		p = c.postMultipart("/declare/representation?lang=en", url.Values{"_csrf": {tok}, "data.cui": {"18547290"}, "data.role": {"empowered"},
			"data.valid_until": {"2020-01-01"}}, map[string][]byte{"doc.mandate": pdfDoc})
		checkFieldErrors(t, p.Body, map[string]string{"f-data-valid-until": "The date must be today or later"})
		c.get("/account?lang=ro")
		if n := countRows(t, s, `SELECT COUNT(*) FROM cases`); n != 0 {
			t.Fatalf("refused requests filed %d cases", n)
		}
		p = c.postMultipart("/declare/representation", url.Values{"_csrf": {tok}, "data.cui": {"RO18547290"}, "data.role": {"empowered"},
			"data.valid_until": {"2027-06-30"}}, map[string][]byte{"doc.mandate": pdfDoc})
		if p.Status != 303 || !strings.HasPrefix(p.Location, "/cases/") {
			t.Fatalf("file: %d %s\n%s", p.Status, p.Location, p.Body)
		}
		if p := c.get(p.Location); p.Status != 200 || !strings.Contains(p.Body, "Cerere de reprezentare a unei firme") {
			t.Fatalf("the case page: %d", p.Status)
		}
	})
}

func countRows(t *testing.T, s *site, q string) int64 {
	t.Helper()
	var n int64
	if err := s.db.SQL().Get(&n, q); err != nil {
		t.Fatal(err)
	}
	return n
}
