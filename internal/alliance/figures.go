package alliance

import (
	"errors"
	"fmt"
	"math"

	"github.com/alliance-project/alliance/internal/stats"
)

// Minimum numbers of observations, one rule per kind of figure (see
// docs/statistics.md). Below the value minimum a figure is null with
// reason n_too_small; between the value and the interval minimum the
// figure stands and its bounds are null with ci_reason n_too_small.
const (
	// MinNInterval: no interval is computed from fewer than 3
	// observations (pairs, ratings, dyads of a counsellor, clusters). At
	// n = 2 the t and F quantiles have one degree of freedom and the
	// bounds span most of the scale (an ICC(3,k) lower bound of −7).
	MinNInterval = 3
	// SmallN: a study-level figure from fewer than 10 observations comes
	// with a small_n warning.
	SmallN = 10
	// FewClusters: cluster-robust inference from fewer than 20 counsellors
	// comes with a few_clusters warning (the sandwich and the cluster
	// bootstrap are large-cluster approximations).
	FewClusters = 20
	// FloorCeilingShare: 15% or more of scores (or item answers) at the
	// scale's minimum or maximum is a floor or ceiling effect (Terwee et
	// al. 2007's criterion).
	FloorCeilingShare = 0.15
	// LowVarianceSD: a rater whose scores vary with an SD under 0.1 on the
	// item metric gives correlations little to work with.
	LowVarianceSD = 0.1
)

// Warning codes: stable, documented in docs/statistics.md and the API.
const (
	WarnSmallN          = "small_n"
	WarnCeiling         = "ceiling"
	WarnFloor           = "floor"
	WarnLowVariance     = "low_variance"
	WarnCIClipped       = "ci_clipped"
	WarnFewClusters     = "few_clusters"
	WarnSingleRaterOnly = "single_rater_only"
)

// Warning is something an analyst should know before reading a figure.
// Scale names the scale it concerns ("" when it concerns the whole
// response); Detail says what was found, in numbers.
type Warning struct {
	Code   string
	Scale  string
	Detail string
}

// Figure is a statistic that may be undefined for the data: Value is nil
// and Reason says why (a stats.Reason* code such as "n_too_small").
// CIReason is set when the value stands but its interval bounds are null.
type Figure[T any] struct {
	Value    *T
	Reason   string
	CIReason string
}

// figureOf turns a stats result into a Figure; only a *stats.Undefined
// becomes a reason, any other error is a bug and is returned.
func figureOf[T any](v T, err error) (Figure[T], error) {
	if err == nil {
		return Figure[T]{Value: &v}, nil
	}
	var u *stats.Undefined
	if errors.As(err, &u) {
		return Figure[T]{Reason: u.Reason}, nil
	}
	return Figure[T]{}, err
}

// withCI applies the interval rule to a defined figure: below n
// MinNInterval, clear drops its bounds and CIReason says why.
func withCI[T any](f Figure[T], n int, clear func(*T)) Figure[T] {
	if f.Value != nil && n < MinNInterval {
		clear(f.Value)
		f.CIReason = stats.ReasonNTooSmall
	}
	return f
}

// Estimate is a mean or share with its interval, each part null with its
// reason when the data do not give it.
type Estimate struct {
	N        int
	Value    *float64
	SD       *float64 // for means: n−1 SD; nil for shares and n < 2
	Lower    *float64
	Upper    *float64
	Clipped  bool // the interval was truncated to the metric's bounds
	Reason   string
	CIReason string
}

// meanEstimate is the mean of x with its t interval (stats.MeanConf),
// clipped to [lo, hi], the range the mean can take.
func meanEstimate(x []float64, conf, lo, hi float64) (Estimate, error) {
	e := Estimate{N: len(x)}
	if len(x) == 0 {
		e.Reason = stats.ReasonNTooSmall
		return e, nil
	}
	d := stats.Describe(x)
	e.Value, e.SD = d.Mean, d.SD
	if len(x) < MinNInterval {
		e.CIReason = stats.ReasonNTooSmall
		return e, nil
	}
	m, err := stats.MeanConf(x, conf)
	var u *stats.Undefined
	if errors.As(err, &u) {
		e.CIReason = u.Reason
		return e, nil
	}
	if err != nil {
		return e, fmt.Errorf("mean interval: %w", err)
	}
	e.Value = &m.Mean
	e.Lower, e.Upper, e.Clipped = clip(m.Lower, m.Upper, lo, hi)
	return e, nil
}

