package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"fiscald/fiscal"
	"fiscald/internal/backup"
	"fiscald/internal/store"
)

// cmdBackup writes a backup archive while the server runs: the database
// (SQLite VACUUM INTO, PostgreSQL pg_dump -Fc), then the attachments, the
// signing vault's master key and the demo CA of FISCAL_DATA_DIR.
func cmdBackup(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	out := fs.String("out", "", "the archive to write (a tar file)")
	if err := parse(fs, args, stdout, "fiscald backup --out FILE: a consistent copy of the database and of FISCAL_DATA_DIR's attachments, keys and demo CA, while the server runs"); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("backup: --out FILE is required")
	}
	db, err := openDB(ctx, cfg, false, stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := backup.Write(ctx, *out, backup.Source{Engine: db.Dialect(), DSN: cfg.DB, SnapshotSQLite: db.SnapshotInto,
		DataDir: cfg.DataDir, Now: db.Clock().Now()})
	if err != nil {
		return err
	}
	var size int64
	for _, f := range m.Files {
		size += f.Size
	}
	fmt.Fprintf(stdout, "backup written to %s: %s database %s (%d bytes), %d file(s) of %s (%d bytes: %s)\n",
		*out, m.Engine, m.Database.Name, m.Database.Size, len(m.Files), cfg.DataDir, size, strings.Join(backup.DataDirs, ", "))
	if cfg.SignCert != "" {
		fmt.Fprintf(stdout, "NOT in the backup: the document-signing certificate and key FISCAL_SIGN_CERT=%s, FISCAL_SIGN_KEY=%s: keep copies of them with the backup, or on their token\n", cfg.SignCert, cfg.SignKey)
	}
	fmt.Fprintln(stdout, "NOT in the backup: the configuration (FISCAL_* variables, STRIPE_* secrets): keep it with the deployment")
	return nil
}

// cmdRestore restores an archive into an empty database and FISCAL_DATA_DIR.
func cmdRestore(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	in := fs.String("in", "", "the archive written by fiscald backup")
	if err := parse(fs, args, stdout, "fiscald restore --in FILE: restore a backup into an empty database (FISCAL_DB) and FISCAL_DATA_DIR"); err != nil {
		return err
	}
	if *in == "" {
		return errors.New("restore: --in FILE is required")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return err
	}
	a, err := backup.Open(*in, cfg.DataDir)
	if err != nil {
		return err
	}
	defer a.Close()
	engine := "postgres"
	if strings.HasPrefix(cfg.DB, "sqlite:") {
		engine = "sqlite"
	}
	if engine != a.Engine {
		return fmt.Errorf("restore: the backup is of a %s database and FISCAL_DB is %s: restore into the same engine", a.Engine, engine)
	}
	if err := restoreDatabase(ctx, cfg, a); err != nil {
		return err
	}
	n, err := a.InstallFiles(cfg.DataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored the %s database of %s and %d file(s) into %s\n", a.Engine, a.CreatedAt.Format("2006-01-02 15:04:05 UTC"), n, cfg.DataDir)
	fmt.Fprintln(stdout, "next: `fiscald migrate` if this fiscald is newer than the backup, then `fiscald audit verify`")
	return nil
}

// restoreDatabase refuses a database that is not empty, then loads the copy.
func restoreDatabase(ctx context.Context, cfg config, a *backup.Archive) error {
	path := strings.TrimPrefix(cfg.DB, "sqlite:")
	if a.Engine == "sqlite" {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
				return err
			}
			return backup.CopyFile(a.DatabasePath(), path, 0o640)
		}
	}
	db, err := store.Open(ctx, cfg.DB, fiscal.SystemClock{})
	if err != nil {
		return err
	}
	n, err := db.Tables(ctx)
	if err == nil && n > 0 {
		err = fmt.Errorf("restore: the database %s is not empty (%d tables): restore only into an empty database (a new SQLite file, or a new PostgreSQL database or schema)", maskDSN(cfg.DB), n)
	}
	if err == nil && a.Engine == "postgres" {
		conn, perr := backup.ParseDSN(cfg.DB)
		switch {
		case perr != nil:
			err = perr
		case conn.Schema != a.Schema:
			err = fmt.Errorf("restore: the backup holds the schema %q and FISCAL_DB's search_path is %q: set search_path=%s in FISCAL_DB (or none for a whole-database backup)", a.Schema, conn.Schema, a.Schema)
		case a.Schema != "":
			err = db.DropEmptySchema(ctx, a.Schema) // pg_restore creates it
		}
		if err == nil {
			db.Close()
			return conn.Restore(ctx, a.DatabasePath())
		}
	}
	db.Close()
	if err != nil {
		return err
	}
	// An empty SQLite file: replace it.
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	return backup.CopyFile(a.DatabasePath(), path, 0o640)
}

// maskDSN hides a password in a DSN.
func maskDSN(dsn string) string {
	c := config{DB: dsn}
	var b strings.Builder
	c.print(&b)
	for _, line := range strings.Split(b.String(), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "FISCAL_DB" {
			return f[1]
		}
	}
	return dsn
}
