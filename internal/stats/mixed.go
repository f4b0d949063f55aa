package stats

import (
	"math"
)

// Estimators reported by RandomIntercept.
const (
	EstimatorANOVA = "anova"
	EstimatorREML  = "reml"
)

// RandomInterceptResult is the one-way random-intercept model
// y_ij = μ + u_j + e_ij, u_j ~ N(0, σ²_u), e_ij ~ N(0, σ²_e), fitted to
// observations i nested in clusters j (e.g. dyads in counsellors).
type RandomInterceptResult struct {
	N         int     `json:"n"`         // observations
	Clusters  int     `json:"clusters"`  // J
	Balanced  bool    `json:"balanced"`  // all clusters the same size
	Estimator string  `json:"estimator"` // "anova" or "reml"
	Mean      float64 `json:"mean"`      // μ̂, the GLS mean at the estimated variance ratio
	SigmaU2   float64 `json:"sigma2_u"`  // between-cluster variance σ²_u (0 at the boundary)
	SigmaE2   float64 `json:"sigma2_e"`  // within-cluster (residual) variance σ²_e
	ICC       float64 `json:"icc"`       // σ²_u/(σ²_u + σ²_e)
	Boundary  bool    `json:"boundary"`  // σ²_u estimated as 0 (lme4: singular fit)
	// REMLCriterion is −2 × the restricted log-likelihood at the estimate,
	// lme4's REMLcrit() (computed for the ANOVA estimate too).
	REMLCriterion float64 `json:"reml_criterion"`

	// One-way ANOVA: MSB = Σ n_j(ȳ_j − ȳ)²/(J−1), MSW = Σ(y − ȳ_j)²/(N−J),
	// F = MSB/MSW on (J−1, N−J) df.
	MSB float64 `json:"msb"`
	MSW float64 `json:"msw"`
	F   float64 `json:"f"`
	DF1 float64 `json:"df1"`
	DF2 float64 `json:"df2"`

	// Conf-level F-based interval for the ICC (Searle 1971), with cluster
	// size M0; for unbalanced clusters it is the usual approximation.
	// Not clipped: a negative lower bound means 0 is inside the interval.
	Conf  float64  `json:"conf"`
	Lower *float64 `json:"lower"`
	Upper *float64 `json:"upper"`

	MeanClusterSize float64 `json:"mean_cluster_size"` // N/J
	M0              float64 `json:"m0"`                // (N − Σn_j²/N)/(J − 1); equals n when balanced
	// DesignEffect is 1 + (N/J − 1)·ICC (Kish), with the mean cluster size;
	// EffectiveN = N/DesignEffect.
	DesignEffect float64 `json:"design_effect"`
	EffectiveN   float64 `json:"effective_n"`
}

