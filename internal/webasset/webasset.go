// Package webasset serves the embedded files of the service's own web
// pages, the hosted survey page and the analysts' dashboard, with the
// security headers both send. It is plain net/http and imports nothing of
// this module.
package webasset

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"path"
	"time"
)

// File is one embedded file with the headers it is served with.
type File struct {
	Body        []byte
	ContentType string
	ETag        string
}

// New describes the file name with content b: its media type from the
// extension (JavaScript always as text/javascript, since system mime
// tables vary) and a strong ETag from its content.
func New(name string, b []byte) (File, error) {
	ct := mime.TypeByExtension(path.Ext(name))
	if path.Ext(name) == ".js" {
		ct = "text/javascript; charset=utf-8"
	}
	if ct == "" {
		return File{}, fmt.Errorf("%s: no media type for its extension", name)
	}
	sum := sha256.Sum256(b)
	return File{Body: b, ContentType: ct, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}, nil
}

// Serve sends f. It is revalidated on every use (cheap: a 304), so a new
// binary's assets are never mixed with an old page.
func (f File) Serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.ETag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.Body))
}

// SecurityHeaders sets the headers every response of a page and its
// assets carries: the page's Content-Security-Policy, no referrer, no
// sniffing, never framed, isolated from other origins' windows and
// resources.
func SecurityHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// NotFound answers a plain-text 404 that is not cached.
func NotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("404 page not found\n"))
}
