package web

import (
	"sync"
	"time"

	"fiscald/fiscal"
)

// limiter counts attempts per key in fixed windows (per account, per
// address). It lives in memory: each fiscald process limits on its own.
type limiter struct {
	clock fiscal.Clock
	mu    sync.Mutex
	win   map[string]*window
	sweep time.Time
}

type window struct {
	start time.Time
	n     int
}

func newLimiter(clock fiscal.Clock) *limiter {
	return &limiter{clock: clock, win: map[string]*window{}}
}

// allow counts one attempt for key and reports whether it is within max per period.
func (l *limiter) allow(key string, max int, period time.Duration) bool {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > 10*time.Minute {
		for k, w := range l.win {
			if now.Sub(w.start) > time.Hour {
				delete(l.win, k)
			}
		}
		l.sweep = now
	}
	w := l.win[key]
	if w == nil || now.Sub(w.start) >= period {
		w = &window{start: now}
		l.win[key] = w
	}
	w.n++
	return w.n <= max
}

// limit returns ERATELIMIT when key is over max attempts in period.
func (s *Server) limit(key string, max int, period time.Duration) error {
	if !s.limits.allow(key, max, period) {
		return fiscal.Errorf(fiscal.ERATELIMIT, "too many attempts; try again later")
	}
	return nil
}

// over reports whether key has already used max attempts in the current
// window of period, without counting one.
func (l *limiter) over(key string, max int, period time.Duration) bool {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.win[key]
	return w != nil && now.Sub(w.start) < period && w.n >= max
}
