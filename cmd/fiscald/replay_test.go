package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"fiscald/internal/store/storetest"
)

// startSecond starts another `fiscald serve` on the same database and data
// folder (another instance) and returns its base URL.
func (f *faultEnv) startSecond() string {
	f.t.Helper()
	g := *f
	addr := freeAddr(f.t)
	g.env = append(append([]string(nil), f.env...), "FISCAL_ADDR="+addr)
	g.base = "http://" + addr
	g.start()
	f.t.Cleanup(func() {
		if g.srv != nil {
			g.stop()
		}
	})
	return g.base
}

// TestRepliesSurviveKill: the server answers an intake, a cash payment and a
// card payment sent with Idempotency-Keys and is killed with SIGKILL right
// after. The retries with the same keys answer the first responses byte for
// byte (same case number, same receipt) on the restarted process and on a
// second process on the same database, and nothing was done twice.
func TestRepliesSurviveKill(t *testing.T) {
	needFaults(t)
	bin := buildBinary(t)
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			f := newFaultEnv(t, bin, engine, 20, 0)
			f.withStripe()
			f.start()
			c := &client{base: f.base, http: &http.Client{Timeout: 15 * time.Second}}
			off := c.login(t, "ioana", "ghiseu-demo-2026")
			tp := f.tps[0]
			type sent struct {
				name, path, token, key string
				body                   map[string]any
				first                  reply
			}
			reqs := []*sent{
				{name: "intake", path: "/api/v1/cases", token: off, key: "kill-case-1",
					body: map[string]any{"type": "petition", "taxpayer_id": tp, "data": map[string]any{"subject": "Iluminat", "body": "Strada Mărășești"}}},
				{name: "cash", path: "/api/v1/payments/cash", token: off, key: "kill-cash-1", body: map[string]any{"taxpayer_id": tp, "amount": "12.34"}},
				{name: "card", path: "/api/v1/payments", token: off, key: "kill-card-1", body: map[string]any{"taxpayer_id": f.tps[1], "all": true}},
			}
			for _, r := range reqs {
				res, err := c.do("POST", r.path, r.token, r.body, "Idempotency-Key", r.key)
				if err != nil || res.status != 201 {
					t.Fatalf("%s: %v %d %s", r.name, err, res.status, res.raw)
				}
				r.first = res
			}
			f.kill()
			if n := reqs[0].first.body["number"]; n == nil || reqs[1].first.body["receipt_number"] == nil || reqs[2].first.body["client_secret"] == nil {
				t.Fatalf("first answers lack their number, receipt or client secret: %s / %s / %s", reqs[0].first.raw, reqs[1].first.raw, reqs[2].first.raw)
			}
			f.start()
			second := f.startSecond()
			for _, base := range []string{f.base, second} {
				rc := &client{base: base, http: &http.Client{Timeout: 15 * time.Second}}
				tok := rc.login(t, "ioana", "ghiseu-demo-2026")
				for _, r := range reqs {
					res, err := rc.do("POST", r.path, tok, r.body, "Idempotency-Key", r.key)
					if err != nil || res.status != r.first.status || string(res.raw) != string(r.first.raw) {
						t.Fatalf("%s retried on %s after the kill: %v %d %s, first %d %s", r.name, base, err, res.status, res.raw, r.first.status, r.first.raw)
					}
				}
			}
			db := f.open()
			defer db.Close()
			var cases, cash, cards int
			q := func(dst *int, query string, args ...any) {
				if err := db.SQL().Get(dst, db.SQL().Rebind(query), args...); err != nil {
					t.Fatal(err)
				}
			}
			q(&cases, `SELECT COUNT(*) FROM cases WHERE data LIKE ?`, "%Mărășești%")
			q(&cash, `SELECT COUNT(*) FROM payments WHERE method = 'cash' AND amount_bani = 1234`)
			q(&cards, `SELECT COUNT(*) FROM payments WHERE method = 'card' AND taxpayer_id = ?`, f.tps[1])
			if cases != 1 || cash != 1 || cards != 1 {
				t.Fatalf("done more than once: %d cases, %d cash payments, %d card payments", cases, cash, cards)
			}
			t.Log(fmt.Sprintf("%s: three replies identical on the restarted process and on a second one", engine))
		})
	}
}
