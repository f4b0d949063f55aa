package stats

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/stat"
)

// Interval is a two-sided confidence interval.
type Interval struct {
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
}

// BAResult holds Bland–Altman limits of agreement for differences x − y.
type BAResult struct {
	N           int        `json:"n"`
	Bias        float64    `json:"bias"`    // mean difference
	SDDiff      float64    `json:"sd_diff"` // SD of differences, n−1
	Multiplier  float64    `json:"multiplier"`
	Lower       float64    `json:"lower_loa"` // Bias − Multiplier·SDDiff
	Upper       float64    `json:"upper_loa"`
	BiasCI      Interval   `json:"bias_ci"`
	LowerCI     Interval   `json:"lower_loa_ci"`
	UpperCI     Interval   `json:"upper_loa_ci"`
	Trend       *LinearFit `json:"proportional_bias"`        // difference regressed on pair mean
	TrendReason string     `json:"proportional_bias_reason"` // why Trend is nil
}

// BlandAltman computes limits of agreement Bias ± multiplier·s for d = x − y
// (Bland & Altman 1986 used multiplier 2; 1.96 is the usual 95%). The CIs use
// t_{n−1} at conf with SE(bias) = s/√n and SE(limit) = sqrt(3s²/n), the
// 1986 paper's approximation. Proportional bias is OLS of d on (x+y)/2
// (see Slope); it is nil with a reason when the pair means are constant.
// Identical differences are legal (s = 0, zero-width limits). n < 2 is
// Undefined{n_too_small}.
func BlandAltman(x, y []float64, multiplier, conf float64) (BAResult, error) {
	if err := checkConf(conf); err != nil {
		return BAResult{}, err
	}
	if !(multiplier > 0) || math.IsInf(multiplier, 0) {
		return BAResult{}, invalid("multiplier %v must be positive and finite", multiplier)
	}
	if err := checkPair(x, y, 2); err != nil {
		return BAResult{}, err
	}
	n := float64(len(x))
	d, m := make([]float64, len(x)), make([]float64, len(x))
	for i := range x {
		d[i], m[i] = x[i]-y[i], (x[i]+y[i])/2
	}
	bias, s := stat.MeanStdDev(d, nil)
	if constant(d) {
		bias, s = d[0], 0
	}
	tq := qT((1+conf)/2, n-1)
	hb, hl := tq*s/math.Sqrt(n), tq*math.Sqrt(3*s*s/n)
	lo, up := bias-multiplier*s, bias+multiplier*s
	r := BAResult{
		N: len(x), Bias: bias, SDDiff: s, Multiplier: multiplier, Lower: lo, Upper: up,
		BiasCI:  Interval{bias - hb, bias + hb},
		LowerCI: Interval{lo - hl, lo + hl},
		UpperCI: Interval{up - hl, up + hl},
	}
	if !finite(bias, s, lo, up, hb, hl, r.LowerCI.Lower, r.UpperCI.Upper) {
		return BAResult{}, undefined(ReasonUndefined)
	}
	fit, err := Slope(m, d)
	var u *Undefined
	switch {
	case err == nil:
		r.Trend = &fit
	case errors.As(err, &u):
		r.TrendReason = u.Reason
	default:
		return BAResult{}, err
	}
	return r, nil
}

// ProfileResult describes how one client's item profile differs from the
// therapist's over the k items both answered.
type ProfileResult struct {
	K           int     `json:"k"`
	MeanDiff    float64 `json:"mean_diff"`     // c̄ − t̄
	MeanAbsDiff float64 `json:"mean_abs_diff"` // mean |c_i − t_i|
	D2          float64 `json:"d2"`            // Σ (c_i − t_i)²
	D           float64 `json:"d"`
	// Cronbach & Gleser (1953) decomposition of D2 with population SDs:
	// Elevation = k(c̄−t̄)², Scatter = k(s_c−s_t)², Shape = D2 − Elevation − Scatter.
	Elevation      float64  `json:"elevation"`
	Scatter        float64  `json:"scatter"`
	Shape          float64  `json:"shape"`
	ProfileR       *float64 `json:"profile_r"`        // Pearson r across items
	ProfileRReason string   `json:"profile_r_reason"` // n_too_small (k < 3) or zero_variance when ProfileR is nil
	RwgJ           float64  `json:"rwg_j"`
	MeanItemVar    float64  `json:"mean_item_variance"` // s̄² = mean of (c_i − t_i)²/2
}

// Profile computes within-dyad profile agreement for paired item responses c
// (client) and t (therapist); the caller drops items not answered by both.
// rwg(J) follows James, Demaree & Wolf (1984) with the uniform null
// σ²_EU = (A²−1)/12, A = scaleMax − scaleMin + 1 response options, dyad item
// variance (c_i − t_i)²/2 (n−1 with two raters), and is truncated to 0 when
// s̄² > σ²_EU (LeBreton & Senter 2008). Shape is computed as the remainder so
// Elevation + Scatter + Shape = D2 exactly and stays finite when r is undefined.
func Profile(c, t []float64, scaleMin, scaleMax float64) (ProfileResult, error) {
	if !finite(scaleMin, scaleMax) || scaleMax <= scaleMin {
		return ProfileResult{}, invalid("scale [%v, %v] is empty", scaleMin, scaleMax)
	}
	if err := checkPair(c, t, 1); err != nil {
		return ProfileResult{}, err
	}
	for i := range c {
		if c[i] < scaleMin || c[i] > scaleMax || t[i] < scaleMin || t[i] > scaleMax {
			return ProfileResult{}, invalid("response outside scale [%v, %v]", scaleMin, scaleMax)
		}
	}
	k := float64(len(c))
	var d2, absd float64
	for i := range c {
		d2 += sq(c[i] - t[i])
		absd += math.Abs(c[i] - t[i])
	}
	cm, sc := stat.PopMeanStdDev(c, nil)
	tm, st := stat.PopMeanStdDev(t, nil)
	elev, scat := k*sq(cm-tm), k*sq(sc-st)
	r := ProfileResult{
		K: len(c), MeanDiff: cm - tm, MeanAbsDiff: absd / k, D2: d2, D: math.Sqrt(d2),
		Elevation: elev, Scatter: scat, Shape: d2 - elev - scat,
	}
	switch {
	case len(c) < 3:
		r.ProfileRReason = ReasonNTooSmall
	case constant(c) || constant(t):
		r.ProfileRReason = ReasonZeroVariance
	default:
		r.ProfileR = opt(math.Max(-1, math.Min(1, stat.Correlation(c, t, nil))))
		if r.ProfileR == nil {
			r.ProfileRReason = ReasonUndefined
		}
	}
	a := scaleMax - scaleMin + 1
	r.MeanItemVar = d2 / 2 / k
	if q := r.MeanItemVar / ((a*a - 1) / 12); q <= 1 {
		r.RwgJ = k * (1 - q) / (k*(1-q) + q)
	}
	if !finite(r.MeanDiff, r.D2, r.Elevation, r.Scatter, r.Shape, r.RwgJ, r.MeanItemVar) {
		return ProfileResult{}, undefined(ReasonUndefined)
	}
	return r, nil
}
