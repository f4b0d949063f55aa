package api_test

// The contract test: every operation documented in docs/openapi.json (the
// OpenAPI 3 document generated from the handler annotations and the
// endpoint table, which /openapi.json serves) is driven against the real router over a real, migrated SQLite
// store, and every response — status, Content-Type, documented headers and
// body — is validated against that document with kin-openapi. The test
// fails when
//   - a route the gin router serves is not documented (or the other way round),
//   - a response carries a status its operation does not document,
//   - a body, Content-Type or documented header does not match the document,
//   - a documented operation or status is neither exercised here nor listed
//     in notExercised with the reason it cannot be produced.
//
// Two explicit, reasoned lists relax it, and fail when they go stale:
// pendingOperations (documented but not routed yet) and knownNullGaps
// (nulls the document cannot declare; none since it is OpenAPI 3).
//
// When the document changes, regenerate it (`go generate ./api`) first: the
// test reads the generated file, not the annotations.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/plot"
	"github.com/alliance-project/alliance/internal/store"
)

// openapiPath is the generated OpenAPI 3 document, relative to api/.
const openapiPath = "../docs/openapi.json"

// undocumentedRoutes are gin routes that are deliberately not operations of
// the document, with the reason.
var undocumentedRoutes = map[string]string{
	// The Swagger UI: static HTML, JS and CSS for people, not part of the
	// API a client programs against. Checked separately below (it serves).
	"GET /docs/*any": "Swagger UI assets",
	// The document itself: it cannot usefully describe its own schema,
	// and TestContractOpenAPIJSON checks it serves exactly
	// docs/openapi.json.
	"GET /openapi.json": "the OpenAPI document itself",
	// Prometheus text exposition format, for a scraper; TestMetrics checks it.
	"GET /metrics": "Prometheus metrics (text exposition format)",
	// The hosted survey page: HTML, JS, CSS and message catalogues for
	// people; it calls the documented /v1/survey. TestSurveyPage* check it.
	"GET /s/*any": "survey page assets",
	// The analysts' dashboard: HTML pages, their assets and the sign-in
	// and sign-out form posts, for people in a browser, not for clients
	// of the API; the plots they embed are documented operations.
	// TestDashboard* check them.
	"GET /ui/":                     "dashboard sign-in page",
	"POST /ui/sign-in":             "dashboard sign-in form",
	"POST /ui/sign-out":            "dashboard sign-out form",
	"GET /ui/assets/*any":          "dashboard assets",
	"GET /ui/studies":              "dashboard page",
	"GET /ui/studies/:id":          "dashboard page",
	"GET /ui/studies/:id/sessions": "dashboard page",
	"GET /ui/studies/:id/dyads":    "dashboard page",
	"GET /ui/dyads/:id":            "dashboard page",
}

// notExercised lists documented "METHOD /path status" triples this test
// cannot produce, with the reason. Every other documented status must be
// produced by a case below, so a status added to the annotations without a
// case (or a case removed) fails the test.
var notExercised = map[string]string{}

// pendingOperations are documented operations this test does not drive
// yet, with the reason. Keep it short: the point is to drive everything.
var pendingOperations = map[string]string{}

// notExercisedStatus lists statuses documented on many operations that
// this harness cannot produce, with the reason (matched on the status).
var notExercisedStatus = map[int]string{
	429: "rate limiting needs a limiter with a tiny budget; TestRateLimit drives it and checks the problem body",
}

// knownNullGaps are places where the service sends null but the document
// does not allow it, for a reason that cannot be fixed in the annotations
// or in cmd/openapi3. OpenAPI 3 can say every null the service sends (the
// last entry, the answers of []*float64, went with Swagger 2.0), so keep
// it empty: mark the Go field a pointer instead. Keys are regular expressions
// over "METHOD /path/template /json/pointer/of/the/value". Only a null
// value refused with "Value is not nullable" at a matching place is
// tolerated (and logged); every other mismatch still fails, and a gap that
// no longer occurs fails the test so the list cannot go stale.
var knownNullGaps = map[string]string{}

// An HTML page (the index for a browser) is validated as the string the
// document declares; kin-openapi decodes text/plain so, but has no decoder
// of its own for text/html.
func init() { openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder) }

// contractSpec loads docs/openapi.json and builds a router over it.
func contractSpec(t *testing.T) (*openapi3.T, routers.Router, []byte) {
	t.Helper()
	raw, err := os.ReadFile(openapiPath)
	if err != nil {
		t.Fatalf("read %s: %v (run `go generate ./api`)", openapiPath, err)
	}
	doc3, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("parse %s: %v", openapiPath, err)
	}
	// Operations still being written are taken out before validation:
	// their annotations may be unfinished (e.g. a security requirement
	// whose scheme is not defined yet), which would fail every test here.
	for key := range pendingOperations {
		method, path, _ := strings.Cut(key, " ")
		item := doc3.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("pendingOperations lists %s, which the document does not have; remove it", key)
			continue
		}
		item.SetOperation(method, nil)
		if len(item.Operations()) == 0 {
			doc3.Paths.Delete(path)
		}
	}
	if err := doc3.Validate(t.Context()); err != nil {
		t.Fatalf("%s is not a valid OpenAPI 3 document: %v", openapiPath, err)
	}
	router, err := gorillamux.NewRouter(doc3)
	if err != nil {
		t.Fatalf("gorillamux.NewRouter: %v", err)
	}
	return doc3, router, raw
}

// contractHandler is the real router over a real SQLite store in a
// temporary directory, migrated unless migrate is false.
func contractHandler(t *testing.T, migrate bool) http.Handler {
	t.Helper()
	w := newLogWitness(t)
	log := w.log
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "contract.db"), log)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if migrate {
		if err := st.Migrate(t.Context(), nil); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	if !migrate { // no schema, no key: only /readyz is asked
		return api.NewHandler(api.Deps{Service: alliance.NewService(st, instrument.Builtin()), Log: log, MaxBodyBytes: 1 << 20})
	}
	return adminHandler(t, st, api.Deps{}, w)
}

// contractState carries the ids the cases create for later cases.
type contractState struct {
	// h is the service under test, for checks that need a second request.
	h                      http.Handler
	study, clientOnlyStudy string
	// dyad has a complete session 1 (amended once, so it has a history) and
	// a session 2 rated by the client only, with too many items missing.
	dyad string
	// soloDyad belongs to the client-only study.
	soloDyad string
	// Access: an extra key (its token and id), a fresh survey token and a
	// used one.
	analyzeKey, analyzeKeyID string
	survey, usedSurvey       string
	// spare is a dyad to withdraw and erase; spareStudy a study to erase.
	spare, spareStudy string
	// alertDyad has a divergence at session 1: alert; webhook is an
	// endpoint of the study.
	alertDyad, alert, webhook string
}

// contractCase is one request and the status it must produce.
type contractCase struct {
	name   string
	method string
	// path is the operation's path template in the document.
	path string
	want int
	// req builds the concrete request.
	req func(s *contractState) *http.Request
	// invalidRequest marks a request that is meant to break the documented
	// request contract (a 4xx case); it is not validated as a request.
	invalidRequest bool
	// check, when set, looks further at a response that passed validation
	// (and records ids for later cases).
	check func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder)
}

const (
	contractClient    = `[5,4,5,4,5,5,4,4,5,4,4,5]`
	contractTherapist = `[4,3,4,4,4,3,4,3,4,3,3,4]`
	// Items 1-6 unanswered: the total is prorated, most subscales have too
	// many missing and are null.
	contractSparse = `[null,null,null,null,null,null,4,4,5,4,null,5]`
)

