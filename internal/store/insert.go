package store

import (
	"context"
	"reflect"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"
)

// insert is an INSERT built (SQL text and arguments) in the request's
// goroutine. On SQLite everything that runs inside a write runs on the one
// writer goroutine, where each microsecond is spent once per rating of the
// whole service: the writer only executes what was built for it.
type insert struct {
	sql  string
	vars []any
}

// exec runs the insert in tx, straight on its connection.
func (in insert) exec(tx *gorm.DB) error {
	_, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, in.sql, in.vars...)
	return translate(err)
}

// insertPlan is GORM's INSERT of one row type, kept from the first time
// GORM built it: the SQL text and, in its column order, the fields that
// give the arguments. GORM's Create reflects over the row, builds the
// clauses and renders the SQL for every row again, and made up almost
// half of what a rating submission allocated.
type insertPlan struct {
	sql    string
	fields []*schema.Field
}

// buildInsert builds the INSERT of row, a pointer to a row struct. Rows
// whose columns do not depend on their values (no database defaults, no
// auto-increment key) get a plan; others are built by GORM every time.
// TestInsertPlans holds the plans to what GORM builds, on both backends.
func (s *Store) buildInsert(row any) (insert, error) {
	rv := reflect.ValueOf(row)
	if p, ok := s.inserts.Load(rv.Type()); ok {
		plan := p.(*insertPlan)
		vars := make([]any, len(plan.fields))
		for i, f := range plan.fields {
			v, zero := f.ValueOf(context.Background(), rv.Elem())
			if zero && (f.AutoCreateTime > 0 || f.HasDefaultValue) {
				return s.gormInsert(row) // GORM fills or leaves out this column
			}
			vars[i] = v
		}
		return insert{sql: plan.sql, vars: vars}, nil
	}
	return s.gormInsert(row)
}

// gormInsert has GORM build the INSERT of row and keeps the plan of its
// type for the next rows.
func (s *Store) gormInsert(row any) (insert, error) {
	st := s.db.Session(&gorm.Session{DryRun: true}).Create(row).Statement
	if st.Error != nil {
		return insert{}, st.Error
	}
	in := insert{sql: st.SQL.String(), vars: st.Vars}
	if values, ok := st.Clauses["VALUES"].Expression.(clause.Values); ok && len(values.Values) == 1 {
		plan := &insertPlan{sql: in.sql}
		for _, c := range values.Columns {
			f := st.Schema.LookUpField(c.Name)
			if f == nil {
				return in, nil // not a plain row: no plan
			}
			plan.fields = append(plan.fields, f)
		}
		// Kept only when GORM wrote every column of the row: a column it
		// left out for this row's values (an auto-increment key, a
		// database default) might be needed by the next row's.
		creatable := 0
		for _, f := range st.Schema.Fields {
			if f.DBName != "" && f.Creatable {
				creatable++
			}
		}
		if len(plan.fields) == len(in.vars) && len(plan.fields) == creatable {
			s.inserts.LoadOrStore(reflect.TypeOf(row), plan)
		}
	}
	return in, nil
}
