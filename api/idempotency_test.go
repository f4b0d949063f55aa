package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/pgtest"
)

func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	path, body := ratingsPath(d.ID), ratingBody(1, "client", refClient)
	key := "Idempotency-Key"

	first := e.expect(http.StatusCreated, http.MethodPost, path, body, key, "0b5c8e5e-7d0f-4a35-9a47-3f0f1b2c9d11")
	if h := first.Header().Get("Idempotent-Replayed"); h != "" {
		t.Errorf("first POST %s: Idempotent-Replayed = %q, want absent", path, h)
	}
	second := e.expect(http.StatusCreated, http.MethodPost, path, body, key, "0b5c8e5e-7d0f-4a35-9a47-3f0f1b2c9d11")
	if h := second.Header().Get("Idempotent-Replayed"); h != "true" {
		t.Errorf("second POST %s: Idempotent-Replayed = %q, want true", path, h)
	}
	if first.Body.String() != second.Body.String() {
		t.Errorf("replayed POST %s body differs:\n first %s\nsecond %s", path, first.Body, second.Body)
	}
	if l := second.Header().Get("Location"); l != first.Header().Get("Location") {
		t.Errorf("replayed Location = %q, want %q", l, first.Header().Get("Location"))
	}
	if list := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, path, "")); len(list.Items) != 1 {
		t.Errorf("GET %s has %d ratings after a replayed POST, want 1", path, len(list.Items))
	}

	// Amended, then voided: the replay is still the first answer, body for
	// body, and tells the retrying frontend nothing of either.
	e.expect(http.StatusOK, http.MethodPut, ratingPath(d.ID, 1, "client"), `{"answers":`+refTherapist+`}`)
	e.expect(http.StatusOK, http.MethodPost, ratingPath(d.ID, 1, "client")+"/void", `{"reason_code":"wrong_dyad"}`)
	third := e.expect(http.StatusCreated, http.MethodPost, path, body, key, "0b5c8e5e-7d0f-4a35-9a47-3f0f1b2c9d11")
	if first.Body.String() != third.Body.String() || third.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("the replay after an amendment and a void differs from the first answer:\n first %s\n third %s", first.Body, third.Body)
	}
}

func TestIdempotencyKeyReuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	path := ratingsPath(d.ID)
	first := e.expect(http.StatusCreated, http.MethodPost, path, ratingBody(1, "client", refClient), "Idempotency-Key", "k-1")
	before := e.ratingsSnapshot(d.ID)

	tests := []struct{ name, path, body string }{
		{"another body", path, ratingBody(1, "client", `[1,1,1,1,1,1,1,1,1,1,1,1]`)},
		{"another session", path, ratingBody(2, "client", refClient)},
	}
	for _, tt := range tests {
		rec := e.do(http.MethodPost, tt.path, tt.body, "Idempotency-Key", "k-1")
		checkProblem(t, rec, "POST "+tt.path+" (key k-1 reused with "+tt.name+")",
			problemWant{status: http.StatusConflict, typ: typeIdempotency})
	}
	if after := e.ratingsSnapshot(d.ID); after != before {
		t.Errorf("GET %s changed after refused key reuse:\n got %s\nwant %s", path, after, before)
	}
	// The original request still replays.
	again := e.expect(http.StatusCreated, http.MethodPost, path, ratingBody(1, "client", refClient), "Idempotency-Key", "k-1")
	if again.Body.String() != first.Body.String() {
		t.Errorf("replay after refused reuse = %s, want %s", again.Body, first.Body)
	}
}

func TestIdempotencyKeyNotBurnedByFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	path := ratingsPath(d.ID)
	rec := e.do(http.MethodPost, path, ratingBody(1, "client", `[9,4,5,4,5,5,4,4,5,4,4,5]`), "Idempotency-Key", "k-2")
	checkProblem(t, rec, "POST "+path+" (bad answer, key k-2)", problemWant{422, typeValidation, []fieldCode{{"answers[0]", "out_of_range"}}})

	// The corrected request under the same key is a new request, not a reuse.
	ok := e.expect(http.StatusCreated, http.MethodPost, path, ratingBody(1, "client", refClient), "Idempotency-Key", "k-2")
	if h := ok.Header().Get("Idempotent-Replayed"); h != "" {
		t.Errorf("POST after a refused attempt: Idempotent-Replayed = %q, want absent", h)
	}
}

