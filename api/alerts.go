package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// AlertThresholdsBody are a study's alert thresholds. Absent or null
// fields take the defaults: divergence_band 1.0, rupture_z 1.96,
// low_alliance_cutoff null (each form's own clinical cutoff, where it has
// one: the SRS's 36).
type AlertThresholdsBody struct {
	// DivergenceBand: a divergence is |client − counsellor| ≥ band on the
	// total's item mean.
	DivergenceBand *float64 `json:"divergence_band" example:"1" extensions:"x-nullable"`
	// RuptureZ: a rupture is a drop of at least z·S_diff (Jacobson & Truax).
	RuptureZ *float64 `json:"rupture_z" example:"1.96" extensions:"x-nullable"`
	// LowAllianceCutoff: a total sum below it is low alliance; null uses
	// each form's own cutoff.
	LowAllianceCutoff *float64 `json:"low_alliance_cutoff" example:"36" extensions:"x-nullable"`
}

func toThresholdsBody(th alliance.AlertThresholds) AlertThresholdsBody {
	band, z := th.DivergenceBand, th.RuptureZ
	return AlertThresholdsBody{DivergenceBand: &band, RuptureZ: &z, LowAllianceCutoff: th.LowAllianceCutoff}
}

func (b *AlertThresholdsBody) input() *alliance.AlertThresholdsInput {
	if b == nil {
		return nil
	}
	return &alliance.AlertThresholdsInput{DivergenceBand: b.DivergenceBand, RuptureZ: b.RuptureZ, LowAllianceCutoff: b.LowAllianceCutoff}
}

// AlertReliabilityResponse says which reliability the rupture rule used: the
// study's own (source "study", from n complete ratings of the form at
// each dyad's first session, once n ≥ 30) or the published reference of
// the form (source "published", with its citation).
type AlertReliabilityResponse struct {
	Alpha    float64 `json:"alpha" example:"0.91"`
	SD       float64 `json:"sd" example:"0.7"`
	Source   string  `json:"source" example:"published" enums:"study,published"`
	N        int     `json:"n,omitempty" example:"42"`
	Citation string  `json:"citation,omitempty"`
}

// AlertFiguresResponse are the figures that triggered an alert; which
// are present depends on the kind. Scores are the total's item mean, but
// for low_alliance, whose metric is the sum.
type AlertFiguresResponse struct {
	Metric string `json:"metric" example:"item_mean" enums:"item_mean,sum"`
	// divergence: the client's score
	Client *float64 `json:"client,omitempty" example:"3.25"`
	// divergence: the counsellor's score
	Counsellor *float64 `json:"counsellor,omitempty" example:"4.5"`
	// divergence: client − counsellor
	Difference *float64 `json:"difference,omitempty" example:"-1.25"`
	// divergence: the band |difference| reached (the study's divergence band when the alert was raised)
	Band *float64 `json:"band,omitempty" example:"1"`
	// rupture and repair: the rater's previous rated session, its score,
	// this session's, the change, and the Jacobson–Truax figures.
	PreviousSession *int                      `json:"previous_session,omitempty" example:"2"`
	Previous        *float64                  `json:"previous,omitempty" example:"4.5"`
	Current         *float64                  `json:"current,omitempty" example:"3.5"`
	Change          *float64                  `json:"change,omitempty" example:"-1"`
	RCI             *float64                  `json:"rci,omitempty" example:"-3.37"`
	SDiff           *float64                  `json:"s_diff,omitempty" example:"0.297"`
	Threshold       *float64                  `json:"threshold,omitempty" example:"0.582"`
	Z               *float64                  `json:"z,omitempty" example:"1.96"`
	Reliability     *AlertReliabilityResponse `json:"reliability,omitempty"`
	// repair: the rupture it ends
	RuptureSession *int     `json:"rupture_session,omitempty" example:"3"`
	Rupture        *float64 `json:"rupture,omitempty" example:"3.5"`
	// low_alliance
	Sum          *float64 `json:"sum,omitempty" example:"33.5"`
	Cutoff       *float64 `json:"cutoff,omitempty" example:"36"`
	CutoffSource string   `json:"cutoff_source,omitempty" example:"form" enums:"form,study"`
}

