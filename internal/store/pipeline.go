package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/groupcommit"
)

// PostgreSQL's write path. Concurrent writes are batched as on SQLite
// (groupcommit), and a batch is one transaction sent in one round trip:
// BEGIN, the statements, COMMIT, pipelined (pgx's batch; each statement
// prepared once per connection). One commit record and one WAL flush serve
// the batch, and the server parses and plans nothing per rating.
//
//   - Where every write of the batch begins with the same plain INSERTs (a
//     rating: its idempotency key, alert revision, the rating, the audit
//     entry and its event), each of them is sent once for the whole batch,
//     with a row per write; the rest of each write follows, write by write.
//   - Where a write has an op whose result decides it (a conditional
//     UPDATE that must match), COMMIT waits for the results: a second
//     round trip.
//
// Several batches commit at once (pipelineLoops), each on a connection of
// the pool, so that one batch is sent while another waits for its flush.
// A 2xx still means committed: groupcommit answers a write only after the
// COMMIT of its batch returned.

// pipelineLoops is how many batches may be in flight at once on one
// instance. Each holds a pool connection while it commits; the rest of the
// pool serves reads.
const pipelineLoops = 3

// writeTimeout bounds one batch when the store has no statement timeout:
// waiting for a pool connection, the round trips and the commit.
const writeTimeout = time.Minute

// someWrite is pipeline's "failed" when a write failed the batch but not
// which: a merged INSERT or a constraint checked at COMMIT (a deferred
// foreign key).
const someWrite = -2

// collided is pipeline's "failed" when PostgreSQL aborted the batch's
// transaction for colliding with another one (deadlock_detected,
// serialization_failure): nothing of the batch is stored, and its writes
// may well succeed again. Batches of writes that each lock their dyad's
// row (the alert revision, see alertOps) can deadlock when two batches
// hold writes of the same two dyads in opposite orders; PostgreSQL then
// aborts one of them.
const collided = -3

// collisionRetries bounds how often a write that collided is committed
// again, alone, before its caller gets the collision (503, retry).
const collisionRetries = 3

// commitPipelined is the groupcommit.Commit of PostgreSQL. It sends the
// batch as one transaction. If a write fails (its own error, such as a
// duplicate key, or an op's expectation), the transaction is rolled back
// and the batch split there: the writes before it are committed again
// without it, then it alone, then the ones after it; when it is not known
// which write failed, each is committed alone. Each write thus gets the
// outcome it would have had alone, in queue order. A collision with
// another transaction (see collided) is no write's fault: each write is
// committed again, alone. A failure of the transaction itself (the
// connection, the commit) is every write's: none of them is stored.
func (s *Store) commitPipelined(batch []groupcommit.Pending[[]op], errs []error) {
	for len(batch) > 0 {
		failed, err := s.pipeline(batch)
		switch {
		case err == nil:
			return
		case failed == collided:
			// Each write again, alone: a transaction of one write holds
			// the fewest locks.
			for i := range batch {
				s.commitAlone(batch[i:i+1], errs[i:i+1])
			}
			return
		case failed == someWrite && len(batch) > 1:
			for i := range batch {
				s.commitPipelined(batch[i:i+1], errs[i:i+1])
			}
			return
		case failed < 0 || len(batch) == 1:
			for i := range errs {
				errs[i] = err
			}
			return
		}
		if failed > 0 {
			s.commitPipelined(batch[:failed], errs[:failed])
		}
		s.commitPipelined(batch[failed:failed+1], errs[failed:failed+1])
		batch, errs = batch[failed+1:], errs[failed+1:]
	}
}

// commitAlone commits one write, again as long as it collides with other
// transactions, at most collisionRetries times.
func (s *Store) commitAlone(one []groupcommit.Pending[[]op], errs []error) {
	for attempt := 0; ; attempt++ {
		failed, err := s.pipeline(one)
		if failed != collided || attempt == collisionRetries {
			errs[0] = err
			return
		}
	}
}

// sent is one statement of a pipelined batch: the op whose result it
// reports, and the write it belongs to (someWrite for a merged INSERT).
type sent struct {
	op    op
	write int
}

