package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/api"
)

// TestAlertsForADashboard: a counsellor's survey answers that diverge from
// the client's raise an alert that the survey receipt does not show (the
// raters stay blind to each other); a dashboard's alerts key lists it with
// its codes and figures, acknowledges it (audited), and reads nothing
// else.
func TestAlertsForADashboard(t *testing.T) {
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	d := e.createDyad(st.ID, "C-DASH", "K-DASH")
	e.postRating(d.ID, 1, "client", `[5,5,5,5,5,5,5,5,5,5,5,5]`)
	inv := decode[api.InvitationResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/dyads/"+d.ID+"/invitations", `{"session":1,"role":"counsellor"}`))
	receipt := e.expect(http.StatusCreated, http.MethodPost, "/v1/survey", `{"answers":[5,5,5,5,5,5,5,5,5,5,5,4]}`, "Authorization", "Bearer "+inv.Token)
	for _, leak := range []string{"alert", "divergence", "client", "figures"} {
		if strings.Contains(strings.ToLower(receipt.Body.String()), leak) {
			t.Errorf("the survey receipt says %q: %s", leak, receipt.Body)
		}
	}
	// Client 5.0, counsellor 4.92: no divergence. A second session with the
	// counsellor much higher is the worrying direction.
	e.postRating(d.ID, 2, "client", `[2,2,2,2,2,2,2,2,2,2,2,2]`)
	e.postRating(d.ID, 2, "counsellor", `[5,5,5,5,5,5,5,5,5,5,5,5]`)

	dash := e.newKey(`{"name":"clinic dashboard","scopes":["alerts"]}`)
	auth := "Bearer " + dash
	l := decode[api.AlertList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+st.ID+"/alerts?state=open&kind=divergence", "", "Authorization", auth))
	if len(l.Items) != 1 {
		t.Fatalf("open alerts = %d, want the one divergence", len(l.Items))
	}
	a := l.Items[0]
	if a.Kind != "divergence" || a.Direction != "counsellor_higher" || !a.ClinicallyWorrying || a.ClientCode != "C-DASH" ||
		a.Session != 2 || a.Figures.Difference == nil || *a.Figures.Difference != -3 || a.Rule == "" {
		t.Errorf("alert = %+v", a)
	}
	for _, path := range []string{ratingsPath(d.ID), "/v1/dyads/" + d.ID + "/sessions/2", "/v1/studies/" + st.ID + "/export", "/v1/studies/" + st.ID + "/webhooks"} {
		e.expect(http.StatusForbidden, http.MethodGet, path, "", "Authorization", auth)
	}
	ack := decode[api.AlertResponse](t, e.expect(http.StatusOK, http.MethodPost, "/v1/alerts/"+a.ID+"/acknowledge", "", "Authorization", auth))
	if ack.State != "acknowledged" || !strings.HasPrefix(ack.AcknowledgedBy, "key:") {
		t.Errorf("acknowledged = %+v", ack)
	}
	audit := decode[api.AuditList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/audit?action=alert.acknowledge", ""))
	if len(audit.Items) != 1 || audit.Items[0].ResourceID != a.ID || audit.Items[0].Actor != ack.AcknowledgedBy {
		t.Errorf("audit of the acknowledgement = %+v", audit.Items)
	}
	if l := decode[api.AlertList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/alerts?state=open&kind=divergence", "", "Authorization", auth)); len(l.Items) != 0 {
		t.Errorf("open alerts after the acknowledgement = %d, want 0", len(l.Items))
	}
}

// TestAlertThresholdsAudited: thresholds set at creation are the
// study's; changing them is audited with the values before and after, and
// applies to the ratings that follow.
func TestAlertThresholdsAudited(t *testing.T) {
	e := newEnv(t)
	st := decode[api.StudyResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/studies",
		`{"name":"T","forms":{"client":"wai_sr_client","counsellor":"wai_sr_therapist"},"alert_thresholds":{"divergence_band":3.5}}`))
	if b := st.AlertThresholds; *b.DivergenceBand != 3.5 || *b.RuptureZ != 1.96 || b.LowAllianceCutoff != nil {
		t.Fatalf("thresholds at creation = %+v", b)
	}
	d := e.createDyad(st.ID, "C-T", "K-T")
	e.postRating(d.ID, 1, "client", `[5,5,5,5,5,5,5,5,5,5,5,5]`)
	e.postRating(d.ID, 1, "counsellor", `[2,2,2,2,2,2,2,2,2,2,2,2]`) // 3.0 < 3.5
	e.expect(http.StatusOK, http.MethodPut, "/v1/studies/"+st.ID+"/alert-thresholds", `{"divergence_band":2.5}`)
	e.expect(http.StatusOK, http.MethodPut, "/v1/studies/"+st.ID+"/alert-thresholds", `{"divergence_band":2.5}`) // no change: no entry
	e.postRating(d.ID, 2, "client", `[5,5,5,5,5,5,5,5,5,5,5,5]`)
	e.postRating(d.ID, 2, "counsellor", `[2,2,2,2,2,2,2,2,2,2,2,2]`) // 3.0 ≥ 2.5
	l := decode[api.AlertList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/alerts?kind=divergence", ""))
	if len(l.Items) != 1 || l.Items[0].Session != 2 || *l.Items[0].Figures.Band != 2.5 {
		t.Errorf("divergences = %+v, want session 2's under the new band only", l.Items)
	}
	// A cutoff above any WAI-SR total (12 × 5 = 60) would raise an alert on
	// every rating: refused, at the study's creation as later.
	for _, tc := range []struct{ method, path, body, field string }{
		{http.MethodPut, "/v1/studies/" + st.ID + "/alert-thresholds", `{"low_alliance_cutoff":60.5}`, "low_alliance_cutoff"},
		{http.MethodPost, "/v1/studies", `{"name":"T2","forms":{"client":"wai_sr_client"},"alert_thresholds":{"low_alliance_cutoff":1e300}}`, "alert_thresholds.low_alliance_cutoff"},
	} {
		checkProblem(t, e.do(tc.method, tc.path, tc.body), tc.field, problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{tc.field, "out_of_range"}}})
	}
	audit := decode[api.AuditList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/audit?action=study.alert_thresholds", ""))
	if len(audit.Items) != 1 || !strings.Contains(*audit.Items[0].Before, `"divergence_band":3.5`) || !strings.Contains(*audit.Items[0].After, `"divergence_band":2.5`) {
		t.Errorf("audit = %+v, want the band before and after", audit.Items)
	}
}

