// Package apidoc builds the OpenAPI 3 document the service publishes
// (docs/openapi.json) from swag's Swagger 2.0 output and the endpoint
// table. swag writes Swagger 2.0 only; kin-openapi's openapi2conv converts
// it, and Build then says what Swagger 2.0 cannot:
//
//   - the credential is an HTTP bearer token, so a client (and Swagger UI's
//     Authorize box) takes the bare key and adds "Bearer " itself;
//   - who may call each operation comes from the endpoint table: public
//     routes declare `security: []`, the others require the bearer scheme
//     and their description names the scopes or the survey token;
//   - array items that may be null (a Go []*T field, such as the answers
//     of a rating) are nullable;
//   - the properties of a response that are always sent (a Go field
//     without omitempty) are required, so generated clients need not
//     treat every field as optional (a request body's required fields are
//     the ones tagged validate:"required", which swag writes itself);
//   - error responses are application/problem+json and successes are not,
//     where Swagger 2.0 has one list of media types per operation;
//   - every operation has an operationId (swag's @ID), so generated
//     clients get method names;
//   - schemas are named without swag's package prefix (StudyResponse, not
//     api.StudyResponse), and parameter examples swag writes where
//     Swagger 2.0 allows none are kept where OpenAPI 3 allows them.
//
// The package knows nothing of gin or of the api package: cmd/openapi3
// hands it the table and the source directory of the wire types.
package apidoc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

// Route is one row of the endpoint table: who may call a method and path.
// Path is in gin's syntax (/v1/dyads/:id).
type Route struct {
	Method, Path string
	// Public routes need no credential; Survey routes take a one-time
	// survey token; the others take an API key with one of Scopes.
	Public, Survey bool
	Scopes         []string
	// AnyQuery routes take any query parameters (static pages); the
	// others refuse one they do not take with 400.
	AnyQuery bool
}

// SecurityScheme is the name of the one security scheme, as the handler
// annotations spell it (@Security BearerAuth).
const SecurityScheme = "BearerAuth"

// problemJSON is the media type of every error body (RFC 9457).
const problemJSON = "application/problem+json"

