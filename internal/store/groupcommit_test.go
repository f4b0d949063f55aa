package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/store"
)

// TestBackgroundCheckpoint checks that committed writes reach the database
// file itself, not only the WAL, without the writer checkpointing: the
// writer's autocheckpoint waits for 10,000 pages, which one study never
// comes near, so only the background checkpoints can copy it there. The
// test copies the database file alone (no -wal) and reads the copy.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "alliance.db")
	st, err := store.Open(ctx, path, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err) // the migrations' own pages: start from an empty WAL
	}
	study := alliance.Study{ID: "st_ckpt", Name: "checkpointed", Forms: map[alliance.Role]string{},
		Policy: instrument.DefaultPolicy(), CreatedAt: time.Now().UTC()}
	if err := st.CreateStudy(ctx, study); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(20 * time.Second)
	for n := 0; ; n++ {
		if inFile(t, path, filepath.Join(dir, "copy.db"), study.ID) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d looks, the committed study is still only in the WAL: no background checkpoint ran", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inFile reports whether the database file at path, copied without its
// WAL, holds the study id.
func inFile(t *testing.T, path, copyPath, id string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{copyPath, copyPath + "-wal", copyPath + "-shm"} {
		_ = os.Remove(p)
	}
	if err := os.WriteFile(copyPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", copyPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	// An error is a copy taken mid-checkpoint: look again.
	return db.QueryRow("SELECT count(*) FROM studies WHERE id = ?", id).Scan(&n) == nil && n == 1
}