// TestLowAllianceSRS: an SRS total below 36 is low alliance, by the
// form's own cutoff; a total of 36 is not, though its answers do not add
// up to 36 in floating point.
func TestLowAllianceSRS(t *testing.T) {
	e := newEnv(t)
	d := e.newDyad("srs_client", "")
	e.postRating(d.ID, 1, "client", `[9,9,9,8.9]`)
	e.postRating(d.ID, 2, "client", `[9,9,9,9]`)
	l := decode[api.AlertList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/alerts", ""))
	if len(l.Items) != 1 {
		t.Fatalf("alerts = %+v, want one low alliance", l.Items)
	}
	a := l.Items[0]
	// 9.1 + 9.7 + 9.4 + 7.8 is 36: not below the cutoff, and stored as 36.
	e.postRating(d.ID, 3, "client", `[9.1,9.7,9.4,7.8]`)
	if l := decode[api.AlertList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/alerts", "")); len(l.Items) != 1 {
		t.Errorf("a total of 9.1 + 9.7 + 9.4 + 7.8 raised an alert: %+v", l.Items)
	}
	if r := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodGet, ratingPath(d.ID, 3, "client"), "")); *r.Scores.Total.Sum != 36 {
		t.Errorf("9.1 + 9.7 + 9.4 + 7.8 is stored as %v, want 36", *r.Scores.Total.Sum)
	}
	if a.Kind != "low_alliance" || a.Session != 1 || *a.Figures.Sum != 35.9 || *a.Figures.Cutoff != 36 || a.Figures.CutoffSource != "form" || a.Figures.Metric != "sum" {
		t.Errorf("alert = %+v", a)
	}
}

