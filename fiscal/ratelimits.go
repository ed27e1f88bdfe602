package fiscal

import (
	"context"
	"time"
)

// RateLimits holds the counters of the per-address limits (sign-in,
// registration, document verification) where every instance of the service
// sees them: in the database (internal/store, migration 0021), so that two
// instances behind one load balancer share one budget per client address.
// Keys are opaque to the store ("login-ip:<address>", …).
type RateLimits interface {
	// CountAttempt counts one attempt for key in the current fixed window of
	// period (windows start at multiples of period since the Unix epoch)
	// and returns the attempts of that window so far, this one included.
	CountAttempt(ctx context.Context, key string, period time.Duration) (int, error)
	// Attempts returns the attempts of key in the current window of period
	// without counting one.
	Attempts(ctx context.Context, key string, period time.Duration) (int, error)
	// FailureWait returns how long key must still wait before its next
	// attempt (0: it may try now) and whether key has failures remembered.
	FailureWait(ctx context.Context, key string) (wait time.Duration, failed bool, err error)
	// CountFailure counts one failure for key (failures older than memory
	// are forgotten first) and returns its failures so far and the wait
	// before its next attempt, FailureBackoff's.
	CountFailure(ctx context.Context, key string, b Backoff) (n int, wait time.Duration, err error)
	// ForgetFailures drops key's failures (a success).
	ForgetFailures(ctx context.Context, key string) error
}

// Backoff is the rule of a failure throttle: Free failures cost nothing,
// then the wait is Base, doubling with each further failure, at most
// Ceiling; failures are forgotten Memory after the last one.
type Backoff struct {
	Free          int
	Base, Ceiling time.Duration
	Memory        time.Duration
}

// Wait is the wait after the n-th consecutive failure.
func (b Backoff) Wait(n int) time.Duration {
	if n <= b.Free {
		return 0
	}
	wait := b.Ceiling
	if shift := n - b.Free - 1; shift < 32 && b.Base<<shift < b.Ceiling {
		wait = b.Base << shift
	}
	return wait
}
