package api_test

import (
	"crypto/tls"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/dashboard"
	"github.com/alliance-project/alliance/internal/surveypage"
)

// uiOrigin is the origin of httptest requests (host example.com).
const uiOrigin = "http://example.com"

// signIn posts key to the sign-in form from the dashboard's own origin
// and returns the answer.
func signIn(e *env, key string, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	h := append([]string{"Authorization", "", "Origin", uiOrigin, "Content-Type", "application/x-www-form-urlencoded"}, headers...)
	return e.do(http.MethodPost, "/ui/sign-in", url.Values{"key": {key}, "next": {"/ui/studies"}}.Encode(), h...)
}

// sessionCookie signs in with key and returns the session cookie.
func sessionCookie(e *env, key string) *http.Cookie {
	e.t.Helper()
	rec := signIn(e, key)
	if rec.Code != http.StatusSeeOther {
		e.t.Fatalf("sign-in = %d, want 303; body %s", rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == "alliance_session" {
			return c
		}
	}
	e.t.Fatalf("sign-in set no session cookie: %v", rec.Header()["Set-Cookie"])
	return nil
}

// uiGet fetches a dashboard page with the session cookie c (nil: none).
func uiGet(e *env, c *http.Cookie, path string) *httptest.ResponseRecorder {
	e.t.Helper()
	h := []string{"Authorization", ""}
	if c != nil {
		h = append(h, "Cookie", c.Name+"="+c.Value)
	}
	return e.do(http.MethodGet, path, "", h...)
}

// checkPageHeaders: every dashboard response carries the page's strict
// policy and the survey page's other security headers.
func checkPageHeaders(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	for name, want := range map[string]string{
		"Content-Security-Policy": dashboard.ContentSecurityPolicy,
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         dashboard.ReferrerPolicy,
	} {
		if got := rec.Header().Get(name); got != want {
			t.Errorf("%s: %s = %q, want %q", what, name, got, want)
		}
	}
}

// TestPageHeadersOnEveryAnswer: the pages' security headers are on every
// answer under their paths, also those no page handler makes: a 404, a
// 405 and the redirect to the page's slash.
func TestPageHeadersOnEveryAnswer(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/ui/no-such-page", http.StatusNotFound},
		{http.MethodGet, "/ui/sign-out", http.StatusMethodNotAllowed},
		{http.MethodPut, "/ui/studies", http.StatusMethodNotAllowed},
		{http.MethodGet, "/ui", http.StatusMovedPermanently},
	} {
		rec := e.do(tt.method, tt.path, "", "Authorization", "")
		if rec.Code != tt.status {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, rec.Code, tt.status)
		}
		checkPageHeaders(t, rec, tt.method+" "+tt.path)
	}
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{http.MethodPost, "/s/", http.StatusMethodNotAllowed},
		{http.MethodGet, "/s", http.StatusMovedPermanently},
		{http.MethodGet, "/s/no-such-file.js", http.StatusNotFound},
	} {
		rec := e.do(tt.method, tt.path, "", "Authorization", "")
		if rec.Code != tt.status {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, rec.Code, tt.status)
		}
		for name, want := range map[string]string{
			"Content-Security-Policy": surveypage.ContentSecurityPolicy,
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := rec.Header().Get(name); got != want {
				t.Errorf("%s %s: %s = %q, want %q", tt.method, tt.path, name, got, want)
			}
		}
	}
	// The API's answers keep theirs: no page policy on JSON.
	if rec := e.do(http.MethodGet, "/v1/no-such", ""); rec.Header().Get("Content-Security-Policy") != "" {
		t.Errorf("an API 404 carries a page's policy %q", rec.Header().Get("Content-Security-Policy"))
	}
}