func TestIdempotencyKeyValidity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	path := ratingsPath(d.ID)
	for _, tt := range []struct{ name, key string }{
		{"a space", "my key"},
		{"a tab", "my\tkey"},
		{"256 characters", strings.Repeat("k", 256)},
		{"non-ASCII", "schlüssel"},
	} {
		rec := e.do(http.MethodPost, path, ratingBody(1, "client", refClient), "Idempotency-Key", tt.key)
		checkProblem(t, rec, "POST "+path+" (Idempotency-Key with "+tt.name+")",
			problemWant{400, typeMalformed, []fieldCode{{"Idempotency-Key", "invalid_header"}}})
	}
	if list := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, path, "")); len(list.Items) != 0 {
		t.Fatalf("GET %s has %d ratings after invalid keys, want 0", path, len(list.Items))
	}
	e.expect(http.StatusCreated, http.MethodPost, path, ratingBody(1, "client", refClient), "Idempotency-Key", strings.Repeat("k", 255))
}

// result is what one concurrent client saw.
type result struct {
	status   int
	replayed string
	id       string
	body     string
	err      error
}

// race sends n requests at once through a real HTTP server, each built by
// req(i), and returns what each got.
func race(t *testing.T, h http.Handler, n int, req func(base string, i int) *http.Request) []result {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	out := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		r := req(srv.URL, i)
		wg.Go(func() {
			<-start
			resp, err := srv.Client().Do(r)
			if err != nil {
				out[i].err = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			out[i] = result{status: resp.StatusCode, replayed: resp.Header.Get("Idempotent-Replayed"), body: string(b), err: err}
			var v struct{ ID string }
			if json.Unmarshal(b, &v) == nil {
				out[i].id = v.ID
			}
		})
	}
	close(start)
	wg.Wait()
	return out
}

func newRequest(t *testing.T, method, url, body string, headers ...string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

func TestIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	path, body := ratingsPath(d.ID), ratingBody(1, "client", refClient)

	const n = 20
	res := race(t, e.h, n, func(base string, _ int) *http.Request {
		return newRequest(t, http.MethodPost, base+path, body, "Idempotency-Key", "concurrent-key")
	})
	fresh := 0
	for i, r := range res {
		if r.err != nil {
			t.Fatalf("request %d: %v", i, r.err)
		}
		if r.status != http.StatusCreated {
			t.Errorf("request %d: POST %s = %d, want 201; body %s", i, path, r.status, r.body)
			continue
		}
		if r.id == "" || r.id != res[0].id {
			t.Errorf("request %d: rating id %q, want the same id as request 0 (%q)", i, r.id, res[0].id)
		}
		if r.replayed != "true" {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d responses without Idempotent-Replayed: true, want exactly 1 (the one that stored)", fresh)
	}
	if list := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, path, "")); len(list.Items) != 1 {
		t.Errorf("GET %s has %d ratings after %d concurrent keyed POSTs, want 1", path, len(list.Items), n)
	}
}

// Without a key, concurrent duplicates of one session and role are one
// 201 and the rest 409, never a 5xx.
func TestRatingConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	path, body := ratingsPath(d.ID), ratingBody(1, "client", refClient)

	res := race(t, e.h, 20, func(base string, _ int) *http.Request {
		return newRequest(t, http.MethodPost, base+path, body)
	})
	created := 0
	for i, r := range res {
		switch {
		case r.err != nil:
			t.Fatalf("request %d: %v", i, r.err)
		case r.status == http.StatusCreated:
			created++
		case r.status != http.StatusConflict:
			t.Errorf("request %d: POST %s = %d, want 201 or 409; body %s", i, path, r.status, r.body)
		}
	}
	if created != 1 {
		t.Errorf("%d of 20 concurrent duplicate POSTs got 201, want exactly 1", created)
	}
	if list := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, path, "")); len(list.Items) != 1 {
		t.Errorf("GET %s has %d ratings, want 1", path, len(list.Items))
	}
}

