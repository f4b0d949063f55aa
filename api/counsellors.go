package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// getCounsellors godoc
//
//	@Summary		Dyads nested in counsellors: per-counsellor summaries, variance split and cluster-robust intervals
//	@Description	One session per dyad (as the study agreement: a number, first or last complete session) and one scale (default total), over complete dyads. Per counsellor (by code; client codes are not shown): n dyads, the mean client score, mean counsellor score and mean client − counsellor difference, each with a t interval clipped to the metric's range (null below 3 dyads), and the share of dyads where the client rates higher with its Wilson interval. The variance of the client score, the counsellor score and the difference split into a counsellor and a dyad level by the random-intercept model (REML as lme4::lmer, exact one-way ANOVA when balanced; estimator named): ICC of clustering with its F interval, design effect, effective n. Study level, naive beside cluster-robust: the mean difference (t interval vs CR1 sandwich on G − 1 df), Pearson's r and Lin's CCC (Fisher-z / z-transform interval vs cluster-bootstrap percentile interval, 2000 replicates, fixed reported seed). warnings: few_clusters below 20 counsellors, small_n, ci_clipped. A single-role study is 422.
//	@Tags			agreement
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string	true	"study id"
//	@Param			session	query		string	false	"a session number, first or last (default first)"
//	@Param			scale	query		string	false	"total (default) or a subscale key"
//	@Param			conf	query		number	false	"confidence level of every interval (default 0.95; above 0, at most 0.999999)"
//	@Success		200		{object}	CounsellorsResponse
//	@Failure		400		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		503		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@ID				getCounsellors
//	@Router			/v1/studies/{id}/counsellors [get]
func (s *server) getCounsellors(c *gin.Context) error {
	conf, err := queryFloat(c, "conf")
	if err != nil {
		return err
	}
	a, err := s.svc.CounsellorAgreement(c.Request.Context(), c.Param("id"),
		alliance.CounsellorQuery{Session: c.Query("session"), Scale: c.Query("scale"), Conf: conf})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toCounsellorsResponse(a))
	return nil
}

// CounsellorResponse summarises one counsellor's dyads. client_higher is
// the share of dyads with client − counsellor > 0.
type CounsellorResponse struct {
	CounsellorCode string           `json:"counsellor_code" example:"K-03"`
	NDyads         int              `json:"n_dyads" example:"5"`
	Client         EstimateResponse `json:"client"`
	Counsellor     EstimateResponse `json:"counsellor"`
	Difference     EstimateResponse `json:"difference"`
	ClientHigher   EstimateResponse `json:"client_higher"`
}

// VarianceSplitResponse is the random-intercept model score ~ 1 +
// (1 | counsellor): sigma2_counsellor and sigma2_dyad, the ICC of
// clustering σ²_u/(σ²_u + σ²_e) with its F-based interval (not clipped: a
// negative lower bound means 0 is inside), the design effect
// 1 + (n/clusters − 1)·ICC and the effective n; estimator is anova (exact,
// balanced) or reml; boundary is true when σ²_u is estimated as 0.
type VarianceSplitResponse struct {
	Score            string   `json:"score" example:"difference" enums:"client,counsellor,difference"`
	N                int      `json:"n" example:"40"`
	Clusters         int      `json:"clusters" example:"8"`
	Reason           string   `json:"reason,omitempty" example:"n_too_small"`
	Estimator        string   `json:"estimator,omitempty" example:"reml" enums:"anova,reml"`
	Balanced         bool     `json:"balanced"`
	Boundary         bool     `json:"boundary"`
	Mean             *float64 `json:"mean" extensions:"x-nullable" example:"0.47"`
	SigmaCounsellor2 *float64 `json:"sigma2_counsellor" extensions:"x-nullable" example:"0.03"`
	SigmaDyad2       *float64 `json:"sigma2_dyad" extensions:"x-nullable" example:"0.2"`
	ICC              *float64 `json:"icc" extensions:"x-nullable" example:"0.12"`
	Lower            *float64 `json:"lower" extensions:"x-nullable" example:"-0.1"`
	Upper            *float64 `json:"upper" extensions:"x-nullable" example:"0.5"`
	DesignEffect     *float64 `json:"design_effect" extensions:"x-nullable" example:"1.5"`
	EffectiveN       *float64 `json:"effective_n" extensions:"x-nullable" example:"26.7"`
	REMLCriterion    *float64 `json:"reml_criterion" extensions:"x-nullable" example:"12.3"`
	REquivalent      string   `json:"r_equivalent"`
}

// BootstrapResponse is a cluster-bootstrap percentile interval: b
// replicates drawing counsellors with replacement, valid of them defined,
// reproducible from seed.
type BootstrapResponse struct {
	Method   string   `json:"method" example:"cluster_percentile"`
	Reason   string   `json:"reason,omitempty" example:"n_too_small"`
	Clusters int      `json:"clusters" example:"8"`
	Lower    *float64 `json:"lower" extensions:"x-nullable" example:"0.1"`
	Upper    *float64 `json:"upper" extensions:"x-nullable" example:"0.6"`
	B        int      `json:"b" example:"2000"`
	Valid    int      `json:"valid" example:"2000"`
	Seed     uint64   `json:"seed" example:"20261130"`
}

