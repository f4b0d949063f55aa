package api

import (
	"net/http"

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
}

// Who may call a route.
var (
	public       = rule{public: true}
	admin        = rule{scopes: []auth.Scope{auth.ScopeAdmin}}
	readers      = rule{scopes: []auth.Scope{auth.ScopeAdmin, auth.ScopeAnalyze}}
	collecting   = rule{scopes: []auth.Scope{auth.ScopeAdmin, auth.ScopeCollect}}
	anyKey       = rule{scopes: []auth.Scope{auth.ScopeAdmin, auth.ScopeCollect, auth.ScopeAnalyze}}
	surveyHolder = rule{survey: true}
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
		{get, "/healthz", public, s.healthz},
		{get, "/readyz", public, s.readyz},
		{get, "/metrics", public, plain(s.metrics.handler())},
		{get, "/openapi.json", public, s.openAPI},
		{get, "/docs/*any", public, plain(docsUI())},
		// The survey page; the token stays in the URL fragment.
		{get, surveypage.Path + "*any", public, plain(gin.WrapH(surveypage.Handler()))},

		{get, "/v1/instruments", anyKey, s.listInstruments},
		{get, "/v1/instruments/:id", anyKey, s.getInstrument},

		{post, "/v1/studies", admin, s.createStudy},
		{get, "/v1/studies", readers, s.listStudies},
		{get, "/v1/studies/:id", readers, s.getStudy},
		{post, "/v1/studies/:id/dyads", admin, s.createDyad},
		{get, "/v1/studies/:id/dyads", readers, s.listDyads},
		{get, "/v1/studies/:id/agreement", readers, s.getStudyAgreement},
		{get, "/v1/studies/:id/export", readers, s.exportStudy},
		{get, "/v1/studies/:id/codebook", readers, s.codebook},
		{get, "/v1/studies/:id/plots/bland-altman.svg", plotReaders, s.plotBlandAltman},
		{get, "/v1/studies/:id/plots/scatter.svg", plotReaders, s.plotScatter},
		{get, "/v1/studies/:id/plots/trajectories.svg", plotReaders, s.plotTrajectories},
		{get, "/v1/studies/:id/plots/counsellors.svg", plotReaders, s.plotCounsellors},

		{get, "/v1/dyads/:id", readers, s.getDyad},
		{post, "/v1/dyads/:id/ratings", collecting, s.createRating},
		{get, "/v1/dyads/:id/ratings", readers, s.listRatings},
		{get, "/v1/dyads/:id/agreement", readers, s.getDyadAgreement},
		{get, "/v1/dyads/:id/sessions/:session", readers, s.getSession},
		{get, "/v1/dyads/:id/sessions/:session/agreement", readers, s.getSessionAgreement},
		{get, "/v1/dyads/:id/sessions/:session/ratings/:role", readers, s.getRating},
		{put, "/v1/dyads/:id/sessions/:session/ratings/:role", collecting, s.amendRating},
		{get, "/v1/dyads/:id/sessions/:session/ratings/:role/history", readers, s.ratingHistory},
		{post, "/v1/dyads/:id/invitations", admin, s.createInvitation},
		{get, "/v1/dyads/:id/plots/trajectory.svg", plotReaders, s.plotDyadTrajectory},

		{get, "/v1/survey", surveyHolder, s.getSurvey},
		{post, "/v1/survey", surveyHolder, s.submitSurvey},

		{post, "/v1/keys", admin, s.createKey},
		{get, "/v1/keys", admin, s.listKeys},
		{del, "/v1/keys/:id", admin, s.revokeKey},
		{get, "/v1/audit", admin, s.listAudit},

		// The analysts' dashboard: HTML pages that only read; signing in
		// and out are its only posts.
		{get, dashboard.Path, uiPublic, s.uiHome},
		{post, dashboard.Path + "sign-in", uiPublic, s.uiSignIn},
		{post, dashboard.Path + "sign-out", uiReaders, s.uiSignOut},
		{get, dashboard.Path + "assets/*any", uiPublic, plain(gin.WrapH(dashboard.Assets()))},
		{get, dashboard.Path + "studies", uiReaders, s.page(s.uiStudies)},
		{get, dashboard.Path + "studies/:id", uiReaders, s.page(s.uiOverview)},
		{get, dashboard.Path + "studies/:id/sessions", uiReaders, s.page(s.uiSession)},
		{get, dashboard.Path + "dyads/:id", uiReaders, s.page(s.uiDyad)},
	}
}

// routes registers every endpoint behind its access rule.
func (s *server) routes(r *gin.Engine) {
	for _, e := range s.endpoints() {
		r.Handle(e.method, e.path, s.authorize(e.access), s.wrap(e.handle))
	}
}

// plain adapts a handler that reports no errors of its own.
func plain(h gin.HandlerFunc) handlerFunc {
	return func(c *gin.Context) error {
		h(c)
		return nil
	}
}
