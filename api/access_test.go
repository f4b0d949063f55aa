package api_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/api"
	"github.com/alliance-project/alliance/internal/alliance"
)

// access is who may call a route.
type access int

const (
	accPublic  access = iota // anyone
	accAny                   // any API key
	accAdmin                 // admin keys
	accRead                  // admin and analyze keys
	accCollect               // admin and collect keys
	accSurvey                // survey tokens only
	accAlerts                // admin, analyze and alerts keys: alert reads
	accAck                   // admin and alerts keys: acknowledging alerts
	accPlot                  // admin and analyze keys, or their dashboard sessions
	accPage                  // dashboard sessions of admin and analyze keys only
)

// accessOf reads a route's rule from the endpoint table.
func accessOf(r api.RouteAccess) (access, bool) {
	switch sc := strings.Join(r.Scopes, ","); {
	case r.Public:
		return accPublic, true
	case r.Page && sc == "admin,analyze":
		return accPage, true
	case r.Session && sc == "admin,analyze":
		return accPlot, true
	case r.Page || r.Session:
		return 0, false
	case r.Survey:
		return accSurvey, true
	case sc == "admin,collect,analyze":
		return accAny, true
	case sc == "admin":
		return accAdmin, true
	case sc == "admin,analyze":
		return accRead, true
	case sc == "admin,collect":
		return accCollect, true
	case sc == "admin,analyze,alerts":
		return accAlerts, true
	case sc == "admin,alerts":
		return accAck, true
	}
	return 0, false
}

// TestAccessPromises holds the endpoint table to what the product promises
// whatever routes are added: a collect key (a survey frontend) never reads
// ratings, agreement or exports; an analyze key never writes; survey
// tokens reach the survey routes only; only admin keys manage keys, links
// and the audit log; an alerts key reaches alert routes only (never
// answers); nothing but health, metrics and the API document is public.
func TestAccessPromises(t *testing.T) {
	for _, r := range api.Routes() {
		key := r.Method + " " + r.Path
		acc, ok := accessOf(r)
		if !ok {
			t.Errorf("%s: scopes %v are not one of the known rules", key, r.Scopes)
			continue
		}
		readsData := r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/v1/") &&
			(strings.Contains(r.Path, "rating") || strings.Contains(r.Path, "agreement") || strings.Contains(r.Path, "export") ||
				strings.Contains(r.Path, "sessions") || strings.Contains(r.Path, "plots"))
		switch {
		case readsData && acc != accRead && acc != accPlot:
			t.Errorf("%s reads participant data: want admin and analyze keys (or their dashboard sessions) only, got %v", key, r.Scopes)
		case r.Session && r.Method != http.MethodGet && key != "POST /ui/sign-out":
			t.Errorf("%s: a dashboard session only reads; its one post is the sign-out", key)
		case r.Page != strings.HasPrefix(r.Path, "/ui/"):
			t.Errorf("%s: the dashboard's pages are exactly the routes under /ui/", key)
		case r.Page && r.Public && key != "GET /ui/" && key != "POST /ui/sign-in" && key != "GET /ui/assets/*any":
			t.Errorf("%s: the only public dashboard routes are the sign-in page, the sign-in form and the assets", key)
		case r.Method != http.MethodGet && (acc == accRead || acc == accAlerts):
			t.Errorf("%s writes: analyze keys must not reach it", key)
		case (acc == accAlerts || acc == accAck) && !strings.Contains(r.Path, "/alerts") && !strings.HasPrefix(r.Path, "/v1/alerts/"):
			t.Errorf("%s: an alerts key (a clinical dashboard) reaches alert routes only", key)
		case (acc == accSurvey) != strings.HasPrefix(r.Path, "/v1/survey"):
			t.Errorf("%s: survey tokens reach exactly the /v1/survey routes", key)
		case (strings.HasPrefix(r.Path, "/v1/keys") || strings.HasPrefix(r.Path, "/v1/audit") || strings.HasSuffix(r.Path, "/invitations")) && acc != accAdmin:
			t.Errorf("%s: admin keys only", key)
		case acc == accPublic && strings.HasPrefix(r.Path, "/v1/"):
			t.Errorf("%s: nothing under /v1 is public", key)
		}
	}
}

