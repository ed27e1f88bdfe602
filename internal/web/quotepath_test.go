package web_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store/storetest"
	"fiscald/internal/web"
)

// syncBuffer is a log destination safe for the server's goroutines.
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

// TestQuotePathKeepsItsMiddleware checks that the quote's fast paths left
// every middleware doing its job: the per-address limit refuses the fourth
// quote of three allowed, each request is logged with its fields and
// counted by route and status in /metrics, the request id is echoed, and
// the answer is the same JSON as before for the contract's example.
func TestQuotePathKeepsItsMiddleware(t *testing.T) {
	db := storetest.MustOpen(t, "sqlite", fiscal.NewTestClock(storetest.Epoch))
	storetest.Municipality(t, db, "timisoara")
	var logs syncBuffer
	srv := web.New(web.Config{DefaultMunicipality: "timisoara", PublicRateLimit: 3, Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		web.StoreDeps(db))
	do := func(method, path, body, id string) (int, string, map[string][]string) {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		res, err := srv.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(raw), res.Header
	}
	var first string
	for i, want := range []int{200, 200, 200, 429} {
		st, body, h := do("POST", "/api/v1/tax/quote", contractQuote, "quote-"+string(rune('a'+i)))
		if st != want {
			t.Fatalf("quote %d: %d %s, want %d", i+1, st, body, want)
		}
		if got := h["X-Request-Id"]; len(got) != 1 || got[0] != "quote-"+string(rune('a'+i)) {
			t.Errorf("quote %d: X-Request-Id %v", i+1, got)
		}
		if i == 0 {
			first = body
		} else if want == 200 && body != first {
			t.Errorf("quote %d answered %s, the first %s", i+1, body, first)
		}
	}
	if !strings.Contains(first, `"annual_tax":"198.00"`) || !strings.Contains(first, `"late_fees":"2.00"`) {
		t.Errorf("the answer %s", first)
	}
	// /metrics is for admins on the main listener; the scrapers' handler
	// serves the same counts.
	if st, _, _ := do("GET", "/metrics", "", ""); st != 401 {
		t.Fatalf("anonymous metrics: %d", st)
	}
	rec := httptest.NewRecorder()
	srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	st, body := rec.Code, rec.Body.String()
	if st != 200 {
		t.Fatalf("metrics: %d", st)
	}
	for _, want := range []string{
		`fiscald_http_requests_total{method="POST",route="/api/v1/tax/quote",status="200"} 3`,
		`fiscald_http_requests_total{method="POST",route="/api/v1/tax/quote",status="429"} 1`,
		`fiscald_http_request_duration_seconds_count{method="POST",route="/api/v1/tax/quote"} 4`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
	log := logs.String()
	for i, status := range []string{"200", "200", "200", "429"} {
		want := "request_id=quote-" + string(rune('a'+i)) + " method=POST route=/api/v1/tax/quote status=" + status + " ms="
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
}
