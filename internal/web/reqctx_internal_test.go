package web

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRequestContextAsWithTimeout checks that the request's context answers
// as context.WithTimeout does: the deadline, Err after it with or without a
// waiter, Done closing, cancellation at the end and through children.
func TestRequestContextAsWithTimeout(t *testing.T) {
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}

	// Nobody waits: Err still turns at the deadline, and Done is closed then.
	deadline := time.Now().Add(20 * time.Millisecond)
	r := newRequestContext(deadline)
	if d, ok := r.Deadline(); !ok || !d.Equal(deadline) {
		t.Fatalf("Deadline = %v %v", d, ok)
	}
	if r.Err() != nil || r.Value("k") != nil {
		t.Fatal("a fresh context has an error or a value")
	}
	time.Sleep(30 * time.Millisecond)
	if !errors.Is(r.Err(), context.DeadlineExceeded) || !closed(r.Done()) {
		t.Fatalf("after the deadline: Err %v, Done closed %v", r.Err(), closed(r.Done()))
	}
	r.end()
	if !errors.Is(r.Err(), context.DeadlineExceeded) {
		t.Fatalf("end after the deadline changed Err to %v", r.Err())
	}

	// A waiter: Done closes at the deadline.
	r = newRequestContext(time.Now().Add(20 * time.Millisecond))
	select {
	case <-r.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done did not close at the deadline")
	}
	if !errors.Is(r.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err = %v", r.Err())
	}

	// The end of the request cancels it, armed or not, and its children.
	for _, arm := range []bool{false, true} {
		r = newRequestContext(time.Now().Add(time.Hour))
		parent := context.WithValue(r, actorTestKey{}, "actor")
		var child context.Context = parent
		var stop context.CancelFunc = func() {}
		if arm {
			child, stop = context.WithCancel(parent)
		}
		if child.Value(actorTestKey{}) != "actor" || child.Err() != nil {
			t.Fatal("the child lost its value or is already done")
		}
		r.end()
		if !errors.Is(r.Err(), context.Canceled) || !closed(r.Done()) {
			t.Fatalf("armed %v: after end Err %v", arm, r.Err())
		}
		select {
		case <-child.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("armed %v: the child was not cancelled", arm)
		}
		if !errors.Is(child.Err(), context.Canceled) {
			t.Fatalf("armed %v: child Err %v", arm, child.Err())
		}
		stop()
	}
}

type actorTestKey struct{}
