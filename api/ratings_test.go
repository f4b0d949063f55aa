package api_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alliance-project/alliance/api"
)

func TestRatingReferenceDyad(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")

	body := `{"session":1,"session_date":"2026-11-23","role":"client","answers":` + refClient + `}`
	rec := e.expect(http.StatusCreated, http.MethodPost, ratingsPath(d.ID), body)
	c := decode[api.RatingResponse](t, rec)
	if loc := rec.Header().Get("Location"); loc != ratingPath(d.ID, 1, "client") {
		t.Errorf("Location = %q, want %s", loc, ratingPath(d.ID, 1, "client"))
	}
	if !strings.HasPrefix(c.ID, "ra_") || c.DyadID != d.ID || c.StudyID != d.StudyID || c.Session != 1 ||
		c.Role != "client" || c.Instrument != "wai_sr_client" || c.Version != 1 || c.SupersededAt != nil ||
		c.ScoringVersion == "" {
		t.Errorf("client rating = %+v, want version 1 of session 1 with wai_sr_client", c)
	}
	if c.SessionDate == nil || *c.SessionDate != "2026-11-23" {
		t.Errorf("session_date = %v, want 2026-11-23", c.SessionDate)
	}
	checkFloat(t, "missing_policy.max_missing_fraction", c.MissingPolicy.MaxMissingFraction, 0.25, 0)
	if got := answersString(c.Answers); got != refClient {
		t.Errorf("answers = %s, want %s", got, refClient)
	}
	checkScore(t, "client total", c.Scores.Total, 4.5, 54, 12, 12, false)
	checkScore(t, "client goal", c.Scores.Subscales["goal"], 4.25, 17, 4, 4, false)
	checkScore(t, "client task", c.Scores.Subscales["task"], 4.5, 18, 4, 4, false)
	checkScore(t, "client bond", c.Scores.Subscales["bond"], 4.75, 19, 4, 4, false)
	if len(c.Scores.Subscales) != 3 {
		t.Errorf("client subscales = %v, want goal, task, bond", c.Scores.Subscales)
	}

	k := e.postRating(d.ID, 1, "counsellor", refTherapist)
	if k.Instrument != "wai_sr_therapist" || k.Role != "counsellor" || k.SessionDate != nil {
		t.Errorf("counsellor rating = %+v, want wai_sr_therapist without a date", k)
	}
	checkScore(t, "counsellor total", k.Scores.Total, 43.0/12, 43, 12, 12, false)
	checkScore(t, "counsellor goal", k.Scores.Subscales["goal"], 3.25, 13, 4, 4, false)
	checkScore(t, "counsellor task", k.Scores.Subscales["task"], 3.5, 14, 4, 4, false)
	checkScore(t, "counsellor bond", k.Scores.Subscales["bond"], 4, 16, 4, 4, false)

	got := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodGet, ratingPath(d.ID, 1, "client"), ""))
	if !reflect.DeepEqual(got, c) {
		t.Errorf("GET %s = %+v, want the posted rating %+v", ratingPath(d.ID, 1, "client"), got, c)
	}
	list := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(d.ID), ""))
	if len(list.Items) != 2 || list.Items[0].ID != c.ID || list.Items[1].ID != k.ID {
		t.Errorf("GET %s = %d items, want [client %s, counsellor %s]", ratingsPath(d.ID), len(list.Items), c.ID, k.ID)
	}
}

