package api_test

// Fuzz targets for everything a client controls: the rating and study
// bodies (decoder + validator + scorer) and the query-string and path
// parsers. Each runs through the real router over a real, migrated SQLite
// store. The property is the API's contract for bad input:
//
//   - the status is 2xx or 4xx: never a 5xx (a panic is a 500 via the
//     recovery middleware, so it is caught too);
//   - every 4xx is application/problem+json whose "status" member equals
//     the HTTP status;
//   - every 2xx rating has scores whose means lie within the form's scale.
//
// The seed corpus lives in testdata/fuzz/<FuzzName>/; scripts/fuzz.sh runs
// every target for a bounded time.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/instrument"
	"github.com/alliance-project/alliance/internal/store"
)

// fzEnv is one service instance with one WAI-SR study and one dyad in it.
type fzEnv struct {
	h       http.Handler
	studyID string
	dyadID  string
}

// fzNewEnv builds the real handler over a fresh migrated SQLite file and
// creates the study and dyad the targets write to.
func fzNewEnv(tb testing.TB) *fzEnv {
	tb.Helper()
	ctx := context.Background()
	// Tests (the hostile table among them) log through a witness; fuzzing
	// runs millions of requests, whose canaries no witness could keep.
	var w *logWitness
	log := slog.New(slog.DiscardHandler)
	if _, fuzzing := tb.(*testing.F); !fuzzing {
		w = newLogWitness(tb)
		log = w.log
	}
	st, err := store.Open(ctx, filepath.Join(tb.TempDir(), "fuzz.db"), log)
	if err != nil {
		tb.Fatalf("store.Open: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx, nil); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	e := &fzEnv{h: adminHandler(tb, st, api.Deps{}, w)}
	rec := e.send(http.MethodPost, "/v1/studies", "application/json",
		[]byte(`{"name":"fuzz","forms":{"client":"wai_sr_client","counsellor":"wai_sr_therapist"}}`), nil)
	if rec.Code != http.StatusCreated {
		tb.Fatalf("create study = %d; body %s", rec.Code, rec.Body)
	}
	var s api.StudyResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		tb.Fatal(err)
	}
	e.studyID = s.ID
	rec = e.send(http.MethodPost, "/v1/studies/"+s.ID+"/dyads", "application/json",
		[]byte(`{"client_code":"C-001","counsellor_code":"K-01"}`), nil)
	if rec.Code != http.StatusCreated {
		tb.Fatalf("create dyad = %d; body %s", rec.Code, rec.Body)
	}
	var d api.DyadResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		tb.Fatal(err)
	}
	e.dyadID = d.ID
	return e
}

// send serves one request built field by field, so that arbitrary path
// bytes and query strings reach the router exactly as a parsed request
// line would deliver them (httptest.NewRequest would panic on them).
func (e *fzEnv) send(method, path, contentType string, body []byte, hdr http.Header) *httptest.ResponseRecorder {
	return e.sendURL(method, &url.URL{Path: path}, contentType, body, hdr)
}

