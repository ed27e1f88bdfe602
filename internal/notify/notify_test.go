package notify

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"fiscald/fiscal"
)

// fakeSMTP serves one SMTP session on a loopback listener and sends what it
// received (the envelope and the data) on the returned channel.
func fakeSMTP(t *testing.T) (addr string, got <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		var b strings.Builder
		say := func(s string) { c.Write([]byte(s + "\r\n")) }
		say("220 fake ESMTP")
		inData := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				ch <- b.String()
				return
			}
			if inData {
				if line == ".\r\n" {
					inData = false
					say("250 queued")
					continue
				}
				b.WriteString(line)
				continue
			}
			cmd := strings.ToUpper(strings.TrimSpace(line))
			switch {
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				say("250 fake")
			case strings.HasPrefix(cmd, "MAIL FROM:"), strings.HasPrefix(cmd, "RCPT TO:"):
				b.WriteString(strings.TrimSpace(line) + "\n")
				say("250 ok")
			case cmd == "DATA":
				inData = true
				say("354 go on")
			case cmd == "QUIT":
				say("221 bye")
				ch <- b.String()
				return
			default:
				say("502 unknown")
			}
		}
	}()
	return ln.Addr().String(), ch
}

// TestSMTPSenderSends sends a message through the deadline-bound client to a
// fake server and reads back the envelope, the encoded subject and the body.
func TestSMTPSenderSends(t *testing.T) {
	addr, got := fakeSMTP(t)
	s := SMTPSender{Addr: addr, From: "fiscal@primaria.ro", Timeout: 5 * time.Second}
	if err := s.Send(context.Background(), "ana@example.ro", "Cererea TM-2026-000001: aprobată", "Bună ziua,\nCererea a fost aprobată."); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-got:
		for _, want := range []string{"MAIL FROM:<fiscal@primaria.ro>", "RCPT TO:<ana@example.ro>", "Subject: =?utf-8?q?Cererea_TM-2026-000001:_aprobat=C4=83?=",
			"Content-Type: text/plain; charset=utf-8", "Bună ziua,\r\nCererea a fost aprobată.\r\n"} {
			if !strings.Contains(msg, want) {
				t.Errorf("the server got no %q in:\n%s", want, msg)
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the fake server got nothing")
	}
}

// TestSMTPSenderTimeout: a server that accepts the connection and never
// answers fails the send within the timeout; so does one that is cancelled.
func TestSMTPSenderTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent, until the test ends
		}
	}()
	s := SMTPSender{Addr: ln.Addr().String(), From: "fiscal@primaria.ro", Timeout: 200 * time.Millisecond}
	start := time.Now()
	err = s.Send(context.Background(), "ana@example.ro", "s", "b")
	if took := time.Since(start); err == nil || took > 2*time.Second || !strings.Contains(err.Error(), "no answer within 200ms") {
		t.Fatalf("silent server: %v after %v", err, took)
	}
	// The caller's deadline, when earlier, bounds the send too.
	s.Timeout = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	if err := s.Send(ctx, "ana@example.ro", "s", "b"); err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("silent server with the caller's deadline: %v after %v", err, time.Since(start))
	}
	// An address that does not take connections fails at once.
	addr := ln.Addr().String()
	ln.Close()
	if err := (SMTPSender{Addr: addr, From: "f@x.ro", Timeout: time.Second}).Send(context.Background(), "a@x.ro", "s", "b"); err == nil {
		t.Fatal("a closed port took the message")
	}
}

func TestRetryBackoff(t *testing.T) {
	for attempts, want := range map[int]time.Duration{0: time.Minute, 1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 5: 16 * time.Minute, 7: time.Hour, 50: time.Hour} {
		if got := RetryBackoff(attempts); got != want {
			t.Errorf("RetryBackoff(%d) = %v, want %v", attempts, got, want)
		}
	}
}

