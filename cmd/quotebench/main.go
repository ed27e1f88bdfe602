// Command quotebench measures the tax quote endpoint against a bare fiber
// handler that returns the same JSON bytes, with the same load tool (wrk) in
// one run: the real server (web.Server on a migrated SQLite database, every
// middleware, the rate limiter raised out of the way, request logs formatted
// and discarded) and the bare one are loaded one after the other on loopback
// ports, and the requests per second of each and their ratio are printed.
//
//	go run ./cmd/quotebench -duration 10s -connections 2 -threads 1
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
	"strconv"
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
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the fiscald server's load to this file")
	flag.Parse()
	if err := run(*duration, *conns, *threads); err != nil {
		fmt.Fprintln(os.Stderr, "quotebench:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, conns, threads int) error {
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
	fmt.Printf("wrk -t%d -c%d -d%s -s post.lua (POST /api/v1/tax/quote, %d-byte response)\n", threads, conns, duration, len(body))
	bareRPS, err := load(bareURL, script, duration, conns, threads)
	if err != nil {
		return err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	realRPS, err := load(realURL, script, duration, conns, threads)
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	fmt.Printf("bare fiber handler:  %10.0f requests/s\n", bareRPS)
	fmt.Printf("fiscald quote:       %10.0f requests/s\n", realRPS)
	fmt.Printf("ratio:               %10.2f (target >= 0.50)\n", realRPS/bareRPS)
	if realRPS/bareRPS < 0.5 {
		return fmt.Errorf("the quote endpoint is below half the bare handler's throughput")
	}
	return nil
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

var rpsRe = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
var non2xx = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)

// load runs wrk against url and returns its requests per second.
func load(url, script string, d time.Duration, conns, threads int) (float64, error) {
	out, err := exec.Command("wrk", "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(int(d.Seconds()))+"s",
		"-s", script, url+"/api/v1/tax/quote").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	if m := non2xx.FindSubmatch(out); m != nil {
		return 0, fmt.Errorf("wrk saw %s non-2xx responses:\n%s", m[1], out)
	}
	m := rpsRe.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no Requests/sec in wrk's output:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
