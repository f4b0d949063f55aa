package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
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
// the batch, and the server parses and plans nothing per rating
// (planGenericSQL).
//
//   - Where every write of the batch begins with the same plain INSERTs (a
//     rating: its idempotency key, the rating, the audit
//     entry and its event), each of them is sent once for the whole batch,
//     with a row per write; the rest of each write follows, write by write.
//   - Where a write has an op whose result decides it (a conditional
//     UPDATE that must match), COMMIT waits for the results: one more
//     round trip.
//   - Where writes evaluate alerts (rating writes, alertStep), a first
//     round trip begins the transaction, locks their dyads and reads what
//     the alerts of each are computed from, all pipelined; the writes and
//     their alert changes follow in the next. Two writes of one dyad are
//     never evaluated in one batch (their reads would both miss the
//     other's write): the batch is cut before the second, which commits
//     in the next transaction.
//
// Several batches commit at once (pipelineLoops), each on a connection of
// the pool, so that one batch is sent while another waits for its flush.
// A 2xx still means committed: groupcommit answers a write only after the
// COMMIT of its batch returned.

// pipelineLoops is how many batches may be in flight at once on one
// instance. Each holds a pool connection while it commits; the rest of the
// pool serves reads. Two, not three: in paired runs on two cores two gave
// 3–8 % more ratings a second with alerts raised and 4–9 % more without
// (larger batches, fewer statements and transactions, fewer PostgreSQL
// processes competing for the cores), at the same or a lower p99. It also
// bounds what one instance can write: each batch runs in one PostgreSQL
// process, so about two processes' worth of CPU (docs/performance.md).
const pipelineLoops = 2

// planGenericSQL makes PostgreSQL plan each statement of a batch with
// alert evaluations once per connection, as it was prepared, instead of
// again for every execution. For a prepared statement PostgreSQL weighs
// the plan for any parameters against plans for the values given, and
// keeps planning for the values while that looks cheaper. The rating
// path's reads bound a session by a parameter (the later ratings of the
// rater, the unresolved alerts from the nearest earlier session on):
// the plan for any session estimates a third of the dyad's rows, the plan
// for the written one, the dyad's latest, almost none, so PostgreSQL
// planned both reads on every execution, though the plan it made was the
// plan for any session (the same index scans). Over 32 dyads of up to 900
// ratings each, that planning took 0.20 ms of PostgreSQL's CPU a rating,
// more than running every statement of the rating (docs/performance.md);
// it grows with a dyad's history. SET LOCAL ends with the transaction, so
// other statements on the connection keep PostgreSQL's choice, and it
// holds through PgBouncer in transaction mode.
const planGenericSQL = "SET LOCAL plan_cache_mode = force_generic_plan"

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
// may well succeed again. The alert locks of a batch's dyads are taken in
// id order (alertLockSQL), but batches of writes that lock other rows
// (a unique index's entry, another write's rows) can still deadlock;
// PostgreSQL then aborts one of them.
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
func (s *Store) commitPipelined(batch []groupcommit.Pending[write], errs []error) {
	if n := distinctDyads(batch); n < len(batch) {
		s.commitPipelined(batch[:n], errs[:n])
		s.commitPipelined(batch[n:], errs[n:])
		return
	}
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
func (s *Store) commitAlone(one []groupcommit.Pending[write], errs []error) {
	for attempt := 0; ; attempt++ {
		failed, err := s.pipeline(one)
		if failed != collided || attempt == collisionRetries {
			errs[0] = err
			return
		}
	}
}

// distinctDyads is how many writes batch begins with of which no two
// evaluate the alerts of the same dyad.
func distinctDyads(batch []groupcommit.Pending[write]) int {
	var seen map[string]bool
	for i, p := range batch {
		a := p.Write.alerts
		if a == nil {
			continue
		}
		if seen[a.dyadID] {
			return i
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		seen[a.dyadID] = true
	}
	return len(batch)
}

// sent is one statement of a pipelined batch: the op whose result it
// reports, and the write it belongs to (someWrite for a merged INSERT).
type sent struct {
	op    op
	write int
}

// queue puts the statements of writes (each write's ops) into b, then
// shared, ops that belong to several writes (the alert changes of a batch
// of rating writes, see evaluate), and reports whether any op's result
// must be seen before COMMIT. Where every write of the batch begins with
// the same plain INSERTs (a rating's idempotency key, rating, audit entry
// and event), each of them is sent once for the whole batch, with a row
// per write; then each write's remaining statements, write by write.
func queue(b *pgx.Batch, writes [][]op, shared []op) (stmts []sent, expects bool) {
	merged := 0
	if len(writes) > 1 {
		merged = sameInserts(writes)
	}
	for k := range merged {
		o := writes[0][k]
		args := make([]any, 0, len(o.args)*len(writes))
		for _, w := range writes {
			args = append(args, w[k].args...)
		}
		b.Queue(o.st.rows(len(writes)), args...)
		stmts = append(stmts, sent{op: op{st: o.st, taken: o.taken}, write: someWrite})
	}
	for i, w := range writes {
		for _, o := range w[merged:] {
			b.Queue(o.text(), o.args...)
			stmts = append(stmts, sent{op: o, write: i})
			expects = expects || o.none != nil
		}
	}
	for _, o := range shared {
		b.Queue(o.text(), o.args...)
		stmts = append(stmts, sent{op: o, write: someWrite})
		expects = expects || o.none != nil
	}
	return stmts, expects
}

// sameInserts is how many statements every write begins with that are
// the same plain INSERT (none of which expects a match).
func sameInserts(writes [][]op) int {
	first := writes[0]
	for k, o := range first {
		if !o.st.inserts() || o.none != nil || o.count != nil {
			return k
		}
		for _, w := range writes[1:] {
			if k >= len(w) {
				return k
			}
			if q := w[k]; q.st != o.st || q.none != nil || q.count != nil || q.taken != o.taken {
				return k
			}
		}
	}
	return len(first)
}

// evaluate is the first round trip of a batch with alert evaluations:
// BEGIN, generic plans (planGenericSQL), the alert locks of their dyads,
// and each one's reads, pipelined.
// It returns each write's ops, its alert changes appended; or, when every
// write of the batch is a rating write (so that each touches its own
// dyad's alerts and rows only, see distinctDyads), the alert changes of
// all of them as shared, each kind's in one statement. Or it returns which
// write failed (failed ≥ 0, err that write's error), or, failed = -1, that
// the round trip did. The transaction is open either way.
func (s *Store) evaluate(ctx context.Context, pc *pgx.Conn, batch []groupcommit.Pending[write]) (writes [][]op, shared []op, failed int, err error) {
	writes = make([][]op, len(batch))
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(planGenericSQL)
	var dyads []string
	for _, p := range batch {
		if a := p.Write.alerts; a != nil {
			dyads = append(dyads, a.dyadID)
		}
	}
	slices.Sort(dyads)
	for _, d := range dyads {
		b.Queue(s.sql.alertLock.text, d)
	}
	reads := make([][3]read, len(batch))
	for i, p := range batch {
		if a := p.Write.alerts; a != nil {
			reads[i] = s.alertReads(a)
			for _, rd := range reads[i] {
				b.Queue(rd.st.text, rd.args...)
			}
		}
	}
	br := pc.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			failed, err = -1, cerr
		}
	}()
	for range 2 + len(dyads) { // BEGIN, SET LOCAL, the locks
		if _, err := br.Exec(); err != nil {
			return nil, nil, -1, err
		}
	}
	// Every write a rating write (each of its own dyad): their alert
	// changes are made together, kind by kind.
	share := len(dyads) == len(batch)
	changes := make([]alertChanges, len(batch))
	for i, p := range batch {
		writes[i] = p.Write.ops
		a := p.Write.alerts
		if a == nil {
			continue
		}
		var ac alliance.AlertContext
		for _, rd := range reads[i] {
			rows, err := br.Query()
			if err == nil {
				err = rd.scan(&ac, rows)
				rows.Close()
			}
			if err == nil {
				err = rows.Err()
			}
			if err != nil {
				return nil, nil, i, translate(err)
			}
		}
		c := &changes[i]
		if share {
			c = &changes[0]
		}
		if err := s.addEffects(c, a, ac); err != nil {
			return nil, nil, i, err
		}
	}
	if share {
		return writes, changes[0].ops(s.sql, true), -1, nil
	}
	for i := range changes {
		writes[i] = append(slices.Clip(writes[i]), changes[i].ops(s.sql, true)...)
	}
	return writes, nil, -1, nil
}

