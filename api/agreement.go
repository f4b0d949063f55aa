package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// getSessionAgreement godoc
//
//	@Summary		Agreement of one dyad session
//	@Description	Compares the client's and the counsellor's current ratings of one session. Per scale (total first, then the form's subscales): both item-mean scores, client − counsellor and its absolute value. Item level, on keyed answers over the items both answered (k_both): mean absolute item difference, profile correlation, D, D² and its Cronbach–Gleser split (elevation + scatter + shape = D²), rwg(J) truncated at 0 (secondary index), and the within-dyad ICC table (items × roles; unstable with ceiling effects). A session nobody rated is 404; a session only one side rated is 422 with errors[0].field = "session" and code client_rating_missing or counsellor_rating_missing. Undefined figures are null with a reason.
//	@Tags			agreement
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id		path		string	true	"dyad id"
//	@Param			session	path		int		true	"session number"
//	@Success		200		{object}	SessionAgreementResponse
//	@Failure		400		{object}	Problem
//	@Failure		404		{object}	Problem
//	@Failure		422		{object}	Problem
//	@Failure		503		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		403		{object}	Problem
//	@Router			/v1/dyads/{id}/sessions/{session}/agreement [get]
func (s *server) getSessionAgreement(c *gin.Context) error {
	session, err := pathInt(c, "session")
	if err != nil {
		return err
	}
	a, err := s.svc.SessionAgreement(c.Request.Context(), c.Param("id"), session)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toSessionAgreementResponse(a))
	return nil
}

// getDyadAgreement godoc
//
//	@Summary		Agreement trajectory of a dyad over its sessions
//	@Description	For every session with a current rating: each role's total and subscale item means and client − counsellor (null with a reason when a side has not rated or its score is missing). Per scale, the OLS slope of the difference over session number, from sessions with a defined difference (n); a negative slope with a positive gap means the two views converge. Incomplete sessions are listed and counted but not used.
//	@Tags			agreement
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id	path		string	true	"dyad id"
//	@Success		200	{object}	DyadAgreementResponse
//	@Failure		404	{object}	Problem
//	@Failure		422	{object}	Problem
//	@Failure		503	{object}	Problem
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@Router			/v1/dyads/{id}/agreement [get]
func (s *server) getDyadAgreement(c *gin.Context) error {
	a, err := s.svc.DyadAgreement(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toDyadAgreementResponse(a))
	return nil
}

// getStudyAgreement godoc
//
//	@Summary		Agreement between clients and counsellors across a study's dyads
//	@Description	One session per dyad: a session number, or each dyad's first or last complete session (a dyad never complete counts as incomplete). Per scale: n pairs, n_incomplete, descriptives per role, Pearson r (Fisher-z CI), Spearman ρ (average ranks), the six ICCs (psych type, McGraw–Wong and Shrout–Fleiss names, F, df, p, CI), Lin's CCC (z-transform CI, C_b, location and scale shift), Bland–Altman (bias, SD, limits with CIs, proportional-bias slope) and counts of client higher / counsellor higher / within the band. Once per study: Cronbach's α per role and Cohen's κ (unweighted, linear, quadratic) per item on the form's full category set. Every block names the R call that reproduces it (r_equivalent). Dyads sharing a counsellor are not independent; treat p-values and CIs as descriptive.
//	@Tags			agreement
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id			path		string		true	"study id"
//	@Param			session		query		string		false	"a session number, first or last (default first)"
//	@Param			scale		query		[]string	false	"scales to report: total and/or subscale keys (default all); repeat or comma-separate"	collectionFormat(multi)
//	@Param			band		query		number		false	"agreement band on the item-mean metric (default 0.5, ≥ 0)"
//	@Param			multiplier	query		number		false	"Bland–Altman limits multiplier (default 1.96, > 0)"
//	@Param			conf		query		number		false	"confidence level of every interval (default 0.95, in (0,1))"
//	@Success		200			{object}	StudyAgreementResponse
//	@Failure		400			{object}	Problem
//	@Failure		404			{object}	Problem
//	@Failure		422			{object}	Problem
//	@Failure		503			{object}	Problem
//	@Failure		401			{object}	Problem
//	@Failure		403			{object}	Problem
//	@Router			/v1/studies/{id}/agreement [get]
func (s *server) getStudyAgreement(c *gin.Context) error {
	q, err := agreementQuery(c)
	if err != nil {
		return err
	}
	a, err := s.svc.StudyAgreement(c.Request.Context(), c.Param("id"), q)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toStudyAgreementResponse(a))
	return nil
}

