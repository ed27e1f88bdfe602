package web_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store/storetest"
	"fiscald/internal/web"
	"fiscald/payments"
	"fiscald/payments/stripe"
)

// verify makes a taxpayer's account verified (as ROeID or an enrollment
// code would) and signs it in again.
func (e *env) verify(username string) string {
	e.t.Helper()
	if _, err := e.db.SQL().Exec(e.db.SQL().Rebind(`UPDATE users SET assurance = 'verified' WHERE username = ?`), username); err != nil {
		e.t.Fatal(err)
	}
	return e.login(username, "parola-lunga-1")
}

// company enters a company in the registry (officer) with a vehicle tax
// debt of 2026 (a registration the officer files for it, approved), and
// returns its id.
func (e *env) company(cui, vin string) int64 {
	e.t.Helper()
	r := e.do("POST", "/api/v1/taxpayers", e.tokens["officer"], map[string]any{"kind": "company", "cui": cui, "name": "Construct Vest SRL", "address": "Calea Aradului 10"})
	if r.Status != 201 {
		e.t.Fatalf("company: %d %s", r.Status, r.Raw)
	}
	id := num(r.Body["id"])
	c := e.fullCase(id, e.tokens["officer"], vin, "2025-06-10")
	if r := e.do("POST", casePath(c, "/review"), e.tokens["officer"], map[string]any{"decision": "approve"}); r.Status != 200 {
		e.t.Fatalf("company registration review: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", casePath(c, "/sign"), e.tokens["signer"], map[string]any{"decision": "approve"}); r.Status != 200 {
		e.t.Fatalf("company registration sign: %d %s", r.Status, r.Raw)
	}
	return id
}

// represent files a representation request for the person with the mandate,
// has the officer review it and the signer approve it, and returns the
// link's id.
func (e *env) represent(tpID int64, token, cui, validUntil string) int64 {
	e.t.Helper()
	r := e.do("POST", "/api/v1/cases", token, map[string]any{"type": "representation", "taxpayer_id": tpID,
		"data": map[string]any{"cui": cui, "role": "empowered", "valid_until": validUntil}})
	if r.Status != 201 {
		e.t.Fatalf("representation intake: %d %s", r.Status, r.Raw)
	}
	id := num(r.Body["id"])
	if r := e.upload(id, token, "mandate", "imputernicire.pdf", append(append([]byte{}, pdfDoc...), fmt.Sprint("mandate", id)...)); r.Status != 201 {
		e.t.Fatalf("mandate: %d %s", r.Status, r.Raw)
	}
	d := e.do("GET", casePath(id, ""), e.tokens["officer"], nil)
	for _, ck := range d.Body["checks"].([]any) {
		if m := ck.(map[string]any); m["ok"] != true {
			e.t.Fatalf("check %v failed: %v", m["name"], m["detail"])
		}
	}
	if r := e.do("POST", casePath(id, "/review"), e.tokens["officer"], map[string]any{"decision": "approve"}); r.Status != 200 {
		e.t.Fatalf("representation review: %d %s", r.Status, r.Raw)
	}
	s := e.do("POST", casePath(id, "/sign"), e.tokens["signer"], map[string]any{"decision": "approve"})
	if s.Status != 200 {
		e.t.Fatalf("representation sign: %d %s", s.Status, s.Raw)
	}
	res, _ := s.Body["result"].(map[string]any)
	if num(res["representation_id"]) == 0 {
		e.t.Fatalf("approval wrote no link: %s", s.Raw)
	}
	return num(res["representation_id"])
}

// TestRepresentation: a verified person files a representation request
// with the mandate, an officer reviews it, a signer approves it; the person
// lists the company, acts for it and sees its statement (on a second
// instance too). A person without a link gets 403 choosing it and 404 for
// its statement; a password-only account cannot file; revoking the link
// (on the other instance) makes the session acting for the company 403 on
// its next request, and choosing it again 403.
func TestRepresentation(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			clock := fiscal.NewTestClock(storetest.Epoch)
			db1, db2 := storetest.OpenPair(t, engine, clock)
			e := newEnv(t, db1, clock)
			deps := web.StoreDeps(db2)
			deps.Clock = clock
			sc, err := stripe.New(stripe.Config{WebhookSecret: testWebhookSecret})
			if err != nil {
				t.Fatal(err)
			}
			deps.Payments = payments.NewService(db2, sc, clock)
			e2 := &env{t: t, db: db2, muni: e.muni, tokens: e.tokens,
				srv: web.New(web.Config{DefaultMunicipality: "timisoara", Logger: slog.New(slog.NewTextHandler(testLog, nil))}, deps)}

			const cui = "18547290"
			companyID := e.company(cui, "WVWZZZAUZHW765432")
			ionID, _ := e.taxpayer("ion", "1780305460017")
			ion := e.verify("ion")
			mihaiID, mihai := e.taxpayer("mihai", "1850315350012") // self-registered, not verified
			if _, err := db1.SQL().Exec(db1.SQL().Rebind(`UPDATE users SET assurance = 'password' WHERE username = 'mihai'`)); err != nil {
				t.Fatal(err)
			}
			mihai = e.login("mihai", "parola-lunga-1")
			anaID, _ := e.taxpayer("ana", "2850615350041")
			ana := e.verify("ana")

			// Who may not file: a password-only account, an officer; bad data.
			req := func(tp int64, data map[string]any) map[string]any {
				return map[string]any{"type": "representation", "taxpayer_id": tp, "data": data}
			}
			if r := e.do("POST", "/api/v1/cases", mihai, req(mihaiID, map[string]any{"cui": cui, "role": "empowered"})); r.Status != 403 {
				t.Fatalf("password-only account filing: %d %s", r.Status, r.Raw)
			}
			if r := e.do("POST", "/api/v1/cases", e.tokens["officer"], req(ionID, map[string]any{"cui": cui, "role": "empowered"})); r.Status != 403 {
				t.Fatalf("officer filing: %d %s", r.Status, r.Raw)
			}
			if r := e.do("POST", "/api/v1/cases", ion, req(ionID, map[string]any{"cui": "18547291", "role": "boss", "valid_until": "2020-01-01"})); r.Status != 422 ||
				fmt.Sprint(fieldNames(r)) != "[data.cui data.role data.valid_until]" {
				t.Fatalf("bad request: %d %s", r.Status, r.Raw)
			}
			if r := e.do("POST", "/api/v1/cases", ion, req(ionID, map[string]any{"cui": "RO14399840", "role": "empowered"})); r.Status != 422 ||
				fmt.Sprint(fieldNames(r)) != "[data.cui]" {
				t.Fatalf("company not in the registry: %d %s", r.Status, r.Raw)
			}
			if n := count(t, db1, `SELECT COUNT(*) FROM cases WHERE type = 'representation'`); n != 0 {
				t.Fatalf("refused requests filed %d cases", n)
			}

			// Before approval: no link, acting for the company is 403.
			if r := e.do("POST", "/api/v1/me/act-for", ion, map[string]any{"taxpayer_id": companyID}); r.Status != 403 {
				t.Fatalf("act for before approval: %d %s", r.Status, r.Raw)
			}
			link := e.represent(ionID, ion, cui, "2027-12-31")
			if r := e.do("POST", "/api/v1/cases", ion, req(ionID, map[string]any{"cui": cui, "role": "administrator"})); r.Status != 409 {
				t.Fatalf("second request while linked: %d %s", r.Status, r.Raw)
			}

			list := e.do("GET", "/api/v1/me/taxpayers", ion, nil)
			var items []map[string]any
			if err := json.Unmarshal(list.Raw, &items); err != nil || list.Status != 200 || len(items) != 2 ||
				num(items[0]["taxpayer_id"]) != ionID || items[0]["relation"] != "self" || items[0]["acting"] != true ||
				num(items[1]["taxpayer_id"]) != companyID || items[1]["relation"] != "empowered" || items[1]["identity"] != cui {
				t.Fatalf("acting taxpayers: %d %s", list.Status, list.Raw)
			}
			// The company's statement before choosing it: not ion's.
			stmt := fmt.Sprintf("/api/v1/taxpayers/%d/statement", companyID)
			if r := e.do("GET", stmt, ion, nil); r.Status != 404 {
				t.Fatalf("company statement before acting for it: %d", r.Status)
			}
			if r := e.do("POST", "/api/v1/me/act-for", ion, map[string]any{"taxpayer_id": companyID}); r.Status != 200 || r.Body["acting"] != true {
				t.Fatalf("act for: %d %s", r.Status, r.Raw)
			}
			for i, srv := range []*env{e, e2} {
				r := srv.do("GET", stmt, ion, nil)
				if r.Status != 200 || num(r.Body["taxpayer_id"]) != companyID || len(r.Body["debts"].([]any)) == 0 {
					t.Fatalf("instance %d: company statement acting for it: %d %s", i+1, r.Status, r.Raw)
				}
			}
			// Acting for the company, ion's own record is not this session's.
			if r := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/statement", ionID), ion, nil); r.Status != 404 {
				t.Fatalf("own statement while acting for the company: %d", r.Status)
			}
			// Nor may the session file a representation request for the company.
			if r := e.do("POST", "/api/v1/cases", ion, req(companyID, map[string]any{"cui": cui, "role": "empowered"})); r.Status != 403 {
				t.Fatalf("representation request while acting for a company: %d %s", r.Status, r.Raw)
			}

			// Another person without a link.
			for _, who := range []string{ana, mihai} {
				if r := e.do("POST", "/api/v1/me/act-for", who, map[string]any{"taxpayer_id": companyID}); r.Status != 403 {
					t.Fatalf("act for without a link: %d %s", r.Status, r.Raw)
				}
				if r := e.do("GET", stmt, who, nil); r.Status != 404 && r.Status != 403 {
					t.Fatalf("company statement without a link: %d", r.Status)
				}
			}
			if r := e.do("POST", "/api/v1/me/act-for", ana, map[string]any{"taxpayer_id": anaID}); r.Status != 200 {
				t.Fatalf("act for oneself: %d %s", r.Status, r.Raw)
			}
			if r := e.do("POST", "/api/v1/me/act-for", ana, map[string]any{}); r.Status != 422 || fmt.Sprint(fieldNames(r)) != "[taxpayer_id]" {
				t.Fatalf("act for nobody: %d %s", r.Status, r.Raw)
			}

			// Staff see the link; a taxpayer may not revoke; a reason is required.
			if r := e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/representations", companyID), e.tokens["officer"], nil); r.Status != 200 {
				t.Fatalf("links: %d %s", r.Status, r.Raw)
			}
			revoke := fmt.Sprintf("/api/v1/representations/%d/revoke", link)
			if r := e.do("POST", revoke, ion, map[string]any{"reason": "x"}); r.Status != 403 {
				t.Fatalf("taxpayer revoking: %d", r.Status)
			}
			if r := e.do("POST", revoke, e.tokens["signer"], map[string]any{"reason": "x"}); r.Status != 403 {
				t.Fatalf("signer revoking: %d", r.Status)
			}
			if r := e.do("POST", revoke, e.tokens["officer"], map[string]any{}); r.Status != 422 || fmt.Sprint(fieldNames(r)) != "[reason]" {
				t.Fatalf("revoke without a reason: %d %s", r.Status, r.Raw)
			}
			if r := e.do("GET", stmt, ion, nil); r.Status != 200 {
				t.Fatalf("refused revocations ended the link: %d", r.Status)
			}
			// Revoked on instance 2: refused at once on both.
			if r := e2.do("POST", revoke, e.tokens["officer"], map[string]any{"reason": "mandatul a fost retras de societate"}); r.Status != 200 || r.Body["active"] != false {
				t.Fatalf("revoke: %d %s", r.Status, r.Raw)
			}
			if r := e2.do("POST", revoke, e.tokens["admin"], map[string]any{"reason": "din nou"}); r.Status != 409 {
				t.Fatalf("revoke twice: %d %s", r.Status, r.Raw)
			}
			for i, srv := range []*env{e, e2} {
				if r := srv.do("GET", stmt, ion, nil); r.Status != 403 {
					t.Fatalf("instance %d: company statement after revocation: %d %s", i+1, r.Status, r.Raw)
				}
				if r := srv.do("GET", "/api/v1/cases", ion, nil); r.Status != 403 {
					t.Fatalf("instance %d: cases after revocation: %d %s", i+1, r.Status, r.Raw)
				}
			}
			if r := e.do("POST", "/api/v1/me/act-for", ion, map[string]any{"taxpayer_id": companyID}); r.Status != 403 {
				t.Fatalf("act for after revocation: %d %s", r.Status, r.Raw)
			}
			if r := e.do("GET", "/api/v1/me/taxpayers", ion, nil); r.Status != 200 || json.Unmarshal(r.Raw, &items) != nil || len(items) != 1 {
				t.Fatalf("acting taxpayers after revocation: %d %s", r.Status, r.Raw)
			}
			if r := e.do("POST", "/api/v1/me/act-for", ion, map[string]any{"taxpayer_id": ionID}); r.Status != 200 {
				t.Fatalf("act for oneself again: %d %s", r.Status, r.Raw)
			}
			if r := e2.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/statement", ionID), ion, nil); r.Status != 200 {
				t.Fatalf("own statement after choosing oneself: %d %s", r.Status, r.Raw)
			}
			if r := e2.do("GET", stmt, ion, nil); r.Status != 404 {
				t.Fatalf("company statement after choosing oneself: %d", r.Status)
			}
			if n := count(t, db1, `SELECT COUNT(*) FROM audit_log WHERE action IN ('representation.grant', 'representation.revoke')`); n != 2 {
				t.Fatalf("audit entries: %d", n)
			}
			// A new request after the revocation is possible and links again.
			// A new request after the revocation links again, here until today
			// (8 May 2026): at midnight Romanian time the link ends, and a
			// session acting through it is refused on its next request.
			if again := e.represent(ionID, ion, cui, "2026-05-08"); again == link {
				t.Fatal("the revoked link was reused")
			}
			clock.Advance(10 * time.Hour) // 22:00 in Timișoara
			ion = e.login("ion", "parola-lunga-1")
			if r := e.do("POST", "/api/v1/me/act-for", ion, map[string]any{"taxpayer_id": companyID}); r.Status != 200 {
				t.Fatalf("act for on the mandate's last day: %d %s", r.Status, r.Raw)
			}
			if r := e2.do("GET", stmt, ion, nil); r.Status != 200 {
				t.Fatalf("statement on the mandate's last day: %d %s", r.Status, r.Raw)
			}
			clock.Advance(3 * time.Hour) // 01:00 the next day
			for i, srv := range []*env{e, e2} {
				if r := srv.do("GET", stmt, ion, nil); r.Status != 403 {
					t.Fatalf("instance %d: statement after the mandate ended: %d %s", i+1, r.Status, r.Raw)
				}
			}
			if r := e.do("POST", "/api/v1/me/act-for", ion, map[string]any{"taxpayer_id": companyID}); r.Status != 403 {
				t.Fatalf("act for after the mandate ended: %d %s", r.Status, r.Raw)
			}
		})
	}
}
