package blob

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"fiscald/fiscal"
)

// TestStoreUnavailable: a folder that cannot be written (a path under a
// regular file) and a full disk are 503 with a clear message; other errors
// stay internal.
func TestStoreUnavailable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l := &Local{Dir: filepath.Join(file, "sub")}
	_, _, err := l.Put(context.Background(), strings.NewReader("x"), 10)
	if fiscal.ErrorCode(err) != fiscal.EUNAVAILABLE || !strings.Contains(err.Error(), "document store") {
		t.Fatalf("ENOTDIR: %v (%s)", err, fiscal.ErrorCode(err))
	}
	full := unavailable(&fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, "blob: write")
	if fiscal.ErrorCode(full) != fiscal.EUNAVAILABLE || !strings.Contains(full.Error(), "no space") {
		t.Fatalf("ENOSPC: %v", full)
	}
	if other := unavailable(os.ErrInvalid, "blob: write"); fiscal.ErrorCode(other) != fiscal.EINTERNAL {
		t.Fatalf("other: %v", other)
	}
}
