package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/alliance"
)

// conflictCode asserts a 409 problem with the given code.
func conflictCode(t *testing.T, e *env, method, path, body, code string) {
	t.Helper()
	p := checkProblem(t, e.do(method, path, body), method+" "+path, problemWant{status: 409, typ: typeConflict})
	if p.Code != code {
		t.Errorf("%s %s: problem code %q, want %q", method, path, p.Code, code)
	}
}

func TestWithdrawal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	e.postRating(d.ID, 1, "client", refClient)
	pending := decode[api.InvitationResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/dyads/"+d.ID+"/invitations",
		`{"session":1,"role":"counsellor"}`))

	got := decode[api.DyadResponse](t, e.expect(http.StatusOK, http.MethodPost, "/v1/dyads/"+d.ID+"/withdraw",
		`{"scope":"client","reason_code":"consent_withdrawn"}`))
	if got.Withdrawal == nil || got.Withdrawal.Scope != "client" || got.Withdrawal.ReasonCode != "consent_withdrawn" {
		t.Fatalf("withdrawn dyad = %+v, want its withdrawal", got)
	}
	// Again: nothing changes, the first withdrawal stands.
	again := decode[api.DyadResponse](t, e.expect(http.StatusOK, http.MethodPost, "/v1/dyads/"+d.ID+"/withdraw",
		`{"scope":"client","reason_code":"other"}`))
	if again.Withdrawal == nil || !again.Withdrawal.At.Equal(got.Withdrawal.At) || again.Withdrawal.Scope != "client" ||
		again.Withdrawal.ReasonCode != "consent_withdrawn" {
		t.Errorf("withdrawing again changed the withdrawal: %+v, want %+v", again.Withdrawal, got.Withdrawal)
	}
	// The counsellor withdraws too: the scope widens to both, from when
	// collection stopped; once both, nothing widens it further.
	for _, scope := range []string{"counsellor", "client", "both"} {
		wider := decode[api.DyadResponse](t, e.expect(http.StatusOK, http.MethodPost, "/v1/dyads/"+d.ID+"/withdraw",
			`{"scope":"`+scope+`","reason_code":"participant_request"}`))
		if w := wider.Withdrawal; w == nil || w.Scope != "both" || !w.At.Equal(got.Withdrawal.At) || w.ReasonCode != "consent_withdrawn" {
			t.Errorf("after a %s withdrawal: %+v, want scope both from the first withdrawal", scope, w)
		}
	}
	audit := decode[api.AuditList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/audit?action=dyad.withdraw", ""))
	if len(audit.Items) != 2 {
		t.Errorf("withdrawal audit entries = %+v, want the withdrawal and its widening", audit.Items)
	}

	// Collection stops: new ratings, amendments, new links.
	conflictCode(t, e, http.MethodPost, ratingsPath(d.ID), ratingBody(2, "client", refClient), "dyad_withdrawn")
	conflictCode(t, e, http.MethodPut, ratingPath(d.ID, 1, "client"), `{"answers":[1,1,1,1,1,1,1,1,1,1,1,1]}`, "dyad_withdrawn")
	conflictCode(t, e, http.MethodPost, "/v1/dyads/"+d.ID+"/invitations", `{"session":3,"role":"client"}`, "dyad_withdrawn")
	// The pending link was revoked.
	checkProblem(t, e.do(http.MethodGet, "/v1/survey", "", "Authorization", "Bearer "+pending.Token), "the revoked link",
		problemWant{status: 410, typ: "urn:alliance:problem:survey-link-gone"})
	links := decode[api.InvitationList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/invitations", ""))
	if len(links.Items) != 1 || links.Items[0].State != "revoked" || links.Items[0].RevokedAt == nil {
		t.Errorf("links after the withdrawal = %+v, want the one link revoked", links.Items)
	}
	// What was given is kept, and marked in the export.
	if n := len(decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(d.ID), "")).Items); n != 1 {
		t.Errorf("%d ratings kept after the withdrawal, want 1", n)
	}
	export := e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+d.StudyID+"/export?format=ndjson", "").Body.String()
	var row map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(export, "\n", 2)[0]), &row); err != nil {
		t.Fatal(err)
	}
	if row["withdrawn_at"] == nil || row["withdrawal_scope"] != "both" {
		t.Errorf("export row of the withdrawn dyad: withdrawn_at %v, withdrawal_scope %v", row["withdrawn_at"], row["withdrawal_scope"])
	}
}

