package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/api"
)

// TestCounsellorsEndpoint drives GET /v1/studies/{id}/counsellors through
// the real router: counsellor codes shown and client codes not, intervals
// null below 3 dyads with a reason, the variance split naming its
// estimator, naive beside cluster-robust figures, and few_clusters.
func TestCounsellorsEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	clients := []string{refClient, `[5,5,5,5,5,5,5,5,5,5,5,5]`, `[3,4,3,4,3,4,3,4,3,4,3,4]`, `[4,4,4,4,5,5,5,5,4,4,4,4]`, `[2,3,2,3,2,3,2,3,2,3,2,3]`}
	counsellors := []string{refTherapist, `[4,4,4,3,4,4,4,4,3,4,4,4]`, `[3,3,3,3,3,3,3,3,3,3,4,4]`, `[4,4,4,4,5,5,5,5,4,4,4,5]`, `[2,2,2,2,3,3,2,2,2,2,2,2]`}
	for i := range 7 {
		code := "K-1"
		if i >= 4 {
			code = "K-2" // K-2 has 3 dyads, K-1 four
		}
		d := e.createDyad(st.ID, fmt.Sprintf("CLIENT-%d", i), code)
		e.postRating(d.ID, 1, "client", clients[i%5])
		e.postRating(d.ID, 1, "counsellor", counsellors[(i+1)%5])
	}
	lone := e.createDyad(st.ID, "CLIENT-9", "K-3") // one dyad: no interval
	e.postRating(lone.ID, 1, "client", refClient)
	e.postRating(lone.ID, 1, "counsellor", refTherapist)

	// A level whose intervals are all infinite is refused, on both reports
	// (it once answered 500, and logged a counsellor's code).
	for _, report := range []string{"counsellors", "summary"} {
		checkProblem(t, e.do(http.MethodGet, "/v1/studies/"+st.ID+"/"+report+"?conf=0.9999999999999999", ""), report+" at conf 1 − 1e-16",
			problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"conf", "out_of_range"}}})
	}
	rec := e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+st.ID+"/counsellors", "")
	if strings.Contains(rec.Body.String(), "CLIENT-") {
		t.Errorf("the counsellor report shows client codes: %s", rec.Body)
	}
	a := decode[api.CounsellorsResponse](t, rec)
	if a.Scale != "total" || a.NDyads != 8 || a.NCounsellors != 3 || len(a.Counsellors) != 3 || a.Conf != 0.95 {
		t.Fatalf("response = %+v", a)
	}
	k1, k3 := a.Counsellors[0], a.Counsellors[2]
	if k1.CounsellorCode != "K-1" || k1.NDyads != 4 || k1.Client.Value == nil || k1.Client.Lower == nil || k1.ClientHigher.Value == nil || k1.Client.REquivalent == "" {
		t.Errorf("K-1 = %+v", k1)
	}
	if k3.CounsellorCode != "K-3" || k3.NDyads != 1 || k3.Difference.Value == nil || k3.Difference.Lower != nil || k3.Difference.CIReason != "n_too_small" {
		t.Errorf("K-3 (one dyad) = %+v, want a mean with null bounds and ci_reason n_too_small", k3.Difference)
	}
	if len(a.Variance) != 3 || a.Variance[2].Score != "difference" || a.Variance[0].Estimator == "" || a.Variance[0].Clusters != 3 || a.Variance[0].REquivalent == "" {
		t.Errorf("variance = %+v", a.Variance)
	}
	sl := a.StudyLevel
	if sl.Clusters != 3 || sl.MeanDifference.Naive.Method != "naive_t" || sl.MeanDifference.ClusterRobust.Method != "cluster_robust_cr1" ||
		sl.MeanDifference.ClusterRobust.Lower == nil || sl.MeanDifference.Naive.Lower == nil {
		t.Errorf("mean difference = %+v", sl.MeanDifference)
	}
	if b := sl.PearsonCluster; b.Lower == nil || b.Seed == 0 || b.B != 2000 || b.Clusters != 3 || sl.Pearson.R == nil {
		t.Errorf("pearson = %+v, cluster bootstrap %+v", sl.Pearson, b)
	}
	codes := map[string]bool{}
	for _, w := range a.Warnings {
		codes[w.Code] = true
	}
	if !codes["few_clusters"] || !codes["small_n"] {
		t.Errorf("warnings = %+v, want few_clusters and small_n", a.Warnings)
	}
	// null, not absent, for K-3's bounds
	var raw struct {
		Counsellors []struct {
			Difference map[string]json.RawMessage `json:"difference"`
		} `json:"counsellors"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &raw)
	if string(raw.Counsellors[2].Difference["lower"]) != "null" {
		t.Errorf("K-3 difference = %v, want lower: null", raw.Counsellors[2].Difference)
	}

	goal := decode[api.CounsellorsResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+st.ID+"/counsellors?scale=goal&session=last&conf=0.9", ""))
	if goal.Scale != "goal" || goal.Session != "last" || goal.Conf != 0.9 {
		t.Errorf("query = %+v", goal)
	}
	// A study without ratings: every figure null with its reason, no 5xx.
	empty := decode[api.CounsellorsResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+e.createStudy("wai_sr_client", "wai_sr_therapist").ID+"/counsellors", ""))
	if empty.NDyads != 0 || len(empty.Counsellors) != 0 || empty.Variance[0].Reason != "n_too_small" ||
		empty.StudyLevel.MeanDifference.Naive.Reason != "n_too_small" || empty.StudyLevel.PearsonCluster.Reason != "n_too_small" {
		t.Errorf("empty study = %+v", empty)
	}
	srs := e.createStudy("srs_client", "")
	for _, tc := range []struct {
		path string
		want problemWant
	}{
		{"/v1/studies/" + st.ID + "/counsellors?conf=x", problemWant{status: 400, typ: typeMalformed, fields: []fieldCode{{"conf", "invalid_value"}}}},
		{"/v1/studies/" + st.ID + "/counsellors?conf=1&session=never&scale=alliance", problemWant{status: 422, typ: typeValidation,
			fields: []fieldCode{{"conf", "out_of_range"}, {"session", "invalid_value"}, {"scale", "unknown_scale"}}}},
		{"/v1/studies/" + srs.ID + "/counsellors", problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"id", "single_role_study"}}}},
		{"/v1/studies/st_nope/counsellors", problemWant{status: 404, typ: typeBlank}},
	} {
		checkProblem(t, e.do(http.MethodGet, tc.path, ""), tc.path, tc.want)
	}
}
