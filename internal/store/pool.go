package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
)

// boundedPool is PostgreSQL's connection pool as the store's reads (GORM
// and plain SQL) and the pipelined writer see it: a caller waits at most
// wait for a free connection of this instance's pool, then gets
// ErrUnavailable (503 with Retry-After) instead of queueing for as long as
// its request lives. database/sql has no such bound: a context bounds the
// wait and the query together, and an export's query may rightly run for
// longer than anyone should wait for a connection.
//
// Each call takes a connection with the bounded wait, runs on it, and
// hands it back once its rows are closed (sql.Conn.Close waits for them).
type boundedPool struct {
	db   *sql.DB
	wait time.Duration
}

// queryer is what the store's plain SQL reads need of a pool: the bounded
// pool on PostgreSQL, the *sql.DB on SQLite.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanOne scans the one row of a query into dest: ErrNotFound without
// one, other errors translated. (It takes the rows rather than a *sql.Row,
// which cannot carry the pool's own error.)
func scanOne(rows *sql.Rows, err error) func(dest ...any) error {
	return func(dest ...any) error {
		if err != nil {
			return translate(err)
		}
		defer rows.Close()
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return translate(err)
			}
			return alliance.ErrNotFound
		}
		if err := rows.Scan(dest...); err != nil {
			return translate(err)
		}
		return translate(rows.Close())
	}
}

// errPoolExhausted is the error of a caller that found no free connection
// in time.
var errPoolExhausted = errors.New("every database connection of this instance is busy")

// conn takes a connection from the pool, waiting at most p.wait (no bound
// if 0) and never past ctx.
func (p *boundedPool) conn(ctx context.Context) (*sql.Conn, error) {
	if p.wait <= 0 {
		return p.db.Conn(ctx)
	}
	wctx, cancel := context.WithTimeout(ctx, p.wait)
	defer cancel()
	c, err := p.db.Conn(wctx)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("%w: %w for %v", alliance.ErrUnavailable, errPoolExhausted, p.wait)
	}
	return c, err
}

// ExecContext runs a statement on a connection of its own.
func (p *boundedPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ExecContext(ctx, query, args...)
}

// QueryContext runs a query on a connection that goes back to the pool
// when the rows are closed.
func (p *boundedPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.QueryContext(ctx, query, args...)
	if err != nil {
		c.Close()
		return nil, err
	}
	go c.Close() // returns once the caller has closed rows
	return rows, nil
}

// QueryRowContext runs a one-row query; its connection goes back to the
// pool once the row is scanned.
func (p *boundedPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	c, err := p.conn(ctx)
	if err != nil {
		// A *sql.Row can only carry a context's error: one that expired,
		// which callers report as unavailable (503) as they do err.
		expired, cancel := context.WithDeadline(ctx, time.Time{})
		defer cancel()
		return p.db.QueryRowContext(expired, query, args...)
	}
	row := c.QueryRowContext(ctx, query, args...)
	go c.Close() // returns once the caller has scanned the row
	return row
}

// PrepareContext prepares on the pool (GORM's interface; the store does
// not prepare reads).
func (p *boundedPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.db.PrepareContext(ctx, query)
}

// BeginTx begins a transaction on a connection that goes back to the pool
// when it ends.
func (p *boundedPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.BeginTx(ctx, opts)
	if err != nil {
		c.Close()
		return nil, err
	}
	go c.Close() // returns once the transaction has ended
	return tx, nil
}

// GetDBConn gives GORM the pool behind (gorm.DB.DB).
func (p *boundedPool) GetDBConn() (*sql.DB, error) { return p.db, nil }
