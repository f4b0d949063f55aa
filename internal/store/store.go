// Package store implements alliance.Store with GORM on SQLite (the embedded
// default). GORM maps rows and builds queries; the schema belongs to the
// goose migrations and is never auto-migrated.
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
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/migrations"
)

// Store is the GORM implementation of alliance.Store.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect migrations.Dialect
}

var _ alliance.Store = (*Store)(nil)

// Open connects to the database named by url: a file path or a sqlite://
// URL opens (and creates) an SQLite file. The connection is tuned for
// durability: WAL journal, synchronous=FULL (a committed rating survives a
// power cut, not only a crash), foreign keys on, a busy timeout, and
// BEGIN IMMEDIATE transactions so concurrent writers queue instead of
// failing on lock upgrades.
func Open(ctx context.Context, rawURL string, log *slog.Logger) (*Store, error) {
	if strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://") {
		return nil, errors.New("PostgreSQL is not supported by this build yet; use an SQLite file path")
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
	q := url.Values{}
	q.Set("_foreign_keys", "on")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_busy_timeout", "5000")
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()

	gl := logger.NewSlogLogger(log, logger.Config{
		SlowThreshold:             500 * time.Millisecond,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		ParameterizedQueries:      true, // never log answers or codes
	})
	db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{
		Logger:                 gl,
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
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
	return &Store{db: db, sqlDB: sqlDB, dialect: migrations.SQLite}, nil
}

// Close releases the connection pool.
func (s *Store) Close() error { return s.sqlDB.Close() }

// Migrate applies pending schema migrations.
func (s *Store) Migrate(ctx context.Context, log *slog.Logger) error {
	return migrations.Up(ctx, s.sqlDB, s.dialect, log)
}

// DB exposes the underlying connection pool for migrations and backups.
func (s *Store) DB() *sql.DB { return s.sqlDB }

// Ping reports whether the database answers and has every migration.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", translate(err))
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
	case errors.As(err, &se):
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrReadonly, sqlite3.ErrFull,
			sqlite3.ErrIoErr, sqlite3.ErrCantOpen, sqlite3.ErrNotADB, sqlite3.ErrCorrupt:
			return fmt.Errorf("%w: %v", alliance.ErrUnavailable, err)
		case sqlite3.ErrConstraint:
			return alliance.ErrConflict
		}
	}
	return err
}