func TestVoidRating(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	wrong := e.postRating(d.ID, 1, "client", refClient)
	voided := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodPost, ratingPath(d.ID, 1, "client")+"/void",
		`{"reason_code":"wrong_dyad"}`))
	if voided.ID != wrong.ID || voided.VoidedAt == nil || voided.VoidReason != "wrong_dyad" {
		t.Errorf("void answered %+v, want the rating marked voided", voided)
	}
	checkProblem(t, e.do(http.MethodGet, ratingPath(d.ID, 1, "client"), ""), "the voided slot", problemWant{status: 404, typ: typeBlank})
	if n := len(decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingsPath(d.ID), "")).Items); n != 0 {
		t.Errorf("%d current ratings after voiding, want 0", n)
	}
	// The slot takes a rating again, as the next version.
	again := e.postRating(d.ID, 1, "client", `[4,4,4,4,4,4,4,4,4,4,4,4]`)
	if again.Version != 2 {
		t.Errorf("the rating after a void has version %d, want 2", again.Version)
	}
	hist := decode[api.RatingList](t, e.expect(http.StatusOK, http.MethodGet, ratingPath(d.ID, 1, "client")+"/history", ""))
	if len(hist.Items) != 2 || hist.Items[0].VoidReason != "wrong_dyad" || hist.Items[1].VoidedAt != nil {
		t.Errorf("history = %+v, want the voided version then the new one", hist.Items)
	}
	export := e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+d.StudyID+"/export", "").Body.String()
	if strings.Contains(export, wrong.ID) || !strings.Contains(export, again.ID) {
		t.Errorf("export after a void:\n%s\nwant the new rating only", export)
	}
	audit := decode[api.AuditList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/audit?action=rating.void", ""))
	if len(audit.Items) != 1 || audit.Items[0].ResourceID != wrong.ID {
		t.Errorf("audit of the void = %+v", audit.Items)
	}
}

// TestSessionOutOfRange: a session number below 1 in the path of a
// rating route is refused; once it was read as "any session", and a void
// of "session 0" voided the dyad's first rated session.
func TestSessionOutOfRange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	rated := e.postRating(d.ID, 5, "client", refClient)
	want := problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"session", "out_of_range"}}}
	for _, s := range []int{0, -1, alliance.MaxSession + 1} {
		path := ratingPath(d.ID, s, "client")
		checkProblem(t, e.do(http.MethodPost, path+"/void", `{"reason_code":"test_entry"}`), "void of session "+strconv.Itoa(s), want)
		checkProblem(t, e.do(http.MethodGet, path, ""), "rating of session "+strconv.Itoa(s), want)
		checkProblem(t, e.do(http.MethodGet, path+"/history", ""), "history of session "+strconv.Itoa(s), want)
	}
	cur := decode[api.RatingResponse](t, e.expect(http.StatusOK, http.MethodGet, ratingPath(d.ID, 5, "client"), ""))
	if cur.ID != rated.ID || cur.VoidedAt != nil {
		t.Errorf("session 5 after the refused voids = %+v, want %s unvoided", cur, rated.ID)
	}
}

func TestSurveyLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.newDyad("wai_sr_client", "wai_sr_therapist")
	invite := func(session int, role string) api.InvitationResponse {
		return decode[api.InvitationResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/dyads/"+d.ID+"/invitations",
			fmt.Sprintf(`{"session":%d,"role":%q}`, session, role)))
	}
	used, misSent, pending := invite(1, "client"), invite(1, "counsellor"), invite(2, "client")
	e.expect(http.StatusCreated, http.MethodPost, "/v1/survey", `{"answers":`+refClient+`}`, "Authorization", "Bearer "+used.Token)
	// A link for a slot rated already is refused at once.
	conflictCode(t, e, http.MethodPost, "/v1/dyads/"+d.ID+"/invitations", `{"session":1,"role":"client"}`, "already_rated")

	revoked := decode[api.InvitationStatusResponse](t, e.expect(http.StatusOK, http.MethodDelete, "/v1/invitations/"+misSent.ID, ""))
	if revoked.State != "revoked" {
		t.Errorf("revoked link state %q", revoked.State)
	}
	e.expect(http.StatusOK, http.MethodDelete, "/v1/invitations/"+misSent.ID, "") // again: no change
	// A gone link says why: a rater whose link was withdrawn must not read
	// that their answers were probably stored.
	for _, tc := range []struct {
		token, code string
		method      string
	}{
		{misSent.Token, "link_revoked", http.MethodGet},
		{misSent.Token, "link_revoked", http.MethodPost},
		{used.Token, "link_used", http.MethodGet},
	} {
		body := ""
		if tc.method == http.MethodPost {
			body = `{"answers":` + refTherapist + `}`
		}
		p := checkProblem(t, e.do(tc.method, "/v1/survey", body, "Authorization", "Bearer "+tc.token), tc.code,
			problemWant{status: 410, typ: "urn:alliance:problem:survey-link-gone"})
		if p.Code != tc.code {
			t.Errorf("%s /v1/survey with a %s link: code %q, want %q", tc.method, tc.code, p.Code, tc.code)
		}
	}
	checkProblem(t, e.do(http.MethodDelete, "/v1/invitations/"+used.ID, ""), "revoking a used link", problemWant{status: 409, typ: typeConflict})

	list := decode[api.InvitationList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/invitations", ""))
	states := map[string]string{}
	for _, it := range list.Items {
		states[it.ID] = it.State
	}
	want := map[string]string{used.ID: "used", misSent.ID: "revoked", pending.ID: "pending"}
	for id, s := range want {
		if states[id] != s {
			t.Errorf("link %s listed as %q, want %q", id, states[id], s)
		}
	}
	if raw := e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/invitations", "").Body.String(); strings.Contains(raw, "als_") {
		t.Errorf("the list shows a token: %s", raw)
	}
}

// TestIdentifyingCodes: codes shaped like identity numbers, e-mail
// addresses, phone numbers or names are refused with looks_identifying;
// before, they were all stored (201). A study's code_pattern is enforced.
func TestIdentifyingCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	for _, code := range []string{"19850312-1234", "198503121231", "0701234567", "john.doe.gmail.com", "Anna.Svensson", "131052-308T", "078-05-1120"} {
		rec := e.do(http.MethodPost, "/v1/studies/"+st.ID+"/dyads", dyadBody(code, "K-01"))
		checkProblem(t, rec, "client code "+code, problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"client_code", "looks_identifying"}}})
		if strings.Contains(rec.Body.String(), code) {
			t.Errorf("the problem for %s quotes the code: %s", code, rec.Body)
		}
	}
	for _, code := range []string{"C-017", "DEMO-C005", "ward3-c12", "ST2024-017"} {
		e.expect(http.StatusCreated, http.MethodPost, "/v1/studies/"+st.ID+"/dyads", dyadBody(code, "K-01"))
	}

	body := `{"name":"Patterned","forms":{"client":"wai_sr_client","counsellor":"wai_sr_therapist"},"code_pattern":"^[CK]-[0-9]{3}$"}`
	patterned := decode[api.StudyResponse](t, e.expect(http.StatusCreated, http.MethodPost, "/v1/studies", body))
	if patterned.CodePattern != "^[CK]-[0-9]{3}$" {
		t.Errorf("code_pattern = %q", patterned.CodePattern)
	}
	checkProblem(t, e.do(http.MethodPost, "/v1/studies/"+patterned.ID+"/dyads", dyadBody("C-12", "K-1")), "a code outside the pattern",
		problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"client_code", "pattern_mismatch"}, {"counsellor_code", "pattern_mismatch"}}})
	e.expect(http.StatusCreated, http.MethodPost, "/v1/studies/"+patterned.ID+"/dyads", dyadBody("C-012", "K-001"))
	checkProblem(t, e.do(http.MethodPost, "/v1/studies", `{"name":"x","forms":{"client":"wai_sr_client"},"code_pattern":"([a-z"}`),
		"a broken pattern", problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"code_pattern", "invalid_pattern"}}})
	// A pattern no code can match (a space is outside the code alphabet)
	// would refuse every dyad of the study.
	rec := e.do(http.MethodPost, "/v1/studies", `{"name":"x","forms":{"client":"wai_sr_client"},"code_pattern":"C \\d{3}"}`)
	p := checkProblem(t, rec, "a pattern no code matches", problemWant{status: 422, typ: typeValidation, fields: []fieldCode{{"code_pattern", "invalid_pattern"}}})
	if !strings.Contains(p.Errors[0].Message, "no code can match") {
		t.Errorf("the problem does not say why: %s", rec.Body)
	}
}