func (e *fzEnv) sendURL(method string, u *url.URL, contentType string, body []byte, hdr http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	req.URL = u
	req.RequestURI = u.RequestURI()
	if body == nil {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// fzCheck asserts the contract every response must meet and returns the
// decoded problem of a 4xx (nil otherwise).
func fzCheck(t testing.TB, what string, rec *httptest.ResponseRecorder) *api.Problem {
	t.Helper()
	switch {
	case rec.Code >= 500:
		t.Fatalf("%s = %d, a server error; body %s", what, rec.Code, rec.Body)
	case rec.Code >= 400:
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("%s = %d with Content-Type %q, want application/problem+json; body %s", what, rec.Code, ct, rec.Body)
		}
		var p api.Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatalf("%s = %d: problem body is not JSON: %v; body %q", what, rec.Code, err, rec.Body)
		}
		if p.Status != rec.Code {
			t.Fatalf("%s: problem status member %d != HTTP status %d; body %s", what, p.Status, rec.Code, rec.Body)
		}
		if p.Type == "" || p.Title == "" {
			t.Fatalf("%s = %d: problem lacks type or title; body %s", what, rec.Code, rec.Body)
		}
		return &p
	case rec.Code >= 300:
		// A path with a stray trailing slash is answered by a redirect to
		// the route meant, without a body; that is not an error response,
		// but it must name where to go.
		if rec.Code != http.StatusMovedPermanently && rec.Code != http.StatusPermanentRedirect {
			t.Fatalf("%s = %d: unexpected 3xx; body %s", what, rec.Code, rec.Body)
		}
		if rec.Header().Get("Location") == "" {
			t.Fatalf("%s = %d without Location", what, rec.Code)
		}
	case rec.Code >= 200:
		ct := rec.Header().Get("Content-Type")
		switch {
		case strings.HasPrefix(ct, "application/json"):
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s = %d: body is not JSON: %q", what, rec.Code, rec.Body)
			}
		case strings.HasPrefix(ct, "text/csv"), strings.HasPrefix(ct, "application/x-ndjson"):
			// streamed exports
		default:
			t.Fatalf("%s = %d with Content-Type %q, want JSON, CSV or NDJSON", what, rec.Code, ct)
		}
	default:
		t.Fatalf("%s = %d: not an HTTP status a client can use", what, rec.Code)
	}
	return nil
}

// fzCheckRating asserts that a 2xx rating's scores are on the form's scale:
// every mean within [min, max], every sum finite and within
// [min·items, max·items], and null exactly when a reason is given.
func fzCheckRating(t testing.TB, body []byte) {
	t.Helper()
	var r api.RatingResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("2xx rating does not decode: %v; body %s", err, body)
	}
	f, ok := instrument.Builtin().Form(r.Instrument)
	if !ok {
		t.Fatalf("2xx rating names unknown instrument %q", r.Instrument)
	}
	if len(r.Answers) != len(f.Items) {
		t.Fatalf("2xx rating has %d answers for %d items", len(r.Answers), len(f.Items))
	}
	check := func(name string, s api.ScoreResponse) {
		if s.Mean == nil {
			if s.Sum != nil || s.Reason == "" {
				t.Fatalf("%s: mean null but sum %v, reason %q", name, s.Sum, s.Reason)
			}
			return
		}
		m := *s.Mean
		if math.IsNaN(m) || m < f.Scale.Min || m > f.Scale.Max {
			t.Fatalf("%s.mean = %v outside the scale %v..%v; body %s", name, m, f.Scale.Min, f.Scale.Max, body)
		}
		if s.Sum == nil || math.IsNaN(*s.Sum) || math.IsInf(*s.Sum, 0) {
			t.Fatalf("%s.sum = %v with a mean", name, s.Sum)
		}
		lo, hi := f.Scale.Min*float64(s.Items), f.Scale.Max*float64(s.Items)
		if *s.Sum < lo-1e-9 || *s.Sum > hi+1e-9 {
			t.Fatalf("%s.sum = %v outside %v..%v", name, *s.Sum, lo, hi)
		}
		if s.Answered > s.Items || s.Answered < 1 {
			t.Fatalf("%s: answered %d of %d items", name, s.Answered, s.Items)
		}
	}
	check("total", r.Scores.Total)
	for k, s := range r.Scores.Subscales {
		check("subscales."+k, s)
	}
}

