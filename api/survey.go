package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// SurveyResponse is what a survey-token holder sees: the session and role
// the link is for, the form to render and the missing-item policy the
// form applies in this study (the smaller of the study's and the form's
// fraction, 0 for a form scored only when complete): it says how many
// items the rater may leave unanswered so that every scale is still
// scored. Nothing about the other rater.
type SurveyResponse struct {
	Session       int                `json:"session" example:"3"`
	Role          string             `json:"role" example:"client" enums:"client,counsellor"`
	ExpiresAt     time.Time          `json:"expires_at"`
	Instrument    InstrumentResponse `json:"instrument"`
	MissingPolicy MissingPolicyBody  `json:"missing_policy"`
	// Language is the study's default language for the survey page; the
	// rater's browser language applies when it is empty.
	Language string `json:"language,omitempty" example:"sv"`
}

// SurveySubmission is the rater's answers, in form item order.
type SurveySubmission struct {
	SessionDate string     `json:"session_date,omitempty" example:"2026-11-23" format:"date"`
	Answers     []*float64 `json:"answers" example:"5,4,5,4,5,5,4,4,5,4,4,5" validate:"required"`
}

// SurveyReceipt confirms a stored survey rating.
type SurveyReceipt struct {
	ID         string    `json:"id"`
	Session    int       `json:"session" example:"3"`
	Role       string    `json:"role" example:"client" enums:"client,counsellor"`
	ReceivedAt time.Time `json:"received_at"`
}

// getSurvey godoc
//
//	@Summary		The form a survey link asks the rater to fill in
//	@Description	Authenticated by the survey token alone (Authorization: Bearer als_…). A link that can no longer be answered is 410 with code link_used (its answers are stored), link_expired or link_revoked (nothing was stored through it), and the study's survey language.
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
	f, err := s.svc.FindForm(c.Request.Context(), st.Forms[inv.Role])
	if err != nil {
		return err
	}
	// The policy the form applies, as the rating will record it: a page
	// that allowed the study's fraction would let a rater leave gaps that
	// a form scoring only complete answers leaves unscored.
	c.JSON(http.StatusOK, SurveyResponse{Session: inv.Session, Role: string(inv.Role), ExpiresAt: inv.ExpiresAt,
		Instrument: toInstrumentResponse(f, s.svc.ParallelForms(f)), MissingPolicy: toMissingPolicyBody(f.Applied(st.Policy)), Language: st.Language})
	return nil
}

// submitSurvey godoc
//
//	@Summary		Submit the rating a survey link is for
//	@Description	Validated and scored like any rating; the link is used up in the same transaction, so of two concurrent submissions exactly one is stored and the other gets 410; a link whose session and role were rated another way since it was sent gets 410 with code already_rated. The answer is a receipt: neither the scores nor anything of the other rater. Send an Idempotency-Key: a retry with the same key after the rating was stored gets the same receipt again (with Idempotent-Replayed: true) instead of 410, so a frontend on a flaky network can tell "stored" from "expired".
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
