package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/groupcommit"
	"github.com/alliance-project/alliance/migrations"
)

// write is the seam every write of the store passes through: fn's
// statements and the audit entries run in one transaction, so the audit
// log holds exactly the writes that were committed. On SQLite the
// transaction is shared with concurrent writes by the group-commit writer
// (one commit and one fsync per batch); on PostgreSQL each write has a
// transaction of its own on a pooled connection. Errors come back
// translated into the domain's sentinels.
func (s *Store) write(ctx context.Context, audit []alliance.AuditEntry, fn func(tx *writeTx) error) error {
	run := func(ctx context.Context, tx *sql.Tx) error {
		w := &writeTx{ctx: ctx, tx: tx, s: s}
		if err := fn(w); err != nil {
			return err
		}
		for _, e := range audit {
			if err := w.exec(s.sql.insertAudit, auditArgs(e)...); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	if s.writer != nil {
		err = s.writer.Do(ctx, run)
		if errors.Is(err, groupcommit.ErrClosed) {
			err = fmt.Errorf("store closed: %w", alliance.ErrUnavailable)
		}
	} else {
		err = s.transaction(ctx, run)
	}
	err = translate(err)
	s.writes.record(err)
	return err
}

// transaction runs fn in a transaction of its own.
func (s *Store) transaction(ctx context.Context, fn groupcommit.Func) error {
	tx, err := s.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	// An error raised at COMMIT (a deferred constraint, a lost
	// connection) comes from here, not from fn.
	return tx.Commit()
}

// writeTx is a write's view of its transaction: it runs the store's
// statements, prepared where the backend benefits.
type writeTx struct {
	ctx context.Context
	tx  *sql.Tx
	s   *Store
}

// exec runs st with args and translates its error.
func (w *writeTx) exec(st *statement, args ...any) error {
	_, err := w.execResult(st, args...)
	return err
}

// update runs st, an UPDATE, and reports whether it matched a row.
func (w *writeTx) update(st *statement, args ...any) (matched bool, err error) {
	res, err := w.execResult(st, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, translate(err)
}

func (w *writeTx) execResult(st *statement, args ...any) (sql.Result, error) {
	var res sql.Result
	var err error
	if p := st.prepared(); p != nil {
		res, err = w.tx.StmtContext(w.ctx, p).ExecContext(w.ctx, args...)
	} else {
		res, err = w.tx.ExecContext(w.ctx, st.text, args...)
	}
	return res, translate(err)
}

// statement is one SQL statement of the write path, written out once
// with ? placeholders and rebound to the backend's at open.
//
// On SQLite it is prepared on the writer's one connection, once the
// schema is there: SQLite compiles every statement it is given, and the
// writer runs every write of the service. On PostgreSQL pgx prepares and
// caches each statement per connection by itself.
type statement struct {
	text string
	stmt atomic.Pointer[sql.Stmt] // nil until prepared; only on SQLite
}

func (st *statement) prepared() *sql.Stmt { return st.stmt.Load() }

// statements are the store's write statements.
type statements struct {
	insertStudy, insertDyad, withdrawDyad                   *statement
	insertRating, insertIdempotency, supersede, voidRating  *statement
	insertKey, revokeKey                                    *statement
	insertInvitation, useInvitation, revokeInvitation       *statement
	revokeDyadInvitations, insertAudit                      *statement
	redactDyadAudit, eraseDyadKeys, eraseDyadInvitations    *statement
	eraseDyadRatings, eraseDyad                             *statement
	redactStudyAudit, eraseStudyKeys, eraseStudyInvitations *statement
	eraseStudyRatings, eraseStudyDyads, eraseStudyAPIKeys   *statement
	eraseStudyUISessions, eraseStudy                        *statement
	insertUISession, endUISession                           *statement
	insertInstrument                                        *statement
	list                                                    []*statement
}

func newStatements(d migrations.Dialect) *statements {
	s := &statements{}
	for _, f := range []struct {
		field **statement
		sql   string
	}{
		{&s.insertStudy, insertStudySQL}, {&s.insertDyad, insertDyadSQL}, {&s.withdrawDyad, withdrawDyadSQL},
		{&s.insertRating, insertRatingSQL}, {&s.insertIdempotency, insertIdempotencySQL},
		{&s.supersede, supersedeSQL}, {&s.voidRating, voidRatingSQL},
		{&s.insertKey, insertKeySQL}, {&s.revokeKey, revokeKeySQL},
		{&s.insertInvitation, insertInvitationSQL}, {&s.useInvitation, useInvitationSQL},
		{&s.revokeInvitation, revokeInvitationSQL}, {&s.revokeDyadInvitations, revokeDyadInvitationsSQL},
		{&s.insertAudit, insertAuditSQL},
		{&s.redactDyadAudit, redactDyadAuditSQL}, {&s.eraseDyadKeys, eraseDyadKeysSQL},
		{&s.eraseDyadInvitations, eraseDyadInvitationsSQL}, {&s.eraseDyadRatings, eraseDyadRatingsSQL},
		{&s.eraseDyad, eraseDyadSQL},
		{&s.redactStudyAudit, redactStudyAuditSQL}, {&s.eraseStudyKeys, eraseStudyKeysSQL},
		{&s.eraseStudyInvitations, eraseStudyInvitationsSQL}, {&s.eraseStudyRatings, eraseStudyRatingsSQL},
		{&s.eraseStudyDyads, eraseStudyDyadsSQL}, {&s.eraseStudyAPIKeys, eraseStudyAPIKeysSQL},
		{&s.eraseStudyUISessions, eraseStudyUISessionsSQL}, {&s.eraseStudy, eraseStudySQL},
		{&s.insertUISession, insertUISessionSQL}, {&s.endUISession, endUISessionSQL},
		{&s.insertInstrument, insertInstrumentSQL},
	} {
		*f.field = &statement{text: rebind(d, f.sql)}
		s.list = append(s.list, *f.field)
	}
	return s
}

func (s *statements) all() []*statement { return s.list }

// prepare prepares every statement on db, the writer's connection. It is
// called at open and after migrations; before the schema exists a
// statement fails to prepare and runs unprepared until then.
func (s *statements) prepare(ctx context.Context, db *sql.DB) {
	for _, st := range s.all() {
		if st.prepared() != nil {
			continue
		}
		if p, err := db.PrepareContext(ctx, st.text); err == nil {
			st.stmt.Store(p)
		}
	}
}

func (s *statements) close() {
	for _, st := range s.all() {
		if p := st.prepared(); p != nil {
			_ = p.Close()
		}
	}
}

// rebind turns the ? placeholders of q into PostgreSQL's $1, $2, …. The
// store's statements hold no ? inside literals.
func rebind(d migrations.Dialect, q string) string {
	if d != migrations.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
