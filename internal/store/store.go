// Package store implements alliance.Store with GORM, on SQLite (the
// embedded default) or PostgreSQL (several instances on one database).
// GORM maps rows and builds queries; the schema belongs to the goose
// migrations and is never auto-migrated. Queries stay portable: the same
// code runs on both backends, and the same contract tests prove it.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/groupcommit"
	"github.com/alliance-project/alliance/migrations"
)

// Store is the implementation of alliance.Store. Reads go through GORM on
// a connection pool; every write goes through the write seam (write.go).
type Store struct {
	db    *gorm.DB
	sqlDB *sql.DB
	// reads runs the plain SQL reads: sqlDB, or on PostgreSQL the pool
	// with a bounded wait for a connection (pool.go) that GORM uses too.
	reads queryer
	// pool is that bounded pool; nil on SQLite.
	pool    *boundedPool
	dialect migrations.Dialect
	// sql holds the write path's statements (see write.go).
	sql *statements
	// writer group-commits the writes (see write.go). On SQLite it writes
	// on a connection of its own: queued in Go (fair and prompt, where
	// connections racing for the file lock back off in SQLite's busy
	// handler) and committed together; writerDB is its database handle,
	// checkpoints the loop that copies the WAL back into the database
	// file (both nil on PostgreSQL). On PostgreSQL its batches are
	// pipelined on connections of the pool (see pipeline.go).
	writer *groupcommit.Writer[write]
	// statementTimeout is PostgreSQL's statement_timeout of this store's
	// connections (0: none of ours); it also bounds a pipelined batch.
	statementTimeout time.Duration
	writerDB         *sql.DB
	checkpoints      *checkpointer
	// writes remembers whether the latest write failed for want of the
	// database (disk full, read-only, I/O error), so /readyz can report a
	// fault that reads alone would not show.
	writes writeHealth
}

var _ alliance.Store = (*Store)(nil)

// Options tunes the PostgreSQL connection pool and statement timeout. The
// values mean what they mean to database/sql and PostgreSQL: MaxOpenConns
// 0 is unlimited, ConnMaxLifetime and ConnMaxIdleTime 0 keep connections
// forever, StatementTimeout 0 leaves the server's (or the URL's
// statement_timeout) in force. SQLite ignores them: one file on one
// machine, serialised by BEGIN IMMEDIATE and the busy timeout.
type Options struct {
	MaxOpenConns     int
	PoolWait         time.Duration
	MaxIdleConns     int
	ConnMaxLifetime  time.Duration
	ConnMaxIdleTime  time.Duration
	StatementTimeout time.Duration
}

// DefaultOptions are the settings Open uses for every option not given:
// 10 connections per instance (so 8 instances stay under PostgreSQL's
// default max_connections of 100), all of them kept idle, recycled after
// 30 minutes or 5 idle minutes, no request waiting over 5 seconds for one
// of them, and no statement running over 30 seconds.
func DefaultOptions() Options {
	return Options{
		MaxOpenConns:     10,
		PoolWait:         5 * time.Second,
		MaxIdleConns:     10,
		ConnMaxLifetime:  30 * time.Minute,
		ConnMaxIdleTime:  5 * time.Minute,
		StatementTimeout: 30 * time.Second,
	}
}

// Option changes one of the Options of Open.
type Option func(*Options)

// WithMaxOpenConns caps the open connections of this instance (0: no cap).
func WithMaxOpenConns(n int) Option { return func(o *Options) { o.MaxOpenConns = n } }

// WithPoolWait bounds how long a query or a batch of writes waits for a
// free connection of this instance's pool before it fails with
// alliance.ErrUnavailable (0: as long as its context allows).
func WithPoolWait(d time.Duration) Option { return func(o *Options) { o.PoolWait = d } }

// WithMaxIdleConns sets how many idle connections the pool keeps.
func WithMaxIdleConns(n int) Option { return func(o *Options) { o.MaxIdleConns = n } }

