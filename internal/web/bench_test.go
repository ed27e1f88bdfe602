package web_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/internal/web"
)

// BenchmarkQuoteHandler runs the whole fiber stack of POST /api/v1/tax/quote in process.
func BenchmarkQuoteHandler(b *testing.B) {
	db := storetest.MustOpen(b, "sqlite", fiscal.NewTestClock(storetest.Epoch))
	storetest.Municipality(b, db, "timisoara")
	srv := web.New(web.Config{DefaultMunicipality: "timisoara", PublicRateLimit: 1 << 30, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		web.StoreDeps(db))
	var _ *store.DB = db
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/tax/quote", strings.NewReader(contractQuote))
		req.Header.Set("Content-Type", "application/json")
		res, err := srv.App().Test(req, -1)
		if err != nil || res.StatusCode != 200 {
			b.Fatal(err, res.StatusCode)
		}
		io.Copy(io.Discard, res.Body)
	}
}

// BenchmarkQuoteStack runs POST /api/v1/tax/quote through the fiber app's
// fasthttp handler directly (no socket, no net/http conversion): what the
// server's own code costs per request, every middleware included.
func BenchmarkQuoteStack(b *testing.B) {
	db := storetest.MustOpen(b, "sqlite", fiscal.SystemClock{})
	storetest.Municipality(b, db, "timisoara")
	srv := web.New(web.Config{DefaultMunicipality: "timisoara", PublicRateLimit: 1 << 30, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		web.StoreDeps(db))
	h := srv.App().Handler()
	var ctx fasthttp.RequestCtx
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI("/api/v1/tax/quote")
		ctx.Request.Header.SetContentType("application/json")
		ctx.Request.SetBodyString(contractQuote)
		h(&ctx)
		if ctx.Response.StatusCode() != 200 {
			b.Fatal(ctx.Response.StatusCode(), string(ctx.Response.Body()))
		}
	}
	// CPU time (garbage collection included) moves less than wall time
	// when other processes share the machine.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
