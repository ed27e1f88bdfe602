package store_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

const kioskPermit = `{"type": "kiosk_permit", "title": "Chioșc", "title_en": "Kiosk", "sla_working_days": 5,
 "form": {"fields": [{"name": "place", "kind": "string", "required": true}]},
 "steps": [{"name": "review", "roles": ["officer"]}, {"name": "sign", "roles": ["signer"], "distinct_from": ["review"]}]}`

// TestPublishCaseTypeConcurrent: publications of one type at once get
// distinct, gapless versions (the unique key and the retry), each with its
// audit entry; a bad definition writes nothing.
func TestPublishCaseTypeConcurrent(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		admin, _ := storetest.Staff(t, db, m, "admin1", fiscal.RoleAdmin)
		officer, _ := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		if _, err := db.PublishCaseType(officer, json.RawMessage(kioskPermit), false); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("officer publishes: %v", err)
		}
		bad := strings.Replace(kioskPermit, `"distinct_from": ["review"]`, `"distinct_from": ["revue"]`, 1)
		_, err := db.PublishCaseType(admin, json.RawMessage(bad), false)
		if fe, ok := err.(*fiscal.Error); !ok || fe.Code != fiscal.EINVALID || fe.Fields[0].Field != "steps[1].distinct_from[0]" {
			t.Fatalf("bad definition: %v", err)
		}
		const n = 8
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			versions []int
			errs     []error
		)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := db.PublishCaseType(admin, json.RawMessage(kioskPermit), false)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				versions = append(versions, int(out.Version))
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("concurrent publications failed: %v", errs)
		}
		sort.Ints(versions)
		if fmt.Sprint(versions) != "[1 2 3 4 5 6 7 8]" {
			t.Fatalf("versions: %v", versions)
		}
		var audits int
		if err := db.SQL().Get(&audits, `SELECT COUNT(*) FROM audit_log WHERE action = 'case_type.publish'`); err != nil || audits != n {
			t.Fatalf("audit entries: %d %v", audits, err)
		}
		list, err := db.PublishedCaseTypes(admin, m.ID)
		if err != nil || len(list) != 1 || list[0].Version != n || list[0].Form.Fields[0].Name != "place" {
			t.Fatalf("list: %v %+v", err, list)
		}
	})
}