// TestFirstReleaseKeysReplay: the first release recorded idempotency keys
// as clients sent them, before keys were scoped to the credential and the
// request. A retry that spans the upgrade with the same method, path and
// body is replayed: a POST gets its rating, not 409, and a PUT retried
// after a later amendment does not add a version that reverts it. Under
// another body the old key is a new key.
func TestFirstReleaseKeysReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	unscope := func(ratingID, key string) { // what the first release stored
		t.Helper()
		res, err := e.store.DB().Exec(`UPDATE idempotency_keys SET key = $1 WHERE rating_id = $2`, key, ratingID)
		if n, _ := res.RowsAffected(); err != nil || n != 1 {
			t.Fatalf("rewrite the key of %s: %v, %d rows", ratingID, err, n)
		}
	}
	post, body := ratingsPath(d.ID), ratingBody(1, "client", refClient)
	first := decode[api.RatingResponse](t, e.expect(http.StatusCreated, http.MethodPost, post, body, "Idempotency-Key", "old-post"))
	unscope(first.ID, "old-post")
	again := e.expect(http.StatusCreated, http.MethodPost, post, body, "Idempotency-Key", "old-post")
	if again.Header().Get("Idempotent-Replayed") != "true" || decode[api.RatingResponse](t, again).ID != first.ID {
		t.Errorf("POST retried across the upgrade = %d, replayed %q: %s; want the first rating replayed", again.Code,
			again.Header().Get("Idempotent-Replayed"), again.Body)
	}
	other := ratingBody(1, "client", strings.Replace(refClient, "[5", "[4", 1))
	checkProblem(t, e.do(http.MethodPost, post, other, "Idempotency-Key", "old-post"), "the old key with another body",
		problemWant{status: 409, typ: "urn:alliance:problem:conflict"})

	put := ratingPath(d.ID, 1, "client")
	v2body := `{"answers":` + strings.Replace(refClient, "[5", "[3", 1) + `}`
	v2 := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodPut, put, v2body, "Idempotency-Key", "old-put"))
	unscope(v2.ID, "old-put")
	e.expect(http.StatusOK, http.MethodPut, put, `{"answers":`+strings.Replace(refClient, "[5", "[2", 1)+`}`)
	retry := e.expect(http.StatusOK, http.MethodPut, put, v2body, "Idempotency-Key", "old-put")
	if retry.Header().Get("Idempotent-Replayed") != "true" || decode[api.RatingResponse](t, retry).ID != v2.ID {
		t.Errorf("PUT retried across the upgrade = %s; want version 2 replayed", retry.Body)
	}
	if hist := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, put+"/history", "")); len(hist.Items) != 3 {
		t.Errorf("history has %d versions after the retried PUT, want 3", len(hist.Items))
	}
}

// TestIdempotencyConcurrentOnVoidedSlot: concurrent retries with one key
// into a slot whose rating was voided all get the one new rating. Both
// first find the voided version in the way; the one that loses the race
// for the next version must find its key taken, not answer 409 "already
// has a rating" (a client would then amend, adding a version). On
// PostgreSQL the retries go to two instances, as behind a load balancer.
func TestIdempotencyConcurrentOnVoidedSlot(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		raceOnVoidedSlots(t, e, e.h)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url := pgtest.Database(t)
		a := newEnvWith(t, envOptions{databaseURL: url})
		b := newEnvWith(t, envOptions{databaseURL: url, noMigrate: true})
		b.h = withAdmin(b.engine, a.adminToken)
		var n atomic.Int64
		both := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1)%2 == 0 {
				a.h.ServeHTTP(w, r)
				return
			}
			b.h.ServeHTTP(w, r)
		})
		raceOnVoidedSlots(t, a, both)
	})
}

// raceOnVoidedSlots voids a rating and sends its slot's next rating 8
// times at once through h, with one key, for ten sessions.
func raceOnVoidedSlots(t *testing.T, e *env, h http.Handler) {
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	path := ratingsPath(d.ID)
	for session := 1; session <= 10; session++ {
		body := ratingBody(session, "client", refClient)
		e.expect(http.StatusCreated, http.MethodPost, path, body)
		e.expect(http.StatusOK, http.MethodPost, ratingPath(d.ID, session, "client")+"/void", `{"reason_code":"wrong_dyad"}`)
		key := fmt.Sprintf("voided-slot-%d", session)
		res := race(t, h, 8, func(base string, _ int) *http.Request {
			return newRequest(t, http.MethodPost, base+path, body, "Idempotency-Key", key)
		})
		for i, r := range res {
			if r.err != nil || r.status != http.StatusCreated || r.id != res[0].id {
				t.Errorf("session %d, request %d: %d %q (%v), want 201 with the one new rating %q; body %s", session, i, r.status, r.id, r.err, res[0].id, r.body)
			}
		}
	}
}

// TestIdempotencyKeyEmpty: a key header sent empty (a frontend's unset
// variable) or twice is refused, not taken as no key: the frontend would
// believe its retries safe, and each would store a new rating.
func TestIdempotencyKeyEmpty(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	for name, vals := range map[string][]string{"empty": {""}, "twice": {"k-1", "k-2"}} {
		req := httptest.NewRequest(http.MethodPost, ratingsPath(d.ID), strings.NewReader(ratingBody(1, "client", refClient)))
		req.Header.Set("Content-Type", "application/json")
		req.Header[http.CanonicalHeaderKey("Idempotency-Key")] = vals
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		checkProblem(t, rec, "an Idempotency-Key sent "+name, problemWant{status: http.StatusBadRequest, typ: typeMalformed,
			fields: []fieldCode{{"Idempotency-Key", "invalid_header"}}})
	}
}
