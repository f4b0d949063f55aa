package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/alliance-project/alliance/internal/alliance"
)

// maxBatch bounds how many writes share one commit, so one batch cannot
// hold the write lock for long.
const maxBatch = 64

// checkpointEvery is how often, while writes come in, the WAL is copied
// back into the database file (see checkpoints). Often, so that each
// checkpoint has little to write: its sync of the database file shares
// the disk with the commits' syncs of the WAL. Once a second under a
// sustained 5,000 ratings/s, each checkpoint synced some 20 MB of pages
// at once, and the WAL syncs queued behind it made about 2 commits a
// second take 8-19 ms (without checkpoints: one in five seconds); every
// 100 ms, the 99th percentile of a submission fell from 18-20 ms to
// 13-16 ms.
const checkpointEvery = 100 * time.Millisecond

// writerPragmas tune the committer's own connection. Statement and
// savepoint journals stay in memory: each write's savepoint otherwise
// spills to a temporary file once a batch touches more than 64 KiB of
// pages. Only this connection gets it, because on the read connections
// temp_store=MEMORY would also let SQLite's sorter hold a whole export's
// ORDER BY in memory. The writer leaves checkpoints to checkpoints();
// wal_autocheckpoint stays on, at 10,000 pages (40 MB of WAL), only as the
// backstop should the background checkpoints fall behind.
const writerPragmas = "PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 10000"

// writerDriver is mattn's SQLite driver with writerPragmas run on every
// connection it opens, so they hold even if database/sql ever replaces
// the writer's connection.
const writerDriver = "sqlite3_alliance_writer"

func init() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(writerPragmas, nil)
		return err
	}})
}

// write is one request's write transaction waiting for a group commit.
type write struct {
	ctx   context.Context
	fn    func(tx *gorm.DB) error
	audit []auditRow
	done  chan error // receives the write's outcome once it is durable (or not)
}

// committer batches the write transactions of concurrent requests into one
// SQLite transaction and commits them with one fsync. SQLite has a single
// writer, and most of a write's time is its commit; sharing the commit is
// what lets writes keep up with concurrent requests. Durability is
// unchanged: a write learns its outcome only after the commit that holds
// it returned, so a 2xx still means committed.
//
// A batch first runs its writes one after another with nothing around
// them. If every write succeeds (the usual case), their audit entries are
// appended in one statement and the batch commits. If one fails (a
// duplicate, a taken idempotency key), the batch is rolled back and run
// again with a savepoint around each write, so the failing write rolls
// back alone; only its own audit entries are left out.
type committer struct {
	db    *gorm.DB // on writer
	sql   *sql.DB  // the writer's own database handle: one connection
	stmts *stmtCache
	pool  *sql.DB // the store's, for checkpoints, off the writer's path
	log   *slog.Logger

	queue     chan *write
	committed chan struct{} // a commit happened since the last checkpoint
	quit      chan struct{}
	done      chan struct{} // loop has returned
	ckptDone  chan struct{} // checkpoints has returned
}

// newCommitter opens the writer's own connection to the SQLite file at
// dsn, in a database handle of its own that never has another, for as
// long as the store is open.
func newCommitter(ctx context.Context, dsn string, pool *sql.DB, log *slog.Logger) (*committer, error) {
	writer, err := sql.Open(writerDriver, dsn)
	if err != nil {
		return nil, fmt.Errorf("writer connection: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	if err := writer.PingContext(ctx); err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("writer connection: %w", err)
	}
	// A GORM DB of its own, with a Config of its own: gorm.Open keeps and
	// changes the Config it is given.
	db, err := gorm.Open(sqlite.New(sqlite.Config{Conn: writer}), gormConfig(log))
	if err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("writer connection: %w", err)
	}
	c := &committer{
		db: db, sql: writer, stmts: newStmtCache(writer), pool: pool, log: log,
		queue:     make(chan *write, maxBatch),
		committed: make(chan struct{}, 1),
		quit:      make(chan struct{}),
		done:      make(chan struct{}),
		ckptDone:  make(chan struct{}),
	}
	go c.loop()
	go c.checkpoints()
	return c, nil
}

