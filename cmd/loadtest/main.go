// Command loadtest measures fiscald under a January-peak mix while the
// annual assessment runs (`make loadtest`).
//
// It builds nothing: given the fiscald binary, it prepares a fresh SQLite
// data directory, seeds a synthetic city with taxpayer accounts, assesses
// its vehicles, starts stripe-mock and `fiscald serve` on loopback ports,
// signs the accounts in, then starts `fiscald assess` for the buildings in
// the background and, while it runs, sends the mix open loop at a fixed
// arrival rate for a bounded time. Latency is measured from each request's
// intended send time, so a generator or server that falls behind is charged
// for it (no coordinated omission). Every address is on the loopback range;
// the run stops by itself after the warm-up and the window.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	bin, stripeMock, dir string
	keep, check          bool
	vehicles, accounts   int
	rate                 float64
	duration, warmup     time.Duration
	maxInFlight          int
	assessBatch          int
	assessPause          time.Duration
	assessShare          float64
	sources              int
	minRPS               float64
	maxP99               time.Duration
	profile              string
	failPct              int
	// cluster: two `fiscald serve` behind HAProxy (deploy/haproxy.cfg) on
	// the database db (a fresh PostgreSQL database), as make
	// loadtest-cluster runs it.
	cluster          bool
	db, haproxy, cfg string
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/fiscald", "the fiscald binary (make loadtest builds it)")
	flag.StringVar(&o.stripeMock, "stripe-mock", "", "the stripe-mock binary (default: PATH, then $(go env GOPATH)/bin)")
	flag.StringVar(&o.dir, "dir", "", "data directory to create (default: a new temporary directory)")
	flag.BoolVar(&o.keep, "keep", false, "keep the data directory (database, server and assess logs)")
	flag.IntVar(&o.vehicles, "vehicles", 300000, "synthetic city size (vehicle entries): its building phase must outlast the run")
	flag.IntVar(&o.accounts, "accounts", 1000, "taxpayer accounts signed in and used by the mix")
	flag.Float64Var(&o.rate, "rate", 2000, "arrival rate, requests per second (open loop)")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "measured window")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "warm-up at the same rate before the window (not measured)")
	flag.IntVar(&o.maxInFlight, "max-inflight", 2000, "most requests in flight; beyond it the generator waits (and the wait counts)")
	flag.IntVar(&o.assessBatch, "assess-batch", 250, "objects per transaction of the background assessment (0: fiscald's default, 4000)")
	flag.DurationVar(&o.assessPause, "assess-pause", 5*time.Millisecond, "the background assessment's --pause between batches (0: none)")
	flag.Float64Var(&o.assessShare, "assess-share", 0.25, "the background assessment's --share: the largest share of the time it may spend writing (1: no bound)")
	flag.IntVar(&o.sources, "sources", 500, "loopback source addresses (127.77.x.y) the clients send from")
	flag.BoolVar(&o.check, "check", false, "exit 1 unless the targets are met")
	flag.Float64Var(&o.minRPS, "min-rps", 2000, "target: measured requests per second (with -check)")
	flag.DurationVar(&o.maxP99, "max-p99", 100*time.Millisecond, "target: p99 latency of the whole mix (with -check)")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the server during the window to this file (FISCAL_PPROF)")
	flag.IntVar(&o.failPct, "fail-pct", 10, "percent of webhooks reporting a declined card")
	flag.BoolVar(&o.cluster, "cluster", false, "two fiscald serve behind HAProxy (deploy/haproxy.cfg) instead of one")
	flag.StringVar(&o.db, "db", "", "FISCAL_DB of the run (default: SQLite in the data directory); a fresh, empty database")
	flag.StringVar(&o.haproxy, "haproxy", "haproxy", "the haproxy binary (-cluster)")
	flag.StringVar(&o.cfg, "haproxy-cfg", "deploy/haproxy.cfg", "HAProxy's configuration (-cluster)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	met, err := run(ctx, o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	if o.check && !met {
		fmt.Fprintln(os.Stderr, "loadtest: targets NOT met")
		os.Exit(1)
	}
}

// proc is a child process with its output in a file.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	end  time.Time
	err  error
}

