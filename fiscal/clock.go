package fiscal

import (
	"sync"
	"time"
)

// Clock tells the time. Domain code never calls time.Now: it is handed a
// Clock (or the instant) so tests can move time.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC.
type SystemClock struct{}

// Now returns the current instant in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// TestClock is a settable clock for tests and demos. It is safe for
// concurrent use.
type TestClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewTestClock returns a clock stopped at t.
func NewTestClock(t time.Time) *TestClock { return &TestClock{t: t.UTC()} }

// Now returns the clock's instant.
func (c *TestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *TestClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t.UTC()
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *TestClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