// FuzzRatingBody posts arbitrary bytes (and an arbitrary Idempotency-Key)
// as a rating of the one dyad.
func FuzzRatingBody(f *testing.F) {
	for _, s := range []string{
		`{"session":1,"role":"client","answers":[5,4,5,4,5,5,4,4,5,4,4,5]}`,
		`{"session":2,"role":"counsellor","session_date":"2026-11-23","answers":[4,3,4,4,4,3,4,3,4,3,3,4]}`,
		`{"session":3,"role":"client","answers":[5,null,5,4,5,5,4,4,5,4,4,null]}`,
		`{"session":1e309,"role":"client","answers":[1e309]}`,
		`{"session":-0,"role":"client","answers":[-0,5.0000001,"5",5.0]}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		"{\"session\":1,\"role\":\"client\xff\",\"answers\":[]}",
		`null`, `[]`, `{}`, ``, `{"session":1}{"session":2}`,
	} {
		f.Add([]byte(s), "")
	}
	f.Add([]byte(`{"session":4,"role":"client","answers":[1,2,3,4,5,1,2,3,4,5,1,2]}`), "key-1")
	e := fzNewEnv(f)
	path := "/v1/dyads/" + e.dyadID + "/ratings"
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		hdr := http.Header{}
		if key != "" {
			hdr["Idempotency-Key"] = []string{key}
		}
		rec := e.send(http.MethodPost, path, "application/json", body, hdr)
		fzCheck(t, "POST "+path, rec)
		if rec.Code/100 == 2 {
			fzCheckRating(t, rec.Body.Bytes())
		}
	})
}

// FuzzStudyBody posts arbitrary bytes as a new study.
func FuzzStudyBody(f *testing.F) {
	for _, s := range []string{
		`{"name":"Keyworker alliance","forms":{"client":"wai_sr_client","counsellor":"wai_sr_therapist"}}`,
		`{"name":"SRS","forms":{"client":"srs_client"},"missing_policy":{"max_missing_fraction":0}}`,
		`{"name":"x","forms":{"client":"wai_sr_client"},"missing_policy":{"max_missing_fraction":0.99999}}`,
		`{"name":"x","forms":{"client":"wai_sr_client"},"missing_policy":{"max_missing_fraction":1e309}}`,
		`{"name":"x","forms":{"client":"wai_sr_therapist","counsellor":"wai_sr_client"}}`,
		`{"name":"\u0000","forms":{"client":"wai_s_client","counsellor":"wai_sr_therapist"}}`,
		`{"name":"x","name":"y","forms":{}}`,
		`{"name":"x","forms":null,"missing_policy":null}`,
		`{"name":"\ud800","description":"=HYPERLINK(\"http://evil\",\"x\")","forms":{"client":"wai_sr_client"}}`,
		`null`, `"study"`, `{}`,
	} {
		f.Add([]byte(s))
	}
	e := fzNewEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := e.send(http.MethodPost, "/v1/studies", "application/json", body, nil)
		fzCheck(t, "POST /v1/studies", rec)
		if rec.Code == http.StatusCreated {
			var s api.StudyResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
				t.Fatalf("201 study does not decode: %v", err)
			}
			if s.ID == "" || (s.Forms.Client == "" && s.Forms.Counsellor == "") {
				t.Fatalf("201 study without id or forms: %s", rec.Body)
			}
			if m := s.MissingPolicy.MaxMissingFraction; m == nil || !(*m >= 0 && *m < 1) {
				t.Fatalf("201 study with missing policy %v outside [0,1)", m)
			}
		}
	})
}

// FuzzInstrumentBody posts arbitrary bytes as a definition of a family of
// forms: every answer is a 4xx problem or a 201 whose forms take a study
// and a rating, never a 5xx.
func FuzzInstrumentBody(f *testing.F) {
	f.Add([]byte(customDefinition))
	f.Add([]byte(strings.Replace(customDefinition, `"parallel": [`, `"parallel": [{"client": 1, "counsellor": 1},`, 1)))
	f.Add([]byte(`{"id":"a","version":"1","name":"n","citation":"c","licence_note":"l","items":1,"scale":{"min":0,"max":0.5,"step":0.5},"forms":[{"id":"a_c","role":"counsellor"}]}`))
	f.Add([]byte(`{"id":"a","items":200,"scale":{"min":-1e6,"max":1e6,"step":2000},"forms":[]}`))
	f.Add([]byte(`{"scale":{"min":1e999}}`))
	f.Add([]byte(`[[[[[[[[[[]]]]]]]]]]`))
	f.Add([]byte(`null`))
	e := fzNewEnv(f)
	n := 0
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := e.send(http.MethodPost, "/v1/instruments", "application/json", body, nil)
		fzCheck(t, "POST /v1/instruments", rec)
		if rec.Code != http.StatusCreated {
			return
		}
		var fam api.InstrumentFamilyResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &fam); err != nil || len(fam.Forms) == 0 {
			t.Fatalf("201 family does not decode: %v; body %s", err, rec.Body)
		}
		forms := map[string]string{}
		for _, form := range fam.Forms {
			forms[form.Role] = form.ID
		}
		n++
		st := e.send(http.MethodPost, "/v1/studies", "application/json",
			fmt.Appendf(nil, `{"name":"fuzz %d","forms":{"client":%q,"counsellor":%q}}`, n, forms["client"], forms["counsellor"]), nil)
		fzCheck(t, "POST /v1/studies with the new forms", st)
		if st.Code != http.StatusCreated {
			t.Fatalf("a study of the new forms %v = %d; body %s", forms, st.Code, st.Body)
		}
	})
}

// FuzzQuery sends arbitrary query strings to the list endpoints and
// arbitrary session and role path segments to the rating and session reads.
func FuzzQuery(f *testing.F) {
	for _, s := range [][3]string{
		{"", "1", "client"},
		{"limit=10", "2", "counsellor"},
		{"limit=500&after=st_", "10000", "client"},
		{"limit=0", "0", "Client"},
		{"limit=-1&limit=2", "-1", ""},
		{"limit=99999999999999999999", "99999999999999999999", "counsellor/history"},
		{"limit=1e3", "1e3", "../../client"},
		{"after=%00&counsellor_code=%27%20OR%201%3D1--", "1 ", "client\x00"},
		{"counsellor_code=K-01", "+1", "counsellor "},
		{"%zz=%zz&;;&==", "0x1", "%2e%2e"},
		{"limit=%E2%80%8B1", "\xff", "\xff\xfe"},
		{"session=1&scale=total&scale=goal", "1", "client"},
		{"session=all&scale=nope", "1", "client"},
		{"format=ndjson&shape=wide&include=items&updated_since=2026-01-01T00:00:00Z", "1", "client"},
		{"format=xlsx&shape=diagonal&include=%00&updated_since=yesterday", "1", "client"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	e := fzNewEnv(f)
	// One stored rating, so the reads also exercise the found path.
	rec := e.send(http.MethodPost, "/v1/dyads/"+e.dyadID+"/ratings", "application/json",
		[]byte(`{"session":1,"role":"client","answers":[5,4,5,4,5,5,4,4,5,4,4,5]}`), nil)
	if rec.Code != http.StatusCreated {
		f.Fatalf("seed rating = %d; body %s", rec.Code, rec.Body)
	}
	f.Fuzz(func(t *testing.T, query, session, role string) {
		for _, u := range []*url.URL{
			{Path: "/v1/studies", RawQuery: query},
			{Path: "/v1/studies/" + e.studyID + "/dyads", RawQuery: query},
			{Path: "/v1/dyads/" + e.dyadID + "/ratings", RawQuery: query},
			{Path: "/v1/studies/" + e.studyID + "/agreement", RawQuery: query},
			{Path: "/v1/studies/" + e.studyID + "/export", RawQuery: query},
			{Path: "/v1/studies/" + e.studyID + "/codebook", RawQuery: query},
			{Path: "/v1/dyads/" + e.dyadID + "/agreement", RawQuery: query},
			{Path: "/v1/dyads/" + e.dyadID + "/sessions/" + session + "/agreement", RawQuery: query},
			{Path: "/v1/dyads/" + e.dyadID + "/sessions/" + session},
			{Path: "/v1/dyads/" + e.dyadID + "/sessions/" + session + "/ratings/" + role},
			{Path: "/v1/dyads/" + e.dyadID + "/sessions/" + session + "/ratings/" + role + "/history"},
			{Path: "/v1/studies/" + session, RawQuery: query},
			{Path: "/v1/dyads/" + role},
		} {
			rec := e.sendURL(http.MethodGet, u, "", nil, nil)
			fzCheck(t, fmt.Sprintf("GET %q ? %q", u.Path, u.RawQuery), rec)
		}
	})
}
