// Package groupcommit runs the write transactions of concurrent callers
// together: the writes that queue while one transaction commits share the
// next one, and with it one commit and one sync of the log to disk.
//
// SQLite has a single writer, and most of a write's time is its commit;
// sharing the commit is what lets writes keep up with concurrent
// requests. Durability is unchanged: Do returns only after the commit
// that holds the write returned, so a caller that answers "stored" after
// Do has stored it.
//
// The package knows nothing of the data: it is handed a database and
// functions that write through a *sql.Tx, and returns their errors and
// the database's as they are.
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

// Func is one caller's write. It runs inside a transaction it shares with
// other callers' writes, and must leave the transaction usable: an error
// it returns rolls back its own statements only. Its context carries the
// caller's values but not its cancellation: a statement interrupted
// halfway would abort the other callers' writes with it.
type Func func(ctx context.Context, tx *sql.Tx) error

// Options tune a Writer.
type Options struct {
	// MaxBatch bounds the writes of one transaction (DefaultMaxBatch if 0).
	MaxBatch int
	// OnCommit is called on the writer's goroutine after every commit
	// that stored at least one write (e.g. to schedule a checkpoint).
	OnCommit func()
}

// Writer runs writes in batches on one goroutine.
//
// A batch first runs its writes one after another with nothing around
// them. If every write succeeds (the usual case) the batch commits. If
// one fails, the batch is rolled back and run again with a savepoint
// around each write, so the failing write rolls back alone.
type Writer struct {
	db    *sql.DB
	opts  Options
	queue chan *write
	// mu guards closed: Do queues under the read lock, so once Close has
	// set closed no write can join the queue behind the loop's back.
	mu     sync.RWMutex
	closed bool
	quit   chan struct{}
	done   chan struct{}
}

// write is one caller's write waiting for a commit.
type write struct {
	ctx  context.Context
	fn   Func
	done chan error // receives the outcome once it is durable (or not)
}

// New starts a writer on db. Give it a database handle of its own with a
// single connection where the database has a single writer (SQLite):
// then the writer's transactions never wait for another connection's.
func New(db *sql.DB, o Options) *Writer {
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	w := &Writer{db: db, opts: o, queue: make(chan *write, o.MaxBatch), quit: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w
}

// Do queues fn and waits for its outcome: nil once the transaction that
// ran it committed, fn's own error, or the transaction's. It keeps
// waiting after ctx ends once fn is queued, because the outcome
// (committed or not) must be reported truthfully; a queued write whose
// context has ended by its turn is skipped with ctx's error.
func (w *Writer) Do(ctx context.Context, fn Func) error {
	wr := &write{ctx: ctx, fn: fn, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.queue <- wr:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	return <-wr.done
}

// Queued reports how many writes wait for the next batch.
func (w *Writer) Queued() int { return len(w.queue) }

// Close stops the writer after the batch in progress. Writes still queued
// and writes offered afterwards get ErrClosed; the database handle stays
// open.
func (w *Writer) Close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	close(w.quit)
	<-w.done
}

func (w *Writer) loop() {
	defer close(w.done)
	for {
		var batch []*write
		select {
		case wr := <-w.queue:
			batch = append(batch, wr)
		case <-w.quit:
			for {
				select {
				case wr := <-w.queue:
					wr.done <- ErrClosed
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < w.opts.MaxBatch {
			select {
			case wr := <-w.queue:
				batch = append(batch, wr)
			default:
				break fill
			}
		}
		w.commit(batch)
	}
}

// commit runs a batch and tells every write its outcome after the commit.
func (w *Writer) commit(batch []*write) {
	errs := make([]error, len(batch))
	defer func() {
		for i, wr := range batch {
			wr.done <- errs[i]
		}
	}()
	retry, err := w.run(batch, errs, false)
	if retry {
		clear(errs)
		_, err = w.run(batch, errs, true)
	}
	if err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return
	}
	if w.opts.OnCommit != nil && stored(errs) {
		w.opts.OnCommit()
	}
}

func stored(errs []error) bool {
	for _, err := range errs {
		if err == nil {
			return true
		}
	}
	return false
}

// run runs the batch in one transaction, each write in a savepoint of its
// own if isolate is set, and commits. Without isolate, the first write to
// fail rolls everything back and run reports retry. err is a failure of
// the transaction itself, which every write without an error of its own
// shares: nothing of the batch is stored.
func (w *Writer) run(batch []*write, errs []error, isolate bool) (retry bool, err error) {
	tx, err := w.db.BeginTx(context.Background(), nil)
	if err != nil {
		return false, err
	}
	exec := func(q string) error {
		_, err := tx.Exec(q)
		return err
	}
	for i, wr := range batch {
		if err := wr.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if isolate {
			if err := exec("SAVEPOINT w"); err != nil {
				_ = tx.Rollback()
				return false, err
			}
		}
		if err := wr.fn(context.WithoutCancel(wr.ctx), tx); err != nil {
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
