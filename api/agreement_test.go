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
		{"?multiplier=", problemWant{status: 400, typ: typeMalformed, fields: []fieldCode{{"multiplier", "empty_value"}}}},
		{"?session=middle", problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"session", "invalid_value"}}}},
		{"?scale=alliance", problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"scale", "unknown_scale"}}}},
		{"?band=-1&conf=1.5&multiplier=0", problemWant{status: 422, typ: typeValidation,
			fields: []fieldCode{{"band", "out_of_range"}, {"conf", "out_of_range"}, {"multiplier", "out_of_range"}}}},
		// So close to 1 that every interval is infinite; so large that the
		// limits overflow.
		{"?conf=0.9999999999999999&multiplier=1e308", problemWant{status: 422, typ: typeValidation,
			fields: []fieldCode{{"conf", "out_of_range"}, {"multiplier", "out_of_range"}}}},
	} {
		checkProblem(t, e.do(http.MethodGet, base+tc.query, ""), tc.query, tc.want)
	}
	checkProblem(t, e.do(http.MethodGet, "/v1/studies/st_nope/agreement", ""), "unknown study", problemWant{status: 404, typ: typeBlank})
}

// TestAgreementWaveTwoFields: the fields the second statistics wave added
// to the three agreement responses, through the real router.
func TestAgreementWaveTwoFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	d := e.createDyad(st.ID, "C-1", "K-1")
	dated := func(session int, role, answers, date string) {
		e.expect(http.StatusCreated, http.MethodPost, ratingsPath(d.ID),
			`{"session":`+string(rune('0'+session))+`,"role":"`+role+`","session_date":"`+date+`","answers":`+answers+`}`)
	}
	dated(1, "client", refClient, "2026-01-05")
	dated(1, "counsellor", refTherapist, "2026-01-06")
	dated(2, "client", `[5,5,5,5,5,5,5,5,5,5,5,5]`, "2026-01-12")
	dated(2, "counsellor", `[4,4,4,4,4,4,4,4,4,4,4,4]`, "2026-01-12")

	// Session: the common-items mean difference under its new name (and
	// the old), and a straight-lining client flagged.
	s1 := decode[api.SessionAgreementResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/sessions/1/agreement", ""))
	checkFloat(t, "common_items_mean_difference", s1.ItemLevel.Profile.CommonItemsMeanDifference, 11.0/12, 1e-12)
	checkFloat(t, "mean_difference (deprecated)", s1.ItemLevel.Profile.MeanDifference, 11.0/12, 1e-12)
	if s1.Warnings == nil || len(s1.Warnings) != 0 {
		t.Errorf("reference session warnings = %v, want []", s1.Warnings)
	}
	s2 := decode[api.SessionAgreementResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/sessions/2/agreement", ""))
	if len(s2.Warnings) != 2 || s2.Warnings[0].Code != "low_variance" || s2.Warnings[0].Scale != nil {
		t.Errorf("straight-lined session warnings = %+v, want low_variance for both sides, scale null", s2.Warnings)
	}

	// Dyad: dates per side, slope with conf and its missing interval,
	// sign change reason, small_n.
	da := decode[api.DyadAgreementResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/agreement?conf=0.9", ""))
	if s := da.Sessions[0]; s.ClientSessionDate == nil || *s.ClientSessionDate != "2026-01-05" || s.CounsellorSessionDate == nil || *s.CounsellorSessionDate != "2026-01-06" {
		t.Errorf("session 1 dates = %v/%v", s.ClientSessionDate, s.CounsellorSessionDate)
	}
	sl := da.Slopes[0]
	if da.Conf != 0.9 || sl.Conf != 0.9 || sl.N != 2 || sl.Slope == nil || sl.Lower != nil || sl.CIReason != "n_too_small" ||
		sl.FirstSignChange != nil || sl.SignChangeReason != "no_sign_change" || len(da.Warnings) != 4 || da.Warnings[0].Code != "small_n" {
		t.Errorf("slope = %+v, warnings %+v", sl, da.Warnings)
	}
	checkProblem(t, e.do(http.MethodGet, "/v1/dyads/"+d.ID+"/agreement?conf=2", ""), "conf 2",
		problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"conf", "out_of_range"}}})

	// Study: two more dyads of a second counsellor.
	for i, a := range [][2]string{{`[3,4,3,4,3,4,3,4,3,4,3,4]`, `[3,3,3,3,3,3,3,3,3,3,4,4]`}, {`[2,3,2,3,2,3,2,3,2,3,null,3]`, `[2,2,2,2,3,3,2,2,2,2,2,2]`}} {
		dy := e.createDyad(st.ID, "C-x"+string(rune('a'+i)), "K-2")
		e.postRating(dy.ID, 1, "client", a[0])
		e.postRating(dy.ID, 1, "counsellor", a[1])
	}
	base := "/v1/studies/" + st.ID + "/agreement?session=1"
	sa := decode[api.StudyAgreementResponse](t, e.expect(http.StatusOK, http.MethodGet, base, ""))
	if sa.AlphaMethod != "pairwise" || sa.NCounsellors != 2 || len(sa.ItemKrippendorff) != 12 || sa.ItemKappa.Method != "fleiss_cohen_everitt_1969" {
		t.Errorf("study = alpha %s, counsellors %d, %d item Krippendorffs, kappa method %s", sa.AlphaMethod, sa.NCounsellors, len(sa.ItemKrippendorff), sa.ItemKappa.Method)
	}
	tot := sa.Scales[0]
	md := tot.MeanDifference
	if md.N != 3 || md.Clusters != 2 || md.Naive.Lower == nil || md.ClusterRobust.Mean == nil || md.ClusterRobust.Lower != nil || md.ClusterRobust.CIReason != "n_too_small" {
		t.Errorf("mean difference = %+v, want a naive interval and a cluster-robust mean without one (2 clusters)", md)
	}
	if k := tot.Krippendorff; k.Interval.Alpha == nil || k.Interval.Units != 3 || k.Ordinal.Metric != "ordinal" || k.REquivalent == "" {
		t.Errorf("scale krippendorff = %+v", k)
	}
	if tot.Pearson.Lower != nil || tot.Pearson.CIReason != "n_too_small" {
		t.Errorf("pearson from 3 pairs = %+v, want null bounds with ci_reason", tot.Pearson)
	}
	if k := sa.ItemKappa.Items[0]; k.Unweighted == nil || k.Unweighted.SE <= 0 || k.Unweighted.NullVariance <= 0 {
		t.Errorf("item 1 kappa = %+v", k.Unweighted)
	}
	codes := map[string]int{}
	for _, w := range sa.Warnings {
		codes[w.Code]++
	}
	if codes["small_n"] == 0 || codes["few_clusters"] != 1 {
		t.Errorf("warnings = %+v, want small_n and one few_clusters", sa.Warnings)
	}
	lw := decode[api.StudyAgreementResponse](t, e.expect(http.StatusOK, http.MethodGet, base+"&alpha=listwise", ""))
	if a := lw.Alpha[0]; lw.AlphaMethod != "listwise" || a.Method != "listwise" || a.N != 2 || a.K != 12 || a.RawAlpha != nil || a.Reason != "n_too_small" {
		t.Errorf("listwise client alpha = %+v, want null with n 2 (complete ratings), k 12", a)
	}
	checkProblem(t, e.do(http.MethodGet, base+"&alpha=both", ""), "alpha=both",
		problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"alpha", "invalid_value"}}})
}
