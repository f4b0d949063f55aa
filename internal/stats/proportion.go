package stats

import "math"

// Proportion is a share x/n with Wilson's score interval.
type Proportion struct {
	X     int      `json:"x"`
	N     int      `json:"n"`
	Share float64  `json:"share"` // x/n
	Conf  float64  `json:"conf"`
	Lower *float64 `json:"lower"` // Wilson score interval, no continuity correction
	Upper *float64 `json:"upper"`
}

// WilsonProportion is x successes out of n with the Wilson (1927) score
// interval without continuity correction, as
// prop.test(x, n, conf.level = conf, correct = FALSE)$conf.int in R:
// (p̂ + z²/2n ± z·sqrt(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n), z = z_{(1+conf)/2}.
// n < 1 is Undefined{n_too_small}; x outside [0, n] or conf outside (0, 1)
// is ErrInvalidArgument.
func WilsonProportion(x, n int, conf float64) (Proportion, error) {
	if err := checkConf(conf); err != nil {
		return Proportion{}, err
	}
	if n < 1 {
		return Proportion{}, undefined(ReasonNTooSmall)
	}
	if x < 0 || x > n {
		return Proportion{}, invalid("count %d not in [0, %d]", x, n)
	}
	nf, p := float64(n), float64(x)/float64(n)
	z := qNorm((1 + conf) / 2)
	z2 := z * z
	c := p + z2/(2*nf)
	h := z * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	d := 1 + z2/nf
	return Proportion{
		X: x, N: n, Share: p, Conf: conf,
		Lower: opt(math.Max(0, (c-h)/d)), Upper: opt(math.Min(1, (c+h)/d)),
	}, nil
}

// ShareBelow is the share of values strictly below cutoff (for example
// scores under a clinical cut-off) with its Wilson interval; see
// WilsonProportion. Non-finite values or cutoff are ErrInvalidArgument.
func ShareBelow(values []float64, cutoff, conf float64) (Proportion, error) {
	if err := checkFinite(values, []float64{cutoff}); err != nil {
		return Proportion{}, err
	}
	x := 0
	for _, v := range values {
		if v < cutoff {
			x++
		}
	}
	return WilsonProportion(x, len(values), conf)
}

// FloorCeiling is how many values sit at a scale's minimum and maximum,
// for floor and ceiling warnings.
type FloorCeiling struct {
	N          int     `json:"n"`
	AtMin      int     `json:"at_min"`
	AtMax      int     `json:"at_max"`
	ShareAtMin float64 `json:"share_at_min"`
	ShareAtMax float64 `json:"share_at_max"`
}

// FloorCeilingShares counts values equal to scaleMin and to scaleMax (exact
// comparison: pass scale scores on the metric whose ends are attainable,
// e.g. item means or sums). An empty sample is Undefined{n_too_small};
// an empty scale, non-finite values or values outside the scale are
// ErrInvalidArgument.
func FloorCeilingShares(values []float64, scaleMin, scaleMax float64) (FloorCeiling, error) {
	if !finite(scaleMin, scaleMax) || scaleMax <= scaleMin {
		return FloorCeiling{}, invalid("scale [%v, %v] is empty", scaleMin, scaleMax)
	}
	if err := checkFinite(values); err != nil {
		return FloorCeiling{}, err
	}
	if len(values) == 0 {
		return FloorCeiling{}, undefined(ReasonNTooSmall)
	}
	r := FloorCeiling{N: len(values)}
	for _, v := range values {
		switch {
		case v < scaleMin || v > scaleMax:
			return FloorCeiling{}, invalid("value %v outside scale [%v, %v]", v, scaleMin, scaleMax)
		case v == scaleMin:
			r.AtMin++
		case v == scaleMax:
			r.AtMax++
		}
	}
	r.ShareAtMin = float64(r.AtMin) / float64(r.N)
	r.ShareAtMax = float64(r.AtMax) / float64(r.N)
	return r, nil
}