// Build converts swagger2 (swag's swagger.json) to OpenAPI 3.0 and adds
// what Swagger 2.0 cannot say (see the package comment). types describes
// the Go wire types by schema name (see WireTypes). It returns the
// document as indented JSON, or an error naming what to fix in the
// annotations.
func Build(swagger2 []byte, routes []Route, types map[string]WireType) ([]byte, error) {
	var doc2 openapi2.T
	if err := json.Unmarshal(swagger2, &doc2); err != nil {
		return nil, fmt.Errorf("parse Swagger 2.0: %w", err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("convert to OpenAPI 3: %w", err)
	}
	if c := doc.Info.Contact; c != nil && c.Name == "" && c.URL == "" && c.Email == "" && len(c.Extensions) == 0 {
		doc.Info.Contact = nil // swag writes "contact": {} when none is annotated
	}
	var errs []error
	errs = append(errs, bearerScheme(doc))
	errs = append(errs, parameterExamples(doc, swagger2))
	errs = append(errs, access(doc, routes)...)
	errs = append(errs, operationIDs(doc)...)
	errs = append(errs, serverAnswers(doc, routes)...)
	generalBehaviour(doc)
	errs = append(errs, markNullableItems(doc, types)...)
	requireAlways(doc, types)
	splitProblemMedia(doc)
	typeNullableRefs(doc)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out, err := marshal(doc)
	if err != nil {
		return nil, err
	}
	// Validate what is written, after the schemas are renamed.
	written, err := openapi3.NewLoader().LoadFromData(out)
	if err == nil {
		err = written.Validate(context.Background())
	}
	if err != nil {
		return nil, fmt.Errorf("the OpenAPI 3 document is not valid: %w", err)
	}
	return out, nil
}

// topLevel is the order of the document's top-level keys when written:
// what it is first, then the operations, then the shared parts.
var topLevel = []string{"openapi", "info", "servers", "security", "tags", "paths", "components", "externalDocs"}

// marshal writes doc as indented JSON with its top-level keys in a
// reading order (encoding/json would sort them), <, > and & unescaped
// (the document is no HTML page), and a final newline.
func marshal(doc *openapi3.T) ([]byte, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil {
		return nil, err
	}
	if err := shortSchemaNames(fields); err != nil {
		return nil, err
	}
	keys := slices.SortedFunc(maps.Keys(fields), func(a, b string) int {
		ia, ib := slices.Index(topLevel, a), slices.Index(topLevel, b)
		if ia < 0 {
			ia = len(topLevel) // extensions (x-...) last, by name
		}
		if ib < 0 {
			ib = len(topLevel)
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("  ", "  ")
	out.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			out.WriteString(",")
		}
		name, _ := json.Marshal(k)
		fmt.Fprintf(&out, "\n  %s: ", name)
		if err := enc.Encode(fields[k]); err != nil {
			return nil, err
		}
		out.Truncate(out.Len() - 1) // Encode's newline
	}
	out.WriteString("\n}\n")
	return out.Bytes(), nil
}

// shortSchemaNames drops the Go package from the schema names swag gives
// (api.StudyResponse becomes StudyResponse), in the components and in
// every reference: generated clients then name their types StudyResponse,
// not ApiStudyResponse. Two schemas that would get one name are an error.
func shortSchemaNames(doc map[string]any) error {
	const prefix = "#/components/schemas/"
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	short := func(name string) string { return name[strings.LastIndex(name, ".")+1:] }
	renamed := make(map[string]any, len(schemas))
	for _, name := range slices.Sorted(maps.Keys(schemas)) {
		if _, taken := renamed[short(name)]; taken {
			return fmt.Errorf("schemas %s and another type are both named %s once the package is dropped: rename one", name, short(name))
		}
		renamed[short(name)] = schemas[name]
	}
	if schemas != nil {
		components["schemas"] = renamed
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if ref, ok := x.(string); ok && k == "$ref" && strings.HasPrefix(ref, prefix) {
					v[k] = prefix + short(strings.TrimPrefix(ref, prefix))
				} else {
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	return nil
}

// parameterExamples carries the examples of path, query and header
// parameters over. swag writes them (@Param ... example(x)) although
// Swagger 2.0 allows an example only on a body; openapi2conv drops them.
// OpenAPI 3 allows one on every parameter.
func parameterExamples(doc *openapi3.T, swagger2 []byte) error {
	var raw struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name    string `json:"name"`
				In      string `json:"in"`
				Example any    `json:"example"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(swagger2, &raw); err != nil {
		return fmt.Errorf("parse Swagger 2.0: %w", err)
	}
	for path, ops := range raw.Paths {
		for method, op := range ops {
			for _, p := range op.Parameters {
				if p.Example == nil || p.In == "body" {
					continue
				}
				item := doc.Paths.Value(path)
				if item == nil || item.GetOperation(strings.ToUpper(method)) == nil {
					continue
				}
				if p3 := item.GetOperation(strings.ToUpper(method)).Parameters.GetByInAndName(p.In, p.Name); p3 != nil {
					p3.Example = p.Example
				}
			}
		}
	}
	return nil
}

// bearerScheme turns swag's apiKey-in-the-Authorization-header scheme
// (the only way Swagger 2.0 can describe a bearer token) into an HTTP
// bearer scheme.
func bearerScheme(doc *openapi3.T) error {
	ref := doc.Components.SecuritySchemes[SecurityScheme]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("no security scheme %s: declare it in the general API info (@securityDefinitions.apikey %s)", SecurityScheme, SecurityScheme)
	}
	doc.Components.SecuritySchemes[SecurityScheme] = &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{
		Type:        "http",
		Scheme:      "bearer",
		Description: ref.Value.Description,
	}}
	return nil
}

// ginParam matches a gin path parameter (:id) or catch-all (*any).
var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// access sets each operation's security requirement from the endpoint
// table, and names who may call it in its description.
func access(doc *openapi3.T, routes []Route) []error {
	table := map[string]Route{}
	for _, r := range routes {
		table[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = r
	}
	var errs []error
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			r, ok := table[method+" "+path]
			if !ok {
				errs = append(errs, fmt.Errorf("%s %s is documented but not in the endpoint table (api/routes.go)", method, path))
				continue
			}
			if r.Public {
				op.Security = &openapi3.SecurityRequirements{} // security: []
				continue
			}
			op.Security = openapi3.NewSecurityRequirements().With(openapi3.NewSecurityRequirement().Authenticate(SecurityScheme))
			who := "a one-time survey token"
			if !r.Survey {
				who = "an API key with scope " + orList(r.Scopes)
			}
			op.Description = strings.TrimSpace(op.Description + "\n\nCalled with " + who + ".")
		}
	}
	return errs
}

// orList joins words as "a", "a or b", "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// camelCase is the shape of an operationId: a lower-case verb, then words.
var camelCase = regexp.MustCompile(`^[a-z]+([A-Z0-9][a-z0-9]*)*$`)

// operationIDs requires a unique camelCase operationId on every operation.
func operationIDs(doc *openapi3.T) []error {
	var errs []error
	seen := map[string]string{}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			where := method + " " + path
			switch id := op.OperationID; {
			case id == "":
				errs = append(errs, fmt.Errorf("%s has no operationId: add an @ID annotation (e.g. @ID getThing) to its handler", where))
			case !camelCase.MatchString(id):
				errs = append(errs, fmt.Errorf("%s: operationId %q is not camelCase (e.g. getThing)", where, id))
			case seen[id] != "":
				errs = append(errs, fmt.Errorf("%s: operationId %q is already used by %s", where, id, seen[id]))
			default:
				seen[id] = where
			}
		}
	}
	return errs
}

// markNullableItems makes the items of []*T properties nullable.
func markNullableItems(doc *openapi3.T, types map[string]WireType) []error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(types)) {
		schema := doc.Components.Schemas[name]
		if schema == nil || schema.Value == nil {
			continue // a wire type no operation uses
		}
		for _, prop := range types[name].NullableItems {
			p := schema.Value.Properties[prop]
			if p == nil || p.Value == nil {
				continue // not part of the JSON (swaggerignore, json:"-")
			}
			items := p.Value.Items
			if items == nil || items.Value == nil {
				errs = append(errs, fmt.Errorf("%s.%s is a Go slice of pointers but not an array in the document", name, prop))
				continue
			}
			if items.Ref != "" {
				// A $ref cannot carry nullable beside it in OpenAPI 3.0:
				// wrap it, as swag does for a nullable object field.
				items = &openapi3.SchemaRef{Value: &openapi3.Schema{AllOf: openapi3.SchemaRefs{items}}}
				p.Value.Items = items
			}
			items.Value.Nullable = true
		}
	}
	return errs
}

// requireAlways marks the always-sent properties of response schemas
// required. A schema a request body uses (itself or inside another) is
// left alone: there a field without omitempty may still be left out by
// the client, and the service decides what it needs; its fields tagged
// validate:"required" are required as swag wrote them.
func requireAlways(doc *openapi3.T, types map[string]WireType) {
	inRequests := map[string]bool{}
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil {
			return
		}
		if ref.Ref != "" {
			name := strings.TrimPrefix(ref.Ref, "#/components/schemas/")
			if inRequests[name] {
				return
			}
			inRequests[name] = true
			if target := doc.Components.Schemas[name]; target != nil && target != ref {
				walk(target)
			}
			return
		}
		s := ref.Value
		if s == nil {
			return
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
		for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, r := range group {
				walk(r)
			}
		}
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		for _, op := range doc.Paths.Value(path).Operations() {
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				for _, mt := range rb.Value.Content {
					walk(mt.Schema)
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(types)) {
		schema := doc.Components.Schemas[name]
		if schema == nil || schema.Value == nil || inRequests[name] {
			continue
		}
		var required []string
		for _, prop := range types[name].Always {
			if schema.Value.Properties[prop] != nil {
				required = append(required, prop)
			}
		}
		slices.Sort(required)
		schema.Value.Required = required
	}
}

// splitProblemMedia gives error responses the problem+json media type only
// and successes the others. Swagger 2.0 lists one set of media types per
// operation (@Produce json,application/problem+json), so the conversion
// offers every type for every status.
func splitProblemMedia(doc *openapi3.T) {
	for _, path := range doc.Paths.InMatchingOrder() {
		for _, op := range doc.Paths.Value(path).Operations() {
			for code, resp := range op.Responses.Map() {
				content := resp.Value.Content
				if content.Get(problemJSON) == nil || len(content) < 2 {
					continue
				}
				if isError := code == "default" || code[0] == '4' || code[0] == '5'; isError {
					resp.Value.Content = openapi3.Content{problemJSON: content[problemJSON]}
				} else {
					delete(content, problemJSON)
				}
			}
		}
	}
}

// typeNullableRefs gives a nullable wrapper of a reference (swag writes
// {"allOf": [{"$ref": ...}], "x-nullable": true} for a pointer to a
// struct) the type of what it refers to. In OpenAPI 3.0, nullable is
// defined only beside a type, so without it the null is not allowed after
// all (Redocly's nullable-type-sibling rule).
func typeNullableRefs(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Ref != "" || ref.Value == nil || seen[ref.Value] {
			return // references are walked where they are defined
		}
		s := ref.Value
		seen[s] = true
		if s.Nullable && s.Type == nil && len(s.AllOf) == 1 {
			if target := resolve(doc, s.AllOf[0]); target != nil && target.Type != nil {
				s.Type = &openapi3.Types{}
				*s.Type = append(*s.Type, *target.Type...)
			}
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		if s.AdditionalProperties.Schema != nil {
			walk(s.AdditionalProperties.Schema)
		}
		for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, r := range group {
				walk(r)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Components.Schemas)) {
		walk(doc.Components.Schemas[name])
	}
}

// resolve returns the schema ref points to, looking a local reference up
// in the components (the converted document's references are not
// resolved).
func resolve(doc *openapi3.T, ref *openapi3.SchemaRef) *openapi3.Schema {
	if ref.Value != nil {
		return ref.Value
	}
	if target := doc.Components.Schemas[strings.TrimPrefix(ref.Ref, "#/components/schemas/")]; target != nil {
		return target.Value
	}
	return nil
}