// agreementQuery reads the query parameters every study-level figure
// shares (session, scale, band, multiplier, conf): the agreement report,
// its plots and the dashboard's pages. A number that does not parse is a
// 400 naming the parameter; the domain checks the values (422).
func agreementQuery(c *gin.Context) (alliance.AgreementQuery, error) {
	q := alliance.AgreementQuery{Session: c.Query("session"), Scales: queryScales(c)}
	var err error
	if q.Band, err = queryFloat(c, "band"); err != nil {
		return q, err
	}
	if q.LoAMultiplier, err = queryFloat(c, "multiplier"); err != nil {
		return q, err
	}
	q.Conf, err = queryFloat(c, "conf")
	return q, err
}

// queryScales reads the scale parameter, repeated or comma-separated.
func queryScales(c *gin.Context) []string {
	var out []string
	for _, v := range c.QueryArray("scale") {
		for _, sc := range strings.Split(v, ",") {
			if sc = strings.TrimSpace(sc); sc != "" {
				out = append(out, sc)
			}
		}
	}
	return out
}

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
	rStudyICC        = "psych::ICC(cbind(client, counsellor), lmer = FALSE, alpha = 1 - conf)"
	rDyadICC         = "psych::ICC(cbind(client_items, counsellor_items), lmer = FALSE)"
	rPearson         = `cor.test(client, counsellor, method = "pearson", conf.level = conf)`
	rSpearman        = `cor(client, counsellor, method = "spearman"); p and CI: cor.test(rank(client), rank(counsellor), conf.level = conf)`
	rCCC             = `epiR::epi.ccc(counsellor, client, ci = "z-transform", conf.level = conf)`
	rBlandAltman     = "d <- client - counsellor; mean(d); sd(d); mean(d) + c(-1, 1) * multiplier * sd(d); CIs with qt((1 + conf) / 2, n - 1), SE(limit) = sqrt(3 * sd(d)^2 / n); proportional bias: lm(d ~ I((client + counsellor) / 2))"
	rAlpha           = "psych::alpha(keyed_items[complete.cases(keyed_items), ], check.keys = FALSE)$total"
	rKappa           = "psych::cohen.kappa(cbind(client, counsellor), levels = categories, alpha = 1 - conf); linear: w = 1 - abs(outer(1:K, 1:K, `-`)) / (K - 1)"
	rSlope           = "summary(lm(difference ~ session))"
	rProfile         = "d <- client_items - counsellor_items; sum(d^2); cor(client_items, counsellor_items); elevation k*(mean(c)-mean(t))^2, scatter k*(sd0(c)-sd0(t))^2 with population SDs; rwg(J): multilevel::rwg.j(rbind(client_items, counsellor_items), grpid = c(1, 1), ranvar = (A^2 - 1) / 12)"
	metricItemMean   = "item_mean"
	directionCMinusT = "client_minus_counsellor"
)

// --- shared blocks ---

