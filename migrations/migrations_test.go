package migrations_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/alliance-project/alliance/migrations"
)

func openSQLite(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "m.db")+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestUpDownUp proves every migration can be applied, rolled back and
// applied again on a fresh database: down steps are real, not decoration.
func TestUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openSQLite(t)
	p, err := migrations.NewProvider(db, migrations.SQLite, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	pending, err := migrations.Pending(ctx, db, migrations.SQLite)
	if err != nil || pending {
		t.Fatalf("Pending after up = %v, %v; want false, nil", pending, err)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatalf("down: %v", err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ratings'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("ratings table after down: count %d, err %v; want 0", n, err)
	}
	if pending, _ := migrations.Pending(ctx, db, migrations.SQLite); !pending {
		t.Fatal("Pending after down = false, want true")
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("second up: %v", err)
	}
}

func TestUnknownDialect(t *testing.T) {
	t.Parallel()
	if _, err := migrations.NewProvider(openSQLite(t), "oracle", nil); err == nil {
		t.Fatal(`NewProvider(db, "oracle") = nil error, want an error`)
	}
}
