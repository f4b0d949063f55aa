package stats

import (
	"math"
	"slices"
)

// MeanCI is a sample mean with its one-sample t interval.
type MeanCI struct {
	N     int     `json:"n"`
	Mean  float64 `json:"mean"`
	SD    float64 `json:"sd"` // n−1 denominator (R's sd)
	SE    float64 `json:"se"` // SD/√n
	DF    float64 `json:"df"` // n − 1
	Conf  float64 `json:"conf"`
	Lower float64 `json:"lower"` // Mean ∓ t_{(1+conf)/2, n−1}·SE, not clipped
	Upper float64 `json:"upper"`
}

// MeanConf is the mean of x with the interval of t.test(x, conf.level =
// conf)$conf.int: mean ± t_{(1+conf)/2, n−1}·s/√n. A constant sample has
// a zero-width interval (t.test refuses such data; the interval is its
// limit). n < 2 is Undefined{n_too_small}; non-finite x or conf outside
// (0, 1) is ErrInvalidArgument.
func MeanConf(x []float64, conf float64) (MeanCI, error) {
	if err := checkConf(conf); err != nil {
		return MeanCI{}, err
	}
	if err := checkFinite(x); err != nil {
		return MeanCI{}, err
	}
	if len(x) < 2 {
		return MeanCI{}, undefined(ReasonNTooSmall)
	}
	n := float64(len(x))
	m := stableMean(x)
	var ss float64
	for _, v := range x {
		ss += sq(v - m)
	}
	if constant(x) {
		m, ss = x[0], 0
	}
	sd := math.Sqrt(ss / (n - 1))
	se := sd / math.Sqrt(n)
	h := qT((1+conf)/2, n-1) * se
	r := MeanCI{N: len(x), Mean: m, SD: sd, SE: se, DF: n - 1, Conf: conf, Lower: m - h, Upper: m + h}
	if !finite(r.Mean, r.SD, r.Lower, r.Upper) {
		return MeanCI{}, undefined(ReasonUndefined)
	}
	return r, nil
}

// Quantile is R's quantile(x, p, type = 7): linear interpolation between
// order statistics, the default of R and of NumPy. x need not be sorted
// and is not modified. An empty x is Undefined{n_too_small}; p outside
// [0, 1] or non-finite x is ErrInvalidArgument.
func Quantile(x []float64, p float64) (float64, error) {
	if !(p >= 0 && p <= 1) {
		return 0, invalid("probability %v not in [0, 1]", p)
	}
	if err := checkFinite(x); err != nil {
		return 0, err
	}
	if len(x) == 0 {
		return 0, undefined(ReasonNTooSmall)
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return quantile7(s, p), nil
}
