package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/api"
)

// TestIndex: the server's address points to the documentation, as JSON
// for a program and as a page for a browser, without a credential.
func TestIndex(t *testing.T) {
	t.Parallel()
	h := contractHandler(t, true)
	tests := []struct {
		accept, wantType string
	}{
		{"", "application/json"},
		{"*/*", "application/json"},
		{"application/json", "application/json"},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if tt.accept != "" {
			req.Header.Set("Accept", tt.accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), tt.wantType) {
			t.Errorf("GET / (Accept %q) = %d %q, want 200 %s", tt.accept, rec.Code, rec.Header().Get("Content-Type"), tt.wantType)
			continue
		}
		if tt.wantType == "text/html" {
			for _, link := range []string{`href="/docs/"`, `href="/openapi.json"`} {
				if !strings.Contains(rec.Body.String(), link) {
					t.Errorf("GET / page has no %s:\n%s", link, rec.Body)
				}
			}
			continue
		}
		var got api.IndexResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Docs != "/docs/" || got.OpenAPI != "/openapi.json" {
			t.Errorf("GET / = %s (%v), want links to /docs/ and /openapi.json", rec.Body, err)
		}
	}
}
