package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/alliance-project/alliance/migrations"
)

// Backup writes a consistent copy of an SQLite database to path while the
// service keeps running: VACUUM INTO reads one snapshot (writers are not
// blocked), the copy is checked with PRAGMA integrity_check, synced, and
// only then renamed into place. An existing file is never overwritten.
// PostgreSQL has its own tools (pg_dump), so Backup refuses it.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.dialect != migrations.SQLite {
		return errors.New("backup: this is a PostgreSQL database; use pg_dump -Fc")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s exists; choose a new file", path)
	}
	tmp := path + ".partial"
	_ = os.Remove(tmp)
	// Owner-only, as the database itself: VACUUM INTO fills an empty file
	// it finds, and would create one readable by all.
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	_ = f.Close()
	if _, err := s.sqlDB.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("backup: %w", translate(err))
	}
	if err := checkCopy(ctx, tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil { // make the rename durable
		_ = dir.Sync()
		_ = dir.Close()
	}
	return nil
}

// checkCopy verifies and syncs a fresh copy before it is trusted.
func checkCopy(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("backup: open copy: %w", err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		return fmt.Errorf("backup: copy failed its integrity check: %v %s", err, res)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	return f.Sync()
}
