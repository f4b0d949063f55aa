package api

import (
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// Blocks shared by the agreement responses (session, dyad, study,
// counsellors, summary), with their mappers from the domain.

// queryFloat reads an optional number query parameter; nil when absent.
func queryFloat(c *gin.Context, name string) (*float64, error) {
	s, ok := c.GetQuery(name)
	if !ok {
		return nil, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return nil, malformed(name, "invalid_value", name+" must be a number")
	}
	return &v, nil
}

// R calls that reproduce each block, so analysts can check a figure.
const (
	rStudyICC      = "psych::ICC(cbind(client, counsellor), lmer = FALSE, alpha = 1 - conf)"
	rDyadICC       = "psych::ICC(cbind(client_items, counsellor_items), lmer = FALSE)"
	rPearson       = `cor.test(client, counsellor, method = "pearson", conf.level = conf)`
	rSpearman      = `cor(client, counsellor, method = "spearman"); p and CI: cor.test(rank(client), rank(counsellor), conf.level = conf)`
	rCCC           = `epiR::epi.ccc(counsellor, client, ci = "z-transform", conf.level = conf)`
	rBlandAltman   = "d <- client - counsellor; mean(d); sd(d); mean(d) + c(-1, 1) * multiplier * sd(d); CIs with qt((1 + conf) / 2, n - 1), SE(limit) = sqrt(3 * sd(d)^2 / n); proportional bias: lm(d ~ I((client + counsellor) / 2))"
	rSlope         = "fit <- lm(difference ~ session); summary(fit); confint(fit, level = conf)"
	rProportional  = "summary(lm(d ~ I((client + counsellor) / 2))); confint(.., level = 0.95)"
	rProfile       = "d <- client_items - counsellor_items; sum(d^2); cor(client_items, counsellor_items); elevation k*(mean(c)-mean(t))^2, scatter k*(sd0(c)-sd0(t))^2 with population SDs; rwg(J): multilevel::rwg.j(rbind(client_items, counsellor_items), grpid = c(1, 1), ranvar = (A^2 - 1) / 12)"
	rMean          = "t.test(x, conf.level = conf)$conf.int, then clipped to the metric's range"
	rShare         = "prop.test(x, n, conf.level = conf, correct = FALSE)$conf.int (Wilson)"
	rNaiveMean     = "t.test(client - counsellor, conf.level = conf)"
	rClusterMean   = "fit <- lm(d ~ 1); sandwich::vcovCL(fit, cluster = counsellor_code, type = \"HC1\"); interval with qt((1 + conf) / 2, G - 1)"
	rRandom        = "lme4::lmer(score ~ 1 + (1 | counsellor_code), REML = TRUE) (exact one-way ANOVA when balanced); ICC interval from anova(lm(score ~ factor(counsellor_code)))'s F"
	rKrippendorff  = "Krippendorff (2011) coincidence-matrix alpha over dyads (units) × {client, counsellor}, as in internal/stats/testdata/gen_fixtures.R, checked against Krippendorff's published examples (irr::kripp.alpha(t(cbind(client, counsellor)), method) implements the same algorithm; not run here)"
	metricItemMean = "item_mean"
	directionCMinT = "client_minus_counsellor"
)

// WarningResponse is something to know before reading the figures. code
// is stable: small_n, ceiling, floor, low_variance, ci_clipped,
// few_clusters or single_rater_only (rules in docs/statistics.md); scale
// is null when the warning concerns the whole response.
type WarningResponse struct {
	Code   string  `json:"code" example:"ceiling" enums:"small_n,ceiling,floor,low_variance,ci_clipped,few_clusters,single_rater_only"`
	Scale  *string `json:"scale" extensions:"x-nullable" example:"total"`
	Detail string  `json:"detail" example:"client: 0 of 40 scale scores (0%) at the maximum 5 and 130 of 478 item answers (27%) at the item maximum 5; 15% or more is a ceiling effect"`
}

func toWarnings(ws []alliance.Warning) []WarningResponse {
	out := make([]WarningResponse, len(ws))
	for i, w := range ws {
		out[i] = WarningResponse{Code: w.Code, Detail: w.Detail}
		if w.Scale != "" {
			sc := w.Scale
			out[i].Scale = &sc
		}
	}
	return out
}

// ScaleDifferenceResponse is one scale of one session on the item-mean
// metric. client and counsellor are the two scale scores, each the mean of
// the items that side answered; difference is client − counsellor of
// those scores (not the mean item difference over items both answered,
// which is profile.common_items_mean_difference), null with a reason when
// a side has not rated (client_rating_missing, counsellor_rating_missing)
// or its score is missing (score_missing).
type ScaleDifferenceResponse struct {
	Scale         string   `json:"scale" example:"total"`
	Client        *float64 `json:"client" extensions:"x-nullable" example:"4.5"`
	Counsellor    *float64 `json:"counsellor" extensions:"x-nullable" example:"3.5833"`
	Difference    *float64 `json:"difference" extensions:"x-nullable" example:"0.9167"`
	AbsDifference *float64 `json:"abs_difference" extensions:"x-nullable" example:"0.9167"`
	Reason        string   `json:"reason,omitempty" example:"counsellor_rating_missing"`
}

func toScaleDifferences(ds []alliance.ScaleDifference) []ScaleDifferenceResponse {
	out := make([]ScaleDifferenceResponse, len(ds))
	for i, d := range ds {
		out[i] = ScaleDifferenceResponse(d)
	}
	return out
}

// ICCFormResponse is one of the six intraclass correlations, as one row of
// psych::ICC's results. lower and upper are null, with the ICC block's
// ci_reason, from fewer than 3 targets.
type ICCFormResponse struct {
	Type         string   `json:"type" example:"ICC2"`
	McGrawWong   string   `json:"mcgraw_wong" example:"ICC(A,1)"`
	ShroutFleiss string   `json:"shrout_fleiss" example:"ICC(2,1)"`
	Model        string   `json:"model" example:"two-way random, absolute agreement, single rater"`
	N            int      `json:"n" example:"40"`
	Value        *float64 `json:"value" extensions:"x-nullable" example:"0.41"`
	F            *float64 `json:"f" extensions:"x-nullable" example:"3.2"`
	DF1          float64  `json:"df1" example:"39"`
	DF2          float64  `json:"df2" example:"39"`
	P            *float64 `json:"p" extensions:"x-nullable" example:"0.0002"`
	Lower        *float64 `json:"lower" extensions:"x-nullable" example:"0.12"`
	Upper        *float64 `json:"upper" extensions:"x-nullable" example:"0.63"`
}

// ICCResponse is the two-way ANOVA behind the ICCs (targets × raters) and
// the six forms; forms is empty and the mean squares null, with a reason,
// when undefined (n_too_small, zero_variance); ci_reason says why the
// bounds are null while the values stand.
type ICCResponse struct {
	N           int               `json:"n" example:"40"`
	K           int               `json:"k" example:"2"`
	Conf        float64           `json:"conf" example:"0.95"`
	Reason      string            `json:"reason,omitempty" example:"zero_variance"`
	CIReason    string            `json:"ci_reason,omitempty" example:"n_too_small"`
	MSR         *float64          `json:"msr" extensions:"x-nullable"`
	MSC         *float64          `json:"msc" extensions:"x-nullable"`
	MSE         *float64          `json:"mse" extensions:"x-nullable"`
	MSW         *float64          `json:"msw" extensions:"x-nullable"`
	Forms       []ICCFormResponse `json:"forms"`
	REquivalent string            `json:"r_equivalent"`
}

var iccModels = map[string]string{
	"ICC1":  "one-way random, single rater",
	"ICC2":  "two-way random, absolute agreement, single rater",
	"ICC3":  "two-way mixed, consistency, single rater",
	"ICC1k": "one-way random, mean of k raters",
	"ICC2k": "two-way random, absolute agreement, mean of k raters",
	"ICC3k": "two-way mixed, consistency, mean of k raters",
}

func toICCResponse(f alliance.Figure[alliance.ICCTable], n int, conf float64, rEq string) ICCResponse {
	out := ICCResponse{N: n, K: 2, Conf: conf, Reason: f.Reason, CIReason: f.CIReason, Forms: []ICCFormResponse{}, REquivalent: rEq}
	if t := f.Value; t != nil {
		out.N, out.K = t.N, t.K
		out.MSR, out.MSC, out.MSE, out.MSW = fin(t.MSR), fin(t.MSC), fin(t.MSE), fin(t.MSW)
		for _, fm := range t.Forms {
			out.Forms = append(out.Forms, ICCFormResponse{
				Type: fm.Type, McGrawWong: fm.Name, ShroutFleiss: fm.ShroutFleiss, Model: iccModels[fm.Type],
				N: t.N, Value: fin(fm.Value), F: fm.F, DF1: fm.DF1, DF2: fm.DF2, P: fm.P, Lower: fm.Lower, Upper: fm.Upper,
			})
		}
	}
	return out
}

// fin returns &v; stats results are finite by contract.
func fin(v float64) *float64 { return &v }

// SlopeResponse is an OLS slope with its n, SE, t, p and interval
// (summary(lm), confint(lm)); slope is null with a reason when fewer than
// 2 sessions have a difference, and se, t, p and the bounds are null with
// ci_reason n_too_small below 3.
type SlopeResponse struct {
	Scale       string   `json:"scale,omitempty" example:"total"`
	N           int      `json:"n" example:"6"`
	Reason      string   `json:"reason,omitempty" example:"n_too_small"`
	CIReason    string   `json:"ci_reason,omitempty" example:"n_too_small"`
	Slope       *float64 `json:"slope" extensions:"x-nullable" example:"-0.05"`
	Intercept   *float64 `json:"intercept" extensions:"x-nullable" example:"0.8"`
	SE          *float64 `json:"se" extensions:"x-nullable" example:"0.02"`
	T           *float64 `json:"t" extensions:"x-nullable" example:"-2.5"`
	DF          int      `json:"df" example:"4"`
	P           *float64 `json:"p" extensions:"x-nullable" example:"0.04"`
	Conf        float64  `json:"conf" example:"0.95"`
	Lower       *float64 `json:"lower" extensions:"x-nullable" example:"-0.1"`
	Upper       *float64 `json:"upper" extensions:"x-nullable" example:"-0.003"`
	REquivalent string   `json:"r_equivalent"`
}

func toSlopeResponse(scale string, n int, conf float64, f alliance.Figure[alliance.LinearFit], rEq string) SlopeResponse {
	out := SlopeResponse{Scale: scale, N: n, Reason: f.Reason, CIReason: f.CIReason, Conf: conf, REquivalent: rEq}
	if v := f.Value; v != nil {
		out.N, out.Slope, out.Intercept, out.SE, out.T, out.DF, out.P = v.N, fin(v.Slope), fin(v.Intercept), v.SE, v.T, v.DF, v.P
		out.Lower, out.Upper = v.Lower, v.Upper
	}
	return out
}

// DescriptiveResponse describes one sample: sd uses n − 1 (R's sd).
type DescriptiveResponse struct {
	N    int      `json:"n" example:"40"`
	Mean *float64 `json:"mean" extensions:"x-nullable" example:"4.2"`
	SD   *float64 `json:"sd" extensions:"x-nullable" example:"0.55"`
	Min  *float64 `json:"min" extensions:"x-nullable" example:"2.75"`
	Max  *float64 `json:"max" extensions:"x-nullable" example:"5"`
}

func toDescriptive(s alliance.Summary) DescriptiveResponse { return DescriptiveResponse(s) }

// CorrelationResponse is a correlation with cor.test's p and the Fisher-z
// interval (bounds null, ci_reason n_too_small, when n < 4).
type CorrelationResponse struct {
	N           int      `json:"n" example:"40"`
	Reason      string   `json:"reason,omitempty" example:"zero_variance"`
	CIReason    string   `json:"ci_reason,omitempty" example:"n_too_small"`
	R           *float64 `json:"r" extensions:"x-nullable" example:"0.36"`
	P           *float64 `json:"p" extensions:"x-nullable" example:"0.02"`
	Lower       *float64 `json:"lower" extensions:"x-nullable" example:"0.05"`
	Upper       *float64 `json:"upper" extensions:"x-nullable" example:"0.61"`
	Conf        float64  `json:"conf" example:"0.95"`
	REquivalent string   `json:"r_equivalent"`
}

func toCorrelationResponse(f alliance.Figure[alliance.Correlation], n int, conf float64, rEq string) CorrelationResponse {
	out := CorrelationResponse{N: n, Reason: f.Reason, CIReason: f.CIReason, Conf: conf, REquivalent: rEq}
	if v := f.Value; v != nil {
		out.N, out.R, out.P, out.Lower, out.Upper = v.N, fin(v.R), v.P, v.Lower, v.Upper
	}
	return out
}

// CCCResponse is Lin's concordance correlation in epiR's conventions with
// x = counsellor and y = client, so location_shift > 0 when clients rate
// higher and scale_shift = sd(client)/sd(counsellor); rho_c = pearson_r·c_b.
// The bounds are null with ci_reason undefined when r = 0 or |rho_c| = 1.
type CCCResponse struct {
	N             int      `json:"n" example:"40"`
	Reason        string   `json:"reason,omitempty" example:"zero_variance"`
	CIReason      string   `json:"ci_reason,omitempty" example:"undefined"`
	RhoC          *float64 `json:"rho_c" extensions:"x-nullable" example:"0.3"`
	Lower         *float64 `json:"lower" extensions:"x-nullable" example:"0.1"`
	Upper         *float64 `json:"upper" extensions:"x-nullable" example:"0.48"`
	SE            *float64 `json:"se" extensions:"x-nullable" example:"0.1"`
	CB            *float64 `json:"c_b" extensions:"x-nullable" example:"0.8"`
	LocationShift *float64 `json:"location_shift" extensions:"x-nullable" example:"0.9"`
	ScaleShift    *float64 `json:"scale_shift" extensions:"x-nullable" example:"1.1"`
	PearsonR      *float64 `json:"pearson_r" extensions:"x-nullable" example:"0.36"`
	Conf          float64  `json:"conf" example:"0.95"`
	REquivalent   string   `json:"r_equivalent"`
}

func toCCCResponse(f alliance.Figure[alliance.CCCResult], n int, conf float64) CCCResponse {
	out := CCCResponse{N: n, Reason: f.Reason, CIReason: f.CIReason, Conf: conf, REquivalent: rCCC}
	if v := f.Value; v != nil {
		out.N, out.RhoC, out.Lower, out.Upper, out.SE = v.N, fin(v.RhoC), v.Lower, v.Upper, v.SE
		out.CB, out.LocationShift, out.ScaleShift, out.PearsonR = fin(v.CB), fin(v.LocationShift), fin(v.ScaleShift), fin(v.Pearson)
	}
	return out
}

// EstimateResponse is a mean or a share with its interval: value null with
// reason n_too_small when there is nothing to summarise, bounds null with
// ci_reason n_too_small from fewer than 3 observations; clipped is true
// when the interval was truncated to the metric's range. sd is the n − 1
// SD for means (null for shares).
type EstimateResponse struct {
	N           int      `json:"n" example:"6"`
	Value       *float64 `json:"value" extensions:"x-nullable" example:"4.1"`
	SD          *float64 `json:"sd" extensions:"x-nullable" example:"0.4"`
	Lower       *float64 `json:"lower" extensions:"x-nullable" example:"3.7"`
	Upper       *float64 `json:"upper" extensions:"x-nullable" example:"4.5"`
	Clipped     bool     `json:"clipped"`
	Reason      string   `json:"reason,omitempty" example:"n_too_small"`
	CIReason    string   `json:"ci_reason,omitempty" example:"n_too_small"`
	REquivalent string   `json:"r_equivalent"`
}

func toEstimate(e alliance.Estimate, rEq string) EstimateResponse {
	return EstimateResponse{N: e.N, Value: e.Value, SD: e.SD, Lower: e.Lower, Upper: e.Upper, Clipped: e.Clipped,
		Reason: e.Reason, CIReason: e.CIReason, REquivalent: rEq}
}

// MeanIntervalResponse is a mean with its standard error and interval,
// naive (t on n − 1 df) or cluster-robust (CR1 sandwich, t on
// clusters − 1 df).
type MeanIntervalResponse struct {
	N           int      `json:"n" example:"40"`
	Method      string   `json:"method" example:"cluster_robust_cr1" enums:"naive_t,cluster_robust_cr1"`
	Reason      string   `json:"reason,omitempty" example:"n_too_small"`
	CIReason    string   `json:"ci_reason,omitempty" example:"n_too_small"`
	Mean        *float64 `json:"mean" extensions:"x-nullable" example:"0.47"`
	SE          *float64 `json:"se" extensions:"x-nullable" example:"0.035"`
	DF          *float64 `json:"df" extensions:"x-nullable" example:"6"`
	Lower       *float64 `json:"lower" extensions:"x-nullable" example:"0.38"`
	Upper       *float64 `json:"upper" extensions:"x-nullable" example:"0.55"`
	REquivalent string   `json:"r_equivalent"`
}

// MeanDifferenceResponse is the study-level mean client − counsellor
// difference with the naive interval (dyads independent) beside the
// cluster-robust one (dyads nested in clusters counsellors).
type MeanDifferenceResponse struct {
	N             int                  `json:"n" example:"40"`
	Clusters      int                  `json:"clusters" example:"8"`
	Conf          float64              `json:"conf" example:"0.95"`
	Naive         MeanIntervalResponse `json:"naive"`
	ClusterRobust MeanIntervalResponse `json:"cluster_robust"`
}

func toMeanDifference(m alliance.MeanDifference, n int, conf float64) MeanDifferenceResponse {
	out := MeanDifferenceResponse{N: n, Clusters: m.Clusters, Conf: conf,
		Naive:         MeanIntervalResponse{N: n, Method: "naive_t", Reason: m.Naive.Reason, CIReason: m.Naive.CIReason, REquivalent: rNaiveMean},
		ClusterRobust: MeanIntervalResponse{N: n, Method: "cluster_robust_cr1", Reason: m.ClusterRobust.Reason, CIReason: m.ClusterRobust.CIReason, REquivalent: rClusterMean},
	}
	if v := m.Naive.Value; v != nil {
		nv := &out.Naive
		nv.Mean, nv.SE, nv.DF = fin(v.Mean), fin(v.SE), fin(v.DF)
		if nv.CIReason == "" {
			nv.Lower, nv.Upper = fin(v.Lower), fin(v.Upper)
		}
	}
	if v := m.ClusterRobust.Value; v != nil {
		cr := &out.ClusterRobust
		cr.Mean, cr.SE, cr.DF = fin(v.Mean), fin(v.SE), fin(v.DF)
		if cr.CIReason == "" {
			cr.Lower, cr.Upper = fin(v.Lower), fin(v.Upper)
		}
	}
	return out
}

// sessionRule says in words which session of each dyad a study-level
// response uses.
func sessionRule(sel alliance.SessionSelector) string {
	switch {
	case sel.Number > 0:
		return "session " + strconv.Itoa(sel.Number) + " of every dyad"
	case sel.Last:
		return "each dyad's last session rated by both sides (a dyad never complete contributes its last rated session and counts as incomplete)"
	}
	return "each dyad's first session rated by both sides (a dyad never complete contributes its first rated session and counts as incomplete)"
}