// world is the data the matrix runs against: study A with dyad A (the
// subject of every request) and study B, whose bound admin key must not
// see A.
type world struct {
	e              *env
	studyA, dyadA  string
	studyB         string
	admin, collect string
	analyze        string
	otherStudy     string
	revoked        string
	alerts         string
}

// alertID raises a divergence in a fresh dyad of study A and returns the
// alert's id.
func (w *world) alertID() string {
	w.e.t.Helper()
	d := w.e.createDyad(w.studyA, fmt.Sprintf("C-AL%d", nextSeq()), "K-AL")
	w.e.postRating(d.ID, 1, "client", `[5,5,5,5,5,5,5,5,5,5,5,5]`)
	w.e.postRating(d.ID, 1, "counsellor", `[1,1,1,1,1,1,1,1,1,1,1,1]`)
	l := decode[api.AlertList](w.e.t, w.e.expect(http.StatusOK, http.MethodGet, "/v1/dyads/"+d.ID+"/alerts", ""))
	if len(l.Items) == 0 {
		w.e.t.Fatal("a divergence of 4 points raised no alert")
	}
	return l.Items[0].ID
}

// webhookID registers a webhook for study A and returns its id.
func (w *world) webhookID() string {
	w.e.t.Helper()
	rec := w.e.expect(http.StatusCreated, http.MethodPost, "/v1/studies/"+w.studyA+"/webhooks", `{"url":"http://127.0.0.1:9/hook","events":["alert.raised"]}`)
	return decode[api.CreatedWebhookResponse](w.e.t, rec).ID
}

func newWorld(t *testing.T) *world {
	e := newEnv(t)
	w := &world{e: e, admin: e.adminToken}
	w.studyA = e.createStudy("wai_sr_client", "wai_sr_therapist").ID
	w.dyadA = e.createDyad(w.studyA, "C-A", "K-A").ID
	w.studyB = e.createStudy("wai_sr_client", "wai_sr_therapist").ID
	e.postRating(w.dyadA, 1, "client", refClient)
	e.postRating(w.dyadA, 1, "counsellor", refTherapist)
	// A survey frontend's key, bound to its study as it must be to enrol
	// and look up dyads.
	w.collect = e.newKey(fmt.Sprintf(`{"name":"tablet","scopes":["collect"],"study_id":%q}`, w.studyA))
	w.analyze = e.newKey(`{"name":"analyst","scopes":["analyze"]}`)
	w.otherStudy = e.newKey(fmt.Sprintf(`{"name":"B admin","scopes":["admin"],"study_id":%q}`, w.studyB))
	w.alerts = e.newKey(`{"name":"dashboard","scopes":["alerts"]}`)
	w.revoked = e.newKey(`{"name":"old","scopes":["admin"]}`)
	id := strings.SplitN(strings.TrimPrefix(w.revoked, "alk_"), ".", 2)[0]
	e.expect(http.StatusOK, http.MethodDelete, "/v1/keys/"+id, "")
	return w
}

// invite makes a fresh survey token for a session of dyad A nobody has
// rated yet, so every token can be used.
func (w *world) invite(role string) string {
	w.e.t.Helper()
	rec := w.e.expect(http.StatusCreated, http.MethodPost, "/v1/dyads/"+w.dyadA+"/invitations",
		fmt.Sprintf(`{"session":%d,"role":%q,"expires_in":"1h"}`, 1000+nextSeq(), role))
	return decode[api.InvitationResponse](w.e.t, rec).Token
}

