package main

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fiscald/internal/money"
	"fiscald/internal/store/storetest"
	"fiscald/payments/stripe"
	"fiscald/payments/stripe/stripetest"
)

// TestTwoServersIntakesAndPayments runs two `fiscald serve` processes on one
// database and sends 2,000 intakes alternately to both (16 clients at once),
// and card payments opened on one, retried on the other with the same
// Idempotency-Key, and settled by webhooks delivered to both (each event
// twice): no request fails, the case numbers are gapless and unique, every
// case verifies, the audit chain verifies, each payment was opened once and
// settled once.
func TestTwoServersIntakesAndPayments(t *testing.T) {
	bin := buildBinary(t)
	api := stripetest.Start(t)
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			servers := serversOn(t, bin, storetest.DSN(t, engine), 2, func(f *faultEnv) {
				f.run(nil, "migrate")
				f.run(nil, "seed", "--synthetic", "40", "--seed", "5")
				f.run(nil, "assess", "--year", "2026", "--progress", "log")
			}, "STRIPE_SECRET_KEY=sk_test_two", "STRIPE_API_BASE="+api, "STRIPE_WEBHOOK_SECRET="+faultWebhookSecret)
			db := servers[0].open()
			defer db.Close()
			var tps []int64
			if err := db.SQL().Select(&tps, `SELECT DISTINCT taxpayer_id FROM debts ORDER BY taxpayer_id LIMIT 20`); err != nil || len(tps) < 10 {
				t.Fatalf("taxpayers with debts: %v %v", tps, err)
			}
			clients := make([]*client, 2)
			tokens := make([]string, 2)
			for i, s := range servers {
				clients[i] = &client{base: s.base, http: &http.Client{Timeout: 30 * time.Second}}
				tokens[i] = clients[i].login(t, "ioana", "ghiseu-demo-2026")
			}

			const intakes, workers = 2000, 16
			var failed atomic.Int64
			var firstErr sync.Once
			var wg sync.WaitGroup
			start := time.Now()
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := w; i < intakes; i += workers {
						s := i % 2
						r, err := clients[s].do("POST", "/api/v1/cases", tokens[s], map[string]any{"type": "petition", "taxpayer_id": tps[i%len(tps)],
							"data": map[string]any{"subject": "Iluminat", "body": fmt.Sprintf("Petiția %d", i)}}, "Idempotency-Key", fmt.Sprintf("two-%d", i))
						if err != nil || r.status != 201 {
							failed.Add(1)
							firstErr.Do(func() { t.Errorf("intake %d on server %d: %v %d %s", i, s, err, r.status, r.raw) })
						}
					}
				}(w)
			}
			wg.Wait()
			took := time.Since(start)

			// Card payments: opened on one server, retried on the other.
			type card struct {
				id  int64
				pi  string
				amt string
			}
			var cards []card
			for i, tp := range tps[:10] {
				key := fmt.Sprintf("two-card-%d", i)
				body := map[string]any{"taxpayer_id": tp, "all": true}
				first, err := clients[i%2].do("POST", "/api/v1/payments", tokens[i%2], body, "Idempotency-Key", key)
				if err != nil || first.status != 201 {
					t.Fatalf("card payment %d: %v %d %s", i, err, first.status, first.raw)
				}
				again, err := clients[(i+1)%2].do("POST", "/api/v1/payments", tokens[(i+1)%2], body, "Idempotency-Key", key)
				if err != nil || again.status != 201 || string(again.raw) != string(first.raw) {
					t.Fatalf("card payment %d retried on the other server: %v %d %s", i, err, again.status, again.raw)
				}
				cards = append(cards, card{num(first.body["id"]), first.body["provider_reference"].(string), first.body["amount"].(string)})
			}
			for i, c := range cards {
				amt, err := money.Parse(c.amt)
				if err != nil {
					t.Fatal(err)
				}
				ev := stripe.TestEvent{ID: "evt_two_" + c.pi, Type: stripe.EventPaymentSucceeded, PaymentIntentID: c.pi, Amount: amt, Created: time.Now().Add(-time.Second)}
				payload, sig := stripe.SignedTestPayload(faultWebhookSecret, ev.JSON())
				for _, s := range []int{i % 2, (i + 1) % 2} { // delivered to both
					if r, err := clients[s].do("POST", "/api/v1/webhooks/stripe", "", payload, "Stripe-Signature", sig); err != nil || r.status != 200 {
						t.Fatalf("webhook for %s on server %d: %v %d %s", c.pi, s, err, r.status, r.raw)
					}
				}
			}

			// Invariants.
			var numbers []string
			if err := db.SQL().Select(&numbers, `SELECT number FROM cases`); err != nil {
				t.Fatal(err)
			}
			if len(numbers) != intakes {
				t.Fatalf("%d cases for %d intakes", len(numbers), intakes)
			}
			seq := make([]int, len(numbers))
			for i, n := range numbers {
				parts := strings.Split(n, "-")
				v, err := strconv.Atoi(parts[len(parts)-1])
				if err != nil {
					t.Fatalf("case number %q: %v", n, err)
				}
				seq[i] = v
			}
			sort.Ints(seq)
			for i, n := range seq {
				if n != i+1 {
					t.Fatalf("case numbers not gapless: position %d holds %d", i+1, n)
				}
			}
			var ids []int64
			if err := db.SQL().Select(&ids, `SELECT id FROM cases ORDER BY id`); err != nil {
				t.Fatal(err)
			}
			for i, id := range ids {
				if i%10 != 0 && i != len(ids)-1 { // one in ten, through both servers
					continue
				}
				r, err := clients[i%2].do("GET", fmt.Sprintf("/api/v1/cases/%d/verify", id), tokens[i%2], nil)
				if err != nil || r.status != 200 || r.body["valid"] != true {
					t.Fatalf("case %d does not verify: %v %d %s", id, err, r.status, r.raw)
				}
			}
			r, err := clients[1].do("GET", "/api/v1/audit/verify", clients[1].login(t, "admin", "cetate-demo-2026"), nil)
			if err != nil || r.status != 200 || r.body["valid"] != true {
				t.Fatalf("audit chain: %v %d %s", err, r.status, r.raw)
			}
			for _, c := range cards {
				var n, settled, allocs int
				q := func(dst *int, query string, args ...any) {
					if err := db.SQL().Get(dst, db.SQL().Rebind(query), args...); err != nil {
						t.Fatal(err)
					}
				}
				q(&n, `SELECT COUNT(*) FROM payments WHERE provider_reference = ?`, c.pi)
				q(&settled, `SELECT COUNT(*) FROM payments WHERE id = ? AND status = 'succeeded' AND receipt_number IS NOT NULL`, c.id)
				q(&allocs, `SELECT COUNT(DISTINCT created_at) FROM allocations WHERE payment_id = ? AND source = 'payment'`, c.id)
				if n != 1 || settled != 1 || allocs != 1 {
					t.Fatalf("payment %d (%s): %d rows, settled %d, allocated in %d transactions", c.id, c.pi, n, settled, allocs)
				}
			}
			if failed.Load() != 0 {
				t.Fatalf("%d of %d intakes failed", failed.Load(), intakes)
			}
			t.Logf("%s: %d intakes through two servers in %s (%.0f/s, %d clients), numbers gapless, cases and chain verify; %d card payments opened once, retried across servers, settled once",
				engine, intakes, took.Round(time.Millisecond), float64(intakes)/took.Seconds(), workers, len(cards))
			for _, s := range servers {
				s.stop()
			}
		})
	}
}
