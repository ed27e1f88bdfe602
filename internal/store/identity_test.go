package store_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// onFile enters an individual in the registry as an officer would.
func onFile(t *testing.T, db *store.DB, ctx context.Context, cnp, name string) *fiscal.Taxpayer {
	t.Helper()
	tp, err := db.CreateTaxpayer(ctx, &fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: cnp, Name: name, Address: "Str. Alba Iulia 2, Timișoara"})
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func enrollment(code, cnp, username string) *fiscal.Enrollment {
	return &fiscal.Enrollment{Code: code, CNP: cnp, Username: username, Password: "o parolă lungă", Email: username + "@example.ro"}
}

// codeState is how many of the taxpayer's codes are used, revoked, active.
func codeState(t *testing.T, db *store.DB, taxpayerID int64) (used, revoked, active int) {
	t.Helper()
	q := func(where string) int {
		var n int
		if err := db.SQL().Get(&n, db.SQL().Rebind(`SELECT COUNT(*) FROM enrollment_codes WHERE taxpayer_id = ? AND `+where), taxpayerID); err != nil {
			t.Fatal(err)
		}
		return n
	}
	return q("used_at IS NOT NULL"), q("revoked_at IS NOT NULL"), q("used_at IS NULL AND revoked_at IS NULL")
}

// TestEnrollmentCodes: an officer issues a code for a taxpayer on file; a
// wrong code, another taxpayer's code, a used, a revoked and an expired
// code are all 422 naming "code" and consume nothing; the right one opens a
// verified account linked to the existing record. Codes are stored hashed
// and never written to the audit log; only officers and admins issue them.
func TestEnrollmentCodes(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		officer, _ := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		signer, _ := storetest.Staff(t, db, m, "signer1", fiscal.RoleSigner)
		ana := onFile(t, db, officer, "2850615350041", "Ana Popescu")
		mihai := onFile(t, db, officer, "1850315350012", "Mihai Ionescu")

		if _, err := db.IssueEnrollmentCode(signer, ana.ID); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("signer issued a code: %v", err)
		}
		if _, err := db.IssueEnrollmentCode(ctx, ana.ID); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
			t.Fatalf("anonymous issued a code: %v", err)
		}
		if _, err := db.IssueEnrollmentCode(officer, 999999); fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
			t.Fatalf("unknown taxpayer: %v", err)
		}
		anaCode, err := db.IssueEnrollmentCode(officer, ana.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(anaCode.Code) != 19 || anaCode.ExpiresOn.String() != "2026-08-06" { // Epoch 2026-05-08 + 90 days
			t.Fatalf("code %+v", anaCode)
		}
		mihaiCode, err := db.IssueEnrollmentCode(officer, mihai.ID)
		if err != nil {
			t.Fatal(err)
		}

		refused := func(what string, e *fiscal.Enrollment) {
			t.Helper()
			_, _, err := db.Enroll(ctx, m.ID, e, "192.0.2."+what[:1])
			var fe *fiscal.Error
			if fiscal.ErrorCode(err) != fiscal.EINVALID || !asError(err, &fe) || len(fe.Fields) != 1 || fe.Fields[0].Field != "code" {
				t.Fatalf("%s: %v, want EINVALID naming code", what, err)
			}
		}
		wrong := []byte(strings.ReplaceAll(anaCode.Code, "-", ""))
		wrong[0] = "01"[map[bool]int{true: 1, false: 0}[wrong[0] == '0']]
		refused("1 wrong code", enrollment(string(wrong), "2850615350041", "ana"))
		refused("2 another taxpayer's code", enrollment(mihaiCode.Code, "2850615350041", "ana"))
		refused("3 a CNP not on file", enrollment(anaCode.Code, "1900101350014", "ana"))
		if used, revoked, active := codeState(t, db, ana.ID); used+revoked != 0 || active != 1 {
			t.Fatalf("a refused attempt consumed the code: used %d revoked %d active %d", used, revoked, active)
		}

		// The right code, typed loosely (lower case, spaces).
		loose := strings.ToLower(strings.ReplaceAll(anaCode.Code, "-", " "))
		u, tp, err := db.Enroll(ctx, m.ID, enrollment(loose, "2850615350041", "ana"), "192.0.2.9")
		if err != nil {
			t.Fatal(err)
		}
		if tp.ID != ana.ID || u.TaxpayerID == nil || *u.TaxpayerID != ana.ID || u.Assurance != fiscal.AssuranceVerified || u.Role != fiscal.RoleTaxpayer {
			t.Fatalf("enrolled %+v %+v", u, tp)
		}
		if _, err := db.Login(ctx, m.ID, "ana", "o parolă lungă"); err != nil {
			t.Fatalf("the enrolled account cannot sign in: %v", err)
		}
		refused("4 a used code", enrollment(anaCode.Code, "2850615350041", "ana2"))
		if _, err := db.IssueEnrollmentCode(officer, ana.ID); fiscal.ErrorCode(err) != fiscal.ECONFLICT {
			t.Fatalf("a code for a taxpayer with an account: %v", err)
		}

		// Issuing again revokes the earlier code.
		second, err := db.IssueEnrollmentCode(officer, mihai.ID)
		if err != nil {
			t.Fatal(err)
		}
		refused("5 a replaced code", enrollment(mihaiCode.Code, "1850315350012", "mihai"))
		// Expired: the day after expires_on.
		clock.Advance(91 * 24 * time.Hour)
		refused("6 an expired code", enrollment(second.Code, "1850315350012", "mihai"))
		if used, revoked, active := codeState(t, db, mihai.ID); used != 0 || revoked != 1 || active != 1 {
			t.Fatalf("mihai's codes: used %d revoked %d active %d", used, revoked, active)
		}

		// Stored hashed; the audit log has the issue but never a code.
		var hashes []string
		if err := db.SQL().Select(&hashes, `SELECT code_hash FROM enrollment_codes`); err != nil {
			t.Fatal(err)
		}
		var audit []string
		if err := db.SQL().Select(&audit, `SELECT action || ' ' || COALESCE(after_json, '') FROM audit_log`); err != nil {
			t.Fatal(err)
		}
		all := strings.Join(hashes, " ") + strings.Join(audit, "\n")
		for _, c := range []string{anaCode.Code, mihaiCode.Code, second.Code} {
			if plain := strings.ReplaceAll(c, "-", ""); strings.Contains(all, plain) || strings.Contains(all, c) {
				t.Fatalf("code %s stored in clear", c)
			}
		}
		if !strings.Contains(strings.Join(audit, "\n"), "enrollment_code.issue") || !strings.Contains(strings.Join(audit, "\n"), "user.enroll") {
			t.Fatalf("audit: %v", audit)
		}
		if v, err := db.VerifyAuditChain(ctx, m.ID); err != nil || !v.Valid {
			t.Fatalf("audit chain: %+v %v", v, err)
		}
	})
}

