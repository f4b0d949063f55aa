package dashboard_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/internal/dashboard"
)

// TestPagesRender: every page renders with an empty view, and its text
// is escaped.
func TestPagesRender(t *testing.T) {
	evil := dashboard.Page{Title: `<script>alert(1)</script>`}
	for name, view := range map[string]any{
		"signin":   dashboard.SignIn{Page: evil},
		"studies":  dashboard.StudyList{Page: evil},
		"overview": dashboard.Overview{Page: evil},
		"session":  dashboard.SessionView{Page: evil},
		"dyad":     dashboard.DyadView{Page: evil},
		"problem":  dashboard.Problem{Page: evil},
	} {
		var b bytes.Buffer
		if err := dashboard.Render(&b, name, view); err != nil {
			t.Errorf("Render(%s) = %v", name, err)
			continue
		}
		if strings.Contains(b.String(), "<script") || !strings.Contains(b.String(), "&lt;script&gt;") {
			t.Errorf("Render(%s) does not escape its title", name)
		}
	}
	if err := dashboard.Render(new(bytes.Buffer), "nope", nil); err == nil {
		t.Error("Render(unknown page) = nil error")
	}
}

// TestAssets: the stylesheet and icon are served with the dashboard's
// headers; anything else is 404.
func TestAssets(t *testing.T) {
	for path, want := range map[string]int{"/ui/assets/dashboard.css": 200, "/ui/assets/favicon.svg": 200, "/ui/assets/x.js": 404} {
		rec := httptest.NewRecorder()
		dashboard.Assets().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want || rec.Header().Get("Content-Security-Policy") != dashboard.ContentSecurityPolicy ||
			rec.Header().Get("Referrer-Policy") != dashboard.ReferrerPolicy {
			t.Errorf("GET %s = %d with CSP %q, want %d and the dashboard's headers", path, rec.Code, rec.Header().Get("Content-Security-Policy"), want)
		}
	}
}