func TestRatingMissingItems(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")

	// Item 1 (task) unanswered: task = mean of 4, 4, 5; total = mean of 11.
	r := e.postRating(d.ID, 1, "client", `[null,4,5,4,5,5,4,4,5,4,4,5]`)
	task := (4.0 + 4 + 5) / 3
	checkScore(t, "one missing: task", r.Scores.Subscales["task"], task, task*4, 3, 4, true)
	checkScore(t, "one missing: bond", r.Scores.Subscales["bond"], 4.75, 19, 4, 4, false)
	checkScore(t, "one missing: total", r.Scores.Total, 49.0/11, 49.0/11*12, 11, 12, true)

	// Items 3 and 5 (bond) unanswered: 2 of 4 is over the 25% policy, so bond
	// is unscored; 2 of 12 is within it, so the total is prorated.
	r = e.postRating(d.ID, 2, "client", `[5,4,null,4,null,5,4,4,5,4,4,5]`)
	checkUnscored(t, "two missing: bond", r.Scores.Subscales["bond"], 2, 4)
	checkScore(t, "two missing: goal", r.Scores.Subscales["goal"], 4.25, 17, 4, 4, false)
	checkScore(t, "two missing: total", r.Scores.Total, 44.0/10, 44.0/10*12, 10, 12, true)
	if got := answersString(r.Answers); got != `[5,4,null,4,null,5,4,4,5,4,4,5]` {
		t.Errorf("answers = %s, want the nulls kept", got)
	}
	raw := rawFields(t, e.expect(http.StatusOK, http.MethodGet, ratingPath(d.ID, 2, "client"), "").Body.Bytes())
	scores := rawFields(t, raw["scores"])
	bond := rawFields(t, rawFields(t, scores["subscales"])["bond"])
	if string(bond["mean"]) != "null" || string(bond["sum"]) != "null" || string(bond["reason"]) != `"too_many_missing"` {
		t.Errorf("stored bond score = mean %s sum %s reason %s, want null, null, \"too_many_missing\"", bond["mean"], bond["sum"], bond["reason"])
	}
}

func TestRatingStrictPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := e.expect(http.StatusCreated, http.MethodPost, "/v1/studies",
		`{"name":"strict","forms":{"client":"wai_sr_client"},"missing_policy":{"max_missing_fraction":0}}`)
	d := e.createDyad(decode[api.StudyResponse](t, rec).ID, "C-001", "K-01")
	r := e.postRating(d.ID, 1, "client", `[null,4,5,4,5,5,4,4,5,4,4,5]`)
	checkFloat(t, "missing_policy.max_missing_fraction", r.MissingPolicy.MaxMissingFraction, 0, 0)
	checkUnscored(t, "total", r.Scores.Total, 11, 12)
	checkUnscored(t, "task", r.Scores.Subscales["task"], 3, 4)
	checkScore(t, "bond", r.Scores.Subscales["bond"], 4.75, 19, 4, 4, false)
}

// TestRatingTotalRequiresSubscales: with the per-study policy on, a total
// is not scored while one of its subscales is unscored, and the rating
// records the policy; the default (off) scores the same answers' total.
func TestRatingTotalRequiresSubscales(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := e.expect(http.StatusCreated, http.MethodPost, "/v1/studies",
		`{"name":"strict total","forms":{"client":"wai_sr_client"},"missing_policy":{"total_requires_subscales":true}}`)
	st := decode[api.StudyResponse](t, rec)
	if p := st.MissingPolicy; p.TotalRequiresSubscales == nil || !*p.TotalRequiresSubscales || p.MaxMissingFraction == nil || *p.MaxMissingFraction != 0.25 {
		t.Fatalf("missing_policy = %+v, want total_requires_subscales true beside the default 0.25", p)
	}
	got := decode[api.StudyResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+st.ID, ""))
	if p := got.MissingPolicy.TotalRequiresSubscales; p == nil || !*p {
		t.Errorf("GET study: total_requires_subscales = %v, want true", p)
	}
	// Items 4 and 6 (both goal) missing: goal unscored, 10 of 12 answered.
	const answers = `[5,4,5,null,5,null,4,4,5,4,4,5]`
	r := e.postRating(e.createDyad(st.ID, "C-001", "K-01").ID, 1, "client", answers)
	if p := r.MissingPolicy.TotalRequiresSubscales; p == nil || !*p {
		t.Errorf("rating missing_policy.total_requires_subscales = %v, want true", p)
	}
	if tot := r.Scores.Total; tot.Mean != nil || tot.Sum != nil || tot.Reason != "subscale_missing" || tot.Answered != 10 || tot.Items != 12 {
		t.Errorf("total = %+v, want null with reason subscale_missing over 10 of 12 answered", tot)
	}
	checkUnscored(t, "goal", r.Scores.Subscales["goal"], 2, 4)

	def := e.newDyad("wai_sr_client", "")
	r = e.postRating(def.ID, 1, "client", answers)
	if p := r.MissingPolicy.TotalRequiresSubscales; p == nil || *p {
		t.Errorf("default study: total_requires_subscales = %v, want false", p)
	}
	checkScore(t, "total (default policy)", r.Scores.Total, 4.5, 54, 10, 12, true)
}

