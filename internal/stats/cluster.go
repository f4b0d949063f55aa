package stats

import (
	"math"
	"math/rand/v2"
	"sort"
)

// ClusterMeanResult is a mean with a cluster-robust (sandwich) interval.
type ClusterMeanResult struct {
	N        int     `json:"n"`
	Clusters int     `json:"clusters"` // G
	Mean     float64 `json:"mean"`
	SE       float64 `json:"se"`       // CR1 cluster-robust SE
	NaiveSE  float64 `json:"naive_se"` // s/√N, ignoring the clustering; 0 when N = 1
	DF       float64 `json:"df"`       // G − 1
	Conf     float64 `json:"conf"`
	Lower    float64 `json:"lower"` // Mean ∓ t_{(1+conf)/2, G−1}·SE
	Upper    float64 `json:"upper"`
}

// ClusterRobustMean is the mean of y (for example client − counsellor
// differences of dyads nested in counsellors) with the CR1 cluster-robust
// variance of the intercept-only regression,
//
//	Var = G/(G − 1) · Σ_g (Σ_{i∈g} (y_i − ȳ))² / N²,
//
// which is sandwich::vcovCL(lm(y ~ 1), cluster = g) (type "HC1", whose
// (N − 1)/(N − k) factor is 1 here), and the interval ȳ ± t_{G−1}·SE.
//
// Fewer than 2 clusters is Undefined{n_too_small}; non-finite y or conf
// outside (0, 1) is ErrInvalidArgument. Identical residual sums (SE = 0)
// give a zero-width interval.
func ClusterRobustMean[K comparable](cluster []K, y []float64, conf float64) (ClusterMeanResult, error) {
	if err := checkConf(conf); err != nil {
		return ClusterMeanResult{}, err
	}
	if len(cluster) != len(y) {
		return ClusterMeanResult{}, undefined(ReasonMismatchedLengths)
	}
	if err := checkFinite(y); err != nil {
		return ClusterMeanResult{}, err
	}
	if len(y) == 0 {
		return ClusterMeanResult{}, undefined(ReasonNTooSmall)
	}
	g := groupBy(cluster, y)
	G, nf := float64(len(g)), float64(len(y))
	if len(g) < 2 {
		return ClusterMeanResult{}, undefined(ReasonNTooSmall)
	}
	mean := stableMean(y)
	var meat, ss float64
	for _, ys := range g {
		var s float64
		for _, v := range ys {
			s += v - mean
			ss += sq(v - mean)
		}
		meat += s * s
	}
	se := math.Sqrt(G / (G - 1) * meat / (nf * nf))
	tq := qT((1+conf)/2, G-1)
	r := ClusterMeanResult{
		N: len(y), Clusters: len(g), Mean: mean, SE: se, DF: G - 1, Conf: conf,
		Lower: mean - tq*se, Upper: mean + tq*se,
	}
	if len(y) > 1 {
		r.NaiveSE = math.Sqrt(ss / (nf - 1) / nf)
	}
	if !finite(r.Mean, r.SE, r.NaiveSE, r.Lower, r.Upper) {
		return ClusterMeanResult{}, undefined(ReasonUndefined)
	}
	return r, nil
}

// BootstrapCI is a cluster-bootstrap percentile interval.
type BootstrapCI struct {
	Method   string  `json:"method"` // "cluster_percentile" or "unit_percentile" (KrippendorffBootstrap)
	N        int     `json:"n"`
	Clusters int     `json:"clusters"`
	Estimate float64 `json:"estimate"` // the statistic on the full data
	Conf     float64 `json:"conf"`
	Lower    float64 `json:"lower"`
	Upper    float64 `json:"upper"`
	B        int     `json:"b"`     // replicates drawn
	Valid    int     `json:"valid"` // replicates where the statistic was defined
	Seed     uint64  `json:"seed"`
}

// BootstrapSeedStream is the second PCG word: replicates are drawn from
// rand.New(rand.NewPCG(seed, BootstrapSeedStream)).
const BootstrapSeedStream = 0x9e3779b97f4a7c15

