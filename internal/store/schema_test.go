package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm/schema"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/pgtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// openMigrated opens url and applies every migration: benchdata.Open's
// twin, which this package's own tests cannot import (benchdata imports
// the store).
func openMigrated(t *testing.T, url string) *Store {
	t.Helper()
	ctx := context.Background()
	st, err := Open(ctx, url, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return st
}

// backends opens a fresh migrated store on each backend; the PostgreSQL
// one skips without ALLIANCE_TEST_POSTGRES_URL.
var backends = []struct {
	name string
	open func(t *testing.T) *Store
}{
	{"sqlite", func(t *testing.T) *Store { return openMigrated(t, filepath.Join(t.TempDir(), "p.db")) }},
	{"postgres", func(t *testing.T) *Store { return openMigrated(t, pgtest.Database(t)) }},
}

// onBackends runs test on a fresh, migrated store of each backend, in
// parallel subtests.
func onBackends(t *testing.T, test func(t *testing.T, st *Store)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, b.open(t))
		})
	}
}

var rowTypes = []any{&studyRow{}, &dyadRow{}, &ratingRow{}, &idempotencyRow{}, &keyRow{}, &invitationRow{}, &auditRow{}, &uiSessionRow{}, &instrumentRow{},
	&alertRow{}, &eventRow{}, &webhookRow{}, &deliveryRow{}, &attemptRow{}}

// TestAuditLogAppendOnly: on each backend the database itself refuses to
// change or remove an audit entry, and the store reports a conflict.
func TestAuditLogAppendOnly(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st *Store) {
		db := st.db.WithContext(context.Background())
		row := auditRow{At: time.Now().UTC(), Actor: "a", Action: "create", Resource: "study", ResourceID: "st_1"}
		if err := db.Create(&row).Error; err != nil || row.ID == 0 {
			t.Fatalf("insert audit entry: id %d, %v", row.ID, err)
		}
		if err := translate(db.Model(&auditRow{}).Where("id = ?", row.ID).Update("actor", "b").Error); !errors.Is(err, alliance.ErrConflict) {
			t.Errorf("UPDATE audit_log = %v, want ErrConflict", err)
		}
		if err := translate(db.Where("id = ?", row.ID).Delete(&auditRow{}).Error); !errors.Is(err, alliance.ErrConflict) {
			t.Errorf("DELETE FROM audit_log = %v, want ErrConflict", err)
		}
	})
}

