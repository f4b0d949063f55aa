package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestAccessLogOfAnAbortedResponse: a response cut off on purpose (an
// export whose client stopped reading panics http.ErrAbortHandler after
// its status line) still gets its request line, marked aborted; before,
// it got none, and a cut-off export left no trace in the log.
func TestAccessLogOfAnAbortedResponse(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	r := gin.New()
	r.Use(requestID(), recovery(log), accessLog(log))
	r.GET("/cut", func(c *gin.Context) {
		c.Status(http.StatusOK)
		_, _ = c.Writer.WriteString("part of an export")
		c.Writer.Flush()
		panic(http.ErrAbortHandler)
	})
	r.GET("/whole", func(c *gin.Context) { c.String(http.StatusOK, "all of it") })
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, path := range []string{"/cut", "/whole"} {
		if res, err := http.Get(srv.URL + path); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
	srv.Close() // waits for the handlers
	lines := map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" {
			lines[m["route"].(string)] = m
		}
	}
	if cut := lines["/cut"]; cut == nil || cut["aborted"] != true || cut["status"] != float64(200) {
		t.Errorf("the cut-off response's request line = %v, want one with status 200, aborted; log:\n%s", cut, buf.String())
	}
	if whole := lines["/whole"]; whole == nil || whole["aborted"] != nil {
		t.Errorf("the whole response's request line = %v, want one without aborted", whole)
	}
}
