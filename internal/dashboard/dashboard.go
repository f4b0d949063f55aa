// Package dashboard renders the analysts' dashboard under Path: server-side
// HTML pages (html/template) over plain view structs, and their embedded
// stylesheet and icon. It knows nothing of HTTP routing, sessions or the
// domain: the transport (package api) fills the views, checks who may see
// them and sends them with Headers. The pages run no script and post only
// the sign-in and sign-out forms, so the Content-Security-Policy is the
// survey page's with form posts to this origin allowed.
//
// The package imports nothing of this module but webasset.
package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/alliance-project/alliance/internal/webasset"
)

// Path is where the dashboard is mounted; its assets are under
// Path + "assets/".
const Path = "/ui/"

// ContentSecurityPolicy is sent with every page and asset: everything
// from this origin only, no script at all, never framed, no <base>, forms
// posted only here.
const ContentSecurityPolicy = "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; " +
	"connect-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

//go:embed assets templates
var files embed.FS

type site struct {
	pages  map[string]*template.Template // by page name, e.g. "overview"
	assets map[string]webasset.File      // by name under assets/
}

var load = sync.OnceValues(func() (*site, error) { return parse(files) })

func parse(fsys fs.FS) (*site, error) {
	s := &site{pages: map[string]*template.Template{}, assets: map[string]webasset.File{}}
	names, err := fs.Glob(fsys, "assets/*")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		f, err := webasset.New(name, b)
		if err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		s.assets[path.Base(name)] = f
	}
	layout, err := template.New("layout.html").Option("missingkey=error").Funcs(funcs).ParseFS(fsys, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard: layout: %w", err)
	}
	pages, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("dashboard: %s: %w", p, err)
		}
		s.pages[name] = t
	}
	return s, nil
}

var funcs = template.FuncMap{
	"asset": func(name string) string { return Path + "assets/" + name },
}

// Render writes page (the name of a template, e.g. "overview") filled
// with view, whose type is the page's view struct. The page is rendered
// into memory first, so a template error leaves w untouched.
func Render(w io.Writer, page string, view any) error {
	s, err := load()
	if err != nil {
		return err
	}
	t, ok := s.pages[page]
	if !ok {
		return fmt.Errorf("dashboard: no page %q", page)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout.html", view); err != nil {
		return fmt.Errorf("dashboard: render %s: %w", page, err)
	}
	_, err = w.Write(b.Bytes())
	return err
}

// ReferrerPolicy is the dashboard's: no referrer leaves this origin, but
// same-origin requests keep theirs. The survey page's no-referrer would
// make browsers send "Origin: null" with the sign-in and sign-out posts,
// and the server could no longer tell its own forms from another site's.
const ReferrerPolicy = "same-origin"

// Headers sets the security headers of every dashboard response: the
// survey page's, with this package's policy and ReferrerPolicy.
func Headers(h http.Header) {
	webasset.SecurityHeaders(h, ContentSecurityPolicy)
	h.Set("Referrer-Policy", ReferrerPolicy)
}

// Assets serves the embedded stylesheet and icon: requests for
// Path + "assets/" + name. It panics if the embedded files are invalid,
// which the package's tests rule out.
func Assets() http.Handler {
	s, err := load()
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Headers(w.Header())
		f, ok := s.assets[strings.TrimPrefix(r.URL.Path, Path+"assets/")]
		if !ok {
			webasset.NotFound(w)
			return
		}
		f.Serve(w, r)
	})
}