func TestContract(t *testing.T) {
	doc, router, _ := contractSpec(t)
	h := contractHandler(t, true)
	s := &contractState{h: h}

	cases := []contractCase{
		// --- the index and health ---
		{name: "index", method: "GET", path: "/", want: 200, req: get("/")},
		{name: "index for a browser", method: "GET", path: "/", want: 200,
			req: func(s *contractState) *http.Request {
				return withHeader(get("/")(s), "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
			},
			check: func(t *testing.T, _ *contractState, rec *httptest.ResponseRecorder) {
				if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
					t.Errorf("GET / for a browser: Content-Type %q, want text/html", rec.Header().Get("Content-Type"))
				}
			}},
		{name: "index: unknown query parameter", method: "GET", path: "/", want: 400, invalidRequest: true, req: get("/?format=html")},
		{name: "live", method: "GET", path: "/healthz", want: 200, req: get("/healthz")},
		{name: "ready", method: "GET", path: "/readyz", want: 200, req: get("/readyz")},

		// --- instruments ---
		{name: "catalogue", method: "GET", path: "/v1/instruments", want: 200, req: get("/v1/instruments")},
		{name: "form", method: "GET", path: "/v1/instruments/{id}", want: 200, req: get("/v1/instruments/wai_sr_client")},
		{name: "unknown form", method: "GET", path: "/v1/instruments/{id}", want: 404, req: get("/v1/instruments/nope")},
		{name: "define a family", method: "POST", path: "/v1/instruments", want: 201, req: postJSON("/v1/instruments", customDefinition)},
		{name: "defined form by versioned id", method: "GET", path: "/v1/instruments/{id}", want: 200, req: get("/v1/instruments/tst_counsellor@1")},
		{name: "define: malformed JSON", method: "POST", path: "/v1/instruments", want: 400, invalidRequest: true,
			req: postJSON("/v1/instruments", `{"id":`)},
		{name: "define: over 64 KiB", method: "POST", path: "/v1/instruments", want: 413, invalidRequest: true,
			req: postJSON("/v1/instruments", `{"name":"`+strings.Repeat("x", 64<<10)+`"}`)},
		{name: "define: not JSON", method: "POST", path: "/v1/instruments", want: 415, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return withHeader(postJSON("/v1/instruments", `id=sai`)(s), "Content-Type", "text/plain")
			}},
		{name: "define: same version again", method: "POST", path: "/v1/instruments", want: 422, req: postJSON("/v1/instruments", customDefinition)},

		// --- studies ---
		{name: "create study", method: "POST", path: "/v1/studies", want: 201,
			req: postJSON("/v1/studies", `{"name":"Contract","description":"contract test","forms":{"client":"wai_sr_client","counsellor":"wai_sr_therapist"},"missing_policy":{"max_missing_fraction":0.25}}`),
			check: func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) {
				s.study = field(t, rec, "id")
			}},
		{name: "create client-only study", method: "POST", path: "/v1/studies", want: 201,
			req: postJSON("/v1/studies", `{"name":"Client only","forms":{"client":"wai_sr_client"}}`),
			check: func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) {
				s.clientOnlyStudy = field(t, rec, "id")
			}},
		{name: "study: malformed JSON", method: "POST", path: "/v1/studies", want: 400, invalidRequest: true,
			req: postJSON("/v1/studies", `{"name":`)},
		{name: "study: body too large", method: "POST", path: "/v1/studies", want: 413, invalidRequest: true,
			req: postJSON("/v1/studies", `{"name":"`+strings.Repeat("x", 1<<20)+`"}`)},
		{name: "study: not JSON", method: "POST", path: "/v1/studies", want: 415, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return withHeader(postJSON("/v1/studies", `name=x`)(s), "Content-Type", "text/plain")
			}},
		{name: "study: unknown form", method: "POST", path: "/v1/studies", want: 422, invalidRequest: true,
			req: postJSON("/v1/studies", `{"name":"x","forms":{"client":"nope"}}`)},
		{name: "list studies, full page", method: "GET", path: "/v1/studies", want: 200, req: get("/v1/studies?limit=1"),
			check: func(t *testing.T, _ *contractState, rec *httptest.ResponseRecorder) {
				if field(t, rec, "next") == "" {
					t.Error("a full page has no next cursor; the case means to exercise a non-null next")
				}
			}},
		{name: "list studies, last page", method: "GET", path: "/v1/studies", want: 200, req: get("/v1/studies")},
		{name: "list studies: bad limit", method: "GET", path: "/v1/studies", want: 400, req: get("/v1/studies?limit=abc"), invalidRequest: true},
		{name: "get study", method: "GET", path: "/v1/studies/{id}", want: 200, req: func(s *contractState) *http.Request { return get("/v1/studies/" + s.study)(s) }},
		{name: "unknown study", method: "GET", path: "/v1/studies/{id}", want: 404, req: get("/v1/studies/st_nope")},

		// --- dyads ---
		{name: "create dyad", method: "POST", path: "/v1/studies/{id}/dyads", want: 201,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/studies/"+s.study+"/dyads", `{"client_code":"C-001","counsellor_code":"K-01"}`)(s)
			},
			check: func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) { s.dyad = field(t, rec, "id") }},
		{name: "create dyad in client-only study", method: "POST", path: "/v1/studies/{id}/dyads", want: 201,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/studies/"+s.clientOnlyStudy+"/dyads", `{"client_code":"C-001","counsellor_code":"K-01"}`)(s)
			},
			check: func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) { s.soloDyad = field(t, rec, "id") }},
		{name: "dyad: duplicate client code", method: "POST", path: "/v1/studies/{id}/dyads", want: 409,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/studies/"+s.study+"/dyads", `{"client_code":"C-001","counsellor_code":"K-02"}`)(s)
			}},
		{name: "dyad: unknown study", method: "POST", path: "/v1/studies/{id}/dyads", want: 404,
			req: postJSON("/v1/studies/st_nope/dyads", `{"client_code":"C-002","counsellor_code":"K-01"}`)},
		{name: "dyad: malformed JSON", method: "POST", path: "/v1/studies/{id}/dyads", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request { return postJSON("/v1/studies/"+s.study+"/dyads", `[`)(s) }},
		{name: "dyad: body too large", method: "POST", path: "/v1/studies/{id}/dyads", want: 413, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/studies/"+s.study+"/dyads", `{"client_code":"`+strings.Repeat("x", 1<<20)+`"}`)(s)
			}},
		{name: "dyad: not JSON", method: "POST", path: "/v1/studies/{id}/dyads", want: 415, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return withHeader(postJSON("/v1/studies/"+s.study+"/dyads", `<dyad/>`)(s), "Content-Type", "application/xml")
			}},
		{name: "dyad: bad code", method: "POST", path: "/v1/studies/{id}/dyads", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/studies/"+s.study+"/dyads", `{"client_code":"Jane Doe","counsellor_code":""}`)(s)
			}},
		{name: "list dyads", method: "GET", path: "/v1/studies/{id}/dyads", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/dyads?counsellor_code=K-01&limit=1")(s)
			}},
		{name: "list dyads: bad limit", method: "GET", path: "/v1/studies/{id}/dyads", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request { return get("/v1/studies/" + s.study + "/dyads?limit=0")(s) }},
		{name: "list dyads: unknown study", method: "GET", path: "/v1/studies/{id}/dyads", want: 404, req: get("/v1/studies/st_nope/dyads")},
		{name: "get dyad", method: "GET", path: "/v1/dyads/{id}", want: 200, req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.dyad)(s) }},
		{name: "unknown dyad", method: "GET", path: "/v1/dyads/{id}", want: 404, req: get("/v1/dyads/dy_nope")},

		// --- ratings ---
		{name: "rate session 1, client", method: "POST", path: "/v1/dyads/{id}/ratings", want: 201,
			req: func(s *contractState) *http.Request {
				return withHeader(postJSON("/v1/dyads/"+s.dyad+"/ratings", `{"session":1,"session_date":"2026-11-23","role":"client","answers":`+contractClient+`}`)(s),
					"Idempotency-Key", "contract-1")
			}},
		{name: "rate session 1, client, replayed", method: "POST", path: "/v1/dyads/{id}/ratings", want: 201,
			req: func(s *contractState) *http.Request {
				return withHeader(postJSON("/v1/dyads/"+s.dyad+"/ratings", `{"session":1,"session_date":"2026-11-23","role":"client","answers":`+contractClient+`}`)(s),
					"Idempotency-Key", "contract-1")
			},
			check: func(t *testing.T, _ *contractState, rec *httptest.ResponseRecorder) {
				if rec.Header().Get("Idempotent-Replayed") != "true" {
					t.Error("a replay has no Idempotent-Replayed: true")
				}
			}},
		{name: "rate session 1, counsellor", method: "POST", path: "/v1/dyads/{id}/ratings", want: 201,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/ratings", `{"session":1,"role":"counsellor","answers":`+contractTherapist+`}`)(s)
			}},
		{name: "rate session 2, client, sparse (null answers, null scores)", method: "POST", path: "/v1/dyads/{id}/ratings", want: 201,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/ratings", `{"session":2,"role":"client","answers":`+contractSparse+`}`)(s)
			}},
		{name: "rate session 1 in client-only study", method: "POST", path: "/v1/dyads/{id}/ratings", want: 201,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.soloDyad+"/ratings", `{"session":1,"role":"client","answers":`+contractClient+`}`)(s)
			}},
		{name: "rating: second rating of a session", method: "POST", path: "/v1/dyads/{id}/ratings", want: 409,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/ratings", `{"session":1,"role":"client","answers":`+contractClient+`}`)(s)
			}},
		{name: "rating: unknown dyad", method: "POST", path: "/v1/dyads/{id}/ratings", want: 404,
			req: postJSON("/v1/dyads/dy_nope/ratings", `{"session":1,"role":"client","answers":`+contractClient+`}`)},
		{name: "rating: malformed JSON", method: "POST", path: "/v1/dyads/{id}/ratings", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/ratings", `{"session":"one"}`)(s)
			}},
		{name: "rating: body too large", method: "POST", path: "/v1/dyads/{id}/ratings", want: 413, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/ratings", `{"role":"`+strings.Repeat("x", 1<<20)+`"}`)(s)
			}},
		{name: "rating: not JSON", method: "POST", path: "/v1/dyads/{id}/ratings", want: 415, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return withHeader(postJSON("/v1/dyads/"+s.dyad+"/ratings", `session=1`)(s), "Content-Type", "application/x-www-form-urlencoded")
			}},
		{name: "rating: answer out of range", method: "POST", path: "/v1/dyads/{id}/ratings", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/ratings", `{"session":3,"role":"client","answers":[9,4,5,4,5,5,4,4,5,4,4,5]}`)(s)
			}},
		{name: "rating: database out of time", method: "POST", path: "/v1/dyads/{id}/ratings", want: 503,
			req: func(s *contractState) *http.Request {
				return expired(postJSON("/v1/dyads/"+s.dyad+"/ratings", `{"session":4,"role":"client","answers":`+contractClient+`}`)(s))
			}},
		{name: "amend session 1, client", method: "PUT", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}", want: 200,
			req: func(s *contractState) *http.Request {
				return withHeader(putJSON("/v1/dyads/"+s.dyad+"/sessions/1/ratings/client", `{"session_date":"2026-11-23","answers":[5,4,5,4,5,5,4,4,5,4,4,4]}`)(s),
					"Idempotency-Key", "contract-amend-1")
			}},
		{name: "amend session 1, client, replayed", method: "PUT", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}", want: 200,
			req: func(s *contractState) *http.Request {
				return withHeader(putJSON("/v1/dyads/"+s.dyad+"/sessions/1/ratings/client", `{"session_date":"2026-11-23","answers":[5,4,5,4,5,5,4,4,5,4,4,4]}`)(s),
					"Idempotency-Key", "contract-amend-1")
			},
			check: func(t *testing.T, _ *contractState, rec *httptest.ResponseRecorder) {
				if rec.Header().Get("Idempotent-Replayed") != "true" {
					t.Error("a replay has no Idempotent-Replayed: true")
				}
			}},
		{name: "amend: key reused with another body", method: "PUT", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}", want: 409,
			req: func(s *contractState) *http.Request {
				return withHeader(putJSON("/v1/dyads/"+s.dyad+"/sessions/1/ratings/client", `{"answers":`+contractClient+`}`)(s),
					"Idempotency-Key", "contract-amend-1")
			}},
		{name: "amend: no such rating", method: "PUT", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}", want: 404,
			req: func(s *contractState) *http.Request {
				return putJSON("/v1/dyads/"+s.dyad+"/sessions/7/ratings/client", `{"answers":`+contractClient+`}`)(s)
			}},
		{name: "amend: session not a number", method: "PUT", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return putJSON("/v1/dyads/"+s.dyad+"/sessions/one/ratings/client", `{"answers":`+contractClient+`}`)(s)
			}},
		{name: "amend: body too large", method: "PUT", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}", want: 413, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return putJSON("/v1/dyads/"+s.dyad+"/sessions/1/ratings/client", `{"session_date":"`+strings.Repeat("x", 1<<20)+`"}`)(s)
			}},
		{name: "amend: not JSON", method: "PUT", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}", want: 415, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return withHeader(putJSON("/v1/dyads/"+s.dyad+"/sessions/1/ratings/client", `answers`)(s), "Content-Type", "text/plain")
			}},
		{name: "amend: too few answers", method: "PUT", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return putJSON("/v1/dyads/"+s.dyad+"/sessions/1/ratings/client", `{"answers":[5,4]}`)(s)
			}},
		{name: "amend: database out of time", method: "PUT", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}", want: 503,
			req: func(s *contractState) *http.Request {
				return expired(putJSON("/v1/dyads/"+s.dyad+"/sessions/1/ratings/client", `{"answers":`+contractClient+`}`)(s))
			}},
		{name: "current ratings", method: "GET", path: "/v1/dyads/{id}/ratings", want: 200,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.dyad + "/ratings")(s) }},
		{name: "current ratings: unknown dyad", method: "GET", path: "/v1/dyads/{id}/ratings", want: 404, req: get("/v1/dyads/dy_nope/ratings")},
		{name: "get rating", method: "GET", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/dyads/" + s.dyad + "/sessions/2/ratings/client")(s)
			}},
		{name: "get rating: session not a number", method: "GET", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return get("/v1/dyads/" + s.dyad + "/sessions/x/ratings/client")(s)
			}},
		{name: "get rating: none", method: "GET", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}", want: 404,
			req: func(s *contractState) *http.Request {
				return get("/v1/dyads/" + s.dyad + "/sessions/2/ratings/counsellor")(s)
			}},
		{name: "get rating: unknown role", method: "GET", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return get("/v1/dyads/" + s.dyad + "/sessions/1/ratings/therapist")(s)
			}},
		{name: "rating history", method: "GET", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}/history", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/dyads/" + s.dyad + "/sessions/1/ratings/client/history")(s)
			},
			check: func(t *testing.T, _ *contractState, rec *httptest.ResponseRecorder) {
				var l api.RatingList
				if err := json.Unmarshal(rec.Body.Bytes(), &l); err != nil || len(l.Items) != 2 || l.Items[0].SupersededAt == nil {
					t.Errorf("history = %s, want two versions, the first superseded", rec.Body)
				}
			}},
		{name: "rating history: session not a number", method: "GET", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}/history", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return get("/v1/dyads/" + s.dyad + "/sessions/x/ratings/client/history")(s)
			}},
		{name: "rating history: none", method: "GET", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}/history", want: 404,
			req: func(s *contractState) *http.Request {
				return get("/v1/dyads/" + s.dyad + "/sessions/9/ratings/client/history")(s)
			}},
		{name: "rating history: unknown role", method: "GET", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}/history", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return get("/v1/dyads/" + s.dyad + "/sessions/1/ratings/therapist/history")(s)
			}},

		// --- sessions ---
		{name: "complete session", method: "GET", path: "/v1/dyads/{id}/sessions/{session}", want: 200,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.dyad + "/sessions/1")(s) }},
		{name: "half-rated session (null counsellor, null comparison)", method: "GET", path: "/v1/dyads/{id}/sessions/{session}", want: 200,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.dyad + "/sessions/2")(s) }},
		{name: "session: not a number", method: "GET", path: "/v1/dyads/{id}/sessions/{session}", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.dyad + "/sessions/x")(s) }},
		{name: "session: unknown dyad", method: "GET", path: "/v1/dyads/{id}/sessions/{session}", want: 404, req: get("/v1/dyads/dy_nope/sessions/1")},
		{name: "session: number below 1", method: "GET", path: "/v1/dyads/{id}/sessions/{session}", want: 422,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.dyad + "/sessions/0")(s) }},

		// --- agreement ---
		{name: "session agreement", method: "GET", path: "/v1/dyads/{id}/sessions/{session}/agreement", want: 200,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.dyad + "/sessions/1/agreement")(s) }},
		{name: "session agreement: not a number", method: "GET", path: "/v1/dyads/{id}/sessions/{session}/agreement", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.dyad + "/sessions/x/agreement")(s) }},
		{name: "session agreement: unrated session", method: "GET", path: "/v1/dyads/{id}/sessions/{session}/agreement", want: 404,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.dyad + "/sessions/9/agreement")(s) }},
		{name: "session agreement: one side only", method: "GET", path: "/v1/dyads/{id}/sessions/{session}/agreement", want: 422,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.dyad + "/sessions/2/agreement")(s) }},
		{name: "session agreement: database out of time", method: "GET", path: "/v1/dyads/{id}/sessions/{session}/agreement", want: 503,
			req: func(s *contractState) *http.Request {
				return expired(get("/v1/dyads/" + s.dyad + "/sessions/1/agreement")(s))
			}},
		{name: "dyad agreement", method: "GET", path: "/v1/dyads/{id}/agreement", want: 200,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.dyad + "/agreement")(s) }},
		{name: "dyad agreement: unknown dyad", method: "GET", path: "/v1/dyads/{id}/agreement", want: 404, req: get("/v1/dyads/dy_nope/agreement")},
		{name: "dyad agreement: client-only study", method: "GET", path: "/v1/dyads/{id}/agreement", want: 422,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.soloDyad + "/agreement")(s) }},
		{name: "dyad agreement: database out of time", method: "GET", path: "/v1/dyads/{id}/agreement", want: 503,
			req: func(s *contractState) *http.Request { return expired(get("/v1/dyads/" + s.dyad + "/agreement")(s)) }},
		{name: "study agreement", method: "GET", path: "/v1/studies/{id}/agreement", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/agreement?session=first&scale=total&scale=goal&band=0.5&multiplier=1.96&conf=0.9")(s)
			}},
		{name: "study agreement: band not a number", method: "GET", path: "/v1/studies/{id}/agreement", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request { return get("/v1/studies/" + s.study + "/agreement?band=wide")(s) }},
		{name: "study agreement: unknown study", method: "GET", path: "/v1/studies/{id}/agreement", want: 404, req: get("/v1/studies/st_nope/agreement")},
		{name: "study agreement: conf out of range", method: "GET", path: "/v1/studies/{id}/agreement", want: 422,
			req: func(s *contractState) *http.Request { return get("/v1/studies/" + s.study + "/agreement?conf=2")(s) }},
		{name: "study agreement: database out of time", method: "GET", path: "/v1/studies/{id}/agreement", want: 503,
			req: func(s *contractState) *http.Request { return expired(get("/v1/studies/" + s.study + "/agreement")(s)) }},
		{name: "dyad agreement: conf not a number", method: "GET", path: "/v1/dyads/{id}/agreement", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.dyad + "/agreement?conf=high")(s) }},
		{name: "counsellors", method: "GET", path: "/v1/studies/{id}/counsellors", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/counsellors?session=first&scale=goal&conf=0.9")(s)
			}},
		{name: "counsellors: conf not a number", method: "GET", path: "/v1/studies/{id}/counsellors", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/counsellors?conf=high")(s)
			}},
		{name: "counsellors: unknown study", method: "GET", path: "/v1/studies/{id}/counsellors", want: 404, req: get("/v1/studies/st_nope/counsellors")},
		{name: "counsellors: client-only study", method: "GET", path: "/v1/studies/{id}/counsellors", want: 422,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.clientOnlyStudy + "/counsellors")(s)
			}},
		{name: "counsellors: database out of time", method: "GET", path: "/v1/studies/{id}/counsellors", want: 503,
			req: func(s *contractState) *http.Request {
				return expired(get("/v1/studies/" + s.study + "/counsellors")(s))
			}},
		{name: "summary of a client-only study", method: "GET", path: "/v1/studies/{id}/summary", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.clientOnlyStudy + "/summary?session=last&scale=total&conf=0.9&reliability=study")(s)
			}},
		{name: "summary of a two-role study", method: "GET", path: "/v1/studies/{id}/summary", want: 200,
			req: func(s *contractState) *http.Request { return get("/v1/studies/" + s.study + "/summary")(s) }},
		{name: "summary: conf not a number", method: "GET", path: "/v1/studies/{id}/summary", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request { return get("/v1/studies/" + s.study + "/summary?conf=high")(s) }},
		{name: "summary: unknown study", method: "GET", path: "/v1/studies/{id}/summary", want: 404, req: get("/v1/studies/st_nope/summary")},
		{name: "summary: unknown reliability source", method: "GET", path: "/v1/studies/{id}/summary", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/summary?reliability=guess")(s)
			}},
		{name: "summary: database out of time", method: "GET", path: "/v1/studies/{id}/summary", want: 503,
			req: func(s *contractState) *http.Request { return expired(get("/v1/studies/" + s.study + "/summary")(s)) }},

		// --- exports ---
		{name: "export csv long", method: "GET", path: "/v1/studies/{id}/export", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/export?format=csv&shape=long&include=items,scores")(s)
			},
			check: checkExport("long", "items,scores")},
		{name: "export ndjson wide", method: "GET", path: "/v1/studies/{id}/export", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/export?format=ndjson&shape=wide&updated_since=2000-01-01T00:00:00Z")(s)
			},
			check: checkExport("wide", "")},
		{name: "export: unknown study", method: "GET", path: "/v1/studies/{id}/export", want: 404, req: get("/v1/studies/st_nope/export")},
		{name: "export: unknown format", method: "GET", path: "/v1/studies/{id}/export", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request { return get("/v1/studies/" + s.study + "/export?format=xlsx")(s) }},
		{name: "codebook", method: "GET", path: "/v1/studies/{id}/codebook", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/codebook?shape=wide&include=items")(s)
			}},
		{name: "codebook as CSV", method: "GET", path: "/v1/studies/{id}/codebook", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/codebook?format=csv")(s)
			},
			check: func(t *testing.T, _ *contractState, rec *httptest.ResponseRecorder) {
				if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") || !strings.HasPrefix(rec.Body.String(), "name,type,description,values") {
					t.Errorf("codebook CSV = %q: %.200s", rec.Header().Get("Content-Type"), rec.Body)
				}
			}},
		{name: "codebook: unknown study", method: "GET", path: "/v1/studies/{id}/codebook", want: 404, req: get("/v1/studies/st_nope/codebook")},
		{name: "codebook: unknown shape", method: "GET", path: "/v1/studies/{id}/codebook", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request { return get("/v1/studies/" + s.study + "/codebook?shape=tall")(s) }},

		// --- plots (the figure's content is checked in plots_test.go) ---
		{name: "Bland–Altman plot", method: "GET", path: "/v1/studies/{id}/plots/bland-altman.svg", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/plots/bland-altman.svg?session=first&scale=total&band=0.5&multiplier=1.96&conf=0.9&trend=true&labels=none")(s)
			},
			check: checkPlot("image/svg+xml")},
		{name: "Bland–Altman plot: trend not a boolean", method: "GET", path: "/v1/studies/{id}/plots/bland-altman.svg", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/plots/bland-altman.svg?trend=maybe")(s)
			}},
		{name: "Bland–Altman plot: unknown study", method: "GET", path: "/v1/studies/{id}/plots/bland-altman.svg", want: 404,
			req: get("/v1/studies/st_nope/plots/bland-altman.svg")},
		{name: "Bland–Altman plot: two scales", method: "GET", path: "/v1/studies/{id}/plots/bland-altman.svg", want: 422,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/plots/bland-altman.svg?scale=total&scale=goal")(s)
			}},
		{name: "scatter plot as PNG", method: "GET", path: "/v1/studies/{id}/plots/scatter.svg", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/plots/scatter.svg?format=png&scale=goal")(s)
			},
			check: checkPlot("image/png")},
		{name: "scatter plot: band not a number", method: "GET", path: "/v1/studies/{id}/plots/scatter.svg", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/plots/scatter.svg?band=wide")(s)
			}},
		{name: "scatter plot: unknown study", method: "GET", path: "/v1/studies/{id}/plots/scatter.svg", want: 404,
			req: get("/v1/studies/st_nope/plots/scatter.svg")},
		{name: "scatter plot: unknown format", method: "GET", path: "/v1/studies/{id}/plots/scatter.svg", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/plots/scatter.svg?format=gif")(s)
			}},
		{name: "trajectories plot", method: "GET", path: "/v1/studies/{id}/plots/trajectories.svg", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/plots/trajectories.svg?scale=bond&conf=0.9")(s)
			},
			check: checkPlot("image/svg+xml")},
		{name: "trajectories plot: multiplier not a number", method: "GET", path: "/v1/studies/{id}/plots/trajectories.svg", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/plots/trajectories.svg?multiplier=x")(s)
			}},
		{name: "trajectories plot: unknown study", method: "GET", path: "/v1/studies/{id}/plots/trajectories.svg", want: 404,
			req: get("/v1/studies/st_nope/plots/trajectories.svg")},
		{name: "trajectories plot: bad session", method: "GET", path: "/v1/studies/{id}/plots/trajectories.svg", want: 422,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/plots/trajectories.svg?session=zero")(s)
			}},
		{name: "counsellors plot with codes", method: "GET", path: "/v1/studies/{id}/plots/counsellors.svg", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/plots/counsellors.svg?labels=codes&session=last")(s)
			},
			check: checkPlot("image/svg+xml")},
		{name: "counsellors plot: conf not a number", method: "GET", path: "/v1/studies/{id}/plots/counsellors.svg", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/plots/counsellors.svg?conf=high")(s)
			}},
		{name: "counsellors plot: unknown study", method: "GET", path: "/v1/studies/{id}/plots/counsellors.svg", want: 404,
			req: get("/v1/studies/st_nope/plots/counsellors.svg")},
		{name: "counsellors plot: unknown labels", method: "GET", path: "/v1/studies/{id}/plots/counsellors.svg", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/plots/counsellors.svg?labels=names")(s)
			}},
		{name: "dyad trajectory plot", method: "GET", path: "/v1/dyads/{id}/plots/trajectory.svg", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/dyads/" + s.dyad + "/plots/trajectory.svg?scale=total,goal&labels=codes")(s)
			},
			check: checkPlot("image/svg+xml")},
		{name: "dyad trajectory plot: unknown dyad", method: "GET", path: "/v1/dyads/{id}/plots/trajectory.svg", want: 404,
			req: get("/v1/dyads/dy_nope/plots/trajectory.svg")},
		{name: "dyad trajectory plot: unknown scale", method: "GET", path: "/v1/dyads/{id}/plots/trajectory.svg", want: 422,
			req: func(s *contractState) *http.Request {
				return get("/v1/dyads/" + s.dyad + "/plots/trajectory.svg?scale=nope")(s)
			}},

		// --- access: keys, audit, survey links ---
		{name: "create key", method: "POST", path: "/v1/keys", want: 201,
			req: postJSON("/v1/keys", `{"name":"analyst","scopes":["analyze"]}`),
			check: func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) {
				s.analyzeKey, s.analyzeKeyID = field(t, rec, "token"), field(t, rec, "id")
			}},
		{name: "key: malformed JSON", method: "POST", path: "/v1/keys", want: 400, invalidRequest: true, req: postJSON("/v1/keys", `{`)},
		{name: "key: no scopes", method: "POST", path: "/v1/keys", want: 422, req: postJSON("/v1/keys", `{"name":"x","scopes":[]}`)},
		{name: "key: unknown study", method: "POST", path: "/v1/keys", want: 422, // a field of the body, named
			req: postJSON("/v1/keys", `{"name":"x","scopes":["analyze"],"study_id":"st_nope"}`)},
		{name: "list keys", method: "GET", path: "/v1/keys", want: 200, req: get("/v1/keys")},
		{name: "list keys: bad limit", method: "GET", path: "/v1/keys", want: 400, invalidRequest: true, req: get("/v1/keys?limit=0")},
		{name: "audit", method: "GET", path: "/v1/audit", want: 200, req: get("/v1/audit?limit=5")},
		{name: "audit: bad since", method: "GET", path: "/v1/audit", want: 400, invalidRequest: true, req: get("/v1/audit?since=yesterday")},
		{name: "invite", method: "POST", path: "/v1/dyads/{id}/invitations", want: 201,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/invitations", `{"session":5,"role":"client","expires_in":"1h"}`)(s)
			},
			check: func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) {
				s.survey = field(t, rec, "token")
			}},
		{name: "invite a used link", method: "POST", path: "/v1/dyads/{id}/invitations", want: 201,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/invitations", `{"session":6,"role":"counsellor"}`)(s)
			},
			check: func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) {
				s.usedSurvey = field(t, rec, "token")
			}},
		{name: "invite: malformed JSON", method: "POST", path: "/v1/dyads/{id}/invitations", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request { return postJSON("/v1/dyads/"+s.dyad+"/invitations", `{`)(s) }},
		{name: "invite: unknown dyad", method: "POST", path: "/v1/dyads/{id}/invitations", want: 404,
			req: postJSON("/v1/dyads/dy_nope/invitations", `{"session":1,"role":"client"}`)},
		{name: "invite: bad role", method: "POST", path: "/v1/dyads/{id}/invitations", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/invitations", `{"session":1,"role":"therapist","expires_in":"1y"}`)(s)
			}},
		{name: "survey form", method: "GET", path: "/v1/survey", want: 200,
			req: func(s *contractState) *http.Request { return bearer(get("/v1/survey")(s), s.survey) }},
		{name: "survey: malformed JSON", method: "POST", path: "/v1/survey", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return bearer(postJSON("/v1/survey", `{"answers":`)(s), s.survey)
			}},
		{name: "survey: body too large", method: "POST", path: "/v1/survey", want: 413, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return bearer(postJSON("/v1/survey", `{"answers":[`+strings.Repeat("5,", 1<<19)+`5]}`)(s), s.survey)
			}},
		{name: "survey: not JSON", method: "POST", path: "/v1/survey", want: 415, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return bearer(withHeader(postJSON("/v1/survey", `answers=5`)(s), "Content-Type", "text/plain"), s.survey)
			}},
		{name: "survey: bad answers", method: "POST", path: "/v1/survey", want: 422,
			req: func(s *contractState) *http.Request {
				return bearer(postJSON("/v1/survey", `{"answers":[9]}`)(s), s.survey)
			}},
		{name: "survey submit", method: "POST", path: "/v1/survey", want: 201,
			req: func(s *contractState) *http.Request {
				return withHeader(bearer(postJSON("/v1/survey", `{"session_date":"2026-11-23","answers":`+contractClient+`}`)(s), s.survey),
					"Idempotency-Key", "contract-survey-1")
			},
			check: func(t *testing.T, _ *contractState, rec *httptest.ResponseRecorder) {
				if rec.Header().Get("Idempotent-Replayed") != "" {
					t.Error("a first submission says Idempotent-Replayed")
				}
			}},
		{name: "survey submit, replayed", method: "POST", path: "/v1/survey", want: 201,
			req: func(s *contractState) *http.Request {
				return withHeader(bearer(postJSON("/v1/survey", `{"session_date":"2026-11-23","answers":`+contractClient+`}`)(s), s.survey),
					"Idempotency-Key", "contract-survey-1")
			},
			check: func(t *testing.T, _ *contractState, rec *httptest.ResponseRecorder) {
				if rec.Header().Get("Idempotent-Replayed") != "true" {
					t.Error("a replay has no Idempotent-Replayed: true")
				}
			}},
		{name: "survey: session already rated", method: "POST", path: "/v1/survey", want: 410,
			req: func(s *contractState) *http.Request {
				// A link for a session and role rated by other means meanwhile.
				tok := inviteFor(t, s, 9, "client")
				decodeField(t, s.h, postJSON("/v1/dyads/"+s.dyad+"/ratings", `{"session":9,"role":"client","answers":`+contractClient+`}`)(s), "id")
				return bearer(postJSON("/v1/survey", `{"answers":`+contractClient+`}`)(s), tok)
			}},
		{name: "survey: idempotency key of other answers", method: "POST", path: "/v1/survey", want: 409,
			req: func(s *contractState) *http.Request {
				// Another tab of the browser that sent first, under the same key.
				return withHeader(bearer(postJSON("/v1/survey", `{"answers":`+contractTherapist+`}`)(s), s.survey),
					"Idempotency-Key", "contract-survey-1")
			}},
		{name: "use a link up", method: "POST", path: "/v1/survey", want: 201,
			req: func(s *contractState) *http.Request {
				return bearer(postJSON("/v1/survey", `{"answers":`+contractTherapist+`}`)(s), s.usedSurvey)
			}},
		{name: "survey form: used link", method: "GET", path: "/v1/survey", want: 410,
			req: func(s *contractState) *http.Request { return bearer(get("/v1/survey")(s), s.usedSurvey) }},
		{name: "survey: used link", method: "POST", path: "/v1/survey", want: 410, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return bearer(postJSON("/v1/survey", `{"answers":`+contractTherapist+`}`)(s), s.usedSurvey)
			}},
		// --- consent, erasure and corrections ---
		{name: "invite: session already rated", method: "POST", path: "/v1/dyads/{id}/invitations", want: 409,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/invitations", `{"session":1,"role":"client"}`)(s)
			}},
		{name: "list survey links", method: "GET", path: "/v1/dyads/{id}/invitations", want: 200,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.dyad + "/invitations")(s) }},
		{name: "list survey links: unknown dyad", method: "GET", path: "/v1/dyads/{id}/invitations", want: 404,
			req: get("/v1/dyads/dy_nope/invitations")},
		{name: "revoke a survey link", method: "DELETE", path: "/v1/invitations/{id}", want: 200,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodDelete, "/v1/invitations/"+tokenID(inviteFor(t, s, 8, "client")), nil)
			}},
		{name: "revoke: used link", method: "DELETE", path: "/v1/invitations/{id}", want: 409,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodDelete, "/v1/invitations/"+tokenID(s.usedSurvey), nil)
			}},
		{name: "revoke: unknown link", method: "DELETE", path: "/v1/invitations/{id}", want: 404,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodDelete, "/v1/invitations/nope", nil)
			}},
		{name: "void a rating", method: "POST", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}/void", want: 200,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/sessions/9/ratings/client/void", `{"reason_code":"wrong_session"}`)(s)
			}},
		{name: "void: nothing current", method: "POST", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}/void", want: 404,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/sessions/9/ratings/client/void", `{"reason_code":"wrong_session"}`)(s)
			}},
		{name: "void: malformed JSON", method: "POST", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}/void", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/sessions/1/ratings/client/void", `{`)(s)
			}},
		{name: "void: body too large", method: "POST", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}/void", want: 413, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/sessions/1/ratings/client/void", `{"reason_code":"`+strings.Repeat("x", 1<<20)+`"}`)(s)
			}},
		{name: "void: not JSON", method: "POST", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}/void", want: 415, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return withHeader(postJSON("/v1/dyads/"+s.dyad+"/sessions/1/ratings/client/void", `x`)(s), "Content-Type", "text/plain")
			}},
		{name: "void: bad reason", method: "POST", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}/void", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.dyad+"/sessions/1/ratings/client/void", `{"reason_code":"oops"}`)(s)
			}},
		{name: "create a dyad to withdraw and erase", method: "POST", path: "/v1/studies/{id}/dyads", want: 201,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/studies/"+s.study+"/dyads", `{"client_code":"C-099","counsellor_code":"K-09"}`)(s)
			},
			check: func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) { s.spare = field(t, rec, "id") }},
		{name: "withdraw", method: "POST", path: "/v1/dyads/{id}/withdraw", want: 200,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.spare+"/withdraw", `{"scope":"client","reason_code":"consent_withdrawn"}`)(s)
			}},
		{name: "rating of a withdrawn dyad", method: "POST", path: "/v1/dyads/{id}/ratings", want: 409,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.spare+"/ratings", `{"session":1,"role":"client","answers":`+contractClient+`}`)(s)
			}},
		{name: "withdraw: unknown dyad", method: "POST", path: "/v1/dyads/{id}/withdraw", want: 404,
			req: postJSON("/v1/dyads/dy_nope/withdraw", `{"scope":"both","reason_code":"other"}`)},
		{name: "withdraw: malformed JSON", method: "POST", path: "/v1/dyads/{id}/withdraw", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request { return postJSON("/v1/dyads/"+s.spare+"/withdraw", `{`)(s) }},
		{name: "withdraw: body too large", method: "POST", path: "/v1/dyads/{id}/withdraw", want: 413, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.spare+"/withdraw", `{"scope":"`+strings.Repeat("x", 1<<20)+`"}`)(s)
			}},
		{name: "withdraw: not JSON", method: "POST", path: "/v1/dyads/{id}/withdraw", want: 415, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return withHeader(postJSON("/v1/dyads/"+s.spare+"/withdraw", `x`)(s), "Content-Type", "text/plain")
			}},
		{name: "withdraw: bad scope", method: "POST", path: "/v1/dyads/{id}/withdraw", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.spare+"/withdraw", `{"scope":"patient","reason_code":"because"}`)(s)
			}},
		{name: "erase: no confirmation", method: "DELETE", path: "/v1/dyads/{id}", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodDelete, "/v1/dyads/"+s.spare, nil)
			}},
		{name: "erase a dyad", method: "DELETE", path: "/v1/dyads/{id}", want: 204,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodDelete, "/v1/dyads/"+s.spare+"?confirm="+s.spare, nil)
			}},
		{name: "erase: already erased", method: "DELETE", path: "/v1/dyads/{id}", want: 404,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodDelete, "/v1/dyads/"+s.spare+"?confirm="+s.spare, nil)
			}},
		{name: "create a study to erase", method: "POST", path: "/v1/studies", want: 201,
			req: postJSON("/v1/studies", `{"name":"Pilot","forms":{"client":"wai_sr_client","counsellor":"wai_sr_therapist"}}`),
			check: func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) {
				s.spareStudy = field(t, rec, "id")
			}},
		{name: "erase study: wrong confirmation", method: "DELETE", path: "/v1/studies/{id}", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodDelete, "/v1/studies/"+s.spareStudy+"?confirm="+s.study, nil)
			}},
		{name: "erase a study", method: "DELETE", path: "/v1/studies/{id}", want: 204,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodDelete, "/v1/studies/"+s.spareStudy+"?confirm="+s.spareStudy, nil)
			}},
		{name: "erase study: unknown", method: "DELETE", path: "/v1/studies/{id}", want: 404,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodDelete, "/v1/studies/"+s.spareStudy+"?confirm="+s.spareStudy, nil)
			}},

		// --- alerts ---
		{name: "create a dyad to raise an alert", method: "POST", path: "/v1/studies/{id}/dyads", want: 201,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/studies/"+s.study+"/dyads", `{"client_code":"C-050","counsellor_code":"K-05"}`)(s)
			},
			check: func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) {
				s.alertDyad = field(t, rec, "id")
			}},
		{name: "rate it, client", method: "POST", path: "/v1/dyads/{id}/ratings", want: 201,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.alertDyad+"/ratings", `{"session":1,"role":"client","answers":[5,5,5,5,5,5,5,5,5,5,5,5]}`)(s)
			}},
		{name: "rate it, counsellor: a divergence", method: "POST", path: "/v1/dyads/{id}/ratings", want: 201,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/dyads/"+s.alertDyad+"/ratings", `{"session":1,"role":"counsellor","answers":[2,2,2,2,2,2,2,2,2,2,2,2]}`)(s)
			}},
		{name: "study alerts", method: "GET", path: "/v1/studies/{id}/alerts", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/alerts?kind=divergence&state=open&since=2000-01-01T00:00:00Z&limit=1")(s)
			},
			check: func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) {
				l := decode[api.AlertList](t, rec)
				if len(l.Items) != 1 || l.Items[0].Figures.Difference == nil || *l.Items[0].Figures.Difference != 3 || l.Next != nil {
					t.Fatalf("alerts = %s, want the divergence of 3, the only one: next null", rec.Body)
				}
				s.alert = l.Items[0].ID
			}},
		{name: "study alerts: bad since", method: "GET", path: "/v1/studies/{id}/alerts", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return get("/v1/studies/" + s.study + "/alerts?since=yesterday")(s)
			}},
		{name: "study alerts: unknown study", method: "GET", path: "/v1/studies/{id}/alerts", want: 404, req: get("/v1/studies/st_nope/alerts")},
		{name: "study alerts: unknown kind", method: "GET", path: "/v1/studies/{id}/alerts", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request { return get("/v1/studies/" + s.study + "/alerts?kind=storm")(s) }},
		{name: "dyad alerts", method: "GET", path: "/v1/dyads/{id}/alerts", want: 200,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.alertDyad + "/alerts")(s) }},
		{name: "dyad alerts: bad limit", method: "GET", path: "/v1/dyads/{id}/alerts", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.alertDyad + "/alerts?limit=0")(s) }},
		{name: "dyad alerts: unknown dyad", method: "GET", path: "/v1/dyads/{id}/alerts", want: 404, req: get("/v1/dyads/dy_nope/alerts")},
		{name: "dyad alerts: unknown state", method: "GET", path: "/v1/dyads/{id}/alerts", want: 422, invalidRequest: true,
			req: func(s *contractState) *http.Request { return get("/v1/dyads/" + s.alertDyad + "/alerts?state=gone")(s) }},
		{name: "get alert", method: "GET", path: "/v1/alerts/{id}", want: 200,
			req: func(s *contractState) *http.Request { return get("/v1/alerts/" + s.alert)(s) }},
		{name: "get alert: unknown", method: "GET", path: "/v1/alerts/{id}", want: 404, req: get("/v1/alerts/al_nope")},
		{name: "acknowledge alert", method: "POST", path: "/v1/alerts/{id}/acknowledge", want: 200,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodPost, "/v1/alerts/"+s.alert+"/acknowledge", nil)
			},
			check: func(t *testing.T, _ *contractState, rec *httptest.ResponseRecorder) {
				if a := decode[api.AlertResponse](t, rec); a.State != "acknowledged" || a.AcknowledgedAt == nil {
					t.Errorf("acknowledged alert = %s", rec.Body)
				}
			}},
		{name: "acknowledge: unknown alert", method: "POST", path: "/v1/alerts/{id}/acknowledge", want: 404,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodPost, "/v1/alerts/al_nope/acknowledge", nil)
			}},
		{name: "amend the counsellor's rating: the alert is resolved", method: "PUT", path: "/v1/dyads/{id}/sessions/{session}/ratings/{role}", want: 200,
			req: func(s *contractState) *http.Request {
				return putJSON("/v1/dyads/"+s.alertDyad+"/sessions/1/ratings/counsellor", `{"answers":[5,5,5,5,5,5,5,5,5,5,5,4]}`)(s)
			}},
		{name: "acknowledge: resolved alert", method: "POST", path: "/v1/alerts/{id}/acknowledge", want: 409,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodPost, "/v1/alerts/"+s.alert+"/acknowledge", nil)
			}},
		{name: "alert thresholds", method: "PUT", path: "/v1/studies/{id}/alert-thresholds", want: 200,
			req: func(s *contractState) *http.Request {
				return putJSON("/v1/studies/"+s.study+"/alert-thresholds", `{"divergence_band":1.5,"rupture_z":1.96,"low_alliance_cutoff":null}`)(s)
			}},
		{name: "alert thresholds: malformed JSON", method: "PUT", path: "/v1/studies/{id}/alert-thresholds", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return putJSON("/v1/studies/"+s.study+"/alert-thresholds", `{`)(s)
			}},
		{name: "alert thresholds: unknown study", method: "PUT", path: "/v1/studies/{id}/alert-thresholds", want: 404,
			req: putJSON("/v1/studies/st_nope/alert-thresholds", `{"divergence_band":1}`)},
		{name: "alert thresholds: body too large", method: "PUT", path: "/v1/studies/{id}/alert-thresholds", want: 413, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return putJSON("/v1/studies/"+s.study+"/alert-thresholds", `{"x":"`+strings.Repeat("x", 1<<20)+`"}`)(s)
			}},
		{name: "alert thresholds: not JSON", method: "PUT", path: "/v1/studies/{id}/alert-thresholds", want: 415, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return withHeader(putJSON("/v1/studies/"+s.study+"/alert-thresholds", `x`)(s), "Content-Type", "text/plain")
			}},
		{name: "alert thresholds: negative band", method: "PUT", path: "/v1/studies/{id}/alert-thresholds", want: 422,
			req: func(s *contractState) *http.Request {
				return putJSON("/v1/studies/"+s.study+"/alert-thresholds", `{"divergence_band":-1}`)(s)
			}},

		// --- webhooks ---
		{name: "register a webhook", method: "POST", path: "/v1/studies/{id}/webhooks", want: 201,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/studies/"+s.study+"/webhooks", `{"url":"https://93.184.215.14/contract","events":["alert.raised","rating.created"]}`)(s)
			},
			check: func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) {
				s.webhook = field(t, rec, "id")
				if !strings.HasPrefix(field(t, rec, "secret"), "whsec_") {
					t.Errorf("no whsec_ secret: %s", rec.Body)
				}
			}},
		{name: "webhook: malformed JSON", method: "POST", path: "/v1/studies/{id}/webhooks", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request { return postJSON("/v1/studies/"+s.study+"/webhooks", `{`)(s) }},
		{name: "webhook: unknown study", method: "POST", path: "/v1/studies/{id}/webhooks", want: 404,
			req: postJSON("/v1/studies/st_nope/webhooks", `{"url":"https://93.184.215.14/h","events":["alert.raised"]}`)},
		{name: "webhook: body too large", method: "POST", path: "/v1/studies/{id}/webhooks", want: 413, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/studies/"+s.study+"/webhooks", `{"url":"`+strings.Repeat("x", 1<<20)+`"}`)(s)
			}},
		{name: "webhook: not JSON", method: "POST", path: "/v1/studies/{id}/webhooks", want: 415, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return withHeader(postJSON("/v1/studies/"+s.study+"/webhooks", `x`)(s), "Content-Type", "text/plain")
			}},
		{name: "webhook: private address", method: "POST", path: "/v1/studies/{id}/webhooks", want: 422,
			req: func(s *contractState) *http.Request {
				return postJSON("/v1/studies/"+s.study+"/webhooks", `{"url":"https://10.0.0.1/h","events":["alert.raised"]}`)(s)
			}},
		{name: "list webhooks", method: "GET", path: "/v1/studies/{id}/webhooks", want: 200,
			req: func(s *contractState) *http.Request { return get("/v1/studies/" + s.study + "/webhooks")(s) }},
		{name: "list webhooks: unknown study", method: "GET", path: "/v1/studies/{id}/webhooks", want: 404, req: get("/v1/studies/st_nope/webhooks")},
		{name: "get webhook", method: "GET", path: "/v1/webhooks/{id}", want: 200,
			req: func(s *contractState) *http.Request { return get("/v1/webhooks/" + s.webhook)(s) }},
		{name: "get webhook: unknown", method: "GET", path: "/v1/webhooks/{id}", want: 404, req: get("/v1/webhooks/wh_nope")},
		{name: "change a webhook", method: "PATCH", path: "/v1/webhooks/{id}", want: 200,
			req: func(s *contractState) *http.Request {
				return jsonRequest(http.MethodPatch, "/v1/webhooks/"+s.webhook, `{"include_answers":true,"enabled":false}`)
			}},
		{name: "change a webhook: malformed JSON", method: "PATCH", path: "/v1/webhooks/{id}", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return jsonRequest(http.MethodPatch, "/v1/webhooks/"+s.webhook, `{`)
			}},
		{name: "change a webhook: unknown", method: "PATCH", path: "/v1/webhooks/{id}", want: 404,
			req: func(s *contractState) *http.Request {
				return jsonRequest(http.MethodPatch, "/v1/webhooks/wh_nope", `{"enabled":true}`)
			}},
		{name: "change a webhook: body too large", method: "PATCH", path: "/v1/webhooks/{id}", want: 413, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return jsonRequest(http.MethodPatch, "/v1/webhooks/"+s.webhook, `{"url":"`+strings.Repeat("x", 1<<20)+`"}`)
			}},
		{name: "change a webhook: not JSON", method: "PATCH", path: "/v1/webhooks/{id}", want: 415, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return withHeader(jsonRequest(http.MethodPatch, "/v1/webhooks/"+s.webhook, `x`), "Content-Type", "text/plain")
			}},
		{name: "change a webhook: unknown event type", method: "PATCH", path: "/v1/webhooks/{id}", want: 422,
			req: func(s *contractState) *http.Request {
				return jsonRequest(http.MethodPatch, "/v1/webhooks/"+s.webhook, `{"events":["rating.deleted"]}`)
			}},
		{name: "rotate a webhook's secret", method: "POST", path: "/v1/webhooks/{id}/rotate", want: 200,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodPost, "/v1/webhooks/"+s.webhook+"/rotate?overlap=1h", nil)
			},
			check: func(t *testing.T, _ *contractState, rec *httptest.ResponseRecorder) {
				if w := decode[api.CreatedWebhookResponse](t, rec); w.PreviousSecretExpiresAt == nil || !strings.HasPrefix(w.Secret, "whsec_") {
					t.Errorf("rotated webhook = %s, want a new secret and the overlap's end", rec.Body)
				}
			}},
		{name: "rotate: unknown webhook", method: "POST", path: "/v1/webhooks/{id}/rotate", want: 404,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodPost, "/v1/webhooks/wh_nope/rotate", nil)
			}},
		{name: "rotate: overlap too long", method: "POST", path: "/v1/webhooks/{id}/rotate", want: 422,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodPost, "/v1/webhooks/"+s.webhook+"/rotate?overlap=9000h", nil)
			}},
		{name: "delivery log", method: "GET", path: "/v1/webhooks/{id}/deliveries", want: 200,
			req: func(s *contractState) *http.Request {
				return get("/v1/webhooks/" + s.webhook + "/deliveries?limit=5")(s)
			}},
		{name: "delivery log: bad limit", method: "GET", path: "/v1/webhooks/{id}/deliveries", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return get("/v1/webhooks/" + s.webhook + "/deliveries?limit=0")(s)
			}},
		{name: "delivery log: unknown webhook", method: "GET", path: "/v1/webhooks/{id}/deliveries", want: 404, req: get("/v1/webhooks/wh_nope/deliveries")},
		{name: "replay", method: "POST", path: "/v1/webhooks/{id}/replay", want: 200,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodPost, "/v1/webhooks/"+s.webhook+"/replay?since=2000-01-01T00:00:00Z", nil)
			},
			check: func(t *testing.T, _ *contractState, rec *httptest.ResponseRecorder) {
				if r := decode[api.ReplayResponse](t, rec); r.Queued < 3 {
					t.Errorf("replay queued %d events, want the study's ratings and its alert", r.Queued)
				}
			}},
		{name: "replay: no since", method: "POST", path: "/v1/webhooks/{id}/replay", want: 400, invalidRequest: true,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodPost, "/v1/webhooks/"+s.webhook+"/replay", nil)
			}},
		{name: "replay: unknown webhook", method: "POST", path: "/v1/webhooks/{id}/replay", want: 404,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodPost, "/v1/webhooks/wh_nope/replay?since=2000-01-01T00:00:00Z", nil)
			}},
		{name: "delete a webhook", method: "DELETE", path: "/v1/webhooks/{id}", want: 204,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodDelete, "/v1/webhooks/"+s.webhook, nil)
			}},
		{name: "delete a webhook: unknown", method: "DELETE", path: "/v1/webhooks/{id}", want: 404,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodDelete, "/v1/webhooks/"+s.webhook, nil)
			}},

		{name: "revoke key", method: "DELETE", path: "/v1/keys/{id}", want: 200,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodDelete, "/v1/keys/"+s.analyzeKeyID, nil)
			}},
		{name: "revoke: unknown key", method: "DELETE", path: "/v1/keys/{id}", want: 404,
			req: func(s *contractState) *http.Request {
				return httptest.NewRequest(http.MethodDelete, "/v1/keys/nope", nil)
			}},
	}

	exercised := map[string]bool{} // "METHOD /path status"
	gaps := newGapTracker(t)
	for _, c := range cases {
		ok := t.Run(c.name, func(t *testing.T) {
			req := c.req(s)
			exercised[fmt.Sprintf("%s %s %d", c.method, c.path, c.want)] = true
			rec := driveContract(t, gaps, router, h, c, req)
			if rec != nil && c.check != nil && rec.Code == c.want {
				c.check(t, s, rec)
			}
		})
		if !ok && c.want/100 == 2 && c.check != nil {
			// Later cases depend on the state this one records.
			t.Fatalf("case %q failed; later cases depend on it", c.name)
		}
	}

	// 401 and 403 of every protected operation: no credential, and a
	// credential whose scope does not reach the operation. Access itself
	// is tested route by route in TestAuthorizationMatrix; this checks the
	// answers match the document.
	collect := decodeField(t, h, postJSON("/v1/keys", `{"name":"tablet","scopes":["collect"]}`)(s), "token")
	analyze := decodeField(t, h, postJSON("/v1/keys", `{"name":"reader","scopes":["analyze"]}`)(s), "token")
	survey := inviteFor(t, s, 7, "client")
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			concrete := concretePath(path, s)
			for _, status := range []int{401, 403} {
				if op.Responses.Status(status) == nil {
					continue
				}
				c := contractCase{method: method, path: path, want: status, invalidRequest: true}
				req := httptest.NewRequest(method, concrete, nil)
				if status == 401 {
					req.Header.Set("Authorization", "-")
				} else if tok := wrongScope(method, path, collect, analyze, survey); tok != "" {
					bearer(req, tok)
				}
				exercised[fmt.Sprintf("%s %s %d", method, path, status)] = true
				t.Run(fmt.Sprintf("%s %s %d", method, path, status), func(t *testing.T) { driveContract(t, gaps, router, h, c, req) })
			}
			for status, why := range notExercisedStatus {
				if op.Responses.Status(status) != nil {
					notExercised[fmt.Sprintf("%s %s %d", method, path, status)] = why
				}
			}
		}
	}

	// Answers of the middleware, on every operation that can give them
	// (internal/apidoc declares them from the endpoint table):
	//   - 400 for a query parameter the route does not take;
	//   - 503 when the database does not answer in time: the credential
	//     is looked up before anything else, so a fresh one (not in the
	//     service's key cache) meets the expired deadline first;
	//   - 413 and 415 for a body too large or not JSON, where no case
	//     above drives them.
	ginParam := regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)
	anyQuery := map[string]bool{}
	for _, r := range api.Routes() {
		anyQuery[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = r.AnyQuery
	}
	freshKey := decodeField(t, h, postJSON("/v1/keys", `{"name":"unread","scopes":["admin"]}`)(s), "token")
	freshSurvey := inviteFor(t, s, 11, "client")
	querySurvey := inviteFor(t, s, 12, "client")
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			concrete := concretePath(path, s)
			survey := strings.HasPrefix(path, "/v1/survey")
			if !anyQuery[method+" "+path] {
				c := contractCase{method: method, path: path, want: 400, invalidRequest: true}
				req := httptest.NewRequest(method, concrete+"?sesion=1", nil)
				if survey {
					bearer(req, querySurvey)
				}
				exercised[fmt.Sprintf("%s %s 400", method, path)] = true
				t.Run(fmt.Sprintf("%s %s: unknown query parameter", method, path), func(t *testing.T) {
					if rec := driveContract(t, gaps, router, h, c, req); rec != nil && rec.Code == 400 && !strings.Contains(rec.Body.String(), `"code":"unknown_parameter"`) {
						t.Errorf("400 without code unknown_parameter: %s", rec.Body)
					}
				})
			}
			if op.Responses.Status(503) != nil && len(*op.Security) > 0 {
				c := contractCase{method: method, path: path, want: 503, invalidRequest: true}
				req := httptest.NewRequest(method, concrete, nil)
				if survey {
					bearer(req, freshSurvey)
				} else {
					bearer(req, freshKey)
				}
				exercised[fmt.Sprintf("%s %s 503", method, path)] = true
				t.Run(fmt.Sprintf("%s %s: database out of time", method, path), func(t *testing.T) {
					driveContract(t, gaps, router, h, c, expired(req))
				})
			}
			for status, body := range map[int]string{413: `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, 415: `name=x`} {
				key := fmt.Sprintf("%s %s %d", method, path, status)
				if op.Responses.Status(status) == nil || exercised[key] {
					continue
				}
				c := contractCase{method: method, path: path, want: status, invalidRequest: true}
				req := jsonRequest(method, concrete, body)
				if status == 415 {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				exercised[key] = true
				t.Run(key, func(t *testing.T) { driveContract(t, gaps, router, h, c, req) })
			}
		}
	}

	// 503 from /readyz needs a second service over an unmigrated store.
	t.Run("not ready: schema not migrated", func(t *testing.T) {
		c := contractCase{method: "GET", path: "/readyz", want: 503, req: get("/readyz")}
		exercised["GET /readyz 503"] = true
		rec := driveContract(t, gaps, router, contractHandler(t, false), c, c.req(nil))
		if rec != nil && rec.Header().Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	})

	// 409 secret_key_unset needs a service started without
	// ALLIANCE_SECRET_KEY: registering a webhook, and rotating the secret
	// of one registered while the server had a key.
	t.Run("webhooks without ALLIANCE_SECRET_KEY", func(t *testing.T) {
		e := newEnvWith(t, envOptions{noSecretKey: true})
		st := e.createStudy("wai_sr_client", "wai_sr_therapist")
		c := contractCase{method: "POST", path: "/v1/studies/{id}/webhooks", want: 409,
			req: postJSON("/v1/studies/"+st.ID+"/webhooks", `{"url":"https://93.184.215.14/h","events":["alert.raised"]}`)}
		exercised["POST /v1/studies/{id}/webhooks 409"] = true
		if rec := driveContract(t, gaps, router, e.h, c, c.req(nil)); rec != nil && field(t, rec, "code") != "secret_key_unset" {
			t.Errorf("409 without the secret_key_unset code: %s", rec.Body)
		}
		wh := alliance.WebhookEndpoint{ID: "wh_01jd8x2k4m5n6p7q8r9s0t1v2w", StudyID: st.ID, URL: "https://example.org/h",
			Events: []string{"alert.raised"}, Secret: "v1:sealed-under-an-old-key", CreatedAt: time.Now().UTC(), CreatedBy: "system"}
		if err := e.store.CreateWebhook(t.Context(), wh); err != nil {
			t.Fatal(err)
		}
		c = contractCase{method: "POST", path: "/v1/webhooks/{id}/rotate", want: 409,
			req: func(*contractState) *http.Request {
				return httptest.NewRequest(http.MethodPost, "/v1/webhooks/"+wh.ID+"/rotate", nil)
			}}
		exercised["POST /v1/webhooks/{id}/rotate 409"] = true
		driveContract(t, gaps, router, e.h, c, c.req(nil))
	})

	t.Run("known gaps still occur", gaps.checkStale)

	t.Run("every documented header is sent", func(t *testing.T) {
		for _, path := range doc.Paths.InMatchingOrder() {
			for method, op := range doc.Paths.Value(path).Operations() {
				for status, resp := range op.Responses.Map() {
					key := method + " " + path + " " + status
					if !exercised[key] {
						continue // not exercised: listed with its reason above
					}
					for name := range resp.Value.Headers {
						if !gaps.sent[key+" "+http.CanonicalHeaderKey(name)] {
							t.Errorf("%s declares header %s, which no answer carried: add a case that gets it, or stop declaring it", key, name)
						}
					}
				}
			}
		}
	})

	t.Run("every documented operation and status is exercised", func(t *testing.T) {
		for _, path := range doc.Paths.InMatchingOrder() {
			for method, op := range doc.Paths.Value(path).Operations() {
				if reason, ok := pendingOperations[method+" "+path]; ok {
					t.Logf("not driven: %s %s: %s", method, path, reason)
					continue
				}
				for status := range op.Responses.Map() {
					key := method + " " + path + " " + status
					switch {
					case exercised[key]:
						if reason, ok := notExercised[key]; ok {
							t.Errorf("%s is exercised but listed in notExercised (%s); remove it there", key, reason)
						}
					case notExercised[key] != "":
						t.Logf("not exercised: %s: %s", key, notExercised[key])
					default:
						t.Errorf("documented %s is not exercised: add a case, or list it in notExercised with the reason", key)
					}
				}
			}
		}
		for key := range exercised {
			method, rest, _ := strings.Cut(key, " ")
			path, status, _ := strings.Cut(rest, " ")
			item := doc.Paths.Value(path)
			if item == nil || item.GetOperation(method) == nil || item.GetOperation(method).Responses.Value(status) == nil {
				t.Errorf("case for %s: the document has no such operation and status", key)
			}
		}
	})
}

// driveContract validates the request (unless the case means it to be
// invalid), serves it through the real router and validates the response
// against the document. It returns nil when the request could not be sent.
func driveContract(t *testing.T, gaps *gapTracker, router routers.Router, h http.Handler, c contractCase, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	if req.Method != c.method {
		t.Fatalf("case builds a %s request for a %s operation", req.Method, c.method)
	}
	// Keep the body so the validator and the router can both read it.
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			t.Fatal(err)
		}
	}
	req.Body = io.NopCloser(bytes.NewReader(body))

	route, pathParams, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: the document has no operation for it: %v", req.Method, req.URL, err)
	}
	if route.Path != c.path {
		t.Fatalf("%s %s matched the documented %s, the case says %s", req.Method, req.URL, route.Path, c.path)
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: pathParams,
		Route:      route,
		Options: &openapi3filter.Options{
			// A documented status is part of the contract: an undocumented
			// one fails (by default kin-openapi lets it through).
			IncludeResponseStatus: true,
			MultiError:            true,
			// The harness adds the admin key after validation (withAdmin);
			// who may call what is TestAuthorizationMatrix's subject.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	}
	if !c.invalidRequest {
		// ValidateRequest reads the body; give it its own copy.
		vreq := req.Clone(req.Context())
		vreq.Body = io.NopCloser(bytes.NewReader(body))
		in := *input
		in.Request = vreq
		if err := gaps.filter(t, c.method+" "+c.path, openapi3filter.ValidateRequest(req.Context(), &in)); err != nil {
			t.Errorf("%s %s: the request breaks the documented contract (mark the case invalidRequest if it means to):\n%v", req.Method, req.URL, err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	if rec.Code != c.want {
		t.Errorf("%s %s = %d, want %d; body: %.400s", req.Method, req.URL.Path, rec.Code, c.want, rec.Body)
	}
	ct := rec.Header().Get("Content-Type")
	// The document gives errors application/problem+json and successes
	// their own types (cmd/openapi3 splits swag's one list per operation);
	// say so plainly when a response crosses over.
	if isProblem := strings.HasPrefix(ct, "application/problem+json"); isProblem != (rec.Code >= 400) {
		t.Errorf("%s %s: status %d with Content-Type %q", req.Method, req.URL.Path, rec.Code, ct)
	}

	resp := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Options:                input.Options,
	}
	resp.SetBodyBytes(rec.Body.Bytes())
	if err := gaps.filter(t, c.method+" "+c.path, openapi3filter.ValidateResponse(req.Context(), resp)); err != nil {
		t.Errorf("%s %s %d: the response breaks the document:\n%v\nbody: %.2000s", req.Method, req.URL.Path, rec.Code, err, rec.Body)
	}
	// Headers, both ways: one the document marks required must be sent
	// (kin-openapi checks it too; this names the case), and one a client
	// acts on that the service sends must be declared on the response.
	if r := route.Operation.Responses.Status(rec.Code); r != nil && r.Value != nil {
		for name, h := range r.Value.Headers {
			if h.Value != nil && h.Value.Required && rec.Header().Get(name) == "" {
				t.Errorf("%s %s %d: documented header %s is missing", req.Method, req.URL.Path, rec.Code, name)
			}
		}
		for _, name := range sentHeaders {
			if rec.Header().Get(name) == "" {
				continue
			}
			if declaredHeader(r.Value, name) == nil {
				t.Errorf("%s %s %d sends %s, which the document does not declare on this response", req.Method, req.URL.Path, rec.Code, name)
			}
			gaps.sent[fmt.Sprintf("%s %s %d %s", c.method, c.path, rec.Code, http.CanonicalHeaderKey(name))] = true
		}
	}
	return rec
}

// sentHeaders are the response headers a client acts on: the request id
// to quote, when to retry, how to authenticate, where the new resource is,
// whether a write was replayed, the file name of a download. Every one the
// service sends must be declared on the response that carries it, and
// every one declared must be seen in some answer (TestContract).
var sentHeaders = []string{"X-Request-ID", "Retry-After", "WWW-Authenticate", "Location", "Idempotent-Replayed", "Content-Disposition"}

// declaredHeader is the header name of resp, whatever the case of its
// name in the document.
func declaredHeader(resp *openapi3.Response, name string) *openapi3.HeaderRef {
	for k, h := range resp.Headers {
		if strings.EqualFold(k, name) {
			return h
		}
	}
	return nil
}

// checkExport parses an export and compares its columns with the codebook
// of the same shape. The document declares the export body a file (a CSV
// or NDJSON attachment, which swag cannot give a schema per media type),
// so its format is checked here.
func checkExport(shape, include string) func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) {
	return func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) {
		t.Helper()
		ct := rec.Header().Get("Content-Type")
		var header []string
		var rows int
		switch {
		case strings.HasPrefix(ct, "text/csv"):
			recs, err := csv.NewReader(bytes.NewReader(rec.Body.Bytes())).ReadAll()
			if err != nil || len(recs) < 2 {
				t.Fatalf("CSV export does not parse to a header and rows: %v\n%s", err, rec.Body)
			}
			header = recs[0]
		case strings.HasPrefix(ct, "application/x-ndjson"):
			sc := bufio.NewScanner(bytes.NewReader(rec.Body.Bytes()))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				keys, err := orderedKeys(sc.Bytes())
				if err != nil {
					t.Fatalf("NDJSON line %d is not a JSON object: %v\n%s", rows+1, err, sc.Bytes())
				}
				if header == nil {
					header = keys
				} else if !slices.Equal(keys, header) {
					t.Errorf("NDJSON line %d has keys %v, line 1 has %v", rows+1, keys, header)
				}
				rows++
			}
			if rows == 0 {
				t.Fatalf("NDJSON export is empty")
			}
		default:
			t.Fatalf("export Content-Type %q", ct)
		}
		q := "?shape=" + shape
		if include != "" {
			q += "&include=" + include
		}
		cb := httptest.NewRecorder()
		// The codebook response itself is validated by its own case.
		s.h.ServeHTTP(cb, httptest.NewRequest("GET", "/v1/studies/"+s.study+"/codebook"+q, nil))
		var book api.CodebookResponse
		if err := json.Unmarshal(cb.Body.Bytes(), &book); err != nil {
			t.Fatalf("codebook: %v", err)
		}
		var names []string
		for _, c := range book.Columns {
			names = append(names, c.Name)
		}
		if !slices.Equal(header, names) {
			t.Errorf("export columns %v, codebook columns %v", header, names)
		}
	}
}

// checkPlot checks a figure's media type and that it is one: the
// document can only call it a file.
func checkPlot(mediaType string) func(t *testing.T, s *contractState, rec *httptest.ResponseRecorder) {
	return func(t *testing.T, _ *contractState, rec *httptest.ResponseRecorder) {
		t.Helper()
		if ct := rec.Header().Get("Content-Type"); ct != mediaType {
			t.Errorf("plot Content-Type = %q, want %q", ct, mediaType)
		}
		switch mediaType {
		case "image/png":
			if !bytes.HasPrefix(rec.Body.Bytes(), []byte("\x89PNG\r\n\x1a\n")) {
				t.Errorf("the PNG plot does not start with the PNG signature")
			}
		default:
			if _, err := plot.ReadMetadata(bytes.NewReader(rec.Body.Bytes())); err != nil {
				t.Errorf("the SVG plot has no readable metadata: %v", err)
			}
		}
	}
}

// orderedKeys returns the keys of a JSON object in document order.
func orderedKeys(line []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not an object")
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// TestContractRoutesDocumented fails when the router serves a route that
// the document does not describe, or the document describes one the router
// does not serve.
func TestContractRoutesDocumented(t *testing.T) {
	doc, _, _ := contractSpec(t)
	engine, ok := api.NewHandler(api.Deps{Log: slog.New(slog.DiscardHandler)}).(*gin.Engine)
	if !ok {
		t.Fatal("api.NewHandler no longer returns a *gin.Engine; enumerate its routes another way")
	}
	ginParam := regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)
	served := map[string]bool{}
	for _, r := range engine.Routes() {
		key := r.Method + " " + r.Path
		if _, ok := undocumentedRoutes[key]; ok || r.Method == http.MethodHead { // HEAD: every GET's (TestHead)
			continue
		}
		path := ginParam.ReplaceAllString(r.Path, "{$1}")
		served[r.Method+" "+path] = true
		if reason, ok := pendingOperations[r.Method+" "+path]; ok {
			t.Logf("not checked: %s: %s", key, reason)
			continue
		}
		if item := doc.Paths.Find(path); item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("route %s is served but not documented: annotate its handler and run `go generate ./api`", key)
		}
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method := range doc.Paths.Value(path).Operations() {
			if !served[method+" "+path] {
				t.Errorf("%s %s is documented but the router does not serve it", method, path)
			}
		}
	}
	for key := range undocumentedRoutes {
		method, path, _ := strings.Cut(key, " ")
		if !slices.ContainsFunc(engine.Routes(), func(r gin.RouteInfo) bool { return r.Method == method && r.Path == path }) {
			t.Errorf("undocumentedRoutes lists %s, which the router no longer serves", key)
		}
	}
}

// TestContractOpenAPIJSON checks /openapi.json serves docs/openapi.json
// byte for byte, and the Swagger UI is served and points at it.
func TestContractOpenAPIJSON(t *testing.T) {
	_, _, raw := contractSpec(t)
	h := contractHandler(t, true)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET /openapi.json = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !bytes.Equal(rec.Body.Bytes(), raw) {
		t.Errorf("/openapi.json differs from %s (rebuild after `go generate ./api`)", openapiPath)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/docs/index.html", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("GET /docs/index.html = %d %q, want the Swagger UI", rec.Code, rec.Header().Get("Content-Type"))
	}
	// Keys are pasted there: never framed, no Referer.
	if rec.Header().Get("X-Frame-Options") != "DENY" || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
		rec.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("GET /docs/index.html headers %v, want it unframeable and without Referer", rec.Header())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/docs/swagger-initializer.js", nil))
	if !strings.Contains(rec.Body.String(), `"/openapi.json"`) {
		t.Errorf("the Swagger UI does not load /openapi.json:\n%.600s", rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/docs/doc.json", nil))
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusMovedPermanently || loc != "/openapi.json" {
		t.Errorf("GET /docs/doc.json = %d Location %q, want a redirect to the one document, /openapi.json", rec.Code, loc)
	}
}

// TestContractAccessDocumented holds the document to the endpoint table
// (cmd/openapi3 derives one from the other; this catches a document not
// regenerated after the table changed): public routes declare
// `security: []`, the others the bearer scheme, and every operation has
// an operationId for generated clients.
func TestContractAccessDocumented(t *testing.T) {
	doc, _, _ := contractSpec(t)
	ginParam := regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)
	public := map[string]bool{}
	for _, r := range api.Routes() {
		public[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = r.Public
	}
	if s := doc.Components.SecuritySchemes["BearerAuth"]; s == nil || s.Value.Type != "http" || s.Value.Scheme != "bearer" {
		t.Errorf("security scheme BearerAuth = %+v, want type http, scheme bearer (Swagger UI then takes the bare key)", s)
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			key := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", key)
			}
			switch {
			case op.Security == nil:
				t.Errorf("%s declares no security: run `go generate ./api`", key)
			case public[key] && len(*op.Security) != 0:
				t.Errorf("%s is public in the endpoint table but requires %v", key, *op.Security)
			case !public[key] && (len(*op.Security) != 1 || (*op.Security)[0]["BearerAuth"] == nil):
				t.Errorf("%s needs a credential but declares security %v, want BearerAuth", key, *op.Security)
			}
		}
	}
}

// --- request builders ---

// bearer sends r with token as its credential.
func bearer(r *http.Request, token string) *http.Request {
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// inviteFor makes a survey link for the contract dyad.
// tokenID is the id part of a token (als_<id>.<secret>).
func tokenID(tok string) string {
	id, _, _ := strings.Cut(strings.TrimPrefix(tok, "als_"), ".")
	return id
}

func inviteFor(t *testing.T, s *contractState, session int, role string) string {
	t.Helper()
	return decodeField(t, s.h, postJSON("/v1/dyads/"+s.dyad+"/invitations", fmt.Sprintf(`{"session":%d,"role":%q}`, session, role))(s), "token")
}

// decodeField sends r and returns a string field of its 2xx JSON answer.
func decodeField(t *testing.T, h http.Handler, r *http.Request, name string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code/100 != 2 {
		t.Fatalf("%s %s = %d: %s", r.Method, r.URL, rec.Code, rec.Body)
	}
	return field(t, rec, name)
}

// concretePath fills a path template with the contract state's ids.
func concretePath(tmpl string, s *contractState) string {
	id := s.dyad
	switch {
	case strings.HasPrefix(tmpl, "/v1/studies/"):
		id = s.study
	case strings.HasPrefix(tmpl, "/v1/instruments/"):
		id = "wai_sr_client"
	case strings.HasPrefix(tmpl, "/v1/keys/"):
		id = s.analyzeKeyID
	}
	return strings.NewReplacer("{id}", id, "{session}", "1", "{role}", "client").Replace(tmpl)
}

// wrongScope picks a credential that may not call the operation: the
// admin (the harness default, "") for survey routes, a survey token for
// routes open to every key, a collect key for reads, an analyze key for
// writes.
func wrongScope(method, path, collect, analyze, survey string) string {
	switch {
	case strings.HasPrefix(path, "/v1/survey"):
		return "" // the harness sends the admin key
	case strings.HasPrefix(path, "/v1/instruments"):
		return survey
	case method == http.MethodGet:
		return collect
	}
	return analyze
}

func get(target string) func(*contractState) *http.Request {
	return func(*contractState) *http.Request { return httptest.NewRequest(http.MethodGet, target, nil) }
}

func postJSON(target, body string) func(*contractState) *http.Request {
	return func(*contractState) *http.Request { return jsonRequest(http.MethodPost, target, body) }
}

func putJSON(target, body string) func(*contractState) *http.Request {
	return func(*contractState) *http.Request { return jsonRequest(http.MethodPut, target, body) }
}

func jsonRequest(method, target, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func withHeader(r *http.Request, name, value string) *http.Request {
	r.Header.Set(name, value)
	return r
}

// expired gives the request a deadline that has already passed, as when
// the database is too slow to answer in time: the service's 503.
func expired(r *http.Request) *http.Request {
	ctx, cancel := context.WithDeadline(r.Context(), time.Now().Add(-time.Second))
	_ = cancel // the context is already done; nothing to release later
	return r.WithContext(ctx)
}

// field returns a top-level string field of a JSON response ("" if null).
func field(t *testing.T, rec *httptest.ResponseRecorder, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("response is not a JSON object: %v", err)
	}
	s, _ := m[name].(string)
	return s
}

// gapTracker applies knownNullGaps and counts what each one excused. It
// also records which sentHeaders the answers carried.
type gapTracker struct {
	res  map[string]*regexp.Regexp
	hits map[string]int
	// sent holds "METHOD /path status Header" (canonical header name) for
	// every one of sentHeaders an answer of that status carried.
	sent map[string]bool
}

func newGapTracker(t *testing.T) *gapTracker {
	g := &gapTracker{res: map[string]*regexp.Regexp{}, hits: map[string]int{}, sent: map[string]bool{}}
	for expr := range knownNullGaps {
		g.res[expr] = regexp.MustCompile(expr)
	}
	return g
}

// filter returns err unless every schema error in it is a null at a known
// gap; the excused ones are logged.
func (g *gapTracker) filter(t *testing.T, op string, err error) error {
	t.Helper()
	if err == nil {
		return nil
	}
	leaves, other := schemaLeaves(err)
	if other {
		return err
	}
	var excused []string
	for _, l := range leaves {
		se := l.err
		at := op + " /" + strings.Join(l.path, "/")
		matched := ""
		if se.Value == nil && se.SchemaField == "nullable" {
			for expr, re := range g.res {
				if re.MatchString(at) {
					matched = expr
					break
				}
			}
		}
		if matched == "" {
			return err
		}
		excused = append(excused, at)
		g.hits[matched]++
	}
	for _, at := range excused {
		t.Logf("known gap, null tolerated: %s", at)
	}
	return nil
}

func (g *gapTracker) checkStale(t *testing.T) {
	for expr, reason := range knownNullGaps {
		if g.hits[expr] == 0 {
			t.Errorf("known gap %q (%s) no longer occurs: remove it from knownNullGaps", expr, reason)
		}
	}
}

// schemaLeaf is one schema error with the full JSON pointer of its value.
type schemaLeaf struct {
	path []string
	err  *openapi3.SchemaError
}

// schemaLeaves flattens a kin-openapi validation error into its innermost
// schema errors, descending into allOf (swag wraps a $ref that carries
// x-nullable or a description in a one-member allOf; every member must
// match, so its errors are the errors). other is true when the error holds
// anything else (a wrong status, Content-Type, undecodable body...).
func schemaLeaves(err error) (leaves []schemaLeaf, other bool) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, x := range e {
			l, o := schemaLeaves(x)
			leaves, other = append(leaves, l...), other || o
		}
		return leaves, other
	case *openapi3filter.RequestError:
		if e.Err == nil {
			return nil, true
		}
		return schemaLeaves(e.Err)
	case *openapi3filter.ResponseError:
		if e.Err == nil {
			return nil, true
		}
		return schemaLeaves(e.Err)
	case *openapi3.SchemaError:
		var inner openapi3.MultiError
		if e.SchemaField == "allOf" && errors.As(e.Origin, &inner) {
			// kin-openapi has already prefixed the inner pointers.
			return schemaLeaves(inner)
		}
		return []schemaLeaf{{path: e.JSONPointer(), err: e}}, false
	}
	return nil, true
}
