package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/groupcommit"
)

// PostgreSQL's write path. Concurrent writes are batched as on SQLite
// (groupcommit), and a batch is sent in one round trip: BEGIN and every
// statement of every write, pipelined (pgx's batch, each statement
// prepared once per connection), then COMMIT once the results are in. One
// commit record and one WAL flush serve the batch, and the server parses
// and plans nothing per rating. Several batches commit at once
// (pipelineLoops), each on a connection of the pool, so that one batch is
// sent while another waits for its flush.
//
// A 2xx still means committed: groupcommit answers a write only after the
// COMMIT of its batch returned.

// pipelineLoops is how many batches may be in flight at once on one
// instance. Each holds a pool connection while it commits; the rest of the
// pool serves reads.
const pipelineLoops = 3

// writeTimeout bounds one batch when the store has no statement timeout:
// waiting for a pool connection, the round trips and the commit.
const writeTimeout = time.Minute

// commitPipelined is the groupcommit.Commit of PostgreSQL. It sends the
// batch as one transaction. If a write fails (its own error, such as a
// duplicate key, or an op's expectation), the transaction is rolled back
// and the batch split there: the writes before it are committed again
// without it, then it alone, then the ones after it. Each write thus gets
// the outcome it would have had alone, in queue order. A failure of the
// transaction itself (the connection, the commit) is every write's: none
// of them is stored.
func (s *Store) commitPipelined(batch []groupcommit.Pending[[]op], errs []error) {
	for len(batch) > 0 {
		failed, err := s.pipeline(batch)
		switch {
		case err == nil:
			return
		case failed < 0 && len(batch) > 1 && errors.Is(err, alliance.ErrConflict):
			// A constraint checked at COMMIT (a deferred foreign key):
			// some write's, but not known whose. One at a time.
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

// pipeline runs batch in one transaction on a pool connection and commits
// it. On failure it reports which write failed (failed ≥ 0, err that
// write's error) or, failed < 0, that the transaction failed as a whole;
// either way nothing of the batch is stored, or (a connection lost during
// COMMIT) it is not known whether it was, as for any transaction.
func (s *Store) pipeline(batch []groupcommit.Pending[[]op]) (failed int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.writeTimeout())
	defer cancel()
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return -1, translate(err)
	}
	defer conn.Close()
	failed = -1
	rawErr := conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, 1+len(batch)*4)}
		b.Queue("BEGIN")
		for _, p := range batch {
			for _, o := range p.Write {
				b.Queue(o.st.text, o.args...)
			}
		}
		br := pc.SendBatch(ctx, b)
		if _, err = br.Exec(); err == nil {
		writes:
			for i, p := range batch {
				for _, o := range p.Write {
					tag, e := br.Exec()
					if e = o.outcome(tag.RowsAffected(), e); e != nil {
						failed, err = i, e
						break writes
					}
				}
			}
		}
		closeErr := br.Close()
		if err == nil && closeErr != nil {
			err = closeErr
		}
		if err == nil {
			if _, err = pc.Exec(ctx, "COMMIT"); err != nil {
				failed = -1
			}
		} else if _, rb := pc.Exec(ctx, "ROLLBACK"); rb != nil {
			return driver.ErrBadConn // the pool discards the connection
		}
		if pc.IsClosed() || pc.PgConn().TxStatus() != 'I' {
			return driver.ErrBadConn // never hand on a connection inside a transaction
		}
		return nil
	})
	if err == nil && rawErr != nil {
		err = fmt.Errorf("%w: %v", alliance.ErrUnavailable, rawErr)
	}
	err = translate(err)
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: the write did not finish in %v", alliance.ErrUnavailable, s.writeTimeout())
	}
	if errors.Is(err, alliance.ErrUnavailable) {
		// Not the write's doing: the database, the connection or the
		// timeout failed the whole batch.
		failed = -1
	}
	return failed, err
}

// writeTimeout bounds one pipelined batch: the statement timeout (as a
// single statement would have had) or, without one, writeTimeout.
func (s *Store) writeTimeout() time.Duration {
	if s.statementTimeout > 0 {
		return s.statementTimeout
	}
	return writeTimeout
}
