package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/notify"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

var (
	pdfDoc  = []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	jpegDoc = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, bytes.Repeat([]byte{1}, 100)...)
	pngDoc  = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{2}, 100)...)
)

// upload sends a multipart attachment.
func (e *env) upload(caseID int64, token, kind, filename string, content []byte) resp {
	e.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if kind != "" {
		w.WriteField("kind", kind)
	}
	fw, _ := w.CreateFormFile("file", filename)
	fw.Write(content)
	w.Close()
	req := httptest.NewRequest("POST", fmt.Sprintf("/api/v1/cases/%d/attachments", caseID), &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := e.srv.App().Test(req, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	out := resp{Status: res.StatusCode, Raw: raw, Header: map[string]string{}}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// relogin refreshes the staff tokens after the test clock moved past their expiry.
func (e *env) relogin() {
	for _, r := range []fiscal.Role{fiscal.RoleOfficer, fiscal.RoleSigner, fiscal.RoleAccountant, fiscal.RoleAdmin} {
		e.tokens[string(r)] = e.login(string(r)+"1", "password-"+string(r))
	}
}

// taxpayer registers a taxpayer and returns their id and token.
func (e *env) taxpayer(username, cnp string) (int64, string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/auth/register", "", individual(username, cnp))
	if r.Status != 201 {
		e.t.Fatalf("register %s: %d %s", username, r.Status, r.Raw)
	}
	return int64(r.Body["taxpayer"].(map[string]any)["id"].(float64)), e.login(username, "parola-lunga-1")
}

func registration(tpID int64, vin, acquired string) map[string]any {
	return map[string]any{"type": "vehicle_registration", "taxpayer_id": tpID, "data": map[string]any{
		"vin": vin, "plate": "TM-01-ANA", "category": "car", "engine_cc": 1598, "emission_class": "euro6",
		"propulsion": "combustion", "acquired_on": acquired, "acquisition_document": "sale_contract"}}
}

func num(v any) int64 { f, _ := v.(float64); return int64(f) }

func casePath(id int64, suffix string) string { return fmt.Sprintf("/api/v1/cases/%d%s", id, suffix) }

// count runs a COUNT query.
func count(t *testing.T, db *store.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.SQL().Get(&n, db.SQL().Rebind(q), args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestVehicleRegistrationEndToEnd drives a late-declared registration from
// intake to approval through the HTTP API.
func TestVehicleRegistrationEndToEnd(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		mihaiID, mihai := e.taxpayer("mihai", "1850315350012")
		officer, signer := e.tokens["officer"], e.tokens["signer"]

		// Intake, Friday 8 May 2026: a car bought on 15 December 2025 and
		// declared late, so 2026 is owed.
		body := registration(anaID, "WVWZZZAUZHW123456", "2025-12-15")
		if r := e.do("POST", "/api/v1/cases", "", body); r.Status != 401 {
			t.Fatalf("anonymous intake: %d", r.Status)
		}
		if r := e.do("POST", "/api/v1/cases", e.tokens["signer"], body); r.Status != 403 {
			t.Fatalf("signer intake: %d", r.Status)
		}
		if r := e.do("POST", "/api/v1/cases", mihai, body); r.Status != 404 {
			t.Fatalf("intake for another taxpayer: %d %s", r.Status, r.Raw)
		}
		bad := registration(anaID, "WVWZZZAUZHW12345O", "2025-12-15")
		if r := e.do("POST", "/api/v1/cases", ana, bad); r.Status != 422 || fieldNames(r)[0] != "data.vin" {
			t.Fatalf("bad VIN: %d %s", r.Status, r.Raw)
		}
		r := e.do("POST", "/api/v1/cases", ana, body, "Idempotency-Key", "k-1")
		if r.Status != 201 || r.Body["number"] != "TM-2026-000001" || r.Body["status"] != "submitted" {
			t.Fatalf("intake: %d %s", r.Status, r.Raw)
		}
		sla := r.Body["sla"].(map[string]any)
		if sla["due_on"] != "2026-05-15" || num(sla["working_days_left"]) != 5 || sla["state"] != "on_track" {
			t.Fatalf("sla %v", sla)
		}
		if fmt.Sprint(r.Body["missing_documents"]) != "[acquisition_document vehicle_identity_card owner_id]" {
			t.Fatalf("missing documents: %v", r.Body["missing_documents"])
		}
		id := num(r.Body["id"])
		if again := e.do("POST", "/api/v1/cases", ana, body, "Idempotency-Key", "k-1"); again.Status != 201 || num(again.Body["id"]) != id || again.Header["Idempotent-Replayed"] != "true" {
			t.Fatalf("idempotent replay: %d %s", again.Status, again.Raw)
		}
		if r := e.do("POST", "/api/v1/cases", ana, registration(anaID, "WVWZZZAUZHW654321", "2025-12-15"), "Idempotency-Key", "k-1"); r.Status != 409 {
			t.Fatalf("the key with another body: %d %s", r.Status, r.Raw)
		}
		// A new key sent several times at once (a client's retries racing
		// the first attempt): one case, and every answer is the first's —
		// the retries wait for its claim and replay its reply, none is
		// refused as in flight.
		race := registration(anaID, "WVWZZZAUZHW765432", "2025-12-15")
		answers := make([]resp, 6)
		var wg sync.WaitGroup
		for i := range answers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = e.do("POST", "/api/v1/cases", ana, race, "Idempotency-Key", "k-race")
			}()
		}
		wg.Wait()
		fresh := 0
		for _, a := range answers {
			if a.Status != 201 || a.Body["number"] != answers[0].Body["number"] {
				t.Fatalf("racing retries: %d %s (first %s)", a.Status, a.Raw, answers[0].Raw)
			}
			if a.Header["Idempotent-Replayed"] != "true" {
				fresh++
			}
		}
		if fresh != 1 {
			t.Fatalf("racing retries: %d answers not replayed, want 1", fresh)
		}

		// Visibility.
		if r := e.do("GET", casePath(id, ""), mihai, nil); r.Status != 404 {
			t.Fatalf("another taxpayer reads the case: %d", r.Status)
		}
		if r := e.do("GET", casePath(id, ""), "", nil); r.Status != 401 {
			t.Fatalf("anonymous read: %d", r.Status)
		}
		if r := e.do("GET", "/api/v1/cases", mihai, nil); r.Status != 200 || num(r.Body["total"]) != 0 {
			t.Fatalf("mihai's list: %d %s", r.Status, r.Raw)
		}

		// A decision before the documents: 409, nothing changes.
		if r := e.do("POST", casePath(id, "/review"), officer, map[string]any{"decision": "approve"}); r.Status != 409 {
			t.Fatalf("approve without documents: %d %s", r.Status, r.Raw)
		}
		// Uploads: wrong content, too large, unknown kind, another's case.
		if r := e.upload(id, ana, "owner_id", "id.pdf", []byte("just text, not a PDF")); r.Status != 422 {
			t.Fatalf("text named .pdf: %d %s", r.Status, r.Raw)
		}
		big := append(append([]byte{}, pdfDoc...), bytes.Repeat([]byte{' '}, 10<<20)...)
		if r := e.upload(id, ana, "owner_id", "big.pdf", big); r.Status != 413 {
			t.Fatalf("11 MiB: %d %s", r.Status, r.Raw)
		}
		if r := e.upload(id, ana, "passport_photo", "p.png", pngDoc); r.Status != 422 {
			t.Fatalf("unknown kind: %d %s", r.Status, r.Raw)
		}
		if r := e.upload(id, mihai, "owner_id", "p.png", pngDoc); r.Status != 404 {
			t.Fatalf("upload to another's case: %d %s", r.Status, r.Raw)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM case_attachments`); n != 0 {
			t.Fatalf("rejected uploads left %d attachments", n)
		}
		up := e.upload(id, ana, "acquisition_document", "contract.pdf", pdfDoc)
		if up.Status != 201 || up.Body["content_type"] != "application/pdf" || len(up.Body["sha256"].(string)) != 64 {
			t.Fatalf("upload: %d %s", up.Status, up.Raw)
		}
		if r := e.upload(id, ana, "vehicle_identity_card", "civ.jpg", jpegDoc); r.Status != 201 || r.Body["content_type"] != "image/jpeg" {
			t.Fatalf("jpeg: %d %s", r.Status, r.Raw)
		}

		// Wrong roles change nothing.
		for _, c := range []struct{ path, token string }{
			{"/review", signer}, {"/review", ana}, {"/sign", officer}, {"/sign", ana},
		} {
			if r := e.do("POST", casePath(id, c.path), c.token, map[string]any{"decision": "approve", "comment": "x"}); r.Status != 403 {
				t.Fatalf("%s by the wrong role: %d %s", c.path, r.Status, r.Raw)
			}
		}
		if r := e.do("POST", casePath(id, "/sign"), signer, map[string]any{"decision": "approve"}); r.Status != 409 {
			t.Fatalf("signing a submitted case: %d %s", r.Status, r.Raw)
		}

		// The officer asks for a clearer document: the clock pauses.
		r = e.do("POST", casePath(id, "/review"), officer, map[string]any{"decision": "request_info", "comment": "Încărcați actul de identitate."})
		if r.Status != 200 || r.Body["status"] != "awaiting_taxpayer" || r.Body["sla"].(map[string]any)["state"] != "paused" {
			t.Fatalf("request_info: %d %s", r.Status, r.Raw)
		}
		clock.Set(time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)) // Tuesday
		e.relogin()
		officer, signer = e.tokens["officer"], e.tokens["signer"]
		ana, mihai = e.login("ana", "parola-lunga-1"), e.login("mihai", "parola-lunga-1")
		if r := e.upload(id, ana, "owner_id", "ci.png", pngDoc); r.Status != 201 {
			t.Fatalf("png: %d %s", r.Status, r.Raw)
		}
		r = e.do("POST", casePath(id, "/respond"), ana, map[string]any{"comment": "Am încărcat actul."})
		if r.Status != 200 || r.Body["status"] != "submitted" {
			t.Fatalf("respond: %d %s", r.Status, r.Raw)
		}
		// Paused Monday 11 and Tuesday 12: due 15 May + 2 working days.
		if sla := r.Body["sla"].(map[string]any); sla["due_on"] != "2026-05-19" || sla["state"] != "on_track" {
			t.Fatalf("after the pause: %v", sla)
		}
		if r := e.do("POST", casePath(id, "/respond"), ana, map[string]any{"comment": "again"}); r.Status != 409 {
			t.Fatalf("respond twice: %d", r.Status)
		}

		// Review and signature.
		r = e.do("POST", casePath(id, "/review"), officer, map[string]any{"decision": "approve", "comment": "Documente complete."})
		if r.Status != 200 || r.Body["status"] != "reviewed" {
			t.Fatalf("review: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/sign"), signer, map[string]any{"decision": "request_info", "comment": "?"}); r.Status != 422 {
			t.Fatalf("signer request_info: %d", r.Status)
		}
		r = e.do("POST", casePath(id, "/sign"), signer, map[string]any{"decision": "approve", "comment": "Aprob."})
		if r.Status != 200 || r.Body["status"] != "approved" {
			t.Fatalf("sign: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id, "/sign"), signer, map[string]any{"decision": "reject", "comment": "no"}); r.Status != 409 {
			t.Fatalf("sign twice: %d", r.Status)
		}

		// The vehicle is in Ana's record, taxed from 2026, with the 2026 debts.
		r = e.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/vehicles", anaID), ana, nil)
		items, _ := r.Body["items"].([]any)
		if r.Status != 200 || len(items) != 1 || num(items[0].(map[string]any)["taxed_from_year"]) != 2026 || items[0].(map[string]any)["plate"] != "TM01ANA" {
			t.Fatalf("vehicles: %d %s", r.Status, r.Raw)
		}
		var debts []struct {
			Year     int    `db:"year"`
			Due      string `db:"due"`
			Amount   int64  `db:"amount_bani"`
			Inst     int    `db:"installment"`
			ObjectID int64  `db:"object_id"`
		}
		if err := db.SQL().Select(&debts, db.SQL().Rebind(`SELECT year, CAST(due_date AS TEXT) AS due, amount_bani, installment, object_id FROM debts WHERE taxpayer_id = ? AND cancelled_at IS NULL ORDER BY installment`), anaID); err != nil {
			t.Fatal(err)
		}
		if len(debts) != 2 || debts[0].Year != 2026 || debts[0].Amount+debts[1].Amount != 19800 || !strings.HasPrefix(debts[0].Due, "2026-03-31") || !strings.HasPrefix(debts[1].Due, "2026-09-30") {
			t.Fatalf("debts: %+v", debts)
		}

		// The signatures verify; the taxpayer may verify too.
		r = e.do("GET", casePath(id, "/verify"), ana, nil)
		if r.Status != 200 || r.Body["valid"] != true || num(r.Body["steps"]) != 5 || r.Body["first_invalid_step"] != nil {
			t.Fatalf("verify: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", casePath(id, "/verify"), mihai, nil); r.Status != 404 {
			t.Fatalf("another's verify: %d", r.Status)
		}
		detail := e.do("GET", casePath(id, ""), officer, nil)
		if steps := detail.Body["steps"].([]any); len(steps) != 5 || detail.Body["due_date_computation"] == nil {
			t.Fatalf("detail: %s", detail.Raw)
		}
		if tl := e.do("GET", casePath(id, ""), ana, nil); tl.Body["due_date_computation"] != nil || len(tl.Body["attachments"].([]any)) != 3 {
			t.Fatalf("taxpayer's view: %s", tl.Raw)
		}
		// Tampering with the third step's comment breaks the chain there.
		if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE case_steps SET comment = ? WHERE case_id = ? AND seq = 3`), "altered", id); err != nil {
			t.Fatal(err)
		}
		r = e.do("GET", casePath(id, "/verify"), officer, nil)
		if r.Status != 200 || r.Body["valid"] != false || num(r.Body["first_invalid_step"]) != 3 {
			t.Fatalf("verify after tampering: %d %s", r.Status, r.Raw)
		}
		// Tampering with the case's data breaks it from the first step.
		if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE case_steps SET comment = ? WHERE case_id = ? AND seq = 3`), "Am încărcat actul.", id); err != nil {
			t.Fatal(err)
		}
		if r := e.do("GET", casePath(id, "/verify"), officer, nil); r.Body["valid"] != true {
			t.Fatalf("restored: %s", r.Raw)
		}
		if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE cases SET data = REPLACE(data, '1598', '1200') WHERE id = ?`), id); err != nil {
			t.Fatal(err)
		}
		if r := e.do("GET", casePath(id, "/verify"), officer, nil); r.Body["valid"] != false || num(r.Body["first_invalid_step"]) != 1 {
			t.Fatalf("data tampered: %s", r.Raw)
		}

		// The taxpayer was told of each change: the outbox drains to a sender.
		rec := &recorder{}
		d := notify.Dispatcher{Outbox: db, Sender: rec}
		if n, err := d.Drain(context.Background()); err != nil || n < 5 {
			t.Fatalf("drained %d %v", n, err)
		}
		if !rec.has("ana@example.ro", "aprobată") || !rec.has("ana@example.ro", "așteaptă informații") {
			t.Fatalf("notifications: %v", rec.msgs)
		}
		if n, _ := d.Drain(context.Background()); n != 0 {
			t.Fatalf("sent twice: %d", n)
		}
		if r := e.do("GET", "/api/v1/audit/verify", e.tokens["admin"], nil); r.Body["valid"] != true {
			t.Fatalf("audit chain: %s", r.Raw)
		}
		_ = mihaiID
	})
}

