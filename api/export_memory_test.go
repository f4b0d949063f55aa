package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"
)

// seedLarge inserts dyads × sessions × 2 ratings straight into the
// database in one transaction: the export is under test here, not the
// write path, and a few seconds of CI time matter.
func seedLarge(t *testing.T, e *env, studyID, tag string, dyads, sessions int) {
	t.Helper()
	ctx := context.Background()
	tx, err := e.store.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	now := time.Now().UTC()
	scores := `{"total":{"mean":4.5,"sum":54,"answered":12,"items":12,"prorated":false},"subscales":{"goal":{"mean":4.25,"sum":17,"answered":4,"items":4,"prorated":false},"task":{"mean":4.5,"sum":18,"answered":4,"items":4,"prorated":false},"bond":{"mean":4.75,"sum":19,"answered":4,"items":4,"prorated":false}}}`
	dy, err := tx.PrepareContext(ctx, `INSERT INTO dyads (id, study_id, client_code, counsellor_code, created_at) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	ra, err := tx.PrepareContext(ctx, `INSERT INTO ratings (id, study_id, dyad_id, session, session_date, role, form_id, answers, scores,
		max_missing_fraction, scoring_version, version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0.25, '1', 1, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	for d := range dyads {
		did := fmt.Sprintf("dy_%s%07d", tag, d)
		if _, err := dy.ExecContext(ctx, did, studyID, fmt.Sprintf("C-%s%07d", tag, d), fmt.Sprintf("K-%03d", d%200), now); err != nil {
			t.Fatal(err)
		}
		for s := 1; s <= sessions; s++ {
			for _, role := range []string{"client", "counsellor"} {
				id := fmt.Sprintf("ra_%s%07d_%02d_%s", tag, d, s, role)
				if _, err := ra.ExecContext(ctx, id, studyID, did, s, "2026-11-20", role, "wai_sr_"+map[string]string{"client": "client", "counsellor": "therapist"}[role],
					"[5,4,5,4,5,5,4,4,5,4,4,5]", scores, now); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestExportStreamsWithFlatMemory exports a small and a four times larger
// study over a real HTTP connection and samples the heap meanwhile. A
// streamed export holds a few rows at a time, so its peak heap must not
// grow with the size of the study.
func TestExportStreamsWithFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 50,000 ratings")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(10)) // keep garbage from masking what is live
	e := newEnv(t)
	small := e.createStudy("wai_sr_client", "wai_sr_therapist")
	large := e.createStudy("wai_sr_client", "wai_sr_therapist")
	seedLarge(t, e, small.ID, "s", 1000, 5)
	seedLarge(t, e, large.ID, "l", 4000, 5)
	srv := httptest.NewServer(e.h)
	defer srv.Close()

	for _, q := range []string{"include=scores,items", "shape=wide&include=scores,items"} {
		nSmall, peakSmall := exportPeak(t, srv.URL+"/v1/studies/"+small.ID+"/export?"+q)
		nLarge, peakLarge := exportPeak(t, srv.URL+"/v1/studies/"+large.ID+"/export?"+q)
		if nLarge < 3*nSmall {
			t.Fatalf("export %s: large %d bytes vs small %d; want about four times", q, nLarge, nSmall)
		}
		// Buffering would hold at least the extra bytes (in fact several
		// times more as Go values); streaming adds only GC noise (~1 MB).
		if extra := peakLarge - peakSmall; extra > nLarge-nSmall {
			t.Errorf("export %s: peak heap grew %d bytes more for a %d bytes larger file: not streamed", q, extra, nLarge-nSmall)
		}
	}
}

// exportPeak downloads one export and returns its size and the peak heap
// growth over the download.
func exportPeak(t *testing.T, url string) (int64, int64) {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
		}
	}()
	start := time.Now()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	close(stop)
	<-done
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, err %v", url, resp.StatusCode, err)
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("%s: %.1f MB in %v (%.1f MB/s), peak heap growth %.1f MB",
		url[len(url)-40:], float64(n)/1e6, elapsed.Round(time.Millisecond), float64(n)/1e6/elapsed.Seconds(), float64(growth)/1e6)
	return n, growth
}
