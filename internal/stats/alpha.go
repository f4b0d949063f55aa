package stats

import (
	"math"

	"gonum.org/v1/gonum/stat"
)

// Cronbach's alpha missing-data methods (AlphaResult.Method).
const (
	AlphaListwise = "listwise"
	AlphaPairwise = "pairwise"
)

// AlphaResult is Cronbach's alpha as reported by psych::alpha.
type AlphaResult struct {
	Method string `json:"method"` // "listwise" or "pairwise"
	// N is the number of respondents used: complete rows (listwise) or rows
	// with at least one answer (pairwise). MinPairN is the smallest number
	// of respondents behind one covariance (= N for listwise).
	N            int      `json:"n"`
	MinPairN     int      `json:"min_pair_n"`
	K            int      `json:"k"` // items used (after dropping zero-variance items)
	Raw          float64  `json:"raw_alpha"`
	Std          float64  `json:"std_alpha"`
	FeldtLower   *float64 `json:"feldt_lower"` // psych$feldt 95% interval
	FeldtUpper   *float64 `json:"feldt_upper"`
	DroppedItems []int    `json:"dropped_items"` // 0-based columns dropped for zero variance
}

// FeldtInterval is the Feldt (1965) interval of coefficient alpha from n
// respondents and k items at level conf, as psych::alpha.ci(alpha, n, k,
// p.val = 1 − conf); psych::alpha's $feldt, and AlphaResult's, is the one
// at 0.95. A bound is nil where its F quantile is not finite.
func FeldtInterval(alpha float64, n, k int, conf float64) (lower, upper *float64) {
	df1, df2 := float64(n-1), float64(n-1)*float64(k-1)
	return opt(1 - (1-alpha)*qF((1+conf)/2, df1, df2)), opt(1 - (1-alpha)*qF((1-conf)/2, df1, df2))
}

// CronbachAlpha is CronbachAlphaListwise, kept under its old name for
// callers; CronbachAlphaPairwise is what psych::alpha does by default.
func CronbachAlpha(items [][]float64) (AlphaResult, error) {
	return CronbachAlphaListwise(items)
}

// CronbachAlphaListwise computes coefficient alpha for items (rows =
// respondents, columns = items) on complete rows only, otherwise as
// psych::alpha(items, check.keys = FALSE):
// Raw is psych's raw_alpha, k/(k−1)·(1 − tr(C)/ΣC) on the n−1 covariance
// matrix (the conventional Cronbach's alpha; use this one); Std is
// std.alpha, the same on the correlation matrix. Like psych, items with zero
// variance are dropped before computing alpha (listed in DroppedItems, not
// counted in K). No item is reversed. Feldt bounds follow psych::alpha.ci at
// 95%: 1 − (1−α)·F_{.975, .025}(n−1, (n−1)(k−1)).
//
// Rows containing NaN are treated as missing and dropped (complete cases;
// psych would use pairwise covariances instead, see CronbachAlphaPairwise).
// Fewer than 3 complete rows or 2 items is Undefined{n_too_small}; fewer
// than 2 items with variance is Undefined{zero_variance}.
func CronbachAlphaListwise(items [][]float64) (AlphaResult, error) {
	if len(items) == 0 {
		return AlphaResult{}, undefined(ReasonNTooSmall)
	}
	k := len(items[0])
	cols := make([][]float64, k)
	for _, row := range items {
		if len(row) != k {
			return AlphaResult{}, undefined(ReasonMismatchedLengths)
		}
		complete := true
		for _, v := range row {
			if math.IsInf(v, 0) {
				return AlphaResult{}, invalid("infinite item response")
			}
			complete = complete && !math.IsNaN(v)
		}
		if complete {
			for j, v := range row {
				cols[j] = append(cols[j], v)
			}
		}
	}
	if k < 2 || len(cols[0]) < 3 {
		return AlphaResult{}, undefined(ReasonNTooSmall)
	}
	n := len(cols[0])
	res := AlphaResult{Method: AlphaListwise, N: n, MinPairN: n, DroppedItems: []int{}}
	var kept [][]float64
	for j, col := range cols {
		if constant(col) {
			res.DroppedItems = append(res.DroppedItems, j)
		} else {
			kept = append(kept, col)
		}
	}
	if len(kept) < 2 {
		return AlphaResult{}, undefined(ReasonZeroVariance)
	}
	res.K = len(kept)
	total, ztotal := make([]float64, n), make([]float64, n)
	var sumVar float64
	for _, col := range kept {
		v := stat.Variance(col, nil)
		sumVar += v
		sd := math.Sqrt(v)
		for i, x := range col {
			total[i] += x
			ztotal[i] += x / sd
		}
	}
	kf := float64(res.K)
	vt, sumR := stat.Variance(total, nil), stat.Variance(ztotal, nil) // ΣC and ΣR
	if !(vt > 0) || !(sumR > 0) {
		return AlphaResult{}, undefined(ReasonUndefined)
	}
	res.Raw = (1 - sumVar/vt) * kf / (kf - 1)
	res.Std = (1 - kf/sumR) * kf / (kf - 1)
	if !finite(res.Raw, res.Std) {
		return AlphaResult{}, undefined(ReasonUndefined)
	}
	res.FeldtLower, res.FeldtUpper = FeldtInterval(res.Raw, n, res.K, 0.95)
	return res, nil
}

