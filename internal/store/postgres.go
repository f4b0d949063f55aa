package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/migrations"
)

// openPostgres opens a pgx connection pool on rawURL (a postgres:// URL in
// libpq's format: host, port, sslmode, … as query parameters). Each
// connection gets statement_timeout from o, TimeZone UTC and, unless the
// URL names one, application_name "alliance" (visible in
// pg_stat_activity). Transactions run at PostgreSQL's default READ
// COMMITTED: the unique indexes (ratings_current, the idempotency key) make
// a concurrent duplicate fail with 23505 on whichever instance commits
// second, and the conditional UPDATE of an amendment re-checks its WHERE
// after waiting for the row lock.
func openPostgres(ctx context.Context, rawURL string, log *slog.Logger, o Options) (*Store, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		// The parse error may quote the URL; never log a password.
		return nil, errors.New("ALLIANCE_DATABASE_URL: not a valid postgres:// URL")
	}
	if o.StatementTimeout > 0 {
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10)
	}
	if _, ok := cfg.RuntimeParams["timezone"]; !ok {
		cfg.RuntimeParams["timezone"] = "UTC"
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "alliance"
	}
	sqlDB := stdlib.OpenDB(*cfg)
	sqlDB.SetMaxOpenConns(o.MaxOpenConns)
	sqlDB.SetMaxIdleConns(o.MaxIdleConns)
	sqlDB.SetConnMaxLifetime(o.ConnMaxLifetime)
	sqlDB.SetConnMaxIdleTime(o.ConnMaxIdleTime)

	where := fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gormConfig(log))
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where, translate(err))
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where, translate(err))
	}
	return &Store{db: db, sqlDB: sqlDB, dialect: migrations.Postgres, cache: newRowCache()}, nil
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