// RandomIntercept fits the one-way random-intercept model
// y ~ 1 + (1 | cluster) (unbalanced clusters allowed) and reports the
// variance components, the intraclass correlation of clustering with an
// F-based interval, the design effect and the effective sample size.
// cluster[i] names the cluster of y[i].
//
// Estimator: when all clusters have the same size n and MSB ≥ MSW, the
// one-way ANOVA estimator σ²_e = MSW, σ²_u = (MSB − MSW)/n, which is the
// REML estimate in closed form (Estimator "anova"). Otherwise REML
// (Estimator "reml", matching lme4::lmer(y ~ 1 + (1|cluster), REML = TRUE)):
// with λ = σ²_u/σ²_e, w_j = n_j/(1 + n_jλ), μ̂(λ) = Σ w_j ȳ_j/Σ w_j and
// Q(λ) = Σ(y − ȳ_j)² + Σ w_j(ȳ_j − μ̂)², σ²_e profiles out as Q/(N − 1) and
//
//	−2 l_R(λ) = Σ log(1 + n_jλ) + log Σ w_j + (N − 1)(1 + log(2π Q/(N − 1)))
//
// is minimised over λ ∈ [0, ∞), the boundary 0 included: a grid over
// log λ (and λ = 0) brackets the minimum, which is then refined as the root
// of the analytic derivative
// Σ w_j − Σ w_j²/Σ w_j − (N − 1) Σ w_j²(ȳ_j − μ̂)²/Q by bisection.
// A balanced design with MSB < MSW lands on the boundary σ²_u = 0,
// σ²_e = Σ(y − ȳ)²/(N − 1), as lmer does (singular fit).
//
// Interval: with F = MSB/MSW, F_L = F/F_{1−α/2}(J−1, N−J) and
// F_U = F/F_{α/2}(J−1, N−J), the bounds are (F_L − 1)/(F_L + M0 − 1) and
// (F_U − 1)/(F_U + M0 − 1), exact for balanced data (M0 = n) and the
// standard approximation with M0 = (N − Σn_j²/N)/(J − 1) otherwise. It is an
// interval for the ANOVA-type ICC and can sit slightly off the REML
// estimate for unbalanced clusters.
//
// Design effect: 1 + (m̄ − 1)·ICC with m̄ = N/J, the mean cluster size
// (Kish 1965). With very unequal clusters the design effect of the
// unweighted mean is 1 + (Σn_j²/N − 1)·ICC, which is larger; both sizes
// can be formed from the reported fields.
//
// Errors: mismatched lengths; non-finite y or conf outside (0, 1) is
// ErrInvalidArgument; fewer than 2 clusters or no cluster with 2 or more
// observations (N = J) is Undefined{n_too_small}; no variation at all is
// Undefined{zero_variance}, variation between clusters only (MSW = 0,
// MSB > 0) Undefined{no_within_variance}.
func RandomIntercept[K comparable](cluster []K, y []float64, conf float64) (RandomInterceptResult, error) {
	if err := checkConf(conf); err != nil {
		return RandomInterceptResult{}, err
	}
	if len(cluster) != len(y) {
		return RandomInterceptResult{}, undefined(ReasonMismatchedLengths)
	}
	if err := checkFinite(y); err != nil {
		return RandomInterceptResult{}, err
	}
	g := groupBy(cluster, y)
	N, J := len(y), len(g)
	if J < 2 || N <= J {
		return RandomInterceptResult{}, undefined(ReasonNTooSmall)
	}
	nf, jf := float64(N), float64(J)
	sizes, means := make([]float64, J), make([]float64, J)
	var grand, ssw, sumN2 float64
	balanced := true
	for j, ys := range g {
		sizes[j] = float64(len(ys))
		means[j] = stableMean(ys)
		for _, v := range ys {
			ssw += sq(v - means[j])
		}
		grand += sizes[j] * means[j]
		sumN2 += sizes[j] * sizes[j]
		balanced = balanced && len(ys) == len(g[0])
	}
	grand /= nf
	var ssb float64
	for j := range means {
		ssb += sizes[j] * sq(means[j]-grand)
	}
	df1, df2 := jf-1, nf-jf
	msb, msw := ssb/df1, ssw/df2
	if !finite(msb, msw) {
		return RandomInterceptResult{}, undefined(ReasonUndefined)
	}
	switch {
	case !(msw > 0) && !(msb > 0):
		return RandomInterceptResult{}, undefined(ReasonZeroVariance)
	case !(msw > 0):
		return RandomInterceptResult{}, undefined(ReasonNoWithinVariance)
	}
	m0 := (nf - sumN2/nf) / df1
	p := reml{sizes: sizes, means: means, ssw: ssw, n: nf}

	r := RandomInterceptResult{
		N: N, Clusters: J, Balanced: balanced, Conf: conf,
		MSB: msb, MSW: msw, F: msb / msw, DF1: df1, DF2: df2,
		MeanClusterSize: nf / jf, M0: m0,
	}
	var lambda float64
	if balanced && msb >= msw {
		r.Estimator = EstimatorANOVA
		r.SigmaE2 = msw
		r.SigmaU2 = (msb - msw) / sizes[0]
		lambda = r.SigmaU2 / msw
		r.Mean = grand
	} else {
		r.Estimator = EstimatorREML
		lambda = p.maximise()
		q, mu := p.q(lambda)
		r.SigmaE2 = q / (nf - 1)
		r.SigmaU2 = lambda * r.SigmaE2
		r.Mean = mu
	}
	r.Boundary = r.SigmaU2 == 0
	r.ICC = r.SigmaU2 / (r.SigmaU2 + r.SigmaE2)
	r.REMLCriterion = p.criterion(lambda)

	alpha := 1 - conf
	fl := r.F / qF(1-alpha/2, df1, df2)
	fu := r.F / qF(alpha/2, df1, df2)
	r.Lower, r.Upper = opt((fl-1)/(fl+m0-1)), opt((fu-1)/(fu+m0-1))
	r.DesignEffect = 1 + (r.MeanClusterSize-1)*r.ICC
	r.EffectiveN = nf / r.DesignEffect
	if !finite(r.Mean, r.SigmaU2, r.SigmaE2, r.ICC, r.REMLCriterion, r.F, r.DesignEffect, r.EffectiveN) {
		return RandomInterceptResult{}, undefined(ReasonUndefined)
	}
	return r, nil
}

