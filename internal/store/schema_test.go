package store

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"gorm.io/gorm/schema"
)

// TestSchemaParity proves the GORM row structs and the migration SQL agree:
// every field of every row struct has its column after the migrations ran.
func TestSchemaParity(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	m := st.db.Migrator()
	for _, row := range []any{&studyRow{}, &dyadRow{}, &ratingRow{}, &idempotencyRow{}} {
		if !m.HasTable(row) {
			t.Errorf("table of %T is missing", row)
			continue
		}
		sch, err := schema.Parse(row, &sync.Map{}, st.db.NamingStrategy)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range sch.Fields {
			if f.DBName != "" && !m.HasColumn(row, f.DBName) {
				t.Errorf("%s.%s: no column for field %s", sch.Table, f.DBName, f.Name)
			}
		}
	}
}
