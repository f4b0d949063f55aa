// Package surveypage is the hosted survey page for one-time survey links:
// a static, bilingual page served by the same binary under Path. A rater
// opens Link(base, token); the token travels in the URL fragment, which a
// browser never sends to a server, so it reaches no access log, proxy or
// Referer header. The page's script reads it and calls GET and POST
// /v1/survey with it as a bearer token.
//
// Everything the page needs (HTML, CSS, ES modules and the message
// catalogues) is embedded, so a single binary serves it offline. Every
// text a person reads is in a catalogue (assets/i18n/<lang>.json), none in
// code; the Go side uses the catalogues only to render the page's first
// paint in the language negotiated from Accept-Language.
//
// The package imports nothing of this module but webasset: it is plain
// net/http.
package surveypage

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/alliance-project/alliance/internal/webasset"
)

// Path is where the page is mounted; the router serves Path + "*any".
const Path = "/s/"

// DefaultLanguage is used when nothing better is known; every catalogue
// must have the same keys as its catalogue.
const DefaultLanguage = "en"

// Link is the survey link for token: base (a public URL such as
// https://survey.example.org, or "" for a root-relative link) + Path +
// "#" + token.
func Link(base, token string) string {
	return strings.TrimSuffix(base, "/") + Path + "#" + token
}

// ContentSecurityPolicy is sent with every response of the page: scripts,
// styles and requests only from this origin, no inline script or style,
// never framed, no <base>, no form posts (the script sends the answers).
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

//go:embed assets
var assets embed.FS

// page is the parsed, checked content of assets: built once.
type page struct {
	index     *template.Template
	files     map[string]webasset.File // by name relative to Path, e.g. "survey.js", "i18n/sv.json"
	catalogue map[string]map[string]string
}

var load = sync.OnceValues(func() (*page, error) { return parse(assets) })

func parse(fsys fs.FS) (*page, error) {
	root, err := fs.Sub(fsys, "assets")
	if err != nil {
		return nil, err
	}
	p := &page{files: map[string]webasset.File{}, catalogue: map[string]map[string]string{}}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		if dir, file := path.Split(name); dir == "i18n/" && path.Ext(file) == ".json" {
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				return fmt.Errorf("surveypage: %s: %w", name, err)
			}
			p.catalogue[strings.TrimSuffix(file, ".json")] = m
		}
		if name == "index.html" {
			return nil // a template, rendered per request
		}
		f, err := webasset.New(name, b)
		if err != nil {
			return fmt.Errorf("surveypage: %w", err)
		}
		p.files[name] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	base, ok := p.catalogue[DefaultLanguage]
	if !ok {
		return nil, fmt.Errorf("surveypage: no %s catalogue", DefaultLanguage)
	}
	for lang, m := range p.catalogue {
		for k := range base {
			if m[k] == "" {
				return nil, fmt.Errorf("surveypage: catalogue %s lacks %q", lang, k)
			}
		}
		for k := range m {
			if _, ok := base[k]; !ok {
				return nil, fmt.Errorf("surveypage: catalogue %s has %q, which %s lacks", lang, k, DefaultLanguage)
			}
		}
	}
	src, err := fs.ReadFile(root, "index.html")
	if err != nil {
		return nil, err
	}
	p.index, err = template.New("index.html").Option("missingkey=error").Funcs(template.FuncMap{
		// Replaced per request by a function bound to the language.
		"t": func(string) (string, error) { return "", nil },
	}).Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("surveypage: index.html: %w", err)
	}
	for _, lang := range p.languages() {
		if _, err := p.render(lang); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Languages lists the languages the page speaks, default first.
func Languages() []string {
	p, err := load()
	if err != nil {
		return nil
	}
	return p.languages()
}

func (p *page) languages() []string {
	out := []string{DefaultLanguage}
	for _, l := range slices.Sorted(maps.Keys(p.catalogue)) {
		if l != DefaultLanguage {
			out = append(out, l)
		}
	}
	return out
}

// Message returns the catalogue text of key in lang ("" if there is none),
// for tests that check what a person sees.
func Message(lang, key string) string {
	p, err := load()
	if err != nil {
		return ""
	}
	return p.catalogue[lang][key]
}

// render executes the page template in lang.
func (p *page) render(lang string) ([]byte, error) {
	msgs := p.catalogue[lang]
	t, err := p.index.Clone()
	if err != nil {
		return nil, err
	}
	t.Funcs(template.FuncMap{"t": func(key string) (string, error) {
		if s, ok := msgs[key]; ok {
			return s, nil
		}
		return "", fmt.Errorf("no message %q", key)
	}})
	var b bytes.Buffer
	if err := t.Execute(&b, map[string]any{"Lang": lang, "Languages": p.languages()}); err != nil {
		return nil, fmt.Errorf("surveypage: index.html in %s: %w", lang, err)
	}
	return b.Bytes(), nil
}

// Negotiate picks the page language from an Accept-Language header:
// the supported language with the highest q (by primary subtag, so sv-FI
// is sv), the earliest on a tie, else DefaultLanguage.
func Negotiate(acceptLanguage string) string {
	p, err := load()
	if err != nil {
		return DefaultLanguage
	}
	best, bestQ := DefaultLanguage, 0.0
	for part := range strings.SplitSeq(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
				q = f
			} else {
				q = 0
			}
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if _, ok := p.catalogue[primary]; ok && q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

// Handler serves the page and its assets for requests whose path starts
// with Path: Path itself (and Path+"index.html") is the page, rendered
// in the language negotiated from Accept-Language; other names are the
// embedded files. It panics if the embedded assets are invalid, which the
// package's tests rule out.
func Handler() http.Handler {
	p, err := load()
	if err != nil {
		panic(err)
	}
	pages := map[string][]byte{}
	for _, lang := range p.languages() {
		b, err := p.render(lang)
		if err != nil {
			panic(err)
		}
		pages[lang] = b
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		webasset.SecurityHeaders(h, ContentSecurityPolicy)
		name, ok := strings.CutPrefix(r.URL.Path, Path)
		if !ok {
			webasset.NotFound(w)
			return
		}
		if name == "" || name == "index.html" {
			lang := Negotiate(r.Header.Get("Accept-Language"))
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Cache-Control", "no-store")
			h.Set("Vary", "Accept-Language")
			_, _ = w.Write(pages[lang])
			return
		}
		a, ok := p.files[name]
		if !ok {
			webasset.NotFound(w)
			return
		}
		a.Serve(w, r)
	})
}
