// Package stripetest runs stripe-mock, Stripe's official API test double, for
// tests of code that talks to Stripe through payments/stripe.
//
// stripe-mock is stateless: it validates each request against Stripe's OpenAPI
// specification and answers with fixtures (a confirmed PaymentIntent still
// says requires_payment_method, a refund comes back in usd, metadata is not
// echoed). Use it to test request shapes and error handling; drive payment
// state through signed webhooks (see stripe.SignedTestPayload).
//
// The binary is a pinned tool, installed by the Makefile with
//
//	go install github.com/stripe/stripe-mock@v0.203.0
//
// A test that needs it fails, rather than skips, when it is missing: a skipped
// payment test is too easy to miss.
package stripetest

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the stripe-mock release the tests are written against.
const Version = "v0.203.0"

// InstallHint is the command that installs the pinned stripe-mock.
const InstallHint = "run: go install github.com/stripe/stripe-mock@" + Version

// startTimeout bounds how long Start waits for stripe-mock to be ready
// (it usually takes about a second).
const startTimeout = 20 * time.Second

// Start runs a private stripe-mock on free loopback ports and returns its HTTP
// base URL (e.g. "http://127.0.0.1:40123"), to be passed as the APIBase of a
// payments/stripe client. The process is stopped when the test ends.
//
// The binary is looked up on PATH, then in $(go env GOBIN) and
// $(go env GOPATH)/bin. If it is not found the test fails with InstallHint.
func Start(tb testing.TB) (apiBase string) {
	tb.Helper()
	bin, err := findBinary()
	if err != nil {
		tb.Fatalf("stripetest: %v; %s", err, InstallHint)
	}

	// An empty port makes the system choose one, so parallel test binaries
	// never race for a port; stripe-mock prints the addresses it bound.
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:", "-https-addr", "127.0.0.1:")
	r, w, err := os.Pipe()
	if err != nil {
		tb.Fatalf("stripetest: %v", err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		tb.Fatalf("stripetest: starting %s: %v", bin, err)
	}
	w.Close() // the child holds its own copy

	var (
		mu  sync.Mutex
		out []string // everything stripe-mock printed, for failure messages
	)
	addr := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			out = append(out, line)
			mu.Unlock()
			if a, ok := strings.CutPrefix(line, "Listening for HTTP at address: "); ok {
				select {
				case addr <- strings.TrimSpace(a):
				default:
				}
			}
		}
		r.Close()
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
		<-drained
	}
	output := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(out, "\n")
	}

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-exited:
		exited <- err // let stop's receive succeed
		stop()
		tb.Fatalf("stripetest: stripe-mock exited early (%v):\n%s", err, output())
	case <-timer.C:
		stop()
		tb.Fatalf("stripetest: stripe-mock printed no address within %v:\n%s", startTimeout, output())
	}
	tb.Cleanup(stop)

	if err := waitReady(base, startTimeout); err != nil {
		tb.Fatalf("stripetest: stripe-mock at %s not ready: %v\n%s", base, err, output())
	}
	return base
}

// waitReady polls a cheap authenticated endpoint until stripe-mock answers 200.
func waitReady(base string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/balance", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer sk_test_123")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /v1/balance: %s", resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// findBinary looks for stripe-mock on PATH, then where go install puts it.
func findBinary() (string, error) {
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p, nil
	}
	var dirs []string
	if v := goEnv("GOBIN"); v != "" {
		dirs = append(dirs, v)
	}
	if v := goEnv("GOPATH"); v != "" {
		for _, p := range filepath.SplitList(v) {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "stripe-mock")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("stripe-mock not found on PATH nor in %s", strings.Join(dirs, ", "))
}

// goEnv returns a go environment setting: the process environment first, then
// `go env`, which knows the defaults (such as GOPATH=$HOME/go).
func goEnv(key string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
