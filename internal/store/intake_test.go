package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestConcurrentIntake files cases at once, some of which fail after their
// case row was written (the same document referenced twice): the numbers
// of the cases that committed are gapless and unique, officers get them in
// turn, every case has its signed submit step with its final number, and
// the audit chain verifies.
func TestConcurrentIntake(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		staff, _ := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		if _, err := db.CreateStaff(ctx, m.ID, "officer2", "password-officer", fiscal.RoleOfficer, "officer2"); err != nil {
			t.Fatal(err)
		}
		ana, tp := signedInTaxpayer(t, db, m)
		intake := func(i int, refs ...fiscal.AttachmentRef) (*fiscal.Case, error) {
			data := registrationData(i)
			return db.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CaseVehicleRegistration, TaxpayerID: tp.ID, Data: data, Attachments: refs})
		}
		first, err := intake(0)
		if err != nil {
			t.Fatal(err)
		}
		att, err := db.AddAttachment(ana, first.ID, &fiscal.Upload{Kind: "owner_id", Filename: "ci.pdf", Content: bytes.NewReader([]byte("%PDF-1.4\n%test\n"))})
		if err != nil {
			t.Fatal(err)
		}
		ref := fiscal.AttachmentRef{Kind: "owner_id", SHA256: att.SHA256}
		const n = 24
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := 1; i <= n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				if i%4 == 0 {
					_, errs[i-1] = intake(i, ref, ref) // fails after the case row is written
					return
				}
				_, errs[i-1] = intake(i, ref)
			}(i)
		}
		wg.Wait()
		for i, err := range errs {
			if (i+1)%4 == 0 {
				if fiscal.ErrorCode(err) != fiscal.ECONFLICT {
					t.Fatalf("intake %d with a document twice: %v", i+1, err)
				}
			} else if err != nil {
				t.Fatalf("intake %d: %v", i+1, err)
			}
		}
		var rows []struct {
			ID       int64  `db:"id"`
			Number   string `db:"number"`
			Assignee int64  `db:"assignee_id"`
		}
		if err := db.SQL().Select(&rows, `SELECT id, number, assignee_id FROM cases ORDER BY number`); err != nil {
			t.Fatal(err)
		}
		want := 1 + n - n/4
		if len(rows) != want {
			t.Fatalf("%d cases, want %d", len(rows), want)
		}
		byOfficer := map[int64]int{}
		for i, r := range rows {
			if w := fmt.Sprintf("TM-2026-%06d", i+1); r.Number != w {
				t.Fatalf("case %d is %s, want %s (numbers %v)", i, r.Number, w, rows)
			}
			byOfficer[r.Assignee]++
			v, err := db.VerifyCase(staff, r.ID)
			if err != nil || !v.Valid {
				t.Fatalf("case %s does not verify: %+v %v", r.Number, v, err)
			}
		}
		counts := []int{}
		for _, c := range byOfficer {
			counts = append(counts, c)
		}
		sort.Ints(counts)
		if len(counts) != 2 || counts[1]-counts[0] > 1 {
			t.Fatalf("round robin: %v", byOfficer)
		}
		var steps int
		if err := db.SQL().Get(&steps, `SELECT COUNT(*) FROM case_steps WHERE action = 'submit'`); err != nil || steps != want {
			t.Fatalf("%d submit steps for %d cases (%v)", steps, want, err)
		}
		a, err := db.VerifyAuditChain(ctx, m.ID)
		if err != nil || !a.Valid {
			t.Fatalf("audit chain: %+v %v", a, err)
		}
	})
}

// signedInTaxpayer registers Ana in m and returns her signed-in context.
func signedInTaxpayer(t *testing.T, db *store.DB, m *fiscal.Municipality) (context.Context, *fiscal.Taxpayer) {
	t.Helper()
	ctx := context.Background()
	_, tp, err := db.Register(ctx, m.ID, registration("ana", "2850615350041"))
	if err != nil {
		t.Fatal(err)
	}
	sess, err := db.Login(ctx, m.ID, "ana", "o parolă lungă")
	if err != nil {
		t.Fatal(err)
	}
	actor, err := db.Authenticate(ctx, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	return fiscal.WithActor(ctx, actor), tp
}

// registrationData is a vehicle registration's form with the i-th VIN.
func registrationData(i int) json.RawMessage {
	data, _ := json.Marshal(map[string]any{"vin": fmt.Sprintf("WVWZZZAUZHW%06d", i), "plate": "TM-01-ANA", "category": "car",
		"engine_cc": 1598, "emission_class": "euro6", "propulsion": "combustion", "acquired_on": "2026-03-10", "acquisition_document": "sale_contract"})
	return data
}

// Reading a case, verifying it and opening its documents are read
// transactions: they answer while write transactions hold the writer
// (SQLite) or every connection of the write pool (PostgreSQL).
func TestReadsDoNotTakeTheWriter(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		ana, tp := signedInTaxpayer(t, db, m)
		c, err := db.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CaseVehicleRegistration, TaxpayerID: tp.ID, Data: registrationData(1)})
		if err != nil {
			t.Fatal(err)
		}
		att, err := db.AddAttachment(ana, c.ID, &fiscal.Upload{Kind: "owner_id", Filename: "ci.pdf", Content: bytes.NewReader([]byte("%PDF-1.4\n%test\n"))})
		if err != nil {
			t.Fatal(err)
		}
		// Writers hold what every write needs (the writer on SQLite; every
		// connection of the write pool on PostgreSQL) until released.
		writers := 1
		if db.Dialect() == "postgres" {
			writers = store.PGWritePool
		}
		release := make(chan struct{})
		holding := make(chan struct{}, writers)
		var wg sync.WaitGroup
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = db.InTx(ana, func(tx *store.Tx) error {
					holding <- struct{}{}
					<-release
					return nil
				})
			}()
		}
		for range writers {
			<-holding
		}
		done := make(chan error, 1)
		go func() {
			if _, err := db.Case(ana, c.ID); err != nil {
				done <- fmt.Errorf("case: %w", err)
				return
			}
			if v, err := db.VerifyCase(ana, c.ID); err != nil || !v.Valid {
				done <- fmt.Errorf("verify: %+v %w", v, err)
				return
			}
			_, rc, err := db.AttachmentContent(ana, c.ID, att.ID)
			if err == nil {
				rc.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(5 * time.Second):
			t.Error("a read waited for the writer")
		}
		close(release)
		wg.Wait()
	})
}

