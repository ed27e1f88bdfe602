package demo_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/demo"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/internal/testroeid"
)

// demoCity seeds what `fiscald serve --demo` has before its cases: the demo
// staff (cmd/fiscald's demoAccounts), the imported city with ana's account,
// and the test ROeID's person on file.
func demoCity(t *testing.T, db *store.DB, m *fiscal.Municipality, sys context.Context) {
	t.Helper()
	for _, s := range []struct {
		name string
		role fiscal.Role
	}{{demo.Officer, fiscal.RoleOfficer}, {demo.Signer, fiscal.RoleSigner}} {
		if _, err := db.CreateStaff(t.Context(), m.ID, s.name, storetest.StaffPassword, s.role, s.name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := demo.Seed(sys, db, m.ID); err != nil {
		t.Fatal(err)
	}
	p, cnp, done := testroeid.DemoRegistered, testroeid.DemoRegistered.CNP, false
	if _, err := db.BulkLoad(sys, m.ID, "seed.demo_registered", func() (*store.SeedTaxpayer, error) {
		if done {
			return nil, nil
		}
		done = true
		return &store.SeedTaxpayer{Taxpayer: fiscal.Taxpayer{Kind: fiscal.Individual, CNP: &cnp, Name: p.Nume + " " + p.Prenume, Address: p.Adresa}}, nil
	}); err != nil {
		t.Fatal(err)
	}
}

func demoCounts(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tb := range []string{"cases", "case_steps", "case_attachments", "case_events", "documents", "audit_log", "idempotency_keys", "notifications", "sessions"} {
		var n int
		if err := db.SQL().Get(&n, `SELECT COUNT(*) FROM `+tb); err != nil {
			t.Fatal(err)
		}
		out[tb] = n
	}
	return out
}

// TestDemoCases: after the demo's seeding the officer's queue has a case
// of ana's and one of Stan Gheorghe's waiting for review, the signer's
// queue one of each reviewed, and each of them sees an approved fiscal
// certificate whose PDF downloads; every case's chain of signed steps and
// the audit chain verify; a second start writes nothing.
func TestDemoCases(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		clock.Set(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
		m := storetest.Municipality(t, db, "timisoara")
		sys := fiscal.WithActor(t.Context(), &fiscal.Actor{System: true, Username: "fiscald serve --demo", MunicipalityID: m.ID})
		demoCity(t, db, m, sys)
		filed, err := demo.SeedCases(sys, db, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(filed) != len(demo.CaseStories) || len(filed) != 6 {
			t.Fatalf("filed %d cases, want %d", len(filed), len(demo.CaseStories))
		}
		as := func(username string) context.Context {
			u, err := db.UserByUsername(sys, username)
			if err != nil {
				t.Fatal(err)
			}
			return fiscal.WithActor(t.Context(), &fiscal.Actor{UserID: u.ID, Username: u.Username, MunicipalityID: m.ID, Role: u.Role,
				TaxpayerID: u.TaxpayerID, Assurance: u.Assurance})
		}
		officer, signer := as(demo.Officer), as(demo.Signer)
		ana := as(demo.Ana.Username)
		anaID := *fiscal.ActorFrom(ana).TaxpayerID
		found, _, err := db.FindTaxpayers(sys, fiscal.TaxpayerFilter{Q: testroeid.DemoRegistered.CNP, Limit: 1})
		if err != nil || len(found) != 1 {
			t.Fatalf("Stan Gheorghe: %v %v", found, err)
		}
		stanID := found[0].ID
		// The look-up of accounts by name is the staff's and the system's.
		if _, err := db.UserByUsername(ana, demo.Officer); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("a taxpayer looks up an account by name: %v", err)
		}
		// Stan signs in with ROeID: a verified account of his record.
		stan := fiscal.WithActor(t.Context(), &fiscal.Actor{UserID: -1, Username: "roeid", MunicipalityID: m.ID, Role: fiscal.RoleTaxpayer,
			TaxpayerID: &stanID, Assurance: fiscal.AssuranceVerified})

		queue := func(ctx context.Context, status fiscal.CaseStatus) map[int64][]*fiscal.Case {
			cs, _, err := db.Cases(ctx, fiscal.CaseFilter{Status: string(status), Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			out := map[int64][]*fiscal.Case{}
			for _, c := range cs {
				out[c.TaxpayerID] = append(out[c.TaxpayerID], c)
			}
			return out
		}
		waiting := queue(officer, fiscal.StatusSubmitted)
		reviewed := queue(signer, fiscal.StatusReviewed)
		for _, tp := range []int64{anaID, stanID} {
			if len(waiting[tp]) != 1 || waiting[tp][0].Type != fiscal.CasePetition {
				t.Errorf("officer's queue for taxpayer %d: %+v", tp, waiting[tp])
			}
			if len(reviewed[tp]) != 1 || reviewed[tp][0].Type != fiscal.CaseFiscalCertificate {
				t.Errorf("signer's queue for taxpayer %d: %+v", tp, reviewed[tp])
			}
		}
		if len(waiting) != 2 || len(reviewed) != 2 {
			t.Errorf("queues: %d waiting, %d reviewed", len(waiting), len(reviewed))
		}

		// Each taxpayer sees their three cases and downloads the approved
		// certificate.
		for name, ctx := range map[string]context.Context{"ana": ana, "stan": stan} {
			mine, _, err := db.Cases(ctx, fiscal.CaseFilter{Status: "all", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			statuses := map[fiscal.CaseStatus]int64{}
			for _, c := range mine {
				statuses[c.Status] = c.ID
			}
			approved := statuses[fiscal.StatusApproved]
			if len(mine) != 3 || approved == 0 || statuses[fiscal.StatusReviewed] == 0 || statuses[fiscal.StatusSubmitted] == 0 {
				t.Fatalf("%s's cases: %+v", name, statuses)
			}
			docs, err := db.TaxpayerDocuments(ctx, *fiscal.ActorFrom(ctx).TaxpayerID)
			if err != nil {
				t.Fatal(err)
			}
			var cert *fiscal.Document
			for _, d := range docs {
				if d.CaseID != nil && *d.CaseID == approved && d.Type == fiscal.DocFiscalClearance {
					cert = d
				}
			}
			if cert == nil {
				t.Fatalf("%s: no certificate of case %d in %+v", name, approved, docs)
			}
			_, rc, err := db.DocumentPDF(ctx, cert.ID)
			if err != nil {
				t.Fatal(err)
			}
			pdf, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
				t.Fatalf("%s's certificate: %d bytes, %v", name, len(pdf), err)
			}
		}

		var ids []int64
		if err := db.SQL().Select(&ids, `SELECT id FROM cases ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			v, err := db.VerifyCase(officer, id)
			if err != nil || !v.Valid {
				t.Fatalf("case %d: %+v %v", id, v, err)
			}
		}
		if v, err := db.VerifyAudit(officer); err != nil || !v.Valid {
			t.Fatalf("audit: %+v %v", v, err)
		}
		// The registry person has no address: no message for them waits
		// in the outbox forever (the timeline is their record).
		var undeliverable int
		if err := db.SQL().Get(&undeliverable, `SELECT COUNT(*) FROM notifications WHERE recipient = ''`); err != nil || undeliverable != 0 {
			t.Fatalf("notifications without a recipient: %d %v", undeliverable, err)
		}

		// A restart: the import, ana's account and the cases are found.
		before := demoCounts(t, db)
		if _, err := demo.Seed(sys, db, m.ID); err != nil {
			t.Fatal(err)
		}
		again, err := demo.SeedCases(sys, db, m.ID)
		if err != nil || len(again) != 0 {
			t.Fatalf("restart filed %d cases: %v", len(again), err)
		}
		if after := demoCounts(t, db); len(after) != len(before) {
			t.Fatalf("counts: %v → %v", before, after)
		} else {
			for k, n := range before {
				if after[k] != n {
					t.Fatalf("the restart wrote %s: %v → %v", k, before, after)
				}
			}
		}
	})
}

// TestDemoCasesTwoInstances: two instances seeding the demo at once file
// every case once and take each to its status once.
func TestDemoCasesTwoInstances(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		sys := fiscal.WithActor(t.Context(), &fiscal.Actor{System: true, Username: "fiscald serve --demo", MunicipalityID: m.ID})
		demoCity(t, db, m, sys)
		errs := make(chan error, 2)
		filed := make(chan int, 2)
		for range 2 {
			go func() {
				cs, err := demo.SeedCases(sys, db, m.ID)
				filed <- len(cs)
				errs <- err
			}()
		}
		total := 0
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
			total += <-filed
		}
		c := demoCounts(t, db)
		var statuses []struct {
			Status string `db:"status"`
			N      int    `db:"n"`
		}
		if err := db.SQL().Select(&statuses, `SELECT status, COUNT(*) AS n FROM cases GROUP BY status ORDER BY status`); err != nil {
			t.Fatal(err)
		}
		// submit (2 petitions + 4 certificates), review (4), sign (2).
		if total != 6 || c["cases"] != 6 || c["case_attachments"] != 4 || c["case_steps"] != 6+4+2 || c["idempotency_keys"] != 6 {
			t.Fatalf("filed %d; counts %v; statuses %+v", total, c, statuses)
		}
	})
}
