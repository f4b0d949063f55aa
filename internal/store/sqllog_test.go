package store

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
)

// TestSQLLog: a statement reaches the log only when it was slow or failed
// for a reason of the database's own, GORM's rendering of its SQL runs
// only then, and GORM is given no values to render.
func TestSQLLog(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		begin time.Time
		err   error
		want  string // "" for no line
	}{
		{"fast", time.Now(), nil, ""},
		{"not found", time.Now(), gorm.ErrRecordNotFound, ""},
		{"duplicate", time.Now(), gorm.ErrDuplicatedKey, ""},
		{"missing parent", time.Now(), gorm.ErrForeignKeyViolated, ""},
		{"cancelled", time.Now(), context.Canceled, ""},
		{"failed", time.Now(), errors.New("disk I/O error"), "SQL statement failed"},
		{"slow", time.Now().Add(-2 * slowQuery), nil, "slow SQL statement"},
	} {
		var buf bytes.Buffer
		l := sqlLog{log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
		rendered := false
		l.Trace(ctx, tc.begin, func() (string, int64) { rendered = true; return "INSERT INTO t VALUES (?)", 1 }, tc.err)
		got := buf.String()
		switch {
		case tc.want == "" && (got != "" || rendered):
			t.Errorf("%s: logged %q (rendered %v), want nothing", tc.name, got, rendered)
		case tc.want != "" && !strings.Contains(got, tc.want):
			t.Errorf("%s: logged %q, want %q", tc.name, got, tc.want)
		}
	}
	sql, vars := sqlLog{}.ParamsFilter(ctx, "INSERT INTO t VALUES (?)", "CANARY-C005", "[4,3,4]")
	if sql != "INSERT INTO t VALUES (?)" || vars != nil {
		t.Errorf("ParamsFilter = %q, %v; want the SQL unchanged and no values", sql, vars)
	}
}
