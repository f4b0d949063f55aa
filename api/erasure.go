package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// WithdrawRequest withdraws a dyad from collection.
type WithdrawRequest struct {
	// Scope says whose consent was withdrawn. Collection stops for the
	// dyad whichever it is.
	Scope string `json:"scope" example:"client" enums:"client,counsellor,both" validate:"required"`
	// ReasonCode is one of consent_withdrawn, participant_request,
	// lost_to_follow_up, treatment_ended, other: a code, never free text.
	ReasonCode string `json:"reason_code" example:"consent_withdrawn" enums:"consent_withdrawn,participant_request,lost_to_follow_up,treatment_ended,other" validate:"required"`
}

// withdrawDyad godoc
//
//	@Summary		Withdraw a dyad from collection (consent withdrawn)
//	@Description	Pending survey links are revoked, and new ratings of the dyad get 409 with code dyad_withdrawn. Ratings already given are kept (what most consent forms allow) and marked: exports carry the withdrawal date. Withdrawing again with the same scope changes nothing; when the other side withdraws too, the scope widens to both, keeping the first date and reason. To remove the data too, erase the dyad (DELETE /v1/dyads/{id}).
//	@Tags			dyads
//	@Accept			json
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string			true	"dyad id"
//	@Param			body	body		WithdrawRequest	true	"whose consent, and why"
//	@Success		200		{object}	DyadResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		413		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		429		{object}	Problem
//	@ID				withdrawDyad
//	@Router			/v1/dyads/{id}/withdraw [post]
func (s *server) withdrawDyad(c *gin.Context) error {
	var req WithdrawRequest
	if _, err := readJSON(c, &req); err != nil {
		return err
	}
	d, err := s.svc.WithdrawDyad(c.Request.Context(), c.Param("id"), alliance.WithdrawInput(req))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toDyadResponse(d))
	return nil
}

// eraseDyad godoc
//
//	@Summary		Erase a dyad for good
//	@Description	Deletes the dyad's codes, every version of its ratings (answers, scores, session dates), its survey links and idempotency records, and redacts the payloads of its audit entries; the audit log keeps who erased which dyad id, and when. The deleted bytes are purged from the database files (see the access and privacy guide). confirm must repeat the dyad id. Erasing again is 404.
//	@Tags			dyads
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path	string	true	"dyad id"
//	@Param			confirm	query	string	true	"the dyad id again"
//	@Success		204
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@Failure		404	{object}	Problem
//	@Failure		422	{object}	Problem
//	@Failure		429	{object}	Problem
//	@ID				eraseDyad
//	@Router			/v1/dyads/{id} [delete]
func (s *server) eraseDyad(c *gin.Context) error {
	if err := s.svc.EraseDyad(c.Request.Context(), c.Param("id"), c.Query("confirm")); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// eraseStudy godoc
//
//	@Summary		Erase a whole study for good
//	@Description	Erases every dyad of the study as DELETE /v1/dyads/{id} does, deletes the keys bound to the study and the study itself, and redacts the payloads of the study's audit entries. For the demo study or a pilot. confirm must repeat the study id. Erasing again is 404.
//	@Tags			studies
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path	string	true	"study id"
//	@Param			confirm	query	string	true	"the study id again"
//	@Success		204
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@Failure		404	{object}	Problem
//	@Failure		422	{object}	Problem
//	@Failure		429	{object}	Problem
//	@ID				eraseStudy
//	@Router			/v1/studies/{id} [delete]
func (s *server) eraseStudy(c *gin.Context) error {
	if err := s.svc.EraseStudy(c.Request.Context(), c.Param("id"), c.Query("confirm")); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
