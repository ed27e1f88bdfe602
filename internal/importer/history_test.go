package importer_test

import (
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/importer"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestImportHistory: the list of past imports (most recent first) and one
// import's summary are the administrator's municipality's only; other
// roles are refused.
func TestImportHistory(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		other := storetest.Municipality(t, db, "arad")
		admin, _ := storetest.Staff(t, db, m, "admin", fiscal.RoleAdmin)
		otherAdmin, _ := storetest.Staff(t, db, other, "admin2", fiscal.RoleAdmin)
		officer, _ := storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
		svc := &importer.Service{Store: db}
		dry, err := svc.Import(admin, "taxpayers", openFile(t, "testdata/city/taxpayers.csv"), true)
		if err != nil {
			t.Fatal(err)
		}
		real, err := svc.Import(admin, "taxpayers", openFile(t, "testdata/city/taxpayers.csv"), false)
		if err != nil {
			t.Fatal(err)
		}
		list, err := svc.Imports(admin, 10)
		if err != nil || len(list) != 2 || list[0].ID != real.ID || list[1].ID != dry.ID || list[0].DryRun || !list[1].DryRun ||
			list[0].FileName != "taxpayers.csv" || list[0].Rows != real.Rows || list[0].Imported != real.Imported || list[0].Rejected != real.Rejected ||
			list[0].FinishedAt == nil || list[0].StartedAt.IsZero() || len(list[0].FileSHA256) != 64 || list[0].FileSHA256 != list[1].FileSHA256 {
			t.Fatalf("list: %+v %v", list, err)
		}
		if one, err := svc.ImportSummary(admin, dry.ID); err != nil || one.ID != dry.ID || !one.DryRun || one.Kind != "taxpayers" {
			t.Fatalf("summary: %+v %v", one, err)
		}
		if l, err := svc.Imports(otherAdmin, 10); err != nil || len(l) != 0 {
			t.Fatalf("another municipality's list: %+v %v", l, err)
		}
		if _, err := svc.ImportSummary(otherAdmin, dry.ID); fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
			t.Fatalf("another municipality's import: %v", err)
		}
		if _, err := svc.Imports(officer, 10); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("officer's list: %v", err)
		}
		if _, err := svc.ImportSummary(officer, dry.ID); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("officer's summary: %v", err)
		}
	})
}
