package store

import (
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"fiscald/fiscal"
)

// A database out of space is 503 (the service reads on and writes resume
// once space is freed), not 500. SQLite's SQLITE_FULL is produced for real
// by cmd/fiscald's TestDatabaseDiskFull on a full tmpfs; PostgreSQL's
// disk_full is checked here by its SQLSTATE.
func TestOutOfSpaceIsUnavailable(t *testing.T) {
	for _, code := range []string{"53100"} {
		err := translate(&pgconn.PgError{Code: code, Message: "could not extend file: No space left on device"}, "payment")
		if fiscal.ErrorCode(err) != fiscal.EUNAVAILABLE {
			t.Errorf("SQLSTATE %s: %v (%s)", code, err, fiscal.ErrorCode(err))
		}
	}
	if err := translate(&pgconn.PgError{Code: "22001"}, "payment"); fiscal.ErrorCode(err) != fiscal.EINTERNAL {
		t.Errorf("another SQLSTATE: %v", err)
	}
}

// PostgreSQL stopping or starting ends sessions with SQLSTATE 57P01
// (a fast restart), 57P02, or refuses them with 57P03; a connection
// exception is class 08. Each is 503 (TestPostgresRestart saw 500s).
func TestServerShutdownIsUnavailable(t *testing.T) {
	for _, code := range []string{"57P01", "57P02", "57P03", "08006", "08003"} {
		err := translate(&pgconn.PgError{Code: code, Message: "terminating connection due to administrator command"}, "payment")
		if fiscal.ErrorCode(err) != fiscal.EUNAVAILABLE {
			t.Errorf("SQLSTATE %s: %v (%s)", code, err, fiscal.ErrorCode(err))
		}
	}
}