// TestRuptureAtTheReliabilityThreshold: on a form without a published
// reliability, ruptures wait for the study's own, from 30 complete
// first-session ratings; the write after the 30th sees it at once, though
// the writes before found none (an answer that was cached for 10 minutes).
func TestRuptureAtTheReliabilityThreshold(t *testing.T) {
	e := newEnv(t)
	e.defineFamily(twinDefinition)
	st := e.createStudy("tts_client", "tts_counsellor")
	for i := range 29 {
		d := e.createDyad(st.ID, fmt.Sprintf("C-R%02d", i), "K-R")
		base := 1 + i%5
		a := []int{base, base, base, base, base, base}
		a[i%6]++
		e.postRating(d.ID, 1, "client", strings.ReplaceAll(fmt.Sprint(a), " ", ","))
	}
	d := e.createDyad(st.ID, "C-R99", "K-R")
	e.postRating(d.ID, 1, "client", `[7,7,7,7,7,6]`) // the 30th
	e.postRating(d.ID, 2, "client", `[1,1,1,1,2,1]`)
	l := decode[api.AlertList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/alerts?kind=rupture", ""))
	if len(l.Items) != 1 {
		t.Fatalf("ruptures = %+v, want the drop from session 1 to 2", l.Items)
	}
	if rel := l.Items[0].Figures.Reliability; rel == nil || rel.Source != "study" || rel.N != 30 {
		t.Errorf("the rupture's reliability = %+v, want the study's own from 30 ratings", rel)
	}
}

// TestLowAllianceCutoffBelowZero: on a scale that runs below 0 (−3 to
// +3), a study's cutoff may be below 0 too, as a form's own may, and
// must lie within the totals its forms can give (was: at least 0).
func TestLowAllianceCutoffBelowZero(t *testing.T) {
	e := newEnv(t)
	e.defineFamily(`{"id": "bip", "version": "1", "name": "Bipolar test family", "citation": "synthetic, for tests",
	  "licence_note": "no licence needed: synthetic", "items": 5,
	  "scale": {"min": -3, "max": 3, "step": 1, "anchors": [{"value": -3, "labels": {"en": "Not at all"}}, {"value": 3, "labels": {"en": "Completely"}}]},
	  "forms": [{"id": "bip_client", "role": "client"}, {"id": "bip_counsellor", "role": "counsellor"}]}`)
	st := e.createStudy("bip_client", "bip_counsellor")
	path := "/v1/studies/" + st.ID + "/alert-thresholds"
	for _, bad := range []string{"-15.5", "15.5"} {
		checkProblem(t, e.do(http.MethodPut, path, `{"low_alliance_cutoff":`+bad+`}`), "cutoff "+bad,
			problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"low_alliance_cutoff", "out_of_range"}}})
	}
	e.expect(http.StatusOK, http.MethodPut, path, `{"low_alliance_cutoff":-5}`)
	d := e.createDyad(st.ID, "C-BIP", "K-BIP")
	e.postRating(d.ID, 1, "client", `[-2,-2,-2,-2,-2]`)
	e.postRating(d.ID, 2, "client", `[-1,-1,-1,-1,-1]`)
	l := decode[api.AlertList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/alerts?kind=low_alliance", ""))
	if len(l.Items) != 1 || l.Items[0].Session != 1 || *l.Items[0].Figures.Sum != -10 || *l.Items[0].Figures.Cutoff != -5 || l.Items[0].Figures.CutoffSource != "study" {
		t.Errorf("low alliance alerts = %+v, want session 1's total of −10 below the study's −5", l.Items)
	}
}
