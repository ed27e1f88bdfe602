package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

func registration(username, cnp string) *fiscal.Registration {
	return &fiscal.Registration{Username: username, Password: "o parolă lungă", Email: username + "@example.ro",
		Taxpayer: fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: cnp, Name: "Ana Popescu", Address: "Str. Mărășești 1, Timișoara"}}
}

func TestRegisterLoginAndVisibility(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		other := storetest.Municipality(t, db, "arad")

		u, tp, err := db.Register(ctx, m.ID, registration("ana", "2850615350041"))
		if err != nil {
			t.Fatal(err)
		}
		if u.Role != fiscal.RoleTaxpayer || u.TaxpayerID == nil || *u.TaxpayerID != tp.ID {
			t.Fatalf("user %+v taxpayer %+v", u, tp)
		}
		// The same CNP again in the same municipality: conflict naming the field.
		_, _, err = db.Register(ctx, m.ID, registration("ana2", "2850615350041"))
		if fiscal.ErrorCode(err) != fiscal.ECONFLICT {
			t.Fatalf("duplicate CNP: %v", err)
		}
		if e := err.(*fiscal.Error); len(e.Fields) != 1 || e.Fields[0].Field != "taxpayer.cnp" {
			t.Fatalf("fields %+v", e.Fields)
		}
		// The same username again: conflict.
		if _, _, err = db.Register(ctx, m.ID, registration("ana", "1850315350012")); fiscal.ErrorCode(err) != fiscal.ECONFLICT {
			t.Fatalf("duplicate username: %v", err)
		}
		// In another municipality the same CNP is a different record.
		if _, _, err = db.Register(ctx, other.ID, registration("ana", "2850615350041")); err != nil {
			t.Fatalf("other municipality: %v", err)
		}
		// An invalid CNP changes nothing.
		if _, _, err = db.Register(ctx, m.ID, registration("bob", "1850315350013")); fiscal.ErrorCode(err) != fiscal.EINVALID {
			t.Fatalf("bad CNP: %v", err)
		}
		if _, err := db.Login(ctx, m.ID, "bob", "o parolă lungă"); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
			t.Fatalf("bob exists after a refused registration: %v", err)
		}

		s, err := db.Login(ctx, m.ID, "ana", "o parolă lungă")
		if err != nil {
			t.Fatal(err)
		}
		_, errWrong := db.Login(ctx, m.ID, "ana", "wrong password")
		_, errUnknown := db.Login(ctx, m.ID, "nobody", "wrong password")
		if errWrong == nil || errWrong.Error() != errUnknown.Error() {
			t.Fatalf("unknown user and wrong password differ: %v / %v", errWrong, errUnknown)
		}
		actor, err := db.Authenticate(ctx, s.Token)
		if err != nil || actor.TaxpayerID == nil || *actor.TaxpayerID != tp.ID || actor.MunicipalityID != m.ID {
			t.Fatalf("actor %+v %v", actor, err)
		}
		actx := fiscal.WithActor(ctx, actor)
		if got, err := db.Taxpayer(actx, tp.ID); err != nil || got.Name != "Ana Popescu" {
			t.Fatal(got, err)
		}
		// Another taxpayer's record is not visible.
		_, tp2, err := db.Register(ctx, m.ID, registration("mihai", "1850315350012"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Taxpayer(actx, tp2.ID); fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
			t.Fatalf("taxpayer read another's record: %v", err)
		}
		if _, _, err := db.FindTaxpayers(actx, fiscal.TaxpayerFilter{}); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("taxpayer searched the registry: %v", err)
		}
		// Staff see their municipality's records, not another's.
		octx, _ := storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
		list, total, err := db.FindTaxpayers(octx, fiscal.TaxpayerFilter{Q: "popescu"})
		if err != nil || total != 2 || len(list) != 2 {
			t.Fatalf("search: %d %v", total, err)
		}
		if _, total, _ := db.FindTaxpayers(octx, fiscal.TaxpayerFilter{Q: "%"}); total != 0 {
			t.Fatalf("a LIKE wildcard matched %d rows", total)
		}
		actx2, _ := storetest.Staff(t, db, other, "aradofficer", fiscal.RoleOfficer)
		if _, err := db.Taxpayer(actx2, tp.ID); fiscal.ErrorCode(err) != fiscal.ENOTFOUND {
			t.Fatalf("staff of another municipality read the record: %v", err)
		}

		// Expiry and logout.
		clock.Advance(store.SessionTTL + time.Second)
		if _, err := db.Authenticate(ctx, s.Token); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
			t.Fatalf("expired token accepted: %v", err)
		}
		s2, _ := db.Login(ctx, m.ID, "ana", "o parolă lungă")
		if err := db.Logout(ctx, s2.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Authenticate(ctx, s2.Token); fiscal.ErrorCode(err) != fiscal.EUNAUTHORIZED {
			t.Fatalf("revoked token accepted: %v", err)
		}
	})
}

