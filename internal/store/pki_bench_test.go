package store_test

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	"fiscald/documents"
	"fiscald/fiscal"
	"fiscald/internal/blob"
	"fiscald/internal/pdf"
	"fiscald/internal/signing"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/internal/trust"
)

// BenchmarkStepSigning is an officer's review (one signed step) on SQLite,
// signed with an Ed25519 key (before this issue) or as CAdES with the
// in-process TSA's timestamp taken after the commit. held-us/op is how
// long each review held the writer: the timestamp must not add to it.
func BenchmarkStepSigning(b *testing.B) {
	for _, kind := range []string{"ed25519", "cades"} {
		b.Run(kind, func(b *testing.B) {
			clock := fiscal.NewTestClock(storetest.Epoch)
			db := storetest.MustOpen(b, "sqlite", clock)
			if kind == "cades" {
				withPKI(b, db, clock, signing.NewRandom())
			}
			m := storetest.Municipality(b, db, "timisoara")
			officer, _ := storetest.Staff(b, db, m, "officer1", fiscal.RoleOfficer)
			ana, tp := taxpayerTB(b, db, m)
			ids := make([]int64, 0, b.N)
			for i := range b.N {
				c, err := db.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CaseVehicleRegistration, TaxpayerID: tp.ID, Data: registrationData(i + 1)})
				if err != nil {
					b.Fatal(err)
				}
				ids = append(ids, c.ID)
			}
			before := db.WriteStats()
			b.ResetTimer()
			for _, id := range ids {
				if _, err := db.Review(officer, id, &fiscal.Decision{Decision: fiscal.DecisionReject, Comment: "incomplet"}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			after := db.WriteStats()
			if n := after.Count - before.Count; n > 0 {
				b.ReportMetric(float64((after.Held-before.Held)/time.Microsecond)/float64(n), "held-us/op")
			}
			if v, err := db.VerifyCase(officer, ids[0]); err != nil || !v.Valid {
				b.Fatalf("verify: %+v %v", v, err)
			}
		})
	}
}

// usePAdES makes db seal its documents PAdES B-LT with a fresh demo CA.
func usePAdES(b *testing.B, db *store.DB, clock fiscal.Clock) {
	b.Helper()
	dir := b.TempDir()
	ca, err := trust.Ensure(dir, "Municipiul Timișoara", clock.Now())
	if err != nil {
		b.Fatal(err)
	}
	vault := signing.NewRandom()
	vault.UsePKI(ca, nil, clock.Now)
	cert, key, err := vault.EnsureSeal(dir, "Municipiul Timișoara", clock.Now())
	if err != nil {
		b.Fatal(err)
	}
	blobs, err := blob.NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	db.UseDocuments(&documents.Producer{Blobs: blobs, PublicURL: storetest.PublicURL, PAdES: &pdf.PAdES{Cert: cert, Key: key, Chain: ca.Chain(),
		TSA: trust.Clocked{A: ca, Now: clock.Now}, Validation: ca.Validation(context.Background(), clock.Now), Extra: []*x509.Certificate{ca.TSA}}})
}
