package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
	"github.com/alliance-project/alliance/internal/surveypage"
)

// CreateInvitationRequest asks for a one-time survey link.
type CreateInvitationRequest struct {
	Session   int    `json:"session" example:"3" minimum:"1"`
	Role      string `json:"role" example:"client" enums:"client,counsellor"`
	ExpiresIn string `json:"expires_in,omitempty" example:"72h"`
}

// InvitationResponse is a new survey link. The token is shown once: hand
// the rater url, the hosted survey page with the token in its fragment
// (absolute when the server knows its public URL, else root-relative), or
// build your own page that sends the token as "Authorization: Bearer
// <token>" to url_path.
type InvitationResponse struct {
	ID        string    `json:"id"`
	DyadID    string    `json:"dyad_id"`
	Session   int       `json:"session" example:"3"`
	Role      string    `json:"role" example:"client"`
	ExpiresAt time.Time `json:"expires_at"`
	Token     string    `json:"token" example:"als_01jd8x2k4m5n6p7q8r9s0t1v2w.Zk3…"`
	URLPath   string    `json:"url_path" example:"/v1/survey"`
	URL       string    `json:"url" example:"https://survey.example.org/s/#als_01jd8x2k4m5n6p7q8r9s0t1v2w.Zk3…"`
}

// SurveyResponse is what a survey-token holder sees: the session and role
// the link is for, the form to render and the study's missing-item policy
// (with the form's own max_missing_fraction, it says how many items the
// rater may leave unanswered so that every scale is still scored).
// Nothing about the other rater.
type SurveyResponse struct {
	Session       int                `json:"session" example:"3"`
	Role          string             `json:"role" example:"client"`
	ExpiresAt     time.Time          `json:"expires_at"`
	Instrument    InstrumentResponse `json:"instrument"`
	MissingPolicy MissingPolicyBody  `json:"missing_policy"`
}

// SurveySubmission is the rater's answers, in form item order.
type SurveySubmission struct {
	SessionDate string     `json:"session_date,omitempty" example:"2026-11-23" format:"date"`
	Answers     []*float64 `json:"answers" example:"5,4,5,4,5,5,4,4,5,4,4,5"`
}

// SurveyReceipt confirms a stored survey rating.
type SurveyReceipt struct {
	ID         string    `json:"id"`
	Session    int       `json:"session" example:"3"`
	Role       string    `json:"role" example:"client"`
	ReceivedAt time.Time `json:"received_at"`
}

// createInvitation godoc
//
//	@Summary	Create a one-time survey link for one rater of one session
//	@Tags		access
//	@Accept		json
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		id		path		string					true	"dyad id"
//	@Param		body	body		CreateInvitationRequest	true	"session, role and lifetime (default 168h, at most 2160h)"
//	@Success	201		{object}	InvitationResponse
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@Failure	404		{object}	Problem
//	@Failure	422		{object}	Problem
//	@Failure	429		{object}	Problem
//	@ID			createInvitation
//	@Router		/v1/dyads/{id}/invitations [post]
func (s *server) createInvitation(c *gin.Context) error {
	var req CreateInvitationRequest
	if _, err := readJSON(c, &req); err != nil {
		return err
	}
	inv, tok, err := s.svc.CreateInvitation(c.Request.Context(), c.Param("id"), alliance.InvitationInput(req))
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, InvitationResponse{ID: inv.ID, DyadID: inv.DyadID, Session: inv.Session,
		Role: string(inv.Role), ExpiresAt: inv.ExpiresAt, Token: tok, URLPath: "/v1/survey",
		URL: surveypage.Link(s.publicURL, tok)})
	return nil
}

// getSurvey godoc
//
//	@Summary		The form a survey link asks the rater to fill in
//	@Description	Authenticated by the survey token alone (Authorization: Bearer als_…). A used or expired link answers 410.
//	@Tags			survey
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Success		200	{object}	SurveyResponse
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@Failure		410	{object}	Problem
//	@ID				getSurvey
//	@Router			/v1/survey [get]
func (s *server) getSurvey(c *gin.Context) error {
	inv, st, err := s.svc.SurveyForm(c.Request.Context())
	if err != nil {
		return err
	}
	f, err := s.svc.FindForm(st.Forms[inv.Role])
	if err != nil {
		return err
	}
	frac := st.Policy.MaxMissingFraction
	c.JSON(http.StatusOK, SurveyResponse{Session: inv.Session, Role: string(inv.Role), ExpiresAt: inv.ExpiresAt,
		Instrument: toInstrumentResponse(f, s.svc.Forms()), MissingPolicy: MissingPolicyBody{MaxMissingFraction: &frac}})
	return nil
}

// submitSurvey godoc
//
//	@Summary		Submit the rating a survey link is for
//	@Description	Validated and scored like any rating; the link is used up in the same transaction, so of two concurrent submissions exactly one is stored and the other gets 410. The answer is a receipt: neither the scores nor anything of the other rater. Send an Idempotency-Key: a retry with the same key after the rating was stored gets the same receipt again (with Idempotent-Replayed: true) instead of 410, so a frontend on a flaky network can tell "stored" from "expired".
//	@Tags			survey
//	@Accept			json
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			Idempotency-Key	header		string				false	"client-chosen unique key, e.g. a UUID"
//	@Param			body			body		SurveySubmission	true	"the answers"
//	@Success		201				{object}	SurveyReceipt
//	@Failure		400				{object}	Problem
//	@Failure		401				{object}	Problem
//	@Failure		403				{object}	Problem
//	@Failure		409				{object}	Problem
//	@Failure		410				{object}	Problem
//	@Failure		413				{object}	Problem
//	@Failure		415				{object}	Problem
//	@Failure		422				{object}	Problem
//	@Failure		429				{object}	Problem
//	@ID				submitSurvey
//	@Router			/v1/survey [post]
func (s *server) submitSurvey(c *gin.Context) error {
	var req SurveySubmission
	idem, err := readKeyedJSON(c, &req)
	if err != nil {
		return err
	}
	r, replayed, err := s.svc.SubmitSurvey(c.Request.Context(), alliance.SurveyInput(req), idem)
	if err != nil {
		return err
	}
	markReplayed(c, replayed)
	c.JSON(http.StatusCreated, SurveyReceipt{ID: r.ID, Session: r.Session, Role: string(r.Role), ReceivedAt: r.CreatedAt})
	return nil
}
