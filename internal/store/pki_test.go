package store_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/blob"
	"fiscald/internal/cades"
	"fiscald/internal/signing"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/internal/trust"
)

// withPKI gives db a vault whose keys are certified by a fresh demo CA
// (the file backend) and returns it with the authority.
func withPKI(t testing.TB, db *store.DB, clock fiscal.Clock, vault *signing.Vault) *trust.Authority {
	t.Helper()
	ca, err := trust.Ensure(t.TempDir(), "Municipiul Timișoara", clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	ca.UseStatus(db.RevocationStatus())
	blobs, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	vault.UsePKI(ca, nil, clock.Now)
	db.UseCaseDeps(vault, blobs)
	return ca
}

func openssl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl not found: %v", err)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

// TestStepsAreCAdESVerifiableWithOpenSSL: an officer's step is a detached
// CAdES-B-T signature by the officer's certificate that openssl verifies
// with the published CA (cms -verify, ts -verify) and a tampered content
// fails; another taxpayer cannot read it.
func TestStepsAreCAdESVerifiableWithOpenSSL(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		withPKI(t, db, clock, signing.NewRandom())
		m := storetest.Municipality(t, db, "timisoara")
		officer, _ := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		ana, tp := signedInTaxpayer(t, db, m)
		c, err := db.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CaseVehicleRegistration, TaxpayerID: tp.ID, Data: registrationData(1)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Review(officer, c.ID, &fiscal.Decision{Decision: fiscal.DecisionReject, Comment: "lipsește cartea de identitate"}); err != nil {
			t.Fatal(err)
		}
		v, err := db.VerifyCase(officer, c.ID)
		if err != nil || !v.Valid || v.Steps != 2 {
			t.Fatalf("verify: %+v %v", v, err)
		}
		dir := t.TempDir()
		write := func(name string, b []byte) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
		ca := write("ca.pem", db.CAChain())
		for seq, who := range map[int]string{1: "Municipiul", 2: "officer1"} {
			ev, err := db.StepEvidence(ana, c.ID, seq) // the owner may read it
			if err != nil {
				t.Fatal(err)
			}
			if ev.Signature == nil {
				t.Fatalf("step %d has no CAdES signature", seq)
			}
			tok, err := cades.TimestampToken(ev.Signature)
			if err != nil || tok == nil {
				t.Fatalf("step %d is not timestamped (B-T): %v", seq, err)
			}
			content, sig := write("content", ev.Content), write("signature.p7s", ev.Signature)
			signer := write("signer.pem", nil)
			if out, err := openssl(t, "cms", "-verify", "-binary", "-inform", "DER", "-content", content, "-in", sig, "-CAfile", ca, "-out", os.DevNull, "-signer", signer); err != nil {
				t.Fatalf("step %d: openssl cms -verify: %v\n%s", seq, err, out)
			}
			if out, _ := openssl(t, "x509", "-in", signer, "-noout", "-subject"); !strings.Contains(out, who) {
				t.Fatalf("step %d signed by %s, want %s", seq, out, who)
			}
			sv, _ := cades.SignatureValue(ev.Signature)
			if out, err := openssl(t, "ts", "-verify", "-token_in", "-in", write("token.tst", tok), "-data", write("sigvalue", sv), "-CAfile", ca); err != nil {
				t.Fatalf("step %d: openssl ts -verify: %v\n%s", seq, err, out)
			}
			tampered := write("tampered", []byte(strings.Replace(string(ev.Content), `"seq":`, `"seq": `, 1)))
			if out, err := openssl(t, "cms", "-verify", "-binary", "-inform", "DER", "-content", tampered, "-in", sig, "-CAfile", ca, "-out", os.DevNull); err == nil {
				t.Fatalf("step %d: a tampered content verified:\n%s", seq, out)
			}
		}
		if _, err := db.StepEvidence(officer, c.ID, 2); err != nil {
			t.Fatalf("staff read: %v", err)
		}
		if _, err := db.StepEvidence(officer, c.ID, 3); fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
			t.Fatalf("missing step: %v", err)
		}
		// Another taxpayer sees nothing of it.
		_, _, err = db.Register(context.Background(), m.ID, registration("bob", "1850315350012"))
		if err != nil {
			t.Fatal(err)
		}
		sess, err := db.Login(context.Background(), m.ID, "bob", "o parolă lungă")
		if err != nil {
			t.Fatal(err)
		}
		ion, err := db.Authenticate(context.Background(), sess.Token)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.StepEvidence(fiscal.WithActor(context.Background(), ion), c.ID, 1); fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
			t.Fatalf("another taxpayer: %v", err)
		}
		if _, err := db.StepEvidence(context.Background(), c.ID, 1); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
			t.Fatalf("anonymous: %v", err)
		}
	})
}