// fakeOutbox hands out its messages once each and records what the
// dispatcher reported, with whether the context it was given was live.
type fakeOutbox struct {
	mu      sync.Mutex
	pending []*fiscal.Notification
	sent    []int64
	failed  map[int64]time.Duration
	deadCtx int
}

func (o *fakeOutbox) ClaimNotifications(ctx context.Context, owner string, limit, maxAttempts int, lease time.Duration) ([]*fiscal.Notification, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := min(limit, len(o.pending))
	out := o.pending[:n]
	o.pending = o.pending[n:]
	return out, nil
}

func (o *fakeOutbox) NotificationSent(ctx context.Context, id int64, owner string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ctx.Err() != nil {
		o.deadCtx++
	}
	o.sent = append(o.sent, id)
	return nil
}

func (o *fakeOutbox) NotificationFailed(ctx context.Context, id int64, owner string, sendErr error, retryAfter time.Duration) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ctx.Err() != nil {
		o.deadCtx++
	}
	if o.failed == nil {
		o.failed = map[int64]time.Duration{}
	}
	o.failed[id] = retryAfter
	return nil
}

func messages(n int) []*fiscal.Notification {
	out := make([]*fiscal.Notification, n)
	for i := range out {
		out[i] = &fiscal.Notification{ID: int64(i + 1), Recipient: "a@x.ro", Subject: "s", Body: "b", Attempts: 1}
	}
	return out
}

type funcSender func(ctx context.Context) error

func (f funcSender) Send(ctx context.Context, to, subject, body string) error { return f(ctx) }

// TestDispatcherStopsAtItsLease: sends end before the lease does; the
// messages not yet sent are neither marked nor released (due again when
// the lease ends).
func TestDispatcherStopsAtItsLease(t *testing.T) {
	o := &fakeOutbox{pending: messages(5)}
	d := &Dispatcher{Outbox: o, Batch: 5, Lease: 100 * time.Millisecond,
		Sender: funcSender(func(ctx context.Context) error { time.Sleep(40 * time.Millisecond); return nil })}
	n, err := d.Drain(context.Background())
	if err != nil || n < 1 || n > 3 || len(o.sent) != n || len(o.failed) != 0 {
		t.Fatalf("sent %d (%v) of 5 in a 100 ms lease at 40 ms a send; marked %v, failed %v", n, err, o.sent, o.failed)
	}
}

// TestDispatcherRecordsOutcomeWhenStopped: the server stopping (ctx
// cancelled) right after the mail server took a message still marks it
// sent; a send cut by the stop releases its message at once (no backoff);
// the rest of the batch is left alone.
func TestDispatcherRecordsOutcomeWhenStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	o := &fakeOutbox{pending: messages(3)}
	calls := 0
	d := &Dispatcher{Outbox: o, Sender: funcSender(func(sctx context.Context) error {
		calls++
		if calls == 1 {
			cancel() // the stop arrives as the server accepts the first
			return nil
		}
		<-sctx.Done()
		return sctx.Err()
	})}
	d.Drain(ctx)
	if len(o.sent) != 1 || o.sent[0] != 1 || o.deadCtx != 0 {
		t.Fatalf("marked sent %v, recorded with a cancelled context %d times", o.sent, o.deadCtx)
	}
	if len(o.failed) != 0 {
		t.Fatalf("released after the stop: %v", o.failed)
	}
	// A send in progress when the stop comes.
	ctx, cancel = context.WithCancel(context.Background())
	o = &fakeOutbox{pending: messages(2)}
	d = &Dispatcher{Outbox: o, Sender: funcSender(func(sctx context.Context) error {
		cancel()
		<-sctx.Done()
		return sctx.Err()
	})}
	d.Drain(ctx)
	if wait, ok := o.failed[1]; !ok || wait != 0 || len(o.failed) != 1 || o.deadCtx != 0 {
		t.Fatalf("a send cut by the stop: failed %v, recorded with a cancelled context %d times", o.failed, o.deadCtx)
	}
}
