package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"fiscald/internal/money"
	"fiscald/payments/stripe"

	"github.com/valyala/fasthttp"
)

// The endpoints of the mix, in report order.
const (
	epQuote      = "quote"
	epStatement  = "statement"
	epSignIn     = "sign-in"
	epIntake     = "intake"
	epPayment    = "payment"
	epWebhook    = "webhook"
	epWebhookDup = "webhook (redelivery)"
)

var endpoints = []string{epQuote, epStatement, epSignIn, epIntake, epPayment, epWebhook, epWebhookDup}

// weight is one entry of the mix: per ten thousand requests.
type weight struct {
	endpoint string
	per10k   int
}

// januaryMix is the January peak (justified in BENCHMARKS.md): mostly
// anonymous quotes and signed-in taxpayers reading their statement, few
// sign-ins (a token lasts the session, and each costs an argon2id hash),
// some intakes, and card payments with one Stripe webhook each.
var januaryMix = []weight{
	{epQuote, 4500}, {epStatement, 4150}, {epSignIn, 50}, {epIntake, 500}, {epPayment, 400}, {epWebhook, 400},
}

// account is a signed-in synthetic taxpayer.
type account struct {
	username   string
	taxpayerID int64
	client     *client // bound to the account's source address
	mu         sync.Mutex
	token      string
}

func (a *account) bearer() string { a.mu.Lock(); defer a.mu.Unlock(); return a.token }

// debtRef is an unpaid debt a payment can take.
type debtRef struct {
	acct   *account
	debtID int64
}

// intent is a card payment waiting for (or given) its webhook.
type intent struct {
	readyAt time.Time
	pi      string
	amount  money.Bani
	debt    debtRef
	eventN  int
}

// workload holds the generator's state: clients, accounts, the queues of
// payable debts and of payments awaiting their webhook.
type workload struct {
	base          string
	password      string
	webhookSecret string
	failPct       int // share of webhooks that report a declined card
	webhookDelay  time.Duration
	anon          []*client // one per source address
	stripeClient  *client
	accounts      []*account
	rec           *recorder

	mu        sync.Mutex
	payable   []debtRef
	waiting   []*intent // FIFO by readyAt
	delivered []*intent // for Stripe's redeliveries
	rng       *rand.Rand

	vin        atomic.Int64
	idem       atomic.Int64
	exhausted  atomic.Int64 // payment draws with no payable debt left
	substitute atomic.Int64 // webhook draws with nothing to deliver yet
}

// client sends requests from one loopback source address. It is
// fasthttp's client: the generator shares this machine's cores with the
// server it measures, and net/http's client cost about a third of one core
// at 2,000 req/s (the report's "CPU used in the window" line), CPU the
// server then did not get.
type client struct{ c *fasthttp.Client }

// newClient makes a client that sends from ip.
func newClient(ip net.IP) *client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
	return &client{c: &fasthttp.Client{
		Dial:                func(addr string) (net.Conn, error) { return d.Dial("tcp", addr) },
		MaxConnsPerHost:     4096,
		MaxIdleConnDuration: 90 * time.Second,
		ReadTimeout:         20 * time.Second,
		WriteTimeout:        20 * time.Second,
		// The latencies are the server's: no retry of a failed request.
		RetryIf: func(*fasthttp.Request) bool { return false },
	}}
}

// sourceClients makes n clients, each sending from its own loopback
// address (127.77.x.y): the server's per-address rate limits then see many
// visitors, as they would in production, while every packet stays on this
// machine.
func sourceClients(n int) []*client {
	cs := make([]*client, n)
	for i := range cs {
		cs[i] = newClient(net.IPv4(127, 77, byte(i/250), byte(i%250+1)))
	}
	return cs
}

// requestTimeout bounds each request of the load.
const requestTimeout = 20 * time.Second

