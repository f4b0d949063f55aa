package stats

import "math"

// KappaEstimate is one (weighted) kappa with psych::cohen.kappa's variance
// and normal-theory interval.
type KappaEstimate struct {
	Value    float64  `json:"value"`
	Variance float64  `json:"variance"` // psych var.kappa / var.weighted (negative values set to 0, as psych)
	Lower    *float64 `json:"lower"`    // value ± z·sqrt(Variance), clipped to [−1, 1] like psych
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

// Kappa is KappaConf at 95%, psych::cohen.kappa's default alpha = .05.
func Kappa(a, b []int, categories []int) (KappaResult, error) {
	return KappaConf(a, b, categories, 0.95)
}

// KappaConf computes Cohen's kappa and weighted kappa exactly as
// psych::cohen.kappa(cbind(a, b), levels = categories, alpha = 1 − conf):
// the table spans the full category set (unobserved categories included,
// unlike irr::kappa2), and weights depend on category positions in
// categories, which must be listed in ordinal order. Quadratic is psych's
// default weighting; Linear equals passing w = 1 − |i−j|/(K−1). Variances use
// psych's formulas (its weighted-kappa variance differs slightly from SAS's
// ASE; the unweighted one matches SAS).
//
// A rating not in categories, duplicate or fewer than 2 categories are
// ErrInvalidArgument. Empty input is Undefined{n_too_small}; chance agreement
// of 1 (both raters always use the same single category) is
// Undefined{zero_variance}.
func KappaConf(a, b []int, categories []int, conf float64) (KappaResult, error) {
	if err := checkConf(conf); err != nil {
		return KappaResult{}, err
	}
	if len(a) != len(b) {
		return KappaResult{}, undefined(ReasonMismatchedLengths)
	}
	K := len(categories)
	if K < 2 {
		return KappaResult{}, invalid("need at least 2 categories")
	}
	pos := make(map[int]int, K)
	for i, c := range categories {
		if _, dup := pos[c]; dup {
			return KappaResult{}, invalid("duplicate category %d", c)
		}
		pos[c] = i
	}
	if len(a) == 0 {
		return KappaResult{}, undefined(ReasonNTooSmall)
	}
	n := float64(len(a))
	p := make([][]float64, K)
	for i := range p {
		p[i] = make([]float64, K)
	}
	for i := range a {
		ia, okA := pos[a[i]]
		ib, okB := pos[b[i]]
		if !okA || !okB {
			return KappaResult{}, invalid("rating not in category set")
		}
		p[ia][ib]++
	}
	rs, cs := make([]float64, K), make([]float64, K)
	for i := range p {
		for j := range p[i] {
			p[i][j] /= n
			rs[i] += p[i][j]
			cs[j] += p[i][j]
		}
	}

	// Unweighted (psych Vark).
	var po, pc float64
	for i := range K {
		po += p[i][i]
		pc += rs[i] * cs[i]
	}
	if pc >= 1 {
		return KappaResult{}, undefined(ReasonZeroVariance)
	}
	var s1, s2 float64
	for i := range K {
		s1 += p[i][i] * sq((1-pc)-(rs[i]+cs[i])*(1-po))
		for j := range K {
			if i != j {
				s2 += p[i][j] * sq(cs[i]+rs[j])
			}
		}
	}
	vark := (s1 + sq(1-po)*s2 - sq(po*pc-2*pc+po)) / (n * math.Pow(1-pc, 4))
	z := qNorm((1 + conf) / 2)
	res := KappaResult{N: len(a), K: K, Unweighted: kappaEstimate((po-pc)/(1-pc), vark, z)}

	weighted := func(w func(i, j int) float64) KappaEstimate {
		var wpo, wpc float64
		colw, roww := make([]float64, K), make([]float64, K)
		for i := range K {
			for j := range K {
				wpo += w(i, j) * p[i][j]
				wpc += w(i, j) * rs[i] * cs[j]
				// psych: colw = colSums(w * cs), roww = rowSums(w * rs), with R's
				// column-major recycling (cs[i], rs[i] scale row i).
				colw[j] += w(i, j) * cs[i]
				roww[i] += w(i, j) * rs[i]
			}
		}
		var s float64
		for i := range K {
			for j := range K {
				s += p[i][j] * sq(w(i, j)*(1-wpc)-(colw[i]+roww[j])*(1-wpo))
			}
		}
		v := (s - sq(wpo*wpc-2*wpc+wpo)) / (n * math.Pow(1-wpc, 4))
		return kappaEstimate((wpo-wpc)/(1-wpc), v, z)
	}
	den := float64(K - 1)
	res.Linear = weighted(func(i, j int) float64 { return 1 - math.Abs(float64(i-j))/den })
	res.Quadratic = weighted(func(i, j int) float64 { return 1 - sq(float64(i-j))/(den*den) })
	return res, nil
}

func kappaEstimate(k, v, z float64) KappaEstimate {
	if math.IsNaN(v) || v < 0 {
		v = 0
	}
	h := z * math.Sqrt(v)
	clip := func(x float64) *float64 { return opt(math.Max(-1, math.Min(1, x))) }
	return KappaEstimate{Value: k, Variance: v, Lower: clip(k - h), Upper: clip(k + h)}
}
