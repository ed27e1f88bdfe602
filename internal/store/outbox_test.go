package store_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/notify"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// countingSender counts the sends of each subject; each send takes a
// moment, so that concurrent dispatchers overlap.
type countingSender struct {
	mu    sync.Mutex
	sends map[string]int
	delay time.Duration
}

func (s *countingSender) Send(ctx context.Context, to, subject, body string) error {
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sends == nil {
		s.sends = map[string]int{}
	}
	s.sends[subject]++
	return nil
}

// queueNotifications writes n messages to the outbox, subjects "n-0" … and
// returns their ids.
func queueNotifications(t *testing.T, db *store.DB, m *fiscal.Municipality, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := db.SQL().Exec(db.SQL().Rebind(`INSERT INTO notifications (municipality_id, recipient, subject, body, created_at) VALUES (?, ?, ?, ?, ?)`),
			m.ID, "ana@example.ro", fmt.Sprintf("n-%d", i), "corp", storetest.Epoch); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOutboxTwoInstancesSendOnce drains one outbox from two instances (two
// store.DBs on one database, two dispatchers each) at once: every message
// is sent exactly once and marked sent.
func TestOutboxTwoInstancesSendOnce(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			clock := fiscal.NewTestClock(storetest.Epoch)
			db1, db2 := storetest.OpenPair(t, engine, clock)
			m := storetest.Municipality(t, db1, "timisoara")
			const n = 300
			queueNotifications(t, db1, m, n)
			sender := &countingSender{delay: time.Millisecond}
			var wg sync.WaitGroup
			sent := make([]int, 4)
			errs := make([]error, 4)
			for i, db := range []*store.DB{db1, db2, db1, db2} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					d := &notify.Dispatcher{Outbox: db, Sender: sender, Name: fmt.Sprintf("instance-%d", i)}
					sent[i], errs[i] = d.Drain(context.Background())
				}()
			}
			wg.Wait()
			total := 0
			for i := range sent {
				if errs[i] != nil {
					t.Fatalf("dispatcher %d: %v", i, errs[i])
				}
				total += sent[i]
			}
			if total != n {
				t.Errorf("the dispatchers report %d sends (%v), want %d", total, sent, n)
			}
			if sent[0]+sent[2] == 0 || sent[1]+sent[3] == 0 {
				t.Errorf("one instance sent everything (%v): the drains did not overlap", sent)
			}
			if len(sender.sends) != n {
				t.Errorf("%d distinct messages sent, want %d", len(sender.sends), n)
			}
			for subject, c := range sender.sends {
				if c != 1 {
					t.Errorf("%s sent %d times", subject, c)
				}
			}
			var unsent, attempts int
			if err := db2.SQL().Get(&unsent, `SELECT COUNT(*) FROM notifications WHERE sent_at IS NULL OR claimed_until IS NOT NULL`); err != nil || unsent != 0 {
				t.Errorf("%d messages not marked sent or still claimed (%v)", unsent, err)
			}
			for i := range sent { // each row names the dispatcher that sent it
				var c int
				if err := db2.SQL().Get(&c, db2.SQL().Rebind(`SELECT COUNT(*) FROM notifications WHERE claimed_by = ?`), fmt.Sprintf("instance-%d", i)); err != nil || c != sent[i] {
					t.Errorf("instance-%d sent %d, its rows say %d (%v)", i, sent[i], c, err)
				}
			}
			if err := db2.SQL().Get(&attempts, `SELECT COALESCE(SUM(attempts), 0) FROM notifications`); err != nil || attempts != n {
				t.Errorf("%d attempts for %d messages (%v)", attempts, n, err)
			}
			t.Logf("sends per dispatcher: %v", sent)
		})
	}
}

