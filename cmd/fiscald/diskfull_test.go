package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size at a new folder and unmounts it at the
// end of the test. Mounting needs root (CAP_SYS_ADMIN): elsewhere the test
// is skipped, saying so.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("the disk-full test needs a tmpfs it can fill, and mounting one needs root: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a ballast file until the file system is full.
func fill(t *testing.T, dir string) (string, int64) {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var n int64
	for _, size := range []int{1 << 20, 4096, 512} {
		buf := make([]byte, size)
		for {
			k, err := f.Write(buf)
			n += int64(k)
			if err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("ballast: %v", err)
				}
				break
			}
		}
	}
	return path, n
}

// TestDatabaseDiskFull runs the real server with its SQLite database on a
// small tmpfs, fills the file system and keeps taking cash payments: the
// writes that cannot be saved answer 503 problem+json and leave nothing
// behind (every payment row in the database is one that was answered 201),
// reads keep answering 200 (except staff reads of a taxpayer's record, which
// must write the access log and so answer 503 too), the server keeps running, and once the ballast
// is deleted the refused request, sent again with its Idempotency-Key,
// applies once, without a restart. The shared checks (ledger, gapless
// receipts, the audit chain) close it.
func TestDatabaseDiskFull(t *testing.T) {
	needFaults(t)
	mnt := mountTmpfs(t, "24m")
	bin := buildBinary(t)
	f := newFaultEnvDSN(t, bin, "sqlite:"+filepath.Join(mnt, "fiscald.db"), 40, 0)
	f.env = append(f.env, "FISCAL_SLA_INTERVAL=1h")
	f.start()
	c := &client{base: f.base, http: &http.Client{Timeout: 30 * time.Second}}
	a := newAcked()
	cashier := c.login(t, "ioana", "ghiseu-demo-2026")
	admin := c.login(t, "admin", "cetate-demo-2026")
	pay := func(i int) (reply, error) {
		return c.do("POST", "/api/v1/payments/cash", cashier, map[string]any{"taxpayer_id": f.tps[i%len(f.tps)], "amount": fmt.Sprintf("%d.00", 10+i%50)},
			"Idempotency-Key", fmt.Sprintf("full-%d", i))
	}
	ack := func(r reply) {
		a.cash[num(r.body["id"])] = fmt.Sprint(r.body["receipt_number"])
	}
	for i := 0; i < 5; i++ {
		r, err := pay(i)
		if err != nil || r.status != 201 {
			t.Fatalf("payment %d before the disk is full: %v %d %s", i, err, r.status, r.raw)
		}
		ack(r)
	}
	ballast, size := fill(t, mnt)
	t.Logf("ballast of %d bytes fills the tmpfs", size)

	// Pay until the database cannot grow: its WAL takes every commit's
	// pages, and the checkpoint cannot move them into a file that would grow.
	failed, accepted, refused := -1, 0, 0
	var detail string
	for i := 5; i < 2000 && refused < 20; i++ {
		r, err := pay(i)
		if err != nil {
			t.Fatalf("payment %d on a full disk: %v (the server died?)\n%s", i, err, f.srv.out.String())
		}
		switch {
		case r.status == 201:
			accepted++
			ack(r)
		case r.status == 503 && strings.HasPrefix(r.ctype, "application/problem+json"):
			refused++
			detail = fmt.Sprint(r.body["detail"])
			if failed < 0 {
				failed = i
			}
		default:
			t.Fatalf("payment %d on a full disk: %d %s\nserver log:\n%s", i, r.status, r.raw, f.srv.out.String())
		}
	}
	if failed < 0 {
		t.Fatalf("%d payments were saved on a full disk and none refused: the test did not fill the database's disk", accepted)
	}
	if !strings.Contains(detail, "no space") {
		t.Errorf("the refusal does not say why: %q", detail)
	}
	// Reads go on.
	for id := range a.cash {
		if r, err := c.do("GET", fmt.Sprintf("/api/v1/payments/%d", id), cashier, nil); err != nil || r.status != 200 {
			t.Errorf("reading payment %d on a full disk: %v %d %s", id, err, r.status, r.raw)
		}
		break
	}
	if r, err := c.do("GET", "/api/v1/cases?limit=5", admin, nil); err != nil || r.status != 200 {
		t.Errorf("the case list on a full disk: %v %d %s", err, r.status, r.raw)
	}
	// Staff reading a taxpayer's record must leave an entry in the access
	// log; when it cannot be written the read is refused (fails closed).
	if r, err := c.do("GET", fmt.Sprintf("/api/v1/taxpayers/%d/statement", f.tps[0]), admin, nil); err != nil || r.status != 503 {
		t.Errorf("a staff read of a statement on a full disk: %v %d %s", err, r.status, r.raw)
	}
	// Nothing half-written: every payment in the database was answered 201.
	db := f.open()
	var rows int
	if err := db.SQL().Get(&rows, `SELECT COUNT(*) FROM payments`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if rows != len(a.cash) {
		t.Errorf("%d payments in the database, %d answered 201: a refused request left a payment behind", rows, len(a.cash))
	}

	// Free the space: the refused request applies once, without a restart.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	r, err := pay(failed)
	if err != nil || r.status != 201 {
		t.Fatalf("the refused payment after freeing space: %v %d %s", err, r.status, r.raw)
	}
	ack(r)
	again, err := pay(failed)
	if err != nil || again.status != 201 || num(again.body["id"]) != num(r.body["id"]) {
		t.Fatalf("its replay: %v %d %s", err, again.status, again.raw)
	}
	for i := 3000; i < 3010; i++ {
		r, err := pay(i)
		if err != nil || r.status != 201 {
			t.Fatalf("payment %d after freeing space: %v %d %s", i, err, r.status, r.raw)
		}
		ack(r)
	}
	select {
	case err := <-f.srv.done:
		t.Fatalf("the server stopped: %v", err)
	default:
	}
	fg := f.check(a)
	f.stop()
	t.Logf("full disk: %d payments saved after the ballast, then %d refused with 503 (%q); reads answered 200 (a staff read of a taxpayer's record 503: its access-log entry cannot be written); after freeing space the refused payment applied once and 10 more were taken, no restart",
		accepted, refused, detail)
	t.Logf("invariants hold: %s", fg)
}