type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Send(ctx context.Context, to, subject, body string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, to+"|"+subject+"|"+body)
	return nil
}

func (r *recorder) has(to, text string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if strings.HasPrefix(m, to+"|") && strings.Contains(m, text) {
			return true
		}
	}
	return false
}

// fullCase files a registration with its three documents and returns its id.
func (e *env) fullCase(tpID int64, token, vin, acquired string) int64 {
	e.t.Helper()
	r := e.do("POST", "/api/v1/cases", token, registration(tpID, vin, acquired))
	if r.Status != 201 {
		e.t.Fatalf("intake: %d %s", r.Status, r.Raw)
	}
	id := num(r.Body["id"])
	for _, k := range []string{"acquisition_document", "vehicle_identity_card", "owner_id"} {
		if r := e.upload(id, token, k, k+".pdf", append(append([]byte{}, pdfDoc...), k...)); r.Status != 201 {
			e.t.Fatalf("upload %s: %d %s", k, r.Status, r.Raw)
		}
	}
	return id
}

func TestFourEyesConcurrencyAndRejection(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		id := e.fullCase(anaID, ana, "WVWZZZAUZHW123456", "2026-03-10")

		// Two officers decide at once: one wins, the other gets 409.
		if _, err := db.CreateStaff(context.Background(), e.muni.ID, "officer2", "password-officer", fiscal.RoleOfficer, "Officer Two"); err != nil {
			t.Fatal(err)
		}
		tokens := []string{e.tokens["officer"], e.login("officer2", "password-officer")}
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i := range tokens {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				statuses[i] = e.do("POST", casePath(id, "/review"), tokens[i], map[string]any{"decision": "approve"}).Status
			}(i)
		}
		wg.Wait()
		if statuses[0]+statuses[1] != 200+409 {
			t.Fatalf("concurrent reviews: %v", statuses)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM case_steps WHERE case_id = ?`, id); n != 2 {
			t.Fatalf("steps after the race: %d", n)
		}
		// Four eyes: the officer who reviewed becomes a signer; they may not sign.
		winner := tokens[0]
		if statuses[1] == 200 {
			winner = tokens[1]
		}
		me := e.do("GET", "/api/v1/me", winner, nil)
		if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE users SET role = 'signer' WHERE id = ?`), num(me.Body["id"])); err != nil {
			t.Fatal(err)
		}
		// A role changed in the database reaches a signed-in token within the
		// session cache's 30 seconds.
		clock.Advance(31 * time.Second)
		if r := e.do("POST", casePath(id, "/sign"), winner, map[string]any{"decision": "approve"}); r.Status != 409 || !strings.Contains(r.Body["detail"].(string), "four eyes") {
			t.Fatalf("reviewer signing: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", casePath(id, ""), e.tokens["signer"], nil); r.Body["status"] != "reviewed" {
			t.Fatalf("four-eyes refusal changed the case: %s", r.Raw)
		}
		// The other signer rejects with a reason; the taxpayer is told why.
		if r := e.do("POST", casePath(id, "/sign"), e.tokens["signer"], map[string]any{"decision": "reject"}); r.Status != 422 {
			t.Fatalf("rejection without a reason: %d", r.Status)
		}
		r := e.do("POST", casePath(id, "/sign"), e.tokens["signer"], map[string]any{"decision": "reject", "comment": "Contractul nu este semnat."})
		if r.Status != 200 || r.Body["status"] != "rejected" || r.Body["decision_reason"] != "Contractul nu este semnat." {
			t.Fatalf("reject: %d %s", r.Status, r.Raw)
		}
		var body string
		if err := db.SQL().Get(&body, db.SQL().Rebind(`SELECT body FROM notifications WHERE case_id = ? ORDER BY id DESC LIMIT 1`), id); err != nil || !strings.Contains(body, "Contractul nu este semnat.") {
			t.Fatalf("rejection notice: %q %v", body, err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM vehicles`); n != 0 {
			t.Fatalf("a rejected case entered a vehicle")
		}
		if r := e.upload(id, ana, "other", "x.pdf", pdfDoc); r.Status != 409 {
			t.Fatalf("upload to a decided case: %d", r.Status)
		}
		if r := e.do("GET", casePath(id, "/verify"), ana, nil); r.Body["valid"] != true || num(r.Body["steps"]) != 3 {
			t.Fatalf("verify: %s", r.Raw)
		}
	})
}

func TestStraightThroughAndDeregistration(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		if r := e.do("PUT", "/api/v1/case-types/vehicle_registration/straight-through", e.tokens["officer"], map[string]any{"enabled": true}); r.Status != 403 {
			t.Fatalf("officer sets STP: %d", r.Status)
		}
		if r := e.do("PUT", "/api/v1/case-types/vehicle_registration/straight-through", e.tokens["admin"], map[string]any{"enabled": true}); r.Status != 204 {
			t.Fatalf("admin sets STP: %d %s", r.Status, r.Raw)
		}
		// Bought this year: taxed from 2027, nothing owed now.
		id := e.fullCase(anaID, ana, "WVWZZZAUZHW123456", "2026-03-10")
		r := e.do("GET", casePath(id, ""), e.tokens["signer"], nil)
		if r.Body["status"] != "reviewed" || r.Body["straight_through"] != true {
			t.Fatalf("STP did not prepare the case: %s", r.Raw)
		}
		p := r.Body["assessment_preview"].(map[string]any)
		if num(p["first_taxed_year"]) != 2027 || len(p["years"].([]any)) != 0 || p["next_year"].(map[string]any)["annual_tax"] != "198.00" {
			t.Fatalf("preview: %v", p)
		}
		if r := e.do("POST", casePath(id, "/sign"), e.tokens["signer"], map[string]any{"decision": "approve"}); r.Status != 200 || r.Body["status"] != "approved" {
			t.Fatalf("one-action approval: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", casePath(id, "/verify"), e.tokens["officer"], nil); r.Body["valid"] != true {
			t.Fatalf("verify: %s", r.Raw)
		}
		var vehicleID int64
		if err := db.SQL().Get(&vehicleID, `SELECT id FROM vehicles`); err != nil {
			t.Fatal(err)
		}
		// A second owner of the same VIN fails the automatic check: no STP.
		bobID, bob := e.taxpayer("bob", "1850315350012")
		id2 := e.fullCase(bobID, bob, "WVWZZZAUZHW123456", "2026-04-01")
		r = e.do("GET", casePath(id2, ""), e.tokens["officer"], nil)
		if r.Body["status"] != "submitted" || !strings.Contains(string(r.Raw), `"name":"no_conflicting_owner","ok":false`) {
			t.Fatalf("conflicting owner: %s", r.Raw)
		}

		// Ana sells the car in May (bought and sold in 2026: that year's tax is
		// due on the date of sale).
		dereg := map[string]any{"type": "vehicle_deregistration", "taxpayer_id": anaID, "data": map[string]any{"vehicle_id": vehicleID, "disposed_on": "2026-05-05", "reason": "sale"}}
		if r := e.do("POST", "/api/v1/cases", bob, map[string]any{"type": "vehicle_deregistration", "taxpayer_id": bobID, "data": map[string]any{"vehicle_id": vehicleID, "disposed_on": "2026-05-05", "reason": "sale"}}); r.Status != 422 {
			t.Fatalf("deregistering another's vehicle: %d %s", r.Status, r.Raw)
		}
		r = e.do("POST", "/api/v1/cases", ana, dereg)
		if r.Status != 201 {
			t.Fatalf("deregistration: %d %s", r.Status, r.Raw)
		}
		did := num(r.Body["id"])
		if r := e.upload(did, ana, "disposal_document", "sale.pdf", pdfDoc); r.Status != 201 {
			t.Fatalf("upload: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(did, "/review"), e.tokens["officer"], map[string]any{"decision": "approve"}); r.Status != 200 {
			t.Fatalf("review: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(did, "/sign"), e.tokens["signer"], map[string]any{"decision": "approve"}); r.Status != 200 {
			t.Fatalf("sign: %d %s", r.Status, r.Raw)
		}
		var dereg2 *string
		if err := db.SQL().Get(&dereg2, db.SQL().Rebind(`SELECT CAST(deregistered_on AS TEXT) FROM vehicles WHERE id = ?`), vehicleID); err != nil || dereg2 == nil || !strings.HasPrefix(*dereg2, "2026-05-05") {
			t.Fatalf("deregistered_on: %v %v", dereg2, err)
		}
		var sameYear int64
		if err := db.SQL().Get(&sameYear, db.SQL().Rebind(`SELECT SUM(amount_bani) FROM debts WHERE object_id = ? AND year = 2026`), vehicleID); err != nil || sameYear != 19800 {
			t.Fatalf("same-year sale debt: %d %v", sameYear, err)
		}
		// Now Bob's case passes its checks once a document changes hands:
		// his response re-runs them and straight-through prepares it.
		if r := e.do("POST", casePath(id2, "/review"), e.tokens["officer"], map[string]any{"decision": "request_info", "comment": "Confirmați."}); r.Status != 200 {
			t.Fatalf("request_info: %d %s", r.Status, r.Raw)
		}
		if r := e.do("POST", casePath(id2, "/respond"), bob, map[string]any{"comment": "Confirm."}); r.Status != 200 || r.Body["status"] != "reviewed" {
			t.Fatalf("STP after respond: %d %s", r.Status, r.Raw)
		}
	})
}

func TestDeregistrationNeedsDebtsPaid(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		id := e.fullCase(anaID, ana, "WVWZZZAUZHW123456", "2025-06-01") // owes 2026
		e.do("POST", casePath(id, "/review"), e.tokens["officer"], map[string]any{"decision": "approve"})
		if r := e.do("POST", casePath(id, "/sign"), e.tokens["signer"], map[string]any{"decision": "approve"}); r.Status != 200 {
			t.Fatalf("sign: %d %s", r.Status, r.Raw)
		}
		var vehicleID int64
		db.SQL().Get(&vehicleID, `SELECT id FROM vehicles`)
		r := e.do("POST", "/api/v1/cases", ana, map[string]any{"type": "vehicle_deregistration", "taxpayer_id": anaID,
			"data": map[string]any{"vehicle_id": vehicleID, "disposed_on": "2026-05-05", "reason": "scrapping"}})
		did := num(r.Body["id"])
		e.upload(did, ana, "disposal_document", "cert.pdf", pdfDoc)
		e.do("POST", casePath(did, "/review"), e.tokens["officer"], map[string]any{"decision": "approve"})
		r = e.do("POST", casePath(did, "/sign"), e.tokens["signer"], map[string]any{"decision": "approve"})
		if r.Status != 409 || !strings.Contains(r.Body["detail"].(string), "198.00") {
			t.Fatalf("deregistration with debts: %d %s", r.Status, r.Raw)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM vehicles WHERE deregistered_on IS NULL`); n != 1 {
			t.Fatal("the refused deregistration changed the register")
		}
		if r := e.do("GET", casePath(did, ""), e.tokens["signer"], nil); r.Body["status"] != "reviewed" {
			t.Fatalf("status after refusal: %s", r.Raw)
		}
	})
}

