package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// getSummary godoc
//
//	@Summary		Score summary of a study, role by role (what a client-only study has instead of agreement)
//	@Description	For each role that rates in the study, on one scale (default total): the metric (the sum when the form's clinical cut-off is stated on the sum, e.g. the SRS's 0–40; the item mean otherwise); per session number, the distribution of scores (n, mean, SD, min, quartiles as R's quantile type 7, max, counts at the metric's ends) and the share strictly below the form's clinical cut-off with its Wilson interval (null with reason no_clinical_cutoff when the form has none); session-to-session change (dyads rated at both session s − 1 and s: mean change with its t interval, counts of reliable increase, decrease and no reliable change by the Jacobson–Truax index, SD of session 1 and the form's published reliability or the study's own alpha at session 1, source named); and per-counsellor mean scores at one session per dyad (session: a number, or each dyad's first or last session the role rated). warnings: single_rater_only for a single-role study, small_n, ceiling, floor, low_variance, ci_clipped.
//	@Tags			agreement
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id			path		string	true	"study id"
//	@Param			session		query		string	false	"session of the per-counsellor means: a number, first or last (default first)"
//	@Param			scale		query		string	false	"total (default) or a subscale key"
//	@Param			conf		query		number	false	"confidence level of every interval (default 0.95; above 0, at most 0.999999)"
//	@Param			reliability	query		string	false	"reliability of the reliable change index: published (the form's) or study (the study's own alpha at session 1); default published when the form has one"	Enums(published, study)
//	@Success		200			{object}	SummaryResponse
//	@Failure		400			{object}	Problem
//	@Failure		404			{object}	Problem
//	@Failure		422			{object}	Problem
//	@Failure		503			{object}	Problem
//	@Failure		401			{object}	Problem
//	@Failure		403			{object}	Problem
//	@ID				getStudySummary
//	@Router			/v1/studies/{id}/summary [get]
func (s *server) getSummary(c *gin.Context) error {
	q, err := summaryQuery(c)
	if err != nil {
		return err
	}
	a, err := s.svc.StudySummary(c.Request.Context(), c.Param("id"), q)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toSummaryResponse(a))
	return nil
}

// summaryQuery reads the summary report's parameters, for the report and
// the dashboard's page of a single-role study.
func summaryQuery(c *gin.Context) (alliance.SummaryQuery, error) {
	conf, err := queryFloat(c, "conf")
	return alliance.SummaryQuery{Session: c.Query("session"), Scale: c.Query("scale"), Conf: conf, Reliability: c.Query("reliability")}, err
}

// CutoffResponse is a form's published clinical cut-off: scores strictly
// below value signal a possible concern.
type CutoffResponse struct {
	Value  float64 `json:"value" example:"36"`
	Metric string  `json:"metric" example:"sum" enums:"sum,item_mean"`
	Source string  `json:"source"`
}

// DistributionResponse describes one role's scores at one session.
type DistributionResponse struct {
	Session     int              `json:"session" example:"1"`
	N           int              `json:"n" example:"14"`
	Mean        *float64         `json:"mean" extensions:"x-nullable" example:"35.03"`
	SD          *float64         `json:"sd" extensions:"x-nullable" example:"2.94"`
	Min         *float64         `json:"min" extensions:"x-nullable" example:"30.5"`
	Q1          *float64         `json:"q1" extensions:"x-nullable" example:"33.1"`
	Median      *float64         `json:"median" extensions:"x-nullable" example:"35.1"`
	Q3          *float64         `json:"q3" extensions:"x-nullable" example:"37.6"`
	Max         *float64         `json:"max" extensions:"x-nullable" example:"39.9"`
	AtMin       int              `json:"at_min" example:"0"`
	AtMax       int              `json:"at_max" example:"2"`
	BelowCutoff EstimateResponse `json:"below_cutoff"`
}

// ChangeStepResponse is the change from session from to session to among
// the dyads rated at both.
type ChangeStepResponse struct {
	From             int              `json:"from" example:"1"`
	To               int              `json:"to" example:"2"`
	Change           EstimateResponse `json:"mean_change"`
	ReliableIncrease int              `json:"reliable_increase" example:"4"`
	ReliableDecrease int              `json:"reliable_decrease" example:"1"`
	NoReliableChange int              `json:"no_reliable_change" example:"8"`
}

