package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Krippendorff's alpha metrics (difference functions δ²).
const (
	MetricNominal  = "nominal"
	MetricOrdinal  = "ordinal"
	MetricInterval = "interval"
	MetricRatio    = "ratio"
)

// KrippendorffResult is Krippendorff's alpha for one metric.
type KrippendorffResult struct {
	Metric string  `json:"metric"`
	Alpha  float64 `json:"alpha"`
	Units  int     `json:"units"`  // pairable units: units with at least 2 values
	Coders int     `json:"coders"` // columns of the data matrix
	N      int     `json:"n"`      // pairable values (n.. in Krippendorff 2011)
	// Observed and expected disagreement, Alpha = 1 − DO/DE:
	// DO = Σ_ck o_ck δ²_ck / n, DE = Σ_ck n_c n_k δ²_ck / (n(n−1)).
	DO float64 `json:"d_o"`
	DE float64 `json:"d_e"`
}

// KrippendorffAlpha computes Krippendorff's alpha reliability for data
// given as a units × coders matrix (rows = units, e.g. dyads or items;
// columns = coders or raters), NaN marking a missing value, following
// Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability":
// only pairable values count (units with one value are dropped); each
// ordered pair of values from different coders in a unit with m_u values
// adds 1/(m_u − 1) to the coincidence matrix o_ck; n_c = Σ_k o_ck,
// n = Σ_c n_c, and
//
//	α = 1 − (n − 1) · Σ_ck o_ck δ²_ck / Σ_ck n_c n_k δ²_ck
//
// with δ² by metric: nominal [c ≠ k]; ordinal (Σ_{g=c..k} n_g − (n_c+n_k)/2)²
// over the ordered distinct values; interval (c − k)²; ratio
// ((c − k)/(c + k))², which needs non-negative values (0 and 0 differ by 0).
// Nominal and ordinal values are categories compared for equality.
//
// An unknown metric, ±Inf, or a negative value under the ratio metric is
// ErrInvalidArgument; ragged rows are Undefined{mismatched_lengths}; no
// pairable unit is Undefined{n_too_small}; no expected disagreement (a
// single value throughout) is Undefined{zero_variance}.
func KrippendorffAlpha(data [][]float64, metric string) (KrippendorffResult, error) {
	switch metric {
	case MetricNominal, MetricOrdinal, MetricInterval, MetricRatio:
	default:
		return KrippendorffResult{}, invalid("unknown metric %q", metric)
	}
	coders := 0
	if len(data) > 0 {
		coders = len(data[0])
	}
	// Pairable units, values only: unit u is pairable[start[u]:start[u+1]].
	pairable := make([]float64, 0, len(data)*coders)
	start := make([]int, 1, len(data)+1)
	for _, row := range data {
		if len(row) != coders {
			return KrippendorffResult{}, undefined(ReasonMismatchedLengths)
		}
		from := len(pairable)
		for _, v := range row {
			switch {
			case math.IsNaN(v):
				continue
			case math.IsInf(v, 0):
				return KrippendorffResult{}, invalid("infinite value")
			case metric == MetricRatio && v < 0:
				return KrippendorffResult{}, invalid("negative value %v under the ratio metric", v)
			}
			pairable = append(pairable, v)
		}
		if len(pairable)-from >= 2 {
			start = append(start, len(pairable))
		} else {
			pairable = pairable[:from]
		}
	}
	if len(start) == 1 {
		return KrippendorffResult{Metric: metric, Coders: coders}, undefined(ReasonNTooSmall)
	}
	all := pairable

	// Distinct values and their pairable frequencies n_c.
	vals := distinct(all)
	idx := func(v float64) int { return sort.SearchFloat64s(vals, v) }
	nc := make([]float64, len(vals))
	for _, v := range all {
		nc[idx(v)]++
	}
	n := float64(len(all))
	cum := make([]float64, len(vals)+1) // cum[i] = Σ_{g<i} n_g
	for i, c := range nc {
		cum[i+1] = cum[i] + c
	}
	delta2 := func(i, j int) float64 { // on value indices
		c, k := vals[i], vals[j]
		switch metric {
		case MetricNominal:
			if i == j {
				return 0
			}
			return 1
		case MetricOrdinal:
			if i > j {
				i, j = j, i
			}
			return sq(cum[j+1] - cum[i] - (nc[i]+nc[j])/2)
		case MetricInterval:
			return sq(c - k)
		default: // ratio
			if c+k == 0 {
				return 0
			}
			return sq((c - k) / (c + k))
		}
	}

	var obs float64 // Σ_ck o_ck δ²_ck
	for i := range len(start) - 1 {
		u := pairable[start[i]:start[i+1]]
		m := float64(len(u))
		var s float64
		for a := range u {
			ia := idx(u[a])
			for b := a + 1; b < len(u); b++ {
				s += delta2(ia, idx(u[b]))
			}
		}
		obs += 2 * s / (m - 1)
	}
	var exp float64 // Σ_ck n_c n_k δ²_ck
	switch metric {
	case MetricNominal:
		var s2 float64
		for _, c := range nc {
			s2 += c * c
		}
		exp = n*n - s2
	case MetricInterval:
		mean := 0.0
		for _, v := range all {
			mean += v
		}
		mean /= n
		for _, v := range all {
			exp += sq(v - mean)
		}
		exp *= 2 * n
	default:
		for i := range vals {
			for j := i + 1; j < len(vals); j++ {
				exp += 2 * nc[i] * nc[j] * delta2(i, j)
			}
		}
	}
	if !(exp > 0) {
		// Undefined, but over data that is there: the counts go with the
		// reason, so a report says what n it has no alpha for.
		return KrippendorffResult{Metric: metric, Units: len(start) - 1, Coders: coders, N: len(all)}, undefined(ReasonZeroVariance)
	}
	r := KrippendorffResult{
		Metric: metric, Units: len(start) - 1, Coders: coders, N: len(all),
		Alpha: 1 - (n-1)*obs/exp, DO: obs / n, DE: exp / (n * (n - 1)),
	}
	if !finite(r.Alpha, r.DO, r.DE) {
		return KrippendorffResult{}, undefined(ReasonUndefined)
	}
	return r, nil
}

