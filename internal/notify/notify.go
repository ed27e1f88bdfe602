// Package notify sends the notifications of the outbox: by e-mail through an
// SMTP server (FISCAL_SMTP_ADDR, FISCAL_SMTP_FROM) or, by default, to the log
// only. The store writes each message in the transaction that caused it;
// Dispatcher sends them after commit, so a rolled-back change sends nothing
// and a crash only delays what was committed. Each message is claimed in the
// database before it is sent, so several instances send it once.
package notify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/smtp"
	"os"
	"strings"
	"sync"
	"time"

	"fiscald/fiscal"
)

// Sender delivers one message.
type Sender interface {
	Send(ctx context.Context, to, subject, body string) error
}

// LogSender writes messages to the log instead of sending them.
type LogSender struct {
	Log *slog.Logger
}

// Send logs the message.
func (s LogSender) Send(ctx context.Context, to, subject, body string) error {
	s.Log.Info("notification (log only)", "to", to, "subject", subject)
	return nil
}

// DefaultSMTPTimeout bounds one SMTP send when SMTPSender.Timeout is zero.
const DefaultSMTPTimeout = 10 * time.Second

// SMTPSender sends plain-text UTF-8 e-mail through an SMTP server.
type SMTPSender struct {
	Addr string // host:port
	From string
	Auth smtp.Auth // nil for a relay without authentication
	// Timeout bounds a whole send: the dial and every exchange until the
	// server took the message (DefaultSMTPTimeout when zero). A server that
	// accepts the connection and never answers costs at most this.
	Timeout time.Duration
}

// Send sends the message. It returns nil once the server accepted the
// message (its answer to the end of DATA); the QUIT after that is not
// waited for.
func (s SMTPSender) Send(ctx context.Context, to, subject, body string) error {
	if strings.ContainsAny(to, "\r\n") || strings.ContainsAny(s.From, "\r\n") {
		return fmt.Errorf("notify: invalid address")
	}
	msg := "From: " + s.From + "\r\nTo: " + to + "\r\nSubject: " + mime.QEncoding.Encode("utf-8", subject) +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSMTPTimeout
	}
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := s.send(ctx, deadline, to, []byte(msg)); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("notify: smtp %s: no answer within %v: %w", s.Addr, timeout, err)
		}
		return fmt.Errorf("notify: smtp %s: %w", s.Addr, err)
	}
	return nil
}

// send is smtp.SendMail on a connection with a deadline (net/smtp itself
// sets none: a silent server would hold the sender forever); cancelling ctx
// (the server stopping) ends it too.
func (s SMTPSender) send(ctx context.Context, deadline time.Time, to string, msg []byte) error {
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", s.Addr)
	if err != nil {
		return err
	}
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if s.Auth != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("the server does not offer AUTH")
		}
		if err := c.Auth(s.Auth); err != nil {
			return err
		}
	}
	if err := c.Mail(s.From); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	_ = c.Quit() // the message was accepted: a lost QUIT changes nothing
	return nil
}

// Dispatcher drains the outbox into a sender. Several dispatchers (one per
// instance of the service) may drain one outbox at once: each claims its
// messages in the database for a lease before it sends them
// (fiscal.Outbox), so each message is sent once; a message whose sender
// died between the server's acceptance and marking it sent is sent again
// when the lease ends (at least once).
type Dispatcher struct {
	Outbox fiscal.Outbox
	Sender Sender
	Log    *slog.Logger
	// Name identifies this dispatcher in its claims (default: host, process
	// id and a random suffix).
	Name string
	// MaxAttempts stops retrying a message (default 5).
	MaxAttempts int
	// Batch is how many messages one claim takes (default 10).
	Batch int
	// Lease is how long a claim holds its messages (default 5 minutes); it
	// must be longer than Batch sends, and no send goes on past it.
	Lease time.Duration
	// Backoff is the wait before a failed message is tried again, after
	// its attempts-th attempt (default RetryBackoff).
	Backoff func(attempts int) time.Duration

	nameOnce sync.Once
}

// RetryBackoff is the default wait after a message's attempts-th failed
// attempt: one minute, doubling with each attempt, at most an hour.
func RetryBackoff(attempts int) time.Duration {
	d := time.Minute
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// name returns the dispatcher's claim owner, choosing one the first time.
func (d *Dispatcher) name() string {
	d.nameOnce.Do(func() {
		if d.Name == "" {
			host, _ := os.Hostname()
			b := make([]byte, 4)
			_, _ = rand.Read(b)
			d.Name = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
		}
	})
	return d.Name
}

// Drain sends what is due, claiming it batch by batch until none is left,
// and returns how many were sent.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	maxAttempts, batch, lease, backoff := d.MaxAttempts, d.Batch, d.Lease, d.Backoff
	if maxAttempts <= 0 {
		maxAttempts = 5
	}
	if batch <= 0 {
		batch = 10
	}
	if lease <= 0 {
		lease = 5 * time.Minute
	}
	if backoff == nil {
		backoff = RetryBackoff
	}
	owner := d.name()
	sent := 0
	for {
		claimed := time.Now()
		list, err := d.Outbox.ClaimNotifications(ctx, owner, batch, maxAttempts, lease)
		if err != nil {
			return sent, err
		}
		// The sends end before the lease does (with a margin for marking
		// the last one): past it, another dispatcher may hold the messages.
		sctx, cancel := context.WithDeadline(ctx, claimed.Add(lease*9/10))
		for _, n := range list {
			if sctx.Err() != nil {
				break // the rest is due again when the lease ends
			}
			err := d.Sender.Send(sctx, n.Recipient, n.Subject, n.Body)
			// The outcome is recorded even when ctx ends meanwhile (the
			// server stopping): a message the mail server took and not
			// marked would be sent again when the lease ends.
			mctx, mcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err == nil {
				sent++
				err = d.Outbox.NotificationSent(mctx, n.ID, owner)
			} else {
				if d.Log != nil {
					d.Log.Warn("notification not sent", "id", n.ID, "attempt", n.Attempts, "err", err)
				}
				wait := backoff(n.Attempts)
				if ctx.Err() != nil {
					wait = 0 // cut by the stop, not refused: another instance may take it now
				}
				err = d.Outbox.NotificationFailed(mctx, n.ID, owner, err, wait)
			}
			mcancel()
			if err != nil {
				cancel()
				return sent, err
			}
		}
		expired := sctx.Err() != nil
		cancel()
		if len(list) < batch || expired || ctx.Err() != nil {
			return sent, ctx.Err()
		}
	}
}

// Run drains the outbox every interval until ctx ends.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := d.Drain(ctx); err != nil && ctx.Err() == nil && d.Log != nil {
			d.Log.Warn("outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
