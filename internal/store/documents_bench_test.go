package store_test

import (
	"context"
	"testing"

	"fiscald/calc"
	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// BenchmarkIssueCertificate is the whole issue of a fiscal clearance
// certificate on SQLite, as POST /api/v1/certificates runs it: the pending
// payments check, then one transaction that reads the account (debts, late
// fees), allocates the number, renders the PDF, signs it, stores it in the
// blob folder (fsync) and records the document with its audit entry.
func BenchmarkIssueCertificate(b *testing.B) { benchIssueCertificate(b, false) }

// BenchmarkIssueCertificatePAdES is BenchmarkIssueCertificate with the
// document sealed PAdES B-LT (pki_bench_test.go): the timestamp from the
// in-process TSA and the DSS with OCSP responses and CRLs.
func BenchmarkIssueCertificatePAdES(b *testing.B) { benchIssueCertificate(b, true) }

func benchIssueCertificate(b *testing.B, pades bool) {
	clock := fiscal.NewTestClock(storetest.Epoch)
	db := storetest.MustOpen(b, "sqlite", clock)
	if pades {
		usePAdES(b, db, clock)
	}
	m := storetest.Municipality(b, db, "timisoara")
	ctx, _ := storetest.Staff(b, db, m, "ioana", fiscal.RoleOfficer)
	tp, err := db.CreateTaxpayer(ctx, &fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: "2850615350041", Name: "Ștefănescu Țărână Ioana", Address: "Str. Mărășești 1, Timișoara"})
	if err != nil {
		b.Fatal(err)
	}
	// Two cars with overdue instalments: a certificate with debts and late fees.
	sys := fiscal.WithActor(context.Background(), &fiscal.Actor{System: true, Username: "bench", MunicipalityID: m.ID})
	e, err := db.TaxEngine(sys, m.ID)
	if err != nil {
		b.Fatal(err)
	}
	for _, vin := range []string{"WVWZZZAUZHW123456", "WVWZZZ1JZXW000001"} {
		v := &fiscal.Vehicle{TaxpayerID: tp.ID, VIN: vin, Plate: "TM-01-ANA", Category: "car", EngineCC: 1598, EmissionClass: "euro6",
			Propulsion: "combustion", AcquiredOn: civil.MustParse("2020-01-10"), TaxedFromYear: 2021}
		a, _ := e.Annual("timisoara", 2026, v.VehicleObject())
		inst, _ := e.Installments("timisoara", 2026, a.Annual)
		if err := db.InTx(sys, func(tx *store.Tx) error {
			if err := tx.InsertVehicle(sys, m.ID, v); err != nil {
				return err
			}
			_, _, err := tx.RecordAssessment(sys, m.ID, &fiscal.NewAssessment{TaxpayerID: tp.ID, TaxType: calc.TaxVehicle, ObjectKind: "vehicle",
				ObjectID: v.ID, Year: 2026, Assessment: a, Installments: inst, Source: "annual"})
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	req := &fiscal.CertificateRequest{Type: fiscal.DocFiscalClearance, TaxpayerID: tp.ID}
	if _, err := db.RequestCertificate(ctx, req); err != nil { // warm the caches
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := db.RequestCertificate(ctx, req)
		if err != nil || res.Status != fiscal.CertificateIssued {
			b.Fatal(res, err)
		}
	}
}
