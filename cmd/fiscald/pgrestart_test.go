package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ownPostgres is a PostgreSQL cluster of the test's own, in a temporary
// folder on a free loopback port, so that it can be restarted and stopped
// without touching the machine's server. It runs as the postgres user when
// the test runs as root (initdb refuses root).
type ownPostgres struct {
	t       *testing.T
	bin     string // the folder of initdb and pg_ctl
	dir     string
	port    string
	asUser  []string // runuser -u postgres --, or nothing
	started time.Time
}

func startOwnPostgres(t *testing.T) *ownPostgres {
	t.Helper()
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		t.Fatal("initdb not found under /usr/lib/postgresql/*/bin (Debian package postgresql; make deps)")
	}
	sort.Strings(found)
	p := &ownPostgres{t: t, bin: filepath.Dir(found[len(found)-1])}
	dir, err := os.MkdirTemp("", "fiscald-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Getuid() == 0 {
		out, err := exec.Command("id", "-u", "postgres").Output()
		if err != nil {
			t.Fatalf("running as root and there is no postgres user to run initdb as: %v", err)
		}
		uid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		if err := os.Chown(dir, uid, -1); err != nil {
			t.Fatal(err)
		}
		p.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	addr := freeAddr(t)
	p.port = addr[strings.LastIndexByte(addr, ':')+1:]
	p.run("initdb", "-D", p.dir+"/data", "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	p.start()
	t.Cleanup(func() { p.ctl("stop", "-m", "immediate") })
	return p
}

// run runs a PostgreSQL program as the cluster's owner.
func (p *ownPostgres) run(name string, args ...string) string {
	p.t.Helper()
	argv := append(append(append([]string(nil), p.asUser...), filepath.Join(p.bin, name)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	// The server pg_ctl starts must not hold our pipe (its log goes to -l).
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		p.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (p *ownPostgres) ctl(args ...string) {
	argv := append(append(append([]string(nil), p.asUser...), filepath.Join(p.bin, "pg_ctl"), "-D", p.dir+"/data"), args...)
	exec.Command(argv[0], argv[1:]...).Run()
}

func (p *ownPostgres) start() {
	p.t.Helper()
	p.run("pg_ctl", "-D", p.dir+"/data", "-l", p.dir+"/log", "-w", "start",
		"-o", "-p "+p.port+" -k "+p.dir+" -c listen_addresses=127.0.0.1 -c max_connections=100")
	p.started = time.Now()
}

func (p *ownPostgres) dsn(db string) string {
	return "postgres://postgres@127.0.0.1:" + p.port + "/" + db + "?sslmode=disable"
}

// probe is one request sent while the database was restarting or down.
type probe struct {
	at         time.Time
	status     int
	retryAfter string
	took       time.Duration
	err        error
}

// probes sends, until stop, a cash payment (its own Idempotency-Key) and a
// statement read every 100 ms and records each answer.
func probes(f *faultEnv, token string, tp int64, stop <-chan struct{}) (*[]probe, *sync.WaitGroup) {
	var mu sync.Mutex
	var out []probe
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 45 * time.Second}
	send := func(method, path, body, key string) {
		defer wg.Done()
		req, _ := http.NewRequest(method, f.base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		start := time.Now()
		res, err := hc.Do(req)
		pr := probe{at: start, err: err, took: time.Since(start)}
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			pr.status, pr.retryAfter = res.StatusCode, res.Header.Get("Retry-After")
		}
		mu.Lock()
		out = append(out, pr)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			wg.Add(2)
			go send("POST", "/api/v1/payments/cash", fmt.Sprintf(`{"taxpayer_id": %d, "amount": "1.00"}`, tp), fmt.Sprintf("probe-%d-%d", time.Now().UnixNano(), i))
			go send("GET", fmt.Sprintf("/api/v1/taxpayers/%d/statement", tp), "", "")
		}
	}()
	return &out, &wg
}

// TestPostgresRestart runs the server and the fault suite's mixed traffic
// (cases filed, reviewed, signed; cash payments and refunds) on a
// PostgreSQL cluster of the test's own, then restarts that cluster
// (pg_ctl restart -m fast) and later stops it for FISCAL_PG_STOP_SECONDS
// (default 5; the 30 s with FISCAL_PG_STOP_SECONDS=30) under the
// traffic. While the database is away every request is answered, 503 with
// Retry-After, within the request timeout (none hangs); once it is back the
// server answers again by itself, without a restart; and everything
// acknowledged is there once (the fault suite's invariants).
func TestPostgresRestart(t *testing.T) {
	needFaults(t)
	stopFor := 5 * time.Second
	if s := os.Getenv("FISCAL_PG_STOP_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("FISCAL_PG_STOP_SECONDS=%q", s)
		}
		stopFor = time.Duration(n) * time.Second
	}
	bin := buildBinary(t)
	pg := startOwnPostgres(t)
	pg.run("psql", "-h", "127.0.0.1", "-p", pg.port, "-U", "postgres", "-qc", "CREATE DATABASE fiscal")
	f := newFaultEnvDSN(t, bin, pg.dsn("fiscal"), 60, 0)
	f.start()
	a := newAcked()
	stop := make(chan struct{})
	wg := f.traffic(stop, a, uint64(time.Now().UnixNano()))
	c := &client{base: f.base, http: &http.Client{Timeout: 15 * time.Second}}
	token := c.login(t, "ioana", "ghiseu-demo-2026")
	time.Sleep(2 * time.Second)

	// 1. A restart.
	pstop := make(chan struct{})
	ps, pw := probes(f, token, f.tps[0], pstop)
	before := a.requests.Load()
	t0 := time.Now()
	pg.run("pg_ctl", "-D", pg.dir+"/data", "-l", pg.dir+"/log", "-w", "-m", "fast", "restart")
	restartTook := time.Since(t0)
	recovered := waitAnswered(t, f, token, f.tps[0])
	time.Sleep(2 * time.Second)
	close(pstop)
	pw.Wait()
	restartProbes := *ps
	t.Logf("restart (pg_ctl restart -m fast) took %v; the server answered 2xx again %v after it began; traffic: %d requests meanwhile, %d failed (5xx or cut) in all so far",
		restartTook.Round(time.Millisecond), recovered.Sub(t0).Round(time.Millisecond), a.requests.Load()-before, a.failures.Load())

	// 2. A stop of stopFor.
	pstop = make(chan struct{})
	ps, pw = probes(f, token, f.tps[1], pstop)
	t1 := time.Now()
	pg.run("pg_ctl", "-D", pg.dir+"/data", "-w", "-m", "fast", "stop")
	time.Sleep(stopFor)
	if r, err := http.Get(f.base + "/readyz"); err != nil || r.StatusCode != 503 {
		t.Errorf("/readyz with the database stopped: %v %v", err, r)
	}
	pg.start()
	back := time.Now()
	recovered = waitAnswered(t, f, token, f.tps[1])
	time.Sleep(2 * time.Second)
	close(pstop)
	pw.Wait()
	close(stop)
	wg.Wait()

	check := func(what string, list []probe, from, to time.Time) (n503 int, maxTook time.Duration) {
		for _, p := range list {
			if p.took > maxTook {
				maxTook = p.took
			}
			if p.err != nil {
				t.Errorf("%s: a request got no answer after %v: %v", what, p.took, p.err)
				continue
			}
			if p.took > 31*time.Second {
				t.Errorf("%s: a request took %v, past the request timeout (30 s)", what, p.took)
			}
			switch {
			case p.status/100 == 2:
			case p.status == 503 && p.retryAfter != "":
				n503++
			default:
				t.Errorf("%s: a request at %v answered %d (Retry-After %q), want 2xx or 503 with Retry-After", what, p.at.Sub(from).Round(time.Millisecond), p.status, p.retryAfter)
			}
		}
		return
	}
	n1, max1 := check("restart", restartProbes, t0, recovered)
	n2, max2 := check("stop", *ps, t1, recovered)
	if n2 == 0 {
		t.Errorf("stop: no request was answered 503 while the database was down")
	}
	fg := f.check(a)
	t.Logf("restart: %d probes, %d answered 503 with Retry-After, slowest %v; stop of %v: %d probes, %d answered 503 with Retry-After, slowest %v, answered 2xx again %v after the database was back (no restart of fiscald)",
		len(restartProbes), n1, max1.Round(time.Millisecond), stopFor, len(*ps), n2, max2.Round(time.Millisecond), recovered.Sub(back).Round(time.Millisecond))
	t.Logf("traffic: %d requests, %d refused or cut (5xx) in all; acknowledged %d cases (%d signed), %d cash payments, %d refunded: all there once; %s",
		a.requests.Load(), a.failures.Load(), len(a.cases), len(a.signed), len(a.cash), len(a.refunds), fg)
	f.stop()
}

// waitAnswered waits until a statement read answers 200 and returns when.
func waitAnswered(t *testing.T, f *faultEnv, token string, tp int64) time.Time {
	t.Helper()
	c := &client{base: f.base, http: &http.Client{Timeout: 35 * time.Second}}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := c.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/statement", tp), token, nil); err == nil && r.status == 200 {
			return time.Now()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the server did not answer again within 60 s of the database's return")
	return time.Time{}
}
