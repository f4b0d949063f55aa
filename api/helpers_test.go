package api_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/auth"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/store"
	"github.com/alliance-project/alliance/internal/store/rowcache"
	"github.com/alliance-project/alliance/migrations"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// Problem type URIs the API promises (see api/problem.go and the README).
const (
	typeMalformed   = "urn:alliance:problem:malformed-request"
	typeValidation  = "urn:alliance:problem:validation-error"
	typeConflict    = "urn:alliance:problem:conflict"
	typeIdempotency = "urn:alliance:problem:idempotency-key-reuse"
	typeTooLarge    = "urn:alliance:problem:body-too-large"
	typeMediaType   = "urn:alliance:problem:unsupported-media-type"
	typeUnavailable = "urn:alliance:problem:unavailable"
	typeBlank       = "about:blank"
)

// The reference synthetic dyad: WAI-SR client and therapist answers for one
// session (items 1..12 in key order).
const (
	refClient    = `[5,4,5,4,5,5,4,4,5,4,4,5]`
	refTherapist = `[4,3,4,4,4,3,4,3,4,3,3,4]`
)

// env is one service instance: the real router over a real, migrated
// SQLite database in the test's temporary directory.
type env struct {
	t *testing.T
	// h is the router behind withAdmin; engine is the bare router.
	h      http.Handler
	engine http.Handler
	store  *store.Store
	svc    *alliance.Service
	// adminToken is sent with every request unless the request names its
	// own Authorization header ("" for none).
	adminToken string
	// allow5xx turns off the "never a 5xx" check, for tests that expect 503.
	allow5xx bool
}

type envOptions struct {
	// databaseURL opens this database instead of a new SQLite file.
	databaseURL  string
	storeOptions []store.Option
	maxBodyBytes int64
	noMigrate    bool
	log          *slog.Logger
	limits       api.RateLimits
	cors         []string
	proxies      []string
	publicURL    string
	cookieSecure string
	// catalogue replaces the built-in forms (e.g. with item texts).
	catalogue *instrument.Catalogue
	// noSecretKey runs the service without ALLIANCE_SECRET_KEY.
	noSecretKey bool
}

// withWebhooks configures a test service's webhooks: a fresh secret key
// (unless noKey) and, with loopback, loopback receivers allowed as on a
// development server.
func withWebhooks(svc *alliance.Service, noKey, loopback bool) *alliance.Service {
	o := alliance.WebhookOptions{AllowLoopback: loopback}
	if !noKey {
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		o.SecretBox, _ = auth.NewSecretBox(base64.StdEncoding.EncodeToString(k))
	}
	svc.ConfigureWebhooks(o)
	return svc
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, envOptions{})
}

// with returns the same service bound to t, for subtests.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

func newEnvWith(t *testing.T, o envOptions) *env {
	t.Helper()
	if o.maxBodyBytes == 0 {
		o.maxBodyBytes = 1 << 20
	}
	log := o.log
	var w *logWitness
	if log == nil {
		w = newLogWitness(t)
		log = w.log
	}
	url := o.databaseURL
	if url == "" {
		url = filepath.Join(t.TempDir(), "alliance.db")
	}
	st, err := store.Open(t.Context(), url, log, o.storeOptions...)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if !o.noMigrate {
		if err := st.Migrate(t.Context(), log); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	cat := o.catalogue
	if cat == nil {
		cat = instrument.Builtin()
	}
	svc := withWebhooks(alliance.NewService(cached(st), cat), o.noSecretKey, true)
	var admin string
	if !o.noMigrate {
		if admin, err = svc.EnsureAdminKey(t.Context()); err != nil {
			t.Fatalf("EnsureAdminKey: %v", err)
		}
	}
	engine := api.NewHandler(api.Deps{
		Service:        svc,
		Log:            log,
		MaxBodyBytes:   o.maxBodyBytes,
		RateLimits:     o.limits,
		CORSOrigins:    o.cors,
		TrustedProxies: o.proxies,
		PublicURL:      o.publicURL,
		CookieSecure:   o.cookieSecure,
	})
	var h http.Handler = withAdmin(engine, admin)
	if w != nil {
		h = w.wrap(h)
	}
	return &env{t: t, h: h, engine: engine, store: st, svc: svc, adminToken: admin}
}

// withAdmin sends requests without credentials as the admin, so tests of
// other concerns need not repeat the header. A request whose
// Authorization header is "-" is sent with no credentials at all.
func withAdmin(h http.Handler, token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "":
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
		case "-":
			r.Header.Del("Authorization")
		}
		h.ServeHTTP(w, r)
	})
}