// shareEstimate is x of n with its Wilson interval (stats.WilsonProportion).
func shareEstimate(x, n int, conf float64) (Estimate, error) {
	e := Estimate{N: n}
	if n == 0 {
		e.Reason = stats.ReasonNTooSmall
		return e, nil
	}
	p, err := stats.WilsonProportion(x, n, conf)
	var u *stats.Undefined
	if errors.As(err, &u) {
		share := float64(x) / float64(n)
		e.Value, e.CIReason = &share, u.Reason
		return e, nil
	}
	if err != nil {
		return e, fmt.Errorf("share interval: %w", err)
	}
	e.Value = &p.Share
	if n < MinNInterval {
		e.CIReason = stats.ReasonNTooSmall
		return e, nil
	}
	e.Lower, e.Upper = p.Lower, p.Upper
	return e, nil
}

// clip truncates [lower, upper] to [lo, hi] and reports whether it did.
func clip(lower, upper, lo, hi float64) (l, u *float64, clipped bool) {
	a, b := math.Max(lower, lo), math.Min(upper, hi)
	return &a, &b, a != lower || b != upper
}

// warnings collects a response's warnings.
type warnings []Warning

func (w *warnings) add(code, scale, format string, a ...any) {
	*w = append(*w, Warning{Code: code, Scale: scale, Detail: fmt.Sprintf(format, a...)})
}

// smallN warns when a figure rests on fewer than SmallN observations;
// noValue when n was too few for the figure itself (reason n_too_small),
// not only for its interval.
func (w *warnings) smallN(scale, what string, n int, noValue bool) {
	switch {
	case n >= SmallN:
	case noValue:
		w.add(WarnSmallN, scale, "%s: n = %d is too few for a value (null, reason n_too_small); fewer than %d is unstable", what, n, SmallN)
	case n < MinNInterval:
		w.add(WarnSmallN, scale, "%s: n = %d; fewer than %d gives no interval (bounds are null) and fewer than %d is unstable", what, n, MinNInterval, SmallN)
	default:
		w.add(WarnSmallN, scale, "%s: n = %d; figures from fewer than %d are unstable", what, n, SmallN)
	}
}

// fewClusters warns when cluster-robust inference rests on few counsellors.
func (w *warnings) fewClusters(scale string, clusters int) {
	if clusters < FewClusters {
		what := fmt.Sprintf("%d counsellors (clusters)", clusters)
		if clusters == 1 {
			what = "1 counsellor (cluster)"
		}
		w.add(WarnFewClusters, scale, "%s; cluster-robust intervals assume many clusters, fewer than %d makes them approximate", what, FewClusters)
	}
}

// ends counts values and how many of them sit at a scale's two ends.
type ends struct{ n, atLo, atHi int }

func (e *ends) add(v, lo, hi float64) {
	e.n++
	switch v {
	case lo:
		e.atLo++
	case hi:
		e.atHi++
	}
}

// scoreSet is one role's scores of one scale, with the bounds they can
// reach, and the counts of the item answers behind them at the item
// scale's ends; perItem converts a score SD to the item metric (the
// number of items for sums, 1 for item means).
type scoreSet struct {
	who            string
	scores         []float64
	lo, hi         float64
	items          ends
	itemLo, itemHi float64
	perItem        float64
}

// scores warns about one role's scores of one scale: floor and ceiling
// effects on the scale scores or on the item answers behind them, and a
// score SD under LowVarianceSD on the item metric.
func (w *warnings) scores(scale string, s scoreSet) {
	if len(s.scores) == 0 {
		return
	}
	var sc ends
	for _, v := range s.scores {
		sc.add(v, s.lo, s.hi)
	}
	share := func(k, n int) float64 {
		if n == 0 {
			return 0
		}
		return float64(k) / float64(n)
	}
	for _, end := range []struct {
		code, name  string
		score, item float64
		ks, ki      int
	}{{WarnCeiling, "maximum", s.hi, s.itemHi, sc.atHi, s.items.atHi}, {WarnFloor, "minimum", s.lo, s.itemLo, sc.atLo, s.items.atLo}} {
		ss, si := share(end.ks, sc.n), share(end.ki, s.items.n)
		if ss >= FloorCeilingShare || si >= FloorCeilingShare {
			w.add(end.code, scale, "%s: %d of %d scale scores (%.0f%%) at the %s %s and %d of %d item answers (%.0f%%) at the item %s %s; %.0f%% or more is a %s effect",
				s.who, end.ks, sc.n, 100*ss, end.name, num(end.score), end.ki, s.items.n, 100*si, end.name, num(end.item), 100*FloorCeilingShare, end.code)
		}
	}
	if sd := stats.Describe(s.scores).SD; sd != nil && *sd/s.perItem < LowVarianceSD {
		w.add(WarnLowVariance, scale, "%s: SD of the scale scores %.3g on the item metric is under %g; correlations and reliabilities have little variance to work with",
			s.who, *sd/s.perItem, LowVarianceSD)
	}
}

// num formats a scale bound without trailing zeros.
func num(v float64) string { return fmt.Sprintf("%g", v) }