// queue puts batch's statements into b, and reports whether any op's
// result must be seen before COMMIT. Where every write of the batch begins
// with the same plain INSERTs (a rating's idempotency key, alert revision,
// rating, audit entry and event), each of them is sent once for the whole
// batch, with a row per write; then each write's remaining statements (its
// alert changes, which differ from write to write), write by write.
func queue(b *pgx.Batch, batch []groupcommit.Pending[[]op]) (stmts []sent, expects bool) {
	merged := 0
	if len(batch) > 1 {
		merged = sameInserts(batch)
	}
	for k := range merged {
		o := batch[0].Write[k]
		args := make([]any, 0, len(o.args)*len(batch))
		for _, p := range batch {
			args = append(args, p.Write[k].args...)
		}
		b.Queue(o.st.rows(len(batch)), args...)
		stmts = append(stmts, sent{op: op{st: o.st, taken: o.taken}, write: someWrite})
	}
	for i, p := range batch {
		for _, o := range p.Write[merged:] {
			b.Queue(o.st.text, o.args...)
			stmts = append(stmts, sent{op: o, write: i})
			expects = expects || o.none != nil
		}
	}
	return stmts, expects
}

// sameInserts is how many statements every write of batch begins with
// that are the same plain INSERT (none of which expects a match).
func sameInserts(batch []groupcommit.Pending[[]op]) int {
	first := batch[0].Write
	for k, o := range first {
		if !o.st.inserts() || o.none != nil || o.count != nil {
			return k
		}
		for _, p := range batch[1:] {
			if k >= len(p.Write) {
				return k
			}
			if q := p.Write[k]; q.st != o.st || q.none != nil || q.count != nil || q.taken != o.taken {
				return k
			}
		}
	}
	return len(first)
}

// pipeline runs batch in one transaction on a pool connection and commits
// it. On failure it reports which write failed (failed ≥ 0, err that
// write's error), that some write did (someWrite), or, failed = -1, that
// the transaction failed as a whole; either way nothing of the batch is
// stored, or (a connection lost during COMMIT) it is not known whether it
// was, as for any transaction.
func (s *Store) pipeline(batch []groupcommit.Pending[[]op]) (failed int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.writeTimeout())
	defer cancel()
	conn, err := s.pool.conn(ctx)
	if err != nil {
		return -1, s.unavailable(err)
	}
	defer conn.Close()
	failed = -1
	collision := false
	rawErr := conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, 2+len(batch)*4)}
		b.Queue("BEGIN")
		stmts, expects := queue(b, batch)
		if !expects {
			b.Queue("COMMIT")
		}
		br := pc.SendBatch(ctx, b)
		if _, err = br.Exec(); err == nil {
			for _, st := range stmts {
				tag, e := br.Exec()
				collision = collision || collides(e)
				if e = st.op.outcome(tag.RowsAffected(), e); e != nil {
					failed, err = st.write, e
					break
				}
			}
		}
		if err == nil && !expects {
			if _, err = br.Exec(); err != nil { // COMMIT
				failed = -1
			}
		}
		if closeErr := br.Close(); err == nil && closeErr != nil {
			err = closeErr
		}
		switch {
		case err == nil && expects:
			if _, err = pc.Exec(ctx, "COMMIT"); err != nil {
				failed = -1
			}
		case err != nil && pc.PgConn().TxStatus() != 'I':
			if _, rb := pc.Exec(ctx, "ROLLBACK"); rb != nil {
				return driver.ErrBadConn // the pool discards the connection
			}
		}
		if pc.IsClosed() || pc.PgConn().TxStatus() != 'I' {
			return driver.ErrBadConn // never hand on a connection inside a transaction
		}
		return nil
	})
	if err == nil && rawErr != nil {
		err = rawErr
	}
	collision = collision || collides(err)
	err = translate(err)
	switch {
	case collision && err != nil:
		return collided, err
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn):
		return -1, s.unavailable(err)
	case errors.Is(err, alliance.ErrUnavailable):
		// Not the write's doing: the database or the connection failed
		// the whole batch.
		return -1, err
	case failed == -1 && errors.Is(err, alliance.ErrConflict):
		return someWrite, err // a deferred constraint, at COMMIT
	}
	return failed, err
}

// unavailable is a batch that could not be written in time or lost its
// connection: ErrUnavailable (503, retry).
func (s *Store) unavailable(err error) error {
	if errors.Is(err, alliance.ErrUnavailable) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: the write did not finish within %v", alliance.ErrUnavailable, s.writeTimeout())
	}
	return fmt.Errorf("%w: %v", alliance.ErrUnavailable, err)
}

// writeTimeout bounds one pipelined batch: the statement timeout (as a
// single statement would have had) or, without one, writeTimeout.
func (s *Store) writeTimeout() time.Duration {
	if s.statementTimeout > 0 {
		return s.statementTimeout
	}
	return writeTimeout
}

// collides reports whether err is PostgreSQL aborting a transaction for a
// collision with another: a deadlock or a serialization failure.
func collides(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}
