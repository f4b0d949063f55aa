package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// createStudy godoc
//
//	@Summary		Create a study
//	@Description	A study fixes the instrument form each role answers (parallel forms of one family, e.g. wai_sr_client and wai_sr_therapist) and the missing-item policy: missing_policy.max_missing_fraction (default 0.25) and missing_policy.total_requires_subscales (default false; when true a total is scored only when every subscale is scorable, otherwise its score is null with reason subscale_missing).
//	@Tags			studies
//	@Accept			json
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			body	body		CreateStudyRequest	true	"the study"
//	@Success		201		{object}	StudyResponse
//	@Header			201		{string}	Location	"/v1/studies/{id}"
//	@Failure		400		{object}	Problem
//	@Failure		413		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		429		{object}	Problem
//	@ID				createStudy
//	@Router			/v1/studies [post]
func (s *server) createStudy(c *gin.Context) error {
	var req CreateStudyRequest
	if _, err := readJSON(c, &req); err != nil {
		return err
	}
	in := alliance.StudyInput{
		Name: req.Name, Description: req.Description,
		ClientForm: req.Forms.Client, CounsellorForm: req.Forms.Counsellor,
		CodePattern: req.CodePattern, Language: req.Language,
		Alerts: req.AlertThresholds.input(),
	}
	if req.MissingPolicy != nil {
		in.MaxMissingFraction = req.MissingPolicy.MaxMissingFraction
		in.TotalRequiresSubscales = req.MissingPolicy.TotalRequiresSubscales
	}
	st, err := s.svc.CreateStudy(c.Request.Context(), in)
	if err != nil {
		return err
	}
	c.Header("Location", "/v1/studies/"+st.ID)
	c.JSON(http.StatusCreated, toStudyResponse(st))
	return nil
}

// listStudies godoc
//
//	@Summary	List studies, oldest first
//	@Tags		studies
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		limit	query		int		false	"page size (1-500, default 50)"
//	@Param		after	query		string	false	"cursor: the next value of the previous page"
//	@Success	200		{object}	StudyList
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@ID			listStudies
//	@Router		/v1/studies [get]
func (s *server) listStudies(c *gin.Context) error {
	p, err := pageParams(c, "studies")
	if err != nil {
		return err
	}
	sts, next, err := pageOf("studies", p, func(st alliance.Study) string { return st.ID }, func(p alliance.Page) ([]alliance.Study, error) {
		return s.svc.FindStudies(c.Request.Context(), p)
	})
	if err != nil {
		return err
	}
	out := StudyList{Items: make([]StudyResponse, len(sts)), Next: next}
	for i, st := range sts {
		out.Items[i] = toStudyResponse(st)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// getStudy godoc
//
//	@Summary	Get a study
//	@Tags		studies
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		id	path		string	true	"study id"
//	@Success	200	{object}	StudyResponse
//	@Failure	404	{object}	Problem
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@ID			getStudy
//	@Router		/v1/studies/{id} [get]
func (s *server) getStudy(c *gin.Context) error {
	st, err := s.svc.FindStudyByID(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toStudyResponse(st))
	return nil
}