// adminHandler builds the real router over st with a first admin key,
// behind withAdmin: the harness of tests that build their own store. With
// a witness, it logs into the witness and shows it every request.
func adminHandler(tb testing.TB, st *store.Store, d api.Deps, w *logWitness) http.Handler {
	tb.Helper()
	// As in production: webhooks may not reach loopback (the hostile
	// table's SSRF rows rely on it).
	svc := withWebhooks(alliance.NewService(cached(st), instrument.Builtin()), false, false)
	tok, err := svc.EnsureAdminKey(context.Background())
	if err != nil {
		tb.Fatalf("EnsureAdminKey: %v", err)
	}
	d.Service = svc
	switch {
	case w != nil:
		d.Log = w.log
	case d.Log == nil:
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.MaxBodyBytes == 0 {
		d.MaxBodyBytes = 1 << 20
	}
	h := withAdmin(api.NewHandler(d), tok)
	if w != nil {
		h = w.wrap(h)
	}
	return h
}

// cached puts the row caches in front of st as the server does.
func cached(st *store.Store) alliance.Store {
	return rowcache.New(st, rowcache.Options{Rows: st.Dialect() == migrations.SQLite})
}

// do sends one request through the router. headers are name/value pairs;
// a JSON Content-Type is set whenever there is a body, unless a header
// pair overrides it. Any 5xx fails the test.
func (e *env) do(method, path, body string, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	if len(headers)%2 != 0 {
		e.t.Fatalf("do: headers must be name/value pairs, got %q", headers)
	}
	var rd io.Reader = http.NoBody
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i < len(headers); i += 2 {
		switch {
		case headers[i] == "Authorization" && headers[i+1] == "":
			req.Header.Set("Authorization", "-") // no credentials (see withAdmin)
		case headers[i+1] == "":
			req.Header.Del(headers[i])
		default:
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code >= 500 && !e.allow5xx {
		e.t.Errorf("%s %s = %d, a server error; want no 5xx ever; body %s", method, path, rec.Code, rec.Body)
	}
	return rec
}

// newKey creates an API key with the admin key and returns its token.
func (e *env) newKey(body string) string {
	e.t.Helper()
	return decode[api.CreatedKeyResponse](e.t, e.expect(http.StatusCreated, http.MethodPost, "/v1/keys", body)).Token
}

// expect sends a request and stops the test unless it gets status want.
func (e *env) expect(want int, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	rec := e.do(method, path, body, headers...)
	if rec.Code != want {
		e.t.Fatalf("%s %s = %d, want %d; body %s", method, path, rec.Code, want, rec.Body)
	}
	return rec
}

// decode parses a JSON success body into T after checking its media type.
func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want application/json; body %s", ct, rec.Body)
	}
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %T: %v; body %s", v, err, rec.Body)
	}
	return v
}

// rawFields decodes a JSON object one level deep, to check that a member
// is present and null rather than absent.
func rawFields(t *testing.T, b []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode object: %v; body %s", err, b)
	}
	return m
}

// fieldCode is one expected entry of a problem's errors array.
type fieldCode struct{ Field, Code string }

// problemWant describes an expected problem+json answer. When fields is
// not nil, the errors array must hold exactly these (field, code) pairs,
// in any order.
type problemWant struct {
	status int
	typ    string
	fields []fieldCode
}

// checkProblem asserts that rec is the problem want: status, media type,
// type, status member, and the named fields and codes.
func checkProblem(t *testing.T, rec *httptest.ResponseRecorder, req string, want problemWant) api.Problem {
	t.Helper()
	if rec.Code != want.status {
		t.Fatalf("%s = %d, want %d; body %s", req, rec.Code, want.status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: Content-Type = %q, want application/problem+json", req, ct)
	}
	var p api.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("%s: decode problem: %v; body %s", req, err, rec.Body)
	}
	if p.Type != want.typ {
		t.Errorf("%s: problem type = %q, want %q; body %s", req, p.Type, want.typ, rec.Body)
	}
	if p.Status != rec.Code {
		t.Errorf("%s: problem status member = %d, HTTP status %d", req, p.Status, rec.Code)
	}
	if p.Title == "" {
		t.Errorf("%s: problem has no title; body %s", req, rec.Body)
	}
	got := make([]fieldCode, len(p.Errors))
	for i, fe := range p.Errors {
		got[i] = fieldCode{fe.Field, fe.Code}
		if fe.Message == "" {
			t.Errorf("%s: errors[%d] (%s) has no message", req, i, fe.Field)
		}
	}
	if want.fields != nil && !sameFieldCodes(got, want.fields) {
		t.Errorf("%s: problem errors = %v, want %v; body %s", req, got, want.fields, rec.Body)
	}
	return p
}

