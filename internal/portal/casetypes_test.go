package portal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"fiscald/fiscal"
)

// kioskDefinition is a published type with every kind of input the form renders.
const kioskDefinition = `{"type": "kiosk_permit", "title": "Autorizație chioșc", "title_en": "Kiosk permit", "sla_working_days": 5,
 "form": {"fields": [{"name": "place", "kind": "string", "required": true, "label": "Locul", "label_en": "Place"},
   {"name": "area", "kind": "decimal", "min": "1", "max": "20", "label": "Suprafața (m²)", "label_en": "Area (m²)"},
   {"name": "goods", "kind": "enum", "options": ["flori", "ziare"], "label": "Marfa"},
   {"name": "note", "kind": "text", "label": "Observații"}]},
 "documents": [{"kind": "owner_id", "title": "Actul de identitate", "required": true}],
 "steps": [{"name": "review", "roles": ["officer"]}, {"name": "sign", "roles": ["signer"], "distinct_from": ["review"]}]}`

// TestPublishedTypeCasePages: a published request type's form is rendered
// from its definition, its field errors come in the page's language, it
// files the case with its documents, and the case pages open for the
// taxpayer and for staff.
func TestPublishedTypeCasePages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *site) {
		ctx := context.Background()
		actor := func(username string, role fiscal.Role) context.Context {
			var id int64
			if err := s.db.SQL().Get(&id, s.db.SQL().Rebind(`SELECT id FROM users WHERE username = ?`), username); err != nil {
				t.Fatal(err)
			}
			return fiscal.WithActor(ctx, &fiscal.Actor{UserID: id, Username: username, MunicipalityID: s.muni.ID, Role: role})
		}
		if _, err := s.db.PublishCaseType(actor("admin", fiscal.RoleAdmin), json.RawMessage(kioskDefinition), false); err != nil {
			t.Fatal(err)
		}
		ana := s.client()
		if r := ana.register("ana", "2850615350041", "Ana Popescu"); r.Status != 303 {
			t.Fatalf("register: %d", r.Status)
		}
		var tp int64
		if err := s.db.SQL().Get(&tp, `SELECT id FROM taxpayers`); err != nil {
			t.Fatal(err)
		}
		c, err := s.db.CreateCase(actor("ioana", fiscal.RoleOfficer), &fiscal.NewCase{Type: "kiosk_permit", TaxpayerID: tp, Data: json.RawMessage(`{"place":"Piața Unirii"}`)})
		if err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/cases/%d", c.ID)
		if r := ana.get(path); r.Status != 200 || !strings.Contains(r.Body, c.Number) {
			t.Fatalf("taxpayer's case page: %d", r.Status)
		}
		// The list links to the form, rendered from the definition.
		if r := ana.get("/requests"); r.Status != 200 || !strings.Contains(r.Body, `<a href="/requests/kiosk_permit">Autorizație chioșc</a>`) {
			t.Fatalf("list: %d", r.Status)
		}
		form := ana.get("/requests/kiosk_permit")
		for _, want := range []string{"<h1>Autorizație chioșc</h1>", `for="f-data-place"`, "Locul", `inputmode="decimal"`, `<option value="ziare">`, "<textarea", `name="doc.owner_id"`} {
			if form.Status != 200 || !strings.Contains(form.Body, want) {
				t.Fatalf("form: %d, %q missing", form.Status, want)
			}
		}
		if r := ana.get("/requests/nope"); r.Status != 404 {
			t.Fatalf("unknown type: %d", r.Status)
		}
		tok := ana.csrf("/requests/kiosk_permit")
		bad := ana.postMultipart("/requests/kiosk_permit", url.Values{"_csrf": {tok}, "data.area": {"50"}}, nil)
		for _, want := range []string{"este obligatoriu", "trebuie să fie cel mult 20", `aria-invalid="true"`} {
			if bad.Status != 422 || !strings.Contains(bad.Body, want) {
				t.Fatalf("invalid form: %d, %q missing", bad.Status, want)
			}
		}
		tok = ana.csrf("/requests/kiosk_permit")
		ok := ana.postMultipart("/requests/kiosk_permit", url.Values{"_csrf": {tok}, "data.place": {"Piața Victoriei"}, "data.area": {"12.5"},
			"form_id": {"f-1"}}, map[string][]byte{"doc.owner_id": pdfDoc})
		if ok.Status != 303 || !strings.HasPrefix(ok.Location, "/cases/") {
			t.Fatalf("file: %d %s", ok.Status, ok.Location)
		}
		if r := ana.get(ok.Location); r.Status != 200 || !strings.Contains(r.Body, "owner_id") && !strings.Contains(r.Body, "Piața Victoriei") {
			t.Fatalf("filed case: %d", r.Status)
		}
		// In English (the language cookie stays).
		en := ana.get("/requests/kiosk_permit?lang=en")
		if !strings.Contains(en.Body, "<h1>Kiosk permit</h1>") || !strings.Contains(en.Body, "Area (m²)") {
			t.Fatalf("English form: %d", en.Status)
		}
		tok = ana.csrf("/requests/kiosk_permit")
		if r := ana.postMultipart("/requests/kiosk_permit", url.Values{"_csrf": {tok}}, nil); r.Status != 422 || !strings.Contains(r.Body, "is required") {
			t.Fatalf("English errors: %d", r.Status)
		}
		ana.get("/requests/kiosk_permit?lang=ro")
		var filed struct {
			Data string `db:"data"`
			Docs int    `db:"docs"`
		}
		if err := s.db.SQL().Get(&filed, `SELECT data, (SELECT COUNT(*) FROM case_attachments a WHERE a.case_id = c.id) AS docs FROM cases c ORDER BY id DESC LIMIT 1`); err != nil ||
			filed.Data != `{"area":"12.5","place":"Piața Victoriei"}` || filed.Docs != 1 {
			t.Fatalf("filed: %+v %v", filed, err)
		}
		ioana := s.client()
		ioana.login("ioana", staffPassword("ioana"))
		if r := ioana.get(path); r.Status != 200 || !strings.Contains(r.Body, c.Number) {
			t.Fatalf("officer's case page: %d", r.Status)
		}
		// Staff take the open steps from the case page: the officer the
		// review, the signer (not the officer: distinct_from) the signature.
		filedPath := ok.Location
		page := ioana.get(filedPath)
		for _, want := range []string{"Autorizație chioșc", "<dt>Locul</dt>", "Piața Victoriei"} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("staff case page: %q missing", want)
			}
		}
		if acc := ana.get("/account"); !strings.Contains(acc.Body, "Autorizație chioșc") {
			t.Errorf("account: the type's title missing")
		}
		if !strings.Contains(page.Body, "Pasul: review") || strings.Contains(page.Body, `action="`+filedPath+`/review"`) {
			t.Fatalf("officer's step form: %d", page.Status)
		}
		tok = ioana.csrf(filedPath)
		if r := ioana.post(filedPath+"/act", url.Values{"_csrf": {tok}, "step": {"review"}, "decision": {"approve"}}); r.Status != 303 {
			t.Fatalf("officer acts: %d %s", r.Status, r.Body)
		}
		if r := ioana.get(filedPath); strings.Contains(r.Body, "Pasul: sign") {
			t.Fatalf("an officer is offered the signer's step")
		}
		dan := s.client()
		dan.login("dan", staffPassword("dan"))
		if r := dan.get(filedPath); !strings.Contains(r.Body, "Pasul: sign") {
			t.Fatalf("signer's step form missing")
		}
		tok = dan.csrf(filedPath)
		if r := dan.post(filedPath+"/act", url.Values{"_csrf": {tok}, "step": {"sign"}, "decision": {"reject"}}); r.Status != 422 {
			t.Fatalf("a rejection without a reason: %d", r.Status)
		}
		tok = dan.csrf(filedPath)
		if r := dan.post(filedPath+"/act", url.Values{"_csrf": {tok}, "step": {"sign"}, "decision": {"approve"}}); r.Status != 303 {
			t.Fatalf("signer acts: %d %s", r.Status, r.Body)
		}
		var status string
		if err := s.db.SQL().Get(&status, s.db.SQL().Rebind(`SELECT status FROM cases WHERE id = ?`), strings.TrimPrefix(filedPath, "/cases/")); err != nil || status != "approved" {
			t.Fatalf("status %q %v", status, err)
		}
	})
}

