package web_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/internal/web"
	"fiscald/reports"
)

// TestReportEndpoints: accountants and admins download each report in each
// format; taxpayers and officers get 403; bad parameters 422; a PDF over
// its limit 413 naming CSV/XLSX.
func TestReportEndpoints(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB, clock *fiscal.TestClock) {
		e := newEnv(t, db, clock)
		if r := e.do("POST", "/api/v1/auth/register", "", individual("ana", "2850615350041")); r.Status != 201 {
			t.Fatal(r.Status)
		}
		e.tokens["taxpayer"] = e.login("ana", "parola-lunga-1")
		storetest.BulkPayments(t, db, e.muni.ID, 50, reports.MaxPDFRows+10)
		q := map[string]string{
			"collections": "from=2026-01-01&to=2026-12-31&group=day",
			"journal":     "from=2026-01-01&to=2026-01-31",
			"arrears":     "as_of=2026-10-15",
			"bonuses":     "from=2026-01-01&to=2026-12-31",
			"sla":         "from=2026-01-01&to=2026-12-31",
			// reconciliation: no processor transactions here, so the
			// differences are the card payments without a charge.
			"reconciliation": "from=2026-01-01&to=2026-12-31",
		}
		for name, params := range q {
			for _, role := range []string{"accountant", "admin"} {
				for format, magic := range map[string]string{"csv": "\uFEFF\"Raport\",", "xlsx": "PK\x03\x04", "pdf": "%PDF-"} {
					r := e.do("GET", "/api/v1/reports/"+name+"?"+params+"&format="+format, e.tokens[role], nil)
					if r.Status != 200 || !bytes.HasPrefix(r.Raw, []byte(magic)) {
						t.Errorf("%s %s as %s: %d %.200s", name, format, role, r.Status, r.Raw)
						continue
					}
					if !strings.HasPrefix(r.Header["Content-Disposition"], `attachment; filename="`) {
						t.Errorf("%s %s: Content-Disposition %q", name, format, r.Header["Content-Disposition"])
					}
				}
			}
			for _, role := range []string{"taxpayer", "officer", "signer"} {
				if r := e.do("GET", "/api/v1/reports/"+name+"?"+params, e.tokens[role], nil); r.Status != 403 {
					t.Errorf("%s as %s: %d, want 403", name, role, r.Status)
				}
			}
		}
		r := e.do("GET", "/api/v1/reports/journal?from=2026-01-01&to=2026-12-31&format=csv", e.tokens["accountant"], nil)
		if n := bytes.Count(r.Raw, []byte("\r\n")); r.Status != 200 || n < reports.MaxPDFRows+10 {
			t.Errorf("journal CSV: %d, %d lines", r.Status, n)
		}
		for path, field := range map[string]string{
			"/api/v1/reports/collections?from=2026-13-01&to=2026-12-31":            "from",
			"/api/v1/reports/collections?from=2026-01-01":                          "to",
			"/api/v1/reports/arrears?format=csv":                                   "as_of",
			"/api/v1/reports/bonuses?from=2026-01-01&to=2026-12-31&format=ods":     "format",
			"/api/v1/reports/collections?from=2026-01-01&to=2026-12-31&group=week": "group",
		} {
			r := e.do("GET", path, e.tokens["accountant"], nil)
			if r.Status != 422 || !strings.Contains(strings.Join(fieldNames(r), ","), field) {
				t.Errorf("%s: %d %s, want 422 naming %s", path, r.Status, r.Raw, field)
			}
		}
		r = e.do("GET", "/api/v1/reports/journal?from=2026-01-01&to=2026-12-31&format=pdf", e.tokens["accountant"], nil)
		if r.Status != 413 || !strings.Contains(string(r.Raw), "format=csv") {
			t.Errorf("journal PDF over the limit: %d %s", r.Status, r.Raw)
		}
	})
}

// watched records when each export ends and how.
type watched struct {
	fiscal.ReportService
	ended chan error
	rows  chan int64
}

func (w *watched) ExportReport(ctx context.Context, r fiscal.ReportRequest, out io.Writer) (int64, error) {
	n, err := w.ReportService.ExportReport(ctx, r, out)
	w.rows <- n
	w.ended <- err
	return n, err
}

// TestReportClientGoesAway: a client that disconnects in the middle of a
// long CSV export stops it (the query is cancelled), over a real socket.
func TestReportClientGoesAway(t *testing.T) {
	clock := fiscal.NewTestClock(storetest.Epoch)
	db := storetest.MustOpen(t, "sqlite", clock)
	m := storetest.Municipality(t, db, "timisoara")
	storetest.BulkPayments(t, db, m.ID, 100, 200_000)
	if _, err := db.CreateStaff(context.Background(), m.ID, "carmen", "password-accounts", fiscal.RoleAccountant, "Carmen"); err != nil {
		t.Fatal(err)
	}
	w := &watched{ReportService: &reports.Exporter{Source: db, Clock: clock}, ended: make(chan error, 1), rows: make(chan int64, 1)}
	srv := web.New(web.Config{DefaultMunicipality: "timisoara", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		web.Deps{Municipalities: db, Users: db, Taxpayers: db, Idempotency: db, Tax: db, Clock: clock, Reports: w})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.App().Listener(ln)
	defer srv.Shutdown(time.Second)
	sess, err := db.Login(context.Background(), m.ID, "carmen", "password-accounts")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /api/v1/reports/journal?from=2026-01-01&to=2026-12-31&format=csv HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", sess.Token)
	br := bufio.NewReader(conn)
	status, _ := br.ReadString('\n')
	if !strings.Contains(status, "200") {
		t.Fatalf("status %q", status)
	}
	if _, err := io.ReadFull(br, make([]byte, 256<<10)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	select {
	case n := <-w.rows:
		err := <-w.ended
		if err == nil || n >= 200_000 {
			t.Fatalf("the export ran to the end after the client left: %d rows, %v", n, err)
		}
		t.Logf("stopped after %d rows: %v", n, err)
	case <-time.After(20 * time.Second):
		t.Fatal("the export did not stop after the client left")
	}
}
