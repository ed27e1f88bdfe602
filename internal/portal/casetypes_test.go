package portal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"fiscald/fiscal"
)

// TestPublishedTypeCasePages: the case pages of a published request type
// (filed through the API's use case) open for the taxpayer and for staff
// (rendering the definition's own form is not built yet).
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
		def := `{"type": "kiosk_permit", "title": "Autorizație chioșc", "title_en": "Kiosk permit", "sla_working_days": 5,
 "form": {"fields": [{"name": "place", "kind": "string", "required": true}]},
 "documents": [{"kind": "owner_id", "title": "Actul de identitate", "required": true}],
 "steps": [{"name": "review", "roles": ["officer"]}, {"name": "sign", "roles": ["signer"], "distinct_from": ["review"]}]}`
		if _, err := s.db.PublishCaseType(actor("admin", fiscal.RoleAdmin), json.RawMessage(def), false); err != nil {
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
		ioana := s.client()
		ioana.login("ioana", staffPassword("ioana"))
		if r := ioana.get(path); r.Status != 200 || !strings.Contains(r.Body, c.Number) {
			t.Fatalf("officer's case page: %d", r.Status)
		}
	})
}
