package store_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// kioskTerms gives review and the parallel opinions their own terms, one
// branch a shorter one.
const kioskTerms = `{"type": "kiosk_terms", "title": "Chioșc", "title_en": "Kiosk", "sla_working_days": 10,
 "form": {"fields": [{"name": "place", "kind": "string", "required": true}]},
 "steps": [{"name": "review", "roles": ["officer"], "decisions": ["approve", "reject", "request_info"], "sla_working_days": 2},
           {"name": "opinions", "sla_working_days": 3, "parallel": [{"name": "urbanism", "roles": ["officer"], "sla_working_days": 1},
                                                                    {"name": "police", "roles": ["officer"]}]},
           {"name": "sign", "roles": ["signer"]}]}`

// TestOpenStepsDueDates: GET case's open_steps as a case moves: a step's
// own term moves by the taxpayer's wait on it; parallel branches open
// together, each due by its own term or its group's, and leave the list
// as they are taken; a step without a term is due with the case.
func TestOpenStepsDueDates(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		admin, _ := storetest.Staff(t, db, m, "admin1", fiscal.RoleAdmin)
		officer, _ := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		officer2, _ := storetest.Staff(t, db, m, "officer2", fiscal.RoleOfficer)
		ana, tp := signedInTaxpayer(t, db, m)
		if _, err := db.PublishCaseType(admin, json.RawMessage(kioskTerms), false); err != nil {
			t.Fatal(err)
		}
		c, err := db.CreateCase(ana, &fiscal.NewCase{Type: "kiosk_terms", TaxpayerID: tp.ID, Data: json.RawMessage(`{"place":"Piața 700"}`)})
		if err != nil {
			t.Fatal(err)
		}
		open := func(d *fiscal.CaseDetail) string {
			var out []string
			for _, o := range d.OpenSteps {
				out = append(out, fmt.Sprintf("%s%v@%s", o.Step, o.Roles, o.DueOn))
			}
			return strings.Join(out, " ")
		}
		check := func(d *fiscal.CaseDetail, err error, want string) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			if got := open(d); got != want {
				t.Fatalf("open steps: %s, want %s", got, want)
			}
		}
		// The queue shows the step a case waits at and its due date.
		queue := func(want string) {
			t.Helper()
			list, _, err := db.Cases(officer, fiscal.CaseFilter{})
			if err != nil || len(list) != 1 || list[0].StepDueOn == nil {
				t.Fatalf("queue: %v %+v", err, list)
			}
			if got := fmt.Sprintf("%s@%s", list[0].Step, list[0].StepDueOn); got != want {
				t.Fatalf("queue: %s, want %s", got, want)
			}
		}
		d, err := db.Case(officer, c.ID) // filed Friday 8 May 2026
		check(d, err, "review[officer]@2026-05-12")
		queue("review@2026-05-12")
		d, err = db.Act(officer, c.ID, &fiscal.ActInput{Step: "review", Decision: "request_info", Comment: "Ce stradă?"})
		check(d, err, "review[officer]@2026-05-12")
		clock.Set(time.Date(2026, 5, 13, 9, 0, 0, 0, time.UTC)) // the answer, three working days later
		d, err = db.Respond(ana, c.ID, &fiscal.Response{Comment: "Str. Mărășești"})
		check(d, err, "review[officer]@2026-05-15")
		queue("review@2026-05-15")
		d, err = db.Act(officer, c.ID, &fiscal.ActInput{Step: "review", Decision: "approve"})
		check(d, err, "opinions.urbanism[officer]@2026-05-14 opinions.police[officer]@2026-05-18")
		queue("opinions@2026-05-18") // the group's own term
		clock.Set(time.Date(2026, 5, 14, 9, 0, 0, 0, time.UTC))
		d, err = db.Act(officer2, c.ID, &fiscal.ActInput{Step: "opinions.urbanism", Decision: "approve"})
		check(d, err, "opinions.police[officer]@2026-05-18")
		d, err = db.Act(officer, c.ID, &fiscal.ActInput{Step: "opinions.police", Decision: "approve"})
		// Due with the case: 10 working days after 8 May, plus the 3 waited.
		check(d, err, "sign[signer]@2026-05-27")
		queue("sign@2026-05-27")
	})
}
