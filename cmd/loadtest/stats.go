package main

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// recorder keeps every measured latency per endpoint (a 30 s run at a few
// thousand requests a second is a few hundred thousand samples: exact
// percentiles are cheap).
type recorder struct {
	mu sync.Mutex
	// from and to bound the measured window by intended send time: the
	// warm-up before it is not recorded.
	from, to time.Time
	samples  map[string][]time.Duration
	errors   map[string]int
	codes    map[string]map[int]int
	firstErr map[string]string
}

func newRecorder(from, to time.Time) *recorder {
	return &recorder{from: from, to: to, samples: map[string][]time.Duration{}, errors: map[string]int{},
		codes: map[string]map[int]int{}, firstErr: map[string]string{}}
}

// add records one request of endpoint that was due at intended and
// completed at done: the latency counts from the intended time, so a
// request the generator could not send on time is charged its wait
// (no coordinated omission). status 0 is a transport error.
func (r *recorder) add(endpoint string, intended, done time.Time, status int, ok bool, detail string) {
	if intended.Before(r.from) || !intended.Before(r.to) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples[endpoint] = append(r.samples[endpoint], done.Sub(intended))
	if r.codes[endpoint] == nil {
		r.codes[endpoint] = map[int]int{}
	}
	r.codes[endpoint][status]++
	if !ok {
		r.errors[endpoint]++
		if _, seen := r.firstErr[endpoint]; !seen {
			r.firstErr[endpoint] = fmt.Sprintf("%d %s", status, detail)
		}
	}
}

// row is one line of the report.
type row struct {
	Endpoint      string
	Count, Errors int
	RPS           float64
	P50, P95, P99 time.Duration
	Max           time.Duration
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func summarize(name string, s []time.Duration, errs int, window time.Duration) row {
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	r := row{Endpoint: name, Count: len(s), Errors: errs, RPS: float64(len(s)) / window.Seconds(),
		P50: percentile(s, 0.50), P95: percentile(s, 0.95), P99: percentile(s, 0.99)}
	if len(s) > 0 {
		r.Max = s[len(s)-1]
	}
	return r
}

// report computes the per-endpoint rows (in order) and the overall row.
func (r *recorder) report(order []string, window time.Duration) (rows []row, total row) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []time.Duration
	errs := 0
	for _, name := range order {
		s := r.samples[name]
		if len(s) == 0 {
			continue
		}
		all = append(all, s...)
		errs += r.errors[name]
		rows = append(rows, summarize(name, append([]time.Duration(nil), s...), r.errors[name], window))
	}
	return rows, summarize("all", all, errs, window)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func printTable(w io.Writer, rows []row, total row) {
	fmt.Fprintf(w, "%-22s %8s %9s %7s %9s %9s %9s %9s\n", "endpoint", "count", "req/s", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms")
	for _, r := range append(rows, total) {
		fmt.Fprintf(w, "%-22s %8d %9.1f %7d %9s %9s %9s %9s\n", r.Endpoint, r.Count, r.RPS, r.Errors, ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max))
	}
}
