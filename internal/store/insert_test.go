package store

import (
	"database/sql"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"
)

// TestInsertPlans holds the kept INSERT plans to what GORM itself builds,
// row after row, on both backends: the same SQL and the same arguments.
func TestInsertPlans(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 30, 0, 123456789, time.UTC)
	rows := []any{
		&ratingRow{ID: "r1", StudyID: "s", DyadID: "d", Session: 1, Role: "client", FormID: "f", Answers: "[1,2]", Scores: "{}", MaxMissingFraction: 0.2, ScoringVersion: "1", Version: 1, CreatedAt: now},
		&ratingRow{ID: "r2", StudyID: "s", DyadID: "d", Session: 2, SessionDate: sql.NullString{String: "2026-11-01", Valid: true}, Role: "counsellor", FormID: "f", Answers: "[null]", Scores: "{}", Version: 2, CreatedAt: now.Add(time.Hour), SupersededAt: sql.NullTime{Time: now, Valid: true}},
		&ratingRow{ID: "r3'; DROP TABLE ratings; --", StudyID: "s", DyadID: "=1+1", Role: "client", CreatedAt: now},
		&idempotencyRow{Key: "k1", Fingerprint: "f", RatingID: "r1", CreatedAt: now},
		&idempotencyRow{Key: "", RatingID: "", CreatedAt: now},
		// A zero CreatedAt is GORM's to fill in: built by GORM, not the plan.
		&idempotencyRow{Key: "k2", RatingID: "r2"},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			// An audit row's id is the database's (auto-increment) when
			// zero: its columns depend on its values, so it gets no plan.
			if _, err := st.buildInsert(&auditRow{At: now, Actor: "system"}); err != nil {
				t.Fatal(err)
			}
			if _, ok := st.inserts.Load(reflect.TypeOf(&auditRow{})); ok {
				t.Error("a plan was kept for audit rows, whose id column comes and goes")
			}
			for i, row := range rows {
				got, err := st.buildInsert(row)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 || i == 3 {
					if _, ok := st.inserts.Load(reflect.TypeOf(row)); !ok {
						t.Fatalf("no plan kept for %T", row)
					}
					continue // built by GORM
				}
				want := st.db.Session(&gorm.Session{DryRun: true}).Create(row).Statement
				if want.Error != nil {
					t.Fatal(want.Error)
				}
				if got.sql != want.SQL.String() {
					t.Errorf("row %d: SQL\n%s\nwant\n%s", i, got.sql, want.SQL.String())
				}
				if i == len(rows)-1 { // GORM's own clock: the time is filled in, not equal
					if at, ok := got.vars[len(got.vars)-1].(time.Time); !ok || at.IsZero() {
						t.Errorf("zero CreatedAt: arguments %v, want GORM's current time", got.vars)
					}
					continue
				}
				if diff := cmp.Diff(want.Vars, got.vars); diff != "" {
					t.Errorf("row %d: arguments (-gorm +plan):\n%s", i, diff)
				}
			}
		})
	}
}