// TestDashboardSignInAndOut walks the session's life: the form, refused
// posts, the cookie's flags, the pages, sign-out, and the audit trail.
func TestDashboardSignInAndOut(t *testing.T) {
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	analyze := e.newKey(`{"name":"analyst","scopes":["analyze"]}`)
	collect := e.newKey(`{"name":"tablet","scopes":["collect"]}`)

	form := uiGet(e, nil, "/ui/?next=/ui/studies/"+st.ID)
	checkPageHeaders(t, form, "sign-in page")
	if form.Code != http.StatusOK || !strings.Contains(form.Body.String(), `type="password"`) ||
		!strings.Contains(form.Body.String(), `value="/ui/studies/`+st.ID+`"`) {
		t.Fatalf("GET /ui/ = %d: want the sign-in form remembering the page asked for; body %s", form.Code, form.Body)
	}
	for _, next := range []string{"//evil.example/ui/", "https://evil.example", "/v1/keys", `/ui/\evil`} {
		if strings.Contains(uiGet(e, nil, "/ui/?next="+url.QueryEscape(next)).Body.String(), "evil") {
			t.Errorf("the sign-in form keeps next=%q; want only dashboard pages", next)
		}
	}

	// Refused posts: no Origin, a foreign Origin, a wrong key, a collect key.
	for _, tt := range []struct {
		name    string
		key     string
		headers []string
		status  int
		says    string
	}{
		{"no Origin", analyze, []string{"Origin", ""}, http.StatusForbidden, "own pages"},
		{"foreign Origin", analyze, []string{"Origin", "https://evil.example"}, http.StatusForbidden, "own pages"},
		{"wrong key", "alk_01jd8x2k4m5n6p7q8r9s0t1v2w.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", nil, http.StatusUnauthorized, "not a valid API key"},
		{"collect key", collect, nil, http.StatusForbidden, "neither the analyze nor the admin scope"},
		{"empty", "", nil, http.StatusUnauthorized, "not a valid API key"},
	} {
		rec := signIn(e, tt.key, tt.headers...)
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.says) || rec.Header().Get("Set-Cookie") != "" {
			t.Errorf("sign-in, %s = %d, cookie %q; want %d saying %q; body %s", tt.name, rec.Code, rec.Header().Get("Set-Cookie"), tt.status, tt.says, rec.Body)
		}
		if tt.key != "" && strings.Contains(rec.Body.String(), tt.key) {
			t.Errorf("sign-in, %s: the page echoes the key", tt.name)
		}
	}

	rec := signIn(e, analyze)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/ui/studies" {
		t.Fatalf("sign-in = %d to %q, want 303 to /ui/studies", rec.Code, rec.Header().Get("Location"))
	}
	checkPageHeaders(t, rec, "sign-in answer")
	set := rec.Header().Get("Set-Cookie")
	for _, want := range []string{"alliance_session=ald_", "Path=/", "Max-Age=28800", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(set, "Secure") || strings.Contains(set, analyze) || strings.Contains(rec.Body.String(), analyze) {
		t.Errorf("Set-Cookie %q: want no Secure over plain HTTP (auto), and never the key", set)
	}
	cookie := sessionCookie(e, analyze)
	var stored int
	if err := e.store.DB().QueryRow(`SELECT count(*) FROM ui_sessions WHERE hash = ? OR hash = ?`, cookie.Value, strings.SplitN(cookie.Value, ".", 2)[1]).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("the session token is stored as it is (%d rows, %v); want only its hash", stored, err)
	}

	studies := uiGet(e, cookie, "/ui/studies")
	checkPageHeaders(t, studies, "study list")
	if studies.Code != http.StatusOK || !strings.Contains(studies.Body.String(), "/ui/studies/"+st.ID) {
		t.Fatalf("GET /ui/studies = %d; body %s", studies.Code, studies.Body)
	}
	if uiGet(e, cookie, "/ui/").Code != http.StatusSeeOther {
		t.Error("GET /ui/ when signed in should go on to the study list")
	}
	// The cookie is no bearer token, and an API key is no page credential.
	if got := e.do(http.MethodGet, "/v1/studies", "", "Authorization", "", "Cookie", cookie.Name+"="+cookie.Value).Code; got != http.StatusUnauthorized {
		t.Errorf("GET /v1/studies with only the session cookie = %d, want 401", got)
	}
	if got := e.do(http.MethodGet, "/ui/studies", "", "Authorization", "Bearer "+analyze).Code; got != http.StatusSeeOther {
		t.Errorf("GET /ui/studies with only a bearer key = %d, want 303 to sign-in", got)
	}

	// Sign-out: refused from elsewhere, then done.
	out := func(origin string) *httptest.ResponseRecorder {
		return e.do(http.MethodPost, "/ui/sign-out", "", "Authorization", "", "Origin", origin, "Cookie", cookie.Name+"="+cookie.Value)
	}
	if rec := out("https://evil.example"); rec.Code != http.StatusForbidden {
		t.Errorf("sign-out from another origin = %d, want 403", rec.Code)
	}
	rec = out(uiOrigin)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/ui/" || !strings.Contains(rec.Header().Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("sign-out = %d to %q, Set-Cookie %q; want 303 to /ui/ clearing the cookie", rec.Code, rec.Header().Get("Location"), rec.Header().Get("Set-Cookie"))
	}
	after := uiGet(e, cookie, "/ui/studies/"+st.ID+"?session=last")
	if after.Code != http.StatusSeeOther || after.Header().Get("Location") != "/ui/?next="+url.QueryEscape("/ui/studies/"+st.ID+"?session=last") {
		t.Errorf("a page after sign-out = %d to %q, want 303 to the sign-in page with next", after.Code, after.Header().Get("Location"))
	}

	audit := decode[api.AuditList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/audit?limit=100", ""))
	var actions []string
	for _, a := range audit.Items {
		if strings.HasPrefix(a.Action, "ui_session.") {
			actions = append(actions, a.Action)
		}
	}
	if strings.Join(actions, " ") != "ui_session.create ui_session.create ui_session.end" {
		t.Errorf("audit of sessions = %v, want two sign-ins and one sign-out", actions)
	}
}

