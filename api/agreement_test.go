package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/alliance-project/alliance/api"
)

func TestSessionAgreementEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	path := "/v1/dyads/" + d.ID + "/sessions/1/agreement"

	checkProblem(t, e.do(http.MethodGet, path, ""), "no ratings", problemWant{status: 404, typ: typeBlank})
	e.postRating(d.ID, 1, "client", refClient)
	checkProblem(t, e.do(http.MethodGet, path, ""), "client only",
		problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"session", "counsellor_rating_missing"}}})
	e.postRating(d.ID, 1, "counsellor", refTherapist)

	rec := e.expect(http.StatusOK, http.MethodGet, path, "")
	a := decode[api.SessionAgreementResponse](t, rec)
	if a.Session != 1 || a.Metric != "item_mean" || a.Direction != "client_minus_counsellor" || len(a.Scales) != 4 || a.Scales[0].Scale != "total" {
		t.Fatalf("response = %+v", a)
	}
	checkFloat(t, "total.difference", a.Scales[0].Difference, 11.0/12, 1e-12)
	pr := a.ItemLevel.Profile
	if pr.N != 12 || a.ItemLevel.KBoth != 12 || len(a.ItemLevel.Items) != 12 || pr.REquivalent == "" {
		t.Errorf("profile n %d k_both %d items %d", pr.N, a.ItemLevel.KBoth, len(a.ItemLevel.Items))
	}
	checkFloat(t, "d2", pr.D2, 13, 1e-12)
	checkFloat(t, "elevation", pr.Elevation, 10.08333, 1e-5)
	checkFloat(t, "scatter", pr.Scatter, 0.00059, 1e-5)
	checkFloat(t, "shape", pr.Shape, 2.91608, 1e-5)
	checkFloat(t, "profile_r", pr.ProfileR, 0.50709, 1e-5)
	checkFloat(t, "rwg_j", pr.RwgJ, 0.96998, 1e-5)
	icc := a.ItemLevel.WithinDyadICC
	if icc.N != 12 || icc.K != 2 || len(icc.Forms) != 6 || icc.Forms[0].Type != "ICC1" || icc.Forms[0].McGrawWong != "ICC(1)" || icc.Forms[0].N != 12 {
		t.Errorf("within-dyad icc = %+v", icc)
	}
	checkFloat(t, "ICC1", icc.Forms[0].Value, -0.14400, 1e-5)

	for _, tc := range []struct {
		path string
		want problemWant
	}{
		{"/v1/dyads/" + d.ID + "/sessions/x/agreement", problemWant{status: 400, typ: typeMalformed, fields: []fieldCode{{"session", "invalid_value"}}}},
		{"/v1/dyads/" + d.ID + "/sessions/0/agreement", problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"session", "out_of_range"}}}},
		{"/v1/dyads/dy_nope/sessions/1/agreement", problemWant{status: 404, typ: typeBlank}},
	} {
		checkProblem(t, e.do(http.MethodGet, tc.path, ""), tc.path, tc.want)
	}
}

func TestDyadAgreementEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	e.postRating(d.ID, 1, "client", refClient)
	e.postRating(d.ID, 1, "counsellor", refTherapist)
	e.postRating(d.ID, 2, "client", refClient)
	rec := e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/agreement", "")
	a := decode[api.DyadAgreementResponse](t, rec)
	if a.NSessions != 2 || a.NComplete != 1 || a.NIncomplete != 1 || len(a.Slopes) != 4 {
		t.Fatalf("response = %+v", a)
	}
	if s := a.Sessions[1]; s.Complete || s.Missing == nil || *s.Missing != "counsellor" || s.Scales[0].Difference != nil || s.Scales[0].Reason != "counsellor_rating_missing" {
		t.Errorf("session 2 = %+v", s)
	}
	if s := a.Slopes[0]; s.N != 1 || s.Slope != nil || s.Reason != "n_too_small" {
		t.Errorf("slope = %+v, want n 1, null, n_too_small", s)
	}
	// null, not absent, with the reason beside it
	var raw struct {
		Slopes []map[string]json.RawMessage `json:"difference_slopes"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &raw)
	if string(raw.Slopes[0]["slope"]) != "null" || string(raw.Slopes[0]["n"]) != "1" {
		t.Errorf("slope JSON = %v", raw.Slopes[0])
	}
	checkProblem(t, e.do(http.MethodGet, "/v1/dyads/dy_nope/agreement", ""), "unknown dyad", problemWant{status: 404, typ: typeBlank})
}

func TestStudyAgreementEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	answers := [][2]string{
		{refClient, refTherapist},
		{`[5,5,5,5,5,5,5,5,5,5,5,5]`, `[4,4,4,3,4,4,4,4,3,4,4,4]`},
		{`[3,4,3,4,3,4,3,4,3,4,3,4]`, `[3,3,3,3,3,3,3,3,3,3,4,4]`},
		{`[2,3,2,3,2,3,2,3,2,3,null,3]`, `[2,2,2,2,3,3,2,2,2,2,2,2]`},
		{`[4,4,4,4,5,5,5,5,4,4,4,4]`, `[4,4,4,4,5,5,5,5,4,4,4,5]`},
	}
	for i, a := range answers {
		d := e.createDyad(st.ID, "C-"+string(rune('a'+i)), "K-1")
		e.postRating(d.ID, 1, "client", a[0])
		e.postRating(d.ID, 1, "counsellor", a[1])
	}
	d := e.createDyad(st.ID, "C-z", "K-2")
	e.postRating(d.ID, 1, "client", refClient)

	base := "/v1/studies/" + st.ID + "/agreement"
	rec := e.expect(http.StatusOK, http.MethodGet, base, "")
	a := decode[api.StudyAgreementResponse](t, rec)
	if a.Session != "first" || a.NDyads != 6 || a.NComplete != 5 || a.NIncomplete != 1 || len(a.Scales) != 4 || a.Band != 0.5 || a.Multiplier != 1.96 || a.Conf != 0.95 {
		t.Fatalf("response = %+v", a)
	}
	s := a.Scales[0]
	if s.Scale != "total" || s.N != 5 || s.NIncomplete != 1 || s.Client.N != 5 || s.Pearson.N != 5 || s.ICC.N != 5 || s.CCC.N != 5 || s.BlandAltman.N != 5 || s.Direction.N != 5 {
		t.Errorf("n everywhere: %+v", s)
	}
	if len(s.ICC.Forms) != 6 || s.ICC.REquivalent == "" || s.CCC.REquivalent == "" {
		t.Fatalf("icc = %+v", s.ICC)
	}
	wantTypes := []string{"ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"}
	wantMW := []string{"ICC(1)", "ICC(A,1)", "ICC(C,1)", "ICC(k)", "ICC(A,k)", "ICC(C,k)"}
	for i, f := range s.ICC.Forms {
		if f.Type != wantTypes[i] || f.McGrawWong != wantMW[i] || f.ShroutFleiss == "" || f.Value == nil || f.N != 5 {
			t.Errorf("icc form %d = %+v", i, f)
		}
	}
	if s.Direction.ClientHigher+s.Direction.CounsellorHigher+s.Direction.WithinBand != 5 {
		t.Errorf("direction = %+v", s.Direction)
	}
	// Pairwise by default: all 6 client ratings count; listwise drops the
	// one with a skipped item.
	if len(a.Alpha) != 2 || a.Alpha[0].Role != "client" || a.Alpha[0].Method != "pairwise" || a.Alpha[0].NRatings != 6 || a.Alpha[0].N != 6 || a.Alpha[0].K != 12 {
		t.Errorf("alpha = %+v", a.Alpha)
	}
	if len(a.ItemKappa.Categories) != 5 || len(a.ItemKappa.Items) != 12 || a.ItemKappa.Items[10].N != 4 {
		t.Errorf("kappa = %+v", a.ItemKappa)
	}

	rec = e.expect(http.StatusOK, http.MethodGet, base+"?session=last&scale=goal,total&band=0&multiplier=2&conf=0.9", "")
	a = decode[api.StudyAgreementResponse](t, rec)
	if a.Session != "last" || len(a.Scales) != 2 || a.Scales[0].Scale != "goal" || a.Band != 0 || a.Scales[1].BlandAltman.Multiplier != 2 || a.Scales[1].Pearson.Conf != 0.9 {
		t.Errorf("query = %+v", a)
	}
	// n = 0: every figure null with a reason, never NaN.
	rec = e.expect(http.StatusOK, http.MethodGet, base+"?session=7&scale=total", "")
	m := rawFields(t, rec.Body.Bytes())
	var scales []map[string]json.RawMessage
	_ = json.Unmarshal(m["scales"], &scales)
	var pe map[string]json.RawMessage
	_ = json.Unmarshal(scales[0]["pearson"], &pe)
	if string(pe["r"]) != "null" || string(pe["reason"]) != `"n_too_small"` || string(pe["n"]) != "0" {
		t.Errorf("empty pearson = %s", scales[0]["pearson"])
	}

	for _, tc := range []struct {
		query string
		want  problemWant
	}{
		{"?band=wide", problemWant{status: 400, typ: typeMalformed, fields: []fieldCode{{"band", "invalid_value"}}}},
		{"?conf=high", problemWant{status: 400, typ: typeMalformed, fields: []fieldCode{{"conf", "invalid_value"}}}},
		{"?multiplier=", problemWant{status: 400, typ: typeMalformed, fields: []fieldCode{{"multiplier", "invalid_value"}}}},
		{"?session=middle", problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"session", "invalid_value"}}}},
		{"?scale=alliance", problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"scale", "unknown_scale"}}}},
		{"?band=-1&conf=1.5&multiplier=0", problemWant{status: 422, typ: typeValidation,
			fields: []fieldCode{{"band", "out_of_range"}, {"conf", "out_of_range"}, {"multiplier", "out_of_range"}}}},
	} {
		checkProblem(t, e.do(http.MethodGet, base+tc.query, ""), tc.query, tc.want)
	}
	checkProblem(t, e.do(http.MethodGet, "/v1/studies/st_nope/agreement", ""), "unknown study", problemWant{status: 404, typ: typeBlank})
}
