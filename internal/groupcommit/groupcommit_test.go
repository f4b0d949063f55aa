package groupcommit_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/alliance-project/alliance/internal/groupcommit"
)

// open is a one-connection SQLite database with a table t(v UNIQUE).
func open(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "g.db")+"?_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE t (v TEXT UNIQUE)"); err != nil {
		t.Fatal(err)
	}
	return db
}

// fn is a write of these tests: a function on the batch's transaction.
type fn func(ctx context.Context, tx *sql.Tx) error

func newWriter(db *sql.DB, o groupcommit.Options) *groupcommit.Writer[fn] {
	return groupcommit.New(groupcommit.Tx(db, func(ctx context.Context, tx *sql.Tx, f fn) error { return f(ctx, tx) }), o)
}

func insert(v string) fn {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO t (v) VALUES (?)", v)
		return err
	}
}

func rows(t *testing.T, db *sql.DB) (n int) {
	t.Helper()
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// hold keeps w busy until release, so writes queued meanwhile form one
// batch.
func hold(t *testing.T, w *groupcommit.Writer[fn]) (release func()) {
	started, stop, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- w.Do(context.Background(), func(context.Context, *sql.Tx) error {
			close(started)
			<-stop
			return nil
		})
	}()
	<-started
	return func() {
		close(stop)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// queue offers fns while w is held, in order, and returns their outcomes.
func queue(t *testing.T, w *groupcommit.Writer[fn], ctxs []context.Context, fns ...fn) []chan error {
	out := make([]chan error, len(fns))
	for i, fn := range fns {
		out[i] = make(chan error, 1)
		go func() { out[i] <- w.Do(ctxs[i], fn) }()
		for w.Queued() < i+1 {
			time.Sleep(time.Millisecond)
		}
	}
	return out
}

// TestBatchIsolatesAFailingWrite: one write of a batch fails (a duplicate
// key); the others commit, the failing one alone reports its error, and
// one commit served the batch. OnCommit runs after the batch's writes
// have their outcomes, so the commits are counted once the writer has
// closed.
func TestBatchIsolatesAFailingWrite(t *testing.T) {
	db := open(t)
	var commits atomic.Int32
	w := newWriter(db, groupcommit.Options{OnCommit: func() { commits.Add(1) }})
	closeW := sync.OnceFunc(w.Close)
	defer closeW()
	if err := w.Do(context.Background(), insert("taken")); err != nil {
		t.Fatal(err)
	}
	release := hold(t, w)
	bg := context.Background()
	errs := queue(t, w, []context.Context{bg, bg, bg}, insert("a"), insert("taken"), insert("b"))
	release()
	for i, want := range []bool{false, true, false} {
		if err := <-errs[i]; (err != nil) != want {
			t.Errorf("write %d = %v; want failure %v", i, err, want)
		}
	}
	if n := rows(t, db); n != 3 {
		t.Errorf("%d rows after the batch, want 3 (taken, a, b)", n)
	}
	closeW()
	if c := commits.Load(); c != 3 {
		t.Errorf("%d commits reported, want 3 (the first write's, the held write's and the batch's)", c)
	}
}

// TestCancelledWhileQueued: a write whose context ends while it waits is
// skipped with its context's error; the rest of its batch commits.
func TestCancelledWhileQueued(t *testing.T) {
	db := open(t)
	w := newWriter(db, groupcommit.Options{})
	defer w.Close()
	release := hold(t, w)
	gone, cancel := context.WithCancel(context.Background())
	errs := queue(t, w, []context.Context{gone, context.Background()}, insert("x"), insert("y"))
	cancel()
	release()
	if err := <-errs[0]; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled write = %v, want context.Canceled", err)
	}
	if err := <-errs[1]; err != nil {
		t.Errorf("its batch neighbour = %v", err)
	}
	if n := rows(t, db); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}

func TestClosed(t *testing.T) {
	w := newWriter(open(t), groupcommit.Options{})
	w.Close()
	if err := w.Do(context.Background(), insert("late")); !errors.Is(err, groupcommit.ErrClosed) {
		t.Errorf("Do after Close = %v, want ErrClosed", err)
	}
}

// TestLoopsCommitAtOnce: with Loops 2, a second batch commits while the
// first still waits in its commit (PostgreSQL's case: one batch is sent
// while another waits for its flush), and every write gets its own
// outcome from the Commit.
func TestLoopsCommitAtOnce(t *testing.T) {
	inFirst, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	w := groupcommit.New(func(batch []groupcommit.Pending[int], errs []error) {
		if calls.Add(1) == 1 {
			close(inFirst)
			<-release
		}
		for i, p := range batch {
			if p.Write < 0 {
				errs[i] = errors.New("negative")
			}
		}
	}, groupcommit.Options{Loops: 2})
	defer w.Close()
	first := make(chan error, 1)
	go func() { first <- w.Do(context.Background(), 1) }()
	<-inFirst
	// The first loop is held; the second must commit these on its own.
	if err := w.Do(context.Background(), 2); err != nil {
		t.Errorf("write beside a held batch = %v", err)
	}
	if err := w.Do(context.Background(), -1); err == nil {
		t.Error("a failing write beside a held batch reported success")
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("held write = %v", err)
	}
}
