package stats

import "math"

// KappaEstimate is one (weighted) kappa with its large-sample variance and
// normal-theory interval (see KappaConf).
type KappaEstimate struct {
	Value    float64  `json:"value"`
	Variance float64  `json:"variance"` // non-null large-sample variance, Fleiss, Cohen & Everitt (1969)
	Lower    *float64 `json:"lower"`    // Value ± z·sqrt(Variance), not clipped to [−1, 1]
	Upper    *float64 `json:"upper"`
}

// KappaResult holds Cohen's kappa for two raters over a fixed category set.
type KappaResult struct {
	N          int           `json:"n"`
	K          int           `json:"k"` // number of categories in the table
	Unweighted KappaEstimate `json:"unweighted"`
	Linear     KappaEstimate `json:"linear"`    // w_ij = 1 − |i−j|/(K−1)
	Quadratic  KappaEstimate `json:"quadratic"` // w_ij = 1 − (i−j)²/(K−1)²; psych's default weights
}

// Kappa is KappaConf at 95%.
func Kappa(a, b []int, categories []int) (KappaResult, error) {
	return KappaConf(a, b, categories, 0.95)
}

// KappaConf is KappaFCE reduced to the value, the non-null variance and the
// interval of each kappa; see KappaFCE for the method, the category
// convention and the errors. The kappa values and the unweighted variance
// equal psych::cohen.kappa's; the weighted variances follow Fleiss, Cohen &
// Everitt (1969) as SAS PROC FREQ and vcd::Kappa do, not psych's (which are
// wrong, see KappaFCE), and the interval is not clipped to [−1, 1].
func KappaConf(a, b []int, categories []int, conf float64) (KappaResult, error) {
	r, err := KappaFCE(a, b, categories, conf)
	if err != nil {
		return KappaResult{}, err
	}
	est := func(e KappaFCEEstimate) KappaEstimate {
		return KappaEstimate{Value: e.Value, Variance: e.Variance, Lower: opt(e.Lower), Upper: opt(e.Upper)}
	}
	return KappaResult{N: r.N, K: r.K, Unweighted: est(r.Unweighted), Linear: est(r.Linear), Quadratic: est(r.Quadratic)}, nil
}

// KappaFCEEstimate is one kappa with the large-sample variances of Fleiss,
// Cohen & Everitt (1969): the non-null variance for the interval and the
// null variance (κ = 0) for the test.
type KappaFCEEstimate struct {
	N        int     `json:"n"` // rated pairs
	Value    float64 `json:"value"`
	Variance float64 `json:"variance"` // non-null variance of Value
	ASE      float64 `json:"ase"`      // sqrt(Variance), SAS PROC FREQ's "ASE"
	Lower    float64 `json:"lower"`    // Value − z·ASE, not clipped (may fall below −1)
	Upper    float64 `json:"upper"`    // Value + z·ASE, not clipped (may exceed 1)
	// NullVariance is the variance of Value when the raters are independent
	// (κ = 0); NullASE is its square root.
	NullVariance float64  `json:"null_variance"`
	NullASE      float64  `json:"null_ase"`
	Z            *float64 `json:"z"` // Value/NullASE; nil when NullASE is 0
	P            *float64 `json:"p"` // two-sided normal p of Z
}

// KappaFCEResult holds the three kappas of KappaFCE.
type KappaFCEResult struct {
	N          int              `json:"n"` // rated pairs
	K          int              `json:"k"` // categories in the table
	Conf       float64          `json:"conf"`
	Unweighted KappaFCEEstimate `json:"unweighted"`
	Linear     KappaFCEEstimate `json:"linear"`    // w_ij = 1 − |i−j|/(K−1)
	Quadratic  KappaFCEEstimate `json:"quadratic"` // w_ij = 1 − (i−j)²/(K−1)²
}

