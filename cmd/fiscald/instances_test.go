package main

import (
	"bufio"
	"context"
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"fiscald/internal/civil"
	"fiscald/internal/notify"
	"fiscald/internal/store/storetest"
)

// smtpCounter is an SMTP server on a loopback listener that takes every
// message (after a short delay each, so that senders overlap) and counts
// them by subject.
type smtpCounter struct {
	ln       net.Listener
	mu       sync.Mutex
	subjects map[string]int
}

func startSMTPCounter(t *testing.T, delay time.Duration) *smtpCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpCounter{ln: ln, subjects: map[string]int{}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.session(c, delay)
		}
	}()
	return s
}

func (s *smtpCounter) session(c net.Conn, delay time.Duration) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	say := func(l string) { c.Write([]byte(l + "\r\n")) }
	say("220 counter ESMTP")
	inData, subject := false, ""
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if inData {
			switch {
			case line == ".\r\n":
				inData = false
				time.Sleep(delay)
				s.mu.Lock()
				s.subjects[subject]++
				s.mu.Unlock()
				say("250 queued")
			case strings.HasPrefix(line, "Subject: "):
				subject = strings.TrimSpace(strings.TrimPrefix(line, "Subject: "))
				if dec, err := new(mime.WordDecoder).DecodeHeader(subject); err == nil {
					subject = dec
				}
			}
			continue
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"), strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"), cmd == "RSET", cmd == "NOOP":
			say("250 ok")
		case cmd == "DATA":
			inData, subject = true, ""
			say("354 go on")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 unknown")
		}
	}
}

func (s *smtpCounter) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.subjects))
	for k, v := range s.subjects {
		out[k] = v
	}
	return out
}

// serversOn starts n `fiscald serve` processes on one database and one data
// folder (instances of one deployment), each on its own loopback address,
// with extra environment variables; before the first starts, prepare (if
// any) runs commands on it (migrate, seed …). The first one started
// migrates and creates the demo accounts.
func serversOn(t *testing.T, bin, dsn string, n int, prepare func(f *faultEnv), env ...string) []*faultEnv {
	t.Helper()
	dataDir := t.TempDir()
	servers := make([]*faultEnv, n)
	for i := range servers {
		addr := freeAddr(t)
		servers[i] = &faultEnv{t: t, bin: bin, dsn: dsn, base: "http://" + addr,
			env: append(append(os.Environ(), "FISCAL_ADDR="+addr, "FISCAL_DB="+dsn, "FISCAL_DATA_DIR="+dataDir, "FISCAL_LOG_FORMAT=text"), env...)}
		if i == 0 && prepare != nil {
			prepare(servers[i])
		}
		servers[i].start()
	}
	return servers
}

