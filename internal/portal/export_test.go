package portal

import "time"

// SetFormInFlightWait makes a form sent again wait d (instead of
// formInFlightWait) for its first sending; the returned function restores
// the wait.
func SetFormInFlightWait(d time.Duration) (restore func()) {
	testInFlightWait.Store(int64(d))
	return func() { testInFlightWait.Store(0) }
}