// KrippendorffBootstrap is a percentile bootstrap interval for
// KrippendorffAlpha that resamples units (rows) with replacement: each of
// B replicates draws as many units as the data have pairable units, from
// the pairable units, and recomputes alpha; the interval is R's
// quantile(type = 7) of the defined replicates at (1 ∓ conf)/2 (a
// replicate with a single value throughout has no alpha and is skipped,
// see Valid). The generator is math/rand/v2's PCG seeded with
// (seed, BootstrapSeedStream). In the result, Clusters is the number of
// pairable units and N the number of pairable values. This is a plain
// unit bootstrap, not Hayes & Krippendorff's (2007) bootstrap of the
// coincidence pairs, whose intervals differ somewhat.
//
// Errors are those of KrippendorffAlpha on the full data; B < 1 is
// ErrInvalidArgument; fewer than 2 pairable units or fewer than 2 defined
// replicates is Undefined{n_too_small}.
func KrippendorffBootstrap(data [][]float64, metric string, B int, conf float64, seed uint64) (BootstrapCI, error) {
	if err := checkConf(conf); err != nil {
		return BootstrapCI{}, err
	}
	if B < 1 {
		return BootstrapCI{}, invalid("bootstrap replicates B = %d < 1", B)
	}
	est, err := KrippendorffAlpha(data, metric)
	if err != nil {
		return BootstrapCI{}, err
	}
	var units [][]float64
	for _, row := range data {
		m := 0
		for _, v := range row {
			if !math.IsNaN(v) {
				m++
			}
		}
		if m >= 2 {
			units = append(units, row)
		}
	}
	if len(units) < 2 {
		return BootstrapCI{}, undefined(ReasonNTooSmall)
	}
	rng := rand.New(rand.NewPCG(seed, BootstrapSeedStream))
	sample := make([][]float64, len(units))
	reps := make([]float64, 0, B)
	for range B {
		for i := range sample {
			sample[i] = units[rng.IntN(len(units))]
		}
		if r, err := KrippendorffAlpha(sample, metric); err == nil {
			reps = append(reps, r.Alpha)
		}
	}
	if len(reps) < 2 {
		return BootstrapCI{}, undefined(ReasonNTooSmall)
	}
	sort.Float64s(reps)
	a := (1 - conf) / 2
	return BootstrapCI{
		Method: "unit_percentile", N: est.N, Clusters: len(units), Estimate: est.Alpha, Conf: conf,
		Lower: quantile7(reps, a), Upper: quantile7(reps, 1-a),
		B: B, Valid: len(reps), Seed: seed,
	}, nil
}

// distinct returns the distinct values of x in increasing order. Ratings
// take a handful of values: those are found in one pass, without sorting
// all of x (which a study's 10,000 units made the most of the time);
// many distinct values fall back to a sort.
func distinct(x []float64) []float64 {
	const few = 64
	var vals []float64
	for _, v := range x {
		if slices.Contains(vals, v) {
			continue
		}
		if len(vals) == few {
			vals = slices.Clone(x)
			slices.Sort(vals)
			return slices.Compact(vals)
		}
		vals = append(vals, v)
	}
	slices.Sort(vals)
	return vals
}
