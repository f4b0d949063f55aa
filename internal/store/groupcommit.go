package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/alliance-project/alliance/internal/alliance"
)

// maxBatch bounds how many writes share one commit, so one batch cannot
// hold the write lock for long.
const maxBatch = 64

// write is one request's write transaction waiting for a group commit.
type write struct {
	ctx  context.Context
	fn   func(tx *gorm.DB) error
	done chan error // receives the write's outcome once it is durable (or not)
}

// committer batches the write transactions of concurrent requests into one
// SQLite transaction, each in its own savepoint, and commits them with one
// fsync. SQLite has a single writer, and most of a write's time is its
// commit; sharing the commit is what lets writes keep up with concurrent
// requests. Durability is unchanged: a write learns its outcome only after
// the commit that holds it returned, so a 2xx still means committed, and a
// write that fails rolls back to its savepoint without touching the others.
type committer struct {
	db    *gorm.DB
	queue chan *write
	quit  chan struct{}
	done  chan struct{}
}

func newCommitter(db *gorm.DB) *committer {
	c := &committer{db: db, queue: make(chan *write, maxBatch), quit: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// do queues fn and waits for its outcome. It keeps waiting after the
// caller's context ends once fn is queued: the outcome (committed or not)
// must be reported truthfully, and a queued write whose context has ended
// is skipped, not run.
func (c *committer) do(ctx context.Context, fn func(tx *gorm.DB) error) error {
	w := &write{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case c.queue <- w:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.quit:
		return fmt.Errorf("store closed: %w", alliance.ErrUnavailable)
	}
	return <-w.done
}

func (c *committer) close() {
	close(c.quit)
	<-c.done
}

func (c *committer) loop() {
	defer close(c.done)
	for {
		var batch []*write
		select {
		case w := <-c.queue:
			batch = append(batch, w)
		case <-c.quit:
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case w := <-c.queue:
				batch = append(batch, w)
			default:
				break fill
			}
		}
		c.commit(batch)
	}
}

// commit runs a batch in one transaction, one savepoint per write, and
// tells every write its outcome after the commit.
func (c *committer) commit(batch []*write) {
	errs := make([]error, len(batch))
	finish := func() {
		for i, w := range batch {
			w.done <- errs[i]
		}
	}
	defer finish()
	failAll := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	tx := c.db.Session(&gorm.Session{NewDB: true}).Begin()
	if tx.Error != nil {
		failAll(translate(tx.Error))
		return
	}
	for i, w := range batch {
		if err := w.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if err := tx.SavePoint("w").Error; err != nil {
			tx.Rollback()
			failAll(translate(err))
			return
		}
		if err := w.fn(tx); err != nil {
			errs[i] = err
			if rb := tx.RollbackTo("w").Error; rb != nil {
				// SQLite may have rolled the whole transaction back (disk
				// full, I/O error): nothing of this batch is stored.
				tx.Rollback()
				failAll(fmt.Errorf("%w: %v", alliance.ErrUnavailable, errors.Join(err, rb)))
				return
			}
		}
		if err := tx.Exec("RELEASE SAVEPOINT w").Error; err != nil {
			tx.Rollback()
			failAll(translate(err))
			return
		}
	}
	if err := tx.Commit().Error; err != nil {
		failAll(translate(err))
	}
}
