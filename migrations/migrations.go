// Package migrations owns the database schema: versioned goose SQL files,
// one directory per dialect, embedded in the binary so `alliance migrate`
// and `alliance serve` need nothing on disk.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// Dialect names a SQL dialect with its own migration directory.
type Dialect string

// Supported dialects. The value is also the directory of the dialect's files.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// NewProvider returns a goose provider over the embedded files of dialect.
// A nil logger keeps goose quiet. On PostgreSQL the provider takes a
// session-level advisory lock while it migrates, so several instances
// starting at once apply each migration exactly once.
func NewProvider(db *sql.DB, dialect Dialect, log *slog.Logger) (*goose.Provider, error) {
	var gd goose.Dialect
	var opts []goose.ProviderOption
	switch dialect {
	case SQLite:
		gd = goose.DialectSQLite3
	case Postgres:
		gd = goose.DialectPostgres
		// Poll for the lock every second (goose's default is 5 s) for up
		// to 5 minutes: a second instance starts serving soon after the
		// first has migrated.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	default:
		return nil, fmt.Errorf("no migrations for dialect %q", dialect)
	}
	sub, err := fs.Sub(files, string(dialect))
	if err != nil {
		return nil, err
	}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	return goose.NewProvider(gd, db, sub, opts...)
}

// Up applies every pending migration.
func Up(ctx context.Context, db *sql.DB, dialect Dialect, log *slog.Logger) error {
	p, err := NewProvider(db, dialect, log)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// Pending reports whether the database lacks migrations this binary has.
func Pending(ctx context.Context, db *sql.DB, dialect Dialect) (bool, error) {
	p, err := NewProvider(db, dialect, nil)
	if err != nil {
		return false, err
	}
	return p.HasPending(ctx)
}