// The steps an intake signs are timestamped right after its commit (one
// statement for a group's steps), not first at their first read.
func TestStepsTimestampedAfterCommit(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		withPKI(t, db, clock, signing.NewRandom())
		m := storetest.Municipality(t, db, "timisoara")
		ana, tp := signedInTaxpayer(t, db, m)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 { // several at once: filed in groups
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CaseVehicleRegistration, TaxpayerID: tp.ID, Data: registrationData(i + 1)})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var cms []string
		if err := db.SQL().Select(&cms, `SELECT cms FROM case_steps ORDER BY id`); err != nil || len(cms) != 8 {
			t.Fatalf("steps: %d %v", len(cms), err)
		}
		for i, c := range cms {
			p7s, err := base64.StdEncoding.DecodeString(c)
			if err != nil {
				t.Fatal(err)
			}
			if tok, err := cades.TimestampToken(p7s); err != nil || tok == nil {
				t.Fatalf("step %d is stored without its timestamp: %v", i, err)
			}
		}
	})
}

// TestRevokedOfficerSignsNoMore: after the officer's certificate is
// revoked, OCSP and the CRL say so, the officer's next step is refused and
// the steps signed before still verify.
func TestRevokedOfficerSignsNoMore(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ca := withPKI(t, db, clock, signing.NewRandom())
		m := storetest.Municipality(t, db, "timisoara")
		officer, off := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		admin, _ := storetest.Staff(t, db, m, "admin1", fiscal.RoleAdmin)
		ana, tp := signedInTaxpayer(t, db, m)
		var ids []int64
		for i := 1; i <= 2; i++ {
			c, err := db.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CaseVehicleRegistration, TaxpayerID: tp.ID, Data: registrationData(i)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		if _, err := db.Review(officer, ids[0], &fiscal.Decision{Decision: fiscal.DecisionReject, Comment: "incomplet"}); err != nil {
			t.Fatal(err)
		}
		if err := db.RevokeSigningCertificate(officer, off.ID); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("an officer revoked: %v", err)
		}
		ev, err := db.StepEvidence(officer, ids[0], 2)
		if err != nil {
			t.Fatal(err)
		}
		cert := signerOf(t, ev.Signature)
		clock.Advance(60e9)
		if err := db.RevokeSigningCertificate(admin, off.ID); err != nil {
			t.Fatal(err)
		}
		clock.Advance(60e9)
		if _, err := db.Review(officer, ids[1], &fiscal.Decision{Decision: fiscal.DecisionReject, Comment: "incomplet"}); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("a revoked officer's step: %v", err)
		}
		if v, err := db.VerifyCase(officer, ids[0]); err != nil || !v.Valid {
			t.Fatalf("the step before revocation: %+v %v", v, err)
		}
		if v, err := db.VerifyCase(officer, ids[1]); err != nil || !v.Valid || v.Steps != 1 {
			t.Fatalf("the untouched case: %+v %v", v, err)
		}
		resp, err := ca.OCSP(context.Background(), cert, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !ocspRevoked(t, resp, ca) {
			t.Fatal("OCSP does not report the certificate revoked")
		}
		crlDER, err := ca.CRL(context.Background(), clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		crl, err := x509.ParseRevocationList(crlDER)
		if err != nil || crl.CheckSignatureFrom(ca.Issuing) != nil {
			t.Fatalf("crl: %v", err)
		}
		if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(cert.SerialNumber) != 0 {
			t.Fatalf("CRL entries %+v", crl.RevokedCertificateEntries)
		}
	})
}

