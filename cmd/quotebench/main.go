// Command quotebench measures the tax quote endpoint against a bare fiber
// handler that returns the same JSON bytes, with the same load tool (wrk) in
// one run: the real server (web.Server on a migrated SQLite database, every
// middleware, the rate limiter raised out of the way, request logs formatted
// and discarded, the garbage collector tuned as `fiscald serve` tunes it) and
// the bare one are loaded in turn on loopback ports, in rounds (each round
// loads both for -duration/-rounds, the first server alternating), and the
// requests per second of each, the CPU time per request of this process and
// the ratio (the median of the rounds' ratios) are printed. The command
// exits 1 when the ratio is below -min (0.5), so `make bench` fails the day
// the quote regresses.
//
//	go run ./cmd/quotebench -duration 10s -rounds 10 -connections 2 -threads 1 [-cpuprofile quote.prof]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/web"
)

// cpuProfile, when set, is where the CPU profile of the fiscald load goes.
var cpuProfile string

// request is the contract's example quote.
const request = `{"municipality":"timisoara","year":2026,"paid_on":"2026-05-10","object":{"kind":"vehicle","category":"car","engine_cc":1598,"emission_class":"euro6","propulsion":"combustion"}}`

func main() {
	duration := flag.Duration("duration", 10*time.Second, "how long wrk loads each server")
	conns := flag.Int("connections", 2, "wrk connections")
	threads := flag.Int("threads", 1, "wrk threads")
	rounds := flag.Int("rounds", 10, "rounds: each loads both servers for duration/rounds, the first one in turn")
	floor := flag.Float64("min", 0.5, "exit 1 when the ratio is below this")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the fiscald server's load to this file")
	flag.Parse()
	if err := run(*duration, *rounds, *conns, *threads, *floor); err != nil {
		fmt.Fprintln(os.Stderr, "quotebench:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, rounds, conns, threads int, floor float64) error {
	if rounds < 1 || duration/time.Duration(rounds) < time.Second {
		return fmt.Errorf("each round needs at least 1 s: -duration %s, -rounds %d", duration, rounds)
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk is not installed (Debian: apt-get install -y wrk)")
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "quotebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "bench.db"), fiscal.SystemClock{})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := db.CreateMunicipality(ctx, &fiscal.Municipality{Slug: "timisoara", Name: "Municipiul Timișoara", Rank: "I", County: "Timiș"}); err != nil {
		return err
	}
	web.TuneGC() // the collector as `fiscald serve` runs it
	srv := web.New(web.Config{DefaultMunicipality: "timisoara", PublicRateLimit: 1 << 30, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		web.StoreDeps(db))
	realURL, stopReal, err := serve(srv.App())
	if err != nil {
		return err
	}
	defer stopReal()

	// The real server's answer becomes the bare server's fixed body.
	res, err := http.Post(realURL+"/api/v1/tax/quote", "application/json", bytes.NewReader([]byte(request)))
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("quote: %d %s", res.StatusCode, body)
	}
	bare := fiber.New(fiber.Config{DisableStartupMessage: true})
	bare.Post("/api/v1/tax/quote", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(body)
	})
	bareURL, stopBare, err := serve(bare)
	if err != nil {
		return err
	}
	defer stopBare()

	script := filepath.Join(dir, "post.lua")
	lua := "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = " + strconv.Quote(request) + "\n"
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		return err
	}
	per := duration / time.Duration(rounds)
	fmt.Printf("wrk -t%d -c%d -d%s -s post.lua (POST /api/v1/tax/quote, %d-byte response), %d rounds, each server first in turn\n",
		threads, conns, per, len(body), rounds)
	var bareRes, quoteRes result
	ratios := make([]float64, 0, rounds)
	for i := range rounds {
		first, second := &bareRes, &quoteRes
		firstURL, secondURL := bareURL, realURL
		if i%2 == 1 {
			first, second, firstURL, secondURL = second, first, secondURL, firstURL
		}
		a, err := load(firstURL, script, per, conns, threads)
		if err != nil {
			return err
		}
		b, err := load(secondURL, script, per, conns, threads)
		if err != nil {
			return err
		}
		first.add(a)
		second.add(b)
		if i%2 == 1 {
			a, b = b, a
		}
		ratios = append(ratios, b.rps()/a.rps())
		fmt.Printf("round %d: bare %8.0f  fiscald %8.0f requests/s  ratio %.2f\n", i+1, a.rps(), b.rps(), b.rps()/a.rps())
	}
	// The median of the rounds: a burst of other work on the machine
	// during one server's turn moves one round, not the verdict.
	slices.Sort(ratios)
	ratio := (ratios[(len(ratios)-1)/2] + ratios[len(ratios)/2]) / 2
	fmt.Printf("bare fiber handler:  %10.0f requests/s  %6.1f µs of CPU per request (this process)\n", bareRes.rps(), bareRes.cpuPerRequest())
	fmt.Printf("fiscald quote:       %10.0f requests/s  %6.1f µs of CPU per request (this process)\n", quoteRes.rps(), quoteRes.cpuPerRequest())
	fmt.Printf("ratio:               %10.2f median of the rounds (%.2f-%.2f; all rounds together %.2f; CPU per request %.2f); target >= %.2f\n",
		ratio, ratios[0], ratios[len(ratios)-1], quoteRes.rps()/bareRes.rps(), bareRes.cpuPerRequest()/quoteRes.cpuPerRequest(), floor)
	if cpuProfile != "" {
		if err := profile(realURL, script, per, conns, threads); err != nil {
			return err
		}
	}
	if ratio < floor {
		return fmt.Errorf("FAIL: POST /api/v1/tax/quote sustains %.2f of a bare fiber handler's requests/s, below the %.2f floor "+
			"(BENCHMARKS.md, \"HTTP: POST /api/v1/tax/quote\"); find what each request pays for with -cpuprofile", ratio, floor)
	}
	return nil
}

