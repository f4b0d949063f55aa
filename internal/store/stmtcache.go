package store

import (
	"context"
	"database/sql"

	lru "github.com/hashicorp/golang-lru/v2"
)

// cachedStatements bounds the writer's prepared statements. A rating
// submission needs three (idempotency key, rating, the batch's audit
// entries); the audit INSERT has one form per number of rows in a batch,
// and every other kind of write adds a few.
const cachedStatements = 256

// stmtCache keeps the writer's statements prepared. SQLite compiles every
// statement it is given; with one writer running every write of the
// service, compiling the same few INSERTs again for each rating was an
// eighth of its time. GORM's own PrepareStmt cannot help inside a
// transaction: it prepares on the transaction, and database/sql closes
// such statements when the transaction ends.
//
// The statements are prepared on the writer's database, which has exactly
// one connection, so database/sql's Tx.StmtContext finds each already
// prepared on the connection the transaction holds. That connection is
// busy while a transaction runs, so a statement not yet cached runs
// unprepared and is prepared after the transaction ends (prepareMissed).
type stmtCache struct {
	db     *sql.DB
	stmts  *lru.Cache[string, *sql.Stmt]
	missed []string
}

func newStmtCache(db *sql.DB) *stmtCache {
	// lru.NewWithEvict fails only for a size ≤ 0.
	stmts, _ := lru.NewWithEvict(cachedStatements, func(_ string, st *sql.Stmt) { _ = st.Close() })
	return &stmtCache{db: db, stmts: stmts}
}

// get returns query prepared on tx's connection, or nil if it is not
// cached yet. Only the writer's goroutine uses the cache.
func (c *stmtCache) get(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	st, ok := c.stmts.Get(query)
	if !ok {
		c.missed = append(c.missed, query)
		return nil
	}
	return tx.StmtContext(ctx, st)
}

// prepareMissed prepares the statements that missed the cache, once the
// writer's connection is free again. A statement that fails to prepare
// is left out; it fails again, with its error, when a write runs it.
func (c *stmtCache) prepareMissed(ctx context.Context) {
	for _, q := range c.missed {
		if c.stmts.Contains(q) {
			continue
		}
		if st, err := c.db.PrepareContext(ctx, q); err == nil {
			c.stmts.Add(q, st)
		}
	}
	c.missed = c.missed[:0]
}

// close closes every statement.
func (c *stmtCache) close() { c.stmts.Purge() }

// cachedTx is the writer's transaction as GORM's connection pool: every
// statement GORM runs in it goes through the statement cache.
type cachedTx struct {
	*sql.Tx
	cache *stmtCache
}

func (t *cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.cache.get(ctx, t.Tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.cache.get(ctx, t.Tx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.cache.get(ctx, t.Tx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}