// ReliableChangeResponse is the Jacobson & Truax (1991) criterion of one
// role's scores: SEM = sd·sqrt(1 − reliability), s_diff = √2·SEM, a change
// is reliable when |change| > threshold = 1.96·s_diff. sd is the SD of the
// scores at session 1; reliability_source says whether the reliability is
// the form's published value or the study's own alpha at session 1. Null
// with a reason when it cannot be formed (fewer than 3 scores at session
// 1, no published reliability when one was asked for, zero variance).
type ReliableChangeResponse struct {
	Reason            string               `json:"reason,omitempty" example:"n_too_small"`
	ReliabilitySource string               `json:"reliability_source,omitempty" example:"published" enums:"published,study_alpha"`
	ReliabilityKind   string               `json:"reliability_kind,omitempty" example:"cronbach_alpha"`
	Reference         string               `json:"reference,omitempty"`
	Reliability       *float64             `json:"reliability" extensions:"x-nullable" example:"0.88"`
	SD                *float64             `json:"sd" extensions:"x-nullable" example:"2.94"`
	SEM               *float64             `json:"sem" extensions:"x-nullable" example:"1.02"`
	SDiff             *float64             `json:"s_diff" extensions:"x-nullable" example:"1.44"`
	Threshold         *float64             `json:"threshold" extensions:"x-nullable" example:"2.82"`
	Steps             []ChangeStepResponse `json:"steps"`
	REquivalent       string               `json:"r_equivalent"`
}

// CounsellorMeanResponse is one counsellor's mean score.
type CounsellorMeanResponse struct {
	CounsellorCode string           `json:"counsellor_code" example:"S-01"`
	Mean           EstimateResponse `json:"mean"`
}

// RoleSummaryResponse is one role's scores in a study.
type RoleSummaryResponse struct {
	Role           string                   `json:"role" example:"client"`
	Form           string                   `json:"form" example:"srs_client"`
	Metric         string                   `json:"metric" example:"sum" enums:"sum,item_mean"`
	Min            float64                  `json:"min" example:"0"`
	Max            float64                  `json:"max" example:"40"`
	ClinicalCutoff *CutoffResponse          `json:"clinical_cutoff" extensions:"x-nullable"`
	Sessions       []DistributionResponse   `json:"sessions"`
	Change         ReliableChangeResponse   `json:"reliable_change"`
	Counsellors    []CounsellorMeanResponse `json:"counsellors"`
}

// SummaryResponse describes a study's scores role by role.
type SummaryResponse struct {
	StudyID  string                `json:"study_id"`
	Scale    string                `json:"scale" example:"total"`
	Session  string                `json:"session" example:"first"`
	Conf     float64               `json:"conf" example:"0.95"`
	Roles    []RoleSummaryResponse `json:"roles"`
	Warnings []WarningResponse     `json:"warnings"`
}

const rReliableChange = "sem <- sd(session1) * sqrt(1 - reliability); s_diff <- sqrt(2) * sem; rci <- (x2 - x1) / s_diff; reliable when abs(rci) > 1.96 (Jacobson & Truax 1991)"

func toSummaryResponse(a alliance.StudySummary) SummaryResponse {
	out := SummaryResponse{StudyID: a.Study.ID, Scale: a.Scale, Session: a.Selector.String(), Conf: a.Conf,
		Roles: make([]RoleSummaryResponse, len(a.Roles)), Warnings: toWarnings(a.Warnings)}
	for i, r := range a.Roles {
		rs := RoleSummaryResponse{Role: string(r.Role), Form: r.Form, Metric: r.Metric, Min: r.Min, Max: r.Max,
			Sessions: make([]DistributionResponse, len(r.Sessions)), Counsellors: make([]CounsellorMeanResponse, len(r.Counsellors)),
			Change: ReliableChangeResponse{Reason: r.Change.Reason, Steps: []ChangeStepResponse{}, REquivalent: rReliableChange}}
		if c := r.Cutoff; c != nil {
			rs.ClinicalCutoff = &CutoffResponse{Value: c.Value, Metric: c.Metric, Source: c.Source}
		}
		for j, d := range r.Sessions {
			rs.Sessions[j] = DistributionResponse{Session: d.Session, N: d.N, Mean: d.Summary.Mean, SD: d.Summary.SD,
				Min: d.Summary.Min, Q1: d.Q1, Median: d.Median, Q3: d.Q3, Max: d.Summary.Max, AtMin: d.AtMin, AtMax: d.AtMax,
				BelowCutoff: toEstimate(d.BelowCutoff, rShare)}
		}
		if ch := r.Change.Value; ch != nil {
			c := &rs.Change
			c.ReliabilitySource, c.ReliabilityKind, c.Reference = ch.Source, ch.ReliabilityKind, ch.Reference
			c.Reason = ch.Criterion.Reason
			if cr := ch.Criterion.Value; cr != nil {
				c.Reliability, c.SD, c.SEM, c.SDiff, c.Threshold = fin(cr.Reliability), fin(cr.SD), fin(cr.SEM), fin(cr.SDiff), fin(cr.Threshold)
			}
			for _, st := range ch.Steps {
				c.Steps = append(c.Steps, ChangeStepResponse{From: st.From, To: st.To, Change: toEstimate(st.Change, rMean),
					ReliableIncrease: st.ReliableIncrease, ReliableDecrease: st.ReliableDecrease, NoReliableChange: st.NoReliableChange})
			}
		}
		for j, cm := range r.Counsellors {
			rs.Counsellors[j] = CounsellorMeanResponse{CounsellorCode: cm.Code, Mean: toEstimate(cm.Mean, rMean)}
		}
		out.Roles[i] = rs
	}
	return out
}
