// Package backup writes and reads fiscald's backup archives and is the one
// caller of PostgreSQL's client tools (pg_dump, pg_restore): a backup is a
// tar file holding a consistent copy of the database (SQLite: the store's
// VACUUM INTO snapshot; PostgreSQL: pg_dump's custom format, one
// repeatable-read snapshot), then the files of FISCAL_DATA_DIR the
// database refers to or needs (attachments and issued PDFs, the signing
// vault's master key, the demo CA), then a manifest with every entry's
// SHA-256. The database is copied first: every blob a committed row names
// was written before its commit, so it is on disk when the files are
// copied afterwards (a blob of a later transaction may come along: harmless).
package backup

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Format is the archive format's version.
const Format = 1

// DataDirs are the folders of FISCAL_DATA_DIR a backup carries: attachment
// contents and issued PDFs (blob store), the master key of the staff's
// signing keys, the demo CA and its signing certificate.
var DataDirs = []string{"attachments", "keys", "pki"}

const (
	manifestName = "manifest.json"
	sqliteName   = "database.sqlite"
	pgdumpName   = "database.pgdump"
)

// Manifest describes an archive.
type Manifest struct {
	Format    int       `json:"format"`
	Engine    string    `json:"engine"` // "sqlite" or "postgres"
	CreatedAt time.Time `json:"created_at"`
	// Schema is the PostgreSQL schema dumped (the DSN's search_path); ""
	// for the whole database.
	Schema   string `json:"schema,omitempty"`
	Database File   `json:"database"`
	Files    []File `json:"files"`
}

// File is one entry: its name in the archive, size and SHA-256.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Mode   int64  `json:"mode"`
}

// Source is what a backup copies.
type Source struct {
	Engine string
	DSN    string
	// SnapshotSQLite writes a consistent copy of the SQLite database into
	// path (store.DB.SnapshotInto).
	SnapshotSQLite func(ctx context.Context, path string) error
	DataDir        string
	Now            time.Time
}

// Write writes the backup of src into out (through a temporary file in the
// same folder, synced and renamed, so out is complete or absent).
func Write(ctx context.Context, out string, src Source) (*Manifest, error) {
	m := &Manifest{Format: Format, Engine: src.Engine, CreatedAt: src.Now.UTC()}
	stage, err := os.MkdirTemp(filepath.Dir(out), ".fiscald-backup-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)
	dbFile := filepath.Join(stage, "db")
	switch src.Engine {
	case "sqlite":
		m.Database.Name = sqliteName
		err = src.SnapshotSQLite(ctx, dbFile)
	case "postgres":
		m.Database.Name = pgdumpName
		var conn PGConn
		if conn, err = ParseDSN(src.DSN); err == nil {
			m.Schema = conn.Schema
			err = conn.Dump(ctx, dbFile)
		}
	default:
		err = fmt.Errorf("backup: unknown engine %q", src.Engine)
	}
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".fiscald-backup-*.tar")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	tw := tar.NewWriter(tmp)
	if m.Database, err = addFile(tw, dbFile, m.Database.Name); err != nil {
		tmp.Close()
		return nil, err
	}
	for _, d := range DataDirs {
		root := filepath.Join(src.DataDir, d)
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && p == root {
					return nil // nothing of that kind yet
				}
				return err
			}
			// Temporary files of a write in progress (".upload-*") are not data.
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
				return nil
			}
			rel, err := filepath.Rel(src.DataDir, p)
			if err != nil {
				return err
			}
			f, err := addFile(tw, p, path.Join("data", filepath.ToSlash(rel)))
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile
			}
			m.Files = append(m.Files, f)
			return err
		})
		if err != nil {
			tmp.Close()
			return nil, fmt.Errorf("backup: %s: %w", root, err)
		}
	}
	mj, _ := json.MarshalIndent(m, "", "  ")
	if err := tw.WriteHeader(&tar.Header{Name: manifestName, Mode: 0o600, Size: int64(len(mj)), ModTime: m.CreatedAt}); err == nil {
		_, err = tw.Write(mj)
	}
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), out)
	}
	if err != nil {
		return nil, fmt.Errorf("backup: write %s: %w", out, err)
	}
	return m, nil
}

// addFile copies the file at p into the archive as name.
func addFile(tw *tar.Writer, p, name string) (File, error) {
	f, err := os.Open(p)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return File{}, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: int64(st.Mode().Perm()), Size: st.Size(), ModTime: st.ModTime()}); err != nil {
		return File{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, h), io.LimitReader(f, st.Size()))
	if err == nil && n != st.Size() {
		err = fmt.Errorf("%s changed while it was copied", p)
	}
	return File{Name: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Mode: int64(st.Mode().Perm())}, err
}

// Archive is an archive unpacked into a staging folder and checked against
// its manifest.
type Archive struct {
	Manifest
	dir string
}

// DatabasePath is the unpacked database copy.
func (a *Archive) DatabasePath() string {
	return filepath.Join(a.dir, filepath.FromSlash(a.Database.Name))
}

// Close removes the staging folder.
func (a *Archive) Close() error { return os.RemoveAll(a.dir) }

