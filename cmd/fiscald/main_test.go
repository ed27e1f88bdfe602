package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fiscald/internal/store/storetest"
)

// buildBinary compiles fiscald once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fiscald")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestBinaryEndToEnd starts the real binary on port 0 with a fresh database
// on each engine, signs in as a demo account, creates a staff user from the
// command line, verifies the audit chain and stops the server with SIGTERM.
func TestBinaryEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			env := append(os.Environ(), "FISCAL_ADDR=127.0.0.1:0", "FISCAL_METRICS_ADDR=127.0.0.1:0", "FISCAL_DB="+storetest.DSN(t, engine), "FISCAL_DATA_DIR="+dir)

			// The server refuses a schema that is behind.
			cmd := exec.Command(bin, "serve")
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "schema is behind") {
				t.Fatalf("serve on an empty database: %v\n%s", err, out)
			}

			srv := exec.Command(bin, "serve", "--migrate", "--demo")
			srv.Env = env
			stdout, _ := srv.StdoutPipe()
			serverLog := &syncBuffer{} // its log, shown when it does not stop
			srv.Stderr = serverLog
			if testing.Verbose() {
				srv.Stderr = io.MultiWriter(os.Stderr, serverLog)
			}
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			defer srv.Process.Kill()
			base := ""
			sc := bufio.NewScanner(stdout)
			var seen []string
			for sc.Scan() {
				line := sc.Text()
				seen = append(seen, line)
				if u, ok := strings.CutPrefix(line, "fiscald listening on "); ok {
					base = u
					break
				}
			}
			if base == "" {
				t.Fatalf("no listening line:\n%s", strings.Join(seen, "\n"))
			}
			go func() {
				for sc.Scan() {
				}
			}()
			if !strings.Contains(strings.Join(seen, "\n"), "STRIPE_SECRET_KEY      (not set)") {
				t.Errorf("configuration not printed:\n%s", strings.Join(seen, "\n"))
			}
			get := func(path string) int {
				res, err := http.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			if get("/healthz") != 200 || get("/readyz") != 200 {
				t.Fatal("health")
			}
			// /metrics: not for anonymous callers on the main listener; on
			// the scrapers' loopback listener it is served.
			if st := get("/metrics"); st != 401 {
				t.Fatalf("anonymous /metrics on the main listener: %d", st)
			}
			var metricsURL string
			for _, l := range seen {
				if u, ok := strings.CutPrefix(l, "metrics for scrapers on "); ok {
					metricsURL = u
				}
			}
			if metricsURL == "" || !strings.Contains(strings.Join(seen, "\n"), "FISCAL_METRICS_ADDR    127.0.0.1:0") {
				t.Fatalf("no metrics listener or configuration line:\n%s", strings.Join(seen, "\n"))
			}
			if res, err := http.Get(metricsURL); err != nil || res.StatusCode != 200 {
				t.Fatalf("scrapers' /metrics: %v %v", res, err)
			} else {
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if !strings.Contains(string(b), "fiscald_login_failures_total 0") {
					t.Fatalf("scrapers' /metrics:\n%s", b)
				}
			}
			res, err := http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"ioana","password":"ghiseu-demo-2026"}`))
			if err != nil {
				t.Fatal(err)
			}
			var login struct {
				Token string `json:"token"`
				User  struct {
					Role string `json:"role"`
				} `json:"user"`
			}
			json.NewDecoder(res.Body).Decode(&login)
			res.Body.Close()
			if res.StatusCode != 200 || login.Token == "" || login.User.Role != "officer" {
				t.Fatalf("demo login: %d %+v", res.StatusCode, login)
			}

			// The demo city came through the importer: ana (imported, enrolled)
			// sees her debts carried over from 2025 with their late fees.
			res, err = http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"ana","password":"plata-demo-2026"}`))
			if err != nil {
				t.Fatal(err)
			}
			var ana struct {
				Token string `json:"token"`
				User  struct {
					TaxpayerID int64 `json:"taxpayer_id"`
				} `json:"user"`
			}
			json.NewDecoder(res.Body).Decode(&ana)
			res.Body.Close()
			if res.StatusCode != 200 || ana.User.TaxpayerID == 0 {
				t.Fatalf("ana's login: %d %+v", res.StatusCode, ana)
			}
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/taxpayers/%d/statement", base, ana.User.TaxpayerID), nil)
			req.Header.Set("Authorization", "Bearer "+ana.Token)
			res, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var st struct {
				Debts []struct {
					Year     int    `json:"year"`
					LateFees string `json:"late_fees"`
				} `json:"debts"`
			}
			json.NewDecoder(res.Body).Decode(&st)
			res.Body.Close()
			// (and, on a start in 2026, this year's tax: the demo's annual run)
			if res.StatusCode != 200 || len(st.Debts) < 2 || st.Debts[0].Year != 2025 || st.Debts[1].Year != 2025 || st.Debts[0].LateFees == "0.00" {
				t.Fatalf("ana's statement: %d %+v", res.StatusCode, st)
			}

			// Her cases in progress (internal/demo, CaseStories): one waiting
			// for the officer, one for the signer, and an approved certificate
			// whose sealed PDF downloads.
			authGet := func(path string, v any) int {
				req, _ := http.NewRequest("GET", base+path, nil)
				req.Header.Set("Authorization", "Bearer "+ana.Token)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				if v != nil {
					json.NewDecoder(res.Body).Decode(v)
				} else if b, _ := io.ReadAll(res.Body); !bytes.HasPrefix(b, []byte("%PDF-")) {
					return 0
				}
				return res.StatusCode
			}
			var cases struct {
				Items []struct {
					Status string `json:"status"`
				} `json:"items"`
			}
			var docs struct {
				Items []struct {
					Type   string `json:"type"`
					CaseID *int64 `json:"case_id"`
					PDFURL string `json:"pdf_url"`
				} `json:"items"`
			}
			if st := authGet("/api/v1/cases?status=all", &cases); st != 200 || len(cases.Items) != 3 {
				t.Fatalf("ana's cases: %d %+v", st, cases)
			}
			if st := authGet(fmt.Sprintf("/api/v1/taxpayers/%d/documents", ana.User.TaxpayerID), &docs); st != 200 || len(docs.Items) != 1 ||
				docs.Items[0].CaseID == nil || authGet(docs.Items[0].PDFURL, nil) != 200 {
				t.Fatalf("ana's documents: %d %+v", st, docs)
			}

			add := exec.Command(bin, "user", "add", "--username", "maria", "--role", "signer", "--password-stdin", "--full-name", "Maria Șerban")
			add.Env = env
			add.Stdin = strings.NewReader("o-parola-sigura-2026\n")
			if out, err := add.CombinedOutput(); err != nil || !strings.Contains(string(out), `created signer user "maria"`) {
				t.Fatalf("user add: %v\n%s", err, out)
			}
			// The password rule and the case-folded usernames hold on the command line too.
			weak := exec.Command(bin, "user", "add", "--username", "vlad", "--role", "officer", "--password-stdin")
			weak.Env = env
			weak.Stdin = strings.NewReader("password12\n")
			if out, err := weak.CombinedOutput(); err == nil || !strings.Contains(string(out), "password") || !strings.Contains(string(out), "too common") {
				t.Fatalf("a common password accepted: %v %s", err, out)
			}
			twin := exec.Command(bin, "user", "add", "--username", "MARIA", "--role", "officer", "--password-stdin")
			twin.Env = env
			twin.Stdin = strings.NewReader("alta-parola-sigura-2026\n")
			if out, err := twin.CombinedOutput(); err == nil {
				t.Fatalf("MARIA beside maria: %s", out)
			}
			bad := exec.Command(bin, "user", "add", "--username", "x2x", "--role", "king", "--password-stdin")
			bad.Env = env
			bad.Stdin = strings.NewReader("o-parola-sigura-2026\n")
			if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "role") {
				t.Fatalf("bad role accepted: %s", out)
			}
			res, _ = http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"maria","password":"o-parola-sigura-2026"}`))
			if res.StatusCode != 200 {
				t.Fatalf("new user login: %d", res.StatusCode)
			}
			res.Body.Close()

			verify := exec.Command(bin, "audit", "verify")
			verify.Env = env
			if out, err := verify.CombinedOutput(); err != nil || !strings.Contains(string(out), "intact") {
				t.Fatalf("audit verify: %v\n%s", err, out)
			}

			// The server gives requests in flight 30 s and then exits with an
			// error (which fails below); waiting longer than that tells a
			// slow graceful stop from a hang.
			stopping := time.Now()
			srv.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- srv.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("server exit after SIGTERM: %v\n%s", err, serverLog.String())
				}
				t.Logf("stopped %v after SIGTERM", time.Since(stopping).Round(time.Millisecond))
			case <-time.After(45 * time.Second):
				t.Fatalf("server did not stop within 45 s of SIGTERM; its log:\n%s", serverLog.String())
			}
			if !strings.Contains(strings.Join(seen, "\n"), "demo: filed 6 case(s) in progress") {
				t.Errorf("the first start did not file the demo's cases:\n%s", strings.Join(seen, "\n"))
			}
			if !strings.Contains(strings.Join(seen, "\n"), "demo: imported balances: 106 rows (106 new, 0 rejected)") {
				t.Errorf("the first start did not import the demo city:\n%s", strings.Join(seen, "\n"))
			}

			// A restart with --demo imports nothing again.
			again := exec.Command(bin, "serve", "--demo")
			again.Env = env
			out2, _ := again.StdoutPipe()
			again.Stderr = &syncBuffer{}
			if err := again.Start(); err != nil {
				t.Fatal(err)
			}
			defer again.Process.Kill()
			var seen2 []string
			sc2 := bufio.NewScanner(out2)
			for sc2.Scan() {
				seen2 = append(seen2, sc2.Text())
				if strings.HasPrefix(sc2.Text(), "fiscald listening on ") {
					break
				}
			}
			go func() {
				for sc2.Scan() {
				}
			}()
			if log := strings.Join(seen2, "\n"); !strings.Contains(log, "fiscald listening on ") || strings.Contains(log, "demo: imported") || strings.Contains(log, "demo: created") ||
				strings.Contains(log, "demo: filed") {
				t.Errorf("the restart:\n%s", log)
			}
			again.Process.Signal(syscall.SIGTERM)
			if err := again.Wait(); err != nil {
				t.Errorf("restarted server's exit: %v", err)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	bin := buildBinary(t)
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "--help"}, {"user", "add", "--help"}, {"audit", "verify", "--help"}, {"quote", "--help"}, {"import", "--help"}, {"bench", "import-files", "--help"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil || len(out) < 20 {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
}
