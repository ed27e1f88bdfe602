package web_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store/storetest"
	"fiscald/internal/web"
)

// TestRequestIDThroughHAProxy: behind the reference proxy (HAProxy with
// deploy/haproxy.cfg, which gives a request an X-Request-Id unless it has
// one), fiscald's structured log (JSON, FISCAL_LOG_FORMAT=json, what a
// collector reads) carries that id on the request's line, the answer and
// its problem+json echo it, and HAProxy's own log line names the same id:
// one id follows a request through both logs. A client's own id is kept
// through the proxy; one fiscald cannot log safely (too long, a quote) is
// replaced by one of its own, which the answer and the log then carry.
func TestRequestIDThroughHAProxy(t *testing.T) {
	hp, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("haproxy is not installed (make deps): %v", err)
	}
	db := storetest.MustOpen(t, "sqlite", fiscal.NewTestClock(storetest.Epoch))
	storetest.Municipality(t, db, "timisoara")
	trusted, err := web.ParseTrustedProxies("127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	srv := web.New(web.Config{DefaultMunicipality: "timisoara", TrustedProxies: trusted, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, web.StoreDeps(db))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.App().Listener(ln)
	t.Cleanup(func() { srv.Shutdown(5 * time.Second) })

	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lb := free.Addr().String()
	free.Close()
	cfg, _ := filepath.Abs("../../deploy/haproxy.cfg")
	var proxyLog syncBuffer
	cmd := exec.Command(hp, "-db", "-f", cfg)
	// Both of the configuration's servers are this one instance.
	cmd.Env = append(os.Environ(), "FISCAL_LB_ADDR="+lb, "FISCAL_A_ADDR="+ln.Addr().String(), "FISCAL_B_ADDR="+ln.Addr().String())
	cmd.Stdout, cmd.Stderr = &proxyLog, &proxyLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(method, path, body, id string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+lb+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, "", err.Error()
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("X-Request-Id"), string(raw)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, _, _ := get("GET", "/readyz", "", ""); st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("HAProxy does not answer /readyz:\n%s", proxyLog.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// requestLine is fiscald's JSON log line of the request with id.
	requestLine := func(id string) map[string]any {
		t.Helper()
		for _, l := range strings.Split(logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" && m["request_id"] == id {
				return m
			}
		}
		t.Fatalf("fiscald's log has no request line with request_id %q:\n%s", id, logs.String())
		return nil
	}
	// proxyLine waits for HAProxy's log line naming id (it writes it when
	// the answer has gone).
	proxyLine := func(id, path string) {
		t.Helper()
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			for _, l := range strings.Split(proxyLog.String(), "\n") {
				if strings.Contains(l, "request_id="+id+" ") && strings.Contains(l, path) {
					return
				}
			}
		}
		t.Fatalf("HAProxy's log has no line with request_id=%s for %s:\n%s", id, path, proxyLog.String())
	}

	// No id from the client: HAProxy's, in both logs and the answer.
	st, id, body := get("POST", "/api/v1/tax/quote", contractQuote, "")
	if st != 200 || !regexp.MustCompile(`^[0-9A-F]{20,64}$`).MatchString(id) {
		t.Fatalf("quote through HAProxy: %d, X-Request-Id %q: %s", st, id, body)
	}
	if l := requestLine(id); l["route"] != "/api/v1/tax/quote" || l["status"] != float64(200) || l["level"] != "INFO" {
		t.Errorf("the quote's log line: %v", l)
	}
	proxyLine(id, "/api/v1/tax/quote")

	// An error answer: its problem+json and its log line name the id.
	st, id, body = get("GET", "/api/v1/me", "", "")
	var p struct {
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(body), &p); st != 401 || err != nil || id == "" || p.RequestID != id {
		t.Fatalf("/api/v1/me anonymous: %d, X-Request-Id %q, %s", st, id, body)
	}
	if l := requestLine(id); l["route"] != "/api/v1/me" || l["status"] != float64(401) {
		t.Errorf("the refusal's log line: %v", l)
	}
	proxyLine(id, "/api/v1/me")

	// The client's (or an outer proxy's) id is kept.
	st, id, _ = get("POST", "/api/v1/tax/quote", contractQuote, "outer-proxy-7f3a")
	if st != 200 || id != "outer-proxy-7f3a" {
		t.Fatalf("client's id: %d %q", st, id)
	}
	requestLine("outer-proxy-7f3a")
	proxyLine("outer-proxy-7f3a", "/api/v1/tax/quote")

	// One fiscald would not take as it is (too long, a quote) is replaced
	// by HAProxy's, so that both logs still name the same id.
	for _, bad := range []string{strings.Repeat("x", 65), `a"b`} {
		st, id, _ = get("POST", "/api/v1/tax/quote", contractQuote, bad)
		if st != 200 || !regexp.MustCompile(`^[0-9A-F]{20,64}$`).MatchString(id) {
			t.Fatalf("id %q: %d, answered %q", bad, st, id)
		}
		requestLine(id)
		proxyLine(id, "/api/v1/tax/quote")
	}
	// Sent to fiscald directly, fiscald replaces it with one of its own.
	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/api/v1/tax/quote", strings.NewReader(contractQuote))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", `a"b`)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if id = res.Header.Get("X-Request-Id"); res.StatusCode != 200 || !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
		t.Fatalf("fiscald directly, id a\"b: %d, answered %q", res.StatusCode, id)
	}
	requestLine(id)
	if strings.Contains(logs.String(), `a\"b`) || strings.Contains(logs.String(), strings.Repeat("x", 65)) {
		t.Errorf("fiscald logged an id it refused:\n%s", logs.String())
	}
}
