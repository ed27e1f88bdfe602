package notify

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"
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
