package surveypage_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/surveypage"
)

func get(t *testing.T, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	surveypage.Handler().ServeHTTP(rec, req)
	return rec
}

func TestLink(t *testing.T) {
	for _, tt := range []struct{ base, want string }{
		{"", "/s/#als_x.y"},
		{"https://survey.example.org", "https://survey.example.org/s/#als_x.y"},
		{"https://example.org/clinic/", "https://example.org/clinic/s/#als_x.y"},
	} {
		if got := surveypage.Link(tt.base, "als_x.y"); got != tt.want {
			t.Errorf("Link(%q) = %q, want %q", tt.base, got, tt.want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	for _, tt := range []struct{ header, want string }{
		{"", "en"},
		{"sv", "sv"},
		{"sv-SE,sv;q=0.9,en-US;q=0.8,en;q=0.7", "sv"},
		{"SV-fi", "sv"},
		{"en-GB,en;q=0.9,sv;q=0.8", "en"},
		{"de-DE,de;q=0.9,sv;q=0.5", "sv"},
		{"de, fr", "en"},
		{"sv;q=0", "en"},
		{"sv;q=nonsense", "en"},
		{"en;q=0.4, sv;q=0.6", "sv"},
		{"*", "en"},
	} {
		if got := surveypage.Negotiate(tt.header); got != tt.want {
			t.Errorf("Negotiate(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

// TestHeaders: every response of the page, asset or not, carries the
// strict policy; the page itself is never cached and varies by language.
func TestHeaders(t *testing.T) {
	csp := map[string]string{}
	for _, d := range strings.Split(surveypage.ContentSecurityPolicy, ";") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), " ")
		csp[name] = val
	}
	for name, want := range map[string]string{
		"default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "connect-src": "'self'",
		"frame-ancestors": "'none'", "base-uri": "'none'", "form-action": "'none'",
	} {
		if csp[name] != want {
			t.Errorf("CSP %s = %q, want %q", name, csp[name], want)
		}
	}
	for _, path := range []string{"/s/", "/s/index.html", "/s/survey.js", "/s/survey.css", "/s/i18n/sv.json", "/s/nope.js"} {
		rec := get(t, path)
		for h, want := range map[string]string{
			"Content-Security-Policy": surveypage.ContentSecurityPolicy,
			"Referrer-Policy":         "no-referrer",
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
		} {
			if got := rec.Header().Get(h); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, h, got, want)
			}
		}
	}
	rec := get(t, "/s/")
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Vary") != "Accept-Language" {
		t.Errorf("GET /s/ = %d, Cache-Control %q, Vary %q", rec.Code, rec.Header().Get("Cache-Control"), rec.Header().Get("Vary"))
	}
}

func TestAssets(t *testing.T) {
	for path, ct := range map[string]string{
		"/s/":              "text/html; charset=utf-8",
		"/s/survey.js":     "text/javascript; charset=utf-8",
		"/s/i18n.js":       "text/javascript; charset=utf-8",
		"/s/draft.js":      "text/javascript; charset=utf-8",
		"/s/survey.css":    "text/css; charset=utf-8",
		"/s/i18n/en.json":  "application/json",
		"/s/i18n/sv.json":  "application/json",
		"/s/favicon.svg":   "image/svg+xml",
		"/s/../survey.css": "",
		"/s/i18n/":         "",
		"/s/index.htm":     "",
	} {
		rec := get(t, path)
		if ct == "" {
			if rec.Code != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404", path, rec.Code)
			}
			continue
		}
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != ct {
			t.Errorf("GET %s = %d %q, want 200 %q", path, rec.Code, rec.Header().Get("Content-Type"), ct)
		}
	}
	// Assets are revalidated, answered with 304 while unchanged.
	rec := get(t, "/s/survey.js")
	etag := rec.Header().Get("ETag")
	if etag == "" || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("survey.js: ETag %q, Cache-Control %q", etag, rec.Header().Get("Cache-Control"))
	}
	if rec := get(t, "/s/survey.js", "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Errorf("survey.js with its ETag = %d, want 304", rec.Code)
	}
}

