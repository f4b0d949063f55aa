package store

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/alliance-project/alliance/internal/alliance"
)

// slowQuery is the duration from which a statement is logged as slow.
const slowQuery = 500 * time.Millisecond

// sqlLog is GORM's logger. The values a statement carries are answers,
// scores, participant codes and session dates, so they never reach it:
// ParamsFilter drops them before GORM renders a statement, and only its
// text with placeholders is logged. It logs only what an operator must
// act on: a slow statement, or one that failed for a reason other than
// the data (a duplicate or a missing parent is the request's fault; the
// store answers it with a domain error, which the transport logs).
//
// GORM finds ParamsFilter by a type assertion on its logger, so sqlLog
// implements both interfaces itself: a wrapper that embeds only
// logger.Interface hides the filter, and GORM then renders every value
// into the SQL it hands to Trace.
type sqlLog struct{ log *slog.Logger }

var (
	_ logger.Interface  = sqlLog{}
	_ gorm.ParamsFilter = sqlLog{}
)

// LogMode is a no-op: what is logged is decided per statement in Trace.
func (l sqlLog) LogMode(logger.LogLevel) logger.Interface { return l }

// Info, Warn and Error are GORM's own messages. Their arguments may hold a
// statement's values, so only the message template is logged.
func (l sqlLog) Info(ctx context.Context, msg string, _ ...any) {
	l.log.DebugContext(ctx, "gorm: "+msg)
}

func (l sqlLog) Warn(ctx context.Context, msg string, _ ...any) {
	l.log.WarnContext(ctx, "gorm: "+msg)
}

func (l sqlLog) Error(ctx context.Context, msg string, _ ...any) {
	l.log.ErrorContext(ctx, "gorm: "+msg)
}

// ParamsFilter drops a statement's values, so GORM renders its SQL with
// placeholders only.
func (l sqlLog) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

// Trace logs a statement that was slow or failed for a reason of the
// database's own. fc is called only then: rendering the SQL costs time on
// every statement otherwise.
func (l sqlLog) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	if err != nil && expected(err) {
		err = nil
	}
	if err == nil && elapsed <= slowQuery {
		return
	}
	sql, rows := fc()
	attrs := []slog.Attr{slog.String("sql", sql), slog.Duration("duration", elapsed), slog.Int64("rows", rows)}
	if err != nil {
		l.log.LogAttrs(ctx, slog.LevelWarn, "SQL statement failed", append(attrs, slog.String("err", err.Error()))...)
		return
	}
	l.log.LogAttrs(ctx, slog.LevelWarn, "slow SQL statement", attrs...)
}

// expected reports whether a statement's error is an answer about the
// data (no such row, a duplicate, a missing parent) rather than a fault.
func expected(err error) bool {
	switch t := translate(err); {
	case errors.Is(t, alliance.ErrNotFound), errors.Is(t, alliance.ErrConflict),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return false
}
