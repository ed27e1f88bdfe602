package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"fiscald/internal/money"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// clusterQuote is the contract's example quote.
const clusterQuote = `{"municipality": "timisoara", "year": 2026, "paid_on": "2026-05-10",
   "object": {"kind": "vehicle", "category": "car", "engine_cc": 1598, "emission_class": "euro6", "propulsion": "combustion"}}`

// cluster is the reference deployment of deploy/haproxy.cfg started by a
// test: HAProxy on a loopback port in front of two `fiscald serve`.
type cluster struct {
	lb      string // HAProxy's base URL
	servers []*faultEnv
	haproxy *exec.Cmd
	log     *syncBuffer
}

// startCluster starts two instances on dsn (migrated and seeded by prepare)
// and HAProxy with the repository's deploy/haproxy.cfg.
func startCluster(t *testing.T, bin, dsn string, prepare func(f *faultEnv)) *cluster {
	t.Helper()
	hp, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("haproxy is not installed (make deps): %v", err)
	}
	servers := serversOn(t, bin, dsn, 2, prepare, "FISCAL_TRUSTED_PROXIES=127.0.0.1/32", "FISCAL_INSTANCES=2", "FISCAL_SHUTDOWN_DRAIN=2s")
	lb := freeAddr(t)
	cfg, _ := filepath.Abs("../../deploy/haproxy.cfg")
	cmd := exec.Command(hp, "-db", "-f", cfg)
	cmd.Env = append(os.Environ(), "FISCAL_LB_ADDR="+lb,
		"FISCAL_A_ADDR="+strings.TrimPrefix(servers[0].base, "http://"), "FISCAL_B_ADDR="+strings.TrimPrefix(servers[1].base, "http://"))
	c := &cluster{lb: "http://" + lb, servers: servers, haproxy: cmd, log: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = c.log, c.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// Ready through HAProxy: four answers in a row (both instances, in turn).
	deadline := time.Now().Add(20 * time.Second)
	for ok := 0; ok < 4; {
		if time.Now().After(deadline) {
			t.Fatalf("HAProxy does not answer /readyz:\n%s", c.log.String())
		}
		ok++
		res, err := http.Get(c.lb + "/readyz")
		if err == nil {
			res.Body.Close()
		}
		if err != nil || res.StatusCode != 200 {
			ok = 0
			time.Sleep(100 * time.Millisecond)
		}
	}
	return c
}

// from is an HTTP client whose connections leave from the loopback address ip.
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 8}}
}

