package reports_test

import (
	"context"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/civil"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
	"fiscald/reports"
)

// benchRows is the number of payments of the export benchmarks
// (FISCAL_BENCH_ROWS, default one million).
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("FISCAL_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

var (
	benchOnce sync.Once
	benchDir  string
	benchDB   *store.DB
	benchCtx  context.Context
	benchErr  error
)

// benchLedger is a SQLite database with benchRows() payments, built once
// per run (about 10 s for a million).
func benchLedger(b *testing.B) (*store.DB, context.Context) {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fiscald-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchDir = dir
		clock := fiscal.NewTestClock(storetest.Epoch)
		db, err := store.Open(context.Background(), "sqlite:"+dir+"/bench.db", clock)
		if err != nil {
			benchErr = err
			return
		}
		if _, err := db.Migrate(context.Background()); err != nil {
			benchErr = err
			return
		}
		m := storetest.Municipality(b, db, "timisoara")
		benchCtx, _ = storetest.Staff(b, db, m, "carmen", fiscal.RoleAccountant)
		start := time.Now()
		storetest.BulkPayments(b, db, m.ID, 10_000, benchRows())
		b.Logf("bulk insert of %d payments: %s", benchRows(), time.Since(start).Round(time.Millisecond))
		benchDB = db
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDB, benchCtx
}

// TestMain removes the benchmarks' database (a few hundred MB) at the end.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchDB != nil {
		benchDB.Close()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// peak samples the Go heap every 5 ms while an export runs.
type peak struct {
	stop chan struct{}
	done sync.WaitGroup
	max  atomic.Uint64
}

func watchMemory() *peak {
	runtime.GC()
	p := &peak{stop: make(chan struct{})}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		var m runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > p.max.Load() {
				p.max.Store(m.HeapInuse)
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peak) end() float64 {
	close(p.stop)
	p.done.Wait()
	return float64(p.max.Load()) / (1 << 20)
}

func benchExport(b *testing.B, req reports.Request) {
	db, ctx := benchLedger(b)
	ex := &reports.Exporter{Source: db, Clock: db.Clock()}
	b.ResetTimer()
	var rows int64
	var worst float64
	for b.Loop() {
		p := watchMemory()
		cw := &countingWriter{}
		s, err := ex.Export(ctx, req, cw)
		if err != nil {
			b.Fatal(err)
		}
		worst = max(worst, p.end())
		rows = s.Rows
		b.ReportMetric(float64(cw.n)/(1<<20), "MB-out")
	}
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(worst, "peak-heap-MB")
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return io.Discard.Write(p)
}

var benchYear = reports.Request{From: civil.MustParse("2026-01-01"), To: civil.MustParse("2026-12-31")}

// BenchmarkJournalCSV exports every payment line (a million rows) as CSV.
func BenchmarkJournalCSV(b *testing.B) {
	r := benchYear
	r.Name, r.Format = reports.Journal, reports.CSV
	benchExport(b, r)
}

// BenchmarkJournalXLSX exports every payment line as XLSX.
func BenchmarkJournalXLSX(b *testing.B) {
	r := benchYear
	r.Name, r.Format = reports.Journal, reports.XLSX
	benchExport(b, r)
}

// BenchmarkCollectionsByDayCSV sums a million payments by day and code.
func BenchmarkCollectionsByDayCSV(b *testing.B) {
	r := benchYear
	r.Name, r.Format, r.Group = reports.Collections, reports.CSV, reports.ByDay
	benchExport(b, r)
}
