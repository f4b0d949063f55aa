package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// createDyad godoc
//
//	@Summary		Add a dyad to a study
//	@Description	A dyad is one client and one counsellor, by pseudonymous codes (1-64 letters, digits, '.', '_', '-'; never names). The client code is unique within the study; a counsellor code may appear in many dyads.
//	@Tags			dyads
//	@Accept			json
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string				true	"study id"
//	@Param			body	body		CreateDyadRequest	true	"the dyad"
//	@Success		201		{object}	DyadResponse
//	@Header			201		{string}	Location	"/v1/dyads/{id}"
//	@Failure		400		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		409		{object}	Problem
//	@Failure		413		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		429		{object}	Problem
//	@ID				createDyad
//	@Router			/v1/studies/{id}/dyads [post]
func (s *server) createDyad(c *gin.Context) error {
	var req CreateDyadRequest
	if _, err := readJSON(c, &req); err != nil {
		return err
	}
	d, err := s.svc.CreateDyad(c.Request.Context(), c.Param("id"), alliance.DyadInput(req))
	if err != nil {
		return err
	}
	c.Header("Location", "/v1/dyads/"+d.ID)
	c.JSON(http.StatusCreated, toDyadResponse(d))
	return nil
}

// listDyads godoc
//
//	@Summary	List a study's dyads, oldest first
//	@Tags		dyads
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		id				path		string	true	"study id"
//	@Param		client_code		query		string	false	"only the dyad of this client code (exact match)"
//	@Param		counsellor_code	query		string	false	"only this counsellor's dyads (exact match)"
//	@Param		limit			query		int		false	"page size (1-500, default 50)"
//	@Param		after			query		string	false	"cursor: the next value of the previous page"
//	@Success	200				{object}	DyadList
//	@Failure	400				{object}	Problem
//	@Failure	404				{object}	Problem
//	@Failure	401				{object}	Problem
//	@Failure	403				{object}	Problem
//	@ID			listDyads
//	@Router		/v1/studies/{id}/dyads [get]
func (s *server) listDyads(c *gin.Context) error {
	p, err := pageParams(c, "dyads/"+c.Param("id"))
	if err != nil {
		return err
	}
	ds, next, err := s.findDyads(c, p)
	if err != nil {
		return err
	}
	out := DyadList{Items: make([]DyadResponse, len(ds)), Next: next}
	for i, d := range ds {
		out.Items[i] = toDyadResponse(d)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// findDyads reads a page of the study's dyads (c's id), of the codes its
// query asks for, and the next page's cursor: the API's list and the
// dashboard's.
func (s *server) findDyads(c *gin.Context, p alliance.Page) ([]alliance.Dyad, *string, error) {
	f := alliance.DyadFilter{StudyID: c.Param("id"), ClientCode: c.Query("client_code"), CounsellorCode: c.Query("counsellor_code")}
	return pageOf("dyads/"+f.StudyID, p, func(d alliance.Dyad) string { return d.ID }, func(p alliance.Page) ([]alliance.Dyad, error) {
		f.Page = p
		return s.svc.FindDyads(c.Request.Context(), f)
	})
}

// getDyad godoc
//
//	@Summary	Get a dyad
//	@Tags		dyads
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		id	path		string	true	"dyad id"
//	@Success	200	{object}	DyadResponse
//	@Failure	404	{object}	Problem
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@ID			getDyad
//	@Router		/v1/dyads/{id} [get]
func (s *server) getDyad(c *gin.Context) error {
	d, err := s.svc.GetDyad(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toDyadResponse(d))
	return nil
}