func start(name string, cmd *exec.Cmd, logPath string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		p.end = time.Now()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and, after grace, SIGKILL.
func (p *proc) stop(grace time.Duration) {
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// runStep runs a command to completion, its output into logPath.
func runStep(ctx context.Context, o options, env []string, logPath string, stdin string, args ...string) error {
	cmd := exec.CommandContext(ctx, o.bin, args...)
	cmd.Env = env
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		out, _ := os.ReadFile(logPath)
		return fmt.Errorf("fiscald %s: %w\n%s", strings.Join(args, " "), err, tail(string(out), 2000))
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func findStripeMock(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p, nil
	}
	for _, v := range []string{"GOBIN", "GOPATH"} {
		out, err := exec.Command("go", "env", v).Output()
		if d := strings.TrimSpace(string(out)); err == nil && d != "" {
			p := d
			if v == "GOPATH" {
				p = filepath.Join(strings.Split(d, string(os.PathListSeparator))[0], "bin")
			}
			if _, err := os.Stat(filepath.Join(p, "stripe-mock")); err == nil {
				return filepath.Join(p, "stripe-mock"), nil
			}
		}
	}
	return "", errors.New("stripe-mock not found: run make deps (go install github.com/stripe/stripe-mock@v0.203.0)")
}

// waitFor polls until ok or the timeout.
func waitFor(ctx context.Context, timeout time.Duration, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// scrapeWrites reads the server's write-transaction counters from /metrics
// at base (the FISCAL_METRICS_ADDR listener):
// count, seconds waited, seconds held, seconds of that waiting for the
// annual run's lock (zeros when it cannot).
func scrapeWrites(base string) [4]float64 {
	var out [4]float64
	c := &http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(base + "/metrics")
	if err != nil {
		return out
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, _ := strconv.ParseFloat(val, 64)
		switch name {
		case "fiscald_db_write_transactions_total":
			out[0] = v
		case "fiscald_db_write_wait_seconds_total":
			out[1] = v
		case "fiscald_db_write_held_seconds_total":
			out[2] = v
		case "fiscald_db_write_locked_seconds_total":
			out[3] = v
		}
	}
	return out
}

// cpuProc is a process whose CPU time the report shows.
type cpuProc struct {
	name string
	pid  int
}

// cpuTimes reads each process's user+system CPU time (and the machine's,
// last) from /proc; zero where it cannot.
func cpuTimes(ps []cpuProc) []time.Duration {
	const tick = 10 * time.Millisecond // USER_HZ = 100 on Linux
	out := make([]time.Duration, len(ps)+1)
	for i, p := range ps {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			out[i] = time.Duration(u+s) * tick
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		var busy int64
		for j, v := range f[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			if j != 3 && j != 4 { // idle, iowait
				busy += n
			}
		}
		out[len(ps)] = time.Duration(busy) * tick
	}
	return out
}

func cpuShares(ps []cpuProc, from, to []time.Duration, window time.Duration) string {
	if len(from) != len(ps)+1 || len(to) != len(ps)+1 || window <= 0 {
		return "?"
	}
	var parts []string
	for i, p := range ps {
		parts = append(parts, fmt.Sprintf("%s %.0f", p.name, 100*float64(to[i]-from[i])/float64(window)))
	}
	parts = append(parts, fmt.Sprintf("whole machine %.0f of %d", 100*float64(to[len(ps)]-from[len(ps)])/float64(window), 100*runtime.NumCPU()))
	return strings.Join(parts, ", ")
}

// assessWatch follows `fiscald assess` log lines: the objects done so far.
type assessWatch struct {
	mu      sync.Mutex
	objects int64
	total   int64
}

var objectsRe = regexp.MustCompile(`objects=(\d+) total=(\d+)`)

func (a *assessWatch) follow(path string, done <-chan struct{}) {
	var off int64
	for {
		if f, err := os.Open(path); err == nil {
			f.Seek(off, io.SeekStart)
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				off += int64(len(sc.Bytes())) + 1
				if m := objectsRe.FindStringSubmatch(sc.Text()); m != nil {
					n, _ := strconv.ParseInt(m[1], 10, 64)
					t, _ := strconv.ParseInt(m[2], 10, 64)
					a.mu.Lock()
					a.objects, a.total = n, t
					a.mu.Unlock()
				}
			}
			f.Close()
		}
		select {
		case <-done:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (a *assessWatch) get() (int64, int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.objects, a.total
}

const (
	password      = "load-test-2026"
	webhookSecret = "whsec_loadtest_fiscald"
)

func run(ctx context.Context, o options, out io.Writer) (met bool, err error) {
	if _, err := os.Stat(o.bin); err != nil {
		return false, fmt.Errorf("%s: %w (run make build)", o.bin, err)
	}
	sm, err := findStripeMock(o.stripeMock)
	if err != nil {
		return false, err
	}
	if o.dir == "" {
		if o.dir, err = os.MkdirTemp("", "fiscald-loadtest-"); err != nil {
			return false, err
		}
	} else if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return false, err
	}
	if entries, _ := os.ReadDir(o.dir); len(entries) > 0 {
		return false, fmt.Errorf("%s is not empty: the load test needs a fresh data directory", o.dir)
	}
	if !o.keep {
		defer os.RemoveAll(o.dir)
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(out, "[%s] "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
	}
	dbURL, engine := "sqlite:"+filepath.Join(o.dir, "fiscald.db"), "SQLite"
	if o.db != "" {
		dbURL, engine = o.db, "PostgreSQL"
	}
	env := append(os.Environ(), "FISCAL_DATA_DIR="+o.dir, "FISCAL_DB="+dbURL, "FISCAL_MUNICIPALITY=timisoara")
	logf("data directory %s; load average %s", o.dir, loadavg())

	t0 := time.Now()
	if err := runStep(ctx, o, env, filepath.Join(o.dir, "seed.log"), password+"\n", "seed", "--migrate", "--synthetic", strconv.Itoa(o.vehicles),
		"--accounts", strconv.Itoa(o.accounts), "--password-stdin"); err != nil {
		return false, err
	}
	logf("seeded %d vehicles and %d accounts in %.1f s", o.vehicles, o.accounts, time.Since(t0).Seconds())
	// stripe-mock on loopback ports of its choosing.
	smLog := filepath.Join(o.dir, "stripe-mock.log")
	smp, err := start("stripe-mock", exec.Command(sm, "-http-addr", "127.0.0.1:", "-https-addr", "127.0.0.1:"), smLog)
	if err != nil {
		return false, err
	}
	defer smp.stop(5 * time.Second)
	var stripeBase string
	if err := waitFor(ctx, 20*time.Second, func() bool {
		b, _ := os.ReadFile(smLog)
		if _, a, ok := strings.Cut(string(b), "Listening for HTTP at address: "); ok {
			if line, _, ok := strings.Cut(a, "\n"); ok {
				stripeBase = "http://" + strings.TrimSpace(line)
				return true
			}
		}
		return false
	}); err != nil {
		return false, fmt.Errorf("stripe-mock did not start: %w", err)
	}

	addr, err := freePort()
	if err != nil {
		return false, err
	}
	// /metrics answers only admins on the main listener: the write counters
	// are scraped from a loopback listener of their own, as Prometheus would.
	metricsAddr, err := freePort()
	if err != nil {
		return false, err
	}
	senv := append(env, "FISCAL_ADDR="+addr, "FISCAL_METRICS_ADDR="+metricsAddr, "STRIPE_SECRET_KEY=sk_test_123", "STRIPE_API_BASE="+stripeBase, "STRIPE_WEBHOOK_SECRET="+webhookSecret)
	var pprofAddr string
	if o.profile != "" {
		if pprofAddr, err = freePort(); err != nil {
			return false, err
		}
		senv = append(senv, "FISCAL_PPROF="+pprofAddr)
	}
	if o.cluster {
		senv = append(senv, "FISCAL_TRUSTED_PROXIES=127.0.0.1/32", "FISCAL_INSTANCES=2", "FISCAL_SHUTDOWN_DRAIN=2s")
	}
	serve := func(name, addr string, env []string) (*proc, error) {
		scmd := exec.Command(o.bin, "serve")
		scmd.Env = env
		srv, err := start(name, scmd, filepath.Join(o.dir, strings.ReplaceAll(name, " ", "-")+".log"))
		if err != nil {
			return nil, err
		}
		if err := waitFor(ctx, 30*time.Second, func() bool {
			if !srv.running() {
				return true
			}
			res, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				return false
			}
			res.Body.Close()
			return res.StatusCode == 200
		}); err != nil || !srv.running() {
			srv.stop(5 * time.Second)
			b, _ := os.ReadFile(filepath.Join(o.dir, strings.ReplaceAll(name, " ", "-")+".log"))
			return nil, fmt.Errorf("%s did not become ready (%v):\n%s", name, err, tail(string(b), 2000))
		}
		return srv, nil
	}
	srv, err := serve("serve", addr, senv)
	if err != nil {
		return false, err
	}
	defer srv.stop(30 * time.Second)
	base := "http://" + addr
	procs := []cpuProc{{"server", srv.cmd.Process.Pid}}
	if o.cluster {
		addrB, err := freePort()
		if err != nil {
			return false, err
		}
		metricsB, err := freePort()
		if err != nil {
			return false, err
		}
		envB := append(append([]string(nil), senv...), "FISCAL_ADDR="+addrB, "FISCAL_METRICS_ADDR="+metricsB)
		if pprofAddr != "" {
			pprofB, err := freePort()
			if err != nil {
				return false, err
			}
			envB = append(envB, "FISCAL_PPROF="+pprofB) // server a's is profiled
		}
		srvB, err := serve("serve b", addrB, envB)
		if err != nil {
			return false, err
		}
		defer srvB.stop(30 * time.Second)
		lb, err := freePort()
		if err != nil {
			return false, err
		}
		hcmd := exec.Command(o.haproxy, "-db", "-f", o.cfg)
		hcmd.Env = append(os.Environ(), "FISCAL_LB_ADDR="+lb, "FISCAL_A_ADDR="+addr, "FISCAL_B_ADDR="+addrB)
		hp, err := start("haproxy", hcmd, filepath.Join(o.dir, "haproxy.log"))
		if err != nil {
			return false, err
		}
		defer hp.stop(5 * time.Second)
		base = "http://" + lb
		ok := 0
		if err := waitFor(ctx, 20*time.Second, func() bool {
			if res, err := http.Get(base + "/readyz"); err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					ok++
					return ok >= 4
				}
			}
			ok = 0
			return !hp.running()
		}); err != nil || !hp.running() {
			b, _ := os.ReadFile(filepath.Join(o.dir, "haproxy.log"))
			return false, fmt.Errorf("haproxy did not become ready (%v):\n%s", err, tail(string(b), 2000))
		}
		procs = []cpuProc{{"server a", srv.cmd.Process.Pid}, {"server b", srvB.cmd.Process.Pid}, {"haproxy", hp.cmd.Process.Pid}}
		logf("HAProxy on %s in front of fiscald serve on %s and %s (%s)", base, addr, addrB, engine)
	}
	logf("fiscald serve on %s, stripe-mock on %s", base, stripeBase)

	clients := sourceClients(o.sources)
	w := &workload{base: base, password: password, webhookSecret: webhookSecret, failPct: o.failPct, webhookDelay: time.Second,
		anon: clients, rng: rand.New(rand.NewPCG(1, 2)),
		stripeClient: newClient(net.IPv4(127, 66, 0, 1))}
	usernames := make([]string, o.accounts)
	for i := range usernames {
		usernames[i] = fmt.Sprintf("synth%06d", i+1)
	}
	// Sign-ins (argon2id, tens of ms each) need no debts: they run beside
	// the assessment of the vehicles, which makes the debts to pay.
	t0 = time.Now()
	signed := make(chan error, 1)
	go func() { signed <- w.signInAll(ctx, usernames, clients) }()
	if err := runStep(ctx, o, env, filepath.Join(o.dir, "assess-vehicles.log"), "", "assess", "--year", "2026", "--phases", "vehicle", "--progress", "none"); err != nil {
		return false, err
	}
	logf("assessed the vehicles (the debts to pay) in %.1f s", time.Since(t0).Seconds())
	if err := <-signed; err != nil {
		return false, fmt.Errorf("signing the accounts in: %w", err)
	}
	logf("signed in %d accounts in %.1f s", len(w.accounts), time.Since(t0).Seconds())
	if err := w.collectDebts(ctx); err != nil {
		return false, fmt.Errorf("reading the statements: %w", err)
	}
	logf("%d unpaid debts to pay by card", len(w.payable))

	// The annual run for the buildings, in the background.
	aLog := filepath.Join(o.dir, "assess-buildings.log")
	aargs := []string{"assess", "--year", "2026", "--phases", "building", "--progress", "log"}
	if o.assessBatch > 0 {
		aargs = append(aargs, "--batch", strconv.Itoa(o.assessBatch))
	}
	if o.assessShare > 0 && o.assessShare < 1 {
		aargs = append(aargs, "--share", strconv.FormatFloat(o.assessShare, 'g', -1, 64))
	}
	if o.assessPause > 0 {
		aargs = append(aargs, "--pause", o.assessPause.String())
	}
	acmd := exec.Command(o.bin, aargs...)
	acmd.Env = env
	as, err := start("fiscald assess", acmd, aLog)
	if err != nil {
		return false, err
	}
	defer as.stop(10 * time.Second)
	watch := &assessWatch{}
	go watch.follow(aLog, as.done)
	assessStart := time.Now()
	if err := waitFor(ctx, 60*time.Second, func() bool { n, _ := watch.get(); return n > 0 || !as.running() }); err != nil || !as.running() {
		b, _ := os.ReadFile(aLog)
		return false, fmt.Errorf("the assessment did not start writing (%v):\n%s", err, tail(string(b), 2000))
	}
	logf("%s started; load average %s", strings.Join(aargs, " "), loadavg())

	// The load: open loop at o.rate, warm-up then the measured window.
	begin := time.Now().Add(50 * time.Millisecond)
	from, to := begin.Add(o.warmup), begin.Add(o.warmup+o.duration)
	w.rec = newRecorder(from, to)
	var atFrom, atTo int64
	var loadFrom, loadTo string
	procs = append(procs, cpuProc{"annual run", as.cmd.Process.Pid}, cpuProc{"stripe-mock", smp.cmd.Process.Pid}, cpuProc{"generator", os.Getpid()})
	var cpuFrom, cpuTo []time.Duration
	var wFrom, wTo [4]float64
	marked := make(chan struct{})
	profiled := make(chan struct{})
	go func() {
		defer close(profiled)
		time.Sleep(time.Until(from))
		atFrom, _ = watch.get()
		loadFrom = loadavg()
		cpuFrom = cpuTimes(procs)
		wFrom = scrapeWrites("http://" + metricsAddr)
		close(marked)
		if pprofAddr != "" {
			go func() {
				// Where the requests wait, halfway through the window.
				time.Sleep(o.duration / 2)
				captureGoroutines(pprofAddr, o.profile+".goroutines", logf)
			}()
			captureProfile(pprofAddr, o.duration, o.profile, logf)
		}
	}()
	logf("sending %.0f req/s for %v warm-up + %v measured", o.rate, o.warmup, o.duration)
	sem := make(chan struct{}, o.maxInFlight)
	var wg sync.WaitGroup
	var maxLag time.Duration
	sent, unsent := 0, 0
	// The run is bounded: a generator that has fallen more than 10 s behind
	// the schedule (the machine cannot keep up) stops sending; what it did
	// not send is reported.
	hardStop := to.Add(10 * time.Second)
	for i := 0; ; i++ {
		t := begin.Add(time.Duration(float64(i) * float64(time.Second) / o.rate))
		if !t.Before(to) || ctx.Err() != nil {
			break
		}
		if time.Now().After(hardStop) {
			unsent = int(o.rate*(o.warmup+o.duration).Seconds()) - sent
			break
		}
		if d := time.Until(t); d > 0 {
			time.Sleep(d)
		}
		sem <- struct{}{}
		if lag := time.Since(t); lag > maxLag && !t.Before(from) {
			maxLag = lag
		}
		ep := w.draw()
		wg.Add(1)
		sent++
		go func() {
			defer func() { <-sem; wg.Done() }()
			w.run(ctx, ep, t)
		}()
	}
	atTo, total := watch.get()
	loadTo = loadavg()
	<-marked
	cpuTo = cpuTimes(procs)
	wTo = scrapeWrites("http://" + metricsAddr)
	assessRunning := as.running()
	wg.Wait()
	<-marked
	<-profiled
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if !assessRunning {
		atTo = total
	}

	rows, all := w.rec.report(endpoints, o.duration)
	setup := engine
	if o.cluster {
		setup = "two instances behind HAProxy on " + engine
	}
	fmt.Fprintf(out, "\nfiscald load test: January mix, open loop at %.0f req/s, %v measured after %v warm-up, %d sources on 127.77.0.0/16, %s\n",
		o.rate, o.duration, o.warmup, o.sources, setup)
	fmt.Fprintf(out, "machine: %d CPUs, load average %s at the window's start, %s at its end\n", runtime.NumCPU(), loadFrom, loadTo)
	printTable(out, rows, all)
	if n := wTo[0] - wFrom[0]; n > 0 {
		win := time.Since(from).Seconds()
		fmt.Fprintf(out, "server's SQLite writer in the window: %.0f write transactions/s, held %.0f %% of the time (%.0f %% waiting for the annual run's lock), mean wait %.1f ms, mean hold %.2f ms\n",
			n/win, 100*(wTo[2]-wFrom[2])/win, 100*(wTo[3]-wFrom[3])/win, 1000*(wTo[1]-wFrom[1])/n, 1000*(wTo[2]-wFrom[2])/n)
	}
	fmt.Fprintf(out, "CPU used in the window (%% of one core): %s\n", cpuShares(procs, cpuFrom, cpuTo, time.Since(from)))
	fmt.Fprintf(out, "generator: %d requests sent, largest send lag in the window %s ms (counted in the latencies)\n", sent, ms(maxLag))
	if unsent > 0 {
		fmt.Fprintf(out, "GENERATOR FELL BEHIND: it stopped 10 s after the window with %d scheduled requests not sent (the figures above cover only what was sent)\n", unsent)
	}
	if n := w.exhausted.Load(); n > 0 {
		fmt.Fprintf(out, "note: %d payment draws found no unpaid debt left and read a statement instead (raise -accounts)\n", n)
	}
	if n := w.substitute.Load(); n > 0 {
		fmt.Fprintf(out, "note: %d webhook draws had no payment to report yet and sent a quote instead\n", n)
	}
	for _, name := range endpoints {
		if e, ok := w.rec.firstErr[name]; ok {
			fmt.Fprintf(out, "first error of %s: %s\n", name, e)
		}
	}
	state := "still running at the window's end"
	if !assessRunning {
		state = fmt.Sprintf("FINISHED %.1f s after it started, before the window ended", as.end.Sub(assessStart).Seconds())
	}
	fmt.Fprintf(out, "annual run (fiscald %s): %s; %d of %d objects done at the window's start, %d at its end (%.0f objects/s during the window)\n",
		strings.Join(aargs, " "), state, atFrom, total, atTo, float64(atTo-atFrom)/o.duration.Seconds())
	met = unsent == 0 && all.RPS >= o.minRPS && all.P99 < o.maxP99 && all.Errors == 0 && assessRunning && atFrom > 0
	verdict := "MET"
	if !met {
		verdict = "NOT MET"
	}
	fmt.Fprintf(out, "targets (>= %.0f req/s, p99 < %v, no errors, assess running throughout): %s\n", o.minRPS, o.maxP99, verdict)
	if o.keep {
		fmt.Fprintf(out, "kept %s (serve.log, assess-buildings.log, fiscald.db)\n", o.dir)
	}
	return met, nil
}

// captureGoroutines saves the server's goroutines, grouped by stack.
func captureGoroutines(addr, path string, logf func(string, ...any)) {
	c := &http.Client{Timeout: 30 * time.Second}
	res, err := c.Get(fmt.Sprintf("http://%s/debug/pprof/goroutine?debug=1", addr))
	if err != nil {
		logf("goroutines: %v", err)
		return
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		logf("goroutines: %v", err)
	}
}

// captureProfile fetches a CPU profile of the server for d.
func captureProfile(addr string, d time.Duration, path string, logf func(string, ...any)) {
	c := &http.Client{Timeout: d + 30*time.Second}
	res, err := c.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d.Seconds())))
	if err != nil {
		logf("cpu profile: %v", err)
		return
	}
	defer res.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		logf("cpu profile: %v", err)
		return
	}
	defer f.Close()
	if _, err := io.Copy(f, res.Body); err != nil {
		logf("cpu profile: %v", err)
	}
}
