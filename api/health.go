package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// healthz godoc
//
//	@Summary	Liveness: the process is up
//	@Tags		health
//	@Produce	json
//	@Success	200	{object}	StatusResponse
//	@ID			checkLiveness
//	@Router		/healthz [get]
func (s *server) healthz(c *gin.Context) error {
	c.JSON(http.StatusOK, StatusResponse{Status: "ok"})
	return nil
}

// readyz godoc
//
//	@Summary	Readiness: the database answers and its schema is current
//	@Tags		health
//	@Produce	json,application/problem+json
//	@Success	200	{object}	StatusResponse
//	@Failure	503	{object}	Problem
//	@Header		503	{string}	Retry-After	"seconds to wait before retrying"
//	@ID			checkReadiness
//	@Router		/readyz [get]
func (s *server) readyz(c *gin.Context) error {
	if err := s.svc.Ready(c.Request.Context()); err != nil {
		return err
	}
	c.JSON(http.StatusOK, StatusResponse{Status: "ready"})
	return nil
}
