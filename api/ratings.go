package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// createRating godoc
//
//	@Summary		Submit one rater's rating of a session
//	@Description	Validates the answers against the study's form for the role, scores them (per subscale and total: mean, sum, answered, prorated) and stores answers and scores in one transaction. A second rating for the same session and role is 409: amend it with PUT. Send an Idempotency-Key to make retries safe: the same key and body returns the first result (with Idempotent-Replayed: true); the same key with another body is 409.
//	@Tags			ratings
//	@Accept			json
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id				path		string				true	"dyad id"
//	@Param			Idempotency-Key	header		string				false	"client-chosen unique key, e.g. a UUID"
//	@Param			body			body		CreateRatingRequest	true	"the rating"
//	@Success		201				{object}	RatingResponse
//	@Header			201				{string}	Location	"/v1/dyads/{id}/sessions/{session}/ratings/{role}"
//	@Failure		400				{object}	Problem
//	@Failure		404				{object}	Problem
//	@Failure		409				{object}	Problem
//	@Failure		413				{object}	Problem
//	@Failure		415				{object}	Problem
//	@Failure		422				{object}	Problem
//	@Failure		503				{object}	Problem
//	@Header			503				{string}	Retry-After	"seconds to wait before retrying"
//	@Failure		401				{object}	Problem
//	@Failure		403				{object}	Problem
//	@Failure		429				{object}	Problem
//	@ID				createRating
//	@Router			/v1/dyads/{id}/ratings [post]
func (s *server) createRating(c *gin.Context) error {
	var req CreateRatingRequest
	idem, err := readKeyedJSON(c, &req)
	if err != nil {
		return err
	}
	r, replayed, err := s.svc.SubmitRating(c.Request.Context(), c.Param("id"), alliance.RatingInput(req), idem)
	if err != nil {
		return err
	}
	markReplayed(c, replayed)
	c.Header("Location", ratingPath(r))
	c.JSON(http.StatusCreated, toRatingResponse(r))
	return nil
}

// amendRating godoc
//
//	@Summary		Amend a rating
//	@Description	Replaces the current rating of a role for a session with a new version; earlier versions stay in the history. Sending the current answers again changes nothing for an admin or analyze key; a collect key gets a new version (no change would confirm what the stored answers are), so it retries with an Idempotency-Key.
//	@Tags			ratings
//	@Accept			json
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id				path		string				true	"dyad id"
//	@Param			session			path		int					true	"session number"
//	@Param			role			path		string				true	"client or counsellor"	Enums(client, counsellor)
//	@Param			Idempotency-Key	header		string				false	"client-chosen unique key, e.g. a UUID"
//	@Param			body			body		AmendRatingRequest	true	"the new answers"
//	@Success		200				{object}	RatingResponse
//	@Failure		400				{object}	Problem
//	@Failure		404				{object}	Problem
//	@Failure		409				{object}	Problem
//	@Failure		413				{object}	Problem
//	@Failure		415				{object}	Problem
//	@Failure		422				{object}	Problem
//	@Failure		503				{object}	Problem
//	@Header			503				{string}	Retry-After	"seconds to wait before retrying"
//	@Failure		401				{object}	Problem
//	@Failure		403				{object}	Problem
//	@Failure		429				{object}	Problem
//	@ID				amendRating
//	@Router			/v1/dyads/{id}/sessions/{session}/ratings/{role} [put]
func (s *server) amendRating(c *gin.Context) error {
	session, err := pathInt(c, "session")
	if err != nil {
		return err
	}
	var req AmendRatingRequest
	idem, err := readKeyedJSON(c, &req)
	if err != nil {
		return err
	}
	in := alliance.RatingInput{Session: &session, SessionDate: req.SessionDate, Role: c.Param("role"), Answers: req.Answers}
	r, replayed, err := s.svc.AmendRating(c.Request.Context(), c.Param("id"), in, idem)
	if err != nil {
		return err
	}
	markReplayed(c, replayed)
	c.JSON(http.StatusOK, toRatingResponse(r))
	return nil
}