// TestEd25519StepsStillVerify: steps signed before the CA existed keep
// verifying next to the certified ones that follow.
func TestEd25519StepsStillVerify(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		vault := signing.NewRandom()
		blobs, err := blob.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		db.UseCaseDeps(vault, blobs)
		m := storetest.Municipality(t, db, "timisoara")
		officer, _ := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		ana, tp := signedInTaxpayer(t, db, m)
		c, err := db.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CaseVehicleRegistration, TaxpayerID: tp.ID, Data: registrationData(1)})
		if err != nil {
			t.Fatal(err)
		}
		withPKI(t, db, clock, vault)
		if _, err := db.Review(officer, c.ID, &fiscal.Decision{Decision: fiscal.DecisionReject, Comment: "incomplet"}); err != nil {
			t.Fatal(err)
		}
		if v, err := db.VerifyCase(officer, c.ID); err != nil || !v.Valid || v.Steps != 2 {
			t.Fatalf("verify: %+v %v", v, err)
		}
		ev, err := db.StepEvidence(ana, c.ID, 1)
		if err != nil || ev.Signature != nil || len(ev.Content) == 0 {
			t.Fatalf("the Ed25519 step: %+v %v", ev, err)
		}
		if ev, err := db.StepEvidence(ana, c.ID, 2); err != nil || ev.Signature == nil {
			t.Fatalf("the certified step: %v", err)
		}
		// Tampering with the certified step's signature is caught.
		if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE case_steps SET cms = ? WHERE case_id = ? AND seq = 2`), "MAA=", c.ID); err != nil {
			t.Fatal(err)
		}
		if v, _ := db.VerifyCase(officer, c.ID); v.Valid || v.FirstInvalidStep == nil || *v.FirstInvalidStep != 2 {
			t.Fatalf("a broken CAdES signature verified: %+v", v)
		}
	})
}

// TestDisabledOfficerCertificate: disabling a member of staff revokes their
// certificate for relying parties (OCSP, the CRL) while their earlier steps
// still verify; enabled again, they sign with a new certificate (unlike an
// administrator's revocation, which ends their signing).
func TestDisabledOfficerCertificate(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ca := withPKI(t, db, clock, signing.NewRandom())
		m := storetest.Municipality(t, db, "timisoara")
		officer, off := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		admin, _ := storetest.Staff(t, db, m, "admin1", fiscal.RoleAdmin)
		ana, tp := signedInTaxpayer(t, db, m)
		var ids []int64
		for i := 1; i <= 2; i++ {
			c, err := db.CreateCase(ana, &fiscal.NewCase{Type: fiscal.CaseVehicleRegistration, TaxpayerID: tp.ID, Data: registrationData(i)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		if _, err := db.Review(officer, ids[0], &fiscal.Decision{Decision: fiscal.DecisionReject, Comment: "incomplet"}); err != nil {
			t.Fatal(err)
		}
		ev, err := db.StepEvidence(officer, ids[0], 2)
		if err != nil {
			t.Fatal(err)
		}
		first := signerOf(t, ev.Signature)
		clock.Advance(60e9)
		if _, err := db.DisableUser(admin, off.ID); err != nil {
			t.Fatal(err)
		}
		clock.Advance(60e9)
		resp, err := ca.OCSP(context.Background(), first, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !ocspRevoked(t, resp, ca) {
			t.Fatal("OCSP does not report a disabled officer's certificate revoked")
		}
		if _, err := db.EnableUser(admin, off.ID); err != nil {
			t.Fatal(err)
		}
		sess, err := db.Login(context.Background(), m.ID, "officer1", storetest.StaffPassword)
		if err != nil {
			t.Fatal(err)
		}
		a, err := db.Authenticate(context.Background(), sess.Token)
		if err != nil {
			t.Fatal(err)
		}
		officer = fiscal.WithActor(context.Background(), a)
		if _, err := db.Review(officer, ids[1], &fiscal.Decision{Decision: fiscal.DecisionReject, Comment: "incomplet"}); err != nil {
			t.Fatalf("an officer enabled again cannot sign: %v", err)
		}
		ev, err = db.StepEvidence(officer, ids[1], 2)
		if err != nil {
			t.Fatal(err)
		}
		if second := signerOf(t, ev.Signature); second.SerialNumber.Cmp(first.SerialNumber) == 0 {
			t.Fatal("the officer enabled again signs with the revoked certificate")
		}
		for _, id := range ids {
			if v, err := db.VerifyCase(admin, id); err != nil || !v.Valid {
				t.Fatalf("case %d: %+v %v", id, v, err)
			}
		}
	})
}