// ClusterBootstrap is a nonparametric cluster bootstrap of a statistic of
// paired data (x_i, y_i) whose pairs are nested in clusters (dyads in
// counsellors): each of B replicates draws G clusters with replacement
// (whole clusters, with all their pairs; a cluster drawn twice counts
// twice) and recomputes stat. The interval is the percentile interval:
// R's quantile(type = 7) of the defined replicates at (1 ∓ conf)/2.
// Replicates where stat returns an error (for example a resample with
// zero variance) are skipped and counted out of Valid; judge the interval
// by Valid/B. The generator is math/rand/v2's PCG seeded with
// (seed, BootstrapSeedStream), so a seed reproduces the interval exactly.
//
// Errors: stat's error on the full data is returned as is; fewer than 2
// clusters or fewer than 2 defined replicates is Undefined{n_too_small};
// B < 1 is ErrInvalidArgument.
func ClusterBootstrap[K comparable](cluster []K, x, y []float64, stat func(x, y []float64) (float64, error), B int, conf float64, seed uint64) (BootstrapCI, error) {
	if err := checkConf(conf); err != nil {
		return BootstrapCI{}, err
	}
	if B < 1 {
		return BootstrapCI{}, invalid("bootstrap replicates B = %d < 1", B)
	}
	if len(cluster) != len(x) || len(x) != len(y) {
		return BootstrapCI{}, undefined(ReasonMismatchedLengths)
	}
	if err := checkFinite(x, y); err != nil {
		return BootstrapCI{}, err
	}
	est, err := stat(x, y)
	if err != nil {
		return BootstrapCI{}, err
	}
	idx := make(map[K]int)
	var members [][]int
	for i, c := range cluster {
		j, ok := idx[c]
		if !ok {
			j = len(members)
			idx[c] = j
			members = append(members, nil)
		}
		members[j] = append(members[j], i)
	}
	G := len(members)
	if G < 2 {
		return BootstrapCI{}, undefined(ReasonNTooSmall)
	}
	rng := rand.New(rand.NewPCG(seed, BootstrapSeedStream))
	reps := make([]float64, 0, B)
	bx, by := make([]float64, 0, len(x)), make([]float64, 0, len(y))
	for range B {
		bx, by = bx[:0], by[:0]
		for range G {
			for _, i := range members[rng.IntN(G)] {
				bx, by = append(bx, x[i]), append(by, y[i])
			}
		}
		if v, err := stat(bx, by); err == nil && finite(v) {
			reps = append(reps, v)
		}
	}
	if len(reps) < 2 {
		return BootstrapCI{}, undefined(ReasonNTooSmall)
	}
	sort.Float64s(reps)
	a := (1 - conf) / 2
	return BootstrapCI{
		Method: "cluster_percentile", N: len(x), Clusters: G, Estimate: est, Conf: conf,
		Lower: quantile7(reps, a), Upper: quantile7(reps, 1-a),
		B: B, Valid: len(reps), Seed: seed,
	}, nil
}

// ClusterBootstrapPearson is ClusterBootstrap of Pearson's r.
func ClusterBootstrapPearson[K comparable](cluster []K, x, y []float64, B int, conf float64, seed uint64) (BootstrapCI, error) {
	return ClusterBootstrap(cluster, x, y, func(x, y []float64) (float64, error) {
		c, err := Pearson(x, y, 0.95)
		return c.R, err
	}, B, conf, seed)
}

// ClusterBootstrapCCC is ClusterBootstrap of Lin's concordance correlation
// (CCC's ρc, epiR conventions).
func ClusterBootstrapCCC[K comparable](cluster []K, x, y []float64, B int, conf float64, seed uint64) (BootstrapCI, error) {
	return ClusterBootstrap(cluster, x, y, func(x, y []float64) (float64, error) {
		c, err := CCC(x, y, 0.95)
		return c.RhoC, err
	}, B, conf, seed)
}

// quantile7 is R's quantile(x, p, type = 7) of sorted x.
func quantile7(sorted []float64, p float64) float64 {
	h := float64(len(sorted)-1) * p
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}
