package apidoc_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alliance-project/alliance/internal/apidoc"
)

// swagger2 is a small document as swag writes it: an apiKey scheme in the
// Authorization header, one media-type list per operation, a pointer
// struct field as x-nullable allOf, a path parameter with an example.
const swagger2 = `{
  "swagger": "2.0",
  "info": {"title": "t", "version": "1", "contact": {}},
  "basePath": "/",
  "paths": {
    "/healthz": {"get": {"operationId": "checkLiveness", "produces": ["application/json"],
      "responses": {"200": {"description": "OK", "schema": {"$ref": "#/definitions/api.Status"}}}}},
    "/v1/things/{id}": {
      "get": {"operationId": "getThing", "security": [{"BearerAuth": []}],
        "produces": ["application/json", "application/problem+json"],
        "parameters": [{"type": "string", "example": "th_1", "name": "id", "in": "path", "required": true}],
        "responses": {
          "200": {"description": "OK", "schema": {"$ref": "#/definitions/api.Thing"}},
          "404": {"description": "Not Found", "schema": {"$ref": "#/definitions/api.Problem"}}}},
      "put": {"operationId": "putThing", "security": [{"BearerAuth": []}],
        "consumes": ["application/json"],
        "parameters": [{"type": "string", "name": "id", "in": "path", "required": true},
          {"name": "body", "in": "body", "required": true, "schema": {"$ref": "#/definitions/api.Status"}}],
        "responses": {"200": {"description": "OK"}}}}
  },
  "definitions": {
    "api.Status": {"type": "object", "properties": {"status": {"type": "string"}}},
    "api.Problem": {"type": "object", "properties": {"title": {"type": "string"}}},
    "api.Interval": {"type": "object", "properties": {"lower": {"type": "number"}}},
    "api.Thing": {"type": "object", "properties": {
      "answers": {"type": "array", "items": {"type": "number"}},
      "ci": {"x-nullable": true, "allOf": [{"$ref": "#/definitions/api.Interval"}]}}}
  },
  "securityDefinitions": {"BearerAuth": {"type": "apiKey", "name": "Authorization", "in": "header", "description": "a key"}}
}`

var routes = []apidoc.Route{
	{Method: "GET", Path: "/healthz", Public: true},
	{Method: "GET", Path: "/v1/things/:id", Scopes: []string{"admin", "collect", "analyze"}},
	{Method: "PUT", Path: "/v1/things/:id", Survey: true},
	{Method: "GET", Path: "/docs/*any", Public: true}, // served, not documented: ignored
}

func build(t *testing.T, in string, types map[string]apidoc.WireType) map[string]any {
	t.Helper()
	out, err := apidoc.Build([]byte(in), routes, types)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "{\n  \"openapi\": \"3.0.3\",\n  \"info\"") {
		t.Errorf("document starts %.40q, want openapi and info first", out)
	}
	return doc
}

// at walks a decoded JSON document along keys and indexes.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestBuild(t *testing.T) {
	doc := build(t, swagger2, map[string]apidoc.WireType{
		"api.Thing":  {NullableItems: []string{"answers"}, Always: []string{"ci", "answers", "gone"}},
		"api.Status": {Always: []string{"status"}},
		"api.Unused": {NullableItems: []string{"x"}},
	})
	get := at(t, doc, "paths", "/v1/things/{id}", "get")
	put := at(t, doc, "paths", "/v1/things/{id}", "put")
	tests := []struct {
		name      string
		got, want any
	}{
		{"bearer scheme", at(t, doc, "components", "securitySchemes", "BearerAuth"),
			map[string]any{"type": "http", "scheme": "bearer", "description": "a key"}},
		{"public: security []", at(t, doc, "paths", "/healthz", "get", "security"), []any{}},
		{"protected: bearer", at(t, get, "security"), []any{map[string]any{"BearerAuth": []any{}}}},
		{"scopes named", at(t, get, "description"), "Called with an API key with scope admin, collect or analyze."},
		{"survey token named", at(t, put, "description"), "Called with a one-time survey token."},
		{"parameter example kept", at(t, get, "parameters", 0, "example"), "th_1"},
		{"success is not problem+json", at(t, get, "responses", "200", "content", "application/problem+json"), nil},
		{"success keeps json", at(t, get, "responses", "200", "content", "application/json") != nil, true},
		{"error is problem+json only", len(at(t, get, "responses", "404", "content").(map[string]any)), 1},
		{"error keeps its schema", at(t, get, "responses", "404", "content", "application/problem+json", "schema", "$ref"), "#/components/schemas/Problem"},
		{"nullable items", at(t, doc, "components", "schemas", "Thing", "properties", "answers", "items"),
			map[string]any{"type": "number", "nullable": true}},
		{"nullable reference typed", at(t, doc, "components", "schemas", "Thing", "properties", "ci", "type"), "object"},
		{"always-sent response fields required", at(t, doc, "components", "schemas", "Thing", "required"), []any{"answers", "ci"}},
		{"request body fields not required", at(t, doc, "components", "schemas", "Status", "required"), nil},
		{"empty contact dropped", at(t, doc, "info", "contact"), nil},
		{"schema named without the package", at(t, doc, "paths", "/healthz", "get", "responses", "200", "content", "application/json", "schema", "$ref"),
			"#/components/schemas/Status"},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, tt.got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
}

func TestBuildRefuses(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"no operationId", strings.Replace(swagger2, `"operationId": "putThing", `, "", 1), "PUT /v1/things/{id} has no operationId: add an @ID"},
		{"not camelCase", strings.Replace(swagger2, `"putThing"`, `"put-thing"`, 1), "not camelCase"},
		{"duplicate", strings.Replace(swagger2, `"putThing"`, `"getThing"`, 1), `operationId "getThing" is already used`},
		{"not in the table", strings.Replace(swagger2, `"/healthz"`, `"/livez"`, 1), "GET /livez is documented but not in the endpoint table"},
		{"one name twice", strings.Replace(swagger2, `"definitions": {`, `"definitions": {"other.Thing": {"type": "object"},`, 1), "both named Thing"},
		{"no Problem schema", strings.ReplaceAll(swagger2, "api.Problem", "api.Fault"), "no Problem schema"},
		{"no scheme", strings.Replace(swagger2, `"securityDefinitions": {"BearerAuth"`, `"securityDefinitions": {"Other"`, 1), "no security scheme BearerAuth"},
	}
	for _, tt := range tests {
		_, err := apidoc.Build([]byte(tt.in), routes, nil)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: Build error = %v, want one containing %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestWireTypes(t *testing.T) {
	dir := t.TempDir()
	src := "package api\n\n" +
		"type Rating struct {\n" +
		"\tAnswers []*float64 `json:\"answers\"`\n" +
		"\tScores  []float64  `json:\"scores,omitempty\"`\n" +
		"\tNotes   []*string  `json:\"-\"`\n" +
		"\tDash    int        `json:\"-,\"`\n" +
		"\tFlags   []*bool\n" +
		"\tcodes   []*string\n" +
		"\tEmbedded\n" +
		"}\n\ntype Embedded struct{}\n\ntype hidden struct{ A []*int }\n"
	if err := os.WriteFile(filepath.Join(dir, "dto.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dto_test.go"), []byte("package api\n\ntype T struct{ B []*int }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := apidoc.WireTypes(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]apidoc.WireType{"api.Rating": {
		NullableItems: []string{"answers", "Flags"},
		Always:        []string{"answers", "-", "Flags"},
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("WireTypes (-want +got):\n%s", d)
	}
}
