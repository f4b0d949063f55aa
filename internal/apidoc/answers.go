package apidoc

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Headers the service sends, declared once under components/headers and
// referred to from each response that carries them.
const (
	headerRequestID  = "X-Request-ID"
	headerRetryAfter = "Retry-After"
	headerAuth       = "WWW-Authenticate"
	headerReplayed   = "Idempotent-Replayed"
	headerLocation   = "Location"
	// idempotencyKey is the request header of a write that may be retried
	// safely; a replayed answer says so with Idempotent-Replayed.
	idempotencyKey = "Idempotency-Key"
)

// sharedHeaders are the components/headers the operations refer to.
func sharedHeaders() openapi3.Headers {
	header := func(desc string, required bool, schema *openapi3.Schema) *openapi3.HeaderRef {
		return &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
			Description: desc, Required: required, Schema: &openapi3.SchemaRef{Value: schema}}}}
	}
	return openapi3.Headers{
		headerRequestID: header("The request's id: the caller's X-Request-ID when it is a UUID or 16 to 64 hex digits, "+
			"else one the service made. A problem body repeats it as request_id; every log line of the request carries it.",
			true, openapi3.NewStringSchema().WithPattern(`^[0-9A-Fa-f-]{16,64}$`)),
		headerRetryAfter: header("Seconds to wait before retrying, as a whole number (the service never sends an HTTP date).",
			true, openapi3.NewStringSchema().WithPattern(`^[0-9]+$`)),
		headerAuth: header(`The scheme to authenticate with: Bearer realm="alliance".`, true,
			&openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Example: `Bearer realm="alliance"`}),
		headerReplayed: header("Sent (true) when this answer repeats the first answer to a request retried with the same "+
			"Idempotency-Key and body: nothing was stored again. Absent on a first answer.",
			false, openapi3.NewStringSchema().WithEnum("true")),
	}
}

// serverAnswers declares the answers the service gives on routes by its
// middleware, whatever the handler, so no annotation has to repeat them
// (and none can forget one):
//
//   - 400 on every route that checks its query (all but the static
//     pages): an unknown, repeated or empty query parameter, or one that
//     is not text, is refused before the handler (code unknown_parameter,
//     repeated_parameter, empty_value, invalid_value);
//   - 401 and 403 on every route that takes a credential, and 503 there
//     too: the credential is looked up in the database, so when the
//     database is unreachable, times out or has no free connection the
//     route answers 503 whatever it does next;
//   - 429 on every write that takes a credential (the write rate limit);
//   - 400, 413 and 415 on every operation with a JSON body;
//   - the headers: X-Request-ID on every response, Retry-After on every
//     429 and 503, WWW-Authenticate on every 401, Idempotent-Replayed on
//     the successes of the operations that take an Idempotency-Key, and
//     a declared Location marked as always sent;
//   - a text body (text/html of the index, text/csv) is a string, whatever
//     Go type the annotation gave for the operation's JSON.
//
// Public routes that touch the database declare their 503 themselves
// (GET /readyz); the others (the index, liveness) answer without it.
func serverAnswers(doc *openapi3.T, routes []Route) []error {
	problem := ""
	for name := range doc.Components.Schemas {
		if name == "Problem" || strings.HasSuffix(name, ".Problem") {
			problem = "#/components/schemas/" + name
		}
	}
	if problem == "" {
		return []error{fmt.Errorf("no Problem schema: the error responses (@Failure ... {object} Problem) name the body of every refusal")}
	}
	if doc.Components.Headers == nil {
		doc.Components.Headers = openapi3.Headers{}
	}
	maps.Copy(doc.Components.Headers, sharedHeaders())

	table := map[string]Route{}
	for _, r := range routes {
		table[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = r
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			r, ok := table[method+" "+path]
			if !ok {
				continue // access reports it
			}
			ensure := func(status int) {
				if op.Responses.Status(status) != nil {
					return
				}
				op.Responses.Set(strconv.Itoa(status), &openapi3.ResponseRef{Value: openapi3.NewResponse().
					WithDescription(http.StatusText(status)).
					WithContent(openapi3.Content{problemJSON: openapi3.NewMediaType().WithSchemaRef(openapi3.NewSchemaRef(problem, nil))})})
			}
			if !r.AnyQuery {
				ensure(http.StatusBadRequest)
			}
			if !r.Public {
				ensure(http.StatusUnauthorized)
				ensure(http.StatusForbidden)
				ensure(http.StatusServiceUnavailable)
				if method != http.MethodGet {
					ensure(http.StatusTooManyRequests)
				}
			}
			if takesJSON(op) {
				ensure(http.StatusBadRequest)
				ensure(http.StatusRequestEntityTooLarge)
				ensure(http.StatusUnsupportedMediaType)
			}
			replayable := op.Parameters.GetByInAndName(openapi3.ParameterInHeader, idempotencyKey) != nil
			for code, resp := range op.Responses.Map() {
				declareHeaders(code, resp.Value, replayable)
				for mediaType, mt := range resp.Value.Content {
					if strings.HasPrefix(mediaType, "text/") {
						mt.Schema = openapi3.NewStringSchema().NewRef()
					}
				}
			}
		}
	}
	return nil
}

// takesJSON reports whether op has a JSON request body.
func takesJSON(op *openapi3.Operation) bool {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return false
	}
	return slices.ContainsFunc(slices.Collect(maps.Keys(op.RequestBody.Value.Content)), func(mt string) bool {
		return mt == "application/json" || strings.HasSuffix(mt, "+json")
	})
}

// declareHeaders puts the headers the service sends with a response of
// status code on resp (see serverAnswers).
func declareHeaders(code string, resp *openapi3.Response, replayable bool) {
	if resp.Headers == nil {
		resp.Headers = openapi3.Headers{}
	}
	ref := func(name string) *openapi3.HeaderRef {
		return &openapi3.HeaderRef{Ref: "#/components/headers/" + name}
	}
	resp.Headers[headerRequestID] = ref(headerRequestID)
	switch {
	case code == "401":
		resp.Headers[headerAuth] = ref(headerAuth)
	case code == "429", code == "503":
		resp.Headers[headerRetryAfter] = ref(headerRetryAfter)
	case code[0] == '2' && replayable:
		resp.Headers[headerReplayed] = ref(headerReplayed)
	}
	// A Location the annotations declare is the created resource's
	// address: the handler sends it with every such answer.
	if loc := resp.Headers[headerLocation]; loc != nil && loc.Value != nil {
		loc.Value.Required = true
	}
}

// generalRules is what the service does on every route that no operation
// can say: OpenAPI describes operations, and these answers are for
// methods and paths that are none.
const generalRules = "Every GET operation also answers HEAD, with the status and headers a GET would get and no body; " +
	"HEAD is not listed as an operation of its own. A method a path does not have is answered 405 (problem+json), " +
	"a path no route has 404, and a path with a stray trailing slash is redirected to the route meant " +
	"(301 for GET and HEAD, 308 for the others, which keeps the method and the body). " +
	"Every operation refuses a query parameter it does not take (code unknown_parameter), one given twice but for a list " +
	"(repeated_parameter), one given empty (empty_value) and one that is not text (invalid_value) with 400. " +
	"Every response carries X-Request-ID. An unexpected failure is a 500 problem whose request_id finds it in the server's log."

// generalBehaviour adds generalRules to the document's description.
func generalBehaviour(doc *openapi3.T) {
	if doc.Info == nil || strings.Contains(doc.Info.Description, generalRules) {
		return
	}
	doc.Info.Description = strings.TrimSpace(doc.Info.Description + "\n\n" + generalRules)
}