// Open unpacks the archive at in into a staging folder under stageIn and
// checks every entry's size and SHA-256 against the manifest.
func Open(in, stageIn string) (*Archive, error) {
	f, err := os.Open(in)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dir, err := os.MkdirTemp(stageIn, ".fiscald-restore-*")
	if err != nil {
		return nil, err
	}
	a := &Archive{dir: dir}
	got := map[string]File{}
	var manifest []byte
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("restore: %s is not a fiscald backup (tar): %w", in, err)
		}
		if h.Name == manifestName {
			if manifest, err = io.ReadAll(io.LimitReader(tr, 64<<20)); err != nil {
				a.Close()
				return nil, err
			}
			continue
		}
		clean := path.Clean(h.Name)
		if h.Typeflag != tar.TypeReg || path.IsAbs(clean) || strings.HasPrefix(clean, "../") || clean == ".." {
			a.Close()
			return nil, fmt.Errorf("restore: unexpected entry %q in %s", h.Name, in)
		}
		dst := filepath.Join(dir, filepath.FromSlash(clean))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			a.Close()
			return nil, err
		}
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			a.Close()
			return nil, err
		}
		hash := sha256.New()
		n, err := io.Copy(io.MultiWriter(out, hash), tr)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			a.Close()
			return nil, err
		}
		got[clean] = File{Name: clean, Size: n, SHA256: hex.EncodeToString(hash.Sum(nil))}
	}
	if manifest == nil {
		a.Close()
		return nil, fmt.Errorf("restore: %s has no %s: not a fiscald backup, or cut short", in, manifestName)
	}
	if err := json.Unmarshal(manifest, &a.Manifest); err != nil {
		a.Close()
		return nil, fmt.Errorf("restore: %s: %w", manifestName, err)
	}
	if a.Format != Format {
		a.Close()
		return nil, fmt.Errorf("restore: backup format %d, this fiscald reads %d", a.Format, Format)
	}
	for _, want := range append([]File{a.Database}, a.Files...) {
		g, ok := got[want.Name]
		if !ok || g.Size != want.Size || g.SHA256 != want.SHA256 {
			a.Close()
			return nil, fmt.Errorf("restore: %s in %s is missing or damaged (size or SHA-256 differs from the manifest)", want.Name, in)
		}
	}
	return a, nil
}

// InstallFiles copies the archive's data files into dataDir. A file already
// there with other contents is a conflict: nothing is overwritten (the
// attachments are named by their SHA-256, so the same name with other
// contents means another installation's key or CA); conflicts are listed in
// the error. Identical files are left as they are.
func (a *Archive) InstallFiles(dataDir string) (installed int, err error) {
	var conflicts []string
	for _, f := range a.Files {
		rel := strings.TrimPrefix(f.Name, "data/")
		dst := filepath.Join(dataDir, filepath.FromSlash(rel))
		if sum, err := fileSHA256(dst); err == nil {
			if sum != f.SHA256 {
				conflicts = append(conflicts, dst)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return installed, err
		}
		if err := copyFile(filepath.Join(a.dir, filepath.FromSlash(f.Name)), dst, os.FileMode(f.Mode).Perm()); err != nil {
			return installed, err
		}
		installed++
	}
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		return installed, fmt.Errorf("restore: %d file(s) in FISCAL_DATA_DIR differ from the backup and were left as they are: %s", len(conflicts), strings.Join(conflicts, ", "))
	}
	return installed, nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// CopyFile copies src to dst through a synced temporary file and a rename.
func CopyFile(src, dst string, mode os.FileMode) error { return copyFile(src, dst, mode) }

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".restore-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, in)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	return err
}

// PGConn is a PostgreSQL DSN as the client tools take it: libpq's URI
// without the pgx-only parameters, the password in PGPASSWORD (never on a
// command line), and the schema of search_path.
type PGConn struct {
	URI      string
	Password string
	Schema   string
}

// ParseDSN splits a postgres:// DSN of FISCAL_DB for pg_dump and pg_restore.
func ParseDSN(dsn string) (PGConn, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return PGConn{}, fmt.Errorf("backup: %q is not a postgres:// URL", dsn)
	}
	var c PGConn
	if u.User != nil {
		c.Password, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	c.Schema = q.Get("search_path")
	for k := range q {
		// pgx's own parameters and run-time settings libpq does not take.
		if k == "search_path" || strings.HasPrefix(k, "pool_") || strings.HasPrefix(k, "statement_cache") ||
			strings.HasPrefix(k, "description_cache") || k == "default_query_exec_mode" {
			q.Del(k)
		}
	}
	if strings.Contains(c.Schema, ",") {
		return PGConn{}, fmt.Errorf("backup: search_path %q names several schemas: name the one fiscald uses", c.Schema)
	}
	u.RawQuery = q.Encode()
	c.URI = u.String()
	return c, nil
}

func (c PGConn) env() []string {
	env := os.Environ()
	if c.Password != "" {
		env = append(env, "PGPASSWORD="+c.Password)
	}
	return env
}

// Dump runs pg_dump in its custom format into out: one consistent snapshot
// of the schema (or the whole database) while the server keeps writing.
func (c PGConn) Dump(ctx context.Context, out string) error {
	args := []string{"--format=custom", "--file=" + out, "--dbname=" + c.URI}
	if c.Schema != "" {
		args = append(args, "--schema="+c.Schema)
	}
	return run(ctx, c.env(), "pg_dump", args...)
}

// Restore runs pg_restore of dump into the database, in one transaction,
// stopping at the first error; ownership and grants are the target's.
func (c PGConn) Restore(ctx context.Context, dump string) error {
	return run(ctx, c.env(), "pg_restore", "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", "--dbname="+c.URI, dump)
}

func run(ctx context.Context, env []string, name string, args ...string) error {
	if _, err := exec.LookPath(name); err != nil {
		return fmt.Errorf("%s is not installed (Debian: apt-get install postgresql-client): %w", name, err)
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}
