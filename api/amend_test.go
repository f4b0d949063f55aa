package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/api"
)

func TestAmendRating(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	v1 := e.postRating(d.ID, 1, "client", refClient)
	path := ratingPath(d.ID, 1, "client")
	const amended = `[5,4,5,4,5,5,4,4,5,4,4,4]`

	v2 := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodPut, path, `{"answers":`+amended+`}`))
	if v2.Version != 2 || v2.ID == v1.ID || v2.Session != 1 || v2.Role != "client" || v2.SupersededAt != nil {
		t.Errorf("PUT %s = id %s version %d session %d role %s superseded %v; want a new id, version 2 of session 1 client, current",
			path, v2.ID, v2.Version, v2.Session, v2.Role, v2.SupersededAt)
	}
	if got := answersString(v2.Answers); got != amended {
		t.Errorf("PUT %s answers = %s, want %s", path, got, amended)
	}
	checkScore(t, "amended total", v2.Scores.Total, 53.0/12, 53, 12, 12, false)
	checkScore(t, "amended task", v2.Scores.Subscales["task"], 4.25, 17, 4, 4, false)

	hist := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, path+"/history", ""))
	if len(hist.Items) != 2 {
		t.Fatalf("GET %s/history = %d versions, want 2", path, len(hist.Items))
	}
	h1, h2 := hist.Items[0], hist.Items[1]
	if h1.Version != 1 || h1.ID != v1.ID || answersString(h1.Answers) != refClient || h1.SupersededAt == nil {
		t.Errorf("history[0] = id %s version %d answers %s superseded_at %v; want v1 %s with the first answers, superseded",
			h1.ID, h1.Version, answersString(h1.Answers), h1.SupersededAt, v1.ID)
	}
	if h1.SupersededAt != nil && h1.SupersededAt.Before(h1.CreatedAt) {
		t.Errorf("history[0].superseded_at %v is before its created_at %v", h1.SupersededAt, h1.CreatedAt)
	}
	if h2.Version != 2 || h2.ID != v2.ID || h2.SupersededAt != nil {
		t.Errorf("history[1] = id %s version %d superseded_at %v; want v2 %s, current (null)", h2.ID, h2.Version, h2.SupersededAt, v2.ID)
	}

	sess := decode[api.SessionResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/sessions/1", ""))
	if sess.Client == nil || sess.Client.Version != 2 || sess.Client.ID != v2.ID {
		t.Errorf("GET session 1 client = %+v, want version 2 (%s)", sess.Client, v2.ID)
	}
	cur := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodGet, path, ""))
	if cur.ID != v2.ID {
		t.Errorf("GET %s = %s, want the amended version %s", path, cur.ID, v2.ID)
	}
	list := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(d.ID), ""))
	if len(list.Items) != 1 || list.Items[0].ID != v2.ID {
		t.Errorf("GET %s = %d items, want only the current version %s", ratingsPath(d.ID), len(list.Items), v2.ID)
	}

	// Sending the current answers again changes nothing.
	same := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodPut, path, `{"answers":`+amended+`}`))
	if same.Version != 2 || same.ID != v2.ID {
		t.Errorf("PUT %s with the current answers = id %s version %d, want v2 %s unchanged", path, same.ID, same.Version, v2.ID)
	}
	if n := len(decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, path+"/history", "")).Items); n != 2 {
		t.Errorf("GET %s/history after a no-op PUT = %d versions, want 2", path, n)
	}

	// Not to a key that cannot read ratings (a survey frontend's): "no
	// change" would confirm what the stored answers are. It gets a new
	// version.
	collect := e.newKey(`{"name":"tablet","scopes":["collect"]}`)
	blind := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodPut, path, `{"answers":`+amended+`}`,
		"Authorization", "Bearer "+collect))
	if blind.Version != 3 || blind.ID == v2.ID {
		t.Errorf("a collect key's PUT with the current answers = id %s version %d, want a new version 3", blind.ID, blind.Version)
	}

	// A date is part of the rating: adding one is a new version.
	v3 := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodPut, path, `{"session_date":"2026-11-23","answers":`+amended+`}`))
	if v3.Version != 4 || v3.SessionDate == nil || *v3.SessionDate != "2026-11-23" {
		t.Errorf("PUT %s with a date = version %d date %v, want version 4 dated 2026-11-23", path, v3.Version, v3.SessionDate)
	}
}

func TestAmendRatingErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	e.postRating(d.ID, 1, "client", refClient)
	client := ratingPath(d.ID, 1, "client")
	history := e.expect(http.StatusOK, http.MethodGet, client+"/history", "").Body.String()
	before := e.ratingsSnapshot(d.ID)
	good := `{"answers":` + refTherapist + `}`

	tests := []struct {
		name, path, body string
		want             problemWant
	}{
		{"role never submitted", ratingPath(d.ID, 1, "counsellor"), good, problemWant{status: 404, typ: typeBlank}},
		{"session never rated", ratingPath(d.ID, 2, "client"), good, problemWant{status: 404, typ: typeBlank}},
		{"unknown dyad", ratingPath("dy_nope", 1, "client"), good, problemWant{status: 404, typ: typeBlank}},
		{"answer out of range", client, `{"answers":[9,4,5,4,5,5,4,4,5,4,4,5]}`,
			problemWant{422, typeValidation, []fieldCode{{"answers[0]", "out_of_range"}}}},
		{"wrong count", client, `{"answers":[5,4]}`,
			problemWant{422, typeValidation, []fieldCode{{"answers", "wrong_count"}}}},
		{"all null", client, `{"answers":[null,null,null,null,null,null,null,null,null,null,null,null]}`,
			problemWant{422, typeValidation, []fieldCode{{"answers", "no_answers"}}}},
		{"no answers", client, `{}`,
			problemWant{422, typeValidation, []fieldCode{{"answers", "required"}}}},
		{"bad date", client, `{"session_date":"2026-02-30","answers":` + refClient + `}`,
			problemWant{422, typeValidation, []fieldCode{{"session_date", "invalid_date"}}}},
		{"role in the path is not a role", ratingPath(d.ID, 1, "therapist"), good,
			problemWant{422, typeValidation, []fieldCode{{"role", "invalid_value"}}}},
		{"session 0 in the path", ratingPath(d.ID, 0, "client"), good,
			problemWant{422, typeValidation, []fieldCode{{"session", "out_of_range"}}}},
		{"session not a number", "/v1/dyads/" + d.ID + "/sessions/abc/ratings/client", good,
			problemWant{400, typeMalformed, []fieldCode{{"session", "invalid_value"}}}},
		{"role in the body", client, `{"role":"client","answers":` + refClient + `}`,
			problemWant{400, typeMalformed, []fieldCode{{"role", "unknown_field"}}}},
		{"answer is a string", client, `{"answers":["5"]}`,
			problemWant{400, typeMalformed, []fieldCode{{"answers[0]", "wrong_type"}}}},
		{"empty body", client, ``,
			problemWant{400, typeMalformed, []fieldCode{{"", "empty_body"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.with(t)
			rec := e.do(http.MethodPut, tt.path, tt.body)
			checkProblem(t, rec, "PUT "+tt.path+" ("+tt.name+")", tt.want)
			if after := e.expect(http.StatusOK, http.MethodGet, client+"/history", "").Body.String(); after != history {
				t.Errorf("GET %s/history changed after a failed PUT:\n got %s\nwant %s", client, after, history)
			}
			if after := e.ratingsSnapshot(d.ID); after != before {
				t.Errorf("GET %s changed after a failed PUT:\n got %s\nwant %s", ratingsPath(d.ID), after, before)
			}
		})
	}
	rec := e.do(http.MethodGet, ratingPath(d.ID, 1, "counsellor")+"/history", "")
	checkProblem(t, rec, "GET counsellor history", problemWant{status: 404, typ: typeBlank})
}

func TestAmendIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	e.postRating(d.ID, 1, "client", refClient)
	path := ratingPath(d.ID, 1, "client")
	body := `{"answers":[1,1,1,1,1,1,1,1,1,1,1,1]}`

	first := e.expect(http.StatusOK, http.MethodPut, path, body, "Idempotency-Key", "amend-1")
	// Someone else amends in between; the retry still gets its own result.
	e.expect(http.StatusOK, http.MethodPut, path, `{"answers":[2,2,2,2,2,2,2,2,2,2,2,2]}`)
	retry := e.expect(http.StatusOK, http.MethodPut, path, body, "Idempotency-Key", "amend-1")
	if retry.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("retried PUT %s: Idempotent-Replayed = %q, want true", path, retry.Header().Get("Idempotent-Replayed"))
	}
	if decode[api.RatingResponse](t, retry).ID != decode[api.RatingResponse](t, first).ID {
		t.Errorf("retried PUT %s = %s, want the first result %s", path, retry.Body, first.Body)
	}
	if n := len(decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, path+"/history", "")).Items); n != 3 {
		t.Errorf("GET %s/history = %d versions, want 3 (the retry adds none)", path, n)
	}

	rec := e.do(http.MethodPut, path, `{"answers":[3,3,3,3,3,3,3,3,3,3,3,3]}`, "Idempotency-Key", "amend-1")
	checkProblem(t, rec, "PUT "+path+" (key amend-1 with another body)", problemWant{status: http.StatusConflict, typ: typeIdempotency})
}

// Concurrent amendments of one rating: each is applied or refused with 409,
// never a 5xx, and the history stays a gapless chain with one current version.
func TestAmendConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	e.postRating(d.ID, 1, "client", refClient)
	path := ratingPath(d.ID, 1, "client")

	const n = 10
	res := race(t, e.h, n, func(base string, i int) *http.Request {
		a := 1 + i%5
		body := fmt.Sprintf(`{"session_date":"2026-11-%02d","answers":[%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d]}`, i+1, a, a, a, a, a, a, a, a, a, a, a, a)
		return newRequest(t, http.MethodPut, base+path, body)
	})
	applied := 0
	for i, r := range res {
		switch {
		case r.err != nil:
			t.Fatalf("request %d: %v", i, r.err)
		case r.status == http.StatusOK:
			applied++
		case r.status != http.StatusConflict:
			t.Errorf("request %d: PUT %s = %d, want 200 or 409; body %s", i, path, r.status, r.body)
		case !strings.Contains(string(r.body), `"code":"amended_concurrently"`):
			t.Errorf("request %d: the 409 does not say amended_concurrently, which a frontend switches on; body %s", i, r.body)
		}
	}
	hist := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, path+"/history", ""))
	if len(hist.Items) != applied+1 {
		t.Errorf("GET %s/history = %d versions, want %d (1 + the %d applied amendments)", path, len(hist.Items), applied+1, applied)
	}
	for i, r := range hist.Items {
		last := i == len(hist.Items)-1
		if r.Version != i+1 || (r.SupersededAt == nil) != last {
			t.Errorf("history[%d] = version %d superseded_at %v; want version %d, current only if last", i, r.Version, r.SupersededAt, i+1)
		}
	}
}
