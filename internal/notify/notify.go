// Package notify sends the notifications of the outbox: by e-mail through an
// SMTP server (FISCAL_SMTP_ADDR, FISCAL_SMTP_FROM) or, by default, to the log
// only. The store writes each message in the transaction that caused it;
// Dispatcher sends them after commit, so a rolled-back change sends nothing
// and a crash only delays what was committed.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net/smtp"
	"strings"
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

// SMTPSender sends plain-text UTF-8 e-mail through an SMTP server.
type SMTPSender struct {
	Addr string // host:port
	From string
	Auth smtp.Auth // nil for a relay without authentication
}

// Send sends the message.
func (s SMTPSender) Send(ctx context.Context, to, subject, body string) error {
	if strings.ContainsAny(to, "\r\n") || strings.ContainsAny(s.From, "\r\n") {
		return fmt.Errorf("notify: invalid address")
	}
	msg := "From: " + s.From + "\r\nTo: " + to + "\r\nSubject: " + mime.QEncoding.Encode("utf-8", subject) +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"
	return smtp.SendMail(s.Addr, s.Auth, s.From, []string{to}, []byte(msg))
}

// Dispatcher drains the outbox into a sender.
type Dispatcher struct {
	Outbox fiscal.Outbox
	Sender Sender
	Log    *slog.Logger
	// MaxAttempts stops retrying a message (default 5).
	MaxAttempts int
}

// Drain sends what is pending once and returns how many were sent.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	max := d.MaxAttempts
	if max == 0 {
		max = 5
	}
	list, err := d.Outbox.PendingNotifications(ctx, 100)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, n := range list {
		if n.Attempts >= max {
			continue
		}
		err := d.Sender.Send(ctx, n.Recipient, n.Subject, n.Body)
		if err != nil && d.Log != nil {
			d.Log.Warn("notification not sent", "id", n.ID, "err", err)
		}
		if err == nil {
			sent++
		}
		if merr := d.Outbox.NotificationSent(ctx, n.ID, err); merr != nil {
			return sent, merr
		}
	}
	return sent, nil
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