// request builds a concrete request for a route pattern; writes get a
// valid body, so an allowed caller gets past validation.
func (w *world) request(method, route string) (path, body string) {
	path = strings.NewReplacer(":session", "1", ":role", "client", "*any", "index.html").Replace(route)
	switch {
	case strings.HasPrefix(route, "/v1/studies/:id"):
		path = strings.Replace(path, ":id", w.studyA, 1)
	case strings.HasPrefix(route, "/v1/dyads/:id"):
		path = strings.Replace(path, ":id", w.dyadA, 1)
	case route == "/v1/keys/:id":
		tok := w.e.newKey(`{"name":"to revoke","scopes":["analyze"]}`)
		path = "/v1/keys/" + strings.SplitN(strings.TrimPrefix(tok, "alk_"), ".", 2)[0]
	case route == "/v1/instruments/:id":
		path = "/v1/instruments/wai_sr_client"
	case strings.HasPrefix(route, "/v1/alerts/:id"):
		path = strings.Replace(path, ":id", w.alertID(), 1)
	case strings.HasPrefix(route, "/v1/webhooks/:id"):
		path = strings.Replace(path, ":id", w.webhookID(), 1)
		if strings.HasSuffix(route, "/replay") {
			path += "?since=2000-01-01T00:00:00Z"
		}
	case strings.HasPrefix(route, "/ui/studies/:id"):
		path = strings.Replace(path, ":id", w.studyA, 1)
	case strings.HasPrefix(route, "/ui/dyads/:id"):
		path = strings.Replace(path, ":id", w.dyadA, 1)
	case route == "/ui/assets/*any":
		path = "/ui/assets/dashboard.css"
	case route == "/v1/invitations/:id":
		tok := w.invite("client")
		path = "/v1/invitations/" + strings.SplitN(strings.TrimPrefix(tok, "als_"), ".", 2)[0]
	}
	switch method + " " + route {
	case "DELETE /v1/dyads/:id", "POST /v1/dyads/:id/withdraw":
		// Erase or withdraw a dyad of its own, so the other principals
		// and routes keep dyad A as it is.
		d := w.e.createDyad(w.studyA, fmt.Sprintf("C-E%d", nextSeq()), "K-E")
		path = strings.Replace(route, ":id", d.ID, 1)
		if method == http.MethodDelete {
			path += "?confirm=" + d.ID
		}
	}
	if method == http.MethodDelete && route == "/v1/studies/:id" {
		// Erase a study of its own (not B, so B's admin must not see it).
		st := w.e.createStudy("wai_sr_client", "wai_sr_therapist").ID
		path = "/v1/studies/" + st + "?confirm=" + st
	}
	switch method + " " + route {
	case "POST /v1/studies":
		body = `{"name":"S","forms":{"client":"wai_sr_client","counsellor":"wai_sr_therapist"}}`
	case "POST /v1/studies/:id/dyads":
		body = fmt.Sprintf(`{"client_code":"C-%d","counsellor_code":"K-1"}`, nextSeq())
	case "POST /v1/dyads/:id/ratings":
		body = fmt.Sprintf(`{"session":%d,"role":"client","answers":%s}`, 100+nextSeq(), refClient)
	case "PUT /v1/dyads/:id/sessions/:session/ratings/:role":
		body = fmt.Sprintf(`{"answers":[%d,4,5,4,5,5,4,4,5,4,4,5]}`, 1+nextSeq()%5)
	case "POST /v1/dyads/:id/invitations":
		body = `{"session":3,"role":"client"}`
	case "POST /v1/survey":
		body = `{"answers":` + refClient + `}`
	case "POST /v1/keys":
		body = `{"name":"k","scopes":["analyze"]}`
	case "POST /v1/instruments":
		body = strings.Replace(customDefinition, `"version": "1"`, fmt.Sprintf(`"version": "m%d"`, nextSeq()), 1)
	case "POST /v1/dyads/:id/withdraw":
		body = `{"scope":"client","reason_code":"other"}`
	case "POST /v1/dyads/:id/sessions/:session/ratings/:role/void":
		body = `{"reason_code":"test_entry"}`
	case "PUT /v1/studies/:id/alert-thresholds":
		body = `{"divergence_band":1}`
	case "POST /v1/studies/:id/webhooks":
		body = `{"url":"http://127.0.0.1:9/hook","events":["alert.raised"]}`
	case "PATCH /v1/webhooks/:id":
		body = `{"enabled":true}`
	case "POST /ui/sign-in":
		body = url.Values{"key": {w.analyze}}.Encode()
	}
	return path, body
}

// session opens a dashboard session with key and returns its token.
func (w *world) session(key string) string {
	w.e.t.Helper()
	_, tok, err := w.e.svc.SignIn(context.Background(), key)
	if err != nil {
		w.e.t.Fatalf("SignIn: %v", err)
	}
	return tok
}