// TestClusterBehindHAProxy runs the reference deployment (deploy/haproxy.cfg,
// two instances with FISCAL_TRUSTED_PROXIES=127.0.0.1/32 and
// FISCAL_INSTANCES=2). Rate limits per client behind the proxy: 700 quotes
// from one client address (its own loopback source address, which HAProxy
// forwards) are limited at 600, 700 quotes from 700 client addresses are
// not. Then one instance is SIGKILLed while cashiers and officers send
// cash payments and petitions through HAProxy and retry each with its
// Idempotency-Key until answered: every payment and case exists exactly
// once, the fault suite's invariants hold, the killed instance restarts and
// rejoins; the other is stopped with SIGTERM and drains with no request
// failing.
func TestClusterBehindHAProxy(t *testing.T) {
	needFaults(t)
	bin := buildBinary(t)
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			dsn := storetest.DSN(t, engine)
			var tps []int64
			c := startCluster(t, bin, dsn, func(f *faultEnv) {
				f.run(nil, "migrate")
				f.run(nil, "seed", "--synthetic", "40", "--seed", "11")
				f.run(nil, "assess", "--year", "2026", "--progress", "log")
				f.run(strings.NewReader("parola-ofiter-2026\n"), "user", "add", "--username", "ofiter1", "--role", "officer", "--password-stdin", "--full-name", "Ofițer")
				db := f.open()
				defer db.Close()
				if err := db.SQL().Select(&tps, `SELECT id FROM taxpayers ORDER BY id LIMIT 40`); err != nil {
					t.Fatal(err)
				}
			})

			// Rate limits per client through HAProxy.
			quotes := func(client func(i int) *http.Client, n int) map[int]int {
				got := map[int]int{}
				for i := 0; i < n; i++ {
					res, err := client(i).Post(c.lb+"/api/v1/tax/quote", "application/json", strings.NewReader(clusterQuote))
					if err != nil {
						t.Fatal(err)
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					got[res.StatusCode]++
				}
				return got
			}
			one := from("127.55.0.1")
			if got := quotes(func(int) *http.Client { return one }, 700); got[200] != 600 || got[429] != 100 {
				t.Fatalf("700 quotes from one client through HAProxy: %v, want 600 answered and 100 refused", got)
			}
			many := make([]*http.Client, 700)
			for i := range many {
				many[i] = from(fmt.Sprintf("127.56.%d.%d", i/250, i%250+1))
			}
			if got := quotes(func(i int) *http.Client { return many[i] }, 700); got[200] != 700 {
				t.Fatalf("700 quotes from 700 clients through HAProxy: %v, want all answered", got)
			}
			// A client that names another address in X-Forwarded-For is
			// still itself: HAProxy appends its address to the right.
			spoof := map[int]int{}
			for i := 0; i < 700; i++ {
				req, _ := http.NewRequest("POST", c.lb+"/api/v1/tax/quote", strings.NewReader(clusterQuote))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.1.%d.%d", i/250, i%250+1))
				res, err := from("127.55.0.2").Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				spoof[res.StatusCode]++
			}
			if spoof[200] != 600 || spoof[429] != 100 {
				t.Fatalf("700 quotes from one client claiming 700 addresses: %v, want 600 and 100", spoof)
			}
			t.Logf("%s: through HAProxy, 700 quotes from one client: 600 answered, 100 refused (429); from 700 clients: 700 answered; spoofed X-Forwarded-For: 600 and 100", engine)

			// SIGKILL of one instance under writes retried with their keys:
			// instance a is restarted armed with a fault point, so that it
			// kills itself (SIGKILL) inside the transaction of its 15th cash
			// payment, with that request and others in flight.
			killed := c.servers[0]
			killed.stop()
			killed.start("FISCAL_FAULT_POINT=" + store.FaultSettleCommit + "#15")
			time.Sleep(3 * time.Second) // HAProxy takes it back (rise 2)
			a := newAcked()
			var keys, retries, cut atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			cl := &client{base: c.lb, http: &http.Client{Timeout: 20 * time.Second}}
			ioana, ofiter := cl.login(t, "ioana", "ghiseu-demo-2026"), cl.login(t, "ofiter1", "parola-ofiter-2026")
			// send retries one request with its key until a 2xx (or a 4xx
			// that is an answer); a retry after a cut request must find the
			// first effect, never make a second.
			send := func(path, token string, body any, key string) reply {
				for try := 0; ; try++ {
					r, err := cl.do("POST", path, token, body, "Idempotency-Key", key)
					a.requests.Add(1)
					if err == nil && r.status/100 == 2 {
						return r
					}
					if err == nil && r.status < 500 && r.status != 409 && r.status != 429 {
						t.Errorf("%s with key %s: %d %s", path, key, r.status, r.raw)
						return r
					}
					if err != nil || r.status == 502 || r.status == 504 {
						cut.Add(1)
					}
					retries.Add(1)
					if try > 600 {
						t.Errorf("%s with key %s: no answer after %d tries (last %v %d %s)", path, key, try, err, r.status, r.raw)
						return r
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
			stopped := func() bool {
				select {
				case <-stop:
					return true
				default:
					return false
				}
			}
			for w := 0; w < 24; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(w), 7))
					for i := 0; !stopped(); i++ {
						keys.Add(1)
						tp := tps[r.IntN(len(tps))]
						if w%2 == 0 {
							amount := money.Bani(100 * (1 + r.IntN(200)))
							rep := send("/api/v1/payments/cash", ioana, map[string]any{"taxpayer_id": tp, "amount": amount.String()}, fmt.Sprintf("cl-cash-%d-%d", w, i))
							if rep.status/100 == 2 {
								a.mu.Lock()
								if _, dup := a.cash[num(rep.body["id"])]; dup {
									t.Errorf("two keys answered payment %d", num(rep.body["id"]))
								}
								a.cash[num(rep.body["id"])] = fmt.Sprint(rep.body["receipt_number"])
								a.mu.Unlock()
							}
						} else {
							rep := send("/api/v1/cases", ofiter, map[string]any{"type": "petition", "taxpayer_id": tp,
								"data": map[string]any{"subject": "Iluminat", "body": fmt.Sprintf("Cererea %d/%d", w, i)}}, fmt.Sprintf("cl-case-%d-%d", w, i))
							if rep.status/100 == 2 {
								a.mu.Lock()
								if a.cases[num(rep.body["id"])] {
									t.Errorf("two keys answered case %d", num(rep.body["id"]))
								}
								a.cases[num(rep.body["id"])] = true
								a.mu.Unlock()
							}
						}
					}
				}(w)
			}
			// A Fatal below must not end the test while the workers run (they
			// report through t): they are stopped and awaited first.
			var halted sync.Once
			halt := func() { halted.Do(func() { close(stop) }) }
			defer func() { halt(); wg.Wait() }()
			select {
			case <-killed.srv.done:
			case <-time.After(60 * time.Second):
				t.Fatal("instance a did not reach its fault point within 60 s")
			}
			if st := killed.srv.cmd.ProcessState; st == nil || st.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("instance a ended otherwise than by SIGKILL: %v", st)
			}
			killed.srv = nil
			time.Sleep(3 * time.Second)
			killed.start() // restarts on its address; HAProxy takes it back (rise 2)
			time.Sleep(3 * time.Second)
			// The other instance stops gracefully: it drains (readyz 503,
			// 2 s), HAProxy moves to the restarted one, nothing fails.
			before, retriedBefore := a.requests.Load(), retries.Load()
			c.servers[1].stop()
			drained, drainRetries := a.requests.Load()-before, retries.Load()-retriedBefore
			if drainRetries != 0 {
				t.Errorf("stopping instance b (drain) cost %d failed requests (retried)", drainRetries)
			}
			time.Sleep(time.Second)
			halt()
			wg.Wait()
			if t.Failed() {
				return
			}
			db := killed.open()
			var nCash, nCases int
			if err := db.SQL().Get(&nCash, `SELECT COUNT(*) FROM payments WHERE method = 'cash'`); err != nil {
				t.Fatal(err)
			}
			if err := db.SQL().Get(&nCases, `SELECT COUNT(*) FROM cases`); err != nil {
				t.Fatal(err)
			}
			db.Close()
			// The payment killed at the fault point was in flight: either its
			// client got 502 and retried it with its key (cut > 0), or HAProxy
			// resent it to the other instance by itself (seen in some runs,
			// RELIABILITY.md); with its Idempotency-Key both give one payment,
			// checked below.
			if nCash != len(a.cash) || nCases != len(a.cases) || int64(len(a.cash)+len(a.cases)) != keys.Load() {
				t.Fatalf("keys %d: acknowledged %d payments and %d cases; in the database %d cash payments and %d cases (lost or doubled)",
					keys.Load(), len(a.cash), len(a.cases), nCash, nCases)
			}
			fg := killed.check(a)
			t.Logf("%s: instance a SIGKILLed (fault point %s#15: inside its 15th cash payment's transaction) under load, restarted 3 s later; instance b then stopped (SIGTERM, drain 2 s) under load (%d requests meanwhile): "+
				"%d keys, %d requests, %d retries (%d cut or 502), every key one effect: %d cash payments, %d cases; %s",
				engine, store.FaultSettleCommit, drained, keys.Load(), a.requests.Load(), retries.Load(), cut.Load(), nCash, nCases, fg)
		})
	}
}