// TestTwoServers runs two `fiscald serve` processes on one database, both
// sending the outbox to one SMTP server and running the SLA monitor every
// 300 ms. Petitions are filed through both (each queues a notice to the
// taxpayer), 300 more messages are queued, then every case is made overdue:
// every message reaches the SMTP server exactly once, both processes send,
// each row names the process that sent it, and each case is escalated
// (one notice to the signer) and its breach recorded once.
func TestTwoServers(t *testing.T) {
	bin := buildBinary(t)
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			smtpd := startSMTPCounter(t, 3*time.Millisecond)
			servers := serversOn(t, bin, storetest.DSN(t, engine), 2, nil,
				"FISCAL_SMTP_ADDR="+smtpd.ln.Addr().String(), "FISCAL_SMTP_TIMEOUT=5s", "FISCAL_SLA_INTERVAL=300ms")
			db := servers[0].open()
			defer db.Close()
			q := func(dest any, query string, args ...any) {
				t.Helper()
				if err := db.SQL().Get(dest, db.SQL().Rebind(query), args...); err != nil {
					t.Fatal(err)
				}
			}
			var muni, anaTP int64
			q(&muni, `SELECT id FROM municipalities WHERE slug = 'timisoara'`)
			q(&anaTP, `SELECT taxpayer_id FROM users WHERE username = 'ana'`)
			if _, err := db.SQL().Exec(`UPDATE users SET email = 'dan@primaria.ro' WHERE username = 'dan'`); err != nil {
				t.Fatal(err)
			}

			// Petitions filed through both servers.
			const cases = 20
			for i := 0; i < cases; i++ {
				c := &client{base: servers[i%2].base, http: &http.Client{Timeout: 30 * time.Second}}
				tok := c.login(t, "ioana", "ghiseu-demo-2026")
				r, err := c.do("POST", "/api/v1/cases", tok, map[string]any{"type": "petition", "taxpayer_id": anaTP,
					"data": map[string]any{"subject": "Iluminat", "body": fmt.Sprintf("Petiția %d", i)}})
				if err != nil || r.status != 201 {
					t.Fatalf("intake %d: %v %d %s", i, err, r.status, r.raw)
				}
			}
			// More messages, and every case overdue.
			const n = 300
			now := time.Now().UTC()
			for i := 0; i < n; i++ {
				if _, err := db.SQL().Exec(db.SQL().Rebind(`INSERT INTO notifications (municipality_id, recipient, subject, body, created_at) VALUES (?, ?, ?, ?, ?)`),
					muni, "ana@example.ro", fmt.Sprintf("two-servers-%d", i), "corp", now); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.SQL().Exec(db.SQL().Rebind(`UPDATE cases SET submitted_on = ?`), civil.Of(now).AddDays(-30)); err != nil {
				t.Fatal(err)
			}

			deadline := time.Now().Add(60 * time.Second)
			for quiet := 0; quiet < 3; { // three looks in a row with nothing left to do
				var unsent, open int
				q(&unsent, `SELECT COUNT(*) FROM notifications WHERE sent_at IS NULL AND recipient <> ''`)
				q(&open, `SELECT COUNT(*) FROM cases WHERE breached_at IS NULL OR escalated_at IS NULL`)
				if unsent == 0 && open == 0 {
					quiet++
				} else {
					quiet = 0
				}
				if time.Now().After(deadline) {
					t.Fatalf("after 60 s: %d messages unsent, %d cases not escalated or breached:\n%s\n%s", unsent, open, servers[0].srv.out.String(), servers[1].srv.out.String())
				}
				time.Sleep(300 * time.Millisecond)
			}

			// Every row reached the SMTP server once (subjects are unique).
			var rows []struct {
				Subject string `db:"subject"`
				Owner   string `db:"claimed_by"`
			}
			if err := db.SQL().Select(&rows, `SELECT subject, claimed_by FROM notifications WHERE recipient <> ''`); err != nil {
				t.Fatal(err)
			}
			if len(rows) != n+2*cases {
				t.Errorf("%d messages queued, want %d (%d intake notices, %d escalation notices, %d more)", len(rows), n+2*cases, cases, cases, n)
			}
			got := smtpd.counts()
			perProc := make([]int, 2)
			for _, r := range rows {
				if c := got[r.Subject]; c != 1 {
					t.Errorf("%q reached the SMTP server %d times", r.Subject, c)
				}
				for i, s := range servers {
					if strings.Contains(r.Owner, fmt.Sprintf(":%d:", s.srv.cmd.Process.Pid)) {
						perProc[i]++
					}
				}
			}
			if len(got) != len(rows) {
				t.Errorf("the SMTP server got %d distinct messages, %d are queued", len(got), len(rows))
			}
			if perProc[0]+perProc[1] != len(rows) || perProc[0] == 0 || perProc[1] == 0 {
				t.Errorf("messages sent per process %v of %d: want both, and every row naming one", perProc, len(rows))
			}

			// The SLA monitors of both escalated and breached each case once.
			var c int
			for _, kind := range []string{"escalated", "sla_breached"} {
				q(&c, `SELECT COUNT(*) FROM cases WHERE (SELECT COUNT(*) FROM case_events e WHERE e.case_id = cases.id AND e.kind = ?) <> 1`, kind)
				if c != 0 {
					t.Errorf("%d cases without exactly one %q event", c, kind)
				}
			}
			for _, action := range []string{"case.sla_escalated", "case.sla_breached"} {
				if q(&c, `SELECT COUNT(*) FROM audit_log WHERE action = ?`, action); c != cases {
					t.Errorf("%d %s audit entries for %d cases", c, action, cases)
				}
			}
			if q(&c, `SELECT COUNT(*) FROM notifications WHERE recipient = 'dan@primaria.ro'`); c != cases {
				t.Errorf("%d notices to the signer for %d cases", c, cases)
			}
			if v, err := db.VerifyAuditChain(ctx, muni); err != nil || !v.Valid {
				t.Errorf("audit chain: %+v %v", v, err)
			}
			t.Logf("%d cases, %d messages sent once each; per process %v", cases, len(rows), perProc)
			for _, s := range servers {
				s.stop()
			}
		})
	}
}

// TestSMTPTimeoutConfig: FISCAL_SMTP_TIMEOUT is parsed into the SMTP
// sender (default 10 s), refused when it is not a positive duration, and
// printed with the configuration.
func TestSMTPTimeoutConfig(t *testing.T) {
	t.Setenv("FISCAL_SMTP_ADDR", "127.0.0.1:2525")
	t.Setenv("FISCAL_SMTP_TIMEOUT", "")
	cfg := loadConfig()
	s, err := newSender(cfg, nil)
	if smtp, ok := s.(notify.SMTPSender); err != nil || !ok || smtp.Timeout != 10*time.Second {
		t.Fatalf("default: %#v %v", s, err)
	}
	t.Setenv("FISCAL_SMTP_TIMEOUT", "2500ms")
	cfg = loadConfig()
	if s, err := newSender(cfg, nil); err != nil || s.(notify.SMTPSender).Timeout != 2500*time.Millisecond {
		t.Fatalf("2500ms: %#v %v", s, err)
	}
	var out strings.Builder
	cfg.print(&out)
	if !strings.Contains(out.String(), "FISCAL_SMTP_TIMEOUT") || !strings.Contains(out.String(), "2500ms") {
		t.Errorf("printed configuration:\n%s", out.String())
	}
	for _, bad := range []string{"10", "-1s", "0s", "soon"} {
		t.Setenv("FISCAL_SMTP_TIMEOUT", bad)
		if _, err := newSender(loadConfig(), nil); err == nil || !strings.Contains(err.Error(), "FISCAL_SMTP_TIMEOUT") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