// call sends one request and returns its status and body.
func call(ctx context.Context, c *client, method, url, token string, body []byte, hdr ...string) (int, []byte, error) {
	req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.Header.SetMethod(method)
	req.SetRequestURI(url)
	if body != nil {
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(body)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	deadline := time.Now().Add(requestTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	if err := c.c.DoDeadline(req, res, deadline); err != nil {
		return 0, nil, err
	}
	return res.StatusCode(), append([]byte(nil), res.Body()...), nil
}

// signIn logs an account in and keeps its token.
func (w *workload) signIn(ctx context.Context, a *account) (int, []byte, error) {
	body, _ := json.Marshal(map[string]string{"username": a.username, "password": w.password})
	st, b, err := call(ctx, a.client, "POST", w.base+"/api/v1/auth/login", "", body)
	if err != nil || st != 200 {
		return st, b, err
	}
	var r struct {
		Token string `json:"token"`
		User  struct {
			TaxpayerID *int64 `json:"taxpayer_id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Token == "" || r.User.TaxpayerID == nil {
		return st, b, fmt.Errorf("login answer without token or taxpayer: %s", b)
	}
	a.mu.Lock()
	a.token, a.taxpayerID = r.Token, *r.User.TaxpayerID
	a.mu.Unlock()
	return st, b, nil
}

// signInAll signs every account in, with a few concurrent clients.
func (w *workload) signInAll(ctx context.Context, usernames []string, clients []*client) error {
	w.accounts = make([]*account, len(usernames))
	for i, u := range usernames {
		w.accounts[i] = &account{username: u, client: clients[i%len(clients)]}
	}
	return w.each(ctx, func(a *account) error {
		st, b, err := w.signIn(ctx, a)
		if err == nil && st != 200 {
			err = fmt.Errorf("sign-in of %s: %d %s", a.username, st, b)
		}
		return err
	})
}

// collectDebts reads every account's statement and queues its unpaid debts.
func (w *workload) collectDebts(ctx context.Context) error {
	var mu sync.Mutex
	err := w.each(ctx, func(a *account) error {
		debts, err := w.unpaid(ctx, a)
		mu.Lock()
		w.payable = append(w.payable, debts...)
		mu.Unlock()
		return err
	})
	w.rng.Shuffle(len(w.payable), func(i, j int) { w.payable[i], w.payable[j] = w.payable[j], w.payable[i] })
	return err
}

// each runs fn for every account, eight at a time; the first error wins.
func (w *workload) each(ctx context.Context, fn func(*account) error) error {
	var mu sync.Mutex
	var firstErr error
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(w.accounts) || ctx.Err() != nil {
					return
				}
				if err := fn(w.accounts[i]); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// unpaid reads an account's statement and returns its debts with something
// outstanding.
func (w *workload) unpaid(ctx context.Context, a *account) ([]debtRef, error) {
	st, b, err := call(ctx, a.client, "GET", fmt.Sprintf("%s/api/v1/taxpayers/%d/statement", w.base, a.taxpayerID), a.bearer(), nil)
	if err != nil {
		return nil, err
	}
	if st != 200 {
		return nil, fmt.Errorf("statement of %s: %d %s", a.username, st, b)
	}
	var s struct {
		Debts []struct {
			ID          int64      `json:"id"`
			Outstanding money.Bani `json:"outstanding"`
		} `json:"debts"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	var out []debtRef
	for _, d := range s.Debts {
		if d.Outstanding > 0 {
			out = append(out, debtRef{acct: a, debtID: d.ID})
		}
	}
	return out, nil
}

// draw picks the next request of the mix.
func (w *workload) draw() string {
	w.mu.Lock()
	n := w.rng.IntN(10000)
	w.mu.Unlock()
	for _, m := range januaryMix {
		if n < m.per10k {
			return m.endpoint
		}
		n -= m.per10k
	}
	return epQuote
}

func (w *workload) randAccount() *account {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.accounts[w.rng.IntN(len(w.accounts))]
}

var quoteBodies = [][]byte{
	[]byte(`{"municipality":"timisoara","year":2026,"paid_on":"2026-03-20","object":{"kind":"vehicle","category":"car","engine_cc":1598,"emission_class":"euro6","propulsion":"combustion"}}`),
	[]byte(`{"municipality":"timisoara","year":2026,"object":{"kind":"vehicle","category":"car","engine_cc":1968,"emission_class":"euro5","propulsion":"combustion"}}`),
	[]byte(`{"municipality":"timisoara","year":2026,"paid_on":"2026-01-15","object":{"kind":"vehicle","category":"car","engine_cc":1390,"emission_class":"euro4","propulsion":"combustion"}}`),
	[]byte(`{"municipality":"timisoara","year":2026,"object":{"kind":"vehicle","category":"motorcycle","engine_cc":689,"emission_class":"euro4","propulsion":"combustion"}}`),
	[]byte(`{"municipality":"timisoara","year":2026,"object":{"kind":"vehicle","category":"car","engine_cc":1798,"emission_class":"euro6","propulsion":"hybrid","co2_g_km":95}}`),
	[]byte(`{"municipality":"timisoara","year":2026,"paid_on":"2026-02-02","object":{"kind":"building","owner_kind":"individual","use":"residential","construction_type":"A","utilities":true,"built_area_m2":"77.00","zone":"A","year_built":1970}}`),
}

// run sends one request of the given endpoint due at intended and records it.
func (w *workload) run(ctx context.Context, ep string, intended time.Time) {
	var (
		st  int
		b   []byte
		err error
		ok  bool
	)
	switch ep {
	case epQuote:
		w.mu.Lock()
		c, body := w.anon[w.rng.IntN(len(w.anon))], quoteBodies[w.rng.IntN(len(quoteBodies))]
		w.mu.Unlock()
		st, b, err = call(ctx, c, "POST", w.base+"/api/v1/tax/quote", "", body)
		ok = st == 200
	case epStatement:
		a := w.randAccount()
		st, b, err = call(ctx, a.client, "GET", fmt.Sprintf("%s/api/v1/taxpayers/%d/statement", w.base, a.taxpayerID), a.bearer(), nil)
		ok = st == 200
	case epSignIn:
		a := w.randAccount()
		st, b, err = w.signIn(ctx, a)
		ok = st == 200 && err == nil
	case epIntake:
		st, b, err = w.intake(ctx)
		ok = st == 201
	case epPayment:
		w.mu.Lock()
		if len(w.payable) == 0 {
			w.mu.Unlock()
			w.exhausted.Add(1)
			w.run(ctx, epStatement, intended)
			return
		}
		d := w.payable[len(w.payable)-1]
		w.payable = w.payable[:len(w.payable)-1]
		w.mu.Unlock()
		st, b, err = w.pay(ctx, d)
		ok = st == 201 && err == nil
	case epWebhook:
		it, dup := w.nextDelivery()
		if it == nil {
			w.substitute.Add(1)
			w.run(ctx, epQuote, intended)
			return
		}
		if dup {
			ep = epWebhookDup
		}
		st, b, err = w.deliver(ctx, it, dup)
		ok = st == 200
	}
	detail := string(b)
	if err != nil {
		detail = err.Error()
		ok = false
	}
	if len(detail) > 300 {
		detail = detail[:300]
	}
	w.rec.add(ep, intended, time.Now(), st, ok, detail)
}

// intake submits a vehicle registration (seven in ten) or a petition.
func (w *workload) intake(ctx context.Context) (int, []byte, error) {
	a := w.randAccount()
	n := w.vin.Add(1)
	var body map[string]any
	if n%10 < 7 {
		body = map[string]any{"type": "vehicle_registration", "taxpayer_id": a.taxpayerID, "data": map[string]any{
			"vin": fmt.Sprintf("WVWZZZAUZLT%06d", n), "plate": fmt.Sprintf("TM-%02d-LTX", n%100), "category": "car", "engine_cc": 1598,
			"emission_class": "euro6", "propulsion": "combustion", "acquired_on": "2026-11-02", "acquisition_document": "sale_contract"}}
	} else {
		body = map[string]any{"type": "petition", "taxpayer_id": a.taxpayerID, "data": map[string]any{
			"subject": "Decizia de impunere 2026", "body": "Vă rog să-mi comunicați detalierea calculului impozitului pe clădiri."}}
	}
	raw, _ := json.Marshal(body)
	return call(ctx, a.client, "POST", w.base+"/api/v1/cases", a.bearer(), raw, "Idempotency-Key", "lt-case-"+strconv.FormatInt(w.idem.Add(1), 10))
}

// pay opens a card payment of one debt and queues its webhook.
func (w *workload) pay(ctx context.Context, d debtRef) (int, []byte, error) {
	raw, _ := json.Marshal(map[string]any{"taxpayer_id": d.acct.taxpayerID, "debt_ids": []int64{d.debtID}})
	st, b, err := call(ctx, d.acct.client, "POST", w.base+"/api/v1/payments", d.acct.bearer(), raw,
		"Idempotency-Key", "lt-pay-"+strconv.FormatInt(w.idem.Add(1), 10))
	if err != nil || st != 201 {
		return st, b, err
	}
	var p struct {
		Amount            money.Bani `json:"amount"`
		ProviderReference *string    `json:"provider_reference"`
	}
	if err := json.Unmarshal(b, &p); err != nil || p.ProviderReference == nil {
		return st, b, fmt.Errorf("payment answer without provider_reference: %s", b)
	}
	w.mu.Lock()
	w.waiting = append(w.waiting, &intent{readyAt: time.Now().Add(w.webhookDelay), pi: *p.ProviderReference, amount: p.Amount, debt: d})
	w.mu.Unlock()
	return st, b, nil
}

// nextDelivery is the oldest payment whose webhook is due, or else (as
// Stripe redelivers events it thinks were missed) one already delivered.
func (w *workload) nextDelivery() (*intent, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.waiting) > 0 && !w.waiting[0].readyAt.After(time.Now()) {
		it := w.waiting[0]
		w.waiting = w.waiting[1:]
		return it, false
	}
	if len(w.delivered) > 0 {
		return w.delivered[w.rng.IntN(len(w.delivered))], true
	}
	return nil, false
}

// deliver sends the signed payment_intent.succeeded (or, for failPct of
// them, payment_failed, after which the debt can be paid again) for a
// payment, or redelivers the same event.
func (w *workload) deliver(ctx context.Context, it *intent, dup bool) (int, []byte, error) {
	w.mu.Lock()
	if !dup {
		it.eventN = 1 + w.rng.IntN(100)
	}
	failed := it.eventN <= w.failPct
	w.mu.Unlock()
	ev := stripe.TestEvent{ID: "evt_lt_" + it.pi, Type: stripe.EventPaymentSucceeded, PaymentIntentID: it.pi, Amount: it.amount}
	if failed {
		ev.Type = stripe.EventPaymentFailed
	}
	body, sig := stripe.SignedTestPayload(w.webhookSecret, ev.JSON())
	st, b, err := call(ctx, w.stripeClient, "POST", w.base+"/api/v1/webhooks/stripe", "", body, "Stripe-Signature", sig)
	if err == nil && st == 200 && !dup {
		w.mu.Lock()
		if len(w.delivered) < 20000 {
			w.delivered = append(w.delivered, it)
		}
		if failed {
			w.payable = append(w.payable, it.debt)
		}
		w.mu.Unlock()
	}
	return st, b, err
}
