package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/store"
)

func TestCheckLoopback(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.9.9.9:1", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", true},
		{"https://127.0.0.1", true},
		{"http://10.0.0.1:8080", false},
		{"http://0.0.0.0:8080", false},
		{"http://example.com", false},
		{"http://localhost.example.com", false},
		{"http://127.0.0.1.nip.io", false},
		{"http://[::ffff:8.8.8.8]", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
		{"http://", false},
	} {
		err := checkLoopback(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", tc.url, err, tc.ok)
		}
	}
}

func TestFlagsAreBounded(t *testing.T) {
	for _, args := range [][]string{
		{"-url", "http://192.168.1.1"},
		{"-c", "0"},
		{"-n", "-1"},
		{"-duration", "0s"},
		{"-duration", "11m"},
		{"-mode", "flood"},
		{"-answers", "random"},
		{"-H", "no-colon"},
		{"-rate", "-1"},
		{"-rate", "NaN"},
		{"-rate", "2e6"},
		{"-rate", "1", "-n", "1000"},
	} {
		var stderr bytes.Buffer
		if code := realMain(context.Background(), args, &bytes.Buffer{}, &stderr); code == 0 {
			t.Errorf("loadtest %v exited 0, want a refusal", args)
		}
	}
}

// ltServer serves the real API over a fresh SQLite file on loopback.
func ltServer(t *testing.T) string {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	log := slog.New(slog.DiscardHandler)
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "lt.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	svc := alliance.NewService(st, instrument.Builtin())
	tok, err := svc.EnsureAdminKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewHandler(api.Deps{Service: svc, Log: log, MaxBodyBytes: 1 << 20}))
	t.Cleanup(srv.Close)
	ltToken = tok
	return srv.URL
}

// ltToken is the admin key of the last ltServer; ltRun sends it.
var ltToken string