// AlertResponse is one alert with the figures that triggered it. It holds
// pseudonymous codes and scores, never answers.
type AlertResponse struct {
	ID             string `json:"id" example:"al_01jd8x2k4m5n6p7q8r9s0t1v2w"`
	StudyID        string `json:"study_id"`
	DyadID         string `json:"dyad_id"`
	ClientCode     string `json:"client_code" example:"C-017"`
	CounsellorCode string `json:"counsellor_code" example:"K-03"`
	Kind           string `json:"kind" example:"divergence" enums:"divergence,rupture,repair,low_alliance"`
	// Role is the rater of a rupture, repair or low alliance; absent for
	// a divergence.
	Role    string `json:"role,omitempty" example:"client" enums:"client,counsellor"`
	Session int    `json:"session" example:"3"`
	State   string `json:"state" example:"open" enums:"open,acknowledged,resolved"`
	// Direction of a divergence: client_higher, or counsellor_higher, the
	// clinically worrying one (clinically_worrying true).
	Direction          string `json:"direction,omitempty" example:"counsellor_higher" enums:"client_higher,counsellor_higher"`
	ClinicallyWorrying bool   `json:"clinically_worrying,omitempty"`
	// Rule states the kind's rule; its parameters are in the figures.
	Rule    string               `json:"rule"`
	Figures AlertFiguresResponse `json:"figures"`
	// RatingID is the rating version whose write raised the alert;
	// RatingIDs the versions its figures come from.
	RatingID  string   `json:"rating_id"`
	RatingIDs []string `json:"rating_ids"`
	// EpisodeID ties a rupture and its repair: the rupture's id.
	EpisodeID      string     `json:"episode_id,omitempty"`
	CreatedAt      time.Time  `json:"created_at" format:"date-time"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty" format:"date-time"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty" example:"key:01jd8x0000000000000000000a"`
	// ResolvedAt is set when a rating the alert was computed from was
	// amended or voided (or a session rated in between changed what a
	// rupture compares); ResolvedBy is the rating version that did it.
	ResolvedAt     *time.Time `json:"resolved_at,omitempty" format:"date-time"`
	ResolvedBy     string     `json:"resolved_by,omitempty" example:"ra_01jd8x2k4m5n6p7q8r9s0t1v2w"`
	ResolvedReason string     `json:"resolved_reason,omitempty" example:"amended" enums:"amended,voided,reevaluated"`
}

// AlertList is one page of alerts, oldest first.
type AlertList struct {
	Items []AlertResponse `json:"items"`
	Next  *string         `json:"next" extensions:"x-nullable"`
}

func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }

func toAlertResponse(a alliance.Alert) AlertResponse {
	f := a.Figures
	out := AlertResponse{ID: a.ID, StudyID: a.StudyID, DyadID: a.DyadID, ClientCode: a.ClientCode, CounsellorCode: a.CounsellorCode,
		Kind: string(a.Kind), Role: string(a.Role), Session: a.Session, State: a.State(), Rule: alliance.AlertRule(a.Kind),
		RatingID: a.RatingID, RatingIDs: a.RatingIDs, EpisodeID: a.EpisodeID, CreatedAt: a.CreatedAt,
		AcknowledgedAt: a.AcknowledgedAt, AcknowledgedBy: a.AcknowledgedBy, ResolvedAt: a.ResolvedAt, ResolvedBy: a.ResolvedBy,
		ResolvedReason: a.ResolvedReason, Figures: AlertFiguresResponse{Metric: f.Metric}}
	fig := &out.Figures
	switch a.Kind {
	case alliance.AlertDivergence:
		out.Direction, out.ClinicallyWorrying = f.Direction, a.Worrying()
		fig.Client, fig.Counsellor, fig.Difference, fig.Band = fp(f.Client), fp(f.Counsellor), fp(f.Difference), fp(f.Band)
	case alliance.AlertRupture, alliance.AlertRepair:
		fig.PreviousSession, fig.Previous, fig.Current, fig.Change = ip(f.PreviousSession), fp(f.Previous), fp(f.Current), fp(f.Change)
		fig.SDiff, fig.Threshold, fig.Z = fp(f.SDiff), fp(f.Threshold), fp(f.Z)
		r := f.Reliability
		fig.Reliability = &AlertReliabilityResponse{Alpha: r.Alpha, SD: r.SD, Source: r.Source, N: r.N, Citation: r.Citation}
		if a.Kind == alliance.AlertRupture {
			fig.RCI = fp(f.RCI)
		} else {
			fig.RuptureSession, fig.Rupture = ip(f.RuptureSession), fp(f.Rupture)
		}
	case alliance.AlertLowAlliance:
		fig.Sum, fig.Cutoff, fig.CutoffSource = fp(f.Sum), fp(f.Cutoff), f.CutoffSource
	}
	return out
}

// alertFilter reads the query of an alert list.
func alertFilter(c *gin.Context, list string) (alliance.AlertFilter, error) {
	p, err := pageParams(c, list)
	if err != nil {
		return alliance.AlertFilter{}, err
	}
	f := alliance.AlertFilter{Kind: alliance.AlertKind(c.Query("kind")), State: c.Query("state"), Page: p}
	f.Since, err = queryTime(c, "since")
	return f, err
}