// getRating godoc
//
//	@Summary	Get the current rating of a role for a session
//	@Tags		ratings
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		id		path		string	true	"dyad id"
//	@Param		session	path		int		true	"session number"
//	@Param		role	path		string	true	"client or counsellor"	Enums(client, counsellor)
//	@Success	200		{object}	RatingResponse
//	@Failure	400		{object}	Problem
//	@Failure	404		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@ID			getRating
//	@Router		/v1/dyads/{id}/sessions/{session}/ratings/{role} [get]
func (s *server) getRating(c *gin.Context) error {
	session, role, err := sessionRole(c)
	if err != nil {
		return err
	}
	r, err := s.svc.FindRating(c.Request.Context(), c.Param("id"), session, role)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toRatingResponse(r))
	return nil
}

// ratingHistory godoc
//
//	@Summary	Every version of a rating, oldest first
//	@Tags		ratings
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		id		path		string	true	"dyad id"
//	@Param		session	path		int		true	"session number"
//	@Param		role	path		string	true	"client or counsellor"	Enums(client, counsellor)
//	@Success	200		{object}	RatingList
//	@Failure	400		{object}	Problem
//	@Failure	404		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@ID			getRatingHistory
//	@Router		/v1/dyads/{id}/sessions/{session}/ratings/{role}/history [get]
func (s *server) ratingHistory(c *gin.Context) error {
	session, role, err := sessionRole(c)
	if err != nil {
		return err
	}
	rs, err := s.svc.RatingHistory(c.Request.Context(), c.Param("id"), session, role)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toRatingList(rs))
	return nil
}

// listRatings godoc
//
//	@Summary	A dyad's current ratings over all sessions, by session and role
//	@Tags		ratings
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		id	path		string	true	"dyad id"
//	@Success	200	{object}	RatingList
//	@Failure	404	{object}	Problem
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@ID			listRatings
//	@Router		/v1/dyads/{id}/ratings [get]
func (s *server) listRatings(c *gin.Context) error {
	rs, err := s.svc.FindDyadRatings(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toRatingList(rs))
	return nil
}

// getSession godoc
//
//	@Summary		Both sides of one dyad session
//	@Description	The client's and the counsellor's current ratings side by side, whether the pair is complete and, when it is, the client − counsellor difference on the item-mean metric per subscale and in total.
//	@Tags			sessions
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string	true	"dyad id"
//	@Param			session	path		int		true	"session number"
//	@Success		200		{object}	SessionResponse
//	@Failure		400		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@ID				getSession
//	@Router			/v1/dyads/{id}/sessions/{session} [get]
func (s *server) getSession(c *gin.Context) error {
	session, err := pathInt(c, "session")
	if err != nil {
		return err
	}
	ss, err := s.svc.FindSession(c.Request.Context(), c.Param("id"), session)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toSessionResponse(ss))
	return nil
}

func sessionRole(c *gin.Context) (int, alliance.Role, error) {
	session, err := pathInt(c, "session")
	if err != nil {
		return 0, "", err
	}
	role, err := alliance.ParseRole("role", c.Param("role"))
	return session, role, err
}

func ratingPath(r alliance.Rating) string {
	return "/v1/dyads/" + r.DyadID + "/sessions/" + strconv.Itoa(r.Session) + "/ratings/" + string(r.Role)
}

// VoidRequest says why a rating is voided.
type VoidRequest struct {
	// ReasonCode is one of wrong_dyad, wrong_session, wrong_role,
	// duplicate, test_entry, other.
	ReasonCode string `json:"reason_code" example:"wrong_dyad" enums:"wrong_dyad,wrong_session,wrong_role,duplicate,test_entry,other" validate:"required"`
}

// voidRating godoc
//
//	@Summary		Void a rating filed under the wrong dyad, session or role
//	@Description	The current version leaves current data, statistics and exports; it stays in the history (with voided_at and void_reason) and in the audit log, and the session can be rated again for this role.
//	@Tags			ratings
//	@Accept			json
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string		true	"dyad id"
//	@Param			session	path		int			true	"session number"
//	@Param			role	path		string		true	"client or counsellor"	Enums(client, counsellor)
//	@Param			body	body		VoidRequest	true	"why"
//	@Success		200		{object}	RatingResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		413		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		429		{object}	Problem
//	@ID				voidRating
//	@Router			/v1/dyads/{id}/sessions/{session}/ratings/{role}/void [post]
func (s *server) voidRating(c *gin.Context) error {
	session, role, err := sessionRole(c)
	if err != nil {
		return err
	}
	var req VoidRequest
	if _, err := readJSON(c, &req); err != nil {
		return err
	}
	r, err := s.svc.VoidRating(c.Request.Context(), c.Param("id"), session, role, req.ReasonCode)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toRatingResponse(r))
	return nil
}