// TestEnrolWithCollectKey: a survey frontend with a collect key bound to
// its study enrols dyads and finds them again by code, without an admin
// key; it never reads ratings. Before, collect got 403 on both, and the
// client_code filter was ignored (the first dyads came back).
func TestEnrolWithCollectKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	other := e.createStudy("wai_sr_client", "wai_sr_therapist")
	e.createDyad(st.ID, "C-001", "K-01")
	e.createDyad(st.ID, "C-002", "K-01")
	tablet := e.newKey(fmt.Sprintf(`{"name":"tablet","scopes":["collect"],"study_id":%q}`, st.ID))
	as := func(method, path, body string) *httptest.ResponseRecorder {
		return e.do(method, path, body, "Authorization", "Bearer "+tablet)
	}
	rec := as(http.MethodPost, "/v1/studies/"+st.ID+"/dyads", dyadBody("C-017", "K-03"))
	if rec.Code != http.StatusCreated {
		t.Fatalf("enrol with the collect key = %d: %s", rec.Code, rec.Body)
	}
	enrolled := decode[api.DyadResponse](t, rec)
	found := decode[api.DyadList](t, as(http.MethodGet, "/v1/studies/"+st.ID+"/dyads?client_code=C-017", ""))
	if len(found.Items) != 1 || found.Items[0].ID != enrolled.ID {
		t.Errorf("lookup by client_code = %+v, want exactly the enrolled dyad", found.Items)
	}
	none := decode[api.DyadList](t, as(http.MethodGet, "/v1/studies/"+st.ID+"/dyads?client_code=C-999", ""))
	if len(none.Items) != 0 {
		t.Errorf("lookup of an unknown code = %+v, want none", none.Items)
	}
	if rec := as(http.MethodGet, "/v1/dyads/"+enrolled.ID, ""); rec.Code != http.StatusOK {
		t.Errorf("GET the enrolled dyad = %d", rec.Code)
	}
	checkProblem(t, as(http.MethodGet, "/v1/studies/"+other.ID+"/dyads", ""), "another study's dyads", problemWant{status: 404, typ: typeBlank})
	p := checkProblem(t, as(http.MethodGet, ratingsPath(enrolled.ID), ""), "ratings with a collect key",
		problemWant{status: 403, typ: "urn:alliance:problem:forbidden"})
	if !strings.Contains(p.Detail, "admin or analyze") {
		t.Errorf("403 detail %q does not name the scope needed", p.Detail)
	}
	global := e.newKey(`{"name":"any study","scopes":["collect"]}`)
	checkProblem(t, e.do(http.MethodGet, "/v1/studies/"+st.ID+"/dyads", "", "Authorization", "Bearer "+global),
		"a collect key bound to no study", problemWant{status: 403, typ: "urn:alliance:problem:forbidden"})
	// analyze beside an unbound collect reads dyads, and enrols in no
	// study (the first release's keys could have both).
	both := e.newKey(`{"name":"collect and analyze","scopes":["collect","analyze"]}`)
	e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+st.ID+"/dyads", "", "Authorization", "Bearer "+both)
	for _, study := range []string{st.ID, other.ID} {
		checkProblem(t, e.do(http.MethodPost, "/v1/studies/"+study+"/dyads", dyadBody("C-018", "K-03"), "Authorization", "Bearer "+both),
			"enrolling with an unbound collect and analyze key", problemWant{status: 403, typ: "urn:alliance:problem:forbidden"})
	}
}