// endedSession is the token of a session that was signed out.
func (w *world) endedSession() string {
	tok := w.session(w.admin)
	ctx := context.Background()
	a, err := w.e.svc.AuthenticateUISession(ctx, tok)
	if err == nil {
		err = w.e.svc.SignOut(alliance.WithActor(ctx, a))
	}
	if err != nil {
		w.e.t.Fatal(err)
	}
	return tok
}

// expiredSession is the token of a session past its expiry.
func (w *world) expiredSession() string {
	tok := w.session(w.admin)
	id := strings.SplitN(strings.TrimPrefix(tok, "ald_"), ".", 2)[0]
	if _, err := w.e.store.DB().Exec(`UPDATE ui_sessions SET expires_at = ? WHERE id = ?`, time.Now().UTC().Add(-time.Second), id); err != nil {
		w.e.t.Fatal(err)
	}
	return tok
}

// revokedKeySession is the token of a session whose key was revoked.
func (w *world) revokedKeySession() string {
	key := w.e.newKey(`{"name":"soon revoked","scopes":["analyze"]}`)
	tok := w.session(key)
	w.e.expect(http.StatusOK, http.MethodDelete, "/v1/keys/"+strings.SplitN(strings.TrimPrefix(key, "alk_"), ".", 2)[0], "")
	return tok
}

var (
	seqMu sync.Mutex
	seq   int
)

func nextSeq() int {
	seqMu.Lock()
	defer seqMu.Unlock()
	seq++
	return seq
}