// TestRowsNameTheirDyadsStudy: on PostgreSQL the database refuses a
// rating, an alert or an outbox event whose study is not its dyad's (the
// one key of migration 00013, which replaced the keys to the study's row),
// and takes one whose study is.
func TestRowsNameTheirDyadsStudy(t *testing.T) {
	t.Parallel()
	pgtest.SkipWithout(t)
	st := backends[1].open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	for _, id := range []string{"st_a", "st_b"} {
		if err := st.CreateStudy(ctx, alliance.Study{ID: id, Name: id, Forms: map[alliance.Role]string{}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateDyad(ctx, alliance.Dyad{ID: "dy_1", StudyID: "st_a", ClientCode: "c", CounsellorCode: "k", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	rows := func(study string) []any {
		return []any{
			&ratingRow{ID: "rat_" + study, StudyID: study, DyadID: "dy_1", Session: 1, Role: "client", FormID: "f",
				Answers: "[]", Scores: "{}", ScoringVersion: "1", Version: 1, CreatedAt: now},
			&alertRow{ID: "alr_" + study, StudyID: study, DyadID: "dy_1", Kind: "low_alliance", Session: 1, DedupKey: study,
				RatingID: "r", RatingIDs: "[]", Figures: "{}", CreatedAt: now},
			&eventRow{ID: "msg_" + study, StudyID: study, DyadID: sql.NullString{String: "dy_1", Valid: true},
				Type: "t", Payload: "{}", CreatedAt: now},
		}
	}
	for _, row := range rows("st_b") {
		if err := translate(st.db.WithContext(ctx).Create(row).Error); !errors.Is(err, alliance.ErrNotFound) {
			t.Errorf("%T of dyad dy_1 in the other study: %v, want ErrNotFound", row, err)
		}
	}
	for _, row := range rows("st_a") {
		if err := st.db.WithContext(ctx).Create(row).Error; err != nil {
			t.Errorf("%T of dyad dy_1 in its study: %v", row, err)
		}
	}
}

// TestSchemaParity proves the GORM row structs and the migration SQL agree:
// every field of every row struct has its column after the migrations ran,
// on each backend.
func TestSchemaParity(t *testing.T) {
	t.Parallel()
	onBackends(t, func(t *testing.T, st *Store) {
		m := st.db.Migrator()
		for _, row := range rowTypes {
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
	})
}

// TestDialectSchemasMatch proves migrations/sqlite and migrations/postgres
// build the same schema as far as the store can tell: the same tables, and
// in each the same columns with the same nullability and kind of type, and
// the same named indexes over the same columns. (Inline UNIQUE constraints
// are not listed by GORM on either dialect; the contract suite checks them
// by their effect: duplicate client codes and ratings are conflicts.)
func TestDialectSchemasMatch(t *testing.T) {
	t.Parallel()
	pgtest.SkipWithout(t)
	lite := describeSchema(t, backends[0].open(t))
	pg := describeSchema(t, backends[1].open(t))
	if diff := cmp.Diff(lite, pg); diff != "" {
		t.Errorf("schemas differ (-sqlite +postgres):\n%s", diff)
	}
	if len(lite) < len(rowTypes) {
		t.Errorf("described %d tables, want at least %d: %v", len(lite), len(rowTypes), lite)
	}
}

// describeSchema lists, per table of ours, one line per column
// ("name kind null|not null") and per secondary index ("index|unique
// (cols)"), sorted, in words both dialects share.
func describeSchema(t *testing.T, st *Store) map[string][]string {
	t.Helper()
	m := st.db.Migrator()
	tables, err := m.GetTables()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, table := range tables {
		if table == "goose_db_version" || strings.HasPrefix(table, "sqlite_") {
			continue // goose's bookkeeping, and SQLite's own
		}
		cols, err := m.ColumnTypes(table)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, c := range cols {
			null := "not null"
			if pk, _ := c.PrimaryKey(); pk {
				// SQLite lets a TEXT PRIMARY KEY hold NULL unless it says
				// NOT NULL (a documented quirk); the store always sets ids.
				null = "primary key"
			} else if n, ok := c.Nullable(); !ok {
				t.Fatalf("%s.%s: nullability unknown", table, c.Name())
			} else if n {
				null = "null"
			}
			lines = append(lines, fmt.Sprintf("column %s %s %s", c.Name(), typeKind(t, table, c.DatabaseTypeName()), null))
		}
		idx, err := m.GetIndexes(table)
		if err != nil {
			t.Fatal(err)
		}
		for _, ix := range idx {
			if pk, _ := ix.PrimaryKey(); pk {
				continue
			}
			kind := "index"
			if u, _ := ix.Unique(); u {
				kind = "unique"
			}
			// Sorted: GORM's PostgreSQL migrator lists an index's columns
			// in table order, not index order.
			cols := slices.Sorted(slices.Values(ix.Columns()))
			lines = append(lines, fmt.Sprintf("%s (%s)", kind, strings.Join(cols, ", ")))
		}
		slices.Sort(lines)
		out[table] = lines
	}
	return out
}

// typeKind folds each dialect's type names onto the Go type a row field
// scans into.
func typeKind(t *testing.T, table, dbType string) string {
	t.Helper()
	switch strings.ToLower(dbType) {
	case "text", "varchar":
		return "text"
	case "integer", "int", "int4", "int8", "bigint":
		return "integer"
	case "real", "double precision", "float8":
		return "float"
	case "datetime", "timestamptz", "timestamp with time zone":
		return "time"
	case "boolean", "bool":
		return "bool"
	}
	t.Errorf("%s: unexpected column type %q", table, dbType)
	return dbType
}