// KappaFCE computes Cohen's kappa (1960) and weighted kappa (1968) for two
// raters with the large-sample variances of Fleiss, Cohen & Everitt (1969),
// as SAS PROC FREQ (AGREE) and vcd::Kappa report them.
//
// The table spans the full category set (unobserved categories included,
// unlike irr::kappa2), and weights depend on category positions in
// categories, which must be listed in ordinal order (for equally spaced
// scores this is SAS's Cicchetti–Allison weighting). With cell proportions
// p_ij, margins p_i·, p_·j, agreement weights w_ij (the identity for the
// unweighted kappa), p_o = Σ w_ij p_ij, p_e = Σ w_ij p_i· p_·j,
// w̄_i· = Σ_j w_ij p_·j and w̄_·j = Σ_i w_ij p_i·:
//
//	κ      = (p_o − p_e)/(1 − p_e)
//	Var(κ) = [Σ p_ij (w_ij(1−p_e) − (w̄_i· + w̄_·j)(1−p_o))² − (p_o p_e − 2p_e + p_o)²] / (n(1−p_e)⁴)
//	Var₀(κ) = [Σ p_i·p_·j (w_ij − (w̄_i· + w̄_·j))² − p_e²] / (n(1−p_e)²)
//
// Both are computed as centred sums (the subtracted squares are the
// squared means of the summed terms), so they are never negative. The
// interval is κ ± z_{(1+conf)/2}·sqrt(Var) and is not clipped; the test is
// z = κ/sqrt(Var₀).
//
// Difference from psych::cohen.kappa (2.2.9): psych's var.kappa for the
// unweighted kappa is the same formula, but its var.weighted builds w̄_i·
// and w̄_·j with the row and column margins interchanged and R's recycling
// over the wrong index, so its weighted variances are far too large and
// even depend on unused categories (fixture wai_item_1to5, n = 30,
// quadratic weights: psych 0.880, SAS/vcd 0.0270; the same data over the
// categories 1..7: psych 27.07, SAS/vcd unchanged), and psych clips its
// intervals to [−1, 1]. The kappa values themselves agree.
//
// A rating not in categories, duplicate or fewer than 2 categories are
// ErrInvalidArgument. Fewer than 2 pairs is Undefined{n_too_small}; chance
// agreement of 1 (both raters always use the same single category) is
// Undefined{zero_variance}.
func KappaFCE(a, b []int, categories []int, conf float64) (KappaFCEResult, error) {
	if err := checkConf(conf); err != nil {
		return KappaFCEResult{}, err
	}
	if len(a) != len(b) {
		return KappaFCEResult{}, undefined(ReasonMismatchedLengths)
	}
	K := len(categories)
	if K < 2 {
		return KappaFCEResult{}, invalid("need at least 2 categories")
	}
	pos := make(map[int]int, K)
	for i, c := range categories {
		if _, dup := pos[c]; dup {
			return KappaFCEResult{}, invalid("duplicate category %d", c)
		}
		pos[c] = i
	}
	p := make([][]float64, K)
	for i := range p {
		p[i] = make([]float64, K)
	}
	for i := range a {
		ia, okA := pos[a[i]]
		ib, okB := pos[b[i]]
		if !okA || !okB {
			return KappaFCEResult{}, invalid("rating not in category set")
		}
		p[ia][ib]++
	}
	if len(a) < 2 {
		return KappaFCEResult{}, undefined(ReasonNTooSmall)
	}
	n := float64(len(a))
	rs, cs := make([]float64, K), make([]float64, K)
	for i := range p {
		for j := range p[i] {
			p[i][j] /= n
			rs[i] += p[i][j]
			cs[j] += p[i][j]
		}
	}
	var pc float64
	for i := range K {
		pc += rs[i] * cs[i]
	}
	if pc >= 1 {
		return KappaFCEResult{}, undefined(ReasonZeroVariance)
	}
	z := qNorm((1 + conf) / 2)
	den := float64(K - 1)
	res := KappaFCEResult{N: len(a), K: K, Conf: conf}
	for _, e := range []struct {
		dst *KappaFCEEstimate
		w   func(i, j int) float64
	}{
		{&res.Unweighted, func(i, j int) float64 {
			if i == j {
				return 1
			}
			return 0
		}},
		{&res.Linear, func(i, j int) float64 { return 1 - math.Abs(float64(i-j))/den }},
		{&res.Quadratic, func(i, j int) float64 { return 1 - sq(float64(i-j))/(den*den) }},
	} {
		est, err := kappaFCE(p, rs, cs, e.w, n, z)
		if err != nil {
			return KappaFCEResult{}, err
		}
		est.N = len(a)
		*e.dst = est
	}
	return res, nil
}

// kappaFCE computes one weighted kappa and its Fleiss–Cohen–Everitt
// variances from the proportion table p with margins rs (rows) and cs
// (columns).
func kappaFCE(p [][]float64, rs, cs []float64, w func(i, j int) float64, n, z float64) (KappaFCEEstimate, error) {
	K := len(p)
	var po, pe float64
	wr, wc := make([]float64, K), make([]float64, K) // w̄_i·, w̄_·j
	for i := range K {
		for j := range K {
			po += w(i, j) * p[i][j]
			pe += w(i, j) * rs[i] * cs[j]
			wr[i] += w(i, j) * cs[j]
			wc[j] += w(i, j) * rs[i]
		}
	}
	if pe >= 1 {
		return KappaFCEEstimate{}, undefined(ReasonZeroVariance)
	}
	// Non-null: Σ p_ij a_ij² − (Σ p_ij a_ij)², with Σ p_ij a_ij = p_o p_e − 2p_e + p_o.
	mean := po*pe - 2*pe + po
	var v, v0 float64
	for i := range K {
		for j := range K {
			a := w(i, j)*(1-pe) - (wr[i]+wc[j])*(1-po) - mean
			v += p[i][j] * a * a
			// Null: Σ p_i·p_·j b_ij² − p_e², with Σ p_i·p_·j b_ij = −p_e.
			b := w(i, j) - (wr[i] + wc[j]) + pe
			v0 += rs[i] * cs[j] * b * b
		}
	}
	v /= n * math.Pow(1-pe, 4)
	v0 /= n * sq(1-pe)
	k := (po - pe) / (1 - pe)
	if !finite(k, v, v0) {
		return KappaFCEEstimate{}, undefined(ReasonUndefined)
	}
	ase, ase0 := math.Sqrt(v), math.Sqrt(v0)
	e := KappaFCEEstimate{
		Value: k, Variance: v, ASE: ase, Lower: k - z*ase, Upper: k + z*ase,
		NullVariance: v0, NullASE: ase0,
	}
	if ase0 > 0 {
		zs := k / ase0
		e.Z, e.P = opt(zs), opt(zTwoSided(zs))
	}
	return e, nil
}