// TestAuthorizationMatrix sends every route of the endpoint table with
// every kind of credential and checks the outcome against the route's rule;
// the router serves exactly the table's routes.
func TestAuthorizationMatrix(t *testing.T) {
	w := newWorld(t)
	engine := w.e.engine.(*gin.Engine)
	served := map[string]bool{}
	for _, ri := range engine.Routes() {
		if ri.Method != http.MethodHead { // every GET's HEAD: TestHead
			served[ri.Method+" "+ri.Path] = true
		}
	}
	for _, ri := range api.Routes() {
		key := ri.Method + " " + ri.Path
		acc, _ := accessOf(ri)
		if !served[key] {
			t.Errorf("route %s is in the endpoint table but not served", key)
		}
		delete(served, key)
		t.Run(key, func(t *testing.T) {
			e := w.e.with(t)
			reader := acc == accRead || acc == accPlot
			principals := []struct {
				name string
				// cookie sends the token as the dashboard session cookie
				// instead of a bearer token.
				cookie bool
				token  func() string
				want   func(status int) bool
			}{
				{"no key", false, func() string { return "" }, pageOr(acc, denied(acc, http.StatusUnauthorized))},
				{"bad key", false, func() string { return "alk_not-a-real-key" }, pageOr(acc, denied(acc, http.StatusUnauthorized))},
				{"unknown key", false, func() string { return "alk_01jd8x2k4m5n6p7q8r9s0t1v2w.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }, pageOr(acc, denied(acc, http.StatusUnauthorized))},
				{"revoked key", false, func() string { return w.revoked }, pageOr(acc, denied(acc, http.StatusUnauthorized))},
				{"admin", false, func() string { return w.admin }, pageOr(acc, allowedIf(acc == accPublic || acc == accAny || acc == accAdmin || reader || acc == accCollect || acc == accAlerts || acc == accAck))},
				{"collect", false, func() string { return w.collect }, pageOr(acc, allowedIf(acc == accPublic || acc == accAny || acc == accCollect))},
				{"analyze", false, func() string { return w.analyze }, pageOr(acc, allowedIf(acc == accPublic || acc == accAny || reader || acc == accAlerts))},
				{"alerts", false, func() string { return w.alerts }, pageOr(acc, allowedIf(acc == accPublic || acc == accAlerts || acc == accAck))},
				{"key of another study", false, func() string { return w.otherStudy }, pageOr(acc, otherStudy(acc, key))},
				{"survey token, this session and role", false, func() string { return w.invite("client") }, pageOr(acc, allowedIf(acc == accPublic || acc == accSurvey))},
				{"survey token, other role", false, func() string { return w.invite("counsellor") }, pageOr(acc, allowedIf(acc == accPublic || acc == accSurvey))},
				{"used survey token", false, func() string {
					tok := w.invite("client")
					e.expect(http.StatusCreated, http.MethodPost, "/v1/survey", `{"answers":`+refClient+`}`, "Authorization", "Bearer "+tok)
					return tok
				}, pageOr(acc, usedToken(acc))},
				{"dashboard session, admin key", true, func() string { return w.session(w.admin) }, liveSession(acc, key, http.StatusOK)},
				{"dashboard session, analyze key", true, func() string { return w.session(w.analyze) }, liveSession(acc, key, http.StatusOK)},
				{"dashboard session, key of another study", true, func() string { return w.session(w.otherStudy) }, liveSession(acc, key, http.StatusNotFound)},
				// A signed-out or expired session, or one whose key was
				// revoked, is no credential at all.
				{"dashboard session, signed out", true, w.endedSession, pageOr(acc, denied(acc, http.StatusUnauthorized))},
				{"dashboard session, expired", true, w.expiredSession, pageOr(acc, denied(acc, http.StatusUnauthorized))},
				{"dashboard session, key revoked", true, w.revokedKeySession, pageOr(acc, denied(acc, http.StatusUnauthorized))},
			}
			for _, p := range principals {
				path, body := w.request(ri.Method, ri.Path)
				tok := p.token()
				headers := []string{"Authorization", "", "Origin", "http://example.com"} // httptest's host
				switch {
				case p.cookie:
					headers = append(headers, "Cookie", "alliance_session="+tok)
				case tok != "":
					headers[1] = "Bearer " + tok
				}
				if strings.HasPrefix(ri.Path, "/ui/") && body != "" {
					headers = append(headers, "Content-Type", "application/x-www-form-urlencoded")
				}
				rec := e.do(ri.Method, path, body, headers...)
				if !p.want(rec.Code) {
					t.Errorf("%s %s as %s = %d; body %s", ri.Method, path, p.name, rec.Code, rec.Body)
				}
				if rec.Code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s as %s: 401 without WWW-Authenticate", ri.Method, path, p.name)
				}
			}
		})
	}
	for key := range served {
		t.Errorf("route %s is served but not in the endpoint table", key)
	}
}

// pageOr: a dashboard page takes no bearer credential, so every caller
// with one (or none) is sent to the sign-in page; other routes answer
// want.
func pageOr(acc access, want func(int) bool) func(int) bool {
	return func(status int) bool {
		if acc == accPage {
			return status == http.StatusSeeOther
		}
		return want(status)
	}
}

// liveSession: a dashboard session of an admin or analyze key reads the
// plots and the pages of study A (answering reach: 200, or 404 for a key
// bound to study B), lists its studies and signs out; routes that take
// API keys only do not see it (401).
func liveSession(acc access, key string, reach int) func(int) bool {
	return func(status int) bool {
		switch {
		case acc == accPublic:
			return status < 400
		case key == "POST /ui/sign-out":
			return status == http.StatusSeeOther
		case key == "GET /ui/studies":
			return status == http.StatusOK
		case acc == accPage, acc == accPlot:
			return status == reach
		}
		return status == http.StatusUnauthorized
	}
}

// denied is for credentials that authenticate nobody: public routes work,
// every other route answers want.
func denied(acc access, want int) func(int) bool {
	return func(status int) bool {
		if acc == accPublic {
			return status < 400 || status == http.StatusServiceUnavailable
		}
		return status == want
	}
}

// allowedIf: allowed callers get past access control (any status but
// 401/403, never a 5xx); others get 403.
func allowedIf(ok bool) func(int) bool {
	return func(status int) bool {
		if ok {
			return status != http.StatusUnauthorized && status != http.StatusForbidden && status < 500
		}
		return status == http.StatusForbidden
	}
}

// otherStudy: an admin key bound to study B may use global routes, may
// not create studies or define instruments, and sees nothing of study A (404, not 403, so ids
// cannot be probed).
func otherStudy(acc access, key string) func(int) bool {
	return func(status int) bool {
		switch {
		case acc == accSurvey:
			return status == http.StatusForbidden
		case key == "POST /v1/studies", key == "POST /v1/instruments":
			return status == http.StatusForbidden
		case strings.Contains(key, "/v1/studies/:id") || strings.Contains(key, "/v1/dyads/:id") ||
			strings.Contains(key, "/v1/alerts/:id") || strings.Contains(key, "/v1/webhooks/:id") ||
			key == "DELETE /v1/keys/:id" || key == "DELETE /v1/invitations/:id":
			return status == http.StatusNotFound
		default:
			return status < 400 || (acc == accPublic && status == http.StatusServiceUnavailable)
		}
	}
}

// usedToken: a used survey link is 410 on the survey routes, where the
// rater is told the link was used, and 403 wherever else a credential is
// needed (no survey link may go there).
func usedToken(acc access) func(int) bool {
	return func(status int) bool {
		switch acc {
		case accPublic:
			return status < 400
		case accSurvey:
			return status == http.StatusGone
		}
		return status == http.StatusForbidden
	}
}

// TestSurveyTokenSingleUseUnderConcurrency sends the same survey token's
// submission many times at once: exactly one is stored.
func TestSurveyTokenSingleUseUnderConcurrency(t *testing.T) {
	w := newWorld(t)
	tok := w.invite("client")
	srv := httptest.NewServer(w.e.h)
	defer srv.Close()
	const n = 16
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/survey", strings.NewReader(`{"answers":`+refClient+`}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	created := 0
	for _, c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusGone:
		default:
			t.Errorf("concurrent survey submission = %d, want 201 or 410", c)
		}
	}
	if created != 1 {
		t.Fatalf("%d of %d concurrent submissions were stored, want exactly 1 (codes %v)", created, n, codes)
	}
	ratings := decode[api.RatingList](t, w.e.expect(http.StatusOK, http.MethodGet, ratingsPath(w.dyadA), ""))
	got := 0
	for _, r := range ratings.Items {
		if r.Session > 2 {
			got++
		}
	}
	if got != 1 {
		t.Errorf("the invited session has %d ratings, want 1", got)
	}
}