// result sums the wrk runs of one server.
type result struct {
	requests int
	seconds  float64
	cpu      time.Duration // this process's CPU time during the runs
}

func (r *result) add(o result) {
	r.requests += o.requests
	r.seconds += o.seconds
	r.cpu += o.cpu
}

func (r result) rps() float64 { return float64(r.requests) / r.seconds }

func (r result) cpuPerRequest() float64 {
	return float64(r.cpu.Microseconds()) / float64(r.requests)
}

// profile writes a CPU profile of one more load of the fiscald server.
func profile(url, script string, d time.Duration, conns, threads int) error {
	f, err := os.Create(cpuProfile)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	_, err = load(url, script, d, conns, threads)
	pprof.StopCPUProfile()
	return err
}

// cpuTime is the user and system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serve starts app on a loopback port.
func serve(app *fiber.App) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go app.Listener(ln)
	return "http://" + ln.Addr().String(), func() { app.ShutdownWithTimeout(5 * time.Second) }, nil
}

var requestsRe = regexp.MustCompile(`(\d+) requests in ([0-9.]+(?:us|ms|s|m))`)
var non2xx = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)

// load runs wrk against url and returns how many requests it completed,
// in how long, and the CPU time this process (the servers) spent meanwhile.
func load(url, script string, d time.Duration, conns, threads int) (result, error) {
	cpu0 := cpuTime()
	out, err := exec.Command("wrk", "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(conns), "-d"+strconv.FormatFloat(d.Seconds(), 'f', -1, 64)+"s",
		"-s", script, url+"/api/v1/tax/quote").CombinedOutput()
	cpu := cpuTime() - cpu0
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	if m := non2xx.FindSubmatch(out); m != nil {
		return result{}, fmt.Errorf("wrk saw %s non-2xx responses:\n%s", m[1], out)
	}
	m := requestsRe.FindSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("no \"requests in\" in wrk's output:\n%s", out)
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil {
		return result{}, err
	}
	took, err := time.ParseDuration(string(m[2]))
	if err != nil {
		return result{}, fmt.Errorf("wrk's duration %q: %v", m[2], err)
	}
	return result{requests: n, seconds: took.Seconds(), cpu: cpu}, nil
}
