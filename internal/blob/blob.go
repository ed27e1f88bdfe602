// Package blob keeps attachment contents in a local folder, one file per
// SHA-256 (dir/ab/abcdef…), written atomically: a temporary file in the same
// folder, synced, then renamed. Storing the same content twice keeps one copy.
// It implements fiscal.BlobStore.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"fiscald/fiscal"
)

// unavailable maps the errors of a store that cannot take files now (disk
// full, quota, read-only or unwritable folder, a file where the folder should
// be, I/O error) to EUNAVAILABLE (503) with a clear message; anything else
// stays an internal error. Nothing is half-written: a failed write leaves
// only a temporary file, removed.
func unavailable(err error, what string) error {
	for _, e := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EACCES, syscall.EPERM, syscall.ENOTDIR, syscall.EIO} {
		if errors.Is(err, e) {
			return &fiscal.Error{Code: fiscal.EUNAVAILABLE, Message: "the document store cannot take files at the moment (" + e.Error() + "); nothing was saved, try again later", Err: fmt.Errorf("%s: %w", what, err)}
		}
	}
	return fiscal.Internal(err, what)
}

// Local is a folder of blobs.
type Local struct {
	Dir string
}

// NewLocal creates the folder if needed.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return &Local{Dir: dir}, nil
}

func (l *Local) path(sha string) string { return filepath.Join(l.Dir, sha[:2], sha) }

func validSHA(sha string) bool {
	if len(sha) != 64 {
		return false
	}
	_, err := hex.DecodeString(sha)
	return err == nil
}

// Put stores r's content (at most max bytes, else ETOOLARGE).
func (l *Local) Put(ctx context.Context, r io.Reader, max int64) (string, int64, error) {
	tmp, err := os.CreateTemp(l.Dir, ".upload-*")
	if err != nil {
		return "", 0, unavailable(err, "blob: temporary file")
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, max+1))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, unavailable(err, "blob: write")
	}
	if n > max {
		return "", 0, fiscal.Errorf(fiscal.ETOOLARGE, "the file is over %d bytes", max)
	}
	sha := hex.EncodeToString(h.Sum(nil))
	dst := l.path(sha)
	if _, err := os.Stat(dst); err == nil {
		return sha, n, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return "", 0, unavailable(err, "blob: folder")
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", 0, unavailable(err, "blob: rename")
	}
	return sha, n, nil
}

// Open returns a stored blob.
func (l *Local) Open(ctx context.Context, sha string) (io.ReadCloser, error) {
	if !validSHA(sha) {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "no such document")
	}
	f, err := os.Open(l.path(sha))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fiscal.Errorf(fiscal.ENOTFOUND, "no such document")
	}
	if err != nil {
		return nil, fiscal.Internal(err, "blob: open")
	}
	return f, nil
}

// Has reports whether the blob is stored.
func (l *Local) Has(sha string) bool {
	if !validSHA(sha) {
		return false
	}
	_, err := os.Stat(l.path(sha))
	return err == nil
}
