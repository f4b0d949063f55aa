package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/api"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if s := decode[api.StatusResponse](t, e.expect(http.StatusOK, http.MethodGet, "/healthz", "")); s.Status != "ok" {
		t.Errorf("GET /healthz status = %q, want ok", s.Status)
	}
	if s := decode[api.StatusResponse](t, e.expect(http.StatusOK, http.MethodGet, "/readyz", "")); s.Status != "ready" {
		t.Errorf("GET /readyz status = %q, want ready", s.Status)
	}
}

func TestReadyzUnmigrated(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envOptions{noMigrate: true})
	e.allow5xx = true
	if s := decode[api.StatusResponse](t, e.expect(http.StatusOK, http.MethodGet, "/healthz", "")); s.Status != "ok" {
		t.Errorf("GET /healthz status = %q, want ok: liveness does not need the schema", s.Status)
	}
	rec := e.do(http.MethodGet, "/readyz", "")
	checkProblem(t, rec, "GET /readyz (no migrations applied)", problemWant{status: http.StatusServiceUnavailable, typ: typeUnavailable})
	if ra := rec.Header().Get("Retry-After"); ra == "" {
		t.Error("GET /readyz 503 has no Retry-After header")
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/v1/nothing-here", http.StatusNotFound},
		{http.MethodGet, "/v2/studies", http.StatusNotFound},
		{http.MethodGet, "/nothing-here", http.StatusNotFound},
		{http.MethodDelete, "/v1/studies", http.StatusMethodNotAllowed},
		{http.MethodPatch, "/v1/instruments/wai_sr_client", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/v1/dyads/dy_x/sessions/1/ratings/client", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		rec := e.do(tt.method, tt.path, "")
		checkProblem(t, rec, tt.method+" "+tt.path, problemWant{status: tt.want, typ: typeBlank})
	}
}

func TestResponseHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const trace = "3f2b8c1e-4d5a-4b6c-9e7f-0a1b2c3d4e5f"
	rec := e.expect(http.StatusOK, http.MethodGet, "/v1/instruments", "", "X-Request-ID", trace)
	if got := rec.Header().Get("X-Request-ID"); got != trace {
		t.Errorf("X-Request-ID = %q, want the caller's %s echoed", got, trace)
	}
	// Every log line of a request carries its id: one that could hold a
	// code or a date is replaced (the log witness also looks for them).
	for _, id := range []string{"C-017", "2019-07-13", "CNRY-C-7Q3X", "trace-42", "ghijklmnopqrstuvwx"} {
		rec := e.expect(http.StatusOK, http.MethodGet, "/v1/instruments", "", "X-Request-ID", id)
		if got := rec.Header().Get("X-Request-ID"); got == id || got == "" {
			t.Errorf("X-Request-ID %q was taken as the request's id (%q)", id, got)
		}
	}
	if got := e.expect(http.StatusOK, http.MethodGet, "/v1/instruments", "", "X-Request-ID", "0123456789abcdef0123456789abcdef").Header().Get("X-Request-ID"); got != "0123456789abcdef0123456789abcdef" {
		t.Errorf("nginx's 32 hex digits were not taken as the request id (%q)", got)
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	p := checkProblem(t, e.do(http.MethodGet, "/v1/studies/st_nope", "", "X-Request-ID", "00000000000000000000000000000043"),
		"GET /v1/studies/st_nope", problemWant{status: http.StatusNotFound, typ: typeBlank})
	if p.RequestID != "00000000000000000000000000000043" || p.Instance != "/v1/studies/st_nope" {
		t.Errorf("problem request_id/instance = %q/%q, want the caller's id and /v1/studies/st_nope", p.RequestID, p.Instance)
	}
}

// TestMetrics: /metrics serves Prometheus text with per-route counters
// labelled by route pattern, never by raw path (which holds ids).
func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	// Made-up methods, sent by anyone: one series between them.
	for _, m := range []string{"FOO1", "FOO2", "BAR3"} {
		e.do(m, "/v1/studies", "")
	}
	rec := e.expect(http.StatusOK, http.MethodGet, "/metrics", "", "Authorization", "")
	body := rec.Body.String()
	for _, want := range []string{
		`alliance_http_requests_total{method="POST",route="/v1/studies",status="201"} 1`,
		`alliance_http_request_duration_seconds_bucket{method="POST",route="/v1/studies"`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, st.ID) {
		t.Error("/metrics contains a study id; labels must be route patterns")
	}
	if strings.Contains(body, "FOO1") || !strings.Contains(body, `method="other"`) {
		t.Error("/metrics has a series per made-up method; want them under method=\"other\"")
	}
}

// TestHead: every GET route answers HEAD with GET's status and headers
// and no body, so a load balancer may check health by HEAD; its access
// rule is GET's.
func TestHead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := httptest.NewServer(e.engine)
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		path   string
		auth   bool
		status int
	}{
		{"/healthz", false, http.StatusOK},
		{"/readyz", false, http.StatusOK},
		{"/v1/studies", false, http.StatusUnauthorized},
		{"/v1/studies", true, http.StatusOK},
		{"/v1/studies/st_nope", true, http.StatusNotFound},
	} {
		req, err := http.NewRequest(http.MethodHead, srv.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.auth {
			req.Header.Set("Authorization", "Bearer "+e.adminToken)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || len(body) != 0 || res.Header.Get("Content-Type") == "" {
			t.Errorf("HEAD %s = %d, %d body bytes, Content-Type %q; want %d, none, GET's type", tc.path, res.StatusCode, len(body), res.Header.Get("Content-Type"), tc.status)
		}
	}
}