// pipeline runs batch in one transaction on a pool connection and commits
// it. On failure it reports which write failed (failed ≥ 0, err that
// write's error), that some write did (someWrite), or, failed = -1, that
// the transaction failed as a whole; either way nothing of the batch is
// stored, or (a connection lost during COMMIT) it is not known whether it
// was, as for any transaction.
func (s *Store) pipeline(batch []groupcommit.Pending[write]) (failed int, err error) {
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
		var writes [][]op
		var shared []op
		begun := evaluates(batch)
		if begun {
			writes, shared, failed, err = s.evaluate(ctx, pc, batch)
		} else {
			writes = make([][]op, len(batch))
			for i, p := range batch {
				writes[i] = p.Write.ops
			}
		}
		if err == nil {
			failed, err = send(ctx, pc, writes, shared, begun)
		}
		collision = collides(err)
		if err != nil && pc.PgConn().TxStatus() != 'I' {
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

// evaluates reports whether a write of batch evaluates alerts.
func evaluates(batch []groupcommit.Pending[write]) bool {
	for _, p := range batch {
		if p.Write.alerts != nil {
			return true
		}
	}
	return false
}

// send runs writes (each write's ops) in the transaction on pc, begun
// already or (begun false) with BEGIN sent first, and commits it: in one
// round trip, or two when an op's result must be seen before COMMIT. It
// reports which write failed, as pipeline does; a collision is left for
// pipeline to find in err.
func send(ctx context.Context, pc *pgx.Conn, writes [][]op, shared []op, begun bool) (failed int, err error) {
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, 2+len(writes)*6)}
	if !begun {
		b.Queue("BEGIN")
	}
	stmts, expects := queue(b, writes, shared)
	if !expects {
		b.Queue("COMMIT")
	}
	br := pc.SendBatch(ctx, b)
	failed = -1
	if !begun {
		_, err = br.Exec()
	}
	for i := 0; err == nil && i < len(stmts); i++ {
		tag, e := br.Exec()
		if collides(e) {
			err = e // the transaction's, not the write's
			break
		}
		if e = stmts[i].op.outcome(tag.RowsAffected(), e); e != nil {
			failed, err = stmts[i].write, e
		}
	}
	if err == nil && !expects {
		_, err = br.Exec() // COMMIT
	}
	if closeErr := br.Close(); err == nil && closeErr != nil {
		err = closeErr
	}
	if err == nil && expects {
		_, err = pc.Exec(ctx, "COMMIT")
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