// groupBy splits y by cluster label, clusters in order of first appearance.
func groupBy[K comparable](cluster []K, y []float64) [][]float64 {
	idx := make(map[K]int)
	var g [][]float64
	for i, c := range cluster {
		j, ok := idx[c]
		if !ok {
			j = len(g)
			idx[c] = j
			g = append(g, nil)
		}
		g[j] = append(g[j], y[i])
	}
	return g
}

// stableMean is the mean with one correction pass (as R's mean), so that
// a constant sample has exactly its value as mean.
func stableMean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	m := s / float64(len(x))
	var c float64
	for _, v := range x {
		c += v - m
	}
	return m + c/float64(len(x))
}

// reml is the profiled restricted likelihood of the one-way model in
// λ = σ²_u/σ²_e, from the cluster sizes and means and the within-cluster
// sum of squares.
type reml struct {
	sizes, means []float64
	ssw, n       float64
}

// q returns Q(λ) = SSW + Σ w_j(ȳ_j − μ̂)² and μ̂(λ).
func (p reml) q(lambda float64) (q, mu float64) {
	var sw, swy float64
	for j, nj := range p.sizes {
		w := nj / (1 + nj*lambda)
		sw += w
		swy += w * p.means[j]
	}
	mu = swy / sw
	q = p.ssw
	for j, nj := range p.sizes {
		q += nj / (1 + nj*lambda) * sq(p.means[j]-mu)
	}
	return q, mu
}

// criterion is −2 l_R(λ) with all constants (lme4's REML criterion).
func (p reml) criterion(lambda float64) float64 {
	var ld, sw float64
	for _, nj := range p.sizes {
		ld += math.Log1p(nj * lambda)
		sw += nj / (1 + nj*lambda)
	}
	q, _ := p.q(lambda)
	return ld + math.Log(sw) + (p.n-1)*(1+math.Log(2*math.Pi*q/(p.n-1)))
}

// slope is d criterion/dλ.
func (p reml) slope(lambda float64) float64 {
	_, mu := p.q(lambda)
	var sw, sw2, sw2d float64
	for j, nj := range p.sizes {
		w := nj / (1 + nj*lambda)
		sw += w
		sw2 += w * w
		sw2d += w * w * sq(p.means[j]-mu)
	}
	q, _ := p.q(lambda)
	return sw - sw2/sw - (p.n-1)*sw2d/q
}

// maximise returns the λ ≥ 0 that minimises the REML criterion.
func (p reml) maximise() float64 {
	// Grid: λ = 0 and 10^k for k from −8 in steps of 0.05, extended upwards
	// while the criterion still falls at the top.
	grid := []float64{0}
	for k := -8.0; k <= 8+1e-9; k += 0.05 {
		grid = append(grid, math.Pow(10, k))
	}
	best, bestF := 0, p.criterion(0)
	for i := 1; i < len(grid); i++ {
		if f := p.criterion(grid[i]); f < bestF {
			best, bestF = i, f
		}
		if i == len(grid)-1 && best == i && grid[i] < 1e300 {
			grid = append(grid, grid[i]*10)
		}
	}
	lo := grid[max(best-1, 0)]
	hi := grid[min(best+1, len(grid)-1)]
	if best == 0 && p.slope(0) >= 0 {
		return 0
	}
	// Root of the derivative in [lo, hi]: negative at lo, positive at hi
	// for an interior minimum. Bisect on λ (in log scale when lo > 0).
	if !(p.slope(lo) < 0 && p.slope(hi) > 0) {
		return p.golden(lo, hi)
	}
	for range 200 {
		mid := lo + (hi-lo)/2
		if lo > 0 {
			mid = math.Sqrt(lo * hi)
		}
		if mid <= lo || mid >= hi {
			break
		}
		if p.slope(mid) < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	l := lo + (hi-lo)/2
	if p.criterion(0) <= p.criterion(l) {
		return 0
	}
	return l
}

// golden minimises the criterion on [lo, hi] by golden-section search; a
// fallback when the derivative does not bracket a root numerically.
func (p reml) golden(lo, hi float64) float64 {
	const r = 0.6180339887498949
	a, b := lo, hi
	c, d := b-r*(b-a), a+r*(b-a)
	fc, fd := p.criterion(c), p.criterion(d)
	for range 300 {
		if b-a <= 1e-15*math.Max(1, math.Abs(a)) {
			break
		}
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - r*(b-a)
			fc = p.criterion(c)
		} else {
			a, c, fc = c, d, fd
			d = a + r*(b-a)
			fd = p.criterion(d)
		}
	}
	x := (a + b) / 2
	if p.criterion(lo) < p.criterion(x) {
		x = lo
	}
	return x
}
