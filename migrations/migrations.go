// Package migrations owns the database schema: versioned goose SQL files,
// one directory per dialect, embedded in the binary so `alliance migrate`
// and `alliance serve` need nothing on disk.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
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

// ErrNewerSchema means the database was migrated by a newer release than
// this binary: its schema has migrations this binary does not know (a
// table it writes may be gone, a column it does not fill may be relied
// on), so it must neither migrate nor serve it.
var ErrNewerSchema = errors.New("the database was migrated by a newer release")

// Up applies every pending migration; ErrNewerSchema if the database is
// ahead of this binary.
func Up(ctx context.Context, db *sql.DB, dialect Dialect, log *slog.Logger) error {
	p, err := NewProvider(db, dialect, log)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return notAhead(ctx, p)
}

func notAhead(ctx context.Context, p *goose.Provider) error {
	current, newest, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if current > newest {
		return fmt.Errorf("%w: it is at schema version %d, this release knows up to %d; run the newer release", ErrNewerSchema, current, newest)
	}
	return nil
}

// ErrPending means the database lacks migrations this binary has.
var ErrPending = errors.New("schema migrations pending; run `alliance migrate`")

// Check returns nil if the database has exactly this binary's migrations:
// ErrPending if it lacks some, ErrNewerSchema if it has some this binary
// does not know.
func Check(ctx context.Context, db *sql.DB, dialect Dialect) error {
	p, err := NewProvider(db, dialect, nil)
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("migration status: %w", err)
	}
	if pending {
		return ErrPending
	}
	return notAhead(ctx, p)
}
