package store_test

import (
	"context"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/money"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestTaxpayerPaymentsAndStaffUsers: who may list a taxpayer's payments
// (the taxpayer, staff of the municipality; another taxpayer and another
// municipality's staff get 404) and the staff directory (staff only).
func TestTaxpayerPaymentsAndStaffUsers(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		other := storetest.Municipality(t, db, "arad")
		ua, ana, err := db.Register(ctx, m.ID, registration("ana", "2850615350041"))
		if err != nil {
			t.Fatal(err)
		}
		ub, _, err := db.Register(ctx, m.ID, registration("bob", "1850315350012"))
		if err != nil {
			t.Fatal(err)
		}
		officer, _ := storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
		away, _ := storetest.Staff(t, db, other, "vasile", fiscal.RoleOfficer)
		asTaxpayer := func(u *fiscal.User) context.Context {
			return fiscal.WithActor(ctx, &fiscal.Actor{UserID: u.ID, Username: u.Username, Role: fiscal.RoleTaxpayer, MunicipalityID: m.ID, TaxpayerID: u.TaxpayerID, Assurance: fiscal.AssuranceSelf})
		}
		if _, err := db.RecordCashPayment(officer, &fiscal.CashPaymentInput{TaxpayerID: ana.ID, Amount: money.Lei(50)}); err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]context.Context{"the taxpayer": asTaxpayer(ua), "an officer": officer} {
			ps, err := db.TaxpayerPayments(c, ana.ID)
			if err != nil || len(ps) != 1 || ps[0].Amount != money.Lei(50) || ps[0].ReceiptNumber == nil || ps[0].Credit != money.Lei(50) {
				t.Fatalf("%s: %+v %v", name, ps, err)
			}
		}
		for name, c := range map[string]context.Context{"another taxpayer": asTaxpayer(ub), "another municipality": away} {
			if _, err := db.TaxpayerPayments(c, ana.ID); fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
				t.Fatalf("%s: %v", name, err)
			}
		}
		us, err := db.StaffUsers(officer)
		if err != nil || len(us) != 1 || us[0].Username != "ioana" {
			t.Fatalf("staff users: %+v %v", us, err)
		}
		if _, err := db.StaffUsers(asTaxpayer(ua)); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("taxpayer listing staff: %v", err)
		}
	})
}
