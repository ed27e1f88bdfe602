package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"

	"fiscald/internal/store/storetest"
)

// restoreTarget is an empty database for a restore: a new SQLite file, or
// on PostgreSQL a new database created here (dropped at the end) whose
// search_path names the source's schema, as the dump holds it.
func restoreTarget(t *testing.T, source string) string {
	t.Helper()
	if strings.HasPrefix(source, "sqlite:") {
		return "sqlite:" + filepath.Join(t.TempDir(), "restored.db")
	}
	u, err := url.Parse(source)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := "h_i21_restore_" + hex.EncodeToString(b)
	admin, err := sqlx.Open("pgx", os.Getenv(storetest.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a, err := sqlx.Open("pgx", os.Getenv(storetest.EnvPostgres))
		if err == nil {
			if _, err := a.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
				t.Logf("drop %s: %v", name, err)
			}
			a.Close()
		}
	})
	u.Path = "/" + name
	return u.String()
}

// restoredEnv restores the archive into a fresh database and data folder
// and returns an env serving it.
func restoredEnv(t *testing.T, src *faultEnv, archive string) *faultEnv {
	t.Helper()
	dsn := restoreTarget(t, src.dsn)
	addr := freeAddr(t)
	g := &faultEnv{t: t, bin: src.bin, dsn: dsn, base: "http://" + addr,
		env: append(os.Environ(), "FISCAL_ADDR="+addr, "FISCAL_DB="+dsn, "FISCAL_DATA_DIR="+t.TempDir(), "FISCAL_LOG_FORMAT=text")}
	out := g.run(nil, "restore", "--in", archive)
	if !strings.Contains(out, "restored the ") {
		t.Fatalf("restore: %s", out)
	}
	// Once more into the same database: refused, nothing changed.
	cmd := exec.Command(g.bin, "restore", "--in", archive)
	cmd.Env = g.env
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "is not empty") {
		t.Fatalf("restore into a database that is not empty: %v\n%s", err, out)
	}
	return g
}

// TestBackupRestore takes a backup with `fiscald backup` while the mixed
// traffic of the fault suite writes (cases filed, reviewed and signed, cash
// payments and refunds), restores it with `fiscald restore` into an empty
// database and data folder and checks the copy: everything acknowledged
// before the backup began is there, the fault suite's invariants hold
// (ledger, gapless numbers, no double effect), every case's signed steps
// verify and `fiscald audit verify` passes on it. A second backup after the
// traffic stopped, restored likewise, gives the same statements for a
// sample of taxpayers and the same signed PDFs. Both engines; on
// PostgreSQL into a database created for the test and dropped after.
func TestBackupRestore(t *testing.T) {
	needFaults(t)
	bin := buildBinary(t)
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			f := newFaultEnv(t, bin, engine, 60, 0)
			f.start()
			a := newAcked()
			stop := make(chan struct{})
			wg := f.traffic(stop, a, uint64(time.Now().UnixNano()))
			time.Sleep(2 * time.Second)
			// What was acknowledged before the backup began must be in it.
			before := newAcked()
			a.mu.Lock()
			for id, r := range a.cash {
				before.cash[id] = r
			}
			for id := range a.cases {
				before.cases[id] = true
			}
			for id := range a.signed {
				before.signed[id] = true
			}
			a.mu.Unlock()
			during := filepath.Join(t.TempDir(), "during.tar")
			started := time.Now()
			out := f.run(nil, "backup", "--out", during)
			took := time.Since(started)
			reqs := a.requests.Load()
			time.Sleep(time.Second)
			close(stop)
			wg.Wait()
			t.Logf("%s: backup during traffic in %v (%d requests answered meanwhile and before): %s", engine, took.Round(time.Millisecond), reqs, strings.TrimSpace(out))
			if a.failures.Load() != 0 {
				t.Errorf("%d requests failed while the backup ran", a.failures.Load())
			}

			g := restoredEnv(t, f, during)
			g.start()
			fg := g.check(before)
			t.Logf("%s: restored copy taken under load: %d cases, %d cash payments acknowledged before it; %s", engine, len(before.cases), len(before.cash), fg)
			g.stop()

			// At rest: the copy answers as the original. A few receipts are
			// issued first (signed PDFs in the blob store, under the demo CA).
			co := &client{base: f.base, http: httpClient()}
			to := co.login(t, "admin", "cetate-demo-2026")
			issued := 0
			for id := range a.cash {
				if issued == 3 {
					break
				}
				if r, err := co.do("GET", fmt.Sprintf("/api/v1/payments/%d/receipt.pdf", id), to, nil); err != nil || r.status != 200 {
					t.Fatalf("receipt of payment %d: %v %d %s", id, err, r.status, r.raw)
				}
				issued++
			}
			rest := filepath.Join(t.TempDir(), "rest.tar")
			f.run(nil, "backup", "--out", rest)
			h := restoredEnv(t, f, rest)
			h.start()
			ch := &client{base: h.base, http: httpClient()}
			th := ch.login(t, "admin", "cetate-demo-2026")
			for i, tp := range f.tps {
				if i%6 != 0 {
					continue
				}
				path := fmt.Sprintf("/api/v1/taxpayers/%d/statement", tp)
				ro, err1 := co.do("GET", path, to, nil)
				rh, err2 := ch.do("GET", path, th, nil)
				if err1 != nil || err2 != nil || ro.status != 200 || string(ro.raw) != string(rh.raw) {
					t.Errorf("statement of taxpayer %d: original %d %s\nrestored %d %s (%v %v)", tp, ro.status, ro.raw, rh.status, rh.raw, err1, err2)
				}
			}
			var docs []int64
			db := f.open()
			if err := db.SQL().Select(&docs, `SELECT id FROM documents ORDER BY id`); err != nil {
				t.Fatal(err)
			}
			db.Close()
			for _, id := range docs {
				path := fmt.Sprintf("/api/v1/documents/%d.pdf", id)
				ro, _ := co.do("GET", path, to, nil)
				rh, _ := ch.do("GET", path, th, nil)
				if ro.status != 200 || string(ro.raw) != string(rh.raw) {
					t.Errorf("document %d: original %d, restored %d, same bytes %v", id, ro.status, rh.status, string(ro.raw) == string(rh.raw))
				}
			}
			if out := h.run(nil, "audit", "verify"); !strings.Contains(out, "intact") {
				t.Errorf("audit chain of the copy at rest: %s", out)
			}
			t.Logf("%s: copy at rest: %d statements and %d documents identical", engine, (len(f.tps)+5)/6, len(docs))
			h.stop()
			f.stop()
		})
	}
}

func httpClient() *http.Client { return &http.Client{Timeout: 30 * time.Second} }
