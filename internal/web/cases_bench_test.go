package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store/storetest"
	"fiscald/internal/web"
)

// BenchmarkCaseIntake measures POST /api/v1/cases against the real server
// on loopback: a vehicle registration's JSON with one attachment reference
// (a document the taxpayer gave on an earlier case), signed submit step,
// audit entry and notification included, by 16 concurrent clients
// (FISCAL_BENCH_WORKERS changes it). It
// reports requests per second and the 99th-percentile latency, on SQLite
// and (when FISCAL_TEST_POSTGRES is set) PostgreSQL. Run:
//
//	go test ./internal/web -run '^$' -bench CaseIntake -benchtime 5000x
func BenchmarkCaseIntake(b *testing.B) {
	for _, engine := range storetest.Engines() {
		b.Run(engine, func(b *testing.B) { benchIntake(b, engine) })
	}
}

func benchIntake(b *testing.B, engine string) {
	web.TuneGC()
	db := storetest.MustOpen(b, engine, fiscal.SystemClock{})
	ctx := context.Background()
	m := storetest.Municipality(b, db, "timisoara")
	for _, r := range []fiscal.Role{fiscal.RoleOfficer, fiscal.RoleSigner} {
		if _, err := db.CreateStaff(ctx, m.ID, string(r)+"1", "password-"+string(r), r, string(r)); err != nil {
			b.Fatal(err)
		}
	}
	reg := &fiscal.Registration{Username: "ana", Password: "parola-lunga-1", Email: "ana@example.ro",
		Taxpayer: fiscal.TaxpayerInput{Kind: fiscal.Individual, CNP: "2850615350041", Name: "Ana Popescu", Address: "Str. Mărășești 1"}}
	_, tp, err := db.Register(ctx, m.ID, reg)
	if err != nil {
		b.Fatal(err)
	}
	sess, err := db.Login(ctx, m.ID, "ana", "parola-lunga-1")
	if err != nil {
		b.Fatal(err)
	}
	srv := web.New(web.Config{DefaultMunicipality: "timisoara", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		web.StoreDeps(db))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.App().Listener(ln)
	defer srv.Shutdown(5 * time.Second)
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}, Timeout: 30 * time.Second}

	post := func(path, ctype string, body []byte) (int, []byte) {
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+sess.Token)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, raw
	}
	// A first case with the owner's ID, which every later intake references.
	body, _ := json.Marshal(registration(tp.ID, "WVWZZZAUZHW000000", "2026-03-10"))
	st, raw := post("/api/v1/cases", "application/json", body)
	if st != 201 {
		b.Fatalf("first case: %d %s", st, raw)
	}
	var first struct{ ID int64 }
	json.Unmarshal(raw, &first)
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("kind", "owner_id")
	fw, _ := w.CreateFormFile("file", "ci.pdf")
	fw.Write(pdfDoc)
	w.Close()
	st, raw = post(fmt.Sprintf("/api/v1/cases/%d/attachments", first.ID), w.FormDataContentType(), buf.Bytes())
	if st != 201 {
		b.Fatalf("upload: %d %s", st, raw)
	}
	var att struct{ SHA256 string }
	json.Unmarshal(raw, &att)

	intake := registration(tp.ID, "WVWZZZAUZHW123456", "2026-03-10")
	intake["attachments"] = []map[string]string{{"kind": "owner_id", "sha256": att.SHA256}}
	payload, _ := json.Marshal(intake)

	workers := 16
	if n, err := strconv.Atoi(os.Getenv("FISCAL_BENCH_WORKERS")); err == nil && n > 0 {
		workers = n
	}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				req, _ := http.NewRequest("POST", base+"/api/v1/cases", bytes.NewReader(payload))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+sess.Token)
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 201 {
					failed.Add(1)
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d intakes failed", n, b.N)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	var n int
	_ = db.SQL().Get(&n, `SELECT COUNT(*) FROM cases`)
	if n != b.N+1 {
		b.Fatalf("%d cases for %d intakes", n, b.N)
	}
	// The fast paths must leave the audit chain whole.
	if v, err := db.VerifyAuditChain(ctx, m.ID); err != nil || !v.Valid {
		b.Fatalf("audit chain after the run: %+v %v", v, err)
	}
}