// TestIntakeCancelledWhileFiled files intakes at once, a third of which
// come from requests that go away (their context is cancelled) while their
// group is being filed. A request that went away either filed nothing or
// filed its case whole; the others are not cut short by it; the numbers
// stay gapless and every filed case verifies. A request cancelled before it
// reached the queue says so and leaves nothing.
func TestIntakeCancelledWhileFiled(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		staff, _ := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		ana, tp := signedInTaxpayer(t, db, m)
		const n = 30
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				rctx := ana
				if i%3 == 0 {
					c, cancel := context.WithCancel(ana)
					rctx = c
					go func() { time.Sleep(time.Duration(i%7) * time.Millisecond); cancel() }()
				}
				_, errs[i] = db.CreateCase(rctx, &fiscal.NewCase{Type: fiscal.CaseVehicleRegistration, TaxpayerID: tp.ID, Data: registrationData(i)})
			}(i)
		}
		wg.Wait()
		var rows []struct {
			ID     int64  `db:"id"`
			Number string `db:"number"`
			Data   string `db:"data"`
		}
		if err := db.SQL().Select(&rows, `SELECT id, number, data FROM cases ORDER BY number`); err != nil {
			t.Fatal(err)
		}
		filed := map[string]bool{}
		for i, r := range rows {
			if w := fmt.Sprintf("TM-2026-%06d", i+1); r.Number != w {
				t.Fatalf("case %d is %s, want %s", i, r.Number, w)
			}
			var d struct {
				VIN string `json:"vin"`
			}
			if err := json.Unmarshal([]byte(r.Data), &d); err != nil {
				t.Fatal(err)
			}
			filed[d.VIN] = true
			v, err := db.VerifyCase(staff, r.ID)
			if err != nil || !v.Valid {
				t.Fatalf("case %s does not verify: %+v %v", r.Number, v, err)
			}
		}
		cancelled := 0
		for i, err := range errs {
			var d struct {
				VIN string `json:"vin"`
			}
			json.Unmarshal(registrationData(i), &d)
			switch {
			case err == nil && !filed[d.VIN]:
				t.Fatalf("intake %d answered a case that is not there", i)
			case err != nil && i%3 != 0:
				t.Fatalf("intake %d, not cancelled, failed: %v", i, err)
			case err != nil && filed[d.VIN]:
				t.Fatalf("intake %d failed (%v) but its case was filed", i, err)
			case err != nil:
				cancelled++
			}
		}
		t.Logf("%d filed, %d requests gone before they were filed", len(rows), cancelled)
		if len(rows)+cancelled != n {
			t.Fatalf("%d filed + %d refused != %d", len(rows), cancelled, n)
		}
		a, err := db.VerifyAuditChain(ctx, m.ID)
		if err != nil || !a.Valid {
			t.Fatalf("audit chain: %+v %v", a, err)
		}
	})
}

// TestIntakeGroupStatementFails files intakes at once, some of which a
// trigger refuses when their case row is inserted: a statement that fails
// inside a group. Each refused intake answers its own error and the others
// are filed (on PostgreSQL the failed statement aborts the group's
// transaction, which is filed again without it; on SQLite a savepoint
// undoes it): gapless numbers, and the audit chain verifies.
func TestIntakeGroupStatementFails(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		ana, tp := signedInTaxpayer(t, db, m)
		trigger := `CREATE TRIGGER refuse_marked BEFORE INSERT ON cases FOR EACH ROW WHEN (NEW.data LIKE '%WVWZZZAUZHW0009%')
			BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`
		if db.Dialect() == "postgres" {
			trigger = `CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
				CREATE TRIGGER refuse_marked BEFORE INSERT ON cases FOR EACH ROW WHEN (NEW.data::text LIKE '%WVWZZZAUZHW0009%') EXECUTE FUNCTION refuse_marked()`
		}
		if _, err := db.SQL().Exec(trigger); err != nil {
			t.Fatal(err)
		}
		const n = 24
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v := i + 1
				if i%3 == 0 {
					v = 900 + i // refused by the trigger
				}
				_, errs[i] = db.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CaseVehicleRegistration, TaxpayerID: tp.ID, Data: registrationData(v)})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if (i%3 == 0) != (err != nil) {
				t.Fatalf("intake %d: %v", i, err)
			}
		}
		var numbers []string
		if err := db.SQL().Select(&numbers, `SELECT number FROM cases ORDER BY number`); err != nil {
			t.Fatal(err)
		}
		if len(numbers) != n-n/3 {
			t.Fatalf("%d cases, want %d", len(numbers), n-n/3)
		}
		for i, num := range numbers {
			if w := fmt.Sprintf("TM-2026-%06d", i+1); num != w {
				t.Fatalf("case %d is %s, want %s", i, num, w)
			}
		}
		if a, err := db.VerifyAuditChain(ctx, m.ID); err != nil || !a.Valid {
			t.Fatalf("audit chain: %+v %v", a, err)
		}
	})
}