func ltRun[T any](t *testing.T, args ...string) T {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if ltToken != "" {
		args = append(args, "-H", "Authorization: Bearer "+ltToken)
	}
	if code := realMain(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("loadtest %v = exit %d\n%s", args, code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("stdout has %d lines, want one JSON line:\n%s", len(lines), stdout.String())
	}
	var v T
	if err := json.Unmarshal([]byte(lines[0]), &v); err != nil {
		t.Fatalf("decode %s: %v", lines[0], err)
	}
	if !strings.Contains(stderr.String(), "req/s") {
		t.Errorf("no human summary on stderr:\n%s", stderr.String())
	}
	return v
}

func checkResult(t *testing.T, r Result, mode string, n int) {
	t.Helper()
	if r.Mode != mode || r.Requests != n || r.OK != n || len(r.Errors) != 0 {
		t.Errorf("%s: requests %d ok %d errors %v, want %d ok and no errors", mode, r.Requests, r.OK, r.Errors, n)
	}
	if !(r.RPS > 0 && r.P50ms > 0 && r.P50ms <= r.P90ms && r.P90ms <= r.P99ms && r.P99ms <= r.MaxMs) {
		t.Errorf("%s: implausible figures %+v", mode, r)
	}
}

// TestSteadyAnswers: -answers=steady sends every rating the same answers
// (no alert to raise); the default cycles through three sets.
func TestSteadyAnswers(t *testing.T) {
	answersOf := func(i int, steady bool) string {
		_, _, _, body := ratingBody(i, 4, steady)
		var b struct{ Answers []int }
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(b.Answers)
	}
	seen := map[bool]map[string]bool{false: {}, true: {}}
	for i := range 12 {
		for _, steady := range []bool{false, true} {
			seen[steady][answersOf(i, steady)] = true
		}
	}
	if len(seen[true]) != 1 || len(seen[false]) != len(answerSets) {
		t.Errorf("distinct answer sets: steady %d, cycle %d; want 1 and %d", len(seen[true]), len(seen[false]), len(answerSets))
	}
}

func TestRatingsModeAgainstTheRealHandler(t *testing.T) {
	url := ltServer(t)
	r := ltRun[Result](t, "-url", url, "-mode=ratings", "-c", "4", "-n", "120", "-dyads", "3")
	checkResult(t, r, "ratings", 120)
}

func TestCeilingAndCompare(t *testing.T) {
	r := ltRun[Result](t, "-mode=ceiling", "-c", "4", "-n", "100", "-db-dir", t.TempDir())
	checkResult(t, r, "ceiling", 100)

	c := ltRun[Comparison](t, "-url", ltServer(t), "-mode=compare", "-c", "4", "-n", "60")
	checkResult(t, c.Ours, "ratings", 60)
	checkResult(t, c.Ceiling, "ceiling", 60)
	if c.RatioRPS <= 0 || c.RatioP99 <= 0 {
		t.Errorf("ratios %v / %v, want positive", c.RatioRPS, c.RatioP99)
	}
}

func TestAgreementMode(t *testing.T) {
	r := ltRun[Result](t, "-url", ltServer(t), "-mode=agreement", "-c", "4", "-n", "20", "-dyads", "5", "-sessions", "3")
	checkResult(t, r, "agreement", 20)
	if r.Seeded != 5*3*2 {
		t.Errorf("seeded %d ratings, want 30", r.Seeded)
	}
}

func TestExportMode(t *testing.T) {
	r := ltRun[Result](t, "-url", ltServer(t), "-mode=export", "-c", "2", "-n", "6", "-dyads", "4", "-sessions", "2")
	checkResult(t, r, "export", 6)
	// 4 dyads × 2 sessions × 2 roles = 16 data rows per CSV export, with
	// a header: every response is well over a kilobyte.
	if r.Bytes < 6*1000 || r.MBps <= 0 {
		t.Errorf("export: %d bytes at %v MB/s, want six full exports", r.Bytes, r.MBps)
	}
	if r.HeapBeforeMB <= 0 || r.HeapPeakMB < r.HeapBeforeMB || r.RSSPeakMB <= 0 {
		t.Errorf("export: heap %v -> %v MB, RSS peak %v MB; want the server's memory read from /metrics", r.HeapBeforeMB, r.HeapPeakMB, r.RSSPeakMB)
	}
}

func TestDurationBoundsTheRun(t *testing.T) {
	r := ltRun[Result](t, "-mode=ceiling", "-c", "2", "-duration", "300ms")
	if r.Seconds > 2 || r.OK == 0 {
		t.Errorf("a 300ms run took %vs with %d ok", r.Seconds, r.OK)
	}
}

// TestWorkerConnections: a worker's connection carries many requests;
// when the server says it closes it (Connection: close), or drops it
// without a word between two requests (an idle timeout), the worker
// reconnects, sends the request again, and goes on.
func TestWorkerConnections(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch r.URL.Query().Get("i") {
		case "3":
			w.Header().Set("Connection", "close")
		case "6": // answer, then drop the connection unannounced
			c, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = buf.WriteString("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
			_ = buf.Flush()
			_ = c.Close()
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	build := func(i int) (*http.Request, bool) {
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/x?i=%d", srv.URL, i), strings.NewReader("{}"))
		return req, true
	}
	r := load(context.Background(), options{conns: 1, n: 10}, "test", srv.URL, build, http.StatusCreated)
	if r.OK != 10 || len(r.Errors) != 0 {
		t.Fatalf("%d ok, errors %v; want 10 ok", r.OK, r.Errors)
	}
	if n := conns.Load(); n != 3 { // the first, one after request 3, one after 6
		t.Errorf("%d connections, want 3", n)
	}
}

// TestRateIsAnOpenLoop: with -rate, request i is sent no earlier than
// i/rate after the start, and its latency counts from then, so a stall
// shows in the latency of every request due during it. One connection,
// 100 requests a second, the first answered after 100 ms: requests 1 to
// 9 were due 10 to 90 ms after the start and could not be sent before
// 100 ms. Timed by a closed loop they would take no time at all.
func TestRateIsAnOpenLoop(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Query().Get("i") == "0" {
			time.Sleep(100 * time.Millisecond)
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	build := func(i int) (*http.Request, bool) {
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/x?i=%d", srv.URL, i), strings.NewReader("{}"))
		return req, true
	}
	r := load(context.Background(), options{conns: 1, n: 10, rate: 100}, "test", srv.URL, build, http.StatusCreated)
	if r.OK != 10 || len(r.Errors) != 0 {
		t.Fatalf("%d ok, errors %v; want 10 ok", r.OK, r.Errors)
	}
	if r.Seconds < 0.09 { // the last request is due at 90 ms
		t.Errorf("10 requests at 100/s took %vs: sent ahead of their schedule", r.Seconds)
	}
	// Request k (due at 10k ms) is answered at 100 ms or later: its
	// latency is at least 100 − 10k ms. The median, the fifth shortest,
	// is at least 50 ms (request 5); the longest at least 100 ms.
	if r.P50ms < 50 || r.MaxMs < 100 {
		t.Errorf("p50 %v ms, max %v ms; want at least 50 and 100: latency counted from when each request was due", r.P50ms, r.MaxMs)
	}
	if r.Rate != 100 {
		t.Errorf("result's rate %v, want 100", r.Rate)
	}
}