func TestCompanyCUI(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		ctx, _ := storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
		in := fiscal.TaxpayerInput{Kind: fiscal.Company, CUI: "RO18547290", Name: "Leasing SRL", Address: "Bd. Take Ionescu 2"}
		tp, err := db.CreateTaxpayer(ctx, &in)
		if err != nil || tp.CUI == nil || *tp.CUI != "18547290" {
			t.Fatal(tp, err)
		}
		in2 := fiscal.TaxpayerInput{Kind: fiscal.Company, CUI: "18547290", Name: "Alt SRL", Address: "Str. X 1"}
		if _, err := db.CreateTaxpayer(ctx, &in2); fiscal.ErrorCode(err) != fiscal.ECONFLICT {
			t.Fatalf("same CUI twice: %v", err)
		}
		bad := fiscal.TaxpayerInput{Kind: fiscal.Company, CUI: "18547291", Name: "Alt SRL", Address: "Str. X 1"}
		if _, err := db.CreateTaxpayer(ctx, &bad); fiscal.ErrorCode(err) != fiscal.EINVALID {
			t.Fatalf("bad CUI: %v", err)
		}
	})
}

func TestAuditChainNamesTamperedRow(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		actx, _ := storetest.Staff(t, db, m, "admin", fiscal.RoleAdmin)
		for i, cnp := range []string{"1850315350012", "2850615350041"} {
			clock.Advance(time.Minute)
			if _, _, err := db.Register(ctx, m.ID, registration([]string{"a1", "a2"}[i], cnp)); err != nil {
				t.Fatal(err)
			}
		}
		v, err := db.VerifyAudit(actx)
		if err != nil || !v.Valid || v.Entries < 5 {
			t.Fatalf("fresh chain: %+v %v", v, err)
		}
		var victim int64
		if err := db.SQL().Get(&victim, db.SQL().Rebind(`SELECT id FROM audit_log WHERE municipality_id = ? AND action = 'taxpayer.create' ORDER BY seq LIMIT 1`), m.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE audit_log SET after_json = REPLACE(after_json, 'Ana', 'Ane') WHERE id = ?`), victim); err != nil {
			t.Fatal(err)
		}
		v, err = db.VerifyAudit(actx)
		if err != nil || v.Valid || v.FirstInvalidEntry == nil || *v.FirstInvalidEntry != victim {
			t.Fatalf("tampered chain: %+v %v (victim %d)", v, err, victim)
		}
		// A taxpayer may not run the verification.
		tctx := fiscal.WithActor(ctx, &fiscal.Actor{UserID: 99, MunicipalityID: m.ID, Role: fiscal.RoleTaxpayer})
		if _, err := db.VerifyAudit(tctx); fiscal.ErrorCode(err) != fiscal.EFORBIDDEN {
			t.Fatalf("taxpayer verified audit: %v", err)
		}
	})
}

func TestAuditChainDetectsDeletedTail(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		m := storetest.Municipality(t, db, "timisoara")
		actx, _ := storetest.Staff(t, db, m, "admin", fiscal.RoleAdmin)
		storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
		if _, err := db.SQL().Exec(db.SQL().Rebind(`DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log WHERE municipality_id = ?)`), m.ID); err != nil {
			t.Fatal(err)
		}
		v, err := db.VerifyAudit(actx)
		if err != nil || v.Valid {
			t.Fatalf("deleted tail not detected: %+v %v", v, err)
		}
	})
}

func TestIdempotencyKeys(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		m := storetest.Municipality(t, db, "timisoara")
		_, u := storetest.Staff(t, db, m, "ioana", fiscal.RoleOfficer)
		claim := func(key, hash string) *fiscal.IdempotencyClaim {
			return &fiscal.IdempotencyClaim{MunicipalityID: m.ID, UserID: u.ID, Key: key, Route: "POST /x", RequestHash: hash}
		}
		lookup := func(key, hash string) (*fiscal.StoredResponse, int64, error) {
			return db.LookupIdempotencyKey(ctx, m.ID, u.ID, key, "POST /x", hash)
		}
		if rec, id, err := lookup("k1", "h1"); err != nil || rec != nil || id != 0 {
			t.Fatalf("new key: %v %d %v", rec, id, err)
		}
		// A use case that fails claims nothing: a retry runs again.
		c0 := claim("k1", "h1")
		if err := db.InTx(fiscal.WithIdempotencyClaim(ctx, c0), func(tx *store.Tx) error { return fiscal.Errorf(fiscal.EINVALID, "no") }); fiscal.ErrorCode(err) != fiscal.EINVALID || c0.ID != 0 {
			t.Fatalf("failed use case: %v, claim %d", err, c0.ID)
		}
		if rec, id, err := lookup("k1", "h1"); err != nil || rec != nil || id != 0 {
			t.Fatalf("after a failed use case: %v %d %v", rec, id, err)
		}
		// The first write transaction claims the key with its effect; a
		// second transaction of the same request does not claim again.
		c1 := claim("k1", "h1")
		cctx := fiscal.WithIdempotencyClaim(ctx, c1)
		for range 2 {
			if err := db.InTx(cctx, func(tx *store.Tx) error { return nil }); err != nil || c1.ID == 0 {
				t.Fatalf("claim: %v %d", err, c1.ID)
			}
		}
		// Claimed without a reply: the lookup names the claim (a resumable
		// route continues it, the others answer 409).
		if rec, id, err := lookup("k1", "h1"); err != nil || rec != nil || id != c1.ID {
			t.Fatalf("claimed key without a reply: %v %d %v", rec, id, err)
		}
		// A concurrent request with the same key: its transaction is undone.
		ran := false
		c2 := claim("k1", "h1")
		if err := db.InTx(fiscal.WithIdempotencyClaim(ctx, c2), func(tx *store.Tx) error { ran = true; return nil }); fiscal.ErrorCode(err) != fiscal.ECONFLICT || ran || c2.ID != 0 {
			t.Fatalf("same key twice: %v ran=%v id=%d", err, ran, c2.ID)
		}
		if err := db.FinishIdempotencyKey(ctx, c1.ID, 422, "application/problem+json", []byte(`{"status":422}`)); err != nil {
			t.Fatal(err)
		}
		// A kept response is never replaced.
		if err := db.FinishIdempotencyKey(ctx, c1.ID, 201, "application/json", []byte(`{"id":2}`)); err != nil {
			t.Fatal(err)
		}
		rec, _, err := lookup("k1", "h1")
		if err != nil || rec == nil || rec.Status != 422 || string(rec.Body) != `{"status":422}` {
			t.Fatalf("replay: %+v %v", rec, err)
		}
		if _, _, err := lookup("k1", "h2"); fiscal.ErrorCode(err) != fiscal.ECONFLICT {
			t.Fatalf("different body: %v", err)
		}
		// The use case keeps its reply in its own transaction: it is in the
		// database when the transaction commits, for any process.
		c3 := claim("k2", "h")
		c3.Reply = func(v any) (*fiscal.StoredResponse, error) {
			return &fiscal.StoredResponse{Status: 201, ContentType: "application/json", Body: []byte(fmt.Sprint(v))}, nil
		}
		if err := db.InTx(fiscal.WithIdempotencyClaim(ctx, c3), func(tx *store.Tx) error { return tx.KeepReply(fiscal.WithIdempotencyClaim(ctx, c3), `{"id":7}`) }); err != nil {
			t.Fatal(err)
		}
		if c3.Kept == nil || string(c3.Kept.Body) != `{"id":7}` {
			t.Fatalf("kept reply: %+v", c3.Kept)
		}
		other := storetest.Reopen(t, db)
		rec, _, err = other.LookupIdempotencyKey(ctx, m.ID, u.ID, "k2", "POST /x", "h")
		if err != nil || rec == nil || rec.Status != 201 || string(rec.Body) != `{"id":7}` {
			t.Fatalf("reply kept with the effect, read by another process: %+v %v", rec, err)
		}
		// A transaction that keeps its reply and then fails keeps nothing.
		c5 := claim("k4", "h")
		c5.Reply = c3.Reply
		c5ctx := fiscal.WithIdempotencyClaim(ctx, c5)
		if err := db.InTx(c5ctx, func(tx *store.Tx) error {
			if err := tx.KeepReply(c5ctx, `{"id":8}`); err != nil {
				return err
			}
			return fiscal.Errorf(fiscal.ECONFLICT, "late failure")
		}); fiscal.ErrorCode(err) != fiscal.ECONFLICT || c5.ID != 0 || c5.Kept != nil {
			t.Fatalf("failed after keeping: %v %d %+v", err, c5.ID, c5.Kept)
		}
		if rec, id, err := lookup("k4", "h"); err != nil || rec != nil || id != 0 {
			t.Fatalf("after a failed use case that kept a reply: %v %d %v", rec, id, err)
		}
		// Staff reading the taxpayer (a cash payment does, before its own
		// transaction) writes the access log: that side write must not
		// claim the key, or a crash before the payment's commit leaves the
		// key claimed without its effect and the retry refused.
		sctx, _ := storetest.Staff(t, db, m, "maria", fiscal.RoleOfficer)
		tp, err := db.CreateTaxpayer(sctx, &fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: "2850615350041", Name: "Popescu Ana", Address: "Str. Mărășești 1, Timișoara"})
		if err != nil {
			t.Fatal(err)
		}
		c4 := claim("k3", "h")
		if _, err := db.Taxpayer(fiscal.WithIdempotencyClaim(sctx, c4), tp.ID); err != nil || c4.ID != 0 {
			t.Fatalf("reading a taxpayer claimed the key: %v, claim %d", err, c4.ID)
		}
		if rec, id, err := db.LookupIdempotencyKey(ctx, m.ID, u.ID, "k3", "POST /x", "h"); err != nil || rec != nil || id != 0 {
			t.Fatalf("after the access log: %v %d %v", rec, id, err)
		}
	})
}

func TestSchemaCheck(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			db, err := store.Open(context.Background(), storetest.DSN(t, engine), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.CheckSchema(context.Background()); err == nil {
				t.Fatal("an empty schema passed the check")
			}
			if _, err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := db.CheckSchema(context.Background()); err != nil {
				t.Fatal(err)
			}
			if names, err := db.Migrate(context.Background()); err != nil || len(names) != 0 {
				t.Fatalf("second migrate: %v %v", names, err)
			}
		})
	}
}

// TestExportCoversEveryPersonalTable fails when a table linked to taxpayers
// is missing from the GDPR export.
func TestExportCoversEveryPersonalTable(t *testing.T) {
	db := storetest.MustOpen(t, "sqlite", nil)
	var tables []string
	if err := db.SQL().Select(&tables, `SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND p.name = 'taxpayer_id' ORDER BY m.name`); err != nil {
		t.Fatal(err)
	}
	tables = append(tables, "taxpayers")
	have := map[string]bool{}
	for _, x := range store.PersonalDataTables() {
		have[x] = true
	}
	for _, x := range tables {
		if !have[x] && x != "idempotency_keys" {
			t.Errorf("table %s has a taxpayer_id column but is not in the GDPR export (internal/store/privacy.go personalData)", x)
		}
	}
}