// TestDashboardCookieSecure: the cookie is Secure over TLS (auto), always
// with "always" (a TLS proxy in front), never with "never"; a client's
// X-Forwarded-Proto alone never makes it so.
func TestDashboardCookieSecure(t *testing.T) {
	for _, tt := range []struct {
		setting    string
		tls, proto bool
		want       bool
	}{
		{"", false, false, false},
		{api.CookieSecureAuto, true, false, true},
		{api.CookieSecureAuto, false, true, false},
		{api.CookieSecureAlways, false, false, true},
		{api.CookieSecureNever, true, false, false},
	} {
		e := newEnvWith(t, envOptions{cookieSecure: tt.setting})
		req := httptest.NewRequest(http.MethodPost, "/ui/sign-in", strings.NewReader(url.Values{"key": {e.adminToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", uiOrigin)
		if tt.tls {
			req.TLS = &tls.ConnectionState{}
			req.Header.Set("Origin", "https://example.com")
		}
		if tt.proto {
			req.Header.Set("X-Forwarded-Proto", "https")
		}
		rec := httptest.NewRecorder()
		e.engine.ServeHTTP(rec, req)
		set := rec.Header().Get("Set-Cookie")
		if rec.Code != http.StatusSeeOther || strings.Contains(set, "; Secure") != tt.want {
			t.Errorf("setting %q, TLS %v, X-Forwarded-Proto %v: %d, Set-Cookie %q; want Secure %v", tt.setting, tt.tls, tt.proto, rec.Code, set, tt.want)
		}
	}
}

var imgSrc = regexp.MustCompile(`<img src="([^"]+)"`)

// TestDashboardPages: the pages show the agreement report's figures, every
// image they embed loads with the session alone, bad parameters are error
// pages naming them, and no page shows a participant code unless asked.
// TestDashboardSingleRoleStudy: a study in which only the client rates
// (the SRS) opens on its scores, not on an "invalid input" page: agreement
// needs both sides. The page names no participant.
func TestDashboardSingleRoleStudy(t *testing.T) {
	e := newEnv(t)
	st := e.createStudy("srs_client", "")
	for i, v := range []float64{9, 8.5, 7, 9.5, 6} {
		d := e.createDyad(st.ID, fmt.Sprintf("C-SRS%d", i), "K-SRS")
		e.postRating(d.ID, 1, "client", fmt.Sprintf("[%g,%g,%g,%g]", v, v, v, v))
		e.postRating(d.ID, 2, "client", fmt.Sprintf("[%g,%g,%g,%g]", v-1, v, v, v))
	}
	cookie := sessionCookie(e, e.newKey(`{"name":"analyst","scopes":["analyze"]}`))
	rec := uiGet(e, cookie, "/ui/studies/"+st.ID)
	checkPageHeaders(t, rec, "single-role study")
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /ui/studies/%s = %d; body %.600s", st.ID, rec.Code, body)
	}
	for _, want := range []string{"Scores per session", "Only the client rates", "sum of the items (0 to 40)", "Change from session to session",
		"<th scope=\"row\">2</th><td class=\"num\">5</td>", "/v1/studies/" + st.ID + "/summary"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, code := range []string{"C-SRS", "K-SRS"} {
		if strings.Contains(body, code) {
			t.Errorf("the page shows the participant code %s", code)
		}
	}
	// It takes the summary's parameters, and names a bad one.
	if got := uiGet(e, cookie, "/ui/studies/"+st.ID+"?conf=0.9").Body.String(); !strings.Contains(got, "Confidence level 0.9.") {
		t.Errorf("the page at conf=0.9 does not say so")
	}
	for _, q := range []string{"conf=abc", "conf=0.9999999999999999", "scale=nope", "session=zero"} {
		rec := uiGet(e, cookie, "/ui/studies/"+st.ID+"?"+q)
		param, _, _ := strings.Cut(q, "=")
		if rec.Code < 400 || rec.Code >= 500 || !strings.Contains(rec.Body.String(), param) {
			t.Errorf("GET the page with %s = %d, want an error page naming %s", q, rec.Code, param)
		}
	}
}

func TestDashboardPages(t *testing.T) {
	e := newEnv(t)
	study, dyads := plotStudy(t, e, 12)
	cookie := sessionCookie(e, e.newKey(`{"name":"analyst","scopes":["analyze"]}`))
	a := decode[api.StudyAgreementResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+study+"/agreement", ""))

	pages := map[string]string{
		"overview":         "/ui/studies/" + study,
		"overview, last":   "/ui/studies/" + study + "?session=last&conf=0.9",
		"session view":     "/ui/studies/" + study + "/sessions",
		"session 2, bond":  "/ui/studies/" + study + "/sessions?session=2&scale=bond&band=0.25",
		"session 7, empty": "/ui/studies/" + study + "/sessions?session=7",
		"dyad":             "/ui/dyads/" + dyads[0].ID,
		"dyad, band":       "/ui/dyads/" + dyads[11].ID + "?band=1",
	}
	for name, path := range pages {
		rec := uiGet(e, cookie, path)
		checkPageHeaders(t, rec, name)
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Errorf("%s: GET %s = %d %q; body %.500s", name, path, rec.Code, rec.Header().Get("Content-Type"), body)
			continue
		}
		if strings.Contains(body, "<script") || strings.Contains(body, " style=") {
			t.Errorf("%s: the page has a script or an inline style, which its policy forbids", name)
		}
		for _, code := range []string{"C-000", "C-011", "K-0", "K-1", "C-lone"} {
			if strings.Contains(body, code) {
				t.Errorf("%s shows the participant code %s without labels=codes", name, code)
			}
		}
		srcs := imgSrc.FindAllStringSubmatch(body, -1)
		if len(srcs) == 0 {
			t.Errorf("%s embeds no plot", name)
		}
		for _, m := range srcs {
			src := strings.ReplaceAll(m[1], "&amp;", "&")
			img := uiGet(e, cookie, src)
			if img.Code != http.StatusOK || img.Header().Get("Content-Type") != "image/svg+xml" {
				t.Errorf("%s: its image %s = %d %q", name, src, img.Code, img.Header().Get("Content-Type"))
			}
		}
	}
	overview := uiGet(e, cookie, pages["overview"]).Body.String()
	tot := a.Scales[0]
	for _, want := range []string{"Completion", "13 dyads", fix2ForTest(*tot.BlandAltman.Bias), fix2ForTest(*tot.CCC.RhoC),
		"1 of 13 dyads has only one side", "Dyads sharing a counsellor"} {
		if !strings.Contains(overview, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	dyad := uiGet(e, cookie, "/ui/dyads/"+dyads[0].ID+"?labels=codes").Body.String()
	if !strings.Contains(dyad, "C-000") || !strings.Contains(dyad, "labels=codes") {
		t.Errorf("dyad page with labels=codes lacks the codes or the labelled plot")
	}

	for _, tt := range []struct {
		path   string
		status int
		says   string
	}{
		{"/ui/studies/" + study + "?session=zero", 422, "session"},
		{"/ui/studies/" + study + "/sessions?band=wide", 400, "band"},
		{"/ui/studies/" + study + "/sessions?scale=nope", 422, "scale"},
		{"/ui/dyads/" + dyads[0].ID + "?band=-2", 422, "band"},
		{"/ui/dyads/" + dyads[0].ID + "?labels=names", 422, "labels"},
		{"/ui/studies/st_nope", 404, "Not Found"},
		{"/ui/dyads/dy_nope", 404, "Not Found"},
	} {
		rec := uiGet(e, cookie, tt.path)
		checkPageHeaders(t, rec, tt.path)
		if rec.Code != tt.status || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), tt.says) {
			t.Errorf("GET %s = %d %q, want an HTML %d page naming %s; body %.400s", tt.path, rec.Code, rec.Header().Get("Content-Type"), tt.status, tt.says, rec.Body)
		}
	}

	css := uiGet(e, nil, "/ui/assets/dashboard.css")
	checkPageHeaders(t, css, "stylesheet")
	if css.Code != http.StatusOK || !strings.HasPrefix(css.Header().Get("Content-Type"), "text/css") || css.Header().Get("ETag") == "" {
		t.Errorf("GET /ui/assets/dashboard.css = %d %q", css.Code, css.Header().Get("Content-Type"))
	}
	if uiGet(e, nil, "/ui/assets/nope.js").Code != http.StatusNotFound {
		t.Error("an unknown asset is not 404")
	}
}

// fix2ForTest formats a figure as the dashboard does: two decimals and a
// true minus sign.
func fix2ForTest(v float64) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', 2, 64), "-", "−", 1)
}

// TestDashboardFollowsTheAPI: what a person meets on the pages matches
// the JSON API and keeps their choices: no interval where the API has
// none (a study of two dyads), the selection kept from page to page,
// a cleared field taken as its default, every page error an HTML page,
// the study agreement's own warnings shown, the plots' scale named, a
// withdrawal said, and a single-role study's dyads given a page.
func TestDashboardFollowsTheAPI(t *testing.T) {
	e := newEnv(t)
	two, dyads := plotStudy(t, e, 2)
	cookie := sessionCookie(e, e.newKey(`{"name":"analyst","scopes":["analyze"]}`))
	page := func(path string) string {
		t.Helper()
		rec := uiGet(e, cookie, path)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s = %d; body %.600s", path, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}

	// Two pairs: Bland–Altman's intervals are null with n_too_small.
	a := decode[api.StudyAgreementResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+two+"/agreement", ""))
	if ba := a.Scales[0].BlandAltman; ba.BiasCI != nil || ba.CIReason != "n_too_small" {
		t.Fatalf("the API's Bland–Altman at n = 2: bias_ci %v, ci_reason %q; the test assumes null, n_too_small", ba.BiasCI, ba.CIReason)
	}
	for _, path := range []string{"/ui/studies/" + two, "/ui/studies/" + two + "/sessions"} {
		body := page(path)
		if !strings.Contains(body, fix2ForTest(*a.Scales[0].BlandAltman.Bias)+"</span> <span class=\"ci\">(no interval: too few dyads)") {
			t.Errorf("%s: the bias is not shown without an interval, with why; body %.2000s", path, body)
		}
		if strings.Contains(body, "<span class=\"ci\">[") && !strings.Contains(body, "ICC") {
			t.Errorf("%s shows an interval", path)
		}
	}

	// The selection goes from the overview to the session page and back.
	q := "session=1&band=0.25&conf=0.9&multiplier=2"
	overview := page("/ui/studies/" + two + "?" + q + "&scale=bond")
	for _, want := range []string{"Plots (bond score)", "band=0.25&amp;conf=0.9&amp;multiplier=2"} {
		if !strings.Contains(overview, want) {
			t.Errorf("overview at %s lacks %q", q, want)
		}
	}
	sessions := page("/ui/studies/" + two + "/sessions?" + q)
	for _, want := range []string{"Confidence level 0.9; limits of agreement at bias ± 2 SD; agreement band ±0.25.",
		`name="conf" type="number" min="0.01" max="0.999999" step="any" value="0.9"`, `name="multiplier"`, `name="band" type="number" min="0" step="any"`} {
		if !strings.Contains(sessions, want) {
			t.Errorf("session page at %s lacks %q", q, want)
		}
	}
	// A cleared field is its default, not an error.
	if body := page("/ui/studies/" + two + "/sessions?session=1&scale=total&band=&conf=&multiplier="); !strings.Contains(body, "agreement band ±0.5.") {
		t.Errorf("a cleared band is not the default 0.5")
	}

	// Page errors are pages, for odd bytes and unknown paths alike.
	for _, path := range []string{"/ui/studies/" + two + "?session=%00", "/ui/studies?after=%ff", "/ui/nope", "/ui/studies/" + two + "/alerts"} {
		rec := uiGet(e, cookie, path)
		if rec.Code < 400 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Errorf("GET %s = %d %q, want an HTML error page", path, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
	if rec := e.do(http.MethodDelete, "/ui/studies/"+two, ""); rec.Code != http.StatusMethodNotAllowed || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("DELETE a page = %d %q, want an HTML 405 page", rec.Code, rec.Header().Get("Content-Type"))
	}

	// A withdrawal is said on the dyad's page, with what it means.
	e.expect(http.StatusOK, http.MethodPost, "/v1/dyads/"+dyads[0].ID+"/withdraw", `{"scope":"both","reason_code":"consent_withdrawn"}`)
	if body := page("/ui/dyads/" + dyads[0].ID); !strings.Contains(body, "Consent withdrawn (both sides&#39;)") || !strings.Contains(body, "count in the study&#39;s figures") {
		t.Errorf("the withdrawn dyad's page does not say so; body %.1500s", body)
	}
	if body := page("/ui/dyads/" + dyads[0].ID); !strings.Contains(body, "no slope: too few sessions (1 session rated by both)") {
		t.Errorf("the dyad page words a missing slope otherwise; body %.3000s", body)
	}
	// The dyad page takes the confidence level of the page it came from.
	if body := page("/ui/studies/" + two + "/sessions?" + q); !strings.Contains(body, "/ui/dyads/") || !strings.Contains(body, "conf=0.9") {
		t.Errorf("the session page's dyad links drop conf")
	}
	e.postRating(dyads[1].ID, 3, "client", refClient)
	e.postRating(dyads[1].ID, 3, "counsellor", refClient)
	if body := page("/ui/dyads/" + dyads[1].ID + "?conf=0.9"); !strings.Contains(body, "(90% CI") {
		t.Errorf("the dyad page at conf=0.9 does not say 90%%; body %.3000s", body)
	}

	// A study's own warnings, here a ceiling: answers all at the top.
	top := e.createStudy("wai_sr_client", "wai_sr_therapist")
	for i := range 4 {
		d := e.createDyad(top.ID, fmt.Sprintf("T-%d", i), "K-T")
		e.postRating(d.ID, 1, "client", `[5,5,5,5,5,5,5,5,5,5,5,5]`)
		e.postRating(d.ID, 1, "counsellor", `[5,5,5,5,5,5,5,5,5,5,5,4]`)
	}
	ta := decode[api.StudyAgreementResponse](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+top.ID+"/agreement", ""))
	body := page("/ui/studies/" + top.ID)
	shown := 0
	for _, w := range ta.Warnings {
		if w.Code == "small_n" {
			continue
		}
		if !strings.Contains(body, html.EscapeString(w.Detail)) {
			t.Errorf("the overview lacks the API's warning %s: %q", w.Code, w.Detail)
		}
		shown++
	}
	if shown == 0 {
		t.Errorf("the API gave no warning but small_n; the test proves nothing: %+v", ta.Warnings)
	}

	// A dyad of a single-role study has its scores.
	srs := e.createStudy("srs_client", "")
	d := e.createDyad(srs.ID, "C-SRS1", "K-SRS")
	e.postRating(d.ID, 1, "client", "[9,8.5,7,9.5]")
	if body := page("/ui/dyads/" + d.ID); !strings.Contains(body, "Only the client rates") || !strings.Contains(body, "sum 34.00") {
		t.Errorf("the single-role dyad's page lacks its scores; body %.2000s", body)
	}
	// The summary clips a counsellor's mean (three dyads far apart) and
	// names the counsellor in its warning: the page names no one.
	for i, v := range []float64{0, 10, 10} {
		d := e.createDyad(srs.ID, fmt.Sprintf("C-CLIP%d", i), "K-CLIPPED")
		e.postRating(d.ID, 1, "client", fmt.Sprintf("[%g,%g,%g,%g]", v, v, v, v))
	}
	sum := e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+srs.ID+"/summary", "").Body.String()
	if !strings.Contains(sum, "K-CLIPPED") || !strings.Contains(sum, "ci_clipped") {
		t.Fatalf("the summary does not clip the counsellor's mean; the test proves nothing: %.1500s", sum)
	}
	if body := page("/ui/studies/" + srs.ID); strings.Contains(body, "K-CLIPPED") {
		t.Errorf("the single-role study's page names a counsellor")
	}
}

