// Package groupcommit runs the write transactions of concurrent callers
// together: the writes that queue while one transaction commits share the
// next one, and with it one commit and one sync of the log to disk.
//
// Most of a small write's cost is its transaction: the commit's sync on
// SQLite, the round trips and the commit record on PostgreSQL. Sharing
// them is what lets writes keep up with concurrent requests. Durability is
// unchanged: Do returns only after the commit that holds the write
// returned, so a caller that answers "stored" after Do has stored it.
//
// The package knows nothing of the data: a Writer queues writes of any
// type and hands them in batches to a Commit function. Tx is the Commit of
// a database/sql database with a single writer (SQLite).
package groupcommit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// DefaultMaxBatch bounds how many writes share one transaction, so that
// one batch cannot hold the database's write lock for long.
const DefaultMaxBatch = 64

// ErrClosed is returned for a write offered after Close.
var ErrClosed = errors.New("groupcommit: writer closed")

// Pending is one caller's write handed to a Commit, with the caller's
// context. The context carries the caller's values; a Commit must not let
// its cancellation interrupt the batch halfway (see context.WithoutCancel):
// that would abort the other callers' writes with it.
type Pending[W any] struct {
	Ctx   context.Context
	Write W
}

// Commit stores a batch of writes, in order, in as few transactions as
// it can, and sets errs[i] to the outcome of batch[i]: nil once the
// transaction that holds it has committed, its own error, or the
// transaction's. With Options.Loops above one, several batches may be
// committing at once.
type Commit[W any] func(batch []Pending[W], errs []error)

// Options tune a Writer.
type Options struct {
	// MaxBatch bounds the writes of one batch (DefaultMaxBatch if 0).
	MaxBatch int
	// Loops is how many batches may commit at once (1 if 0): one where
	// the database has a single writer (SQLite); more where commits
	// proceed in parallel (PostgreSQL), so that one batch is formed and
	// sent while another waits for its sync.
	Loops int
	// OnCommit is called on the writer's goroutine after every commit
	// that stored at least one write (e.g. to schedule a checkpoint).
	OnCommit func()
}

// Writer runs writes in batches on Options.Loops goroutines.
type Writer[W any] struct {
	commit Commit[W]
	opts   Options
	queue  chan *write[W]
	// mu guards closed: Do queues under the read lock, so once Close has
	// set closed no write can join the queue behind the loops' backs.
	mu     sync.RWMutex
	closed bool
	quit   chan struct{}
	loops  sync.WaitGroup
}

// write is one caller's write waiting for a commit.
type write[W any] struct {
	Pending[W]
	done chan error // receives the outcome once it is durable (or not)
}

// New starts a writer that stores batches with commit.
func New[W any](commit Commit[W], o Options) *Writer[W] {
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.Loops <= 0 {
		o.Loops = 1
	}
	w := &Writer[W]{commit: commit, opts: o, queue: make(chan *write[W], o.MaxBatch*o.Loops), quit: make(chan struct{})}
	for range o.Loops {
		w.loops.Go(w.loop)
	}
	return w
}

// Do queues wr and waits for its outcome: nil once the transaction that
// stored it committed, the write's own error, or the transaction's. It
// keeps waiting after ctx ends once wr is queued, because the outcome
// (committed or not) must be reported truthfully; a queued write whose
// context has ended by its turn is skipped with ctx's error.
func (w *Writer[W]) Do(ctx context.Context, wr W) error {
	p := &write[W]{Pending: Pending[W]{Ctx: ctx, Write: wr}, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.queue <- p:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	return <-p.done
}

// Queued reports how many writes wait for the next batch.
func (w *Writer[W]) Queued() int { return len(w.queue) }

// Close stops the writer after the batches in progress. Writes still
// queued and writes offered afterwards get ErrClosed.
func (w *Writer[W]) Close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	close(w.quit)
	w.loops.Wait()
}

func (w *Writer[W]) loop() {
	for {
		var batch []*write[W]
		select {
		case p := <-w.queue:
			batch = append(batch, p)
		case <-w.quit:
			for {
				select {
				case p := <-w.queue:
					p.done <- ErrClosed
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < w.opts.MaxBatch {
			select {
			case p := <-w.queue:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		w.run(batch)
	}
}

// run commits the writes of batch whose callers still wait, and tells
// every write its outcome after the commit.
func (w *Writer[W]) run(batch []*write[W]) {
	live := make([]Pending[W], 0, len(batch))
	waiting := make([]*write[W], 0, len(batch))
	for _, p := range batch {
		if err := p.Ctx.Err(); err != nil {
			p.done <- err
			continue
		}
		live, waiting = append(live, p.Pending), append(waiting, p)
	}
	if len(live) == 0 {
		return
	}
	errs := make([]error, len(live))
	w.commit(live, errs)
	stored := false
	for i, p := range waiting {
		stored = stored || errs[i] == nil
		p.done <- errs[i]
	}
	if stored && w.opts.OnCommit != nil {
		w.opts.OnCommit()
	}
}

// Tx is the Commit of a database whose writes all go through one
// connection (give db a single connection where the database has a single
// writer, as SQLite: then the transactions never wait for another
// connection's). run stores one write through tx and must leave tx usable:
// an error it returns rolls back its own statements only.
//
// A batch first runs its writes one after another with nothing around
// them. If every write succeeds (the usual case) the batch commits. If
// one fails, the batch is rolled back and run again with a savepoint
// around each write, so the failing write rolls back alone.
func Tx[W any](db *sql.DB, run func(ctx context.Context, tx *sql.Tx, w W) error) Commit[W] {
	return func(batch []Pending[W], errs []error) {
		retry, err := txRun(db, run, batch, errs, false)
		if retry {
			clear(errs)
			_, err = txRun(db, run, batch, errs, true)
		}
		if err != nil {
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		}
	}
}

// txRun runs the batch in one transaction, each write in a savepoint of
// its own if isolate is set, and commits. Without isolate, the first write
// to fail rolls everything back and txRun reports retry. err is a failure
// of the transaction itself, which every write without an error of its own
// shares: nothing of the batch is stored.
func txRun[W any](db *sql.DB, run func(context.Context, *sql.Tx, W) error, batch []Pending[W], errs []error, isolate bool) (retry bool, err error) {
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		return false, err
	}
	exec := func(q string) error {
		_, err := tx.Exec(q)
		return err
	}
	for i, p := range batch {
		if isolate {
			if err := exec("SAVEPOINT w"); err != nil {
				_ = tx.Rollback()
				return false, err
			}
		}
		if err := run(context.WithoutCancel(p.Ctx), tx, p.Write); err != nil {
			errs[i] = err
			if !isolate {
				_ = tx.Rollback()
				return true, nil
			}
			if rb := exec("ROLLBACK TO SAVEPOINT w"); rb != nil {
				// The database may have rolled the whole transaction back
				// (disk full, I/O error): nothing of this batch is stored.
				_ = tx.Rollback()
				return false, fmt.Errorf("roll back a failed write: %w", rb)
			}
		}
		if isolate {
			if err := exec("RELEASE SAVEPOINT w"); err != nil {
				_ = tx.Rollback()
				return false, err
			}
		}
	}
	return false, tx.Commit()
}
