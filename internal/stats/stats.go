// Package stats implements the client–therapist agreement statistics used by
// alliance: intraclass correlations, Lin's concordance, Bland–Altman limits,
// Pearson/Spearman correlation, Cronbach's alpha (listwise and pairwise),
// Cohen's (weighted) kappa with Fleiss–Cohen–Everitt variances,
// Krippendorff's alpha, within-dyad profile indices, the random-intercept
// model of dyads nested in counsellors (REML, clustering ICC, design
// effect), cluster-robust and cluster-bootstrap intervals, reliable change,
// proportions with Wilson intervals, and means with t intervals and
// type-7 quantiles.
//
// Every function reproduces a named reference to 1e-9 unless its doc says
// otherwise: R's psych::ICC, psych::alpha, epiR::epi.ccc, cor.test, lm,
// prop.test, t.test, quantile, vcd::Kappa (kappa ASEs), sandwich::vcovCL, lme4::lmer (REML,
// 1e-6 against lmer's default optimiser), or a published worked example.
// The fixtures in testdata were produced by testdata/gen_fixtures.R.
//
// Results never contain NaN or Inf, so they marshal to JSON. When the data
// leave a statistic without a value, the function returns a *Undefined error;
// when only a secondary figure (a p-value, a confidence bound) is undefined,
// that field is a nil *float64.
package stats

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Stable reasons carried by Undefined; the API shows them to clients.
const (
	ReasonNTooSmall    = "n_too_small"
	ReasonZeroVariance = "zero_variance"
	// ReasonNoWithinVariance: the observations vary, but not within any
	// cluster (every counsellor's dyads score alike); the model's split is
	// at its boundary (ICC 1), where REML has no estimate.
	ReasonNoWithinVariance  = "no_within_variance"
	ReasonUndefined         = "undefined"
	ReasonMismatchedLengths = "mismatched_lengths"
)

// Undefined reports why a statistic has no value for the data; Reason is a
// stable code the API shows (one of the Reason* constants).
type Undefined struct{ Reason string }

func (u *Undefined) Error() string { return "stats: undefined: " + u.Reason }

// ErrInvalidArgument marks caller errors that are not properties of the data
// (a confidence level outside (0,1), a non-finite value, a rating outside the
// category set). It is wrapped, so test with errors.Is.
var ErrInvalidArgument = errors.New("stats: invalid argument")

func undefined(reason string) error { return &Undefined{Reason: reason} }

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidArgument}, a...)...)
}

// Summary describes one sample. Pointer fields are nil when undefined
// (Mean/Min/Max for N = 0, SD for N < 2).
type Summary struct {
	N    int      `json:"n"`
	Mean *float64 `json:"mean"`
	SD   *float64 `json:"sd"` // sample SD, n−1 denominator (R sd)
	Min  *float64 `json:"min"`
	Max  *float64 `json:"max"`
}

