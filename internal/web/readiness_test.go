package web_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// tcpProxy forwards a local port to PostgreSQL; down closes the listener and
// cuts every connection (what a restart of PostgreSQL looks like to the
// service), up listens again on the same port.
type tcpProxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func (p *tcpProxy) up(t *testing.T) {
	t.Helper()
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestReadinessFollowsDatabase: PostgreSQL reached through a proxy the test
// controls (the machine's PostgreSQL is shared and is never stopped). While
// the proxy is down, /readyz answers 503 within its 2 s budget and API calls
// fail fast with 503 (no hang, no 500); when it is back, /readyz and
// the API recover by themselves, with no restart of the service.
func TestReadinessFollowsDatabase(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip("needs PostgreSQL (FISCAL_TEST_POSTGRES)")
	}
	dsn, err := url.Parse(storetest.DSN(t, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{target: dsn.Host}
	p.up(t)
	t.Cleanup(p.down)
	dsn.Host = p.addr
	clock := fiscal.NewTestClock(time.Date(2026, 5, 8, 10, 0, 0, 0, time.UTC))
	db, err := store.Open(context.Background(), dsn.String(), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db, clock)
	anaID, ana := e.taxpayer("ana", "2850615350041")
	path := "/api/v1/taxpayers/" + itoa(anaID)
	if r := e.do("GET", "/readyz", "", nil); r.Status != 200 {
		t.Fatalf("readyz with the database up: %d %s", r.Status, r.Raw)
	}
	// Load: four clients reading all along; each answer must be 200 or 503.
	var mu sync.Mutex
	statuses := map[int]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				st := e.do("GET", path, ana, nil).Status
				mu.Lock()
				statuses[st]++
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	for cycle := 1; cycle <= 2; cycle++ {
		p.down()
		start := time.Now()
		r := e.do("GET", "/readyz", "", nil)
		if r.Status != 503 || r.Header["Content-Type"] != "application/problem+json" || time.Since(start) > 3*time.Second {
			t.Fatalf("cycle %d: readyz with the database down: %d after %v: %s", cycle, r.Status, time.Since(start), r.Raw)
		}
		start = time.Now()
		if r := e.do("GET", path, ana, nil); r.Status != 503 || time.Since(start) > 10*time.Second {
			t.Fatalf("cycle %d: a read with the database down: %d after %v: %s", cycle, r.Status, time.Since(start), r.Raw)
		} else {
			t.Logf("cycle %d, database down: /readyz 503; GET taxpayer %d (%s) in %v", cycle, r.Status, r.Body["detail"], time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(time.Second) // stay down under load
		p.up(t)
		deadline := time.Now().Add(10 * time.Second)
		for {
			ready := e.do("GET", "/readyz", "", nil)
			read := e.do("GET", path, ana, nil)
			if ready.Status == 200 && read.Status == 200 {
				t.Logf("cycle %d: recovered %v after the database came back", cycle, time.Since(deadline.Add(-10*time.Second)).Round(time.Millisecond))
				time.Sleep(time.Second) // stay up under load
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cycle %d: not recovered 10 s after the database came back: readyz %d, read %d %s", cycle, ready.Status, read.Status, read.Raw)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	close(stop)
	wg.Wait()
	for st, n := range statuses {
		if st != 200 && st != 503 {
			t.Errorf("under load: %d answers %d (want only 200 or 503)", n, st)
		}
	}
	t.Logf("under load through two outages: %v (status: count)", statuses)
}
