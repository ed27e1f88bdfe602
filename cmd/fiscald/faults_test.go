package main

// The fault tests run the real binary under mixed traffic, kill it with
// SIGKILL in the middle of case signing and payment settlement, restart it
// and check that nothing acknowledged was lost and nothing was applied twice.
// They take minutes, so they run only with FISCAL_TEST_FAULTS=1
// (`make test-faults`); RELIABILITY.md describes them and their figures.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/money"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/payments/stripe"
	"fiscald/payments/stripe/stripetest"
)

const faultWebhookSecret = "whsec_fault_test"

func needFaults(t *testing.T) {
	t.Helper()
	if os.Getenv("FISCAL_TEST_FAULTS") == "" {
		t.Skip("fault tests run with FISCAL_TEST_FAULTS=1 (make test-faults)")
	}
}

// proc is a running `fiscald serve`.
type proc struct {
	cmd  *exec.Cmd
	done chan error
	out  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// faultEnv is one fresh database with a seeded city, the binary and the
// address it listens on (fixed, so clients survive restarts).
type faultEnv struct {
	t    *testing.T
	bin  string
	env  []string
	dsn  string
	base string
	srv  *proc
	// pending card payments (provider reference → payment id) the webhook
	// storm settles.
	intents []string
	tps     []int64
	// card: serve talks to a stripe-mock (withStripe), so the traffic
	// also refunds card payments through Stripe.
	card bool
	// cardIDs maps a pending card payment's PaymentIntent to its id.
	cardIDs map[string]int64
}

// withStripe starts a stripe-mock for the server: card refunds go to it.
func (f *faultEnv) withStripe() {
	base := stripetest.Start(f.t)
	f.env = append(f.env, "STRIPE_SECRET_KEY=sk_test_fault", "STRIPE_API_BASE="+base)
	f.card = true
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func newFaultEnv(t *testing.T, bin, engine string, taxpayers, intents int) *faultEnv {
	return newFaultEnvDSN(t, bin, storetest.DSN(t, engine), taxpayers, intents)
}

// newFaultEnvDSN is newFaultEnv on a given database.
func newFaultEnvDSN(t *testing.T, bin, dsn string, taxpayers, intents int) *faultEnv {
	addr := freeAddr(t)
	f := &faultEnv{t: t, bin: bin, dsn: dsn, base: "http://" + addr,
		env: append(os.Environ(), "FISCAL_ADDR="+addr, "FISCAL_DB="+dsn, "FISCAL_DATA_DIR="+t.TempDir(),
			"STRIPE_WEBHOOK_SECRET="+faultWebhookSecret, "FISCAL_LOG_FORMAT=text")}
	f.run(nil, "migrate")
	f.run(nil, "seed", "--synthetic", fmt.Sprint(taxpayers), "--seed", "11")
	f.run(nil, "assess", "--year", "2026", "--progress", "log")
	f.start() // --demo: the demo municipality's staff
	f.stop()
	for i := 1; i <= 3; i++ {
		f.run(strings.NewReader("parola-ofiter-2026\n"), "user", "add", "--username", fmt.Sprintf("ofiter%d", i), "--role", "officer", "--password-stdin", "--full-name", "Ofițer")
		f.run(strings.NewReader("parola-semnat-2026\n"), "user", "add", "--username", fmt.Sprintf("semnat%d", i), "--role", "signer", "--password-stdin", "--full-name", "Semnatar")
	}
	db := f.open()
	defer db.Close()
	if err := db.SQL().Select(&f.tps, `SELECT id FROM taxpayers ORDER BY id LIMIT 200`); err != nil {
		t.Fatal(err)
	}
	var muni int64
	if err := db.SQL().Get(&muni, `SELECT id FROM municipalities WHERE slug = 'timisoara'`); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i := 0; i < intents; i++ {
		pi := fmt.Sprintf("pi_fault_%04d", i)
		if _, err := db.SQL().Exec(db.SQL().Rebind(`INSERT INTO payments (municipality_id, taxpayer_id, method, provider, provider_reference, status, amount_bani, created_at, updated_at)
			VALUES (?, ?, 'card', 'stripe', ?, 'pending', 2500, ?, ?)`), muni, f.tps[i%len(f.tps)], pi, now, now); err != nil {
			t.Fatal(err)
		}
		f.intents = append(f.intents, pi)
	}
	var cards []struct {
		ID  int64  `db:"id"`
		Ref string `db:"provider_reference"`
	}
	if err := db.SQL().Select(&cards, `SELECT id, provider_reference FROM payments WHERE method = 'card'`); err != nil {
		t.Fatal(err)
	}
	f.cardIDs = map[string]int64{}
	for _, c := range cards {
		f.cardIDs[c.Ref] = c.ID
	}
	return f
}

func (f *faultEnv) open() *store.DB {
	db, err := store.Open(context.Background(), f.dsn, fiscal.SystemClock{})
	if err != nil {
		f.t.Fatal(err)
	}
	return db
}

func (f *faultEnv) run(stdin io.Reader, args ...string) string {
	f.t.Helper()
	cmd := exec.Command(f.bin, args...)
	cmd.Env, cmd.Stdin = f.env, stdin
	out, err := cmd.CombinedOutput()
	if err != nil {
		f.t.Fatalf("fiscald %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// start runs `fiscald serve --migrate --demo --demo-cases=false` (the demo
// staff, none of the demo's cases: the tests count the cases they file),
// with extra environment variables, and waits for its listening line.
func (f *faultEnv) start(extraEnv ...string) {
	f.t.Helper()
	cmd := exec.Command(f.bin, "serve", "--migrate", "--demo", "--demo-cases=false")
	cmd.Env = append(append([]string(nil), f.env...), extraEnv...)
	out := &syncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, out
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1), out: out}
	go func() { p.done <- cmd.Wait(); pw.Close() }()
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		ok := false
		for sc.Scan() {
			out.Write(append(sc.Bytes(), '\n'))
			if !ok && strings.HasPrefix(sc.Text(), "fiscald listening on ") {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			f.t.Fatalf("serve ended before listening:\n%s", out.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		f.t.Fatalf("serve not listening after 60 s:\n%s", out.String())
	}
	f.srv = p
	f.t.Cleanup(func() {
		if f.srv == p {
			p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// kill sends SIGKILL and waits for the process to be gone.
func (f *faultEnv) kill() {
	f.srv.cmd.Process.Signal(syscall.SIGKILL)
	<-f.srv.done
	f.srv = nil
}

// stop ends the server with SIGTERM (graceful).
func (f *faultEnv) stop() {
	f.srv.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.srv.done:
	case <-time.After(30 * time.Second):
		f.srv.cmd.Process.Kill()
		<-f.srv.done
	}
	f.srv = nil
}

// client speaks JSON to the server with a bounded timeout.
type client struct {
	base string
	http *http.Client
}

type reply struct {
	status int
	ctype  string
	body   map[string]any
	raw    []byte
}

func (c *client) do(method, path, token string, body any, headers ...string) (reply, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: res.StatusCode, ctype: res.Header.Get("Content-Type"), raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r, nil
}

// login retries while the server is down (restarts).
func (c *client) login(t *testing.T, user, password string) string {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r, err := c.do("POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": password})
		if err == nil && r.status == 200 {
			return r.body["token"].(string)
		}
		if err == nil && r.status != 429 && r.status < 500 {
			t.Fatalf("login %s: %d %s", user, r.status, r.raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("login %s: the server did not answer", user)
	return ""
}

func num(v any) int64 { f, _ := v.(float64); return int64(f) }

// acked is what the server answered 2xx to: it must all be found afterwards.
type acked struct {
	mu          sync.Mutex
	cash        map[int64]string // payment id → receipt number
	refunds     map[int64]money.Bani
	cases       map[int64]bool // created
	signed      map[int64]bool // sign answered 2xx
	webhooks    map[string]bool
	requests    atomic.Int64
	failures    atomic.Int64 // transport errors and 5xx (the server was down)
	webhookSent atomic.Int64
	// with Stripe (faultEnv.card): card refunds answered 2xx, charge.refunded
	// deliveries, credit applications and recomputation starts answered 2xx.
	cardRefunds, refundEvents, creditApplied, recomputes atomic.Int64
	// cut sums, per payment, the refunds whose request got no answer (a
	// kill): each may or may not have been applied.
	cut map[int64]money.Bani
	// paidBy lists the taxpayers of acknowledged cash payments (who may
	// hold credit), for the credit applications.
	paidBy []int64
}

func (a *acked) cardFigures() string {
	return fmt.Sprintf("card refunds through Stripe %d, charge.refunded deliveries %d, credit applications %d, recomputation starts %d",
		a.cardRefunds.Load(), a.refundEvents.Load(), a.creditApplied.Load(), a.recomputes.Load())
}

// refundCut records a 1.00 lei refund request answered by nothing or 5xx.
func (a *acked) refundCut(id int64, r reply) {
	if r.status != 0 && r.status < 500 {
		return
	}
	a.mu.Lock()
	a.cut[id] += money.Lei(1)
	a.mu.Unlock()
}

func newAcked() *acked {
	return &acked{cut: map[int64]money.Bani{}, cash: map[int64]string{}, refunds: map[int64]money.Bani{}, cases: map[int64]bool{}, signed: map[int64]bool{}, webhooks: map[string]bool{}}
}

// traffic runs the mixed workload until stop is closed: officers filing,
// reviewing and signing petitions (three officers, three signers, each in its
// own goroutine), cash payments and refunds, and a webhook storm settling the
// pending card payments with every event sent two or three times, concurrently.
func (f *faultEnv) traffic(stop <-chan struct{}, a *acked, seed uint64) *sync.WaitGroup {
	t := f.t
	c := &client{base: f.base, http: &http.Client{Timeout: 15 * time.Second}}
	var wg sync.WaitGroup
	count := func(r reply, err error) (reply, bool) {
		a.requests.Add(1)
		if err != nil || r.status >= 500 {
			if n := a.failures.Add(1); n < 6 && os.Getenv("DEBUGF") != "" {
				t.Logf("DEBUG failure: %v %d %s", err, r.status, r.raw)
			}
			if err != nil {
				time.Sleep(50 * time.Millisecond) // the server is down: do not spin
			}
			return r, false
		}
		return r, r.status/100 == 2
	}
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	// Case workers: file a petition, review it, sign it.
	for w := 1; w <= 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			off := c.login(t, fmt.Sprintf("ofiter%d", w), "parola-ofiter-2026")
			sig := c.login(t, fmt.Sprintf("semnat%d", w), "parola-semnat-2026")
			for i := 0; !stopped(); i++ {
				tp := f.tps[r.IntN(len(f.tps))]
				resp, ok := count(c.do("POST", "/api/v1/cases", off, map[string]any{"type": "petition", "taxpayer_id": tp,
					"data": map[string]any{"subject": "Iluminat", "body": fmt.Sprintf("Cererea %d/%d", w, i)}},
					"Idempotency-Key", fmt.Sprintf("case-%d-%d-%d", seed, w, i)))
				if !ok {
					continue
				}
				id := num(resp.body["id"])
				a.mu.Lock()
				a.cases[id] = true
				a.mu.Unlock()
				for _, step := range []struct{ path, tok string }{{"/review", off}, {"/sign", sig}} {
					for try := 0; try < 50 && !stopped(); try++ {
						resp, ok := count(c.do("POST", fmt.Sprintf("/api/v1/cases/%d%s", id, step.path), step.tok, map[string]any{"decision": "approve"}))
						if ok || (resp.status >= 400 && resp.status < 500 && resp.status != 429) {
							if ok && step.path == "/sign" {
								a.mu.Lock()
								a.signed[id] = true
								a.mu.Unlock()
							}
							break
						}
					}
				}
			}
		}(w)
	}
	// Cash desk: two cashiers; every tenth payment is partly refunded.
	for w := 1; w <= 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(100+w)))
			off := c.login(t, "ioana", "ghiseu-demo-2026")
			acc := c.login(t, "carmen", "bilant-demo-2026")
			for i := 0; !stopped(); i++ {
				amount := money.Bani(100 * (1 + r.IntN(300)))
				key := fmt.Sprintf("cash-%d-%d-%d", seed, w, i)
				tp := f.tps[r.IntN(len(f.tps))]
				resp, ok := count(c.do("POST", "/api/v1/payments/cash", off, map[string]any{"taxpayer_id": tp, "amount": amount.String()}, "Idempotency-Key", key))
				if !ok {
					continue
				}
				id := num(resp.body["id"])
				a.mu.Lock()
				a.cash[id] = fmt.Sprint(resp.body["receipt_number"])
				a.paidBy = append(a.paidBy, tp)
				a.mu.Unlock()
				if i%10 == 0 {
					if r, ok := count(c.do("POST", fmt.Sprintf("/api/v1/payments/%d/refunds", id), acc, map[string]any{"amount": "1.00", "reason": "restituire la ghișeu"},
						"Idempotency-Key", key+"-refund")); !ok {
						a.refundCut(id, r)
					} else {
						a.mu.Lock()
						a.refunds[id] += money.Lei(1)
						a.mu.Unlock()
					}
				}
			}
		}(w)
	}
	if f.card {
		f.cardTraffic(c, stop, a, seed, count, stopped, &wg)
	}
	// Webhook storm: each intent's success event two or three times, from
	// two goroutines at once, in a shuffled order.
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(seed, 999))
		order := r.Perm(len(f.intents))
		for _, i := range order {
			pi := f.intents[i]
			ev := stripe.TestEvent{ID: "evt_" + pi, Type: stripe.EventPaymentSucceeded, PaymentIntentID: pi, Amount: 2500, Created: time.Now()}
			var inner sync.WaitGroup
			for k := 0; k < 2+r.IntN(2); k++ {
				inner.Add(1)
				go func() {
					defer inner.Done()
					for try := 0; try < 100 && !stopped(); try++ {
						payload, sig := stripe.SignedTestPayload(faultWebhookSecret, ev.JSON())
						a.webhookSent.Add(1)
						if _, ok := count(c.do("POST", "/api/v1/webhooks/stripe", "", payload, "Stripe-Signature", sig)); ok {
							a.mu.Lock()
							a.webhooks[pi] = true
							a.mu.Unlock()
							return
						}
					}
				}()
			}
			inner.Wait()
			if stopped() {
				return
			}
		}
	}()
	return &wg
}

// cardTraffic adds, with stripe-mock: an accountant refunding 1.00 lei of
// settled card payments through Stripe (Idempotency-Key), each answered
// refund followed by its charge.refunded event (the charge's running total,
// sent twice at once, as Stripe may); an officer applying taxpayers' credit
// (Idempotency-Key); and the admin (re)starting the 2026 recomputation
// every few seconds, which resumes the open run after a kill.
func (f *faultEnv) cardTraffic(c *client, stop <-chan struct{}, a *acked, seed uint64,
	count func(reply, error) (reply, bool), stopped func() bool, wg *sync.WaitGroup) {
	t := f.t
	wg.Add(3)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(seed, 500))
		acc := c.login(t, "carmen", "bilant-demo-2026")
		for i := 0; !stopped(); i++ {
			a.mu.Lock()
			var settled []string
			for pi := range a.webhooks {
				settled = append(settled, pi)
			}
			a.mu.Unlock()
			if len(settled) == 0 {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			pi := settled[r.IntN(len(settled))]
			id := f.cardIDs[pi]
			a.mu.Lock()
			done := a.refunds[id]
			a.mu.Unlock()
			if done >= money.Lei(5) {
				continue
			}
			if r, ok := count(c.do("POST", fmt.Sprintf("/api/v1/payments/%d/refunds", id), acc, map[string]any{"amount": "1.00", "reason": "restituire card"},
				"Idempotency-Key", fmt.Sprintf("card-refund-%d-%d", seed, i))); !ok {
				a.refundCut(id, r)
				continue
			}
			a.mu.Lock()
			a.refunds[id] += money.Lei(1)
			total := a.refunds[id]
			a.mu.Unlock()
			a.cardRefunds.Add(1)
			ev := stripe.TestEvent{ID: fmt.Sprintf("evt_refund_%s_%d", pi, total), Type: stripe.EventChargeRefunded, PaymentIntentID: pi,
				Amount: 2500, RefundedAmount: total, Created: time.Now()}
			var inner sync.WaitGroup
			for k := 0; k < 2; k++ {
				inner.Add(1)
				go func() {
					defer inner.Done()
					for try := 0; try < 100 && !stopped(); try++ {
						payload, sig := stripe.SignedTestPayload(faultWebhookSecret, ev.JSON())
						a.refundEvents.Add(1)
						if _, ok := count(c.do("POST", "/api/v1/webhooks/stripe", "", payload, "Stripe-Signature", sig)); ok {
							return
						}
					}
				}()
			}
			inner.Wait()
		}
	}()
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(seed, 600))
		off := c.login(t, "ioana", "ghiseu-demo-2026")
		for i := 0; !stopped(); i++ {
			a.mu.Lock()
			tp := f.tps[r.IntN(len(f.tps))]
			if n := len(a.paidBy); n > 0 && r.IntN(4) > 0 {
				tp = a.paidBy[r.IntN(n)]
			}
			a.mu.Unlock()
			if r, ok := count(c.do("POST", fmt.Sprintf("/api/v1/taxpayers/%d/credit/apply", tp), off, nil,
				"Idempotency-Key", fmt.Sprintf("credit-%d-%d", seed, i))); ok {
				a.creditApplied.Add(1)
			} else if r.status != 422 && r.status != 0 && r.status < 500 {
				t.Errorf("credit application: %d %s", r.status, r.raw) // 422: no credit or nothing due
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	go func() {
		defer wg.Done()
		admin := c.login(t, "admin", "cetate-demo-2026")
		// A retroactive change (Timișoara's vehicle surcharge from 1 January
		// raised from 50 to 60 %), so that the recomputation writes
		// adjustment debts while payments settle and credit is applied to
		// them; 409 once it exists (after a kill).
		for try := 0; try < 100 && !stopped(); try++ {
			r, err := c.do("POST", "/api/v1/admin/parameters", admin, map[string]any{"key": "vehicle.surcharge_pct", "effective_from": "2026-01-01",
				"value": "60", "legal_basis": "HCL 2026 (test)", "decision": map[string]any{"number": "60/2026", "date": "2026-03-20"}})
			a.requests.Add(1)
			if err == nil && (r.status == 201 || r.status == 409) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		for !stopped() {
			if _, ok := count(c.do("POST", "/api/v1/admin/recompute", admin, map[string]any{"year": 2026})); ok {
				a.recomputes.Add(1)
			}
			for k := 0; k < 30 && !stopped(); k++ {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
}

// figures are the invariant checks' counts.
type figures struct {
	Cases, Signed, Payments, Cash, Card, Refunds, Receipts, Documents, AuditEntries int64
	// CardRefunds succeeded through Stripe or charge.refunded; Adjustments
	// and RecomputeCredit entries written by recomputations (Runs);
	// CreditUses are applications of credit to debts.
	CardRefunds, Adjustments, RecomputeCredit, Runs, CreditUses int64
	Succeeded, Allocated, Credit, RefundedSum                   money.Bani
}

// check verifies, with the server up, that everything acknowledged is there,
// nothing was applied twice, numbers are gapless, every case's signed steps
// verify and the audit chain is intact.
func (f *faultEnv) check(a *acked) figures {
	t := f.t
	t.Helper()
	db := f.open()
	defer db.Close()
	q := func(dst any, query string, args ...any) {
		t.Helper()
		if err := db.SQL().Get(dst, db.SQL().Rebind(query), args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	var fg figures
	// Acknowledged cash payments: present, succeeded, same receipt.
	for id, receipt := range a.cash {
		var status, got string
		q(&status, `SELECT status FROM payments WHERE id = ?`, id)
		q(&got, `SELECT receipt_series || '-' || CAST(receipt_year AS TEXT) || '-' || `+lpad6(db)+` FROM payments WHERE id = ?`, id)
		if (status != "succeeded" && status != "refunded") || got != receipt {
			t.Errorf("acknowledged cash payment %d: status %s, receipt %s (answered %s)", id, status, got, receipt)
		}
	}
	for id, amount := range a.refunds {
		var sum money.Bani
		q(&sum, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM refunds WHERE payment_id = ? AND status = 'succeeded'`, id)
		// A request cut by a kill may have committed before its answer
		// was lost: between the acknowledged and the acknowledged + cut.
		if sum < amount || sum > amount+a.cut[id] {
			t.Errorf("payment %d: refunds %s, acknowledged %s, cut by kills %s (lost or applied twice)", id, sum, amount, a.cut[id])
		}
	}
	for pi := range a.webhooks {
		var status string
		q(&status, `SELECT status FROM payments WHERE provider_reference = ?`, pi)
		if status != "succeeded" {
			t.Errorf("acknowledged webhook for %s: payment is %s", pi, status)
		}
	}
	for id := range a.cases {
		var n int
		q(&n, `SELECT COUNT(*) FROM cases WHERE id = ?`, id)
		if n != 1 {
			t.Errorf("acknowledged case %d is missing", id)
		}
	}
	for id := range a.signed {
		var status string
		q(&status, `SELECT status FROM cases WHERE id = ?`, id)
		if status != string(fiscal.StatusApproved) {
			t.Errorf("case %d was signed (2xx) but is %s", id, status)
		}
	}
	// Nothing applied twice: per payment, allocations + credit = amount −
	// refunds; one stripe event row per event; the ledger sums.
	var bad []struct {
		ID     int64      `db:"id"`
		Amount money.Bani `db:"amount_bani"`
		Net    money.Bani `db:"net"`
	}
	if err := db.SQL().Select(&bad, `SELECT p.id, p.amount_bani, CAST(
		  COALESCE((SELECT SUM(amount_bani) FROM allocations WHERE payment_id = p.id AND source IN ('payment', 'refund')), 0)
		+ COALESCE((SELECT SUM(amount_bani) FROM credit_entries WHERE payment_id = p.id), 0)
		+ COALESCE((SELECT SUM(amount_bani) FROM refunds WHERE payment_id = p.id AND status = 'succeeded'), 0) AS BIGINT) AS net
		FROM payments p WHERE p.status IN ('succeeded', 'refunded')`); err != nil {
		t.Fatal(err)
	}
	for _, p := range bad {
		if p.Net != p.Amount {
			t.Errorf("payment %d of %s: allocations + credit + refunds = %s", p.ID, p.Amount, p.Net)
		}
	}
	q(&fg.Allocated, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM allocations WHERE source IN ('payment', 'refund')`)
	q(&fg.Credit, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM credit_entries`)
	q(&fg.Succeeded, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM payments WHERE status IN ('succeeded', 'refunded')`)
	q(&fg.RefundedSum, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM refunds WHERE status = 'succeeded'`)
	var creditRefunded money.Bani
	q(&creditRefunded, `SELECT CAST(COALESCE(SUM(amount_bani), 0) AS BIGINT) FROM credit_refunds`)
	if fg.Allocated+fg.Credit != fg.Succeeded-fg.RefundedSum-creditRefunded {
		t.Errorf("ledger: allocations %s + credit %s != succeeded %s − refunds %s − credit refunds %s", fg.Allocated, fg.Credit, fg.Succeeded, fg.RefundedSum, creditRefunded)
	}
	// No refund applied twice: each succeeded refund took back exactly its
	// amount (reversed allocations plus credit taken back).
	var badRefunds []struct {
		ID     int64      `db:"id"`
		Amount money.Bani `db:"amount_bani"`
		Back   money.Bani `db:"back"`
	}
	if err := db.SQL().Select(&badRefunds, `SELECT r.id, r.amount_bani, CAST(
		  COALESCE((SELECT SUM(amount_bani) FROM allocations WHERE refund_id = r.id AND source = 'refund'), 0)
		+ COALESCE((SELECT SUM(amount_bani) FROM credit_entries WHERE refund_id = r.id), 0) AS BIGINT) AS back
		FROM refunds r WHERE r.status = 'succeeded'`); err != nil {
		t.Fatal(err)
	}
	for _, r := range badRefunds {
		if r.Back != -r.Amount {
			t.Errorf("refund %d of %s took back %s", r.ID, r.Amount, -r.Back)
		}
	}
	// A card payment settled once allocates to each debt once, unless
	// its credit was applied later or a refund reopened the debt (then a
	// second 'payment' row to the same debt is legitimate).
	var dupEvents int
	q(&dupEvents, `SELECT COUNT(*) FROM (SELECT payment_id FROM allocations WHERE source = 'payment'
		AND payment_id IN (SELECT id FROM payments WHERE method = 'card')
		AND payment_id NOT IN (SELECT payment_id FROM refunds)
		AND payment_id NOT IN (SELECT payment_id FROM credit_entries WHERE source = 'applied')
		GROUP BY payment_id, debt_id HAVING COUNT(*) > 1) d`)
	if dupEvents != 0 {
		t.Errorf("%d card payments allocated twice to the same debt", dupEvents)
	}
	// No debt paid beyond its amount or below zero.
	var overpaid []struct {
		ID     int64      `db:"id"`
		Amount money.Bani `db:"amount_bani"`
		Paid   money.Bani `db:"paid"`
	}
	if err := db.SQL().Select(&overpaid, `SELECT d.id, d.amount_bani, CAST(SUM(a.amount_bani) AS BIGINT) AS paid
		FROM debts d JOIN allocations a ON a.debt_id = d.id GROUP BY d.id, d.amount_bani
		HAVING SUM(a.amount_bani) > d.amount_bani OR SUM(a.amount_bani) < 0`); err != nil {
		t.Fatal(err)
	}
	for _, d := range overpaid {
		t.Errorf("debt %d of %s has %s allocated", d.ID, d.Amount, d.Paid)
	}
	// Gapless numbers: receipts, cases, documents (per series and year).
	gapless := func(what, query string) int64 {
		t.Helper()
		var groups []struct {
			Key string `db:"k"`
			N   int64  `db:"n"`
			Max int64  `db:"mx"`
		}
		if err := db.SQL().Select(&groups, query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		var total int64
		for _, g := range groups {
			if g.N != g.Max {
				t.Errorf("%s %s: %d numbers, highest %d: a gap or a duplicate", what, g.Key, g.N, g.Max)
			}
			total += g.N
		}
		return total
	}
	fg.Receipts = gapless("receipts", `SELECT receipt_series || CAST(receipt_year AS TEXT) AS k, COUNT(DISTINCT receipt_number) AS n, MAX(receipt_number) AS mx
		FROM payments WHERE receipt_number IS NOT NULL GROUP BY receipt_series, receipt_year`)
	q(&fg.Cash, `SELECT COUNT(*) FROM payments WHERE receipt_number IS NOT NULL`)
	if fg.Cash != fg.Receipts {
		t.Errorf("%d receipts but %d distinct numbers", fg.Cash, fg.Receipts)
	}
	fg.Cases = gapless("case numbers", `SELECT `+prefix(db, "number")+` AS k, COUNT(DISTINCT number) AS n, MAX(CAST(`+suffix(db, "number")+` AS INTEGER)) AS mx FROM cases GROUP BY `+prefix(db, "number"))
	fg.Documents = gapless("document numbers", `SELECT `+prefix(db, "number")+` AS k, COUNT(DISTINCT number) AS n, COALESCE(MAX(CAST(`+suffix(db, "number")+` AS INTEGER)), 0) AS mx FROM documents GROUP BY `+prefix(db, "number"))
	q(&fg.Payments, `SELECT COUNT(*) FROM payments`)
	q(&fg.Card, `SELECT COUNT(*) FROM payments WHERE method = 'card' AND status = 'succeeded'`)
	q(&fg.Refunds, `SELECT COUNT(*) FROM refunds`)
	q(&fg.AuditEntries, `SELECT COUNT(*) FROM audit_log`)
	q(&fg.CardRefunds, `SELECT COUNT(*) FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.method = 'card' AND r.status = 'succeeded'`)
	q(&fg.Adjustments, `SELECT COUNT(*) FROM debts WHERE kind = 'adjustment'`)
	q(&fg.RecomputeCredit, `SELECT COUNT(*) FROM credit_entries WHERE source = 'recompute'`)
	q(&fg.Runs, `SELECT COUNT(*) FROM recompute_runs`)
	q(&fg.CreditUses, `SELECT COUNT(*) FROM credit_entries WHERE source = 'applied'`)
	// Every case's signed steps verify (through the API), none is left
	// without its steps.
	var ids []int64
	if err := db.SQL().Select(&ids, `SELECT id FROM cases ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	c := &client{base: f.base, http: &http.Client{Timeout: 30 * time.Second}}
	admin := c.login(t, "admin", "cetate-demo-2026")
	for _, id := range ids {
		r, err := c.do("GET", fmt.Sprintf("/api/v1/cases/%d/verify", id), admin, nil)
		if err != nil || r.status != 200 || r.body["valid"] != true || num(r.body["steps"]) < 1 {
			t.Errorf("case %d verify: %v %d %s", id, err, r.status, r.raw)
		}
		var status string
		q(&status, `SELECT status FROM cases WHERE id = ?`, id)
		if status == string(fiscal.StatusApproved) {
			fg.Signed++
			if num(r.body["steps"]) < 3 {
				t.Errorf("approved case %d has %d signed steps", id, num(r.body["steps"]))
			}
		}
	}
	if out := f.run(nil, "audit", "verify"); !strings.Contains(out, "intact") {
		t.Errorf("audit chain: %s", out)
	}
	return fg
}

// lpad6 formats receipt_number as six digits, as the API writes it.
func lpad6(db *store.DB) string {
	if db.Dialect() == "postgres" {
		return `LPAD(CAST(receipt_number AS TEXT), 6, '0')`
	}
	return `printf('%06d', receipt_number)`
}

// prefix and suffix split "TM-2026-000123" at its last dash.
func prefix(db *store.DB, col string) string {
	if db.Dialect() == "postgres" {
		return `regexp_replace(` + col + `, '-[0-9]+$', '')`
	}
	return `rtrim(rtrim(` + col + `, '0123456789'), '-')`
}

func suffix(db *store.DB, col string) string {
	if db.Dialect() == "postgres" {
		return `substring(` + col + ` from '[0-9]+$')`
	}
	return `substr(` + col + `, length(rtrim(` + col + `, '0123456789')) + 1)`
}

func (fg figures) String() string {
	return fmt.Sprintf("cases %d (approved %d), payments %d (receipts %d, card settled %d), refunds %d (card %d), documents %d, audit entries %d; "+
		"recomputation runs %d (adjustment debts %d, recompute credit entries %d), credit applications %d; "+
		"succeeded %s = allocations %s + credit %s + refunds %s",
		fg.Cases, fg.Signed, fg.Payments, fg.Cash, fg.Card, fg.Refunds, fg.CardRefunds, fg.Documents, fg.AuditEntries,
		fg.Runs, fg.Adjustments, fg.RecomputeCredit, fg.CreditUses, fg.Succeeded, fg.Allocated, fg.Credit, fg.RefundedSum)
}

// TestCrashDuringSigningAndSettlement kills the server with SIGKILL at random
// moments while officers sign cases and cashiers and Stripe settle payments,
// restarts it, and after the last restart checks every acknowledged request
// and the invariants.
func TestCrashDuringSigningAndSettlement(t *testing.T) {
	needFaults(t)
	bin := buildBinary(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FISCAL_KILL_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (FISCAL_KILL_SEED reproduces the kill delays)", seed)
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 3))
			f := newFaultEnv(t, bin, engine, 200, 150)
			f.withStripe()
			f.start()
			a := newAcked()
			stop := make(chan struct{})
			wg := f.traffic(stop, a, seed)
			kills := 0
			for i := 0; i < 4; i++ {
				time.Sleep(time.Duration(1500+r.IntN(2500)) * time.Millisecond)
				f.kill()
				kills++
				f.start()
			}
			time.Sleep(time.Second)
			close(stop)
			wg.Wait()
			fg := f.check(a)
			f.stop()
			t.Logf("%s: %d SIGKILLs under traffic: %d requests (%d refused or cut while down), %d webhook deliveries; acknowledged: %d cases created, %d signed, %d cash payments, %d payments refunded, %d webhooks; %s",
				engine, kills, a.requests.Load(), a.failures.Load(), a.webhookSent.Load(), len(a.cases), len(a.signed), len(a.cash), len(a.refunds), len(a.webhooks), a.cardFigures())
			t.Logf("%s: invariants hold: %s", engine, fg)
		})
	}
}

// TestSoak runs the mixed traffic for FISCAL_SOAK_SECONDS (default 35) per
// engine without faults other than the duplicate webhooks, then checks the
// same invariants.
func TestSoak(t *testing.T) {
	needFaults(t)
	bin := buildBinary(t)
	d := 35 * time.Second
	if s := os.Getenv("FISCAL_SOAK_SECONDS"); s != "" {
		var n int
		fmt.Sscan(s, &n)
		d = time.Duration(n) * time.Second
	}
	seed := uint64(time.Now().UnixNano())
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			f := newFaultEnv(t, bin, engine, 200, 400)
			f.withStripe()
			f.start()
			a := newAcked()
			stop := make(chan struct{})
			start := time.Now()
			wg := f.traffic(stop, a, seed)
			time.Sleep(d)
			close(stop)
			wg.Wait()
			elapsed := time.Since(start)
			if a.failures.Load() != 0 {
				t.Errorf("%d requests failed (transport error or 5xx) without any fault injected", a.failures.Load())
			}
			fg := f.check(a)
			f.stop()
			t.Logf("%s: %v of traffic: %d requests (%.0f/s), %d webhook deliveries for %d intents; acknowledged: %d cases, %d signed, %d cash payments, %d payments refunded, %d webhooks; %s",
				engine, elapsed.Round(time.Second), a.requests.Load(), float64(a.requests.Load())/elapsed.Seconds(), a.webhookSent.Load(), len(f.intents),
				len(a.cases), len(a.signed), len(a.cash), len(a.refunds), len(a.webhooks), a.cardFigures())
			t.Logf("%s: invariants hold: %s", engine, fg)
		})
	}
}
