package backup

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseDSN(t *testing.T) {
	c, err := ParseDSN("postgres://fiscal:s3cret@db.example:5432/fiscald?sslmode=require&search_path=t_1&pool_max_conns=20")
	if err != nil {
		t.Fatal(err)
	}
	if c.Password != "s3cret" || c.Schema != "t_1" || strings.Contains(c.URI, "s3cret") || strings.Contains(c.URI, "search_path") ||
		strings.Contains(c.URI, "pool_") || !strings.Contains(c.URI, "sslmode=require") || !strings.HasPrefix(c.URI, "postgres://fiscal@db.example:5432/fiscald") {
		t.Fatalf("%+v", c)
	}
	for _, bad := range []string{"sqlite:x.db", "postgres://h/db?search_path=a,b"} {
		if _, err := ParseDSN(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A backup of SQLite (a stand-in snapshot) and a data folder round-trips;
// a damaged or cut archive is refused before anything is installed; an
// existing different file is never overwritten.
func TestArchiveRoundTripAndDamage(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	for p, body := range map[string]string{"attachments/ab/abcd": "pdf bytes", "keys/master.key": "0123456789abcdef", "pki/demo-ca.crt": "cert",
		"attachments/.upload-123": "half written", "fiscald.db": "not copied as a file"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(data, p)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, p), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "b.tar")
	m, err := Write(context.Background(), out, Source{Engine: "sqlite", DataDir: data, Now: time.Unix(1800000000, 0),
		SnapshotSQLite: func(_ context.Context, p string) error {
			return os.WriteFile(p, []byte("SQLite format 3\x00…"), 0o600)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 3 {
		t.Fatalf("files %+v: want the attachment, the master key and the CA (no temporary file, no database file)", m.Files)
	}
	a, err := Open(out, dir)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(a.DatabasePath()); !strings.HasPrefix(string(b), "SQLite format 3") {
		t.Fatalf("database copy: %q", b)
	}
	target := filepath.Join(dir, "restored")
	if n, err := a.InstallFiles(target); err != nil || n != 3 {
		t.Fatalf("install: %d %v", n, err)
	}
	if st, err := os.Stat(filepath.Join(target, "keys/master.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("master key: %v %v", st, err)
	}
	// Again: identical files are fine; a different one is a conflict.
	if n, err := a.InstallFiles(target); err != nil || n != 0 {
		t.Fatalf("install again: %d %v", n, err)
	}
	os.WriteFile(filepath.Join(target, "keys/master.key"), []byte("another installation"), 0o600)
	if _, err := a.InstallFiles(target); err == nil || !strings.Contains(err.Error(), "master.key") {
		t.Fatalf("a different master key: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(target, "keys/master.key")); string(b) != "another installation" {
		t.Fatal("the existing key was overwritten")
	}
	a.Close()

	// Damage: a flipped byte in the attachment, and a cut archive.
	raw, _ := os.ReadFile(out)
	i := strings.Index(string(raw), "pdf bytes")
	flipped := append([]byte(nil), raw...)
	flipped[i] ^= 1
	os.WriteFile(filepath.Join(dir, "flipped.tar"), flipped, 0o600)
	if _, err := Open(filepath.Join(dir, "flipped.tar"), dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("flipped byte: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "cut.tar"), raw[:len(raw)/2], 0o600)
	if _, err := Open(filepath.Join(dir, "cut.tar"), dir); err == nil {
		t.Fatal("a cut archive was accepted")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".fiscald-*")); len(left) != 0 {
		t.Fatalf("staging folders left behind: %v", left)
	}
}