// Describe summarises x. SD uses the n−1 denominator like R's sd(). Non-finite
// summaries (overflow or NaN input) are reported as nil.
func Describe(x []float64) Summary {
	s := Summary{N: len(x)}
	if len(x) == 0 {
		return s
	}
	lo, hi := x[0], x[0]
	for _, v := range x {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	s.Mean, s.Min, s.Max = opt(stat.Mean(x, nil)), opt(lo), opt(hi)
	if len(x) > 1 {
		s.SD = opt(stat.StdDev(x, nil))
	}
	return s
}

// FisherMean averages correlations on Fisher's z scale (mean of atanh, then
// tanh), the recommended way to average profile correlations across dyads.
// |r| ≥ 1 has an infinite z and is reported as Undefined.
func FisherMean(rs []float64) (float64, error) {
	if len(rs) == 0 {
		return 0, undefined(ReasonNTooSmall)
	}
	var z float64
	for _, r := range rs {
		if math.IsNaN(r) || math.Abs(r) >= 1 {
			return 0, undefined(ReasonUndefined)
		}
		z += math.Atanh(r)
	}
	return math.Tanh(z / float64(len(rs))), nil
}

// opt returns &v, or nil when v is not finite.
func opt(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// constant reports whether all values are equal (zero variance without
// relying on a rounded variance being exactly 0).
// lineTolerance is the share of the data's magnitude within which values
// computed in floating point count as exactly equal, or exactly on a line:
// far below any difference of scores on a form's grid, far above rounding.
const lineTolerance = 1e-9

// maxAbs is the largest |v| of x.
func maxAbs(x []float64) float64 {
	var m float64
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

func constant(x []float64) bool {
	for _, v := range x {
		if v != x[0] {
			return false
		}
	}
	return true
}

func checkConf(conf float64) error {
	if !(conf > 0 && conf < 1) {
		return invalid("confidence level %v not in (0, 1)", conf)
	}
	return nil
}

func checkFinite(xs ...[]float64) error {
	for _, x := range xs {
		if !finite(x...) {
			return invalid("non-finite value in data")
		}
	}
	return nil
}

// checkPair validates paired samples: equal lengths, finite values, n ≥ minN.
func checkPair(x, y []float64, minN int) error {
	if len(x) != len(y) {
		return undefined(ReasonMismatchedLengths)
	}
	if err := checkFinite(x, y); err != nil {
		return err
	}
	if len(x) < minN {
		return undefined(ReasonNTooSmall)
	}
	return nil
}

// Distribution helpers; they return NaN instead of panicking on degenerate
// parameters so that opt() can turn the result into nil.

// qF is R's qf(p, d1, d2). gonum v0.17.0 has F.Quantile (inverse
// regularized incomplete beta), accurate to ~1e-12 for ordinary df; for
// extreme df (psych's Satterthwaite v can be tiny or huge) it can be far off,
// so the result is verified against the CDF and, failing that, recomputed by
// bisection on the beta scale. NaN if no accurate quantile is found.
//
// On the beta scale q is y = d1·q/(d1·q + d2), with CDF I_y(d1/2, d2/2),
// which keeps its precision where y is small (the lower tail). Where y
// lies closer to 1 than a float64 can say (the upper tail with a tiny
// d2: qf(0.975, 11, 0.163) = 5.8e18 is 1 − y ≈ 2.6e−21), the bisection
// solves for z = 1 − y instead, whose CDF I_z(d2/2, d1/2) is P(F > q).
func qF(p, d1, d2 float64) float64 {
	if !finite(d1, d2) || d1 <= 0 || d2 <= 0 || !(p > 0 && p < 1) {
		return math.NaN()
	}
	f := distuv.F{D1: d1, D2: d2}
	ok := func(q float64) bool { return finite(q) && q >= 0 && math.Abs(f.CDF(q)-p) <= 1e-10 }
	if q := f.Quantile(p); ok(q) {
		return q
	}
	y := bisectUnit(func(y float64) float64 { return mathext.RegIncBeta(d1/2, d2/2, y) }, p)
	if q := d2 * y / (d1 * (1 - y)); ok(q) {
		return q
	}
	tail := func(z float64) float64 { return mathext.RegIncBeta(d2/2, d1/2, z) }
	z := bisectUnit(tail, 1-p)
	if q := d2 * (1 - z) / (d1 * z); finite(q) && q >= 0 && math.Abs(tail(z)-(1-p)) <= 1e-10 {
		return q
	}
	return math.NaN()
}

// bisectUnit finds x in (0, 1) where the increasing g reaches target, to
// the last bit of x.
func bisectUnit(g func(float64) float64, target float64) float64 {
	lo, hi := 0.0, 1.0
	for range 2000 {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi {
			break
		}
		if g(mid) < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + (hi-lo)/2
}

// qT is R's qt(p, df).
func qT(p, df float64) float64 {
	if !finite(df) || df <= 0 || !(p > 0 && p < 1) {
		return math.NaN()
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
}

// qNorm is R's qnorm(p).
func qNorm(p float64) float64 {
	if !(p > 0 && p < 1) {
		return math.NaN()
	}
	return distuv.UnitNormal.Quantile(p)
}

// fUpper is the F upper tail P(F > f), computed directly from the incomplete
// beta (as R's pf(lower.tail=FALSE)) to keep precision for small p.
func fUpper(f, d1, d2 float64) float64 {
	if math.IsInf(f, 1) && finite(d1, d2) && d1 > 0 && d2 > 0 {
		return 0 // the limit: no error variance, an infinite F
	}
	if !finite(f, d1, d2) || d1 <= 0 || d2 <= 0 {
		return math.NaN()
	}
	if f <= 0 {
		return 1
	}
	return mathext.RegIncBeta(d2/2, d1/2, d2/(d2+d1*f))
}

// tTwoSided is the two-sided p-value of a t statistic (cor.test, summary.lm).
func tTwoSided(t, df float64) float64 {
	if math.IsNaN(t) || !finite(df) || df <= 0 {
		return math.NaN()
	}
	if math.IsInf(t, 0) {
		return 0
	}
	return mathext.RegIncBeta(df/2, 0.5, df/(df+t*t))
}

// zTwoSided is the two-sided standard normal p-value 2·Φ(−|z|), from erfc
// to keep precision in the tail.
func zTwoSided(z float64) float64 {
	if math.IsNaN(z) {
		return math.NaN()
	}
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}
