package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/benchdata"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/pgtest"
	"github.com/alliance-project/alliance/internal/store"
)

// BenchmarkExport200k exports a study of 10,000 dyads × 10 sessions
// (200,000 ratings) through the real router into a writer that counts
// and discards, one export at a time, in each shape and format:
//
//	go test ./api -run XXX -bench 'Export200k$' -benchtime=5x
//
// MB/s is of the response body. The load tool measures the same through
// the real binary and a TCP connection (docs/performance.md, Exports).
func BenchmarkExport200k(b *testing.B) {
	benchExports(b, benchdata.Open(b, filepath.Join(b.TempDir(), "bench.db")))
}

// BenchmarkExport200kPostgres is the same on PostgreSQL
// (ALLIANCE_TEST_POSTGRES_URL).
func BenchmarkExport200kPostgres(b *testing.B) {
	benchExports(b, benchdata.Open(b, pgtest.Database(b)))
}

// benchStudy seeds st with a study of 10,000 dyads × 10 sessions (200,000
// ratings) and returns the router over it, its service, the study's id
// and an admin key.
func benchStudy(b *testing.B, st *store.Store) (http.Handler, *alliance.Service, string, string) {
	id := benchdata.Study(b, st, 10000, 10)
	svc := alliance.NewService(cached(st), instrument.Builtin())
	admin, err := svc.EnsureAdminKey(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return api.NewHandler(api.Deps{Service: svc, Log: slog.New(slog.DiscardHandler)}), svc, id, admin
}

func benchExports(b *testing.B, st *store.Store) {
	h, _, id, admin := benchStudy(b, st)
	for _, q := range []struct{ name, query string }{
		{"long", "include=scores,items"},
		{"wide", "shape=wide&include=scores,items"},
		{"ndjson", "format=ndjson&include=scores,items"},
	} {
		b.Run(q.name, func(b *testing.B) {
			var w countingWriter
			for b.Loop() {
				w = countingWriter{header: http.Header{}}
				req := httptest.NewRequest(http.MethodGet, "/v1/studies/"+id+"/export?"+q.query, nil)
				req.Header.Set("Authorization", "Bearer "+admin)
				h.ServeHTTP(&w, req)
				if w.status != http.StatusOK {
					b.Fatalf("GET export?%s = %d", q.query, w.status)
				}
			}
			b.SetBytes(w.n)
		})
	}
}

// countingWriter is a ResponseWriter that counts the body and keeps none
// of it, so the benchmark measures the server, not a buffer of 55 MB.
type countingWriter struct {
	header http.Header
	status int
	n      int64
}

func (w *countingWriter) Header() http.Header { return w.header }

func (w *countingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += int64(len(p))
	return len(p), nil
}
