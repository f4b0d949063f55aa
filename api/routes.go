package api

import (
	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/surveypage"
)

// routes is the whole route table in one place.
func (s *server) routes(r *gin.Engine) {
	r.GET("/healthz", s.wrap(s.healthz))
	r.GET("/readyz", s.wrap(s.readyz))
	r.GET("/metrics", s.metrics.handler())
	r.GET("/openapi.json", s.wrap(s.openAPI))
	r.GET("/docs/*any", docsUI())
	r.GET(surveypage.Path+"*any", gin.WrapH(surveypage.Handler()))

	v1 := r.Group("/v1")
	v1.GET("/instruments", s.wrap(s.listInstruments))
	v1.GET("/instruments/:id", s.wrap(s.getInstrument))

	v1.POST("/studies", s.wrap(s.createStudy))
	v1.GET("/studies", s.wrap(s.listStudies))
	v1.GET("/studies/:id", s.wrap(s.getStudy))
	v1.POST("/studies/:id/dyads", s.wrap(s.createDyad))
	v1.GET("/studies/:id/dyads", s.wrap(s.listDyads))
	v1.GET("/studies/:id/agreement", s.wrap(s.getStudyAgreement))
	v1.GET("/studies/:id/export", s.wrap(s.exportStudy))
	v1.GET("/studies/:id/codebook", s.wrap(s.codebook))

	v1.GET("/dyads/:id", s.wrap(s.getDyad))
	v1.POST("/dyads/:id/ratings", s.wrap(s.createRating))
	v1.GET("/dyads/:id/ratings", s.wrap(s.listRatings))
	v1.GET("/dyads/:id/agreement", s.wrap(s.getDyadAgreement))
	v1.GET("/dyads/:id/sessions/:session", s.wrap(s.getSession))
	v1.GET("/dyads/:id/sessions/:session/agreement", s.wrap(s.getSessionAgreement))
	v1.GET("/dyads/:id/sessions/:session/ratings/:role", s.wrap(s.getRating))
	v1.PUT("/dyads/:id/sessions/:session/ratings/:role", s.wrap(s.amendRating))
	v1.GET("/dyads/:id/sessions/:session/ratings/:role/history", s.wrap(s.ratingHistory))
	v1.POST("/dyads/:id/invitations", s.wrap(s.createInvitation))

	v1.GET("/survey", s.wrap(s.getSurvey))
	v1.POST("/survey", s.wrap(s.submitSurvey))

	v1.POST("/keys", s.wrap(s.createKey))
	v1.GET("/keys", s.wrap(s.listKeys))
	v1.DELETE("/keys/:id", s.wrap(s.revokeKey))
	v1.GET("/audit", s.wrap(s.listAudit))
}
