package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers driver "pgx"
	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"fiscald/fiscal"
)

// Where SQLite and PostgreSQL differ in errors and statements: database
// errors recognised by code, never by text (unique and foreign-key
// violations, deadlocks, busy, out of space, lost connections) and turned
// into the domain's errors (translate); statements sent as one round trip
// on PostgreSQL (execAll, withClauses).

func init() {
	// sqlx knows "pgx" but not modernc's driver name.
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// isUniqueViolation recognises a unique-key violation by its code:
// SQLSTATE 23505 on PostgreSQL, SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY on SQLite.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isDeadlock: SQLSTATE 40P01, PostgreSQL's deadlock detector chose this
// transaction.
func isDeadlock(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "40P01"
}

// isRetryable: the database undid this transaction to resolve a conflict
// with another (SQLSTATE 40P01 deadlock, 40001 serialization failure) or
// could not get SQLite's lock from another process in time. Nothing was
// written; running the transaction again may succeed.
func isRetryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40P01" || pe.Code == "40001"
	}
	return isSQLiteBusy(err)
}

// isSQLiteBusy recognises SQLITE_BUSY and its extended codes: another
// process holds the lock.
func isSQLiteBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// isForeignKeyViolation: SQLSTATE 23503, SQLITE_CONSTRAINT_FOREIGNKEY.
func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// translate turns driver errors into domain errors: no rows → ENOTFOUND,
// a unique violation → ECONFLICT, a cancelled context stays as it is,
// anything else → EINTERNAL with the cause kept for the log.
func translate(err error, what string) error {
	var fe *fiscal.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return fiscal.Errorf(fiscal.ENOTFOUND, "%s not found", what)
	case isUniqueViolation(err):
		return &fiscal.Error{Code: fiscal.ECONFLICT, Message: what + " already exists", Err: err}
	case isForeignKeyViolation(err):
		return &fiscal.Error{Code: fiscal.EINVALID, Message: what + " refers to something that does not exist", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &fiscal.Error{Code: fiscal.EUNAVAILABLE, Message: "the request was cancelled or timed out", Err: err}
	case isRetryable(err):
		return &fiscal.Error{Code: fiscal.EUNAVAILABLE, Message: "the database undid this request to resolve a conflict with another; nothing was saved, try again", Err: err}
	case isOutOfSpace(err):
		return &fiscal.Error{Code: fiscal.EUNAVAILABLE, Message: "the database has no space left to write; nothing was saved, try again later", Err: err}
	case isConnectionLost(err):
		return &fiscal.Error{Code: fiscal.EUNAVAILABLE, Message: "the database is unavailable; try again shortly", Err: err}
	default:
		return fiscal.Internal(err, what)
	}
}

// isOutOfSpace recognises a database that cannot grow: SQLITE_FULL (the
// disk or max_page_count; SQLite has undone the statement or the commit)
// and SQLSTATE 53100 disk_full on PostgreSQL. The service keeps reading;
// writes resume by themselves once space is freed, so it is 503.
func isOutOfSpace(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "53100"
	}
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL
}

// isConnectionLost reports a database that cannot be reached or dropped the
// connection (PostgreSQL restarting, network cut): the request may be
// retried, so it is 503, not 500.
func isConnectionLost(err error) bool {
	var ce *pgconn.ConnectError
	var ne *net.OpError
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// connection_exception (08…), and the server ending the session or
		// refusing it while it stops or starts: admin_shutdown (57P01, a
		// fast restart), crash_shutdown (57P02), cannot_connect_now (57P03).
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// stmt is one statement with its arguments, for execAll.
type stmt struct {
	query string
	args  []any
}

// execAll runs statements that return nothing, in order, inside tx. On
// PostgreSQL they go to the server as one statement of data-modifying WITH
// clauses: one round trip instead of one each, which matters where a row
// lock (the audit chain's head, the case counter) is held until commit and
// every round trip lengthens the queue behind it. The clauses share one
// snapshot, so a statement must not depend on another's effect in the same
// call (each writes different rows; rows written by earlier calls are seen).
// SQLite runs in process and has no data-modifying WITH: it runs them in turn.
func (tx *Tx) execAll(ctx context.Context, what string, stmts ...stmt) error {
	if len(stmts) == 0 {
		return nil
	}
	if tx.db.dialect != "postgres" || len(stmts) == 1 {
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s.query, s.args...); err != nil {
				return translate(err, what)
			}
		}
		return nil
	}
	q, args := withClauses(stmts)
	_, err := tx.Exec(ctx, q+" SELECT 1", args...)
	return translate(err, what)
}

// withClauses is stmts as the data-modifying WITH clauses w0, w1, … of one
// PostgreSQL statement (without its final SELECT), and their arguments.
func withClauses(stmts []stmt) (string, []any) {
	var q strings.Builder
	var args []any
	for i, s := range stmts {
		if i == 0 {
			q.WriteString("WITH ")
		} else {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "w%d AS (%s)", i, s.query)
		args = append(args, s.args...)
	}
	return q.String(), args
}