// TestBrowserPublishedForm: the form rendered from a definition and its
// errors are axe-clean and fit 360 px, in Romanian and English.
func TestBrowserPublishedForm(t *testing.T) {
	s := browserSite(t)
	var admin int64
	if err := s.db.SQL().Get(&admin, `SELECT id FROM users WHERE username = 'admin'`); err != nil {
		t.Fatal(err)
	}
	actx := fiscal.WithActor(context.Background(), &fiscal.Actor{UserID: admin, Username: "admin", MunicipalityID: s.muni.ID, Role: fiscal.RoleAdmin})
	if _, err := s.db.PublishCaseType(actx, json.RawMessage(kioskDefinition), false); err != nil {
		t.Fatal(err)
	}
	if r := s.client().register("ana", "2850615350041", "Ana Popescu"); r.Status != 303 {
		t.Fatalf("register: %d", r.Status)
	}
	b := newTab(t, s)
	b.open("/login", 200)
	b.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "ana"), chromedp.SendKeys(chromedp.CSS("#f-password"), "parola-lunga-1"))
	b.submit("#h-vehicles")
	b.open("/requests", 200)
	b.check("requests-ro")
	b.open("/requests/kiosk_permit", 200)
	b.check("request-ro")
	b.submit("#f-data-place-error")
	b.check("request-errors-ro")
	b.open("/requests/kiosk_permit?lang=en", 200)
	b.check("request-en")

	// The officer's page of such a case, with its step form.
	var ioana, tp int64
	if err := s.db.SQL().Get(&ioana, `SELECT id FROM users WHERE username = 'ioana'`); err != nil {
		t.Fatal(err)
	}
	if err := s.db.SQL().Get(&tp, `SELECT id FROM taxpayers`); err != nil {
		t.Fatal(err)
	}
	octx := fiscal.WithActor(context.Background(), &fiscal.Actor{UserID: ioana, Username: "ioana", MunicipalityID: s.muni.ID, Role: fiscal.RoleOfficer})
	cs, err := s.db.CreateCase(octx, &fiscal.NewCase{Type: "kiosk_permit", TaxpayerID: tp, Data: json.RawMessage(`{"place":"Piața Unirii","goods":"flori"}`)})
	if err != nil {
		t.Fatal(err)
	}
	b.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitNotPresent(chromedp.CSS(`form[action="/logout"]`)))
	b.open("/login?lang=ro", 200)
	b.do("sign in", chromedp.SendKeys(chromedp.CSS("#f-username"), "ioana"), chromedp.SendKeys(chromedp.CSS("#f-password"), staffPassword("ioana")))
	b.submit("#h-links")
	b.open(fmt.Sprintf("/cases/%d", cs.ID), 200)
	b.check("staffcase-act-ro")
}
