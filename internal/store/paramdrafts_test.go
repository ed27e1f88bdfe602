package store_test

import (
	"context"
	"sync"
	"testing"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestParameterDraftAdoptOnce: two administrators adopting the same draft at
// once: one adopts, the other gets ECONFLICT, and every value is entered
// exactly once; a second draft of the same year cannot adopt over the first
// (ECONFLICT naming the line) and leaves nothing behind.
func TestParameterDraftAdoptOnce(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		ctx1, _ := storetest.Staff(t, db, m, "admin1", fiscal.RoleAdmin)
		ctx2, _ := storetest.Staff(t, db, m, "admin2", fiscal.RoleAdmin)
		in := fiscal.ParameterDraftInput{FromYear: 2026, ToYear: 2027, InflationPct: "5.6",
			Decision: fiscal.CouncilDecision{Number: "200/2026", Date: civil.MustParse("2026-12-15")}}
		d, err := db.CreateParameterDraft(ctx1, &in)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, ctx := range []context.Context{ctx1, ctx2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = db.AdoptParameterDraft(ctx, d.ID)
			}()
		}
		wg.Wait()
		ok, conflict := 0, 0
		for _, err := range errs {
			switch fiscal.ErrorCode(err) {
			case "":
				ok++
			case fiscal.ECONFLICT:
				conflict++
			default:
				t.Fatalf("adopt: %v", err)
			}
		}
		if ok != 1 || conflict != 1 {
			t.Fatalf("adopted %d, conflicts %d", ok, conflict)
		}
		var n int
		if err := db.SQL().Get(&n, db.SQL().Rebind(`SELECT COUNT(*) FROM tax_parameters WHERE municipality_id = ? AND effective_from = ?`), m.ID, civil.MustParse("2027-01-01")); err != nil {
			t.Fatal(err)
		}
		if n != len(d.Lines) {
			t.Fatalf("%d values entered for %d lines", n, len(d.Lines))
		}
		// A second draft of 2027 conflicts on its first line and enters nothing.
		d2, err := db.CreateParameterDraft(ctx2, &in)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.AdoptParameterDraft(ctx2, d2.ID)
		if fe, isFE := err.(*fiscal.Error); !isFE || fe.Code != fiscal.ECONFLICT || len(fe.Fields) != 1 || fe.Fields[0].Field != "lines."+d2.Lines[0].Key+".effective_from" {
			t.Fatalf("second adoption: %v", err)
		}
		if got, _ := db.ParameterDraft(ctx2, d2.ID); got.Status != fiscal.DraftOpen {
			t.Fatalf("second draft: %s", got.Status)
		}
		e, err := db.TaxEngine(ctx1, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		a, err := e.Annual("timisoara", 2027, calc.Object{Kind: "vehicle", Category: "car", EngineCC: 1598, EmissionClass: "euro6", Propulsion: "combustion"})
		if err != nil || a.Annual.String() != "209.00" || a.Lines[0].LegalBasis != "Codul fiscal art. 470 alin. (2); HCL 200/2026" {
			t.Fatalf("2027: %v %v %+v", a.Annual, err, a.Lines)
		}
	})
}

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
