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
)

//go:embed sqlite/*.sql
var files embed.FS

// Dialect names a SQL dialect with its own migration directory.
type Dialect string

// Supported dialects.
const (
	SQLite Dialect = "sqlite"
)

// NewProvider returns a goose provider over the embedded files of dialect.
// A nil logger keeps goose quiet.
func NewProvider(db *sql.DB, dialect Dialect, log *slog.Logger) (*goose.Provider, error) {
	var gd goose.Dialect
	switch dialect {
	case SQLite:
		gd = goose.DialectSQLite3
	default:
		return nil, fmt.Errorf("no migrations for dialect %q", dialect)
	}
	sub, err := fs.Sub(files, string(dialect))
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
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
