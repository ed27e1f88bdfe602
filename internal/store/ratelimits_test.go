package store_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// Two instances on one database count one key in one budget: concurrent
// attempts through both get distinct counts 1…N (the upsert-increment is
// atomic), a new window starts afresh, and failures back off for both.
func TestRateLimitsShared(t *testing.T) {
	ctx := context.Background()
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			clock := fiscal.NewTestClock(storetest.Epoch)
			a, b := storetest.OpenPair(t, engine, clock)
			const each = 40
			var mu sync.Mutex
			var seen []int
			var wg sync.WaitGroup
			for i := 0; i < 2*each; i++ {
				db := a
				if i%2 == 1 {
					db = b
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, err := db.CountAttempt(ctx, "login-ip:192.0.2.1", time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					seen = append(seen, n)
					mu.Unlock()
				}()
			}
			wg.Wait()
			sort.Ints(seen)
			for i, n := range seen {
				if n != i+1 {
					t.Fatalf("counts %v: want 1…%d, each once", seen, 2*each)
				}
			}
			if n, err := b.Attempts(ctx, "login-ip:192.0.2.1", time.Minute); err != nil || n != 2*each {
				t.Fatalf("attempts seen by the other instance: %d, %v; want %d", n, err, 2*each)
			}
			if n, err := a.Attempts(ctx, "login-ip:192.0.2.2", time.Minute); err != nil || n != 0 {
				t.Fatalf("another address: %d, %v", n, err)
			}
			// The next window starts afresh.
			clock.Advance(time.Minute)
			if n, err := a.CountAttempt(ctx, "login-ip:192.0.2.1", time.Minute); err != nil || n != 1 {
				t.Fatalf("next window: %d, %v; want 1", n, err)
			}

			// Failures: 5 free, then 2 s doubling, counted by either instance.
			bo := fiscal.Backoff{Free: 5, Base: 2 * time.Second, Ceiling: 15 * time.Minute, Memory: 24 * time.Hour}
			key := "login-fail:t:ana|192.0.2.1"
			for i := 1; i <= 7; i++ {
				db := a
				if i%2 == 0 {
					db = b
				}
				n, wait, err := db.CountFailure(ctx, key, bo)
				if err != nil || n != i || wait != bo.Wait(i) {
					t.Fatalf("failure %d: n=%d wait=%v err=%v; want wait %v", i, n, wait, err, bo.Wait(i))
				}
			}
			if wait, failed, err := a.FailureWait(ctx, key); err != nil || !failed || wait != 4*time.Second {
				t.Fatalf("wait after 7 failures: %v %v %v; want 4s", wait, failed, err)
			}
			clock.Advance(5 * time.Second)
			if wait, failed, err := b.FailureWait(ctx, key); err != nil || !failed || wait != 0 {
				t.Fatalf("wait after it passed: %v %v %v", wait, failed, err)
			}
			// Forgotten after the memory: the count starts again.
			clock.Advance(25 * time.Hour)
			if n, _, err := a.CountFailure(ctx, key, bo); err != nil || n != 1 {
				t.Fatalf("after the memory: n=%d %v; want 1", n, err)
			}
			if err := b.ForgetFailures(ctx, key); err != nil {
				t.Fatal(err)
			}
			if _, failed, err := a.FailureWait(ctx, key); err != nil || failed {
				t.Fatalf("after a success: failed=%v %v", failed, err)
			}
			// A key too long for an index entry (a pasted username) counts
			// under its hash.
			long := "login-fail:t:" + strings.Repeat("x", 1<<20) + "|192.0.2.9"
			for i := 1; i <= 2; i++ {
				if n, _, err := b.CountFailure(ctx, long, bo); err != nil || n != i {
					t.Fatalf("long key, failure %d: n=%d %v", i, n, err)
				}
			}
			if n, err := a.CountAttempt(ctx, long, time.Minute); err != nil || n != 1 {
				t.Fatalf("long key attempt: %d %v", n, err)
			}
			if err := a.ForgetFailures(ctx, long); err != nil {
				t.Fatal(err)
			}
			clock.Advance(25 * time.Hour)
			if _, _, err := a.CountFailure(ctx, key, bo); err != nil {
				t.Fatal(err)
			}
			// Old windows are pruned (the first count after the prune interval).
			var rows int
			if err := a.SQL().Get(&rows, `SELECT COUNT(*) FROM rate_counters`); err != nil || rows != 0 {
				t.Fatalf("rows after 25 h: %d, %v; want 0 (pruned)", rows, err)
			}
		})
	}
}

// BenchmarkRateCount is the cost of one shared count (one request under a
// shared limit) on each engine, from parallel clients over 1,000 addresses.
func BenchmarkRateCount(b *testing.B) {
	ctx := context.Background()
	for _, engine := range storetest.Engines() {
		b.Run(engine, func(b *testing.B) {
			db := storetest.MustOpen(b, engine, fiscal.SystemClock{})
			b.SetParallelism(4)
			var mu sync.Mutex
			next := 0
			b.RunParallel(func(pb *testing.PB) {
				mu.Lock()
				next++
				me := next
				mu.Unlock()
				i := 0
				for pb.Next() {
					i++
					if _, err := db.CountAttempt(ctx, fmt.Sprintf("quote:10.%d.%d.1", me, i%1000), time.Minute); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

var _ fiscal.RateLimits = (*store.DB)(nil)
