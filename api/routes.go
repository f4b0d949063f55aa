package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/auth"
	"github.com/alliance-project/alliance/internal/dashboard"
	"github.com/alliance-project/alliance/internal/surveypage"
)

// endpoint is one route of the API: who may call it and what answers it.
// The table below is the only place a route is declared; the router, the
// access control and the authorization matrix test are built from it.
type endpoint struct {
	method, path string
	access       rule
	handle       handlerFunc
	// query lists the query parameters the route takes; any other is a
	// 400 naming it, so a misspelt parameter (agreement?sesion=first) is
	// not silently ignored. A parameter given twice is refused too
	// (conf=0.95&conf=0.9 took the first), unless its name ends in "[]":
	// a list, given repeatedly or comma-separated (see queryList).
	// anyQuery leaves a route unchecked.
	query []string
}

// Query parameters shared by several routes.
var (
	anyQuery   = []string{"*"}
	paging     = []string{"limit", "after"}
	agreeing   = []string{"session", "scale[]", "band", "multiplier", "conf"}
	exporting  = []string{"format", "shape", "include", "updated_since"}
	confirming = []string{"confirm"}
	alerting   = append([]string{"kind", "state", "since"}, paging...)
	plotting   = append([]string{"trend", "format", "labels"}, agreeing...)
)

// Who may call a route.
var (
	public     = rule{public: true}
	admin      = rule{scopes: []auth.Scope{auth.ScopeAdmin}}
	readers    = rule{scopes: []auth.Scope{auth.ScopeAdmin, auth.ScopeAnalyze}}
	collecting = rule{scopes: []auth.Scope{auth.ScopeAdmin, auth.ScopeCollect}}
	// enrolling: a survey frontend's collect key may add dyads to the
	// study it is bound to (the use case checks the binding).
	enrolling    = collecting
	anyKey       = rule{scopes: []auth.Scope{auth.ScopeAdmin, auth.ScopeCollect, auth.ScopeAnalyze}}
	surveyHolder = rule{survey: true}
	// alertReaders: alerts hold codes and figures, no answers, so a
	// clinical dashboard's alerts key reads them beside admin and analyze
	// keys; acknowledging is a write, for admin and alerts keys.
	alertReaders = rule{scopes: []auth.Scope{auth.ScopeAdmin, auth.ScopeAnalyze, auth.ScopeAlerts}}
	alertAckers  = rule{scopes: []auth.Scope{auth.ScopeAdmin, auth.ScopeAlerts}}
	// plotReaders are the readers, by API key or by dashboard session.
	plotReaders = rule{scopes: []auth.Scope{auth.ScopeAdmin, auth.ScopeAnalyze}, session: true}
	// uiPublic pages are open to all (sign-in, assets); uiReaders pages
	// need a dashboard session of an admin or analyze key.
	uiPublic  = rule{public: true, page: true}
	uiReaders = rule{scopes: []auth.Scope{auth.ScopeAdmin, auth.ScopeAnalyze}, session: true, page: true}
)

