package store

import (
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
