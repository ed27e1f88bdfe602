package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestCaseFiledBeforeShippedDefinitions: a case filed and reviewed before
// every type ran on a definition (definition_version NULL, its review
// recorded without a step name) runs on the shipped definition: its open
// step is the signature, the reviewer may not sign it (four eyes through
// the route) and another signer approves it. (Blanking the step name
// alters the signed step, so the chain is not verified here.)
func TestCaseFiledBeforeShippedDefinitions(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		officer, _ := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		signer, _ := storetest.Staff(t, db, m, "signer1", fiscal.RoleSigner)
		ana, tp := signedInTaxpayer(t, db, m)
		c, err := db.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CasePetition, TaxpayerID: tp.ID,
			Data: json.RawMessage(`{"subject":"Bănci","body":"Mai multe bănci în parc"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Review(officer, c.ID, &fiscal.Decision{Decision: fiscal.DecisionApprove}); err != nil {
			t.Fatal(err)
		}
		// As the rows of a case reviewed before migration 0029 read.
		if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE cases SET definition_version = NULL, route_step = NULL WHERE id = ?`), c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE case_steps SET step = '' WHERE case_id = ? AND action = 'review'`), c.ID); err != nil {
			t.Fatal(err)
		}
		var reviewerID int64
		if err := db.SQL().Get(&reviewerID, db.SQL().Rebind(`SELECT actor_id FROM case_steps WHERE case_id = ? AND action = 'review'`), c.ID); err != nil {
			t.Fatal(err)
		}
		d, err := db.Case(officer, c.ID)
		if err != nil || d.DefinitionVersion == nil || *d.DefinitionVersion != fiscal.ShippedVersion || len(d.OpenSteps) != 1 || d.OpenSteps[0].Step != fiscal.StepSign {
			t.Fatalf("legacy case: %v %+v", err, d)
		}
		// The reviewer, signed in with the signer's role, may not sign.
		both := fiscal.WithActor(context.Background(), &fiscal.Actor{UserID: reviewerID, Username: "officer1", MunicipalityID: m.ID, Role: fiscal.RoleSigner})
		if _, err := db.Sign(both, c.ID, &fiscal.Decision{Decision: fiscal.DecisionApprove}); !errors.Is(err, fiscal.ErrFourEyes) {
			t.Fatalf("the reviewer signs: %v", err)
		}
		d, err = db.Sign(signer, c.ID, &fiscal.Decision{Decision: fiscal.DecisionApprove})
		if err != nil || d.Status != fiscal.StatusApproved {
			t.Fatalf("sign: %v %+v", err, d)
		}
	})
}
