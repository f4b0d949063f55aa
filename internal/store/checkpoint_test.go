package store

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestTruncationWaitsForOtherCheckpoints: an erasure's TRUNCATE checkpoint
// completes while other checkpoints run beside it, the background ones of
// this process and those of another connection, which SQLite never waits
// for on its own (it reports busy at once). Each round writes to the WAL,
// truncates it as an erasure does, and then finds the WAL empty. Without
// the checkpointer's turns and its retry, some rounds left the WAL whole
// and the erased bytes in the files.
func TestTruncationWaitsForOtherCheckpoints(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	st := openMigrated(t, path)
	other, err := sql.Open("sqlite3", SQLiteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := st.writerDB.ExecContext(ctx, "CREATE TABLE probe (x integer)"); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, checkpoint := range []func(){
		st.checkpoints.passive,
		func() { _, _ = other.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)") },
	} {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					checkpoint()
				}
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()

	for round := range 50 {
		if _, err := st.writerDB.ExecContext(ctx, "INSERT INTO probe VALUES (?)", round); err != nil {
			t.Fatal(err)
		}
		st.checkpoints.truncateWAL(ctx)
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != 0 || st.checkpoints.truncate.Load() {
			t.Fatalf("round %d: the WAL keeps %d bytes after the truncation (still wanted: %v)", round, fi.Size(), st.checkpoints.truncate.Load())
		}
	}
}

// TestTruncationLeavesWritesAlone: while a reader keeps a snapshot older
// than an erasure (a stalled export), the truncation does not take the
// writer's lock to wait for it, so writes go on; it truncates once the
// reader has gone. Before, it held the lock for the busy timeout (5 s) on
// every attempt, and every write failed with 503 for as long as the
// reader read.
func TestTruncationLeavesWritesAlone(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	st := openMigrated(t, path)
	if _, err := st.writerDB.ExecContext(ctx, "CREATE TABLE probe (x integer)"); err != nil {
		t.Fatal(err)
	}
	reader, err := sql.Open("sqlite3", "file:"+path+"?_txlock=deferred")
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	tx, err := reader.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM probe").Scan(&n); err != nil { // the snapshot is taken
		t.Fatal(err)
	}
	if _, err := st.writerDB.ExecContext(ctx, "INSERT INTO probe VALUES (1)"); err != nil {
		t.Fatal(err)
	}

	// A writer that does not wait at all: it fails whenever someone else
	// holds the write lock.
	impatient, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=0&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()
	done := make(chan struct{})
	go func() { defer close(done); st.checkpoints.truncateWAL(ctx) }()
	refused := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		w, err := impatient.BeginTx(ctx, nil)
		if err != nil {
			refused++
			continue
		}
		_ = w.Rollback()
	}
	if refused > 0 {
		t.Errorf("%d writes were refused while the truncation waited for an old reader", refused)
	}
	if !st.checkpoints.truncate.Load() {
		t.Fatal("the truncation says it is done while a reader keeps an older snapshot")
	}
	_ = tx.Rollback()
	st.checkpoints.truncateWAL(ctx)
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() != 0 || st.checkpoints.truncate.Load() {
		t.Errorf("after the reader left the WAL is not truncated: %v %v", fi.Size(), err)
	}
}

// TestStartTruncatesTheWAL: a WAL left behind with pages in it (a process
// killed before its truncation) is emptied when the store opens, so an
// erased row's earlier page image does not outlive a restart.
func TestStartTruncatesTheWAL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	other, err := sql.Open("sqlite3", SQLiteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close() // open throughout: its close would checkpoint
	other.SetMaxOpenConns(1)
	for _, q := range []string{"PRAGMA wal_autocheckpoint = 0", "CREATE TABLE probe (x text)", "INSERT INTO probe VALUES ('CNRY-WAL-KEPT')", "DELETE FROM probe"} {
		if _, err := other.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(path + "-wal"); !bytes.Contains(b, []byte("CNRY-WAL-KEPT")) {
		t.Fatal("the WAL does not hold the canary before the store opens: the test proves nothing")
	}
	st, err := Open(ctx, path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, f := range []string{path, path + "-wal"} {
		if b, _ := os.ReadFile(f); bytes.Contains(b, []byte("CNRY-WAL-KEPT")) {
			t.Errorf("%s still holds the deleted row after the store opened", filepath.Base(f))
		}
	}
}
