package api_test

import (
	"fmt"
	"math"
	"net/http"
	"testing"

	"github.com/alliance-project/alliance/api"
)

// TestSummaryEndpointSRS: a client-only SRS study, which has no agreement,
// gets its summary: sums on 0..40, the share below the cut-off 36, the
// reliable change index with the published reliability (or the study's
// alpha), per-counsellor means, and the single_rater_only warning.
func TestSummaryEndpointSRS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.createStudy("srs_client", "")
	// Session-1 sums 30, 34, 36, 38.5, 40; session 2 for three of them.
	s1 := []string{`[7.5,7.5,7.5,7.5]`, `[8.5,8.5,8.5,8.5]`, `[9,9,9,9]`, `[9.5,9.5,9.5,10]`, `[10,10,10,10]`}
	s2 := map[int]string{0: `[9,9,9,9]`, 1: `[8,8.5,8.5,8.5]`, 4: `[10,10,10,10]`}
	for i, a := range s1 {
		d := e.createDyad(st.ID, fmt.Sprintf("C-%d", i), fmt.Sprintf("K-%d", i%2))
		e.postRating(d.ID, 1, "client", a)
		if b, ok := s2[i]; ok {
			e.postRating(d.ID, 2, "client", b)
		}
	}
	checkProblem(t, e.do(http.MethodGet, "/v1/studies/"+st.ID+"/agreement", ""), "agreement of a client-only study",
		problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"id", "single_role_study"}}})

	a := decode[api.SummaryResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+st.ID+"/summary", ""))
	if len(a.Roles) != 1 || a.Scale != "total" || a.Session != "first" {
		t.Fatalf("response = %+v", a)
	}
	r := a.Roles[0]
	if r.Role != "client" || r.Form != "srs_client" || r.Metric != "sum" || r.Min != 0 || r.Max != 40 ||
		r.ClinicalCutoff == nil || r.ClinicalCutoff.Value != 36 || r.ClinicalCutoff.Metric != "sum" || len(r.Sessions) != 2 {
		t.Fatalf("role = %+v", r)
	}
	s := r.Sessions[0]
	if s.Session != 1 || s.N != 5 || s.AtMax != 1 || s.AtMin != 0 {
		t.Errorf("session 1 = %+v", s)
	}
	checkFloat(t, "session 1 mean", s.Mean, (30+34+36+38.5+40)/5.0, 1e-12)
	checkFloat(t, "session 1 median", s.Median, 36, 1e-12)
	checkFloat(t, "session 1 q1", s.Q1, 34, 1e-12)
	// Strictly below 36: 30 and 34.
	checkFloat(t, "share below 36", s.BelowCutoff.Value, 2.0/5, 1e-12)
	if s.BelowCutoff.N != 5 || s.BelowCutoff.Lower == nil || s.BelowCutoff.REquivalent == "" {
		t.Errorf("below cut-off = %+v", s.BelowCutoff)
	}
	// Jacobson–Truax with the published α = .88 and SD of the session-1 sums.
	x := []float64{30, 34, 36, 38.5, 40}
	var m, ss float64
	for _, v := range x {
		m += v / 5
	}
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	sdiff := math.Sqrt(2) * math.Sqrt(ss/4) * math.Sqrt(1-0.88)
	ch := r.Change
	if ch.ReliabilitySource != "published" || ch.Reason != "" || len(ch.Steps) != 1 {
		t.Fatalf("reliable change = %+v", ch)
	}
	checkFloat(t, "reliability", ch.Reliability, 0.88, 0)
	checkFloat(t, "s_diff", ch.SDiff, sdiff, 1e-12)
	checkFloat(t, "threshold", ch.Threshold, 1.96*sdiff, 1e-12)
	// Changes 36 − 30 = 6, 33.5 − 34 = −0.5, 40 − 40 = 0 against a
	// threshold of about 4.9: one reliable increase.
	st1 := ch.Steps[0]
	if st1.From != 1 || st1.To != 2 || st1.Change.N != 3 || st1.ReliableIncrease != 1 || st1.NoReliableChange != 2 || st1.ReliableDecrease != 0 {
		t.Errorf("step 1→2 = %+v (threshold %v)", st1, 1.96*sdiff)
	}
	checkFloat(t, "mean change", st1.Change.Value, 5.5/3, 1e-12)
	if len(r.Counsellors) != 2 || r.Counsellors[0].CounsellorCode != "K-0" || r.Counsellors[0].Mean.N != 3 {
		t.Errorf("counsellors = %+v", r.Counsellors)
	}
	checkFloat(t, "K-0 mean", r.Counsellors[0].Mean.Value, (30+36+40)/3.0, 1e-12)
	codes := map[string]bool{}
	for _, w := range a.Warnings {
		codes[w.Code] = true
	}
	if !codes["single_rater_only"] || !codes["small_n"] || !codes["ceiling"] {
		t.Errorf("warnings = %+v, want single_rater_only, small_n and ceiling (1 of 5 at 40 is 20%%)", a.Warnings)
	}

	study := decode[api.SummaryResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+st.ID+"/summary?reliability=study&session=last", ""))
	if c := study.Roles[0].Change; c.ReliabilitySource != "study_alpha" || c.Reliability == nil {
		t.Errorf("reliability=study: %+v", c)
	}
	if k0 := study.Roles[0].Counsellors[0].Mean; k0.Value == nil || math.Abs(*k0.Value-(36+36+40)/3.0) > 1e-12 {
		t.Errorf("session=last K-0 mean = %+v, want the last sums 36, 36, 40 (dyads 0, 2, 4)", k0)
	}
	// No ratings at all: roles listed, figures null with reasons.
	empty := decode[api.SummaryResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+e.createStudy("srs_client", "").ID+"/summary", ""))
	if len(empty.Roles) != 1 || len(empty.Roles[0].Sessions) != 0 || empty.Roles[0].Change.Reason != "n_too_small" {
		t.Errorf("empty study = %+v", empty)
	}
	for _, tc := range []struct {
		path string
		want problemWant
	}{
		{"/v1/studies/" + st.ID + "/summary?conf=x", problemWant{status: 400, typ: typeMalformed, fields: []fieldCode{{"conf", "invalid_value"}}}},
		{"/v1/studies/" + st.ID + "/summary?reliability=guess&scale=goal", problemWant{status: 422, typ: typeValidation,
			fields: []fieldCode{{"reliability", "invalid_value"}, {"scale", "unknown_scale"}}}},
		{"/v1/studies/st_nope/summary", problemWant{status: 404, typ: typeBlank}},
	} {
		checkProblem(t, e.do(http.MethodGet, tc.path, ""), tc.path, tc.want)
	}
}
