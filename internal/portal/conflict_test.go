package portal

import (
	"encoding/json"
	"fmt"
	"testing"

	"fiscald/fiscal"
)

// TestConflictMessage: the staff's conflicts are told apart by their cause,
// not by the English text of the message, and said in the page's language;
// a cause wrapped on its way up still counts.
func TestConflictMessage(t *testing.T) {
	reg, _ := fiscal.CaseTypeByName(fiscal.CaseVehicleRegistration)
	missing := reg.CheckComplete(json.RawMessage(`{}`), nil)
	d, _ := fiscal.ShippedDefinition(fiscal.CasePetition)
	r := d.NewRoute()
	if err := d.Take(r, fiscal.RouteAct{Step: fiscal.StepReview, Decision: fiscal.DecisionApprove, ActorID: 7}, fiscal.RoleOfficer); err != nil {
		t.Fatal(err)
	}
	fourEyes := d.Take(r, fiscal.RouteAct{Step: fiscal.StepSign, Decision: fiscal.DecisionApprove, ActorID: 7}, fiscal.RoleSigner)
	stale := &fiscal.Error{Code: fiscal.ECONFLICT, Message: "the case is at version 3, not 2; reload it", Err: fiscal.ErrStale}
	for _, tc := range []struct {
		err  error
		lang string
		want string
	}{
		{fourEyes, "ro", translate("ro", "err.four_eyes")},
		{fourEyes, "en", translate("en", "err.four_eyes")},
		{fmt.Errorf("sign: %w", stale), "ro", translate("ro", "err.concurrent")},
		{missing, "en", translate("en", "err.docs_missing_decide") + " (" + fiscal.ErrorMessage(missing) + ")"},
		// A message that merely mentions a document is no missing document.
		{fiscal.Errorf(fiscal.ECONFLICT, "this document is already attached to the case as owner_id"), "en",
			translate("en", "err.conflict") + " (this document is already attached to the case as owner_id)"},
	} {
		v := &view{Lang: tc.lang}
		if got := conflictMessage(v, tc.err); got != tc.want {
			t.Errorf("%v in %s: %q, want %q", tc.err, tc.lang, got, tc.want)
		}
	}
}