func asError(err error, fe **fiscal.Error) bool {
	e, ok := err.(*fiscal.Error)
	*fe = e
	return ok
}

// TestEnrollmentGuessing: the attempts are counted in the database, so two
// instances share one count: past 5 attempts a day for one taxpayer (from
// any address) and 20 an hour from one address, even the right code is
// refused (429). With 80-bit codes valid 90 days, one taxpayer's code can be
// tried at most 5 × 90 = 450 times: a chance of 450 / 2^80 (< 4e-22).
func TestEnrollmentGuessing(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			clock := fiscal.NewTestClock(storetest.Epoch)
			db1, db2 := storetest.OpenPair(t, engine, clock)
			dbs := []*store.DB{db1, db2}
			m := storetest.Municipality(t, db1, "timisoara")
			officer, _ := storetest.Staff(t, db1, m, "officer1", fiscal.RoleOfficer)
			ana := onFile(t, db1, officer, "2850615350041", "Ana Popescu")
			code, err := db1.IssueEnrollmentCode(officer, ana.ID)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			guess := func(i int) string {
				c, _ := fiscal.NormalizeEnrollmentCode(code.Code)
				b := []byte(c)
				b[15] = fiscal.EnrollmentCodeAlphabet[(strings.IndexByte(fiscal.EnrollmentCodeAlphabet, b[15])+1+i%31)%32]
				return string(b)
			}
			// Per taxpayer: five guesses from five addresses, alternating instances.
			for i := 0; i < fiscal.EnrollAttemptsPerTaxpayer; i++ {
				_, _, err := dbs[i%2].Enroll(ctx, m.ID, enrollment(guess(i), "2850615350041", "ana"), "198.51.100."+itoa(int64(i)))
				if fiscal.ErrorCode(err) != fiscal.EINVALID {
					t.Fatalf("guess %d: %v", i, err)
				}
			}
			if _, _, err := db2.Enroll(ctx, m.ID, enrollment(code.Code, "2850615350041", "ana"), "203.0.113.1"); fiscal.ErrorCode(err) != fiscal.ERATELIMIT {
				t.Fatalf("the right code after the taxpayer's limit: %v, want ERATELIMIT", err)
			}
			if used, _, active := codeState(t, db1, ana.ID); used != 0 || active != 1 {
				t.Fatal("the limited attempt consumed the code")
			}
			// A day later the owner enrolls.
			clock.Advance(fiscal.EnrollTaxpayerWindow)
			if _, _, err := db1.Enroll(ctx, m.ID, enrollment(code.Code, "2850615350041", "ana"), "203.0.113.1"); err != nil {
				t.Fatalf("the owner a day later: %v", err)
			}

			// Per address: 20 attempts an hour whatever the CNP.
			mihai := onFile(t, db1, officer, "1850315350012", "Mihai Ionescu")
			mcode, err := db1.IssueEnrollmentCode(officer, mihai.ID)
			if err != nil {
				t.Fatal(err)
			}
			cnps := []string{"1900101350014", "2950201350029", "1801212350037", "1850315350013"} // not on file, the last invalid
			for i := 0; i < fiscal.EnrollAttemptsPerAddress; i++ {
				_, _, err := dbs[i%2].Enroll(ctx, m.ID, enrollment(guess(i), cnps[i%len(cnps)], "x"+itoa(int64(i))), "198.51.100.200")
				if c := fiscal.ErrorCode(err); c != fiscal.EINVALID {
					t.Fatalf("attempt %d: %v", i, err)
				}
			}
			if _, _, err := db2.Enroll(ctx, m.ID, enrollment(mcode.Code, "1850315350012", "mihai"), "198.51.100.200"); fiscal.ErrorCode(err) != fiscal.ERATELIMIT {
				t.Fatalf("the right code after the address's limit: %v, want ERATELIMIT", err)
			}
			if _, _, err := db2.Enroll(ctx, m.ID, enrollment(mcode.Code, "1850315350012", "mihai"), "198.51.100.201"); err != nil {
				t.Fatalf("another address: %v", err)
			}
			lifetime := float64(fiscal.EnrollAttemptsPerTaxpayer * fiscal.DefaultEnrollmentCodeDays)
			if p := lifetime / math.Pow(2, 5*fiscal.EnrollmentCodeLen); p > 1e-21 {
				t.Fatalf("chance to guess one code in its life: %g", p)
			}
		})
	}
}

// TestSelfRegistrationOnFile: registering a CNP on file stays 409 and the
// problem says how to enroll.
func TestSelfRegistrationOnFile(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		officer, _ := storetest.Staff(t, db, m, "officer1", fiscal.RoleOfficer)
		onFile(t, db, officer, "2850615350041", "Ana Popescu")
		_, _, err := db.Register(context.Background(), m.ID, registration("squatter", "2850615350041"))
		var fe *fiscal.Error
		if fiscal.ErrorCode(err) != fiscal.ECONFLICT || !asError(err, &fe) || !strings.Contains(fe.Message, "enroll") || !strings.Contains(fe.Message, "ROeID") ||
			len(fe.Fields) != 1 || fe.Fields[0].Field != "taxpayer.cnp" {
			t.Fatalf("register a CNP on file: %v", err)
		}
		var n int
		if err := db.SQL().Get(&n, `SELECT COUNT(*) FROM users WHERE username = 'squatter'`); err != nil || n != 0 {
			t.Fatalf("squatter account: %d %v", n, err)
		}
	})
}

func itoa(i int64) string { b, _ := json.Marshal(i); return string(b) }