// endpoints is the whole route table.
func (s *server) endpoints() []endpoint {
	const get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	return []endpoint{
		{get, "/", public, s.index, nil},
		{get, "/healthz", public, s.healthz, nil},
		{get, "/readyz", public, s.readyz, nil},
		{get, "/metrics", public, plain(s.metrics.handler()), anyQuery},
		{get, "/openapi.json", public, s.openAPI, nil},
		{get, "/docs/*any", public, plain(docsUI()), anyQuery},
		// The survey page; the token stays in the URL fragment.
		{get, surveypage.Path + "*any", public, plain(gin.WrapH(surveypage.Handler())), anyQuery},

		{get, "/v1/instruments", anyKey, s.listInstruments, nil},
		{post, "/v1/instruments", admin, s.defineInstrument, nil},
		{get, "/v1/instruments/:id", anyKey, s.getInstrument, nil},

		{post, "/v1/studies", admin, s.createStudy, nil},
		{get, "/v1/studies", readers, s.listStudies, paging},
		{get, "/v1/studies/:id", readers, s.getStudy, nil},
		{del, "/v1/studies/:id", admin, s.eraseStudy, confirming},
		{post, "/v1/studies/:id/dyads", enrolling, s.createDyad, nil},
		{get, "/v1/studies/:id/dyads", anyKey, s.listDyads, append([]string{"client_code", "counsellor_code"}, paging...)},
		{get, "/v1/studies/:id/agreement", readers, s.getStudyAgreement, append([]string{"alpha"}, agreeing...)},
		{get, "/v1/studies/:id/counsellors", readers, s.getCounsellors, []string{"session", "scale", "conf"}},
		{get, "/v1/studies/:id/summary", readers, s.getSummary, []string{"session", "scale", "conf", "reliability"}},
		{get, "/v1/studies/:id/export", readers, s.exportStudy, exporting},
		{get, "/v1/studies/:id/codebook", readers, s.codebook, []string{"format", "shape", "include"}},
		{get, "/v1/studies/:id/plots/bland-altman.svg", plotReaders, s.plotBlandAltman, plotting},
		{get, "/v1/studies/:id/plots/scatter.svg", plotReaders, s.plotScatter, plotting},
		{get, "/v1/studies/:id/plots/trajectories.svg", plotReaders, s.plotTrajectories, plotting},
		{get, "/v1/studies/:id/plots/counsellors.svg", plotReaders, s.plotCounsellors, plotting},

		{get, "/v1/dyads/:id", anyKey, s.getDyad, nil},
		{del, "/v1/dyads/:id", admin, s.eraseDyad, confirming},
		{post, "/v1/dyads/:id/withdraw", admin, s.withdrawDyad, nil},
		{post, "/v1/dyads/:id/ratings", collecting, s.createRating, nil},
		{get, "/v1/dyads/:id/ratings", readers, s.listRatings, nil},
		{get, "/v1/dyads/:id/agreement", readers, s.getDyadAgreement, []string{"conf"}},
		{get, "/v1/dyads/:id/sessions/:session", readers, s.getSession, nil},
		{get, "/v1/dyads/:id/sessions/:session/agreement", readers, s.getSessionAgreement, nil},
		{get, "/v1/dyads/:id/sessions/:session/ratings/:role", readers, s.getRating, nil},
		{put, "/v1/dyads/:id/sessions/:session/ratings/:role", collecting, s.amendRating, nil},
		{get, "/v1/dyads/:id/sessions/:session/ratings/:role/history", readers, s.ratingHistory, nil},
		{post, "/v1/dyads/:id/sessions/:session/ratings/:role/void", admin, s.voidRating, nil},
		{post, "/v1/dyads/:id/invitations", admin, s.createInvitation, nil},
		{get, "/v1/dyads/:id/invitations", admin, s.listInvitations, nil},
		{del, "/v1/invitations/:id", admin, s.revokeInvitation, nil},
		{get, "/v1/dyads/:id/plots/trajectory.svg", plotReaders, s.plotDyadTrajectory, []string{"scale[]", "format", "labels"}},

		{get, "/v1/survey", surveyHolder, s.getSurvey, nil},
		{post, "/v1/survey", surveyHolder, s.submitSurvey, nil},

		{post, "/v1/keys", admin, s.createKey, nil},
		{get, "/v1/keys", admin, s.listKeys, paging},
		{del, "/v1/keys/:id", admin, s.revokeKey, nil},
		{get, "/v1/audit", admin, s.listAudit, append([]string{"study_id", "actor", "action", "resource_id", "since"}, paging...)},

		// Alerts and webhooks (#15).
		{get, "/v1/studies/:id/alerts", alertReaders, s.listStudyAlerts, alerting},
		{put, "/v1/studies/:id/alert-thresholds", admin, s.setAlertThresholds, nil},
		{get, "/v1/dyads/:id/alerts", alertReaders, s.listDyadAlerts, alerting},
		{get, "/v1/alerts/:id", alertReaders, s.getAlert, nil},
		{post, "/v1/alerts/:id/acknowledge", alertAckers, s.acknowledgeAlert, nil},
		{post, "/v1/studies/:id/webhooks", admin, s.createWebhook, nil},
		{get, "/v1/studies/:id/webhooks", admin, s.listWebhooks, nil},
		{get, "/v1/webhooks/:id", admin, s.getWebhook, nil},
		{http.MethodPatch, "/v1/webhooks/:id", admin, s.updateWebhook, nil},
		{del, "/v1/webhooks/:id", admin, s.deleteWebhook, nil},
		{post, "/v1/webhooks/:id/rotate", admin, s.rotateWebhook, []string{"overlap"}},
		{get, "/v1/webhooks/:id/deliveries", admin, s.webhookDeliveries, []string{"limit"}},
		{post, "/v1/webhooks/:id/replay", admin, s.replayWebhook, []string{"since"}},
		// The analysts' dashboard: HTML pages that only read; signing in
		// and out are its only posts. Pages are for people, not programs:
		// they check the parameters they use and ignore the others, as
		// web pages do.
		{get, dashboard.Path, uiPublic, s.uiHome, anyQuery},
		{post, dashboard.Path + "sign-in", uiPublic, s.uiSignIn, anyQuery},
		{post, dashboard.Path + "sign-out", uiReaders, s.uiSignOut, anyQuery},
		{get, dashboard.Path + "assets/*any", uiPublic, plain(gin.WrapH(dashboard.Assets())), anyQuery},
		{get, dashboard.Path + "studies", uiReaders, s.page(s.uiStudies), anyQuery},
		{get, dashboard.Path + "studies/:id", uiReaders, s.page(s.uiOverview), anyQuery},
		{get, dashboard.Path + "studies/:id/sessions", uiReaders, s.page(s.uiSession), anyQuery},
		{get, dashboard.Path + "studies/:id/dyads", uiReaders, s.page(s.uiDyads), anyQuery},
		{get, dashboard.Path + "dyads/:id", uiReaders, s.page(s.uiDyad), anyQuery},
	}
}

