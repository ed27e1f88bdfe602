package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.50, 50 * time.Millisecond}, {0.95, 95 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		if got := percentile(s, c.p); got != c.want {
			t.Errorf("p%.0f = %v, want %v", c.p*100, got, c.want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("empty: want 0")
	}
}

func TestRecorderWindowAndMix(t *testing.T) {
	from := time.Unix(1000, 0)
	r := newRecorder(from, from.Add(time.Second))
	r.add(epQuote, from.Add(-time.Millisecond), from, 200, true, "") // warm-up: not counted
	r.add(epQuote, from, from.Add(3*time.Millisecond), 200, true, "")
	r.add(epQuote, from.Add(time.Second), from.Add(time.Second), 200, true, "") // after the window
	r.add(epPayment, from.Add(10*time.Millisecond), from.Add(20*time.Millisecond), 0, false, "timeout")
	rows, all := r.report(endpoints, time.Second)
	if len(rows) != 2 || all.Count != 2 || all.Errors != 1 || rows[0].P99 != 3*time.Millisecond {
		t.Fatalf("rows %+v all %+v", rows, all)
	}
	sum := 0
	for _, m := range januaryMix {
		sum += m.per10k
	}
	if sum != 10000 {
		t.Fatalf("the mix adds up to %d per 10,000", sum)
	}
}
