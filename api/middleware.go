package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/alliance-project/alliance/internal/dashboard"
	"github.com/alliance-project/alliance/internal/surveypage"
	"github.com/alliance-project/alliance/internal/webasset"
	"github.com/gin-gonic/gin"
)

const requestIDKey = "request_id"

// validRequestID accepts a caller's X-Request-ID only in the shapes
// proxies and tracing tools generate, a UUID or 16 to 64 hex digits (nginx's
// $request_id, a trace id): every log line of the request carries it, and
// a free text would let a frontend put a participant code or a date there.
var validRequestID = regexp.MustCompile(`^(?:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[0-9A-Fa-f]{16,64})$`)

// requestID tags each request with an id, taken from X-Request-ID when a
// proxy or tracer sent one (see validRequestID), else made here, so a
// problem can be traced in logs.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if !validRequestID.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(requestIDKey, id)
		c.Header("X-Request-ID", id)
		c.Next()
	}
}

// routeOf names a request by its route pattern, the label logs and
// metrics share: never the raw path, which holds ids.
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "(unmatched)"
}

// accessLog writes one structured line per request. It logs the route
// pattern, not the raw path, and never query strings or bodies, so codes
// and answers stay out of the logs. A response cut off on purpose (an
// export whose client stopped reading ends with http.ErrAbortHandler) is
// logged too, as aborted, with the status it had begun with.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		aborted := true
		defer func() {
			attrs := []slog.Attr{
				slog.String("request_id", c.GetString(requestIDKey)),
				slog.String("method", c.Request.Method),
				slog.String("route", routeOf(c)),
				slog.Int("status", c.Writer.Status()),
				slog.Duration("duration", time.Since(start)),
			}
			if aborted {
				attrs = append(attrs, slog.Bool("aborted", true))
			}
			log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request", attrs...)
		}()
		c.Next()
		aborted = false
	}
}

// recovery turns a panic into a 500 problem and an error log line instead
// of a dropped connection.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				writeProblem(c, log, fmt.Errorf("panic: %v", r))
			}
		}()
		c.Next()
	}
}

// limitBody caps every request body, so a huge upload is refused with 413
// before it is read into memory.
func limitBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}

// securityHeaders are safe defaults for a JSON API holding health data,
// and the pages' own headers on every answer under their paths: by path,
// not by route, so that a 404, a 405 or a redirect there carries them too
// (a page's error page is never framed either).
func securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		switch p := c.Request.URL.Path; {
		case under(p, dashboard.Path):
			dashboard.Headers(h)
		case under(p, surveypage.Path):
			webasset.SecurityHeaders(h, surveypage.ContentSecurityPolicy)
		}
		c.Next()
	}
}

// under reports whether path is dir ("/ui/") or below it, or dir without
// its slash ("/ui", which is redirected to it).
func under(path, dir string) bool {
	return strings.HasPrefix(path, dir) || path == strings.TrimSuffix(dir, "/")
}
