package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/pgtest"
)

// TestTranslatePostgres maps each SQLSTATE class the store can meet; it
// needs no server.
func TestTranslatePostgres(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		want error
	}{
		{"23505", alliance.ErrConflict},
		{"23503", alliance.ErrNotFound},
		{"23514", alliance.ErrConflict},
		{"23502", alliance.ErrConflict},
		{"40001", alliance.ErrUnavailable},
		{"40P01", alliance.ErrUnavailable},
		{"57014", alliance.ErrUnavailable},
		{"57P01", alliance.ErrUnavailable},
		{"53100", alliance.ErrUnavailable},
		{"53300", alliance.ErrUnavailable},
		{"08006", alliance.ErrUnavailable},
		{"25006", alliance.ErrUnavailable},
		{"55P03", alliance.ErrUnavailable},
		{"58030", alliance.ErrUnavailable},
		{"42P01", nil}, // undefined table: a bug, not a state of the database
	}
	for _, tt := range tests {
		pe := &pgconn.PgError{Code: tt.code, Message: "m"}
		for _, err := range []error{pe, fmt.Errorf("exec: %w", pe)} {
			got := translate(err)
			if tt.want == nil {
				if got != err {
					t.Errorf("translate(%s) = %v, want it unchanged", tt.code, got)
				}
				continue
			}
			if !errors.Is(got, tt.want) {
				t.Errorf("translate(%s) = %v, want %v", tt.code, got, tt.want)
			}
		}
	}
	// GORM's translator (TranslateError) wraps the driver error in its sentinel.
	dup := fmt.Errorf("%w: %w", gorm.ErrDuplicatedKey, &pgconn.PgError{Code: "23505"})
	if got := translate(dup); !errors.Is(got, alliance.ErrConflict) {
		t.Errorf("translate(gorm duplicate) = %v, want ErrConflict", got)
	}
	if got := translate(context.DeadlineExceeded); got != context.DeadlineExceeded {
		t.Errorf("translate(DeadlineExceeded) = %v, want it unchanged", got)
	}
}

// TestSupportedVersion: a server before 12 is refused with its version
// named, 12 and later are accepted; it needs no server.
func TestSupportedVersion(t *testing.T) {
	t.Parallel()
	for version, want := range map[int]string{
		110022: "PostgreSQL 12 or later is needed; this server is 11.22",
		90624:  "PostgreSQL 12 or later is needed; this server is 9.6",
		120000: "",
		150018: "",
		180001: "",
	} {
		got := ""
		if err := supportedVersion(version); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("supportedVersion(%d) = %q, want %q", version, got, want)
		}
	}
}

// TestPostgresSessionSettings checks the options reach the pool and every
// connection, and that what a database under stress answers reaches the
// caller as ErrUnavailable.
func TestPostgresSessionSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, pgtest.Database(t), quiet,
		WithMaxOpenConns(3), WithMaxIdleConns(2), WithStatementTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if st.Dialect() != "postgres" {
		t.Errorf("Dialect() = %q, want postgres", st.Dialect())
	}
	if got := st.DB().Stats().MaxOpenConnections; got != 3 {
		t.Errorf("MaxOpenConnections = %d, want 3", got)
	}
	for setting, want := range map[string]string{
		"statement_timeout": "200ms",
		"application_name":  "alliance",
		"TimeZone":          "UTC",
	} {
		var got string
		if err := st.DB().QueryRowContext(ctx, "SELECT current_setting($1)", setting).Scan(&got); err != nil || got != want {
			t.Errorf("current_setting(%s) = %q, %v; want %q", setting, got, err, want)
		}
	}

	err = translate(st.db.WithContext(ctx).Exec("SELECT pg_sleep(2)").Error)
	if !errors.Is(err, alliance.ErrUnavailable) {
		t.Errorf("statement over the timeout = %v, want ErrUnavailable", err)
	}

	err = st.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET TRANSACTION READ ONLY").Error; err != nil {
			return err
		}
		row := studyRow{ID: "st_ro", Name: "n", CreatedAt: time.Now()}
		return translate(tx.Create(&row).Error)
	})
	if !errors.Is(err, alliance.ErrUnavailable) {
		t.Errorf("write in a read-only transaction = %v, want ErrUnavailable", err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Errorf("Ping after the errors = %v", err)
	}
}

// TestPostgresNoStatementTimeout: 0 leaves the server's setting alone.
func TestPostgresNoStatementTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, pgtest.Database(t), quiet, WithStatementTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var got string
	if err := st.DB().QueryRowContext(ctx, "SHOW statement_timeout").Scan(&got); err != nil || got != "0" {
		t.Errorf("statement_timeout = %q, %v; want the server default 0", got, err)
	}
}