// TestBlindRatings: the survey channel and collect keys never see the
// other rater's answers or scores.
func TestBlindRatings(t *testing.T) {
	w := newWorld(t)
	e := w.e
	tok := w.invite("counsellor")
	form := e.expect(http.StatusOK, http.MethodGet, "/v1/survey", "", "Authorization", "Bearer "+tok)
	if bytes.Contains(form.Body.Bytes(), []byte(w.dyadA)) || bytes.Contains(form.Body.Bytes(), []byte("C-A")) {
		t.Errorf("survey form reveals the dyad: %s", form.Body)
	}
	if got := decode[api.SurveyResponse](t, form); got.Role != "counsellor" || got.Instrument.ID != "wai_sr_therapist" {
		t.Errorf("survey form = role %s, instrument %s; want the counsellor's form", got.Role, got.Instrument.ID)
	}
	receipt := e.expect(http.StatusCreated, http.MethodPost, "/v1/survey", `{"answers":`+refTherapist+`}`, "Authorization", "Bearer "+tok)
	for _, leak := range []string{"answers", "scores", "mean", "client"} {
		if bytes.Contains(receipt.Body.Bytes(), []byte(leak)) {
			t.Errorf("survey receipt contains %q: %s", leak, receipt.Body)
		}
	}
	for _, path := range []string{"/v1/dyads/" + w.dyadA + "/sessions/1", ratingPath(w.dyadA, 1, "client"), ratingsPath(w.dyadA)} {
		e.expect(http.StatusForbidden, http.MethodGet, path, "", "Authorization", "Bearer "+w.collect)
	}
}

