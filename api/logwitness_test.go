package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// logWitness proves that no participant data reaches a log line. Every
// test harness of this package logs through it, at every level, and every
// request through its handler is read for the participant data it carries:
// the dyad codes (in bodies and queries), the answer vectors, the session
// dates and the scores the responses return. When the test ends, the log
// must hold none of them. So every test here, the hostile table, the
// conflicts, the validation errors and the faults among them, is also a
// canary test with its own values.
type logWitness struct {
	tb  testing.TB
	log *slog.Logger

	mu       sync.Mutex
	buf      bytes.Buffer
	canaries map[string]string // value → where it was seen
}

func newLogWitness(tb testing.TB) *logWitness {
	w := &logWitness{tb: tb, canaries: map[string]string{}}
	w.log = slog.New(slog.NewJSONHandler(lockedWriter{w}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tb.Cleanup(w.check)
	return w
}

type lockedWriter struct{ w *logWitness }

func (l lockedWriter) Write(p []byte) (int, error) {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	return l.w.buf.Write(p)
}

// wrap records the participant data of every request and response.
func (w *logWitness) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			w.note("request body", body)
		}
		for _, k := range []string{"client_code", "counsellor_code"} {
			for _, v := range r.URL.Query()[k] {
				w.add(v, "query "+k)
			}
		}
		tee := &teeWriter{ResponseWriter: rw}
		h.ServeHTTP(tee, r)
		w.note("response body", tee.body.Bytes())
	})
}

// teeWriter keeps a copy of a JSON response (up to 1 MiB) and passes
// everything through, flushes included, so streamed exports still stream.
type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (t *teeWriter) Write(p []byte) (int, error) {
	if strings.HasPrefix(t.Header().Get("Content-Type"), "application/json") && t.body.Len() < 1<<20 {
		t.body.Write(p)
	}
	return t.ResponseWriter.Write(p)
}

func (t *teeWriter) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (t *teeWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// note walks a JSON document for participant data.
func (w *logWitness) note(where string, body []byte) {
	var doc any
	if json.Unmarshal(body, &doc) != nil {
		return
	}
	w.walk(where, "", doc)
}

var isoDate = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

func (w *logWitness) walk(where, key string, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			w.walk(where, k, x)
		}
	case []any:
		if key == "answers" && len(v) >= 4 {
			b, _ := json.Marshal(v)
			w.add(strings.Trim(string(b), "[]"), where+" answers")
			return
		}
		for _, x := range v {
			w.walk(where, key, x)
		}
	case string:
		switch key {
		case "client_code", "counsellor_code":
			w.add(v, where+" "+key)
		case "session_date":
			if isoDate.MatchString(v) {
				w.add(v, where+" "+key)
			}
		}
	case float64:
		// A score's mean or sum with enough digits to be recognised.
		if key == "mean" || key == "sum" {
			if s := strconv.FormatFloat(v, 'g', -1, 64); len(s) >= 6 {
				w.add(s, where+" score")
			}
		}
	}
}

// add records a canary; values too short to be told from other text are
// left out (a code of three characters could be part of any word).
func (w *logWitness) add(v, where string) {
	if len(v) < 4 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.canaries[v] = where
}

// check fails the test for every canary found in the log. A date counts
// only where it is not the start of a log record's own timestamp, and a
// score only as a number of its own.
func (w *logWitness) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	logged := w.buf.String()
	if strings.Contains(logged, `"subscales"`) || strings.Contains(logged, `"prorated"`) {
		w.tb.Errorf("a score document reached the log:\n%s", excerpt(logged, `"subscales"`))
	}
	for v, where := range w.canaries {
		pat := regexp.QuoteMeta(v)
		switch {
		case isoDate.MatchString(v):
			pat += `($|[^T0-9])`
		case strings.HasSuffix(where, " score"):
			// A number on its own, not digits inside another: a score of
			// 2.9375 is not in the timestamp 06:44:02.937515.
			pat = `(^|[^0-9.])` + pat + `($|[^0-9])`
		}
		if loc := regexp.MustCompile(pat).FindStringIndex(logged); loc != nil {
			w.tb.Errorf("participant data (%s) reached the log: %q in\n%s", where, v, excerpt(logged, v))
		}
	}
}

// excerpt is the log line holding s.
func excerpt(logged, s string) string {
	i := strings.Index(logged, s)
	if i < 0 {
		return ""
	}
	start := strings.LastIndexByte(logged[:i], '\n') + 1
	end := strings.IndexByte(logged[i:], '\n')
	if end < 0 {
		return logged[start:]
	}
	return logged[start : i+end]
}