func TestSLAMonitorQueueAndCalendarChange(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		if _, err := db.SQL().Exec(`UPDATE users SET email = 'dan@primaria.ro' WHERE role = 'signer'`); err != nil {
			t.Fatal(err)
		}
		anaID, ana := e.taxpayer("ana", "2850615350041")
		// Friday 8 May: due Friday 15 May.
		id := num(e.do("POST", "/api/v1/cases", ana, map[string]any{"type": "petition", "taxpayer_id": anaID,
			"data": map[string]any{"subject": "Iluminat", "body": "Strada nu are iluminat."}}).Body["id"])
		later := num(e.do("POST", "/api/v1/cases", e.tokens["officer"], map[string]any{"type": "fiscal_certificate", "taxpayer_id": anaID,
			"data": map[string]any{"purpose": "notar"}}).Body["id"])
		ctx := context.Background()
		state := func(cid int64) string {
			return e.do("GET", casePath(cid, ""), e.tokens["officer"], nil).Body["sla"].(map[string]any)["state"].(string)
		}
		rep, err := db.CheckSLA(ctx, clock.Now())
		if err != nil || rep.Escalated != 0 || rep.Breached != 0 || state(id) != "on_track" {
			t.Fatalf("day 0: %+v %v %s", rep, err, state(id))
		}
		clock.Set(time.Date(2026, 5, 14, 8, 0, 0, 0, time.UTC)) // Thursday: one working day left
		e.relogin()
		if state(id) != "at_risk" {
			t.Fatalf("Thursday: %s", state(id))
		}
		for i, want := range []int{2, 0} {
			rep, err := db.CheckSLA(ctx, clock.Now())
			if err != nil || rep.Escalated != want || rep.Breached != 0 {
				t.Fatalf("run %d at risk: %+v %v", i, rep, err)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM notifications WHERE recipient = 'dan@primaria.ro'`); n != 2 {
			t.Fatalf("escalation notices to the signer: %d", n)
		}
		// The next working day after the due date both are breached.
		clock.Set(time.Date(2026, 5, 18, 8, 0, 0, 0, time.UTC)) // Monday after the due date
		e.relogin()
		ana = e.login("ana", "parola-lunga-1")
		for i, want := range []int{2, 0} {
			rep, err := db.CheckSLA(ctx, clock.Now())
			if err != nil || rep.Breached != want || rep.Escalated != 0 {
				t.Fatalf("run %d breached: %+v %v", i, rep, err)
			}
		}
		r := e.do("GET", "/api/v1/cases?sla_state=breached", e.tokens["officer"], nil)
		if r.Status != 200 || num(r.Body["total"]) != 2 {
			t.Fatalf("breached queue: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", "/api/v1/cases?sla_state=nonsense", e.tokens["officer"], nil); r.Status != 422 {
			t.Fatalf("bad filter: %d", r.Status)
		}
		// A new case is on track; the queue puts the breached ones first.
		clock.Set(time.Date(2026, 5, 18, 9, 0, 0, 0, time.UTC))
		fresh := num(e.do("POST", "/api/v1/cases", ana, map[string]any{"type": "petition", "taxpayer_id": anaID,
			"data": map[string]any{"subject": "A", "body": "B"}}).Body["id"])
		r = e.do("GET", "/api/v1/cases", e.tokens["officer"], nil)
		items := r.Body["items"].([]any)
		if len(items) != 3 || num(items[2].(map[string]any)["id"]) != fresh || items[0].(map[string]any)["sla"].(map[string]any)["state"] != "breached" {
			t.Fatalf("queue order: %s", r.Raw)
		}
		// Assignment: round-robin gave every case to the only officer; an
		// admin may reassign it only to an officer.
		if r := e.do("GET", "/api/v1/cases?assignee=me", e.tokens["officer"], nil); num(r.Body["total"]) != 3 {
			t.Fatalf("assigned to me: %s", r.Raw)
		}
		me := num(e.do("GET", "/api/v1/me", e.tokens["signer"], nil).Body["id"])
		if r := e.do("POST", casePath(later, "/assign"), e.tokens["admin"], map[string]any{"officer_id": me}); r.Status != 422 {
			t.Fatalf("assigning to a signer: %d", r.Status)
		}
		if r := e.do("POST", casePath(later, "/assign"), ana, map[string]any{"officer_id": me}); r.Status != 403 {
			t.Fatalf("taxpayer assigns: %d", r.Status)
		}

		// A bridge day added by the administrator moves the open case's due date.
		if r := e.do("GET", casePath(fresh, ""), e.tokens["officer"], nil); r.Body["sla"].(map[string]any)["due_on"] != "2026-05-25" {
			t.Fatalf("fresh due: %s", r.Raw)
		}
		err = db.InTx(fiscal.WithActor(ctx, &fiscal.Actor{System: true, MunicipalityID: e.muni.ID}), func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO calendar_days (municipality_id, day, reason, created_at) VALUES (?, ?, ?, ?)`, e.muni.ID, "2026-05-22", "punte", tx.Now); err != nil {
				return err
			}
			n, err := tx.RecomputeOpenCaseDeadlines(ctx, e.muni.ID)
			if err == nil && n != 1 {
				t.Errorf("moved %d due dates", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		db.InvalidateTaxEngine(e.muni.ID)
		r = e.do("GET", casePath(fresh, ""), e.tokens["officer"], nil)
		if r.Body["sla"].(map[string]any)["due_on"] != "2026-05-26" || !strings.Contains(string(r.Raw), "punte") {
			t.Fatalf("after the bridge day: %s", r.Raw)
		}
		// Through the administrators' calendar endpoint: another bridge day
		// moves it again, removing it moves it back.
		if r := e.do("POST", "/api/v1/admin/calendar/days", e.tokens["admin"], map[string]any{"date": "2026-05-21", "reason": "punte"}); r.Status != 201 && r.Status != 200 {
			t.Fatalf("add bridge day: %d %s", r.Status, r.Raw)
		}
		if r := e.do("GET", casePath(fresh, ""), e.tokens["officer"], nil); r.Body["sla"].(map[string]any)["due_on"] != "2026-05-27" {
			t.Fatalf("after the admin's bridge day: %s", r.Raw)
		}
		if r := e.do("DELETE", "/api/v1/admin/calendar/days/2026-05-21", e.tokens["admin"], nil); r.Status >= 300 {
			t.Fatalf("delete bridge day: %d %s", r.Status, r.Raw)
		}
		var stored string
		if err := db.SQL().Get(&stored, db.SQL().Rebind(`SELECT CAST(due_on AS TEXT) FROM cases WHERE id = ?`), fresh); err != nil || !strings.HasPrefix(stored, "2026-05-26") {
			t.Fatalf("stored due date after removal: %q %v", stored, err)
		}
	})
}

// TestIntakeBarrierFailedIsNoSuccess: on PostgreSQL an intake group commits
// asynchronously and then waits for the durability barrier (commit.go). When
// the barrier fails, the request's answer is a server error even though its
// Idempotency-Key's claim and reply are in the table: its own request must
// not replay them as done. A retry once the database is healthy gets the
// kept reply (the commit was kept).
func TestIntakeBarrierFailedIsNoSuccess(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		if db.Dialect() != "postgres" {
			return // SQLite commits durably: no barrier
		}
		e := newEnv(t, db, clock)
		anaID, ana := e.taxpayer("ana", "2850615350041")
		body := registration(anaID, "WVWZZZAUZHW123456", "2025-12-15")
		// The barrier writes durability_marks: without the table it fails
		// after the intake committed.
		if _, err := db.SQL().Exec(`ALTER TABLE durability_marks RENAME TO durability_marks_gone`); err != nil {
			t.Fatal(err)
		}
		r := e.do("POST", "/api/v1/cases", ana, body, "Idempotency-Key", "k-barrier")
		if r.Status < 500 || r.Header["Idempotent-Replayed"] == "true" {
			t.Fatalf("intake whose barrier failed: %d %s (replayed %q)", r.Status, r.Raw, r.Header["Idempotent-Replayed"])
		}
		if _, err := db.SQL().Exec(`ALTER TABLE durability_marks_gone RENAME TO durability_marks`); err != nil {
			t.Fatal(err)
		}
		again := e.do("POST", "/api/v1/cases", ana, body, "Idempotency-Key", "k-barrier")
		if again.Status != 201 || again.Header["Idempotent-Replayed"] != "true" {
			t.Fatalf("retry after the barrier failed: %d %s", again.Status, again.Raw)
		}
		var n int
		if err := db.SQL().Get(&n, `SELECT COUNT(*) FROM cases`); err != nil || n != 1 {
			t.Fatalf("%d cases (%v), want 1", n, err)
		}
	})
}