// TestOutboxLeaseAndRetry: a message claimed by a sender that died is sent
// by another once the lease has passed; a send to an SMTP server that
// accepts the connection and never answers fails within the timeout and
// releases the message, due again after its backoff; after MaxAttempts
// claims it is no longer tried.
func TestOutboxLeaseAndRetry(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		ctx := context.Background()
		// Off the whole second, so that the instants compared are fractional.
		clock.Set(storetest.Epoch.Add(250 * time.Millisecond))
		m := storetest.Municipality(t, db, "timisoara")
		queueNotifications(t, db, m, 1)
		row := func() (attempts int, claimedBy, lastError string, sent bool) {
			t.Helper()
			var r struct {
				Attempts  int        `db:"attempts"`
				ClaimedBy string     `db:"claimed_by"`
				LastError string     `db:"last_error"`
				SentAt    *time.Time `db:"sent_at"`
			}
			if err := db.SQL().Get(&r, `SELECT attempts, claimed_by, last_error, sent_at FROM notifications`); err != nil {
				t.Fatal(err)
			}
			return r.Attempts, r.ClaimedBy, r.LastError, r.SentAt != nil
		}

		// A sender claims the message and dies before sending it.
		got, err := db.ClaimNotifications(ctx, "dead", 10, 5, 5*time.Minute)
		if err != nil || len(got) != 1 || got[0].Attempts != 1 {
			t.Fatalf("claim: %v %v", got, err)
		}
		sender := &countingSender{}
		live := &notify.Dispatcher{Outbox: db, Sender: sender, Name: "live", Lease: 5 * time.Minute}
		if n, err := live.Drain(ctx); err != nil || n != 0 {
			t.Fatalf("drain during the lease: %d %v", n, err)
		}
		clock.Advance(5*time.Minute - time.Millisecond)
		if n, err := live.Drain(ctx); err != nil || n != 0 {
			t.Fatalf("drain a millisecond before the lease ends: %d %v", n, err)
		}

		// The lease has passed: another sender takes it, but its SMTP
		// server never answers.
		clock.Advance(time.Millisecond)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var accepted atomic.Int32
		var conns sync.WaitGroup
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted.Add(1)
				conns.Add(1)
				go func() { // hold the connection open, say nothing
					defer conns.Done()
					defer c.Close()
					var b [64]byte
					for {
						if _, err := c.Read(b[:]); err != nil {
							return
						}
					}
				}()
			}
		}()
		smtp := &notify.Dispatcher{Outbox: db, Name: "smtp",
			Sender: notify.SMTPSender{Addr: ln.Addr().String(), From: "fiscal@primaria.ro", Timeout: 300 * time.Millisecond}}
		start := time.Now()
		n, err := smtp.Drain(ctx)
		took := time.Since(start)
		if err != nil || n != 0 {
			t.Fatalf("drain to a silent server: %d %v", n, err)
		}
		if took > 2*time.Second {
			t.Fatalf("the send to a silent server took %v with a 300 ms timeout", took)
		}
		if accepted.Load() != 1 {
			t.Fatalf("%d connections to the SMTP server, want 1", accepted.Load())
		}
		attempts, by, lastErr, sent := row()
		if attempts != 2 || by != "" || sent || !strings.Contains(lastErr, "timeout") {
			t.Fatalf("after the timeout: attempts %d, claimed by %q, sent %v, last error %q", attempts, by, sent, lastErr)
		}
		t.Logf("silent server: failed after %v: %s", took.Round(time.Millisecond), lastErr)

		// Released with a backoff: not tried again before it has passed.
		if n, err := live.Drain(ctx); err != nil || n != 0 || len(sender.sends) != 0 {
			t.Fatalf("drain during the backoff: %d %v", n, err)
		}
		clock.Advance(notify.RetryBackoff(2) - time.Millisecond)
		if n, err := live.Drain(ctx); err != nil || n != 0 {
			t.Fatalf("drain before the backoff ended: %d %v", n, err)
		}
		clock.Advance(time.Millisecond)
		if n, err := live.Drain(ctx); err != nil || n != 1 || sender.sends["n-0"] != 1 {
			t.Fatalf("drain after the backoff: %d %v %v", n, err, sender.sends)
		}
		if attempts, by, _, sent := row(); attempts != 3 || by != "live" || !sent {
			t.Fatalf("after the retry: attempts %d, claimed by %q, sent %v", attempts, by, sent)
		}
		clock.Advance(24 * time.Hour)
		if n, err := live.Drain(ctx); err != nil || n != 0 {
			t.Fatalf("a sent message was sent again: %d %v", n, err)
		}

		// A message that keeps failing is given up after MaxAttempts claims.
		queueNotifications(t, db, m, 1)
		failing := &notify.Dispatcher{Outbox: db, Name: "failing", MaxAttempts: 3,
			Sender: notify.SMTPSender{Addr: ln.Addr().String(), From: "fiscal@primaria.ro", Timeout: 50 * time.Millisecond}}
		for i := 0; i < 5; i++ {
			if _, err := failing.Drain(ctx); err != nil {
				t.Fatal(err)
			}
			clock.Advance(2 * time.Hour)
		}
		var tries int
		if err := db.SQL().Get(&tries, `SELECT attempts FROM notifications WHERE subject = 'n-0' AND sent_at IS NULL`); err != nil || tries != 3 {
			t.Fatalf("a failing message was claimed %d times with MaxAttempts 3 (%v)", tries, err)
		}
		ln.Close()
		conns.Wait()
	})
}