func TestRatingWAISReverseKeying(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_s_client", "wai_s_therapist")

	// Items 4 and 10 (goal) are reverse-keyed on 1..7: a raw 2 scores 6.
	const answers = `[6,6,6,2,6,6,6,6,6,2,6,6]`
	c := e.postRating(d.ID, 1, "client", answers)
	if got := answersString(c.Answers); got != answers {
		t.Errorf("answers = %s, want the raw answers %s", got, answers)
	}
	checkScore(t, "client total", c.Scores.Total, 6, 72, 12, 12, false)
	checkScore(t, "client goal", c.Scores.Subscales["goal"], 6, 24, 4, 4, false)
	checkScore(t, "client task", c.Scores.Subscales["task"], 6, 24, 4, 4, false)

	// The therapist form is keyed the same way: 7 on item 4 scores 1.
	k := e.postRating(d.ID, 1, "counsellor", `[7,7,7,7,7,7,7,7,7,1,7,7]`)
	checkScore(t, "counsellor goal", k.Scores.Subscales["goal"], 5.5, 22, 4, 4, false)
	checkScore(t, "counsellor total", k.Scores.Total, 6.5, 78, 12, 12, false)
}

func TestRatingSRSClientOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("srs_client", "")
	before := e.ratingsSnapshot(d.ID)

	for _, tt := range []struct {
		name string
		body string
		want problemWant
	}{
		{"7.35 is between steps", ratingBody(1, "client", `[7.35,8,9.9,10]`),
			problemWant{422, typeValidation, []fieldCode{{"answers[0]", "not_on_step"}}}},
		{"10.1 is above the scale", ratingBody(1, "client", `[7.3,8,9.9,10.1]`),
			problemWant{422, typeValidation, []fieldCode{{"answers[3]", "out_of_range"}}}},
		{"no counsellor form in the study", ratingBody(1, "counsellor", `[7.3,8,9.9,10]`),
			problemWant{422, typeValidation, []fieldCode{{"role", "role_not_allowed"}}}},
	} {
		rec := e.do(http.MethodPost, ratingsPath(d.ID), tt.body)
		checkProblem(t, rec, "POST "+ratingsPath(d.ID)+" ("+tt.name+")", tt.want)
	}
	if after := e.ratingsSnapshot(d.ID); after != before {
		t.Errorf("GET %s after refused SRS ratings = %s, want %s", ratingsPath(d.ID), after, before)
	}

	r := e.postRating(d.ID, 1, "client", `[7.3,8,9.9,10]`)
	if r.Instrument != "srs_client" || answersString(r.Answers) != `[7.3,8,9.9,10]` {
		t.Errorf("SRS rating = %s %s, want srs_client [7.3,8,9.9,10]", r.Instrument, answersString(r.Answers))
	}
	checkFloat(t, "total.mean", r.Scores.Total.Mean, (7.3+8+9.9+10)/4, 1e-9)
	checkFloat(t, "total.sum", r.Scores.Total.Sum, 35.2, 1e-9)
	if len(r.Scores.Subscales) != 0 {
		t.Errorf("SRS subscales = %v, want none", r.Scores.Subscales)
	}
}

