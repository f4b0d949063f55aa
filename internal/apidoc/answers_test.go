package apidoc_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alliance-project/alliance/internal/apidoc"
)

// TestServerAnswers: the answers of the middleware are declared from the
// endpoint table, whatever the annotations say: 400 where the query is
// checked, 401, 403 and 503 where a credential is looked up, 429 on
// writes, 413 and 415 with a JSON body; and the headers the service sends.
func TestServerAnswers(t *testing.T) {
	in := strings.NewReplacer(
		// putThing takes an Idempotency-Key and answers 201 with a Location.
		`{"name": "body", "in": "body"`, `{"type": "string", "name": "Idempotency-Key", "in": "header"}, {"name": "body", "in": "body"`,
		`"responses": {"200": {"description": "OK"}}}}`, `"responses": {"201": {"description": "Created", "headers": {"Location": {"type": "string"}}}}}}`,
		// The index answers a browser with HTML.
		`"produces": ["application/json"]`, `"produces": ["application/json", "text/html"]`,
	).Replace(swagger2)
	table := []apidoc.Route{
		{Method: "GET", Path: "/healthz", Public: true},
		{Method: "GET", Path: "/v1/things/:id", Scopes: []string{"admin"}, AnyQuery: true},
		{Method: "PUT", Path: "/v1/things/:id", Survey: true},
	}
	out, err := apidoc.Build([]byte(in), table, nil)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	statuses := func(path, method string) []string {
		return slices.Sorted(maps.Keys(at(t, doc, "paths", path, method, "responses").(map[string]any)))
	}
	headers := func(path, method, status string) []string {
		h, _ := at(t, doc, "paths", path, method, "responses", status, "headers").(map[string]any)
		return slices.Sorted(maps.Keys(h))
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"public, query checked: 400 only", statuses("/healthz", "get"), []string{"200", "400"}},
		{"read with a credential, any query: no 400, no 429", statuses("/v1/things/{id}", "get"), []string{"200", "401", "403", "404", "503"}},
		{"write with a JSON body", statuses("/v1/things/{id}", "put"), []string{"201", "400", "401", "403", "413", "415", "429", "503"}},
		{"added refusal is a problem", at(t, doc, "paths", "/v1/things/{id}", "put", "responses", "503", "content", "application/problem+json", "schema", "$ref"),
			"#/components/schemas/Problem"},
		{"request id on every response", headers("/healthz", "get", "200"), []string{"X-Request-ID"}},
		{"401 says how to authenticate", headers("/v1/things/{id}", "get", "401"), []string{"WWW-Authenticate", "X-Request-ID"}},
		{"503 says when to retry", headers("/v1/things/{id}", "get", "503"), []string{"Retry-After", "X-Request-ID"}},
		{"429 says when to retry", headers("/v1/things/{id}", "put", "429"), []string{"Retry-After", "X-Request-ID"}},
		{"idempotent write says when it replayed", headers("/v1/things/{id}", "put", "201"), []string{"Idempotent-Replayed", "Location", "X-Request-ID"}},
		{"no replay header without an Idempotency-Key", headers("/v1/things/{id}", "get", "200"), []string{"X-Request-ID"}},
		{"headers are shared", at(t, doc, "paths", "/v1/things/{id}", "get", "responses", "503", "headers", "Retry-After", "$ref"),
			"#/components/headers/Retry-After"},
		{"request id always sent", at(t, doc, "components", "headers", "X-Request-ID", "required"), true},
		{"replay header only on a replay", at(t, doc, "components", "headers", "Idempotent-Replayed", "required"), nil},
		{"Location always sent", at(t, doc, "paths", "/v1/things/{id}", "put", "responses", "201", "headers", "Location", "required"), true},
		{"an HTML page is a string", at(t, doc, "paths", "/healthz", "get", "responses", "200", "content", "text/html", "schema"),
			map[string]any{"type": "string"}},
		{"JSON keeps its schema", at(t, doc, "paths", "/healthz", "get", "responses", "200", "content", "application/json", "schema", "$ref"),
			"#/components/schemas/Status"},
		{"HEAD and 405 said once, in the description", strings.Contains(at(t, doc, "info", "description").(string), "also answers HEAD"), true},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, tt.got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
}
