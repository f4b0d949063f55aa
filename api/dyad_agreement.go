package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// getDyadAgreement godoc
//
//	@Summary		Agreement trajectory of a dyad over its sessions
//	@Description	For every session with a current rating: the session dates each side recorded, each role's total and subscale item means and client − counsellor (null with a reason when a side has not rated or its score is missing). Per scale, the OLS slope of the difference over session number, from sessions with a defined difference (n), with its SE, t, p and conf-level interval (null with ci_reason n_too_small below 3 sessions); a negative slope with a positive gap means the two views converge. first_sign_change is the first session whose difference has the other sign than the last non-zero difference before it (null with sign_change_reason no_sign_change or n_too_small). Incomplete sessions are listed and counted but not used. warnings: small_n for a slope from fewer than 3 sessions.
//	@Tags			agreement
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string	true	"dyad id"
//	@Param			conf	query		number	false	"confidence level of the slope intervals (default 0.95; above 0, at most 0.999999)"
//	@Success		200		{object}	DyadAgreementResponse
//	@Failure		400		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		503		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@ID				getDyadAgreement
//	@Router			/v1/dyads/{id}/agreement [get]
func (s *server) getDyadAgreement(c *gin.Context) error {
	conf, err := queryFloat(c, "conf")
	if err != nil {
		return err
	}
	a, err := s.svc.DyadAgreement(c.Request.Context(), c.Param("id"), conf)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toDyadAgreementResponse(a))
	return nil
}

// SessionTrajectoryResponse is one session of a dyad's course. missing
// names the role that has not rated an incomplete session; the dates are
// those each side recorded with its rating (null when not given).
type SessionTrajectoryResponse struct {
	Session               int                       `json:"session" example:"3"`
	Complete              bool                      `json:"complete"`
	Missing               *string                   `json:"missing" extensions:"x-nullable" example:"counsellor"`
	ClientSessionDate     *string                   `json:"client_session_date" format:"date" extensions:"x-nullable" example:"2026-11-23"`
	CounsellorSessionDate *string                   `json:"counsellor_session_date" format:"date" extensions:"x-nullable" example:"2026-11-23"`
	Scales                []ScaleDifferenceResponse `json:"scales"`
}

// SignChangeResponse is the first session where client − counsellor
// changed sign.
type SignChangeResponse struct {
	Session int    `json:"session" example:"4"`
	From    string `json:"from" example:"client_higher" enums:"client_higher,counsellor_higher"`
	To      string `json:"to" example:"counsellor_higher" enums:"client_higher,counsellor_higher"`
}

// DyadSlopeResponse is one scale's slope of the difference over sessions
// and its first sign change.
type DyadSlopeResponse struct {
	SlopeResponse
	FirstSignChange  *SignChangeResponse `json:"first_sign_change" extensions:"x-nullable"`
	SignChangeReason string              `json:"sign_change_reason,omitempty" example:"no_sign_change"`
}

// DyadAgreementResponse is a dyad's agreement trajectory.
type DyadAgreementResponse struct {
	DyadID         string                      `json:"dyad_id"`
	StudyID        string                      `json:"study_id"`
	ClientCode     string                      `json:"client_code" example:"C-017"`
	CounsellorCode string                      `json:"counsellor_code" example:"K-03"`
	Metric         string                      `json:"metric" example:"item_mean"`
	Direction      string                      `json:"direction" example:"client_minus_counsellor"`
	Conf           float64                     `json:"conf" example:"0.95"`
	Scales         []string                    `json:"scales" example:"total,goal,task,bond"`
	NSessions      int                         `json:"n_sessions" example:"6"`
	NComplete      int                         `json:"n_complete" example:"5"`
	NIncomplete    int                         `json:"n_incomplete" example:"1"`
	Sessions       []SessionTrajectoryResponse `json:"sessions"`
	Slopes         []DyadSlopeResponse         `json:"difference_slopes"`
	Warnings       []WarningResponse           `json:"warnings"`
}

func toDyadAgreementResponse(a alliance.DyadAgreement) DyadAgreementResponse {
	out := DyadAgreementResponse{
		DyadID: a.Dyad.ID, StudyID: a.Dyad.StudyID, ClientCode: a.Dyad.ClientCode, CounsellorCode: a.Dyad.CounsellorCode,
		Metric: metricItemMean, Direction: directionCMinT, Conf: a.Conf, Scales: a.Scales,
		NSessions: len(a.Sessions), NComplete: a.NComplete, NIncomplete: a.NIncomplete,
		Sessions: make([]SessionTrajectoryResponse, len(a.Sessions)), Slopes: make([]DyadSlopeResponse, len(a.Slopes)),
		Warnings: toWarnings(a.Warnings),
	}
	date := func(d *alliance.Date) *string {
		if d == nil {
			return nil
		}
		s := d.String()
		return &s
	}
	for i, s := range a.Sessions {
		out.Sessions[i] = SessionTrajectoryResponse{Session: s.Session, Complete: s.Complete, Scales: toScaleDifferences(s.Scales),
			ClientSessionDate: date(s.ClientDate), CounsellorSessionDate: date(s.CounsellorDate)}
		if s.Missing != "" {
			m := string(s.Missing)
			out.Sessions[i].Missing = &m
		}
	}
	for i, s := range a.Slopes {
		out.Slopes[i] = DyadSlopeResponse{SlopeResponse: toSlopeResponse(s.Scale, s.N, a.Conf, s.Fit, rSlope), SignChangeReason: s.SignChangeReason}
		if sc := s.SignChange; sc != nil {
			out.Slopes[i].FirstSignChange = &SignChangeResponse{Session: sc.Session, From: sc.From, To: sc.To}
		}
	}
	return out
}