// TestAuditTrail: writes are logged with their actor, amendments with
// before and after; secrets are in neither the log nor the audit trail.
func TestAuditTrail(t *testing.T) {
	var logs bytes.Buffer
	e := newEnvWith(t, envOptions{log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	d := e.createDyad(st.ID, "C-1", "K-1")
	collect := e.newKey(`{"name":"tablet","scopes":["collect"]}`)
	e.expect(http.StatusCreated, http.MethodPost, ratingsPath(d.ID), ratingBody(1, "client", refClient), "Authorization", "Bearer "+collect)
	e.expect(http.StatusOK, http.MethodPut, ratingPath(d.ID, 1, "client"), `{"answers":`+refTherapist+`}`)

	got := decode[api.AuditList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/audit?study_id="+st.ID, ""))
	var actions []string
	for _, a := range got.Items {
		actions = append(actions, a.Action)
	}
	want := "study.create dyad.create rating.create rating.amend" // the key is global, not the study's
	if strings.Join(actions, " ") != want {
		t.Fatalf("audit actions = %v, want %s", actions, want)
	}
	create, amend := got.Items[2], got.Items[3]
	collectID := strings.SplitN(strings.TrimPrefix(collect, "alk_"), ".", 2)[0]
	if create.Actor != "key:"+collectID {
		t.Errorf("rating.create actor = %q, want the collect key", create.Actor)
	}
	if amend.Before == nil || amend.After == nil || !strings.Contains(*amend.Before, "[5,4,5,4") || !strings.Contains(*amend.After, "[4,3,4,4") {
		t.Errorf("rating.amend before/after = %v / %v, want the old and new answers", amend.Before, amend.After)
	}
	raw := e.expect(http.StatusOK, http.MethodGet, "/v1/audit", "").Body.String()
	if !strings.Contains(raw, `"action":"key.create"`) {
		t.Errorf("the unfiltered audit log lacks key.create: %s", raw)
	}
	for _, secret := range []string{e.adminToken, collect, strings.SplitN(collect, ".", 2)[1]} {
		if strings.Contains(raw, secret) || strings.Contains(logs.String(), secret) {
			t.Errorf("a secret appears in the audit trail or the log")
		}
	}
	// No API call edits the log, and the database refuses to.
	if _, err := e.store.DB().ExecContext(context.Background(), `UPDATE audit_log SET actor = 'x'`); err == nil {
		t.Error("UPDATE audit_log succeeded; the log must be append-only")
	}
	if _, err := e.store.DB().ExecContext(context.Background(), `DELETE FROM audit_log`); err == nil {
		t.Error("DELETE FROM audit_log succeeded; the log must be append-only")
	}
}

// TestRateLimit: writes beyond the burst get 429 with Retry-After; reads
// are not limited.
func TestRateLimit(t *testing.T) {
	e := newEnvWith(t, envOptions{limits: api.RateLimits{PerCredential: 1, Burst: 3}})
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	limited := 0
	for i := range 6 {
		rec := e.do(http.MethodPost, "/v1/studies/"+st.ID+"/dyads", dyadBody(fmt.Sprintf("C-%d", i), "K"))
		if rec.Code == http.StatusTooManyRequests {
			limited++
			checkProblem(t, rec, "POST dyads", problemWant{429, "urn:alliance:problem:rate-limited", nil})
			if rec.Header().Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if limited == 0 {
		t.Error("no write was rate limited after the burst")
	}
	for range 10 {
		e.expect(http.StatusOK, http.MethodGet, "/v1/studies", "")
	}
}

// A browser survey frontend on an allowed origin gets CORS headers.
func TestCORS(t *testing.T) {
	e := newEnvWith(t, envOptions{cors: []string{"https://survey.example.org"}})
	rec := e.do(http.MethodOptions, "/v1/survey", "", "Origin", "https://survey.example.org",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type")
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "https://survey.example.org" {
		t.Errorf("preflight Allow-Origin = %q (status %d)", got, rec.Code)
	}
	rec = e.do(http.MethodOptions, "/v1/survey", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("preflight from a foreign origin got Allow-Origin %q", got)
	}
	checkProblem(t, rec, "preflight from a foreign origin", problemWant{status: http.StatusForbidden, typ: "urn:alliance:problem:forbidden", fields: []fieldCode{{"Origin", "origin_not_allowed"}}})

	// Any other request is served, without CORS headers, so the browser
	// keeps a foreign script from reading it; this server's own pages
	// behind a proxy that rewrites Host send their public origin, which
	// looks foreign here, and must work (they were refused with a 403).
	for _, path := range []string{"/s/", "/s/survey.js", "/s/i18n/en.json", "/v1/instruments", "/ui/"} {
		rec := e.do(http.MethodGet, path, "", "Origin", "https://alliance.clinic.example")
		if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET %s from the server's public origin behind a proxy = %d (Allow-Origin %q), want 200 without CORS headers",
				path, rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
		}
	}
	rec = e.do(http.MethodGet, "/v1/studies", "", "Origin", "https://survey.example.org")
	if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != "https://survey.example.org" {
		t.Errorf("GET from the allowed origin = %d, Allow-Origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
}

var _ = alliance.ErrGone

// TestForwardedForIsNotTrusted: a client cannot dodge the per-address
// write limit by sending a new X-Forwarded-For with every request. Before,
// gin trusted the header from anyone, and each forged address got a bucket
// of its own.
func TestForwardedForIsNotTrusted(t *testing.T) {
	e := newEnvWith(t, envOptions{limits: api.RateLimits{PerIP: 1, Burst: 3}})
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	limited := 0
	for i := range 8 {
		rec := e.do(http.MethodPost, "/v1/studies/"+st.ID+"/dyads", dyadBody(fmt.Sprintf("C-%d", i), "K-1"),
			"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		if rec.Code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Error("forged X-Forwarded-For addresses dodged the per-address limit")
	}
}

// TestTrustedProxy: behind a proxy named in ALLIANCE_TRUSTED_PROXIES, the
// client is the address the proxy forwards, so clients behind one proxy
// do not share its budget.
func TestTrustedProxy(t *testing.T) {
	// httptest requests come from 192.0.2.1, the proxy here.
	e := newEnvWith(t, envOptions{limits: api.RateLimits{PerIP: 1, Burst: 3}, proxies: []string{"192.0.2.0/24"}})
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	for i := range 8 {
		rec := e.do(http.MethodPost, "/v1/studies/"+st.ID+"/dyads", dyadBody(fmt.Sprintf("C-%d", i), "K-1"),
			"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		if rec.Code != http.StatusCreated {
			t.Errorf("client %d behind the trusted proxy = %d, want 201 (a bucket of its own)", i, rec.Code)
		}
	}
}

// TestUnknownQueryParameters: every route refuses a query parameter it
// does not take with 400 naming it, so a misspelt one is never silently
// ignored (before, agreement?sesion=first answered the first session).
func TestUnknownQueryParameters(t *testing.T) {
	w := newWorld(t)
	for _, ri := range api.Routes() {
		if ri.AnyQuery {
			continue
		}
		path, body := w.request(ri.Method, ri.Path)
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		auth := "Bearer " + w.admin
		if ri.Survey {
			auth = "Bearer " + w.invite("client")
		}
		rec := w.e.do(ri.Method, path+sep+"sesion=first", body, "Authorization", auth)
		checkProblem(t, rec, ri.Method+" "+ri.Path+" with ?sesion", problemWant{status: 400, typ: typeMalformed,
			fields: []fieldCode{{"sesion", "unknown_parameter"}}})
	}
}

// TestCursors walks a list page by page with the cursors it gives out.
func TestCursors(t *testing.T) {
	e := newEnv(t)
	st := e.createStudy("wai_sr_client", "wai_sr_therapist")
	for i := range 5 {
		e.createDyad(st.ID, fmt.Sprintf("C-%03d", i), "K-1")
	}
	seen := map[string]bool{}
	next := ""
	for page := 0; ; page++ {
		path := "/v1/studies/" + st.ID + "/dyads?limit=2"
		if next != "" {
			path += "&after=" + next
		}
		l := decode[api.DyadList](t, e.expect(http.StatusOK, http.MethodGet, path, ""))
		for _, d := range l.Items {
			if seen[d.ID] {
				t.Fatalf("dyad %s on two pages", d.ID)
			}
			seen[d.ID] = true
		}
		if l.Next == nil {
			break
		}
		if page > 5 {
			t.Fatal("the pages do not end")
		}
		next = *l.Next
	}
	if len(seen) != 5 {
		t.Errorf("the pages held %d dyads, want 5", len(seen))
	}
	// A cursor of one study's list is refused by another's.
	other := e.createStudy("wai_sr_client", "wai_sr_therapist")
	first := decode[api.DyadList](t, e.expect(http.StatusOK, http.MethodGet, "/v1/studies/"+st.ID+"/dyads?limit=1", ""))
	checkProblem(t, e.do(http.MethodGet, "/v1/studies/"+other.ID+"/dyads?after="+*first.Next, ""), "another list's cursor",
		problemWant{status: 400, typ: typeMalformed, fields: []fieldCode{{"after", "invalid_cursor"}}})
}