// TestRatingCreateErrors sends one bad request per row to a dyad that
// already has a client rating of session 1, and checks after each that the
// dyad's ratings are exactly what they were.
func TestRatingCreateErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	existing := e.postRating(d.ID, 1, "client", refClient)
	path := ratingsPath(d.ID)
	ok := ratingBody(2, "counsellor", refTherapist) // valid on its own

	v := func(fields ...fieldCode) problemWant { return problemWant{422, typeValidation, fields} }
	m := func(fields ...fieldCode) problemWant { return problemWant{400, typeMalformed, fields} }
	tests := []struct {
		name    string
		path    string // default: the dyad's ratings
		body    string
		headers []string
		want    problemWant
	}{
		{name: "answer above the scale", body: ratingBody(2, "counsellor", `[4,3,4,6,4,3,4,3,4,3,3,4]`),
			want: v(fieldCode{"answers[3]", "out_of_range"})},
		{name: "answer below the scale", body: ratingBody(2, "counsellor", `[0,3,4,4,4,3,4,3,4,3,3,4]`),
			want: v(fieldCode{"answers[0]", "out_of_range"})},
		{name: "answer between steps", body: ratingBody(2, "counsellor", `[4,3,4,4,4,3,4,3,4,3,3,4.5]`),
			want: v(fieldCode{"answers[11]", "not_on_step"})},
		{name: "two bad answers", body: ratingBody(2, "counsellor", `[4,3,4,4,4,3,-1,3,4,3,3,40]`),
			want: v(fieldCode{"answers[6]", "out_of_range"}, fieldCode{"answers[11]", "out_of_range"})},
		{name: "11 answers", body: ratingBody(2, "counsellor", `[4,3,4,4,4,3,4,3,4,3,3]`),
			want: v(fieldCode{"answers", "wrong_count"})},
		{name: "13 answers", body: ratingBody(2, "counsellor", `[4,3,4,4,4,3,4,3,4,3,3,4,4]`),
			want: v(fieldCode{"answers", "wrong_count"})},
		{name: "no answers member", body: `{"session":2,"role":"counsellor"}`,
			want: v(fieldCode{"answers", "required"})},
		{name: "answers null", body: ratingBody(2, "counsellor", `null`),
			want: v(fieldCode{"answers", "required"})},
		{name: "every answer null", body: ratingBody(2, "counsellor", `[null,null,null,null,null,null,null,null,null,null,null,null]`),
			want: v(fieldCode{"answers", "no_answers"})},
		{name: "session 0", body: ratingBody(0, "counsellor", refTherapist),
			want: v(fieldCode{"session", "out_of_range"})},
		{name: "session -1", body: ratingBody(-1, "counsellor", refTherapist),
			want: v(fieldCode{"session", "out_of_range"})},
		{name: "session 10001", body: ratingBody(10001, "counsellor", refTherapist),
			want: v(fieldCode{"session", "out_of_range"})},
		{name: "no session member", body: `{"role":"counsellor","answers":` + refTherapist + `}`,
			want: v(fieldCode{"session", "required"})},
		{name: "role therapist", body: ratingBody(2, "therapist", refTherapist),
			want: v(fieldCode{"role", "invalid_value"})},
		{name: "role capitalised", body: ratingBody(2, "Counsellor", refTherapist),
			want: v(fieldCode{"role", "invalid_value"})},
		{name: "no role member", body: `{"session":2,"answers":` + refTherapist + `}`,
			want: v(fieldCode{"role", "required"})},
		{name: "every wrong field at once", body: `{"session":0,"session_date":"2026-02-30","role":"","answers":[9,4,5,4,5,5,4,4,5,4,4,0]}`,
			want: v(fieldCode{"session", "out_of_range"}, fieldCode{"session_date", "invalid_date"}, fieldCode{"role", "required"})},
		{name: "impossible session date", body: `{"session":2,"session_date":"2026-13-01","role":"counsellor","answers":` + refTherapist + `}`,
			want: v(fieldCode{"session_date", "invalid_date"})},
		{name: "session date not ISO", body: `{"session":2,"session_date":"23/11/2026","role":"counsellor","answers":` + refTherapist + `}`,
			want: v(fieldCode{"session_date", "invalid_date"})},
		{name: "session date in year 1", body: `{"session":2,"session_date":"0001-01-01","role":"counsellor","answers":` + refTherapist + `}`,
			want: v(fieldCode{"session_date", "out_of_range"})},
		{name: "session date years ahead", body: `{"session":2,"session_date":"` + time.Now().AddDate(3, 0, 0).Format(time.DateOnly) + `","role":"counsellor","answers":` + refTherapist + `}`,
			want: v(fieldCode{"session_date", "out_of_range"})},
		{name: "several bad fields", body: `{"session":0,"session_date":"soon","role":"therapist","answers":[]}`,
			want: v(fieldCode{"session", "out_of_range"}, fieldCode{"session_date", "invalid_date"}, fieldCode{"role", "invalid_value"})},

		{name: "answer is a string", body: ratingBody(2, "counsellor", `["5"]`),
			want: m(fieldCode{"answers[0]", "wrong_type"})},
		{name: "fourth answer is a string, named as the docs name it", body: ratingBody(2, "counsellor", `[4,3,4,"5",4,3,4,3,4,3,3,4]`),
			want: m(fieldCode{"answers[3]", "wrong_type"})},
		{name: "answer too large for a number", body: ratingBody(2, "counsellor", `[4,3,4,4,4,3,4,3,4,3,3,1e400]`),
			want: m(fieldCode{"answers[11]", "wrong_type"})},
		{name: "session is a string", body: `{"session":"2","role":"counsellor","answers":` + refTherapist + `}`,
			want: m(fieldCode{"session", "wrong_type"})},
		{name: "session is a fraction", body: `{"session":2.5,"role":"counsellor","answers":` + refTherapist + `}`,
			want: m(fieldCode{"session", "wrong_type"})},
		{name: "answers is an object", body: `{"session":2,"role":"counsellor","answers":{"1":5}}`,
			want: m(fieldCode{"answers", "wrong_type"})},
		{name: "unknown field", body: `{"session":2,"role":"counsellor","answers":` + refTherapist + `,"comment":"x"}`,
			want: m(fieldCode{"comment", "unknown_field"})},
		{name: "malformed JSON", body: `{"session":2,"role":"counsellor","answers":[4,3`,
			want: m(fieldCode{"", "malformed_json"})},
		{name: "empty body", body: ``,
			want: m(fieldCode{"", "empty_body"})},
		{name: "trailing data", body: ok + ok,
			want: m(fieldCode{"", "trailing_data"})},
		{name: "trailing closing bracket", body: ratingBody(3, "counsellor", refTherapist) + `]`,
			want: m(fieldCode{"", "trailing_data"})},
		{name: "wrong content type", body: ok, headers: []string{"Content-Type", "text/plain"},
			want: problemWant{415, typeMediaType, []fieldCode{{"Content-Type", "unsupported_media_type"}}}},
		{name: "over 1 MiB", body: `{"session":2,"role":"counsellor","answers":[` + strings.Repeat("4,", 1<<19) + `4]}`,
			want: problemWant{413, typeTooLarge, nil}},
		{name: "Idempotency-Key with a space", body: ok, headers: []string{"Idempotency-Key", "my key"},
			want: m(fieldCode{"Idempotency-Key", "invalid_header"})},
		{name: "Idempotency-Key of 256 characters", body: ok, headers: []string{"Idempotency-Key", strings.Repeat("k", 256)},
			want: m(fieldCode{"Idempotency-Key", "invalid_header"})},
		{name: "Idempotency-Key not ASCII", body: ok, headers: []string{"Idempotency-Key", "schlüssel"},
			want: m(fieldCode{"Idempotency-Key", "invalid_header"})},

		{name: "unknown dyad", path: ratingsPath("dy_nope"), body: ok,
			want: problemWant{status: 404, typ: typeBlank}},
		{name: "duplicate session and role", body: ratingBody(1, "client", `[1,1,1,1,1,1,1,1,1,1,1,1]`),
			want: problemWant{status: 409, typ: typeConflict}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.with(t)
			p := path
			if tt.path != "" {
				p = tt.path
			}
			before := e.ratingsSnapshot(d.ID)
			rec := e.do(http.MethodPost, p, tt.body, tt.headers...)
			checkProblem(t, rec, "POST "+p+" ("+tt.name+")", tt.want)
			if after := e.ratingsSnapshot(d.ID); after != before {
				t.Errorf("GET %s after a failed POST changed:\n got %s\nwant %s", path, after, before)
			}
		})
	}

	got := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodGet, ratingPath(d.ID, 1, "client"), ""))
	if !reflect.DeepEqual(got, existing) {
		t.Errorf("the first client rating changed after a duplicate POST: got %+v, want %+v", got, existing)
	}
	list := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, path, ""))
	if len(list.Items) != 1 {
		t.Errorf("GET %s has %d ratings after only failed POSTs, want 1", path, len(list.Items))
	}
	// The valid request of the table still succeeds: nothing was half-claimed.
	e.expect(http.StatusCreated, http.MethodPost, path, ok)
}

func TestRatingOtherSessionsAndRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	e.postRating(d.ID, 1, "client", refClient)
	e.postRating(d.ID, 2, "client", refClient)
	e.postRating(d.ID, 1, "counsellor", refTherapist)
	other := e.createDyad(d.StudyID, "C-002", "K-01")
	e.postRating(other.ID, 1, "client", refClient)

	list := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(d.ID), ""))
	var got []string
	for _, r := range list.Items {
		got = append(got, fmt.Sprintf("%s@%d", r.Role, r.Session))
	}
	want := []string{"client@1", "counsellor@1", "client@2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GET %s = %v, want %v (by session, then role)", ratingsPath(d.ID), got, want)
	}
}

func TestRatingGetErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	e.postRating(d.ID, 1, "client", refClient)
	tests := []struct {
		path string
		want problemWant
	}{
		{ratingPath(d.ID, 1, "counsellor"), problemWant{status: 404, typ: typeBlank}},
		{ratingPath(d.ID, 2, "client"), problemWant{status: 404, typ: typeBlank}},
		{ratingPath("dy_nope", 1, "client"), problemWant{status: 404, typ: typeBlank}},
		{ratingPath(d.ID, 1, "therapist"), problemWant{422, typeValidation, []fieldCode{{"role", "invalid_value"}}}},
		{"/v1/dyads/" + d.ID + "/sessions/one/ratings/client", problemWant{400, typeMalformed, []fieldCode{{"session", "invalid_value"}}}},
	}
	for _, tt := range tests {
		checkProblem(t, e.do(http.MethodGet, tt.path, ""), "GET "+tt.path, tt.want)
	}
}