// do queues fn and waits for its outcome. It keeps waiting after the
// caller's context ends once fn is queued: the outcome (committed or not)
// must be reported truthfully, and a queued write whose context has ended
// is skipped, not run.
func (c *committer) do(ctx context.Context, fn func(tx *gorm.DB) error, audit []auditRow) error {
	w := &write{ctx: ctx, fn: fn, audit: audit, done: make(chan error, 1)}
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
	<-c.ckptDone
	c.stmts.close()
	_ = c.sql.Close()
}

// checkpoints copies committed pages from the WAL back into the database
// file, at most once per checkpointEvery and only after new commits, on a
// connection of its own. A checkpoint reads and writes every page the WAL
// holds and syncs the database file; left to the writer (SQLite's
// autocheckpoint), that work would stall every write queued behind it. A
// PASSIVE checkpoint never blocks the writer or readers, and a full one
// lets the next write start the WAL over, so it stays small.
func (c *committer) checkpoints() {
	defer close(c.ckptDone)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-tick.C:
		}
		select {
		case <-c.committed:
		default:
			continue // nothing new in the WAL
		}
		if _, err := c.pool.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			// Not a write failure: the WAL keeps the data, and the writer's
			// autocheckpoint is the backstop.
			c.log.Warn("background WAL checkpoint failed", "err", err)
		}
	}
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
		// After the batch learnt its outcome: the connection is free.
		c.stmts.prepareMissed(context.Background())
	}
}

// commit runs a batch in one transaction and tells every write its
// outcome after the commit.
func (c *committer) commit(batch []*write) {
	errs := make([]error, len(batch))
	defer func() {
		for i, w := range batch {
			w.done <- errs[i]
		}
	}()
	retry, err := c.run(batch, errs, false)
	if retry {
		clear(errs)
		_, err = c.run(batch, errs, true)
	}
	if err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return
	}
	select {
	case c.committed <- struct{}{}:
	default:
	}
}

// run runs the batch in one transaction, each write in a savepoint of its
// own if isolate is set, and commits. Without isolate, the first write to
// fail rolls everything back and run reports retry. err is a failure of
// the transaction itself, which every write without an error of its own
// shares: nothing of the batch is stored.
func (c *committer) run(batch []*write, errs []error, isolate bool) (retry bool, err error) {
	tx := c.db.Begin()
	if tx.Error != nil {
		return false, translate(tx.Error)
	}
	// GORM began the transaction on the writer's only connection; the
	// writes' statements run in it through the statement cache.
	tx.Statement.ConnPool = &cachedTx{Tx: tx.Statement.ConnPool.(*sql.Tx), cache: c.stmts}
	var audit []auditRow
	for i, w := range batch {
		if err := w.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if isolate {
			if err := tx.SavePoint("w").Error; err != nil {
				tx.Rollback()
				return false, translate(err)
			}
		}
		if err := w.fn(tx); err != nil {
			errs[i] = err
			if !isolate {
				tx.Rollback()
				return true, nil
			}
			if rb := tx.RollbackTo("w").Error; rb != nil {
				// SQLite may have rolled the whole transaction back (disk
				// full, I/O error): nothing of this batch is stored.
				tx.Rollback()
				return false, fmt.Errorf("%w: %v", alliance.ErrUnavailable, errors.Join(err, rb))
			}
		}
		if isolate {
			if err := tx.Exec("RELEASE SAVEPOINT w").Error; err != nil {
				tx.Rollback()
				return false, translate(err)
			}
		}
		if errs[i] == nil {
			audit = append(audit, w.audit...)
		}
	}
	if len(audit) > 0 {
		if err := tx.Create(&audit).Error; err != nil {
			tx.Rollback()
			return false, translate(err)
		}
	}
	if err := tx.Commit().Error; err != nil {
		return false, translate(err)
	}
	return false, nil
}
