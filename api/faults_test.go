package api_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/store"
)

// smallDisk mounts a tmpfs of size bytes for the test and returns its path.
// Mounting needs root (CI runs as root); elsewhere the test says why it
// cannot run.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to simulate disk faults (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// faultEnv is the real router over an SQLite file on dir.
func faultEnv(t *testing.T, dir string) *env {
	t.Helper()
	w := newLogWitness(t)
	st, err := store.Open(context.Background(), filepath.Join(dir, "alliance.db"), w.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, h: adminHandler(t, st, api.Deps{}, w), store: st, allow5xx: true}
}

// TestDiskFullAnswers503AndRecovers fills the database's disk: writes get a
// 503 problem with Retry-After (never a 500, never a half-written rating),
// reads keep working, /readyz reports the fault, and everything recovers
// once space is free again.
func TestDiskFullAnswers503AndRecovers(t *testing.T) {
	dir := smallDisk(t, "3m")
	e := faultEnv(t, dir)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	d := e.createDyad(st.ID, "C-1", "K-1")
	e.postRating(d.ID, 1, "client", refClient)

	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break // ENOSPC: the disk is full
		}
	}
	f.Close()

	before := e.ratingsSnapshot(d.ID)
	var full int
	for i := range 20 { // WAL pages may absorb a few writes; the disk runs out soon
		rec := e.do(http.MethodPost, ratingsPath(d.ID), ratingBody(10+i, "client", refClient))
		if rec.Code == http.StatusCreated {
			continue
		}
		checkProblem(t, rec, "POST rating on a full disk", problemWant{503, typeUnavailable, nil})
		if rec.Header().Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
		full++
		break
	}
	if full == 0 {
		t.Fatal("no write failed on a full disk")
	}
	if got := e.ratingsSnapshot(d.ID); len(got) < len(before) {
		t.Errorf("ratings shrank on a full disk")
	}
	checkProblem(t, e.do(http.MethodGet, "/readyz", ""), "GET /readyz on a full disk", problemWant{503, typeUnavailable, nil})
	e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/sessions/1", "")

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	e.expect(http.StatusCreated, http.MethodPost, ratingsPath(d.ID), ratingBody(99, "client", refClient))
	e.expect(http.StatusOK, http.MethodGet, "/readyz", "")
}
