package stats

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"
)

// Correlation is a correlation coefficient with the inference cor.test reports.
type Correlation struct {
	N     int      `json:"n"`
	R     float64  `json:"r"`
	P     *float64 `json:"p"`     // two-sided, t with n−2 df
	Lower *float64 `json:"lower"` // Fisher-z interval; nil when n < 4
	Upper *float64 `json:"upper"`
}

// Pearson is the product-moment correlation with cor.test's inference: p from
// t = r·sqrt(n−2)/sqrt(1−r²) on n−2 df, and the Fisher-z interval
// tanh(atanh(r) ± z_{(1+conf)/2}/sqrt(n−3)), which needs n ≥ 4.
// n < 3 is Undefined{n_too_small}; a constant x or y is Undefined{zero_variance}.
func Pearson(x, y []float64, conf float64) (Correlation, error) {
	if err := checkConf(conf); err != nil {
		return Correlation{}, err
	}
	if err := checkPair(x, y, 3); err != nil {
		return Correlation{}, err
	}
	if constant(x) || constant(y) {
		return Correlation{}, undefined(ReasonZeroVariance)
	}
	r := stat.Correlation(x, y, nil)
	if !finite(r) {
		return Correlation{}, undefined(ReasonUndefined)
	}
	r = math.Max(-1, math.Min(1, r))
	n := float64(len(x))
	c := Correlation{N: len(x), R: r}
	c.P = opt(tTwoSided(math.Sqrt(n-2)*r/math.Sqrt(1-r*r), n-2))
	if len(x) >= 4 {
		z, h := math.Atanh(r), qNorm((1+conf)/2)/math.Sqrt(n-3)
		c.Lower, c.Upper = opt(math.Tanh(z-h)), opt(math.Tanh(z+h))
	}
	return c, nil
}

// Spearman is Pearson on average ranks (ties share the mean rank), i.e. R's
// cor(x, y, method = "spearman"). P and the interval are cor.test applied to
// the ranks (t approximation and Fisher z), not cor.test's exact Spearman p.
func Spearman(x, y []float64, conf float64) (Correlation, error) {
	if err := checkPair(x, y, 0); err != nil {
		return Correlation{}, err
	}
	return Pearson(ranks(x), ranks(y), conf)
}

// ranks returns 1-based average ranks, as R's rank(ties.method = "average").
func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for m := i; m <= j; m++ {
			r[idx[m]] = avg
		}
		i = j + 1
	}
	return r
}

// CCCResult is Lin's concordance correlation in epiR::epi.ccc's conventions.
type CCCResult struct {
	N             int      `json:"n"`
	RhoC          float64  `json:"rho_c"`
	Lower         *float64 `json:"lower"` // z-transform interval
	Upper         *float64 `json:"upper"`
	SE            *float64 `json:"se"`             // asymptotic SE of rho_c (Lin 2000), epiR's sep
	CB            float64  `json:"c_b"`            // bias correction factor, rho_c = r·C_b
	LocationShift float64  `json:"location_shift"` // epiR l.shift = (ȳ − x̄)/(s²x·s²y)^¼, population variances
	ScaleShift    float64  `json:"scale_shift"`    // epiR s.shift = sd(y)/sd(x)
	Pearson       float64  `json:"pearson_r"`
}

// CCC computes Lin's (1989) concordance correlation coefficient exactly as
// epiR::epi.ccc(x, y, ci = "z-transform", conf.level = conf): moments use the
// n denominator, the SE is Lin's (2000) corrected asymptotic SE on n−2, and
// the interval is tanh(atanh(ρc) ± z·SE/(1−ρc²)). Note epiR's orientation:
// location and scale shifts are y relative to x.
//
// n < 3 is Undefined{n_too_small}. A constant x or y makes epiR's r, and so
// C_b, NaN; that is Undefined{zero_variance}. SE and bounds are nil when
// r = 0 or |ρc| = 1.
func CCC(x, y []float64, conf float64) (CCCResult, error) {
	if err := checkConf(conf); err != nil {
		return CCCResult{}, err
	}
	if err := checkPair(x, y, 3); err != nil {
		return CCCResult{}, err
	}
	k := float64(len(x))
	xb, vx := stat.MeanVariance(x, nil)
	yb, vy := stat.MeanVariance(y, nil)
	if constant(x) || constant(y) {
		return CCCResult{}, undefined(ReasonZeroVariance)
	}
	sx2, sy2 := vx*(k-1)/k, vy*(k-1)/k
	r := stat.Correlation(x, y, nil)
	p := 2 * r * math.Sqrt(sx2*sy2) / (sx2 + sy2 + sq(yb-xb))
	v := math.Sqrt(vy) / math.Sqrt(vx)
	u := (yb - xb) / math.Pow(sx2*sy2, 0.25)
	cb := 2 / (v + 1/v + u*u) // = p/r (epiR), but finite when r = 0
	if !finite(r, p, v, u, cb) {
		return CCCResult{}, undefined(ReasonUndefined)
	}
	sep := math.Sqrt(((1-r*r)*p*p*(1-p*p)/(r*r) + 2*p*p*p*(1-p)*u*u/r - 0.5*p*p*p*p*u*u*u*u/(r*r)) / (k - 2))
	t, set, zv := math.Atanh(p), sep/(1-p*p), qNorm(1-(1-conf)/2)
	return CCCResult{
		N: len(x), RhoC: p, SE: opt(sep),
		Lower: opt(math.Tanh(t - zv*set)), Upper: opt(math.Tanh(t + zv*set)),
		CB: cb, LocationShift: u, ScaleShift: v, Pearson: r,
	}, nil
}