// routes registers every endpoint behind its access rule, and HEAD
// beside every GET: HEAD is GET without its body (RFC 9110, 9.3.2), which
// net/http drops, so that a health check by HEAD (HAProxy's, say) gets the
// status a GET would.
func (s *server) routes(r *gin.Engine) {
	s.table = s.endpoints()
	for _, e := range s.table {
		chain := []gin.HandlerFunc{s.authorize(e.access), s.strictQuery(e.query, e.access.page), s.wrap(e.handle)}
		r.Handle(e.method, e.path, chain...)
		if e.method == http.MethodGet {
			r.Handle(http.MethodHead, e.path, chain...)
		}
	}
}

// slashTwin is path with its trailing slash removed, or with one added,
// when that names a route of method: where a path with a stray slash
// (/v1/studies/) or without the dashboard's (/ui) was meant to go.
func (s *server) slashTwin(method, path string) (string, bool) {
	twin := path + "/"
	if strings.HasSuffix(path, "/") {
		twin = path[:len(path)-1]
	}
	// "//host" would send a browser to another site.
	if !strings.HasPrefix(twin, "/") || strings.HasPrefix(twin, "//") {
		return "", false
	}
	for _, e := range s.table {
		if (e.method == method || (method == http.MethodHead && e.method == http.MethodGet)) && routeMatches(e.path, twin) {
			return twin, true
		}
	}
	return "", false
}

// routeMatches reports whether path is one gin would route to pattern
// (":name" takes one segment, "*name" the rest).
func routeMatches(pattern, path string) bool {
	want, got := strings.Split(pattern, "/"), strings.Split(path, "/")
	for i, seg := range want {
		switch {
		case strings.HasPrefix(seg, "*"):
			return true
		case i >= len(got):
			return false
		case strings.HasPrefix(seg, ":"):
			if got[i] == "" {
				return false
			}
		case seg != got[i]:
			return false
		}
	}
	return len(got) == len(want)
}

