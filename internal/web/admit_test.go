package web_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
	"fiscald/internal/web"
)

// TestAdmissionLimit: past MaxInFlight requests wait; one that waits longer
// than AdmitWait is shed with 503 problem+json and Retry-After; health is
// never held back, and a freed slot admits the next request.
func TestAdmissionLimit(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	srv := web.New(web.Config{DefaultMunicipality: "timisoara", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxInFlight: 1, AdmitWait: 200 * time.Millisecond,
		Mount: func(app *fiber.App, _ *web.Server) {
			app.Get("/test/block", func(c *fiber.Ctx) error {
				entered <- struct{}{}
				<-release
				return c.SendString("done")
			})
			app.Post("/test/write", func(c *fiber.Ctx) error { return c.SendString("written") })
		}}, web.Deps{Clock: fiscal.SystemClock{}})
	app := srv.App()
	get := func(path string, timeout time.Duration) (int, string, string) {
		res, err := app.Test(httptest.NewRequest("GET", path, nil), int(timeout/time.Millisecond))
		if err != nil {
			t.Errorf("GET %s: %v", path, err)
			return 0, "", ""
		}
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Retry-After"), string(b)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); get("/test/block", 5*time.Second) }()
	<-entered // the only slot is taken

	start := time.Now()
	status, retry, body := get("/test/block", 5*time.Second)
	if status != 503 || retry != "1" || !strings.Contains(body, "busy") {
		t.Fatalf("over the limit: %d Retry-After=%q %s", status, retry, body)
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Fatalf("shed after %v, before AdmitWait", waited)
	}
	if status, _, _ := get("/healthz", time.Second); status != 200 {
		t.Fatalf("healthz held back: %d", status)
	}
	// Writes have slots of their own: a write is not held behind reads.
	if res, err := app.Test(httptest.NewRequest("POST", "/test/write", nil), 1000); err != nil || res.StatusCode != 200 {
		t.Fatalf("a write while the read slot is taken: %v %v", res, err)
	}
	// A request that waits for the slot is served once it frees.
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(50 * time.Millisecond)
		release <- struct{}{} // the first request finishes
	}()
	go func() { <-entered; release <- struct{}{} }()
	if status, _, body := get("/test/block", 5*time.Second); status != 200 || body != "done" {
		t.Fatalf("queued request: %d %s", status, body)
	}
	wg.Wait()
	rec := httptest.NewRecorder()
	srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if metrics := rec.Body.String(); !strings.Contains(metrics, "fiscald_http_requests_shed_total 1") {
		t.Fatalf("shed counter missing:\n%s", metrics)
	}
}