// WithConnMaxLifetime closes connections older than d (0: never), so a
// failover or a PgBouncer restart is picked up.
func WithConnMaxLifetime(d time.Duration) Option {
	return func(o *Options) { o.ConnMaxLifetime = d }
}

// WithConnMaxIdleTime closes connections idle for longer than d (0: never).
func WithConnMaxIdleTime(d time.Duration) Option {
	return func(o *Options) { o.ConnMaxIdleTime = d }
}

// WithStatementTimeout makes PostgreSQL cancel any statement running longer
// than d (its statement_timeout); such a request fails with
// alliance.ErrUnavailable. 0 sets no timeout of ours.
func WithStatementTimeout(d time.Duration) Option {
	return func(o *Options) { o.StatementTimeout = d }
}

// IsPostgresURL reports whether url selects the PostgreSQL backend.
func IsPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// SQLitePath is the file an SQLite database URL names (a path, or
// sqlite://path), and false for a PostgreSQL URL.
func SQLitePath(url string) (string, bool) {
	if IsPostgresURL(url) {
		return "", false
	}
	return strings.TrimPrefix(url, "sqlite://"), true
}

// Open connects to the database named by url. A postgres:// or
// postgresql:// URL opens PostgreSQL (see openPostgres); a file path or a
// sqlite:// URL opens (and creates) an SQLite file (see openSQLite).
func Open(ctx context.Context, rawURL string, log *slog.Logger, opts ...Option) (*Store, error) {
	if IsPostgresURL(rawURL) {
		o := DefaultOptions()
		for _, opt := range opts {
			opt(&o)
		}
		return openPostgres(ctx, rawURL, log, o)
	}
	path, _ := SQLitePath(rawURL)
	return openSQLite(ctx, path, log)
}

// gormConfig is the GORM configuration of both backends: statements
// logged without their values (see sqlLog), driver errors translated to
// GORM's sentinels, no implicit transactions around single statements,
// and UTC timestamps.
func gormConfig(log *slog.Logger) *gorm.Config {
	return &gorm.Config{
		Logger:                 sqlLog{log: log},
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
}

// Close stops the writer and releases the connections.
func (s *Store) Close() error {
	s.writer.Close()
	if s.writerDB != nil {
		s.checkpoints.close()
		s.sql.close()
		_ = s.writerDB.Close()
	}
	return s.sqlDB.Close()
}

// Migrate applies pending schema migrations, then prepares the write
// statements the new schema allows.
func (s *Store) Migrate(ctx context.Context, log *slog.Logger) error {
	if err := migrations.Up(ctx, s.sqlDB, s.dialect, log); err != nil {
		return err
	}
	if s.writerDB != nil {
		s.sql.prepare(ctx, s.writerDB)
	}
	return nil
}

// DB exposes the underlying connection pool for migrations and backups.
func (s *Store) DB() *sql.DB { return s.sqlDB }

// Dialect names the backend: migrations.SQLite or migrations.Postgres.
func (s *Store) Dialect() migrations.Dialect { return s.dialect }

// pingTimeout bounds a readiness check: a database that stopped
// answering (frozen, or behind a network black hole) is not ready now,
// rather than when it answers again, and a probe never holds a connection
// for long.
const pingTimeout = 2 * time.Second

// Ping reports whether the database answers within pingTimeout and has
// every migration of this binary, and none of a newer release's.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := s.sqlDB.PingContext(ctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("ping: no answer within %s: %w", pingTimeout, alliance.ErrUnavailable)
		}
		return fmt.Errorf("ping: %w", translate(err))
	}
	if err := s.writes.fault(); err != nil {
		return err
	}
	if err := migrations.Check(ctx, s.sqlDB, s.dialect); err != nil {
		return fmt.Errorf("%w: %w", translate(err), alliance.ErrUnavailable)
	}
	return nil
}
