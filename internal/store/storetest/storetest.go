// Package storetest opens real databases for tests: a fresh SQLite file
// always, and a fresh PostgreSQL schema when FISCAL_TEST_POSTGRES holds a
// postgres:// URL. Tests that take a database run once per engine. Each
// database gets a random signing master key, a temporary attachment folder
// and the documents pipeline with a test signing certificate (Signer).
package storetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"fiscald/documents"
	"fiscald/fiscal"
	"fiscald/internal/blob"
	"fiscald/internal/pdf"
	"fiscald/internal/signing"
	"fiscald/internal/store"
)

// PublicURL is the public base URL of test documents' verification links.
const PublicURL = "https://fiscal.test"

var (
	signerOnce sync.Once
	signer     *pdf.Signer
	signerErr  error
)

// Signer is a document-signing certificate for tests, valid 2000-2099 so
// test clocks may go anywhere, with the key usages pdfsig requires. One
// self-signed certificate serves every test of the process.
func Signer(tb testing.TB) *pdf.Signer {
	tb.Helper()
	signerOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			signerErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{Country: []string{"RO"}, Organization: []string{"Municipiul Timișoara"}, CommonName: "Municipiul Timișoara - semnare documente, test"},
			NotBefore:    time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
			NotAfter:     time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC),
			KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			signerErr = err
			return
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			signerErr = err
			return
		}
		signer, signerErr = pdf.NewSigner(cert, key)
	})
	if signerErr != nil {
		tb.Fatalf("storetest: signer: %v", signerErr)
	}
	return signer
}

// EnvPostgres names the variable holding the PostgreSQL URL for tests.
const EnvPostgres = "FISCAL_TEST_POSTGRES"

// Epoch is the instant test clocks start at: a Friday in the 2026 tax year.
var Epoch = time.Date(2026, 5, 8, 9, 0, 0, 0, time.UTC)

// Engines lists the engines tests run on: sqlite always, postgres when
// FISCAL_TEST_POSTGRES is set.
func Engines() []string {
	if os.Getenv(EnvPostgres) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// ForEachEngine runs fn as a subtest on each engine with a fresh, migrated
// database and a test clock at Epoch.
func ForEachEngine(t *testing.T, fn func(t *testing.T, db *store.DB, clock *fiscal.TestClock)) {
	t.Helper()
	for _, engine := range Engines() {
		t.Run(engine, func(t *testing.T) {
			clock := fiscal.NewTestClock(Epoch)
			fn(t, MustOpen(t, engine, clock), clock)
		})
	}
}

// MustOpen opens a fresh, migrated database of the engine. On PostgreSQL it
// creates a schema of its own and drops it at the end; it fails (never skips)
// when the server cannot be reached.
func MustOpen(tb testing.TB, engine string, clock fiscal.Clock) *store.DB {
	tb.Helper()
	dsn := DSN(tb, engine)
	db, err := store.Open(context.Background(), dsn, clock)
	if err != nil {
		tb.Fatalf("storetest: open %s: %v", engine, err)
	}
	tb.Cleanup(func() { db.Close() })
	tb.Cleanup(func() { checkTableScans(tb, db) }) // runs before Close
	blobs, err := blob.NewLocal(filepath.Join(tb.TempDir(), "attachments"))
	if err != nil {
		tb.Fatal(err)
	}
	db.UseCaseDeps(signing.NewRandom(), blobs)
	db.UseDocuments(&documents.Producer{Signer: Signer(tb), Blobs: blobs, PublicURL: PublicURL})
	if _, err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("storetest: migrate %s: %v", engine, err)
	}
	return db
}

// DSN returns a fresh, empty database's DSN for the engine.
func DSN(tb testing.TB, engine string) string {
	tb.Helper()
	switch engine {
	case "sqlite":
		return "sqlite:" + filepath.Join(tb.TempDir(), "fiscal.db")
	case "postgres":
		base := os.Getenv(EnvPostgres)
		if base == "" {
			tb.Fatalf("storetest: %s is not set", EnvPostgres)
		}
		schema := "t_" + randomHex(8)
		admin, err := sqlx.Open("pgx", base)
		if err != nil {
			tb.Fatalf("storetest: %v", err)
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
			tb.Fatalf("storetest: PostgreSQL at %s is not usable: %v", base, err)
		}
		tb.Cleanup(func() {
			a, err := sqlx.Open("pgx", base)
			if err == nil {
				a.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
				a.Close()
			}
		})
		u, err := url.Parse(base)
		if err != nil {
			tb.Fatalf("storetest: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	tb.Fatalf("storetest: unknown engine %q", engine)
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Municipality creates a municipality with the slug and returns it.
func Municipality(tb testing.TB, db *store.DB, slug string) *fiscal.Municipality {
	tb.Helper()
	m := &fiscal.Municipality{Slug: slug, Name: "Municipiul " + slug, Rank: "I", County: "Timiș"}
	if err := db.CreateMunicipality(context.Background(), m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// StaffPassword is the password of the accounts Staff creates.
const StaffPassword = "parola-de-serviciu-2026"

// Staff creates a staff user and returns a context acting as them.
func Staff(tb testing.TB, db *store.DB, m *fiscal.Municipality, username string, role fiscal.Role) (context.Context, *fiscal.User) {
	tb.Helper()
	u, err := db.CreateStaff(context.Background(), m.ID, username, StaffPassword, role, username)
	if err != nil {
		tb.Fatal(err)
	}
	return fiscal.WithActor(context.Background(), &fiscal.Actor{UserID: u.ID, Username: u.Username, MunicipalityID: m.ID, Role: role}), u
}

// scanAllowed lists the tables a query may read whole: a handful of rows per
// municipality, read rarely, or read whole by design (the report exports and
// the annual run stream whole tables).
var scanAllowed = map[string]string{
	// Not a table: the staff timeline's union (store detail) of one case's
	// events and late-step notices, each read by its index, then sorted.
	"timeline": "a subquery of rows read by index",
}

// checkTableScans fails the test when a statement it ran reads a table
// without an index (see store.TableScans).
func checkTableScans(tb testing.TB, db *store.DB) {
	scans, err := db.TableScans(context.Background())
	if err != nil {
		tb.Errorf("storetest: %v", err)
		return
	}
	for q, step := range scans {
		table := strings.Fields(step)[1]
		if _, ok := scanAllowed[table]; ok {
			continue
		}
		tb.Errorf("storetest: %s without an index (add one, or list the table in storetest.scanAllowed with the reason):\n%s", step, q)
	}
}

// Reopen opens a second pool on db's database, as another process (another
// instance of the server) would, with the same clock; closed at the end.
func Reopen(tb testing.TB, db *store.DB) *store.DB {
	tb.Helper()
	other, err := store.Open(context.Background(), db.DSN(), db.Clock())
	if err != nil {
		tb.Fatalf("storetest: reopen: %v", err)
	}
	tb.Cleanup(func() { other.Close() })
	return other
}
