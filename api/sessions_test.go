package api_test

import (
	"net/http"
	"testing"

	"github.com/alliance-project/alliance/api"
)

func TestSessionView(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	path := "/v1/dyads/" + d.ID + "/sessions/1"

	// Nobody has rated yet: not an error, both sides null.
	rec := e.expect(http.StatusOK, http.MethodGet, path, "")
	m := rawFields(t, rec.Body.Bytes())
	for _, k := range []string{"client", "counsellor", "comparison"} {
		if string(m[k]) != "null" {
			t.Errorf("GET %s before any rating: %s = %s, want null", path, k, m[k])
		}
	}
	s := decode[api.SessionResponse](t, rec)
	if s.DyadID != d.ID || s.Session != 1 || s.Complete {
		t.Errorf("GET %s = dyad %s session %d complete %v, want %s 1 false", path, s.DyadID, s.Session, s.Complete, d.ID)
	}

	c := e.postRating(d.ID, 1, "client", refClient)
	s = decode[api.SessionResponse](t, e.expect(http.StatusOK, http.MethodGet, path, ""))
	if s.Complete || s.Client == nil || s.Client.ID != c.ID || s.Counsellor != nil || s.Comparison != nil {
		t.Errorf("GET %s with only the client = complete %v client %v counsellor %v comparison %v; want false, %s, null, null",
			path, s.Complete, s.Client != nil, s.Counsellor != nil, s.Comparison != nil, c.ID)
	}

	e.postRating(d.ID, 1, "counsellor", refTherapist)
	s = decode[api.SessionResponse](t, e.expect(http.StatusOK, http.MethodGet, path, ""))
	if !s.Complete || s.Client == nil || s.Counsellor == nil || s.Comparison == nil {
		t.Fatalf("GET %s with both = complete %v, comparison %v; want true and a comparison", path, s.Complete, s.Comparison)
	}
	cmp := s.Comparison
	if cmp.Metric != "item_mean" || cmp.Direction != "client_minus_counsellor" {
		t.Errorf("comparison metric/direction = %s/%s, want item_mean/client_minus_counsellor", cmp.Metric, cmp.Direction)
	}
	checkFloat(t, "total.client", cmp.Total.Client, 4.5, 1e-12)
	checkFloat(t, "total.counsellor", cmp.Total.Counsellor, 3.5833333333333335, 1e-12)
	checkFloat(t, "total.difference", cmp.Total.Difference, 4.5-3.5833333333333335, 1e-12)
	for k, want := range map[string]float64{"goal": 4.25 - 3.25, "task": 4.5 - 3.5, "bond": 4.75 - 4} {
		sub, ok := cmp.Subscales[k]
		if !ok {
			t.Errorf("comparison has no %s subscale: %v", k, cmp.Subscales)
			continue
		}
		checkFloat(t, k+".difference", sub.Difference, want, 1e-12)
		if sub.Reason != "" {
			t.Errorf("%s.reason = %q, want none", k, sub.Reason)
		}
	}
	if len(cmp.Subscales) != 3 {
		t.Errorf("comparison subscales = %v, want goal, task, bond", cmp.Subscales)
	}
}

func TestSessionViewMissingSubscale(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	e.postRating(d.ID, 3, "client", `[5,4,null,4,null,5,4,4,5,4,4,5]`) // bond unscored
	e.postRating(d.ID, 3, "counsellor", refTherapist)
	path := "/v1/dyads/" + d.ID + "/sessions/3"

	s := decode[api.SessionResponse](t, e.expect(http.StatusOK, http.MethodGet, path, ""))
	if s.Comparison == nil {
		t.Fatalf("GET %s: comparison = null, want one", path)
	}
	bond := s.Comparison.Subscales["bond"]
	if bond.Difference != nil || bond.Client != nil || bond.Reason != "score_missing" {
		t.Errorf("bond = difference %s client %s reason %q, want null, null, score_missing",
			ptrStr(bond.Difference), ptrStr(bond.Client), bond.Reason)
	}
	checkFloat(t, "bond.counsellor", bond.Counsellor, 4, 1e-12)
	checkFloat(t, "total.difference", s.Comparison.Total.Difference, 4.4-43.0/12, 1e-12)
}

func TestSessionViewErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	base := "/v1/dyads/" + d.ID + "/sessions/"
	tests := []struct {
		path string
		want problemWant
	}{
		{base + "abc", problemWant{400, typeMalformed, []fieldCode{{"session", "invalid_value"}}}},
		{base + "1.5", problemWant{400, typeMalformed, []fieldCode{{"session", "invalid_value"}}}},
		{base + "0", problemWant{422, typeValidation, []fieldCode{{"session", "out_of_range"}}}},
		{base + "-1", problemWant{422, typeValidation, []fieldCode{{"session", "out_of_range"}}}},
		{base + "10001", problemWant{422, typeValidation, []fieldCode{{"session", "out_of_range"}}}},
		{"/v1/dyads/dy_nope/sessions/1", problemWant{status: 404, typ: typeBlank}},
	}
	for _, tt := range tests {
		checkProblem(t, e.do(http.MethodGet, tt.path, ""), "GET "+tt.path, tt.want)
	}
}
