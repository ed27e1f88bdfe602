package assess

import (
	"testing"
	"time"
)

func TestPauseAfterKeepsTheShare(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		wrote time.Duration
		o     Options
		want  time.Duration
	}{
		{20 * ms, Options{}, 0},                                // no bound
		{20 * ms, Options{Pause: 5 * ms}, 5 * ms},              // the fixed pause
		{20 * ms, Options{Share: 1}, 0},                        // a share of 1 is no bound
		{20 * ms, Options{Share: 0.25}, 60 * ms},               // writes 20, waits 60: a quarter of the time
		{20 * ms, Options{Share: 0.5, Pause: 5 * ms}, 20 * ms}, // the longer of the two
		{2 * ms, Options{Share: 0.5, Pause: 5 * ms}, 5 * ms},   // never below Pause
	} {
		if got := pauseAfter(c.wrote, c.o); got != c.want {
			t.Errorf("pauseAfter(%v, share %v pause %v) = %v, want %v", c.wrote, c.o.Share, c.o.Pause, got, c.want)
		}
		if c.o.Share > 0 && c.o.Share < 1 {
			if share := float64(c.wrote) / float64(c.wrote+pauseAfter(c.wrote, c.o)); share > c.o.Share+1e-9 {
				t.Errorf("share %v > %v", share, c.o.Share)
			}
		}
	}
}