// TestDashboardDyadList: a study's dyads are listed a page at a time
// without codes, with them when asked, found by either code, and every
// one links to its page; a bad parameter is an error page naming it.
func TestDashboardDyadList(t *testing.T) {
	e := newEnv(t)
	study, dyads := plotStudy(t, e, 12)
	e.expect(http.StatusOK, http.MethodPost, "/v1/dyads/"+dyads[3].ID+"/withdraw", `{"scope":"client","reason_code":"consent_withdrawn"}`)
	cookie := sessionCookie(e, e.newKey(`{"name":"analyst","scopes":["analyze"]}`))
	list := "/ui/studies/" + study + "/dyads"
	page := func(path string) string {
		t.Helper()
		rec := uiGet(e, cookie, path)
		checkPageHeaders(t, rec, path)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s = %d; body %.500s", path, rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	if !strings.Contains(page("/ui/studies/"+study), `href="`+list+`"`) {
		t.Error("the overview does not link to the dyad list")
	}

	// Pages of five, without codes, each dyad once and linked.
	seen := map[string]bool{}
	next := list + "?limit=5"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("the list does not end")
		}
		body := page(next)
		for _, code := range []string{"C-0", "K-0", "C-lone"} {
			if strings.Contains(body, code) {
				t.Errorf("%s shows the participant code %s without labels=codes", next, code)
			}
		}
		for _, m := range regexp.MustCompile(`href="/ui/dyads/([^"?]+)"`).FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Errorf("dyad %s listed twice", m[1])
			}
			seen[m[1]] = true
		}
		next = ""
		if m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body); m != nil {
			next = html.UnescapeString(m[1])
		}
	}
	if len(seen) != 13 {
		t.Errorf("the pages list %d dyads, want all 13", len(seen))
	}
	for _, d := range dyads {
		if !seen[d.ID] {
			t.Errorf("dyad %s is on no page", d.ID)
		}
	}

	withCodes := page(list + "?labels=codes")
	if !strings.Contains(withCodes, "C-003, K-0") || !strings.Contains(withCodes, "withdrawn (client) on ") ||
		!strings.Contains(withCodes, `href="/ui/dyads/`+dyads[0].ID+`?labels=codes"`) {
		t.Errorf("the list with labels=codes lacks a dyad's codes, its withdrawal or a link keeping the codes; body %.1500s", withCodes)
	}

	// A search by code finds exactly its dyads, and says when none has it.
	found := page(list + "?client_code=C-007")
	if n := strings.Count(found, `href="/ui/dyads/`); n != 1 || !strings.Contains(found, `href="/ui/dyads/`+dyads[7].ID+`?labels=codes"`) {
		t.Errorf("client_code=C-007 lists %d dyads, want dyad %s; body %.1500s", n, dyads[7].ID, found)
	}
	if n := strings.Count(page(list+"?counsellor_code=K-1"), `href="/ui/dyads/`); n != 4 {
		t.Errorf("counsellor_code=K-1 lists %d dyads, want 4", n)
	}
	if got := page(list + "?client_code=C-999&counsellor_code="); !strings.Contains(got, "No dyad of this study has that code.") {
		t.Errorf("a code no dyad has: %.800s", got)
	}

	for _, tt := range []struct {
		query  string
		status int
		says   string
	}{
		{"limit=0", 400, "limit"},
		{"after=bogus", 400, "after"},
		{"labels=names", 422, "labels"},
	} {
		rec := uiGet(e, cookie, list+"?"+tt.query)
		if rec.Code != tt.status || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), tt.says) {
			t.Errorf("GET the list with %s = %d %q, want an HTML %d page naming %s", tt.query, rec.Code, rec.Header().Get("Content-Type"), tt.status, tt.says)
		}
	}
	if rec := uiGet(e, cookie, "/ui/studies/st_nope/dyads"); rec.Code != http.StatusNotFound {
		t.Errorf("the dyad list of an unknown study = %d, want 404", rec.Code)
	}
}