// CronbachAlphaPairwise computes coefficient alpha as psych::alpha(items,
// check.keys = FALSE) does by default with missing answers (NaN): the item
// covariance matrix C is cov(items, use = "pairwise"), each covariance on
// the respondents who answered both items (with their own means) and each
// variance on all who answered the item; Raw is k/(k−1)·(1 − tr(C)/ΣC) and
// Std the same on R = cov2cor(C). Like psych, items with fewer than 2
// answers or zero variance are dropped first (DroppedItems). Feldt bounds
// use N, the respondents with at least one answer (psych uses all rows,
// which differs only when a row has no answer at all).
//
// Fewer than 3 respondents with an answer, fewer than 2 items, or a pair
// of kept items answered together by fewer than 2 respondents (its
// covariance is undefined) is Undefined{n_too_small}; fewer than 2 items
// with variance is Undefined{zero_variance}; ±Inf is ErrInvalidArgument.
func CronbachAlphaPairwise(items [][]float64) (AlphaResult, error) {
	if len(items) == 0 {
		return AlphaResult{}, undefined(ReasonNTooSmall)
	}
	k := len(items[0])
	var rows [][]float64
	for _, row := range items {
		if len(row) != k {
			return AlphaResult{}, undefined(ReasonMismatchedLengths)
		}
		answered := false
		for _, v := range row {
			if math.IsInf(v, 0) {
				return AlphaResult{}, invalid("infinite item response")
			}
			answered = answered || !math.IsNaN(v)
		}
		if answered {
			rows = append(rows, row)
		}
	}
	n := len(rows)
	if k < 2 || n < 3 {
		return AlphaResult{}, undefined(ReasonNTooSmall)
	}
	res := AlphaResult{Method: AlphaPairwise, N: n, DroppedItems: []int{}}
	var kept []int
	for j := range k {
		var col []float64
		for _, row := range rows {
			if !math.IsNaN(row[j]) {
				col = append(col, row[j])
			}
		}
		if len(col) < 2 || constant(col) {
			res.DroppedItems = append(res.DroppedItems, j)
		} else {
			kept = append(kept, j)
		}
	}
	if len(kept) < 2 {
		return AlphaResult{}, undefined(ReasonZeroVariance)
	}
	res.K = len(kept)
	c := make([][]float64, len(kept))
	res.MinPairN = n
	for a, ja := range kept {
		c[a] = make([]float64, len(kept))
		for b := 0; b <= a; b++ {
			cov, m := pairwiseCov(rows, ja, kept[b])
			if m < 2 {
				return AlphaResult{}, undefined(ReasonNTooSmall)
			}
			res.MinPairN = min(res.MinPairN, m)
			c[a][b], c[b][a] = cov, cov
		}
	}
	var tr, sumC, sumR float64
	for a := range c {
		tr += c[a][a]
		for b := range c {
			sumC += c[a][b]
			sumR += c[a][b] / math.Sqrt(c[a][a]*c[b][b])
		}
	}
	if !(sumC > 0) || !(sumR > 0) {
		return AlphaResult{}, undefined(ReasonUndefined)
	}
	kf := float64(res.K)
	res.Raw = (1 - tr/sumC) * kf / (kf - 1)
	res.Std = (1 - kf/sumR) * kf / (kf - 1)
	if !finite(res.Raw, res.Std) {
		return AlphaResult{}, undefined(ReasonUndefined)
	}
	res.FeldtLower, res.FeldtUpper = FeldtInterval(res.Raw, n, res.K, 0.95)
	return res, nil
}

// pairwiseCov is the n−1 covariance of columns a and b over the rows where
// both are present (R's cov(use = "pairwise.complete.obs")), and that count.
// Two passes over the rows (means, then centred products) without copying
// the columns: alpha calls it k(k+1)/2 times.
func pairwiseCov(rows [][]float64, a, b int) (float64, int) {
	var sx, sy float64
	m := 0
	for _, row := range rows {
		if !math.IsNaN(row[a]) && !math.IsNaN(row[b]) {
			sx, sy, m = sx+row[a], sy+row[b], m+1
		}
	}
	if m < 2 {
		return math.NaN(), m
	}
	mx, my := sx/float64(m), sy/float64(m)
	var ss, cx, cy float64
	for _, row := range rows {
		if !math.IsNaN(row[a]) && !math.IsNaN(row[b]) {
			dx, dy := row[a]-mx, row[b]-my
			ss += dx * dy
			cx, cy = cx+dx, cy+dy
		}
	}
	// The correction term of gonum's stat.Covariance (and R's two-pass cov).
	return (ss - cx*cy/float64(m)) / float64(m-1), m
}