func sameFieldCodes(a, b []fieldCode) bool {
	cmp := func(x, y fieldCode) int { return strings.Compare(x.Field+"\x00"+x.Code, y.Field+"\x00"+y.Code) }
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, cmp)
	slices.SortFunc(b, cmp)
	return slices.Equal(a, b)
}

// --- fixtures ---

func studyBody(clientForm, counsellorForm string) string {
	forms := map[string]string{}
	if clientForm != "" {
		forms["client"] = clientForm
	}
	if counsellorForm != "" {
		forms["counsellor"] = counsellorForm
	}
	b, _ := json.Marshal(map[string]any{"name": "Keyworker alliance", "forms": forms})
	return string(b)
}

func (e *env) createStudy(clientForm, counsellorForm string) api.StudyResponse {
	e.t.Helper()
	rec := e.expect(http.StatusCreated, http.MethodPost, "/v1/studies", studyBody(clientForm, counsellorForm))
	return decode[api.StudyResponse](e.t, rec)
}

func dyadBody(clientCode, counsellorCode string) string {
	return fmt.Sprintf(`{"client_code":%q,"counsellor_code":%q}`, clientCode, counsellorCode)
}

func (e *env) createDyad(studyID, clientCode, counsellorCode string) api.DyadResponse {
	e.t.Helper()
	rec := e.expect(http.StatusCreated, http.MethodPost, "/v1/studies/"+studyID+"/dyads", dyadBody(clientCode, counsellorCode))
	return decode[api.DyadResponse](e.t, rec)
}

// newDyad creates a study with the given forms and one dyad in it.
func (e *env) newDyad(clientForm, counsellorForm string) api.DyadResponse {
	e.t.Helper()
	st := e.createStudy(clientForm, counsellorForm)
	return e.createDyad(st.ID, "C-001", "K-01")
}

// ratingBody is a rating request; answers is a JSON array literal.
func ratingBody(session int, role, answers string) string {
	return fmt.Sprintf(`{"session":%d,"role":%q,"answers":%s}`, session, role, answers)
}

func ratingsPath(dyadID string) string { return "/v1/dyads/" + dyadID + "/ratings" }

func ratingPath(dyadID string, session int, role string) string {
	return fmt.Sprintf("/v1/dyads/%s/sessions/%d/ratings/%s", dyadID, session, role)
}

func (e *env) postRating(dyadID string, session int, role, answers string) api.RatingResponse {
	e.t.Helper()
	rec := e.expect(http.StatusCreated, http.MethodPost, ratingsPath(dyadID), ratingBody(session, role, answers))
	return decode[api.RatingResponse](e.t, rec)
}

// ratingsSnapshot is the raw body of a dyad's current ratings, to show
// that a failed request changed nothing.
func (e *env) ratingsSnapshot(dyadID string) string {
	e.t.Helper()
	return e.expect(http.StatusOK, http.MethodGet, ratingsPath(dyadID), "").Body.String()
}

// --- numbers ---

func checkFloat(t *testing.T, name string, got *float64, want, tol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = null, want %v", name, want)
		return
	}
	if math.Abs(*got-want) > tol {
		t.Errorf("%s = %v, want %v (±%g)", name, *got, want, tol)
	}
}

// checkScore asserts a scored (sub)scale: mean, sum, answered of items,
// prorated, and no reason.
func checkScore(t *testing.T, name string, s api.ScoreResponse, mean, sum float64, answered, items int, prorated bool) {
	t.Helper()
	checkFloat(t, name+".mean", s.Mean, mean, 1e-12)
	checkFloat(t, name+".sum", s.Sum, sum, 1e-12)
	if s.Answered != answered || s.Items != items || s.Prorated != prorated || s.Reason != "" {
		t.Errorf("%s: answered/items/prorated/reason = %d/%d/%v/%q, want %d/%d/%v/\"\"",
			name, s.Answered, s.Items, s.Prorated, s.Reason, answered, items, prorated)
	}
}

// checkUnscored asserts a (sub)scale left unscored for too many missing items.
func checkUnscored(t *testing.T, name string, s api.ScoreResponse, answered, items int) {
	t.Helper()
	if s.Mean != nil || s.Sum != nil {
		t.Errorf("%s: mean/sum = %v/%v, want null/null", name, ptrStr(s.Mean), ptrStr(s.Sum))
	}
	if s.Reason != "too_many_missing" || s.Answered != answered || s.Items != items || s.Prorated {
		t.Errorf("%s: reason/answered/items/prorated = %q/%d/%d/%v, want too_many_missing/%d/%d/false",
			name, s.Reason, s.Answered, s.Items, s.Prorated, answered, items)
	}
}

func ptrStr(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}
