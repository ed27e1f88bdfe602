package store_test

import (
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestParameterDraftsList: an administrator lists their municipality's
// drafts (latest year first, without lines); another municipality's
// administrator sees none of them, and an officer is refused.
func TestParameterDraftsList(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		a := storetest.Municipality(t, db, "timisoara")
		b := storetest.Municipality(t, db, "arad")
		admA, _ := storetest.Staff(t, db, a, "admin", fiscal.RoleAdmin)
		admB, _ := storetest.Staff(t, db, b, "admin", fiscal.RoleAdmin)
		off, _ := storetest.Staff(t, db, a, "ioana", fiscal.RoleOfficer)
		for _, to := range []int{2027, 2028} {
			in := fiscal.ParameterDraftInput{FromYear: 2026, ToYear: to, InflationPct: "5.6",
				Decision: fiscal.CouncilDecision{Number: "200/2026", Date: civil.MustParse("2026-12-15")}}
			if to == 2028 {
				in.FromYear = 2027
			}
			if _, err := db.CreateParameterDraft(admA, &in); err != nil && to == 2027 {
				t.Fatal(err)
			}
		}
		ds, err := db.ParameterDrafts(admA)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 || ds[len(ds)-1].ToYear != 2027 || ds[0].Lines != nil || ds[0].Status != fiscal.DraftOpen || ds[0].Decision.Number != "200/2026" {
			t.Fatalf("drafts: %+v", ds)
		}
		if ds, err := db.ParameterDrafts(admB); err != nil || len(ds) != 0 {
			t.Fatalf("another municipality's admin: %v %+v", err, ds)
		}
		if _, err := db.ParameterDrafts(off); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("officer: %v", err)
		}
	})
}
