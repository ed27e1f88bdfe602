package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// metrics counts requests and their durations per route, exposed in the
// Prometheus text format at /metrics (written by hand: two metric families
// do not need the client library and its dependencies).
//
// Every request is counted, so counting is cheap: the route's series are
// found by its method and route label (a map read under a read lock, the
// strings copied only when a route is first seen) and counted under that
// route's own lock, with no string built per request.
type metrics struct {
	mu      sync.RWMutex // guards routes (the map, not the series)
	routes  map[routeLabel]*routeSeries
	started time.Time
	shed    atomic.Uint64 // requests answered 503 by admit
	// loginFailed counts wrong passwords (and unknown usernames) at sign-in;
	// loginThrottled the sign-ins refused by the backoff (SignIn).
	loginFailed    atomic.Uint64
	loginThrottled atomic.Uint64
	// rateLimited counts requests refused by a per-address limit.
	rateLimited atomic.Uint64
	// outbox counts the notifications not sent yet (Deps.OutboxPending).
	outbox func(ctx context.Context) (int64, error)
	// jobs reads the long jobs' progress (Deps.JobProgress).
	jobs func(ctx context.Context) (*fiscal.JobProgress, error)
	// sla is the SLA monitor's totals (Deps.SLA).
	sla    func() fiscal.SLAReport
	writes func() fiscal.WriteStats
}

// routeLabel is a route's method and route label.
type routeLabel struct{ method, route string }

// routeSeries are the requests of one method and route: per status, and
// the duration histogram.
type routeSeries struct {
	label    routeLabel
	mu       sync.Mutex
	statuses map[int]uint64
	hist     histogram
}

var buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type histogram struct {
	counts []uint64
	sum    float64
	count  uint64
}

func newMetrics() *metrics {
	return &metrics{routes: map[routeLabel]*routeSeries{}, started: time.Now()}
}

// series returns the series of method and route, creating them on first
// use. The strings may point into fiber's reused buffers: they are copied
// when stored, and the returned series' label holds the copies.
func (m *metrics) series(method, route string) *routeSeries {
	k := routeLabel{method, route}
	m.mu.RLock()
	rs := m.routes[k]
	m.mu.RUnlock()
	if rs != nil {
		return rs
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if rs = m.routes[k]; rs == nil {
		k = routeLabel{strings.Clone(method), strings.Clone(route)}
		rs = &routeSeries{label: k, statuses: map[int]uint64{}, hist: histogram{counts: make([]uint64, len(buckets))}}
		m.routes[k] = rs
	}
	return rs
}

// observe counts one request of rs.
func (rs *routeSeries) observe(status int, d time.Duration) {
	sec := d.Seconds()
	rs.mu.Lock()
	rs.statuses[status]++
	h := &rs.hist
	for i, b := range buckets {
		if sec <= b {
			h.counts[i]++
		}
	}
	h.sum += sec
	h.count++
	rs.mu.Unlock()
}

// observe counts one request (tests and callers without the series at hand).
func (m *metrics) observe(method, route string, status int, d time.Duration) {
	m.series(method, route).observe(status, d)
}

func (m *metrics) handler(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, metricsContentType)
	return c.SendString(m.render())
}

// metricsContentType is the Prometheus text format's.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// MetricsHandler serves the metrics of GET /metrics without authentication,
// for a listener of its own that only the machine's scraper reaches
// (`fiscald serve` with FISCAL_METRICS_ADDR, a loopback address); on the
// main listener /metrics is for admins.
func (s *Server) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", metricsContentType)
		io.WriteString(w, s.metrics.render())
	})
}

