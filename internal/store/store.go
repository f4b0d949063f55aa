// Package store implements alliance.Store with GORM, on SQLite (the
// embedded default) or PostgreSQL (several instances on one database).
// GORM maps rows and builds queries; the schema belongs to the goose
// migrations and is never auto-migrated. Queries stay portable: the same
// code runs on both backends, and the same contract tests prove it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/migrations"
)

// Store is the GORM implementation of alliance.Store.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect migrations.Dialect
	// committer runs SQLite's write transactions: queued in Go (fair and
	// prompt, where connections racing for the file lock back off in
	// SQLite's busy handler for up to the busy timeout) and group-committed.
	// nil on PostgreSQL, where every request has its own transaction.
	committer *committer
	// writes remembers whether the latest write failed for want of the
	// database (disk full, read-only, I/O error), so /readyz can report a
	// fault that reads alone would not show.
	writes writeHealth
	// cache holds studies and dyads once read (they never change).
	cache rowCache
	// inserts holds an *insertPlan per row type (see buildInsert).
	inserts sync.Map
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
	MaxIdleConns     int
	ConnMaxLifetime  time.Duration
	ConnMaxIdleTime  time.Duration
	StatementTimeout time.Duration
}

// DefaultOptions are the settings Open uses for every option not given:
// 10 connections per instance (so 8 instances stay under PostgreSQL's
// default max_connections of 100), all of them kept idle, recycled after
// 30 minutes or 5 idle minutes, and no statement running over 30 seconds.
func DefaultOptions() Options {
	return Options{
		MaxOpenConns:     10,
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

// Open connects to the database named by url. A postgres:// or
// postgresql:// URL opens PostgreSQL (see openPostgres); a file path or a
// sqlite:// URL opens (and creates) an SQLite file. The SQLite connection is
// tuned for durability: WAL journal, synchronous=FULL (a committed rating
// survives a power cut, not only a crash), foreign keys on, a busy timeout,
// and BEGIN IMMEDIATE transactions so concurrent writers queue instead of
// failing on lock upgrades.
func Open(ctx context.Context, rawURL string, log *slog.Logger, opts ...Option) (*Store, error) {
	if IsPostgresURL(rawURL) {
		o := DefaultOptions()
		for _, opt := range opts {
			opt(&o)
		}
		return openPostgres(ctx, rawURL, log, o)
	}
	path := strings.TrimPrefix(rawURL, "sqlite://")
	if path == "" {
		return nil, errors.New("empty database path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	dsn := SQLiteDSN(path)
	db, err := gorm.Open(sqlite.Open(dsn), gormConfig(log))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	c, err := newCommitter(ctx, dsn, sqlDB, log)
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &Store{db: db, sqlDB: sqlDB, dialect: migrations.SQLite, committer: c, cache: newRowCache()}, nil
}

// SQLiteDSN is the connection string the store opens an SQLite file with:
// WAL journal, synchronous=FULL, foreign keys, a busy timeout and BEGIN
// IMMEDIATE. The load tool's bare-insert ceiling uses it too, so the
// comparison is with the same durability.
func SQLiteDSN(path string) string {
	q := url.Values{}
	q.Set("_foreign_keys", "on")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_busy_timeout", "5000")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
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

// Close releases the connection pool.
func (s *Store) Close() error {
	if s.committer != nil {
		s.committer.close()
	}
	return s.sqlDB.Close()
}

// Migrate applies pending schema migrations.
func (s *Store) Migrate(ctx context.Context, log *slog.Logger) error {
	return migrations.Up(ctx, s.sqlDB, s.dialect, log)
}

// DB exposes the underlying connection pool for migrations and backups.
func (s *Store) DB() *sql.DB { return s.sqlDB }

// Dialect names the backend: migrations.SQLite or migrations.Postgres.
func (s *Store) Dialect() migrations.Dialect { return s.dialect }

// Ping reports whether the database answers and has every migration.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", translate(err))
	}
	if err := s.writes.fault(); err != nil {
		return err
	}
	pending, err := migrations.Pending(ctx, s.sqlDB, s.dialect)
	if err != nil {
		return fmt.Errorf("migration status: %w", translate(err))
	}
	if pending {
		return fmt.Errorf("schema migrations pending; run `alliance migrate`: %w", alliance.ErrUnavailable)
	}
	return nil
}

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
			// Statements run outside GORM (see insert) get no GORM
			// translation: the same mapping as its sentinels above.
			if se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
				return alliance.ErrNotFound
			}
			return alliance.ErrConflict
		}
	}
	return translatePostgres(err)
}

// rowsCtx is the context for a query read row by row. For a cancellable
// context the SQLite driver starts a goroutine per row it steps, to
// interrupt SQLite on cancellation; on an export that was a third of the
// CPU. On SQLite such queries run without cancellation, and the loop over
// the rows checks the caller's context with checkCtx instead.
func (s *Store) rowsCtx(ctx context.Context) context.Context {
	if s.dialect == migrations.SQLite {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// checkCtx reports the end of ctx every 256th row n; callers check ctx
// once more before their query.
func checkCtx(ctx context.Context, n int) error {
	if n%256 != 0 {
		return nil
	}
	return ctx.Err()
}