// redirect sends the client to path, with the query it came with, and no
// body: 301 for a GET or HEAD, 308 for another method, which keeps the
// method and the body (a POST stays a POST).
func redirect(c *gin.Context, path string) {
	u := url.URL{Path: path, RawQuery: c.Request.URL.RawQuery}
	code := http.StatusPermanentRedirect
	if m := c.Request.Method; m == http.MethodGet || m == http.MethodHead {
		code = http.StatusMovedPermanently
	}
	c.Header("Location", u.String())
	c.Status(code)
}

// strictQuery refuses query parameters the route does not take, one
// given twice but for a list, one given empty, and one that is not text: a NUL or a byte that is not UTF-8 reaches no query
// (PostgreSQL refuses it in any text parameter, which answered 500). An
// id in the path that is not text names nothing, and is answered 404. A
// page is refused with an error page, as people read it.
func (s *server) strictQuery(allowed []string, page bool) gin.HandlerFunc {
	refuse := func(c *gin.Context, err error) {
		if page {
			s.errorPage(c, err)
			c.Abort()
			return
		}
		writeProblem(c, s.log, err)
	}
	return func(c *gin.Context) {
		anyName := len(allowed) == 1 && allowed[0] == "*"
		for name, values := range c.Request.URL.Query() {
			list := slices.Contains(allowed, name+"[]")
			if !anyName && !list && !slices.Contains(allowed, name) {
				msg := fmt.Sprintf("unknown query parameter %q", name)
				if len(allowed) > 0 {
					msg += "; this route takes " + strings.ReplaceAll(strings.Join(allowed, ", "), "[]", "")
				} else {
					msg += "; this route takes none"
				}
				refuse(c, malformed(name, "unknown_parameter", msg))
				return
			}
			if !anyName && !list && len(values) > 1 {
				refuse(c, malformed(name, "repeated_parameter", fmt.Sprintf("%s is given %d times; it takes one value", name, len(values))))
				return
			}
			// Empty is not the default: a frontend's unset variable
			// (client_code=$CODE) would otherwise list every dyad, and its
			// first item is not the dyad meant. Pages take what forms send.
			if !page && !anyName && slices.Contains(values, "") {
				refuse(c, malformed(name, "empty_value", name+" is given without a value; leave it out for the default"))
				return
			}
			if slices.ContainsFunc(values, notText) {
				refuse(c, malformed(name, "invalid_value", name+" is not text: it holds a NUL or a byte that is not UTF-8"))
				return
			}
		}
		c.Next()
	}
}

// notText reports whether v holds a NUL or is not UTF-8.
func notText(v string) bool {
	return !utf8.ValidString(v) || strings.ContainsRune(v, 0)
}

// plain adapts a handler that reports no errors of its own.
func plain(h gin.HandlerFunc) handlerFunc {
	return func(c *gin.Context) error {
		h(c)
		return nil
	}
}

// RouteAccess is one row of the endpoint table, read-only: its method and
// gin path, and who may call it. The authorization matrix test and the
// OpenAPI 3 generator (cmd/openapi3) are built from it.
type RouteAccess struct {
	Method, Path   string
	Public, Survey bool
	// Session: a dashboard session cookie authenticates; Page: a dashboard
	// page (cookie only, refusals redirect to sign-in).
	Session, Page bool
	Scopes        []string
	// AnyQuery is set on the routes that take any query parameters
	// (static pages and their assets); the others refuse unknown ones.
	AnyQuery bool
}

// Routes lists the endpoint table.
func Routes() []RouteAccess {
	var out []RouteAccess
	for _, e := range (&server{metrics: newMetrics()}).endpoints() {
		ra := RouteAccess{Method: e.method, Path: e.path, Public: e.access.public, Survey: e.access.survey,
			Session: e.access.session, Page: e.access.page, AnyQuery: len(e.query) == 1 && e.query[0] == "*"}
		for _, sc := range e.access.scopes {
			ra.Scopes = append(ra.Scopes, string(sc))
		}
		out = append(out, ra)
	}
	return out
}
