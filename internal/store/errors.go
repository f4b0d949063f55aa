package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"

	"github.com/alliance-project/alliance/internal/alliance"
)

// withdrawnConstraint names the triggers that refuse ratings (migration
// 00004) and survey links (00017) of a withdrawn dyad, in their errors.
const withdrawnConstraint = "dyad_withdrawn"

// translate maps driver and GORM errors onto the domain's sentinels, so no
// caller above the store needs to know which database it talks to.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var se sqlite3.Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return alliance.ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return alliance.ErrConflict
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return alliance.ErrNotFound
	case errors.Is(err, gorm.ErrCheckConstraintViolated):
		// As SQLite's generic constraint error below.
		return alliance.ErrConflict
	case errors.As(err, &se):
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrReadonly, sqlite3.ErrFull,
			sqlite3.ErrIoErr, sqlite3.ErrCantOpen, sqlite3.ErrNotADB, sqlite3.ErrCorrupt:
			return fmt.Errorf("%w: %v", alliance.ErrUnavailable, err)
		case sqlite3.ErrConstraint:
			// The write path's own SQL gets no GORM translation: the same
			// mapping as its sentinels above.
			switch {
			case se.ExtendedCode == sqlite3.ErrConstraintForeignKey:
				return alliance.ErrNotFound
			case se.ExtendedCode == sqlite3.ErrConstraintTrigger && strings.Contains(se.Error(), withdrawnConstraint):
				return alliance.ErrWithdrawn
			}
			return alliance.ErrConflict
		}
	}
	return translatePostgres(err)
}

// translatePostgres maps what PostgreSQL and pgx report onto the domain's
// sentinels by SQLSTATE (www.postgresql.org/docs/15/errcodes-appendix.html).
// GORM's translator has already turned 23505 and 23503 into its own
// sentinels; they are handled here too so that errors which bypass it (a
// deferred constraint failing at COMMIT) mean the same.
func translatePostgres(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch code := pe.Code; {
		case code == "23514" && pe.ConstraintName == withdrawnConstraint:
			return alliance.ErrWithdrawn
		case code == "23505": // unique_violation
			return alliance.ErrConflict
		case code == "23503": // foreign_key_violation
			return alliance.ErrNotFound
		case strings.HasPrefix(code, "23"): // check, not null, exclusion: as SQLite's constraint error
			return alliance.ErrConflict
		case code == "40001", // serialization_failure
			code == "40P01",               // deadlock_detected
			code == "25006",               // read_only_sql_transaction (a standby, or a failover in progress)
			code == "25P03",               // idle_in_transaction_session_timeout
			code == "55P03",               // lock_not_available (lock_timeout)
			strings.HasPrefix(code, "08"), // connection exception
			strings.HasPrefix(code, "53"), // insufficient resources: disk full, out of memory, too many connections
			strings.HasPrefix(code, "57"), // operator intervention: 57014 query_canceled (statement_timeout), shutdowns
			strings.HasPrefix(code, "58"): // system error: I/O
			return fmt.Errorf("%w: %v", alliance.ErrUnavailable, err)
		}
		return err
	}
	// The caller's own deadline or cancellation stays what it is.
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) {
		return fmt.Errorf("%w: %v", alliance.ErrUnavailable, err)
	}
	return err
}