func (s *server) alertList(c *gin.Context, list string, f alliance.AlertFilter) error {
	as, next, err := pageOf(list, f.Page, func(a alliance.Alert) string { return a.ID }, func(p alliance.Page) ([]alliance.Alert, error) {
		g := f
		g.Page = p
		return s.svc.FindAlerts(c.Request.Context(), g)
	})
	if err != nil {
		return err
	}
	out := AlertList{Items: make([]AlertResponse, len(as)), Next: next}
	for i, a := range as {
		out.Items[i] = toAlertResponse(a)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// listStudyAlerts godoc
//
//	@Summary		List a study's alerts, oldest first
//	@Description	Alerts are raised in the transaction of the rating that triggers them: divergence (client − counsellor on the total item mean ≤ −band or ≥ +band at a complete session; counsellor_higher is the clinically worrying direction), rupture (one rater's total drops from their previous rated session by at least the Jacobson–Truax reliable change threshold), repair (a return to within that threshold after a rupture: one episode with it) and low_alliance (a total sum below the form's clinical cutoff). Each carries the figures that triggered it. Readable with admin, analyze and alerts keys; never answers.
//	@Tags			alerts
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string	true	"study id"
//	@Param			kind	query		string	false	"only this kind"									Enums(divergence, rupture, repair, low_alliance)
//	@Param			state	query		string	false	"only this state"									Enums(open, acknowledged, resolved)
//	@Param			since	query		string	false	"only alerts raised at or after this RFC 3339 time"	Format(date-time)
//	@Param			limit	query		int		false	"page size (1-500, default 50)"
//	@Param			after	query		string	false	"cursor: the next value of the previous page"
//	@Success		200		{object}	AlertList
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		422		{object}	Problem
//	@ID				listStudyAlerts
//	@Router			/v1/studies/{id}/alerts [get]
func (s *server) listStudyAlerts(c *gin.Context) error {
	list := "study-alerts:" + c.Param("id")
	f, err := alertFilter(c, list)
	if err != nil {
		return err
	}
	f.StudyID = c.Param("id")
	return s.alertList(c, list, f)
}

// listDyadAlerts godoc
//
//	@Summary	List a dyad's alerts, oldest first
//	@Tags		alerts
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		id		path		string	true	"dyad id"
//	@Param		kind	query		string	false	"only this kind"									Enums(divergence, rupture, repair, low_alliance)
//	@Param		state	query		string	false	"only this state"									Enums(open, acknowledged, resolved)
//	@Param		since	query		string	false	"only alerts raised at or after this RFC 3339 time"	Format(date-time)
//	@Param		limit	query		int		false	"page size (1-500, default 50)"
//	@Param		after	query		string	false	"cursor: the next value of the previous page"
//	@Success	200		{object}	AlertList
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Failure	403		{object}	Problem
//	@Failure	404		{object}	Problem
//	@Failure	422		{object}	Problem
//	@ID			listDyadAlerts
//	@Router		/v1/dyads/{id}/alerts [get]
func (s *server) listDyadAlerts(c *gin.Context) error {
	list := "dyad-alerts:" + c.Param("id")
	f, err := alertFilter(c, list)
	if err != nil {
		return err
	}
	f.DyadID = c.Param("id")
	return s.alertList(c, list, f)
}

// getAlert godoc
//
//	@Summary	Get an alert
//	@Tags		alerts
//	@Produce	json,application/problem+json
//	@Security	BearerAuth
//	@Param		id	path		string	true	"alert id"
//	@Success	200	{object}	AlertResponse
//	@Failure	401	{object}	Problem
//	@Failure	403	{object}	Problem
//	@Failure	404	{object}	Problem
//	@ID			getAlert
//	@Router		/v1/alerts/{id} [get]
func (s *server) getAlert(c *gin.Context) error {
	a, err := s.svc.FindAlert(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toAlertResponse(a))
	return nil
}

// acknowledgeAlert godoc
//
//	@Summary		Acknowledge an alert
//	@Description	A clinician marks the alert seen (audited, and published as alert.acknowledged). Acknowledging it again changes nothing. A resolved alert (its rating was amended or voided) is 409. Admin and alerts keys.
//	@Tags			alerts
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id	path		string	true	"alert id"
//	@Success		200	{object}	AlertResponse
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@Failure		404	{object}	Problem
//	@Failure		409	{object}	Problem
//	@Failure		429	{object}	Problem
//	@ID				acknowledgeAlert
//	@Router			/v1/alerts/{id}/acknowledge [post]
func (s *server) acknowledgeAlert(c *gin.Context) error {
	a, err := s.svc.AcknowledgeAlert(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toAlertResponse(a))
	return nil
}

// setAlertThresholds godoc
//
//	@Summary		Set a study's alert thresholds
//	@Description	Replaces the thresholds (absent or null fields take the defaults: divergence_band 1.0, rupture_z 1.96, low_alliance_cutoff null = each form's own). Audited with the thresholds before and after. They apply to ratings written from then on; alerts already raised stay.
//	@Tags			alerts
//	@Accept			json
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string				true	"study id"
//	@Param			body	body		AlertThresholdsBody	true	"the thresholds"
//	@Success		200		{object}	StudyResponse
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		413		{object}	Problem
//	@Failure		415		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		429		{object}	Problem
//	@ID				setAlertThresholds
//	@Router			/v1/studies/{id}/alert-thresholds [put]
func (s *server) setAlertThresholds(c *gin.Context) error {
	var req AlertThresholdsBody
	if _, err := readJSON(c, &req); err != nil {
		return err
	}
	st, err := s.svc.UpdateAlertThresholds(c.Request.Context(), c.Param("id"), *req.input())
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toStudyResponse(st))
	return nil
}