// answersString renders answers as compact JSON for comparisons.
func answersString(a []*float64) string {
	parts := make([]string, len(a))
	for i, v := range a {
		parts[i] = ptrStr(v)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// TestEveryUnknownField: a body with several unknown fields names all of
// them in one answer.
func TestEveryUnknownField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	rec := e.do(http.MethodPost, ratingsPath(d.ID), `{"session":1,"role":"client","answers":`+refClient+`,"sesion":2,"answer":[1]}`)
	checkProblem(t, rec, "two unknown fields", problemWant{status: 400, typ: typeMalformed,
		fields: []fieldCode{{"answer", "unknown_field"}, {"sesion", "unknown_field"}}})
}

// TestRatingConflictCodes: a 409 says which conflict it is, as a frontend
// switches on it: a slot that already has a rating (amend it instead);
// sent through a survey link whose session was rated meanwhile it is the
// link's 410 already_rated, as opening the link says.
func TestRatingConflictCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	e.postRating(d.ID, 1, "client", refClient)
	p := checkProblem(t, e.do(http.MethodPost, ratingsPath(d.ID), ratingBody(1, "client", refClient)), "a second rating of the slot",
		problemWant{status: http.StatusConflict, typ: typeConflict})
	if p.Code != "already_rated" || !strings.Contains(p.Detail, "amend it with PUT") {
		t.Errorf("a second rating of the slot: code %q, detail %q; want already_rated, saying to amend", p.Code, p.Detail)
	}
	inv := decode[api.InvitationResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/dyads/"+d.ID+"/invitations", `{"session":2,"role":"counsellor"}`))
	e.postRating(d.ID, 2, "counsellor", refTherapist)
	p = checkProblem(t, e.do(http.MethodPost, "/v1/survey", `{"answers":`+refTherapist+`}`, "Authorization", "Bearer "+inv.Token),
		"a survey link whose session was rated meanwhile", problemWant{status: http.StatusGone, typ: "urn:alliance:problem:survey-link-gone"})
	if p.Code != "already_rated" {
		t.Errorf("a survey link whose session was rated meanwhile: code %q, want already_rated", p.Code)
	}
}

// TestSurveyLinkOfARatedSlot: a link whose own session and role were
// rated by other means since it was made says so when it is opened (410
// already_rated: nothing was sent through it), not after the rater has
// answered everything; the other side's rating changes nothing a link
// holder sees.
func TestSurveyLinkOfARatedSlot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	inv := decode[api.InvitationResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/dyads/"+d.ID+"/invitations", `{"session":1,"role":"counsellor"}`))
	bearer := []string{"Authorization", "Bearer " + inv.Token}
	before := e.expect(http.StatusOK, http.MethodGet, "/v1/survey", "", bearer...).Body.String()
	e.postRating(d.ID, 1, "client", refClient)
	if after := e.expect(http.StatusOK, http.MethodGet, "/v1/survey", "", bearer...).Body.String(); after != before {
		t.Errorf("the client's rating changed what the counsellor's link shows:\nbefore %s\nafter  %s", before, after)
	}
	e.postRating(d.ID, 1, "counsellor", refTherapist)
	p := checkProblem(t, e.do(http.MethodGet, "/v1/survey", "", bearer...), "the link of a slot rated since",
		problemWant{status: http.StatusGone, typ: "urn:alliance:problem:survey-link-gone"})
	if p.Code != "already_rated" {
		t.Errorf("the link of a slot rated since: code %q, want already_rated (nothing was sent through it)", p.Code)
	}
}
