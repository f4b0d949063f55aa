package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/alliance-project/alliance/internal/groupcommit"
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
	pool := &boundedPool{db: sqlDB, wait: o.PoolWait}
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: pool}), gormConfig(log))
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where, translate(err))
	}
	version, err := serverVersion(ctx, sqlDB)
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where, translate(err))
	}
	if err := supportedVersion(version); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open postgres %s: %w", where, err)
	}
	s := &Store{db: db, sqlDB: sqlDB, reads: pool, pool: pool, dialect: migrations.Postgres,
		sql: newStatements(migrations.Postgres), statementTimeout: o.StatementTimeout}
	s.writer = groupcommit.New(s.commitPipelined, groupcommit.Options{Loops: pipelineLoops})
	return s, nil
}

// serverVersion is the server's server_version_num (150018 for 15.18).
func serverVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	err := db.QueryRowContext(ctx, "SELECT current_setting('server_version_num')::int").Scan(&v)
	return v, err
}

// supportedVersion refuses a server older than PostgreSQL 12 at start,
// rather than failing every rating write: the write path sets
// plan_cache_mode (planGenericSQL), which 12 introduced. version is
// server_version_num (120000 for 12.0).
func supportedVersion(version int) error {
	if version >= 120000 {
		return nil
	}
	minor := version % 10000 // 11.22 is 110022; before 10, 9.6.24 is 90624
	if version < 100000 {
		minor /= 100
	}
	return fmt.Errorf("PostgreSQL 12 or later is needed; this server is %d.%d", version/10000, minor)
}
