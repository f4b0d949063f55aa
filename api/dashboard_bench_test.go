package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/internal/benchdata"
)

// BenchmarkDashboardOverview200k renders the overview of a study of
// 10,000 dyads × 10 sessions (200,000 ratings) through the real router,
// signed in with a dashboard session:
//
//	go test ./api -run XXX -bench DashboardOverview -benchtime=5x
//
// "page" is the HTML alone (agreement at the first complete session, all
// scales, α and κ included, and completion counts); "page+plots" also
// fetches, one after the other, the four plots the page embeds, which is
// all the server does for one view of the overview (a browser fetches
// them in parallel). The report's figures are in docs/dashboard.md.
func BenchmarkDashboardOverview200k(b *testing.B) {
	ctx := context.Background()
	h, svc, id, admin := benchStudy(b, benchdata.Open(b, filepath.Join(b.TempDir(), "bench.db")))
	_, tok, err := svc.SignIn(ctx, admin)
	if err != nil {
		b.Fatal(err)
	}
	get := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(&http.Cookie{Name: "alliance_session", Value: tok})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s = %d: %.300s", path, rec.Code, rec.Body)
		}
		return rec
	}
	page := get("/ui/studies/" + id).Body.String()
	var plots []string
	for _, m := range imgSrc.FindAllStringSubmatch(page, -1) {
		plots = append(plots, strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	if len(plots) != 4 {
		b.Fatalf("the overview embeds %d plots, want 4", len(plots))
	}
	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			get("/ui/studies/" + id)
		}
	})
	b.Run("page+plots", func(b *testing.B) {
		var svgBytes int
		for b.Loop() {
			get("/ui/studies/" + id)
			svgBytes = 0
			for _, p := range plots {
				svgBytes += get(p).Body.Len()
			}
		}
		b.ReportMetric(float64(svgBytes)/1024, "KiB-of-SVG")
	})
	for _, p := range plots {
		name := p[strings.LastIndex(p[:strings.Index(p, "?")], "/")+1 : strings.Index(p, "?")]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				get(p)
			}
		})
	}
}