// ClusteredResponse holds the study-level figures, naive beside
// cluster-robust, with the number of clusters.
type ClusteredResponse struct {
	Clusters       int                    `json:"clusters" example:"8"`
	MeanDifference MeanDifferenceResponse `json:"mean_difference"`
	Pearson        CorrelationResponse    `json:"pearson"`
	PearsonCluster BootstrapResponse      `json:"pearson_cluster_bootstrap"`
	CCC            CCCResponse            `json:"ccc"`
	CCCCluster     BootstrapResponse      `json:"ccc_cluster_bootstrap"`
}

// CounsellorsResponse is the report on dyads nested in counsellors.
type CounsellorsResponse struct {
	StudyID      string                  `json:"study_id"`
	Session      string                  `json:"session" example:"first"`
	SessionRule  string                  `json:"session_rule"`
	Scale        string                  `json:"scale" example:"total"`
	Metric       string                  `json:"metric" example:"item_mean"`
	Direction    string                  `json:"direction" example:"client_minus_counsellor"`
	Conf         float64                 `json:"conf" example:"0.95"`
	NDyads       int                     `json:"n_dyads" example:"40"`
	NIncomplete  int                     `json:"n_incomplete" example:"2"`
	NCounsellors int                     `json:"n_counsellors" example:"8"`
	Counsellors  []CounsellorResponse    `json:"counsellors"`
	Variance     []VarianceSplitResponse `json:"variance"`
	StudyLevel   ClusteredResponse       `json:"study_level"`
	Warnings     []WarningResponse       `json:"warnings"`
}

func toBootstrap(f alliance.Figure[alliance.BootstrapCI], clusters int) BootstrapResponse {
	out := BootstrapResponse{Method: "cluster_percentile", Reason: f.Reason, Clusters: clusters,
		B: alliance.BootstrapReplicates, Seed: alliance.BootstrapSeed}
	if v := f.Value; v != nil {
		out.Lower, out.Upper, out.B, out.Valid, out.Seed = fin(v.Lower), fin(v.Upper), v.B, v.Valid, v.Seed
	}
	return out
}

func toCounsellorsResponse(a alliance.CounsellorAgreement) CounsellorsResponse {
	out := CounsellorsResponse{
		StudyID: a.Study.ID, Session: a.Selector.String(), SessionRule: sessionRule(a.Selector),
		Scale: a.Scale, Metric: metricItemMean, Direction: directionCMinT, Conf: a.Conf,
		NDyads: a.NPairs, NIncomplete: a.NIncomplete, NCounsellors: len(a.Counsellors),
		Counsellors: make([]CounsellorResponse, len(a.Counsellors)), Variance: make([]VarianceSplitResponse, len(a.Variance)),
		Warnings: toWarnings(a.Warnings),
	}
	for i, c := range a.Counsellors {
		out.Counsellors[i] = CounsellorResponse{CounsellorCode: c.Code, NDyads: c.NDyads,
			Client: toEstimate(c.Client, rMean), Counsellor: toEstimate(c.Counsellor, rMean),
			Difference: toEstimate(c.Difference, rMean), ClientHigher: toEstimate(c.ClientHigher, rShare)}
	}
	for i, v := range a.Variance {
		r := VarianceSplitResponse{Score: v.Score, N: a.NPairs, Clusters: len(a.Counsellors), Reason: v.Fit.Reason, REquivalent: rRandom}
		if f := v.Fit.Value; f != nil {
			r.N, r.Clusters, r.Estimator, r.Balanced, r.Boundary = f.N, f.Clusters, f.Estimator, f.Balanced, f.Boundary
			r.Mean, r.SigmaCounsellor2, r.SigmaDyad2, r.ICC = fin(f.Mean), fin(f.SigmaU2), fin(f.SigmaE2), fin(f.ICC)
			r.Lower, r.Upper, r.DesignEffect, r.EffectiveN, r.REMLCriterion = f.Lower, f.Upper, fin(f.DesignEffect), fin(f.EffectiveN), fin(f.REMLCriterion)
		}
		out.Variance[i] = r
	}
	cl := a.Clustered
	out.StudyLevel = ClusteredResponse{
		Clusters:       cl.Clusters,
		MeanDifference: toMeanDifference(cl.MeanDifference, a.NPairs, a.Conf),
		Pearson:        toCorrelationResponse(cl.Pearson, a.NPairs, a.Conf, rPearson),
		PearsonCluster: toBootstrap(cl.PearsonBootstrap, cl.Clusters),
		CCC:            toCCCResponse(cl.CCC, a.NPairs, a.Conf),
		CCCCluster:     toBootstrap(cl.CCCBootstrap, cl.Clusters),
	}
	return out
}
