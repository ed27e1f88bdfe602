package demo_test

import (
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/demo"
	"fiscald/internal/money"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/payments"
	"fiscald/payments/stripe"
)

// TestDemoSeed: on an empty database the demo files import whole and ana
// opens her account; a second start writes nothing (not even an audit
// entry); ana's statement shows her debts carried over from 2025 with the
// late fees to today.
func TestDemoSeed(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		clock.Set(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
		m := storetest.Municipality(t, db, "timisoara")
		sys := fiscal.WithActor(t.Context(), &fiscal.Actor{System: true, Username: "fiscald serve --demo", MunicipalityID: m.ID})
		start := time.Now()
		res, err := demo.Seed(sys, db, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("first start: %d imports in %s", len(res.Imports), time.Since(start))
		if len(res.Imports) != 5 || !res.AnaEnrolled {
			t.Fatalf("first start: %+v", res)
		}
		for _, r := range res.Imports {
			if r.Rejected != 0 || r.Imported != r.Rows || r.Rows == 0 {
				t.Fatalf("demo import of %s: %+v", r.Kind, r)
			}
		}
		counts := func() map[string]int {
			out := map[string]int{}
			for _, tb := range []string{"taxpayers", "vehicles", "buildings", "lands", "debts", "users", "audit_log", "imports", "enrollment_codes"} {
				var n int
				if err := db.SQL().Get(&n, `SELECT COUNT(*) FROM `+tb); err != nil {
					t.Fatal(err)
				}
				out[tb] = n
			}
			return out
		}
		before := counts()
		if before["taxpayers"] != 300 || before["buildings"] < 150 {
			t.Fatalf("demo city: %v", before)
		}
		res, err = demo.Seed(sys, db, m.ID)
		if err != nil || len(res.Imports) != 0 || res.AnaEnrolled {
			t.Fatalf("restart: %+v %v", res, err)
		}
		if after := counts(); len(after) != len(before) || after["audit_log"] != before["audit_log"] || after["imports"] != before["imports"] ||
			after["debts"] != before["debts"] || after["users"] != before["users"] {
			t.Fatalf("the restart wrote: %v → %v", before, after)
		}

		sess, err := db.Login(t.Context(), m.ID, demo.Ana.Username, demo.Ana.Password)
		if err != nil {
			t.Fatal(err)
		}
		actor, err := db.Authenticate(t.Context(), sess.Token)
		if err != nil || actor.TaxpayerID == nil {
			t.Fatalf("ana: %+v %v", actor, err)
		}
		sc, err := stripe.New(stripe.Config{WebhookSecret: "whsec_test"})
		if err != nil {
			t.Fatal(err)
		}
		st, err := payments.NewService(db, sc, clock).Statement(fiscal.WithActor(t.Context(), actor), *actor.TaxpayerID, civil.Date{})
		if err != nil {
			t.Fatal(err)
		}
		// 82 lei of the flat's tax due 31 March 2025 (21 started months: 17.22
		// → 17 lei) and 83 lei of the car's due 30 September 2025 (15
		// months: 12.45 → 12 lei).
		L := money.Lei
		if len(st.Debts) != 2 || st.Debts[0].TaxType != "building" || st.Debts[0].Outstanding != L(82) || st.Debts[0].LateFees != L(17) ||
			st.Debts[1].TaxType != "vehicle" || st.Debts[1].Outstanding != L(83) || st.Debts[1].LateFees != L(12) || st.TotalDue != L(194) {
			t.Fatalf("ana's statement: %+v", st)
		}
	})
}

// TestDemoSeedTwoInstances: two instances starting with --demo at once on
// one database both start, and the demo city is there once.
func TestDemoSeedTwoInstances(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		sys := fiscal.WithActor(t.Context(), &fiscal.Actor{System: true, Username: "fiscald serve --demo", MunicipalityID: m.ID})
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := demo.Seed(sys, db, m.ID)
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		var n, users, keys int
		db.SQL().Get(&n, `SELECT COUNT(*) FROM taxpayers`)
		db.SQL().Get(&users, `SELECT COUNT(*) FROM users WHERE username = 'ana'`)
		db.SQL().Get(&keys, `SELECT COUNT(*) FROM import_keys`)
		if n != 300 || users != 1 || keys != 300+225+198+80+106 {
			t.Fatalf("taxpayers %d, ana accounts %d, import keys %d", n, users, keys)
		}
	})
}