// render writes every metric in the Prometheus text format.
func (m *metrics) render() string {
	var b strings.Builder
	type count struct {
		k [3]string
		n uint64
	}
	type hist struct {
		k [2]string
		h histogram
	}
	var counts []count
	var hists []hist
	m.mu.RLock()
	for _, rs := range m.routes {
		rs.mu.Lock()
		for st, n := range rs.statuses {
			counts = append(counts, count{[3]string{rs.label.method, rs.label.route, strconv.Itoa(st)}, n})
		}
		h := rs.hist
		h.counts = slices.Clone(h.counts)
		hists = append(hists, hist{[2]string{rs.label.method, rs.label.route}, h})
		rs.mu.Unlock()
	}
	m.mu.RUnlock()
	b.WriteString("# HELP fiscald_http_requests_total HTTP requests by method, route and status.\n# TYPE fiscald_http_requests_total counter\n")
	sort.Slice(counts, func(i, j int) bool {
		return strings.Join(counts[i].k[:], " ") < strings.Join(counts[j].k[:], " ")
	})
	for _, c := range counts {
		fmt.Fprintf(&b, "fiscald_http_requests_total{method=%q,route=%q,status=%q} %d\n", c.k[0], c.k[1], c.k[2], c.n)
	}
	b.WriteString("# HELP fiscald_http_request_duration_seconds HTTP request durations.\n# TYPE fiscald_http_request_duration_seconds histogram\n")
	sort.Slice(hists, func(i, j int) bool { return hists[i].k[0]+hists[i].k[1] < hists[j].k[0]+hists[j].k[1] })
	for _, hk := range hists {
		k, h := hk.k, hk.h
		for i, le := range buckets {
			fmt.Fprintf(&b, "fiscald_http_request_duration_seconds_bucket{method=%q,route=%q,le=\"%g\"} %d\n", k[0], k[1], le, h.counts[i])
		}
		fmt.Fprintf(&b, "fiscald_http_request_duration_seconds_bucket{method=%q,route=%q,le=\"+Inf\"} %d\n", k[0], k[1], h.count)
		fmt.Fprintf(&b, "fiscald_http_request_duration_seconds_sum{method=%q,route=%q} %g\n", k[0], k[1], h.sum)
		fmt.Fprintf(&b, "fiscald_http_request_duration_seconds_count{method=%q,route=%q} %d\n", k[0], k[1], h.count)
	}
	if m.writes != nil {
		w := m.writes()
		fmt.Fprintf(&b, "# HELP fiscald_db_pool_connections Database connections of this process's pool, by state.\n# TYPE fiscald_db_pool_connections gauge\nfiscald_db_pool_connections{state=\"in_use\"} %d\nfiscald_db_pool_connections{state=\"idle\"} %d\n", w.PoolInUse, w.PoolOpen-w.PoolInUse)
		fmt.Fprintf(&b, "# HELP fiscald_db_pool_waits_total Times a request waited for a free database connection.\n# TYPE fiscald_db_pool_waits_total counter\nfiscald_db_pool_waits_total %d\n", w.PoolWaits)
		fmt.Fprintf(&b, "# HELP fiscald_db_pool_wait_seconds_total Time spent waiting for a free database connection.\n# TYPE fiscald_db_pool_wait_seconds_total counter\nfiscald_db_pool_wait_seconds_total %g\n", w.PoolWaited.Seconds())
		fmt.Fprintf(&b, "# HELP fiscald_db_write_transactions_total Write transactions run by this process (SQLite's single writer).\n# TYPE fiscald_db_write_transactions_total counter\nfiscald_db_write_transactions_total %d\n", w.Count)
		fmt.Fprintf(&b, "# HELP fiscald_db_write_wait_seconds_total Time write transactions waited for the writer.\n# TYPE fiscald_db_write_wait_seconds_total counter\nfiscald_db_write_wait_seconds_total %g\n", w.Waited.Seconds())
		fmt.Fprintf(&b, "# HELP fiscald_db_write_held_seconds_total Time write transactions held the writer.\n# TYPE fiscald_db_write_held_seconds_total counter\nfiscald_db_write_held_seconds_total %g\n", w.Held.Seconds())
		fmt.Fprintf(&b, "# HELP fiscald_db_write_locked_seconds_total Part of the held time spent waiting for another process's write lock.\n# TYPE fiscald_db_write_locked_seconds_total counter\nfiscald_db_write_locked_seconds_total %g\n", w.OtherProcess.Seconds())
		fmt.Fprintf(&b, "# HELP fiscald_db_transactions_retried_total Write transactions run once more after the database undid them to resolve a conflict (deadlock, serialization failure, SQLite busy).\n# TYPE fiscald_db_transactions_retried_total counter\nfiscald_db_transactions_retried_total %d\n", w.Retried)
	}
	fmt.Fprintf(&b, "# HELP fiscald_http_requests_shed_total Requests answered 503 because the server was at its in-flight limit too long.\n# TYPE fiscald_http_requests_shed_total counter\nfiscald_http_requests_shed_total %d\n", m.shed.Load())
	fmt.Fprintf(&b, "# HELP fiscald_login_failures_total Sign-ins refused for a wrong password or an unknown username.\n# TYPE fiscald_login_failures_total counter\nfiscald_login_failures_total %d\n", m.loginFailed.Load())
	fmt.Fprintf(&b, "# HELP fiscald_login_throttled_total Sign-ins refused unchecked because their username and address pair failed too often (backoff).\n# TYPE fiscald_login_throttled_total counter\nfiscald_login_throttled_total %d\n", m.loginThrottled.Load())
	if m.outbox != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		n, err := m.outbox(ctx)
		cancel()
		if err == nil { // a database that does not answer leaves the gauge out (readyz says why)
			fmt.Fprintf(&b, "# HELP fiscald_outbox_pending Notifications queued and not sent yet (all instances: the database's count).\n# TYPE fiscald_outbox_pending gauge\nfiscald_outbox_pending %d\n", n)
		}
	}
	if m.jobs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		p, err := m.jobs(ctx)
		cancel()
		if err == nil { // as the outbox: left out when the database does not answer
			renderJobs(&b, p)
		}
	}
	if m.sla != nil {
		r := m.sla()
		fmt.Fprintf(&b, "# HELP fiscald_sla_escalations_total Cases at risk escalated to the signers by this instance's SLA monitor.\n# TYPE fiscald_sla_escalations_total counter\nfiscald_sla_escalations_total %d\n", r.Escalated)
		fmt.Fprintf(&b, "# HELP fiscald_sla_breaches_total SLA breaches recorded by this instance's SLA monitor (each case once, by whichever instance saw it first).\n# TYPE fiscald_sla_breaches_total counter\nfiscald_sla_breaches_total %d\n", r.Breached)
	}
	fmt.Fprintf(&b, "# HELP fiscald_rate_limited_total Requests refused by a per-address rate limit (429).\n# TYPE fiscald_rate_limited_total counter\nfiscald_rate_limited_total %d\n", m.rateLimited.Load())
	fmt.Fprintf(&b, "# HELP fiscald_uptime_seconds Seconds since the server started.\n# TYPE fiscald_uptime_seconds gauge\nfiscald_uptime_seconds %g\n", time.Since(m.started).Seconds())
	return b.String()
}
