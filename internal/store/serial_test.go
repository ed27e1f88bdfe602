package store

import (
	"context"
	"testing"
	"time"
)

// TestSerialTurns: a municipality's queue lets serialDepth transactions in
// at once; the next waits for a turn to end, and past serialWait it goes on
// without one (so the queue can never hold a transaction forever); other
// municipalities do not wait.
func TestSerialTurns(t *testing.T) {
	var q serialQueues
	ctx := context.Background()
	var ends []func()
	for i := 0; i < serialDepth; i++ {
		ends = append(ends, q.turn(ctx, 1))
	}
	start := time.Now()
	other := q.turn(ctx, 2)
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("another municipality waited %v", d)
	}
	other()

	got := make(chan time.Duration)
	go func() {
		s := time.Now()
		end := q.turn(ctx, 1)
		got <- time.Since(s)
		end()
	}()
	time.Sleep(30 * time.Millisecond)
	ends[0]()
	ends[0]() // ending twice gives back one turn only
	if d := <-got; d < 25*time.Millisecond || d > serialWait {
		t.Fatalf("the waiter got its turn after %v, want when the first turn ended", d)
	}

	// Full again: the next one waits serialWait and goes on.
	end := q.turn(ctx, 1)
	defer end()
	s := time.Now()
	q.turn(ctx, 1)()
	if d := time.Since(s); d < serialWait-10*time.Millisecond || d > serialWait+500*time.Millisecond {
		t.Fatalf("waited %v on a full queue, want about %v", d, serialWait)
	}
	for _, e := range ends[1:] {
		e()
	}
}