// ScaleDifferenceResponse is one scale of one session on the item-mean
// metric; difference is client − counsellor, null with a reason when a
// side has not rated (client_rating_missing, counsellor_rating_missing) or
// its score is missing (score_missing).
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
// psych::ICC's results.
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
// when undefined (n_too_small, zero_variance).
type ICCResponse struct {
	N           int               `json:"n" example:"40"`
	K           int               `json:"k" example:"2"`
	Conf        float64           `json:"conf" example:"0.95"`
	Reason      string            `json:"reason,omitempty" example:"zero_variance"`
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
	out := ICCResponse{N: n, K: 2, Conf: conf, Reason: f.Reason, Forms: []ICCFormResponse{}, REquivalent: rEq}
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

// --- session ---

// ItemPairResponse is one item on the keyed metric (reverse-keyed items
// reflected); null means unanswered.
type ItemPairResponse struct {
	Item       int      `json:"item" example:"1"`
	Client     *float64 `json:"client" extensions:"x-nullable" example:"5"`
	Counsellor *float64 `json:"counsellor" extensions:"x-nullable" example:"4"`
	Difference *float64 `json:"difference" extensions:"x-nullable" example:"1"`
}

// ProfileResponse is within-dyad profile agreement over the n = k_both
// items both answered. D² = elevation + scatter + shape exactly (population
// SDs). profile_r is null with profile_r_reason when k < 3 or a side gave
// the same answer to every item; rwg_j is truncated at 0.
type ProfileResponse struct {
	N                 int      `json:"n" example:"12"`
	Reason            string   `json:"reason,omitempty" example:"n_too_small"`
	MeanDifference    *float64 `json:"mean_difference" extensions:"x-nullable" example:"0.9167"`
	MeanAbsDifference *float64 `json:"mean_abs_difference" extensions:"x-nullable" example:"0.9167"`
	D2                *float64 `json:"d2" extensions:"x-nullable" example:"13"`
	D                 *float64 `json:"d" extensions:"x-nullable" example:"3.6056"`
	Elevation         *float64 `json:"elevation" extensions:"x-nullable" example:"10.0833"`
	Scatter           *float64 `json:"scatter" extensions:"x-nullable" example:"0.0006"`
	Shape             *float64 `json:"shape" extensions:"x-nullable" example:"2.9161"`
	ProfileR          *float64 `json:"profile_r" extensions:"x-nullable" example:"0.5071"`
	ProfileRReason    string   `json:"profile_r_reason,omitempty" example:"zero_variance"`
	RwgJ              *float64 `json:"rwg_j" extensions:"x-nullable" example:"0.97"`
	MeanItemVariance  *float64 `json:"mean_item_variance" extensions:"x-nullable" example:"0.5417"`
	REquivalent       string   `json:"r_equivalent"`
}

// ItemAgreementResponse is the item-level agreement of one session.
type ItemAgreementResponse struct {
	KItems        int                `json:"k_items" example:"12"`
	KBoth         int                `json:"k_both" example:"12"`
	ScaleMin      float64            `json:"scale_min" example:"1"`
	ScaleMax      float64            `json:"scale_max" example:"5"`
	Items         []ItemPairResponse `json:"items"`
	Profile       ProfileResponse    `json:"profile"`
	WithinDyadICC ICCResponse        `json:"within_dyad_icc"`
}

// SessionAgreementResponse is the agreement of one complete dyad session.
type SessionAgreementResponse struct {
	DyadID         string                    `json:"dyad_id"`
	StudyID        string                    `json:"study_id"`
	Session        int                       `json:"session" example:"1"`
	ClientForm     string                    `json:"client_form" example:"wai_sr_client"`
	CounsellorForm string                    `json:"counsellor_form" example:"wai_sr_therapist"`
	Metric         string                    `json:"metric" example:"item_mean"`
	Direction      string                    `json:"direction" example:"client_minus_counsellor"`
	Scales         []ScaleDifferenceResponse `json:"scales"`
	ItemLevel      ItemAgreementResponse     `json:"item_level"`
}

func toSessionAgreementResponse(a alliance.SessionAgreement) SessionAgreementResponse {
	it := a.Items
	out := SessionAgreementResponse{
		DyadID: a.Dyad.ID, StudyID: a.Dyad.StudyID, Session: a.Session, ClientForm: a.ClientForm, CounsellorForm: a.CounsellorForm,
		Metric: metricItemMean, Direction: directionCMinusT, Scales: toScaleDifferences(a.Scales),
		ItemLevel: ItemAgreementResponse{
			KItems: it.KItems, KBoth: it.KBoth, ScaleMin: it.ScaleMin, ScaleMax: it.ScaleMax,
			Items:         make([]ItemPairResponse, len(it.Items)),
			Profile:       ProfileResponse{N: it.KBoth, Reason: it.Profile.Reason, REquivalent: rProfile},
			WithinDyadICC: toICCResponse(it.ICC, it.KBoth, alliance.DefaultConf, rDyadICC),
		},
	}
	for i, p := range it.Items {
		out.ItemLevel.Items[i] = ItemPairResponse(p)
	}
	if p := it.Profile.Value; p != nil {
		pr := &out.ItemLevel.Profile
		pr.N = p.K
		pr.MeanDifference, pr.MeanAbsDifference = fin(p.MeanDiff), fin(p.MeanAbsDiff)
		pr.D2, pr.D = fin(p.D2), fin(p.D)
		pr.Elevation, pr.Scatter, pr.Shape = fin(p.Elevation), fin(p.Scatter), fin(p.Shape)
		pr.ProfileR, pr.ProfileRReason = p.ProfileR, p.ProfileRReason
		pr.RwgJ, pr.MeanItemVariance = fin(p.RwgJ), fin(p.MeanItemVar)
	}
	return out
}

// --- dyad trajectory ---

// SessionTrajectoryResponse is one session of a dyad's course. missing
// names the role that has not rated an incomplete session.
type SessionTrajectoryResponse struct {
	Session  int                       `json:"session" example:"3"`
	Complete bool                      `json:"complete"`
	Missing  *string                   `json:"missing" extensions:"x-nullable" example:"counsellor"`
	Scales   []ScaleDifferenceResponse `json:"scales"`
}

// SlopeResponse is an OLS slope with its n; slope is null with a reason
// when fewer than 2 sessions have a difference.
type SlopeResponse struct {
	Scale       string   `json:"scale,omitempty" example:"total"`
	N           int      `json:"n" example:"6"`
	Reason      string   `json:"reason,omitempty" example:"n_too_small"`
	Slope       *float64 `json:"slope" extensions:"x-nullable" example:"-0.05"`
	Intercept   *float64 `json:"intercept" extensions:"x-nullable" example:"0.8"`
	SE          *float64 `json:"se" extensions:"x-nullable" example:"0.02"`
	P           *float64 `json:"p" extensions:"x-nullable" example:"0.04"`
	REquivalent string   `json:"r_equivalent"`
}

func toSlopeResponse(scale string, n int, f alliance.Figure[alliance.LinearFit], rEq string) SlopeResponse {
	out := SlopeResponse{Scale: scale, N: n, Reason: f.Reason, REquivalent: rEq}
	if v := f.Value; v != nil {
		out.N, out.Slope, out.Intercept, out.SE, out.P = v.N, fin(v.Slope), fin(v.Intercept), v.SE, v.P
	}
	return out
}

// DyadAgreementResponse is a dyad's agreement trajectory.
type DyadAgreementResponse struct {
	DyadID         string                      `json:"dyad_id"`
	StudyID        string                      `json:"study_id"`
	ClientCode     string                      `json:"client_code" example:"C-017"`
	CounsellorCode string                      `json:"counsellor_code" example:"K-03"`
	Metric         string                      `json:"metric" example:"item_mean"`
	Direction      string                      `json:"direction" example:"client_minus_counsellor"`
	Scales         []string                    `json:"scales" example:"total,goal,task,bond"`
	NSessions      int                         `json:"n_sessions" example:"6"`
	NComplete      int                         `json:"n_complete" example:"5"`
	NIncomplete    int                         `json:"n_incomplete" example:"1"`
	Sessions       []SessionTrajectoryResponse `json:"sessions"`
	Slopes         []SlopeResponse             `json:"difference_slopes"`
}

func toDyadAgreementResponse(a alliance.DyadAgreement) DyadAgreementResponse {
	out := DyadAgreementResponse{
		DyadID: a.Dyad.ID, StudyID: a.Dyad.StudyID, ClientCode: a.Dyad.ClientCode, CounsellorCode: a.Dyad.CounsellorCode,
		Metric: metricItemMean, Direction: directionCMinusT, Scales: a.Scales,
		NSessions: len(a.Sessions), NComplete: a.NComplete, NIncomplete: a.NIncomplete,
		Sessions: make([]SessionTrajectoryResponse, len(a.Sessions)), Slopes: make([]SlopeResponse, len(a.Slopes)),
	}
	for i, s := range a.Sessions {
		out.Sessions[i] = SessionTrajectoryResponse{Session: s.Session, Complete: s.Complete, Scales: toScaleDifferences(s.Scales)}
		if s.Missing != "" {
			m := string(s.Missing)
			out.Sessions[i].Missing = &m
		}
	}
	for i, s := range a.Slopes {
		out.Slopes[i] = toSlopeResponse(s.Scale, s.N, s.Fit, rSlope)
	}
	return out
}

// --- study ---

// DescriptiveResponse describes one sample: sd uses n − 1 (R's sd).
type DescriptiveResponse struct {
	N    int      `json:"n" example:"40"`
	Mean *float64 `json:"mean" extensions:"x-nullable" example:"4.2"`
	SD   *float64 `json:"sd" extensions:"x-nullable" example:"0.55"`
	Min  *float64 `json:"min" extensions:"x-nullable" example:"2.75"`
	Max  *float64 `json:"max" extensions:"x-nullable" example:"5"`
}

// CorrelationResponse is a correlation with cor.test's p and the Fisher-z
// interval (bounds null when n < 4).
type CorrelationResponse struct {
	N           int      `json:"n" example:"40"`
	Reason      string   `json:"reason,omitempty" example:"zero_variance"`
	R           *float64 `json:"r" extensions:"x-nullable" example:"0.36"`
	P           *float64 `json:"p" extensions:"x-nullable" example:"0.02"`
	Lower       *float64 `json:"lower" extensions:"x-nullable" example:"0.05"`
	Upper       *float64 `json:"upper" extensions:"x-nullable" example:"0.61"`
	Conf        float64  `json:"conf" example:"0.95"`
	REquivalent string   `json:"r_equivalent"`
}

func toCorrelationResponse(f alliance.Figure[alliance.Correlation], n int, conf float64, rEq string) CorrelationResponse {
	out := CorrelationResponse{N: n, Reason: f.Reason, Conf: conf, REquivalent: rEq}
	if v := f.Value; v != nil {
		out.N, out.R, out.P, out.Lower, out.Upper = v.N, fin(v.R), v.P, v.Lower, v.Upper
	}
	return out
}

// CCCResponse is Lin's concordance correlation in epiR's conventions with
// x = counsellor and y = client, so location_shift > 0 when clients rate
// higher and scale_shift = sd(client)/sd(counsellor); rho_c = pearson_r·c_b.
type CCCResponse struct {
	N             int      `json:"n" example:"40"`
	Reason        string   `json:"reason,omitempty" example:"zero_variance"`
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

// IntervalResponse is a two-sided confidence interval.
type IntervalResponse struct {
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
}

// BlandAltmanResponse holds limits of agreement for d = client − counsellor:
// bias ± multiplier·sd_diff, t-based CIs (SE of a limit sqrt(3s²/n)), and
// the proportional-bias regression of d on the pair mean.
type BlandAltmanResponse struct {
	N                int               `json:"n" example:"40"`
	Reason           string            `json:"reason,omitempty" example:"n_too_small"`
	Bias             *float64          `json:"bias" extensions:"x-nullable" example:"0.5"`
	SDDiff           *float64          `json:"sd_diff" extensions:"x-nullable" example:"0.6"`
	Multiplier       float64           `json:"multiplier" example:"1.96"`
	LowerLoA         *float64          `json:"lower_loa" extensions:"x-nullable" example:"-0.68"`
	UpperLoA         *float64          `json:"upper_loa" extensions:"x-nullable" example:"1.68"`
	BiasCI           *IntervalResponse `json:"bias_ci" extensions:"x-nullable"`
	LowerLoACI       *IntervalResponse `json:"lower_loa_ci" extensions:"x-nullable"`
	UpperLoACI       *IntervalResponse `json:"upper_loa_ci" extensions:"x-nullable"`
	ProportionalBias SlopeResponse     `json:"proportional_bias"`
	Conf             float64           `json:"conf" example:"0.95"`
	REquivalent      string            `json:"r_equivalent"`
}

// DirectionResponse counts dyads by the sign of client − counsellor beyond
// ± band (item-mean metric); the three counts add up to n.
type DirectionResponse struct {
	N                int     `json:"n" example:"40"`
	Band             float64 `json:"band" example:"0.5"`
	ClientHigher     int     `json:"client_higher" example:"18"`
	CounsellorHigher int     `json:"counsellor_higher" example:"2"`
	WithinBand       int     `json:"within_band" example:"20"`
}

// ScaleAgreementResponse holds the across-dyad statistics of one scale.
// n counts the pairs used; n_incomplete the dyads with only one side at
// the selected session; n_score_missing complete sessions where a side's
// score of this scale is missing.
type ScaleAgreementResponse struct {
	Scale         string              `json:"scale" example:"total"`
	N             int                 `json:"n" example:"40"`
	NIncomplete   int                 `json:"n_incomplete" example:"2"`
	NScoreMissing int                 `json:"n_score_missing" example:"0"`
	Client        DescriptiveResponse `json:"client"`
	Counsellor    DescriptiveResponse `json:"counsellor"`
	Difference    DescriptiveResponse `json:"difference"`
	Pearson       CorrelationResponse `json:"pearson"`
	Spearman      CorrelationResponse `json:"spearman"`
	ICC           ICCResponse         `json:"icc"`
	CCC           CCCResponse         `json:"ccc"`
	BlandAltman   BlandAltmanResponse `json:"bland_altman"`
	Direction     DirectionResponse   `json:"direction"`
}

// AlphaResponse is Cronbach's alpha of one role's form over its ratings at
// the selected session, on keyed items, complete cases (n); zero-variance
// items are dropped as psych does (dropped_items lists their keys).
type AlphaResponse struct {
	Role         string   `json:"role" example:"client"`
	Form         string   `json:"form" example:"wai_sr_client"`
	NRatings     int      `json:"n_ratings" example:"40"`
	N            int      `json:"n" example:"38"`
	K            int      `json:"k" example:"12"`
	Reason       string   `json:"reason,omitempty" example:"n_too_small"`
	RawAlpha     *float64 `json:"raw_alpha" extensions:"x-nullable" example:"0.91"`
	StdAlpha     *float64 `json:"std_alpha" extensions:"x-nullable" example:"0.91"`
	FeldtLower   *float64 `json:"feldt_lower" extensions:"x-nullable" example:"0.86"`
	FeldtUpper   *float64 `json:"feldt_upper" extensions:"x-nullable" example:"0.95"`
	DroppedItems []int    `json:"dropped_items"`
	REquivalent  string   `json:"r_equivalent"`
}

// KappaEstimateResponse is one kappa with psych's variance and interval.
type KappaEstimateResponse struct {
	Value    float64  `json:"value" example:"0.3"`
	Variance float64  `json:"variance" example:"0.01"`
	Lower    *float64 `json:"lower" extensions:"x-nullable" example:"0.1"`
	Upper    *float64 `json:"upper" extensions:"x-nullable" example:"0.5"`
}

// ItemKappaResponse is Cohen's kappa for one item across complete dyads
// that both answered it; the kappas are null with a reason when undefined.
type ItemKappaResponse struct {
	Item       int                    `json:"item" example:"1"`
	N          int                    `json:"n" example:"40"`
	Reason     string                 `json:"reason,omitempty" example:"zero_variance"`
	Unweighted *KappaEstimateResponse `json:"unweighted" extensions:"x-nullable"`
	Linear     *KappaEstimateResponse `json:"linear" extensions:"x-nullable"`
	Quadratic  *KappaEstimateResponse `json:"quadratic" extensions:"x-nullable"`
}

// ItemKappasResponse holds the per-item kappas over the form's full
// category set; categories and items are empty, with a reason, when the
// response scale is not integer-stepped.
type ItemKappasResponse struct {
	Categories  []int               `json:"categories" example:"1,2,3,4,5"`
	Reason      string              `json:"reason,omitempty" example:"scale_not_integer_stepped"`
	Conf        float64             `json:"conf" example:"0.95"`
	Items       []ItemKappaResponse `json:"items"`
	REquivalent string              `json:"r_equivalent"`
}

// StudyAgreementResponse is the across-dyad agreement of a study at one
// session per dyad.
type StudyAgreementResponse struct {
	StudyID        string                   `json:"study_id"`
	ClientForm     string                   `json:"client_form" example:"wai_sr_client"`
	CounsellorForm string                   `json:"counsellor_form" example:"wai_sr_therapist"`
	Session        string                   `json:"session" example:"first"`
	SessionRule    string                   `json:"session_rule"`
	Metric         string                   `json:"metric" example:"item_mean"`
	Direction      string                   `json:"direction" example:"client_minus_counsellor"`
	Band           float64                  `json:"band" example:"0.5"`
	Multiplier     float64                  `json:"multiplier" example:"1.96"`
	Conf           float64                  `json:"conf" example:"0.95"`
	NDyads         int                      `json:"n_dyads" example:"42"`
	NComplete      int                      `json:"n_complete" example:"40"`
	NIncomplete    int                      `json:"n_incomplete" example:"2"`
	Scales         []ScaleAgreementResponse `json:"scales"`
	Alpha          []AlphaResponse          `json:"alpha"`
	ItemKappa      ItemKappasResponse       `json:"item_kappa"`
	Note           string                   `json:"note"`
}

const clusterNote = "dyads sharing a counsellor are not independent; p-values and intervals assume independent dyads, so treat them as descriptive and use multilevel or dyadic models for inference"

func sessionRule(sel alliance.SessionSelector) string {
	switch {
	case sel.Number > 0:
		return "session " + strconv.Itoa(sel.Number) + " of every dyad"
	case sel.Last:
		return "each dyad's last session rated by both sides (a dyad never complete contributes its last rated session and counts as incomplete)"
	}
	return "each dyad's first session rated by both sides (a dyad never complete contributes its first rated session and counts as incomplete)"
}

func toDescriptive(s alliance.Summary) DescriptiveResponse { return DescriptiveResponse(s) }

func toStudyAgreementResponse(a alliance.StudyAgreement) StudyAgreementResponse {
	out := StudyAgreementResponse{
		StudyID: a.Study.ID, ClientForm: a.Study.Forms[alliance.RoleClient], CounsellorForm: a.Study.Forms[alliance.RoleCounsellor],
		Session: a.Selector.String(), SessionRule: sessionRule(a.Selector),
		Metric: metricItemMean, Direction: directionCMinusT,
		Band: a.Band, Multiplier: a.LoAMultiplier, Conf: a.Conf,
		NDyads: a.NDyads, NComplete: a.NComplete, NIncomplete: a.NIncomplete,
		Scales: make([]ScaleAgreementResponse, len(a.Scales)), Alpha: make([]AlphaResponse, len(a.Alpha)),
		ItemKappa: ItemKappasResponse{Categories: a.Categories, Reason: a.KappaReason, Conf: a.Conf,
			Items: make([]ItemKappaResponse, len(a.Kappas)), REquivalent: rKappa},
		Note: clusterNote,
	}
	if out.ItemKappa.Categories == nil {
		out.ItemKappa.Categories = []int{}
	}
	for i, sc := range a.Scales {
		out.Scales[i] = toScaleAgreementResponse(sc, a)
	}
	for i, al := range a.Alpha {
		r := AlphaResponse{Role: string(al.Role), Form: al.Form, NRatings: al.NRatings, Reason: al.Alpha.Reason,
			DroppedItems: []int{}, REquivalent: rAlpha}
		if v := al.Alpha.Value; v != nil {
			r.N, r.K, r.RawAlpha, r.StdAlpha, r.FeldtLower, r.FeldtUpper = v.N, v.K, fin(v.Raw), fin(v.Std), v.FeldtLower, v.FeldtUpper
			for _, col := range v.DroppedItems {
				r.DroppedItems = append(r.DroppedItems, col+1) // columns are items in key order
			}
		}
		out.Alpha[i] = r
	}
	for i, k := range a.Kappas {
		r := ItemKappaResponse{Item: k.Item, N: k.N, Reason: k.Kappa.Reason}
		if v := k.Kappa.Value; v != nil {
			u, l, q := KappaEstimateResponse(v.Unweighted), KappaEstimateResponse(v.Linear), KappaEstimateResponse(v.Quadratic)
			r.Unweighted, r.Linear, r.Quadratic = &u, &l, &q
		}
		out.ItemKappa.Items[i] = r
	}
	return out
}

func toScaleAgreementResponse(sc alliance.ScaleAgreement, a alliance.StudyAgreement) ScaleAgreementResponse {
	out := ScaleAgreementResponse{
		Scale: sc.Scale, N: sc.N, NIncomplete: sc.NIncomplete, NScoreMissing: sc.NScoreMissing,
		Client: toDescriptive(sc.Client), Counsellor: toDescriptive(sc.Counsellor), Difference: toDescriptive(sc.Difference),
		Pearson:  toCorrelationResponse(sc.Pearson, sc.N, a.Conf, rPearson),
		Spearman: toCorrelationResponse(sc.Spearman, sc.N, a.Conf, rSpearman),
		ICC:      toICCResponse(sc.ICC, sc.N, a.Conf, rStudyICC),
		CCC:      CCCResponse{N: sc.N, Reason: sc.CCC.Reason, Conf: a.Conf, REquivalent: rCCC},
		BlandAltman: BlandAltmanResponse{N: sc.N, Reason: sc.BlandAltman.Reason, Multiplier: a.LoAMultiplier, Conf: a.Conf,
			REquivalent: rBlandAltman, ProportionalBias: SlopeResponse{N: sc.N, Reason: sc.BlandAltman.Reason, REquivalent: rSlope}},
		Direction: DirectionResponse{N: sc.N, Band: a.Band, ClientHigher: sc.ClientHigher,
			CounsellorHigher: sc.CounsellorHigher, WithinBand: sc.WithinBand},
	}
	if v := sc.CCC.Value; v != nil {
		c := &out.CCC
		c.N, c.RhoC, c.Lower, c.Upper, c.SE = v.N, fin(v.RhoC), v.Lower, v.Upper, v.SE
		c.CB, c.LocationShift, c.ScaleShift, c.PearsonR = fin(v.CB), fin(v.LocationShift), fin(v.ScaleShift), fin(v.Pearson)
	}
	if v := sc.BlandAltman.Value; v != nil {
		b := &out.BlandAltman
		b.N, b.Bias, b.SDDiff, b.Multiplier, b.LowerLoA, b.UpperLoA = v.N, fin(v.Bias), fin(v.SDDiff), v.Multiplier, fin(v.Lower), fin(v.Upper)
		bi, lo, up := IntervalResponse(v.BiasCI), IntervalResponse(v.LowerCI), IntervalResponse(v.UpperCI)
		b.BiasCI, b.LowerLoACI, b.UpperLoACI = &bi, &lo, &up
		fit := alliance.Figure[alliance.LinearFit]{Value: v.Trend, Reason: v.TrendReason}
		b.ProportionalBias = toSlopeResponse("", v.N, fit, "summary(lm(d ~ I((client + counsellor) / 2)))")
	}
	return out
}
