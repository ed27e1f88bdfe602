package web

import (
	"sync"
	"time"

	"fiscald/fiscal"
)

// limiter counts attempts per key in fixed windows (per address), and
// failures per key with an exponential backoff (a username and address
// pair signing in). It lives in memory: each fiscald process limits on its
// own; a limiter shared by instances replaces this type, behind the same
// methods.
type limiter struct {
	clock fiscal.Clock
	mu    sync.Mutex
	win   map[string]*window
	fails map[string]*failures
	sweep time.Time
}

// failures are a key's consecutive failures and the time before which it
// may not try again.
type failures struct {
	n     int
	last  time.Time
	until time.Time
}

// failureMemory is how long a key's failures are remembered after its last.
const failureMemory = 24 * time.Hour

type window struct {
	start time.Time
	n     int
}

func newLimiter(clock fiscal.Clock) *limiter {
	return &limiter{clock: clock, win: map[string]*window{}, fails: map[string]*failures{}}
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
		for k, f := range l.fails {
			if now.Sub(f.last) > failureMemory {
				delete(l.fails, k)
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

// backoff returns how long key must still wait before its next attempt
// (0: it may try now).
func (l *limiter) backoff(key string) time.Duration {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.fails[key]; f != nil && now.Before(f.until) {
		return f.until.Sub(now)
	}
	return 0
}

// fail counts one failure for key and returns its failures so far and the
// wait before its next attempt: none for the first free failures, then
// base, doubling with each further failure, at most ceiling.
func (l *limiter) fail(key string, free int, base, ceiling time.Duration) (n int, wait time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fails[key]
	if f == nil || now.Sub(f.last) > failureMemory {
		f = &failures{}
		l.fails[key] = f
	}
	f.n++
	f.last = now
	if f.n > free {
		wait = ceiling
		if shift := f.n - free - 1; shift < 32 && base<<shift < ceiling {
			wait = base << shift
		}
		f.until = now.Add(wait)
	}
	return f.n, wait
}

// forget drops key's failures (a success).
func (l *limiter) forget(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}
