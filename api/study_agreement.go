package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/alliance-project/alliance/internal/alliance"
)

// getStudyAgreement godoc
//
//	@Summary		Agreement between clients and counsellors across a study's dyads
//	@Description	One session per dyad: a session number, or each dyad's first or last complete session (a dyad never complete counts as incomplete). Per scale: n pairs, n_incomplete, descriptives per role, the mean difference with the naive t interval beside the cluster-robust (CR1, counsellors as clusters) one, Pearson r (Fisher-z CI), Spearman ρ (average ranks), the six ICCs (psych type, McGraw–Wong and Shrout–Fleiss names, F, df, p, CI), Lin's CCC (z-transform CI, C_b, location and scale shift), Bland–Altman (bias, SD, limits with CIs, proportional-bias slope), Krippendorff's α (interval and ordinal) and counts of client higher / counsellor higher / within the band. Once per study: Cronbach's α per role (pairwise by default as psych::alpha, or listwise with alpha=listwise; method and n used named), Cohen's κ (unweighted, linear, quadratic) per item on the form's full category set with Fleiss–Cohen–Everitt (1969) large-sample variances, and Krippendorff's α per item. Every block names the R call that reproduces it (r_equivalent). Undefined figures are null with a reason, bounds null with ci_reason; minimum n per figure in docs/statistics.md. warnings lists small_n, ceiling, floor, low_variance, ci_clipped and few_clusters findings. A single-role study is 422 (its figures are at /summary).
//	@Tags			agreement
//	@Produce		json,application/problem+json
//	@Security		BearerAuth
//	@Param			id			path		string		true	"study id"
//	@Param			session		query		string		false	"a session number, first or last (default first)"
//	@Param			scale		query		[]string	false	"scales to report: total and/or subscale keys (default all); repeat or comma-separate"	collectionFormat(multi)
//	@Param			band		query		number		false	"agreement band on the item-mean metric (default 0.5, ≥ 0)"
//	@Param			multiplier	query		number		false	"Bland–Altman limits multiplier (default 1.96; above 0, at most 10)"
//	@Param			conf		query		number		false	"confidence level of every interval (default 0.95; above 0, at most 0.999999)"
//	@Param			alpha		query		string		false	"Cronbach's alpha with missing answers: pairwise (default, psych's) or listwise"	Enums(pairwise, listwise)
//	@Success		200			{object}	StudyAgreementResponse
//	@Failure		400			{object}	Problem
//	@Failure		404			{object}	Problem
//	@Failure		422			{object}	Problem
//	@Failure		503			{object}	Problem
//	@Failure		401			{object}	Problem
//	@Failure		403			{object}	Problem
//	@ID				getStudyAgreement
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
// shares (session, scale, band, multiplier, conf, alpha): the agreement
// report, its plots and the dashboard's pages. A number that does not
// parse is a 400 naming the parameter; the domain checks the values (422).
func agreementQuery(c *gin.Context) (alliance.AgreementQuery, error) {
	q := alliance.AgreementQuery{Session: c.Query("session"), Scales: queryList(c, "scale"), Alpha: c.Query("alpha")}
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

// queryList reads a query parameter given repeatedly or comma-separated.
func queryList(c *gin.Context, name string) []string {
	var out []string
	for _, v := range c.QueryArray(name) {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

const (
	rAlphaPairwise = "psych::alpha(keyed_items, check.keys = FALSE)$total (pairwise covariances, psych's default)"
	rAlphaListwise = "psych::alpha(keyed_items[complete.cases(keyed_items), ], check.keys = FALSE)$total"
	rKappa         = `vcd::Kappa(table(factor(client, levels = categories), factor(counsellor, levels = categories)), weights = "Equal-Spacing") for unweighted and linear, weights = "Fleiss-Cohen" for quadratic: kappa and ASE = sqrt(variance); the kappa values equal psych::cohen.kappa(cbind(client, counsellor), levels = categories), its weighted variances do not (docs/statistics.md)`
	kappaMethod    = "fleiss_cohen_everitt_1969"
)

// IntervalResponse is a two-sided confidence interval.
type IntervalResponse struct {
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
}

// BlandAltmanResponse holds limits of agreement for d = client − counsellor:
// bias ± multiplier·sd_diff, t-based CIs (SE of a limit sqrt(3s²/n); null
// with ci_reason n_too_small below 3 pairs), and the proportional-bias
// regression of d on the pair mean.
type BlandAltmanResponse struct {
	N                int               `json:"n" example:"40"`
	Reason           string            `json:"reason,omitempty" example:"n_too_small"`
	CIReason         string            `json:"ci_reason,omitempty" example:"n_too_small"`
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

// KrippendorffResponse is Krippendorff's alpha of client vs counsellor for
// one metric over units (dyads, or answers to one item) with both values;
// n counts the pairable values (2 per unit). alpha is null with a reason
// below 2 units (n_too_small) or with a single value throughout
// (zero_variance).
type KrippendorffResponse struct {
	Metric string   `json:"metric" example:"interval" enums:"interval,ordinal"`
	Units  int      `json:"units" example:"40"`
	N      int      `json:"n" example:"80"`
	Reason string   `json:"reason,omitempty" example:"n_too_small"`
	Alpha  *float64 `json:"alpha" extensions:"x-nullable" example:"0.42"`
	DO     *float64 `json:"d_o" extensions:"x-nullable" example:"0.31"`
	DE     *float64 `json:"d_e" extensions:"x-nullable" example:"0.53"`
}

// KrippendorffPairResponse holds the interval and ordinal alphas.
type KrippendorffPairResponse struct {
	Interval    KrippendorffResponse `json:"interval"`
	Ordinal     KrippendorffResponse `json:"ordinal"`
	REquivalent string               `json:"r_equivalent"`
}

func toKrippendorff(p alliance.KrippendorffPair) KrippendorffPairResponse {
	one := func(metric string, f alliance.Figure[alliance.Krippendorff]) KrippendorffResponse {
		out := KrippendorffResponse{Metric: metric, Reason: f.Reason, Units: p.Units, N: p.N}
		if v := f.Value; v != nil {
			out.Alpha, out.DO, out.DE = fin(v.Alpha), fin(v.DO), fin(v.DE)
		}
		return out
	}
	return KrippendorffPairResponse{Interval: one("interval", p.Interval), Ordinal: one("ordinal", p.Ordinal), REquivalent: rKrippendorff}
}

// ScaleAgreementResponse holds the across-dyad statistics of one scale.
// n counts the pairs used; n_incomplete the dyads with only one side at
// the selected session; n_score_missing complete sessions where a side's
// score of this scale is missing.
type ScaleAgreementResponse struct {
	Scale          string                   `json:"scale" example:"total"`
	N              int                      `json:"n" example:"40"`
	NIncomplete    int                      `json:"n_incomplete" example:"2"`
	NScoreMissing  int                      `json:"n_score_missing" example:"0"`
	Client         DescriptiveResponse      `json:"client"`
	Counsellor     DescriptiveResponse      `json:"counsellor"`
	Difference     DescriptiveResponse      `json:"difference"`
	MeanDifference MeanDifferenceResponse   `json:"mean_difference"`
	Pearson        CorrelationResponse      `json:"pearson"`
	Spearman       CorrelationResponse      `json:"spearman"`
	ICC            ICCResponse              `json:"icc"`
	CCC            CCCResponse              `json:"ccc"`
	BlandAltman    BlandAltmanResponse      `json:"bland_altman"`
	Krippendorff   KrippendorffPairResponse `json:"krippendorff"`
	Direction      DirectionResponse        `json:"direction"`
}

// AlphaResponse is Cronbach's alpha of one role's form over its ratings at
// the selected session, on keyed items. method is pairwise (psych's
// default) or listwise; n is the number of ratings that method used (with
// any answer, or complete) and k the form's items, both given even when
// alpha is null; k_used excludes zero-variance items, which are dropped as
// psych does (dropped_items lists their keys); min_pair_n is the fewest
// ratings behind one covariance.
type AlphaResponse struct {
	Role         string   `json:"role" example:"client"`
	Form         string   `json:"form" example:"wai_sr_client"`
	Method       string   `json:"method" example:"pairwise" enums:"pairwise,listwise"`
	NRatings     int      `json:"n_ratings" example:"40"`
	N            int      `json:"n" example:"38"`
	K            int      `json:"k" example:"12"`
	KUsed        *int     `json:"k_used" extensions:"x-nullable" example:"12"`
	MinPairN     *int     `json:"min_pair_n" extensions:"x-nullable" example:"36"`
	Reason       string   `json:"reason,omitempty" example:"n_too_small"`
	RawAlpha     *float64 `json:"raw_alpha" extensions:"x-nullable" example:"0.91"`
	StdAlpha     *float64 `json:"std_alpha" extensions:"x-nullable" example:"0.91"`
	FeldtLower   *float64 `json:"feldt_lower" extensions:"x-nullable" example:"0.86"`
	FeldtUpper   *float64 `json:"feldt_upper" extensions:"x-nullable" example:"0.95"`
	DroppedItems []int    `json:"dropped_items"`
	REquivalent  string   `json:"r_equivalent"`
}

func toAlphaResponse(al alliance.RoleAlpha) AlphaResponse {
	r := AlphaResponse{Role: string(al.Role), Form: al.Form, Method: al.Method, NRatings: al.NRatings, N: al.N, K: al.K,
		Reason: al.Alpha.Reason, DroppedItems: []int{}, REquivalent: rAlphaPairwise}
	if al.Method == alliance.AlphaListwise {
		r.REquivalent = rAlphaListwise
	}
	if v := al.Alpha.Value; v != nil {
		k, m := v.KUsed, v.MinPairN
		r.KUsed, r.MinPairN = &k, &m
		r.RawAlpha, r.StdAlpha, r.FeldtLower, r.FeldtUpper = fin(v.Raw), fin(v.Std), v.FeldtLower, v.FeldtUpper
		r.DroppedItems = append(r.DroppedItems, v.DroppedItems...)
	}
	return r
}

// KappaEstimateResponse is one kappa with its Fleiss, Cohen & Everitt
// (1969) large-sample variance (se = sqrt(variance), SAS PROC FREQ's ASE),
// the interval value ± z·se clipped to [−1, 1] (clipped says when; null
// below 3 pairs), and the test of κ = 0 with the null variance.
type KappaEstimateResponse struct {
	Value        float64  `json:"value" example:"0.3"`
	Variance     float64  `json:"variance" example:"0.01"`
	SE           float64  `json:"se" example:"0.1"`
	Lower        *float64 `json:"lower" extensions:"x-nullable" example:"0.1"`
	Upper        *float64 `json:"upper" extensions:"x-nullable" example:"0.5"`
	Clipped      bool     `json:"clipped"`
	NullVariance float64  `json:"null_variance" example:"0.012"`
	Z            *float64 `json:"z" extensions:"x-nullable" example:"2.7"`
	P            *float64 `json:"p" extensions:"x-nullable" example:"0.007"`
}

// ItemKappaResponse is Cohen's kappa for one item across complete dyads
// that both answered it; the kappas are null with a reason when undefined
// (n_too_small below 2 pairs, zero_variance when both raters used one
// category), bounds null with ci_reason below 3 pairs.
type ItemKappaResponse struct {
	Item int `json:"item" example:"1"`
	// CounsellorItem is the counsellor form's item parallel to item.
	CounsellorItem int                    `json:"counsellor_item" example:"1"`
	N              int                    `json:"n" example:"40"`
	Reason         string                 `json:"reason,omitempty" example:"zero_variance"`
	CIReason       string                 `json:"ci_reason,omitempty" example:"n_too_small"`
	Unweighted     *KappaEstimateResponse `json:"unweighted" extensions:"x-nullable"`
	Linear         *KappaEstimateResponse `json:"linear" extensions:"x-nullable"`
	Quadratic      *KappaEstimateResponse `json:"quadratic" extensions:"x-nullable"`
}

// ItemKappasResponse holds the per-item kappas over the form's full
// category set; categories are empty and every item has a reason when the
// response scale is not integer-stepped.
type ItemKappasResponse struct {
	Categories  []int               `json:"categories" example:"1,2,3,4,5"`
	Reason      string              `json:"reason,omitempty" example:"scale_not_integer_stepped"`
	Method      string              `json:"variance_method" example:"fleiss_cohen_everitt_1969"`
	Conf        float64             `json:"conf" example:"0.95"`
	Items       []ItemKappaResponse `json:"items"`
	REquivalent string              `json:"r_equivalent"`
}

func toItemKappa(k alliance.ItemKappa) ItemKappaResponse {
	r := ItemKappaResponse{Item: k.Item, CounsellorItem: k.CounsellorItem, N: k.N, Reason: k.Kappa.Reason, CIReason: k.Kappa.CIReason}
	if v := k.Kappa.Value; v != nil {
		est := func(e alliance.KappaEstimate) *KappaEstimateResponse {
			return &KappaEstimateResponse{Value: e.Value, Variance: e.Variance, SE: e.SE, Lower: e.Lower, Upper: e.Upper,
				Clipped: e.Clipped, NullVariance: e.NullVariance, Z: e.Z, P: e.P}
		}
		r.Unweighted, r.Linear, r.Quadratic = est(v.Unweighted), est(v.Linear), est(v.Quadratic)
	}
	return r
}

// ItemKrippendorffResponse is Krippendorff's alpha of one item.
type ItemKrippendorffResponse struct {
	Item int `json:"item" example:"1"`
	// CounsellorItem is the counsellor form's item parallel to item.
	CounsellorItem int `json:"counsellor_item" example:"1"`
	N              int `json:"n" example:"40"`
	KrippendorffPairResponse
}

// StudyAgreementResponse is the across-dyad agreement of a study at one
// session per dyad.
type StudyAgreementResponse struct {
	StudyID          string                     `json:"study_id"`
	ClientForm       string                     `json:"client_form" example:"wai_sr_client"`
	CounsellorForm   string                     `json:"counsellor_form" example:"wai_sr_therapist"`
	Session          string                     `json:"session" example:"first"`
	SessionRule      string                     `json:"session_rule"`
	Metric           string                     `json:"metric" example:"item_mean"`
	Direction        string                     `json:"direction" example:"client_minus_counsellor"`
	Band             float64                    `json:"band" example:"0.5"`
	Multiplier       float64                    `json:"multiplier" example:"1.96"`
	Conf             float64                    `json:"conf" example:"0.95"`
	AlphaMethod      string                     `json:"alpha_method" example:"pairwise" enums:"pairwise,listwise"`
	NDyads           int                        `json:"n_dyads" example:"42"`
	NComplete        int                        `json:"n_complete" example:"40"`
	NIncomplete      int                        `json:"n_incomplete" example:"2"`
	NCounsellors     int                        `json:"n_counsellors" example:"8"`
	Scales           []ScaleAgreementResponse   `json:"scales"`
	Alpha            []AlphaResponse            `json:"alpha"`
	ItemKappa        ItemKappasResponse         `json:"item_kappa"`
	ItemKrippendorff []ItemKrippendorffResponse `json:"item_krippendorff"`
	Warnings         []WarningResponse          `json:"warnings"`
	Note             string                     `json:"note"`
}

const clusterNote = "dyads sharing a counsellor are not independent: every p-value and interval here assumes independent dyads except mean_difference.cluster_robust; GET /v1/studies/{id}/counsellors has the variance split by counsellor and cluster-bootstrap intervals for r and CCC"

func toStudyAgreementResponse(a alliance.StudyAgreement) StudyAgreementResponse {
	out := StudyAgreementResponse{
		StudyID: a.Study.ID, ClientForm: a.Study.Forms[alliance.RoleClient], CounsellorForm: a.Study.Forms[alliance.RoleCounsellor],
		Session: a.Selector.String(), SessionRule: sessionRule(a.Selector),
		Metric: metricItemMean, Direction: directionCMinT,
		Band: a.Band, Multiplier: a.LoAMultiplier, Conf: a.Conf, AlphaMethod: a.AlphaMethod,
		NDyads: a.NDyads, NComplete: a.NComplete, NIncomplete: a.NIncomplete, NCounsellors: a.NCounsellors,
		Scales: make([]ScaleAgreementResponse, len(a.Scales)), Alpha: make([]AlphaResponse, len(a.Alpha)),
		ItemKappa: ItemKappasResponse{Categories: a.Categories, Reason: a.KappaReason, Method: kappaMethod, Conf: a.Conf,
			Items: make([]ItemKappaResponse, len(a.Kappas)), REquivalent: rKappa},
		ItemKrippendorff: make([]ItemKrippendorffResponse, len(a.Kappas)),
		Warnings:         toWarnings(a.Warnings),
		Note:             clusterNote,
	}
	if out.ItemKappa.Categories == nil {
		out.ItemKappa.Categories = []int{}
	}
	for i, sc := range a.Scales {
		out.Scales[i] = toScaleAgreementResponse(sc, a)
	}
	for i, al := range a.Alpha {
		out.Alpha[i] = toAlphaResponse(al)
	}
	for i, k := range a.Kappas {
		out.ItemKappa.Items[i] = toItemKappa(k)
		out.ItemKrippendorff[i] = ItemKrippendorffResponse{Item: k.Item, CounsellorItem: k.CounsellorItem, N: k.N, KrippendorffPairResponse: toKrippendorff(k.Krippendorff)}
	}
	return out
}

func toScaleAgreementResponse(sc alliance.ScaleAgreement, a alliance.StudyAgreement) ScaleAgreementResponse {
	out := ScaleAgreementResponse{
		Scale: sc.Scale, N: sc.N, NIncomplete: sc.NIncomplete, NScoreMissing: sc.NScoreMissing,
		Client: toDescriptive(sc.Client), Counsellor: toDescriptive(sc.Counsellor), Difference: toDescriptive(sc.Difference),
		MeanDifference: toMeanDifference(sc.MeanDifference, sc.N, a.Conf),
		Pearson:        toCorrelationResponse(sc.Pearson, sc.N, a.Conf, rPearson),
		Spearman:       toCorrelationResponse(sc.Spearman, sc.N, a.Conf, rSpearman),
		ICC:            toICCResponse(sc.ICC, sc.N, a.Conf, rStudyICC),
		CCC:            toCCCResponse(sc.CCC, sc.N, a.Conf),
		BlandAltman: BlandAltmanResponse{N: sc.N, Reason: sc.BlandAltman.Reason, CIReason: sc.BlandAltman.CIReason, Multiplier: a.LoAMultiplier, Conf: a.Conf,
			REquivalent: rBlandAltman, ProportionalBias: SlopeResponse{N: sc.N, Reason: sc.BlandAltman.Reason, Conf: a.Conf, REquivalent: rProportional}},
		Krippendorff: toKrippendorff(sc.Krippendorff),
		Direction: DirectionResponse{N: sc.N, Band: a.Band, ClientHigher: sc.ClientHigher,
			CounsellorHigher: sc.CounsellorHigher, WithinBand: sc.WithinBand},
	}
	if v := sc.BlandAltman.Value; v != nil {
		b := &out.BlandAltman
		b.N, b.Bias, b.SDDiff, b.Multiplier, b.LowerLoA, b.UpperLoA = v.N, fin(v.Bias), fin(v.SDDiff), v.Multiplier, fin(v.Lower), fin(v.Upper)
		if bi, lo, up := alliance.BlandAltmanCIs(sc.BlandAltman); bi != nil {
			b.BiasCI, b.LowerLoACI, b.UpperLoACI = (*IntervalResponse)(bi), (*IntervalResponse)(lo), (*IntervalResponse)(up)
		}
		fit, conf := alliance.Figure[alliance.LinearFit]{Value: v.Trend, Reason: v.TrendReason}, a.Conf
		if v.Trend != nil {
			conf = v.Trend.Conf // stats fits the trend at 95% whatever conf is
			if v.Trend.SE == nil {
				fit.CIReason = sc.BlandAltman.CIReason
			}
		}
		b.ProportionalBias = toSlopeResponse("", v.N, conf, fit, rProportional)
	}
	return out
}
