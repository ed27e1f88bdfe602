package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fiscald/fiscal"
	"fiscald/internal/store"
	"fiscald/internal/store/storetest"
)

// TestEnrollCodesCommand: `fiscald enroll-codes --out F` writes one code
// for every individual without an account (companies and account holders
// left out), with progress; a printed code enrolls its taxpayer; a second
// run replaces the codes (the first file's no longer work) and leaves out
// the taxpayer who enrolled.
func TestEnrollCodesCommand(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, engine)
			t.Setenv("FISCAL_DB", dsn)
			t.Setenv("FISCAL_DATA_DIR", t.TempDir())
			cli := func(args ...string) (string, string) {
				t.Helper()
				var out, errs bytes.Buffer
				if code := run(ctx, args, strings.NewReader(""), &out, &errs); code != 0 {
					t.Fatalf("%v: exit %d\n%s%s", args, code, out.String(), errs.String())
				}
				return out.String(), errs.String()
			}
			cli("migrate")
			cli("seed", "--synthetic", "40")
			db, err := store.Open(ctx, dsn, fiscal.SystemClock{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var want int
			count := `SELECT COUNT(*) FROM taxpayers t WHERE t.kind = 'individual' AND NOT EXISTS (SELECT 1 FROM users u WHERE u.taxpayer_id = t.id)`
			if err := db.SQL().Get(&want, count); err != nil || want < 10 {
				t.Fatalf("%d individuals without an account: %v", want, err)
			}
			read := func(path string) [][]string {
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				rows, err := csv.NewReader(f).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				return rows
			}
			first := filepath.Join(t.TempDir(), "codes.csv")
			_, progress := cli("enroll-codes", "--out", first, "--batch", "7")
			rows := read(first)
			if strings.Join(rows[0], ",") != "taxpayer_id,name,address,code,expires_on" || len(rows)-1 != want || !strings.Contains(progress, "codes issued") {
				t.Fatalf("%d rows for %d taxpayers; progress %q; header %v", len(rows)-1, want, progress, rows[0])
			}
			if _, err := os.Stat(first + ".partial"); !os.IsNotExist(err) {
				t.Fatalf("the partial file is left: %v", err)
			}
			// The first printed code enrolls its taxpayer.
			var tp fiscal.Taxpayer
			if err := db.SQL().Get(&tp, db.SQL().Rebind(`SELECT id, cnp FROM taxpayers WHERE id = ?`), rows[1][0]); err != nil {
				t.Fatal(err)
			}
			m, err := db.MunicipalityBySlug(ctx, "timisoara")
			if err != nil {
				t.Fatal(err)
			}
			e := &fiscal.Enrollment{Code: rows[1][3], CNP: *tp.CNP, Username: "tiparit", Password: "o parolă lungă", Email: "t@example.ro"}
			if _, _, err := db.Enroll(ctx, m.ID, e, "192.0.2.1"); err != nil {
				t.Fatalf("enroll with a printed code: %v", err)
			}
			second := filepath.Join(t.TempDir(), "codes2.csv")
			cli("enroll-codes", "--out", second)
			if rows2 := read(second); len(rows2)-1 != want-1 || rows2[1][0] == rows[1][0] {
				t.Fatalf("second run: %d rows, want %d", len(rows2)-1, want-1)
			}
			var tp2 fiscal.Taxpayer
			if err := db.SQL().Get(&tp2, db.SQL().Rebind(`SELECT id, cnp FROM taxpayers WHERE id = ?`), rows[2][0]); err != nil {
				t.Fatal(err)
			}
			e = &fiscal.Enrollment{Code: rows[2][3], CNP: *tp2.CNP, Username: "vechi", Password: "o parolă lungă", Email: "v@example.ro"}
			if _, _, err := db.Enroll(ctx, m.ID, e, "192.0.2.2"); fiscal.ErrorCode(err) != fiscal.EINVALID {
				t.Fatalf("a code of the replaced file: %v", err)
			}
		})
	}
}