// TestLanguage: the first paint is in the negotiated language, which the
// script reads from <html data-default-lang>.
func TestLanguage(t *testing.T) {
	for header, lang := range map[string]string{"": "en", "sv-SE,sv;q=0.9": "sv", "en-US": "en"} {
		body := get(t, "/s/", "Accept-Language", header).Body.String()
		if !strings.Contains(body, `<html lang="`+lang+`" data-default-lang="`+lang+`"`) {
			t.Errorf("Accept-Language %q: page is not in %s:\n%.300s", header, lang, body)
		}
		if want := surveypage.Message(lang, "page.loading"); !strings.Contains(body, want) {
			t.Errorf("Accept-Language %q: page lacks %q", header, want)
		}
	}
	if got := surveypage.Languages(); !slices.Equal(got, []string{"en", "sv"}) {
		t.Errorf("Languages() = %v, want [en sv]", got)
	}
}

func asset(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("assets/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNoInlineCode: the page works under its CSP only if it has no inline
// script, style or event handler, and builds no markup from strings.
func TestNoInlineCode(t *testing.T) {
	page := asset(t, "index.html")
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(tag, ` src="`) {
			t.Errorf("index.html has an inline script: %s", tag)
		}
	}
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`javascript:`),
	} {
		if m := bad.FindString(page); m != "" {
			t.Errorf("index.html has inline code or style: %q", m)
		}
	}
	for _, name := range []string{"survey.js", "i18n.js", "draft.js"} {
		src := asset(t, name)
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", ".style.", "'style'"} {
			if strings.Contains(src, bad) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
	}
}

// TestCatalogues: every message the page's code and template use exists
// in every catalogue (the package refuses catalogues whose keys differ).
func TestCatalogues(t *testing.T) {
	var keys []string
	js := asset(t, "survey.js")
	for _, m := range regexp.MustCompile(`'([a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)+)'`).FindAllStringSubmatch(js, -1) {
		keys = append(keys, m[1])
	}
	// Problem pages: showProblem('kind'), the kinds of the 410 codes
	// (GONE_KINDS) and of a 410 without a code (goneKind's fallbacks).
	var kinds []string
	for _, m := range regexp.MustCompile(`showProblem\('(\w+)'`).FindAllStringSubmatch(js, -1) {
		kinds = append(kinds, m[1])
	}
	for _, line := range strings.Split(js, "\n") {
		if strings.Contains(line, "GONE_KINDS = {") || strings.Contains(line, "showProblem(goneKind(") {
			for _, m := range regexp.MustCompile(`'(\w+)'`).FindAllStringSubmatch(line, -1) {
				kinds = append(kinds, m[1])
			}
		}
	}
	for _, want := range []string{"used", "expired", "revoked", "gone", "goneAfterSend", "notStored", "rated", "invalid", "missing", "unavailable"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("no problem page %q found in survey.js: has the extraction gone stale?", want)
		}
	}
	for _, kind := range kinds {
		for _, part := range []string{"heading", "body", "help"} {
			keys = append(keys, "problem."+kind+"."+part)
		}
	}
	html := asset(t, "index.html")
	for _, m := range regexp.MustCompile(`(?:data-i18n(?:-aria-label)?="|\{\{t ")([^"]+)"`).FindAllStringSubmatch(html, -1) {
		keys = append(keys, m[1])
	}
	for _, l := range surveypage.Languages() {
		keys = append(keys, "lang."+l)
	}
	if len(keys) < 40 {
		t.Fatalf("found only %d message keys in the page's code: has the extraction gone stale?", len(keys))
	}
	for _, lang := range surveypage.Languages() {
		for _, k := range keys {
			plural := surveypage.Message(lang, k+".one") != "" && surveypage.Message(lang, k+".other") != ""
			if surveypage.Message(lang, k) == "" && !plural {
				t.Errorf("catalogue %s lacks %q", lang, k)
			}
		}
		// Every form's anchor labels are translated, not shown in English.
		for _, f := range instrument.Builtin().Forms() {
			for _, a := range f.Scale.Anchors {
				if surveypage.Message(lang, "anchor."+a.Label) == "" {
					t.Errorf("catalogue %s lacks the anchor %q of %s", lang, a.Label, f.ID)
				}
			}
		}
	}
}
