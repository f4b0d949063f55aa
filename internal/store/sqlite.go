package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/alliance-project/alliance/internal/groupcommit"
	"github.com/alliance-project/alliance/migrations"
)

// openSQLite opens (and creates) the SQLite file at path. The connection
// is tuned for durability: WAL journal, synchronous=FULL (a committed
// rating survives a power cut, not only a crash), foreign keys on, a busy
// timeout, and BEGIN IMMEDIATE transactions so writers queue instead of
// failing on lock upgrades. Reads use a pool; writes a connection of
// their own behind the group-commit writer.
func openSQLite(ctx context.Context, path string, log *slog.Logger) (*Store, error) {
	if path == "" {
		return nil, errors.New("empty database path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	// A new database file is readable by its owner only (SQLite would
	// make it 0644 under the usual umask); its WAL and shared-memory
	// files take the same mode from it.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		_ = f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create database %s: %w", path, err)
	}
	dsn := SQLiteDSN(path)
	db, err := gorm.Open(sqlite.Open(dsn), gormConfig(log))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	// Every request reads (its credential, its dyad, the data it asks
	// for), so reads come from many goroutines at once: keep their
	// connections open rather than database/sql's 2, each of which costs
	// an open, the DSN's pragmas and a schema parse to replace.
	sqlDB.SetMaxIdleConns(readIdleConns)
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	writerDB, err := openWriter(ctx, dsn)
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	ckpt := newCheckpointer(sqlDB, log)
	// A truncation a crash cut short is not remembered (an erasure's
	// pages would stay in the WAL until the next write): every start
	// truncates, as a clean close does.
	ckpt.truncateWAL(ctx)
	s := &Store{db: db, sqlDB: sqlDB, reads: sqlDB, dialect: migrations.SQLite, sql: newStatements(migrations.SQLite),
		writerDB: writerDB, checkpoints: ckpt}
	s.writer = groupcommit.New(groupcommit.Tx(writerDB, s.runWrite), groupcommit.Options{OnCommit: ckpt.committed})
	// A migrated database prepares its statements now; a new one after
	// Migrate.
	s.sql.prepare(ctx, writerDB)
	return s, nil
}

// readIdleConns is how many idle read connections SQLite's pool keeps.
const readIdleConns = 8

// busyTimeout is how long a statement waits for a lock another
// connection holds before it fails with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// SQLiteDSN is the connection string the store opens an SQLite file with:
// WAL journal, synchronous=FULL, foreign keys, a busy timeout and BEGIN
// IMMEDIATE. The load tool's bare-insert ceiling uses it too, so the
// comparison is with the same durability.
//
// secure_delete overwrites deleted content with zeros, so an erased
// dyad's codes and answers do not linger in free space of the database
// file. It is on for every connection, not only the writer's: a migration
// that rewrites rows writes through the pool.
func SQLiteDSN(path string) string {
	q := url.Values{}
	q.Set("_secure_delete", "on")
	q.Set("_foreign_keys", "on")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// writerPragmas tune the writer's own connection. Statement and savepoint
// journals stay in memory: each write's savepoint otherwise spills to a
// temporary file once a batch touches more than 64 KiB of pages. Only this
// connection gets it, because on the read connections temp_store=MEMORY
// would also let SQLite's sorter hold a whole export's ORDER BY in memory.
// The writer leaves checkpoints to the checkpointer; wal_autocheckpoint
// stays on, at 10,000 pages (40 MB of WAL), only as the backstop should
// the background checkpoints fall behind.
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

// openWriter opens the writer's database handle: exactly one connection,
// for as long as the store is open, so its transactions never wait for
// another connection of this process and its prepared statements stay on
// the connection that runs them.
func openWriter(ctx context.Context, dsn string) (*sql.DB, error) {
	w, err := sql.Open(writerDriver, dsn)
	if err != nil {
		return nil, fmt.Errorf("writer connection: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("writer connection: %w", err)
	}
	return w, nil
}

// checkpointEvery is how often, while writes come in, the WAL is copied
// back into the database file. Often, so that each checkpoint has little
// to write: its sync of the database file shares the disk with the
// commits' syncs of the WAL. Once a second under a sustained 5,000
// ratings/s, each checkpoint synced some 20 MB of pages at once, and the
// WAL syncs queued behind it made about 2 commits a second take 8-19 ms
// (without checkpoints: one in five seconds); every 100 ms, the 99th
// percentile of a submission fell from 18-20 ms to 13-16 ms.
const checkpointEvery = 100 * time.Millisecond

// checkpointer copies committed pages from the WAL back into the database
// file, at most once per checkpointEvery and only after new commits, on a
// pool connection. A checkpoint reads and writes every page the WAL holds
// and syncs the database file; left to the writer (SQLite's
// autocheckpoint), that work would stall every write queued behind it. A
// PASSIVE checkpoint never blocks the writer or readers, and a full one
// lets the next write start the WAL over, so it stays small.
type checkpointer struct {
	pool *sql.DB
	log  *slog.Logger
	// mu makes this process's checkpoints take turns. SQLite refuses a
	// checkpoint at once, without waiting, while another connection runs
	// one: an erasure's truncation that met a background checkpoint
	// answered before the erased bytes were out of the files.
	mu    sync.Mutex
	dirty chan struct{} // a commit happened since the last checkpoint
	// truncate asks for a TRUNCATE checkpoint: an erasure happened, and the
	// WAL must not keep the pages as they were before it.
	truncate atomic.Bool
	quit     chan struct{}
	done     chan struct{}
}

func newCheckpointer(pool *sql.DB, log *slog.Logger) *checkpointer {
	c := &checkpointer{pool: pool, log: log, dirty: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// committed tells the checkpointer the WAL has new pages.
func (c *checkpointer) committed() {
	select {
	case c.dirty <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-tick.C:
		}
		if c.truncate.Load() {
			c.truncateNow(context.Background())
			continue
		}
		select {
		case <-c.dirty:
		default:
			continue // nothing new in the WAL
		}
		c.passive()
	}
}

// passive copies what it can of the WAL into the database file without
// waiting for anyone.
func (c *checkpointer) passive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.pool.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		// Not a write failure: the WAL keeps the data, and the writer's
		// autocheckpoint is the backstop.
		c.log.Warn("background WAL checkpoint failed", "err", err)
	}
}

// truncateWAL copies the whole WAL into the database file and truncates
// it to zero bytes, now if it can (waiting up to the busy timeout for
// readers of older snapshots), else on the following ticks until it has.
func (c *checkpointer) truncateWAL(ctx context.Context) {
	c.truncate.Store(true)
	c.truncateNow(ctx)
}

// truncateNow tries once to copy the whole WAL into the database file and
// truncate it to zero bytes. A TRUNCATE checkpoint holds the writer's
// lock while it waits for readers, and with the pool's busy timeout (5 s)
// one slow reader (a stalled export) stopped every write, again on each
// tick, for as long as it read. So it first copies what it can without
// waiting for anyone (PASSIVE), and truncates only when that caught up
// with the last commit (no reader keeps an older snapshot), waiting at
// most truncateBusyWait for the rest. SQLite does not wait for a
// checkpoint of another connection (the writer's autocheckpoint, another
// process): that one reports busy at once with no WAL counts (-1), and is
// tried again for up to checkpointLockWait, as it lets go within
// milliseconds. What is not done now, the following ticks try again.
func (c *checkpointer) truncateNow(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	conn, err := c.pool.Conn(ctx)
	if err != nil {
		c.log.Warn("WAL truncation after an erasure failed; retrying", "err", err)
		return
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", truncateBusyWait.Milliseconds())); err != nil {
		c.log.Warn("WAL truncation after an erasure failed; retrying", "err", err)
		return
	}
	defer func() {
		if _, err := conn.ExecContext(context.Background(), fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeout.Milliseconds())); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // not back to the pool with the short wait
		}
	}()
	give := time.Now().Add(checkpointLockWait)
	checkpoint := func(mode string) (busy, frames, copied int, err error) {
		for {
			err = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied)
			if err != nil || busy == 0 || frames != -1 || time.Now().After(give) {
				return busy, frames, copied, err
			}
			select { // another connection's checkpoint: it lets go soon
			case <-ctx.Done():
				return busy, frames, copied, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	_, frames, copied, err := checkpoint("PASSIVE")
	if err == nil && (frames == -1 || frames > copied) {
		return // still another's checkpoint, or a reader keeps an older snapshot
	}
	var busy int
	if err == nil {
		busy, _, _, err = checkpoint("TRUNCATE")
	}
	switch {
	case err != nil:
		c.log.Warn("WAL truncation after an erasure failed; retrying", "err", err)
	case busy == 0:
		c.truncate.Store(false)
	}
}

// truncateBusyWait is how long a truncation may hold up writers while it
// waits for readers of the last commit to leave the WAL.
const truncateBusyWait = 20 * time.Millisecond

// checkpointLockWait bounds how long an erasure's truncation waits for a
// checkpoint of another connection to end.
const checkpointLockWait = time.Second

func (c *checkpointer) close() {
	close(c.quit)
	<-c.done
}
