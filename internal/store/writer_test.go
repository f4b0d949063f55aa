package store

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/instrument"
)

// TestReadsStayOffTheWriter holds a write open in the committer and reads
// meanwhile: the read must neither see the uncommitted row nor wait for
// the writer, which it would if it shared the writer's connection.
func TestReadsStayOffTheWriter(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "w.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	row := toStudyRow(alliance.Study{ID: "st_open", Name: "open", Forms: map[alliance.Role]string{},
		Policy: instrument.DefaultPolicy(), CreatedAt: time.Now().UTC()})
	inserted, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- st.committer.do(ctx, func(tx *gorm.DB) error {
			err := tx.Create(&row).Error
			close(inserted)
			<-release
			return err
		}, nil)
	}()
	<-inserted
	readCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = st.FindStudyByID(readCtx, row.ID)
	cancel()
	close(release)
	if !errors.Is(err, alliance.ErrNotFound) {
		t.Errorf("FindStudyByID during an open write = %v; want ErrNotFound (no dirty read, no wait on the writer)", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := st.FindStudyByID(ctx, row.ID); err != nil {
		t.Errorf("FindStudyByID after the commit = %v", err)
	}
}
