package web

import (
	"context"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"fiscald/fiscal"
)

// Two kinds of per-address limits, both keyed by the client's address
// (ClientIP: the peer, or behind a trusted proxy the address it forwards):
//
//   - the shared limits (sign-in per address and the failures of a
//     username and address pair, registration, document verification) count
//     in Deps.Limits, the database in service, so that every instance on one
//     database sees one budget per address;
//   - the public calculators (the tax quote, the deadline, the portal's
//     calculator) count in this process's memory against its share of
//     Config.PublicRateLimit: the limit divided by Config.Instances. A
//     database write per quote would cost more than the quote itself
//     (BenchmarkRateCount in internal/store; ARCHITECTURE.md "Behind a
//     proxy"); behind a load balancer that spreads a client's requests over
//     the instances, the shares add up to the limit.

// limiter counts attempts per key in fixed windows in memory (the public
// calculators' per-instance share), and implements fiscal.RateLimits for a
// server without a database (Deps.Limits nil: tests, benchmarks).
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

// count counts one attempt for key in its window of period (windows start
// at multiples of period, as the database's) and returns the window's
// attempts so far.
func (l *limiter) count(key string, period time.Duration, add int) int {
	now := l.clock.Now()
	start := now.Truncate(period)
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
	if w == nil || !w.start.Equal(start) {
		if add == 0 {
			return 0
		}
		w = &window{start: start}
		l.win[key] = w
	}
	w.n += add
	return w.n
}

// allow counts one attempt for key and reports whether it is within max per period.
func (l *limiter) allow(key string, max int, period time.Duration) bool {
	return l.count(key, period, 1) <= max
}

// CountAttempt implements fiscal.RateLimits in memory.
func (l *limiter) CountAttempt(_ context.Context, key string, period time.Duration) (int, error) {
	return l.count(key, period, 1), nil
}

// Attempts implements fiscal.RateLimits in memory.
func (l *limiter) Attempts(_ context.Context, key string, period time.Duration) (int, error) {
	return l.count(key, period, 0), nil
}

// FailureWait implements fiscal.RateLimits in memory.
func (l *limiter) FailureWait(_ context.Context, key string) (time.Duration, bool, error) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fails[key]
	if f == nil {
		return 0, false, nil
	}
	if now.Before(f.until) {
		return f.until.Sub(now), true, nil
	}
	return 0, true, nil
}

// CountFailure implements fiscal.RateLimits in memory.
func (l *limiter) CountFailure(_ context.Context, key string, b fiscal.Backoff) (int, time.Duration, error) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fails[key]
	if f == nil || now.Sub(f.last) > b.Memory {
		f = &failures{}
		l.fails[key] = f
	}
	f.n++
	f.last = now
	wait := b.Wait(f.n)
	if wait > 0 {
		f.until = now.Add(wait)
	}
	return f.n, wait, nil
}

// ForgetFailures implements fiscal.RateLimits in memory.
func (l *limiter) ForgetFailures(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
	return nil
}

// errTooMany is the answer of a limit that is used up.
func errTooMany() error {
	return fiscal.Errorf(fiscal.ERATELIMIT, "too many attempts; try again later")
}

// limit counts one attempt for key in the shared limits and returns
// ERATELIMIT when key is over max attempts in period (EUNAVAILABLE when the
// database cannot count: a limit that cannot be checked is not skipped).
func (s *Server) limit(ctx context.Context, key string, max int, period time.Duration) error {
	n, err := s.shared.CountAttempt(ctx, key, period)
	if err != nil {
		return err
	}
	if n > max {
		s.metrics.rateLimited.Add(1)
		return errTooMany()
	}
	return nil
}

// over reports whether key has already used max attempts in the current
// window of period of the shared limits, without counting one.
func (s *Server) over(ctx context.Context, key string, max int, period time.Duration) (bool, error) {
	n, err := s.shared.Attempts(ctx, key, period)
	return n >= max, err
}

// publicShare is this instance's share of Config.PublicRateLimit.
func (s *Server) publicShare() int {
	n := max(s.cfg.Instances, 1)
	return (s.cfg.PublicRateLimit + n - 1) / n
}

// publicLimit counts one request of the client of c to the public
// calculator name against this instance's share of PublicRateLimit a minute.
func (s *Server) publicLimit(c *fiber.Ctx, name string) error {
	if !s.limits.allow(name+":"+s.ClientIP(c), s.publicShare(), time.Minute) {
		s.metrics.rateLimited.Add(1)
		return errTooMany()
	}
	return nil
}
