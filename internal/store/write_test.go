package store

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm/schema"

	"github.com/alliance-project/alliance/migrations"
)

// TestInsertColumns holds each INSERT of the write path to its row struct,
// which the schema parity test holds to the migrations: a column added to
// a table and its row but not to its INSERT fails here, instead of being
// left to its database default.
func TestInsertColumns(t *testing.T) {
	st := newStatements(migrations.SQLite)
	for _, tc := range []struct {
		stmt *statement
		row  any
		skip []string // columns the database fills in
	}{
		{st.insertStudy, &studyRow{}, nil},
		{st.insertDyad, &dyadRow{}, nil},
		{st.insertRating, &ratingRow{}, nil},
		{st.insertIdempotency, &idempotencyRow{}, nil},
		{st.insertKey, &keyRow{}, nil},
		{st.insertInvitation, &invitationRow{}, nil},
		{st.insertAudit, &auditRow{}, []string{"id"}},
		{st.insertInstrument, &instrumentRow{}, nil},
	} {
		sch, err := schema.Parse(tc.row, &sync.Map{}, schema.NamingStrategy{})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, f := range sch.Fields {
			if f.DBName != "" && !slices.Contains(tc.skip, f.DBName) {
				want = append(want, f.DBName)
			}
		}
		m := regexp.MustCompile(`(?s)^INSERT INTO (\w+) \(([^)]*)\)\s*VALUES \(([^)]*)\)(?:\s*ON CONFLICT DO NOTHING)?$`).FindStringSubmatch(tc.stmt.text)
		if m == nil {
			t.Fatalf("not an INSERT of the expected shape: %s", tc.stmt.text)
		}
		if m[1] != sch.Table {
			t.Errorf("%s: INSERT INTO %s, want %s", sch.Table, m[1], sch.Table)
		}
		var got []string
		for _, c := range strings.Split(m[2], ",") {
			got = append(got, strings.TrimSpace(c))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: INSERT columns %v, want the row's %v", sch.Table, got, want)
		}
		if n := len(strings.Split(m[3], ",")); n != len(got) {
			t.Errorf("%s: %d values for %d columns", sch.Table, n, len(got))
		}
	}
}

func TestRebind(t *testing.T) {
	q := "UPDATE t SET a = ? WHERE b = ? AND c IS NULL"
	if got := rebind(migrations.SQLite, q); got != q {
		t.Errorf("rebind(sqlite) = %q, want it unchanged", got)
	}
	if got, want := rebind(migrations.Postgres, q), "UPDATE t SET a = $1 WHERE b = $2 AND c IS NULL"; got != want {
		t.Errorf("rebind(postgres) = %q, want %q", got, want)
	}
}

// TestPreparedStatements: on SQLite every write statement is prepared on
// the writer's connection once the schema exists: SQLite compiles every
// statement it is given, and the writer runs all of them.
func TestPreparedStatements(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/p.db"
	st, err := Open(ctx, path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, s := range st.sql.all() {
		if s.prepared() != nil {
			t.Fatalf("prepared before the schema exists: %s", s.text)
		}
	}
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, s := range st.sql.all() {
		if s.prepared() == nil {
			t.Errorf("not prepared after Migrate: %s", s.text)
		}
	}
	// A store opened on a migrated file prepares them at once.
	again, err := Open(ctx, path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	for _, s := range again.sql.all() {
		if s.prepared() == nil {
			t.Errorf("not prepared when opened on a migrated file: %s", s.text)
		}
	}
}