// LinearFit is an ordinary least-squares line y = Intercept + Slope·x.
// The inferential fields are nil when n < 3 (no residual df).
type LinearFit struct {
	N           int      `json:"n"`
	Slope       float64  `json:"slope"`
	Intercept   float64  `json:"intercept"`
	SE          *float64 `json:"se"` // SE of the slope
	P           *float64 `json:"p"`  // two-sided t test of slope = 0 on n−2 df
	T           *float64 `json:"t"`  // Slope/SE
	DF          int      `json:"df"` // residual df, n − 2 (0 when n = 2)
	InterceptSE *float64 `json:"intercept_se"`
	Conf        float64  `json:"conf"`
	Lower       *float64 `json:"lower"` // Slope ∓ t_{(1+conf)/2, n−2}·SE (confint)
	Upper       *float64 `json:"upper"`
}

// Slope is SlopeConf at 95%.
func Slope(x, y []float64) (LinearFit, error) {
	return SlopeConf(x, y, 0.95)
}

// SlopeConf fits y on x by OLS, matching summary(lm(y ~ x)) and
// confint(lm(y ~ x), level = conf) for the slope row (plus the intercept's
// SE). Used for difference trajectories over sessions and Bland–Altman
// proportional bias. n < 2 is Undefined{n_too_small}; constant x is
// Undefined{zero_variance}; a perfect fit has SE 0, an infinite t (nil),
// p 0 and a zero-width interval, and a constant y a slope of 0 with t and p
// nil (0/0).
//
// y within lineTolerance of a constant or of a line counts as exactly so:
// scores are the doubles nearest their exact values, so client − counsellor
// differences that are equal in exact arithmetic (11/12 at every session)
// differ in their last bits, and a fit through them would report that
// rounding as an SE, a t and a p (R's lm does, warning "essentially perfect
// fit: summary may be unreliable").
func SlopeConf(x, y []float64, conf float64) (LinearFit, error) {
	if err := checkConf(conf); err != nil {
		return LinearFit{}, err
	}
	if err := checkPair(x, y, 2); err != nil {
		return LinearFit{}, err
	}
	if constant(x) {
		return LinearFit{}, undefined(ReasonZeroVariance)
	}
	a, b := stat.LinearRegression(x, y, nil, false)
	if !finite(a, b) {
		return LinearFit{}, undefined(ReasonUndefined)
	}
	tol := lineTolerance * maxAbs(y)
	if lo, hi := floats.Min(y), floats.Max(y); hi-lo <= tol {
		a, b = stat.Mean(y, nil), 0
	}
	fit := LinearFit{N: len(x), Slope: b, Intercept: a, Conf: conf}
	if n := float64(len(x)); n > 2 {
		xm := stat.Mean(x, nil)
		var sse, sxx float64
		for i := range x {
			sse += sq(y[i] - a - b*x[i])
			sxx += sq(x[i] - xm)
		}
		if math.Sqrt(sse/(n-2)) <= tol {
			sse = 0
		}
		s2 := sse / (n - 2)
		se := math.Sqrt(s2 / sxx)
		fit.DF = len(x) - 2
		fit.SE, fit.P, fit.T = opt(se), opt(tTwoSided(b/se, n-2)), opt(b/se)
		fit.InterceptSE = opt(math.Sqrt(s2 * (1/n + xm*xm/sxx)))
		h := qT((1+conf)/2, n-2) * se
		fit.Lower, fit.Upper = opt(b-h), opt(b+h)
	}
	return fit, nil
}
